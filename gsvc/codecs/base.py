"""The codec protocol that the simulator talks to.

A codec makes per-stream encoders (sender side) and decoders (receiver side).
The simulator never imports a concrete codec: it calls

* ``Encoder.encode(frame, feedback) -> list[EncodedFrame]`` at capture time
  (usually one frame out; a codec that buffers a group returns nothing until the
  group is complete, then all of it),
* ``Decoder.plan(ef, complete, budget_ms) -> DecodePlan`` when the frame reaches
  the front of the GPU queue (cheap: no model call),
* ``Decoder.decode(ef, plan) -> Decoded`` to run the model (timing-only runs call the
  decoder's ``advance`` instead, when it has one).

and the optional hooks declared in :class:`EncoderHooks` and :class:`DecoderHooks` (found with
:func:`hook`; a codec subclasses those to inherit the defaults, or defines only what it needs).

Encoded frames carry real bytes in named sections, so the sizes in the log are
the lengths of those bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence, get_args, runtime_checkable

import numpy as np

from ..video.frame import Frame

__all__ = ["answers", "EncodedFrame", "Feedback", "DecodePlan", "Decoded", "Encoder", "Decoder", "Codec", "SKIP",
           "SHED_REASONS", "PlanPath", "PLAN_PATHS", "EncoderHooks", "DecoderHooks", "hook"]

FrameKind = Literal["anchor", "delta"]


@dataclass(eq=False, slots=True)
class EncodedFrame:
    """What the sender transmits for one frame; read-only by convention.

    Slotted rather than frozen for the same reason as :class:`~gsvc.video.Frame`
    (one is built per frame, and a frozen one costs six times as much).

    Attributes:
        frame: index of the frame this data decodes to.
        kind: ``"anchor"`` (decodable on its own) or ``"delta"`` (needs ``refs``).
        sections: named byte strings (``semantic``, ``motion``, ``residual`` ...); their
            total length is what is transmitted.
        refs: frame indices this frame depends on.
        scene_cut: the sender flagged a scene cut here.
        meta: small codec-specific facts known to both ends (not counted as bytes;
            anything the receiver needs must be inside ``sections``). The sender reads one:
            ``ready_offset_ms``, how long after the encoder finishes the frame reaches the radio
            (a traffic model's arrival jitter, :mod:`gsvc.codecs.xr`; 0 if absent).
    """

    frame: int
    kind: FrameKind
    sections: dict[str, bytes]
    refs: tuple[int, ...] = ()
    scene_cut: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(map(len, self.sections.values()))


@dataclass(frozen=True)
class Feedback:
    """A message from the receiver back to the sender (arrives after the uplink delay).

    ``kind``: ``"loss"`` (frame ``frame`` was not received complete) or
    ``"anchor_request"`` (the receiver wants a fresh anchor, e.g. low confidence).
    """

    kind: Literal["loss", "anchor_request"]
    frame: int
    sent_s: float


def answers(feedback: Sequence[Feedback], last_anchor: int) -> bool:
    """Does ``feedback`` ask for a new anchor? A loss report or anchor request about frame ``f`` does unless an
    anchor newer than ``f`` was sent after it (``last_anchor`` > ``f``): that anchor, already on its way, answers
    it. Without this a sender answers every request an overloaded or lossy receiver sends while its anchor is in
    flight, each with an anchor several times a delta's size (a keyframe storm). The H.264/H.265 encoder keeps the
    same rule for its keyframes (:mod:`.classic`)."""
    return any(f.kind in ("loss", "anchor_request") and f.frame >= last_anchor for f in feedback)


#: every way a frame can be shown (:attr:`DecodePlan.path`): with the denoiser ``generate`` (from
#: noise), ``refine`` (from the warped reference), ``residual`` (anchor + decoded residual),
#: ``reuse`` (the anchor's cached samples), ``oneshot`` (one evaluation), each with a ``-short``
#: variant (adaptive control ran fewer steps than wanted to meet the deadline); without it
#: ``classic`` (a conventional decoder), ``warp`` (the reference moved), ``lowres`` (the low-res
#: frame upsampled), ``conceal`` (incomplete data), ``repeat`` (the last image again) and ``skip``
#: (shed by the receiver: never shown)
PlanPath = Literal["generate", "refine", "residual", "reuse", "oneshot",
                   "generate-short", "refine-short", "residual-short", "reuse-short", "oneshot-short",
                   "classic", "warp", "lowres", "conceal", "repeat", "skip"]
PLAN_PATHS: frozenset[str] = frozenset(get_args(PlanPath))


@dataclass(frozen=True)
class DecodePlan:
    """How the receiver will reconstruct one frame.

    Attributes:
        path: one of :data:`PlanPath` (a plan of another name is refused when made).
        steps: sampler steps the plan runs.
        unet_evals: denoiser evaluations those steps cost (the latency model's unit of work).
        strength: fraction of the noise schedule the sampler starts at (1 = pure noise).
        vae_decodes, vae_encodes: latent -> image and image -> latent conversions the plan
            runs besides its evaluations (a latent back-end; 0 in pixel space).
        refine_steps: steps of a second, refining sampler run after the first, counted in
            ``unet_evals`` (``content_motion`` under adaptive control: a group's first frame refined
            from the content frame its anchor generates).
    """

    path: PlanPath
    steps: int = 0
    unet_evals: int = 0
    strength: float = 1.0
    vae_decodes: int = 0
    vae_encodes: int = 0
    refine_steps: int = 0

    def __post_init__(self):
        if self.path not in PLAN_PATHS:
            raise ValueError(f"DecodePlan.path={self.path!r} is not one of {sorted(PLAN_PATHS)}")


@dataclass(frozen=True, eq=False)
class Decoded:
    """The result of a decode: the image shown and what it cost."""

    image: np.ndarray | None
    steps: int
    unet_evals: int
    anchor: bool = False
    #: the decoder asks the sender for a fresh anchor (sent back over the feedback path)
    request_anchor: bool = False
    #: the path actually taken when it differs from the plan (e.g. "conceal" for corrupt data)
    path: PlanPath | None = None
    #: the bitstream flagged a scene cut / large motion here (adaptive control)
    cut_detected: bool = False
    #: the decoder's confidence in its reference for this frame, in [0, 1] (NaN: not estimated)
    confidence: float = float("nan")
    #: VAE decodes / encodes this decode ran (a latent back-end; 0 in pixel space)
    vae_decodes: int = 0
    vae_encodes: int = 0


@runtime_checkable
class Encoder(Protocol):
    """Sender state of one stream (optional methods: :class:`EncoderHooks`)."""

    def encode(self, frame: Frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]: ...


#: the plan of a frame the receiver does not decode (load shedding): never shown
SKIP = DecodePlan("skip")

#: why a frame was shed: ``"late"`` (it would miss its deadline and no later frame needs it),
#: ``"resync"`` (later frames need it, but it is already past its deadline: the decoder drops
#: its reference and the receiver asks the sender for an anchor)
SHED_REASONS = ("late", "resync")


@runtime_checkable
class Decoder(Protocol):
    """Receiver state of one stream (optional methods: :class:`DecoderHooks`)."""

    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan: ...

    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded: ...


class EncoderHooks:
    """The optional methods of an :class:`Encoder`; each body is what the simulator does for an
    encoder without it."""

    def flush(self) -> list[EncodedFrame]:
        """Called after the last frame: a group codec emits its last, short group. Default: nothing."""
        return []

    def set_target_kbps(self, kbps: float) -> None:
        """The rate controller's target rate, kbit/s (``link.rate_control``; only codecs with the
        ``rate`` capability are steered). Default: ignored."""


class DecoderHooks:
    """The optional methods of a :class:`Decoder`; each body is what the simulator does for a
    decoder without it."""

    def set_cost_model(self, fn) -> None:
        """Called once before the run with ``fn(unet_evals) -> expected service ms``, for
        deadline-aware plans. Default: ignored."""

    def set_service_tail(self, fn) -> None:
        """Called once before the run, when the latency model knows its spread (a profile's jitter, a
        measured latency's recent decodes), with ``fn(risk) -> ms``: how far above the expected time a
        decode lands with probability at most ``risk``, for plans that keep that much free. Default: ignored."""

    def shed(self, ef: EncodedFrame, plan: DecodePlan, budget_ms: float, arrived_late: bool) -> str | None:
        """Called (after ``plan``, with ``receiver.shed="on"``) when the plan is expected to finish after
        the frame's playout deadline: ``budget_ms`` is the time left to it; ``arrived_late``: the
        frame reached the receiver after its deadline, so the network, not the decoder, made it late.
        Returns a reason of :data:`SHED_REASONS` to skip the frame (updating its own reference state
        as skipping requires) or None to decode it anyway; only the codec knows which frames later
        ones need. Default: every frame is decoded."""
        return None

    def advance(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded | None:
        """Timing-only runs call it instead of ``decode``: it leaves the state ``decode`` would leave
        (which frame is the reference, whether the chain is broken) and returns the same facts with
        ``image=None``, without running the model, so the plans and anchor requests that follow are
        those of a real run. Default: the decoder is not told about its frames (its ``plan`` must keep
        whatever state its plans need)."""
        return None


_HOOKS = {name: owner for owner in (EncoderHooks, DecoderHooks) for name in vars(owner) if not name.startswith("_")}


def hook(obj, name: str):
    """``obj``'s own method for the declared hook ``name``, or None where it has none or keeps the
    default (so the simulator skips the call). An undeclared ``name`` is an AttributeError."""
    owner = _HOOKS.get(name)
    if owner is None:
        raise AttributeError(f"{name!r} is not a declared codec hook; declared: {', '.join(_HOOKS)}")
    fn = getattr(obj, name, None)
    if fn is None or getattr(fn, "__func__", None) is getattr(owner, name):
        return None
    return fn


@runtime_checkable
class Codec(Protocol):
    """A codec: ``name``, what it needs and gives, and per-stream state factories."""

    name: str
    #: number of frames the encoder holds before it can emit (1 = frame by frame)
    group_frames: int
    #: the encoder reads pixels (False: frames may be placeholders without pixels)
    uses_pixels: bool
    #: the decoder returns images that can be scored
    makes_images: bool

    def encoder(self, stream_seed: int) -> Encoder: ...

    def decoder(self, stream_seed: int) -> Decoder: ...
