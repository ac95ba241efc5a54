"""What the diffusion codecs share: sender-side conditioning, receiver state, concealment.

Every diffusion codec sends, per frame, the conditions the scenario switches on, each a
named section whose bytes are counted:

* ``semantic``: the label map, where the source has true labels and ``codec.semantic="auto"``
  (intra-coded in anchors, inter-coded against the motion-compensated anchor labels in deltas);
* ``lowres``: the frame at ``1/codec.lowres_factor`` of its side (:mod:`gsvc.codecs.lowres`),
  with anchors only or with every frame (``codec.lowres``), deltas predicted from the anchor's;
* ``structure``: its edge map (:mod:`gsvc.codecs.structure`), likewise (``codec.structure``);
* ``motion``: in deltas, a motion field from the anchor to the frame.

The receiver keeps the reference reconstruction (and, with a latent back-end, the latent it was
decoded from); a codec subclass decides, in
:meth:`DiffusionDecoder.plan_frame` and :meth:`DiffusionDecoder.generate`, where the
sampler starts and how many steps it runs.

A frame whose data is incomplete or does not parse is concealed: the last output
warped by the last motion (or repeated). A lost anchor, or a delta that cannot be
decoded, leaves the reference broken until the next anchor arrives, and the
decoder asks the sender for one over the feedback path.

The model is the back-end ``codec.model`` names (:mod:`gsvc.codecs.backends`): the shipped
pixel-space denoiser or a latent diffusion model from a diffusers folder. With a latent one,
every plan that runs the denoiser also says how many VAE decodes (one: the image shown) and
encodes (an image taken into latent space where the method needs one) it runs, and every
:class:`~gsvc.codecs.base.Decoded` reports the ones it ran.

With ``codec.control="adaptive"`` the encoder and decoder hand their decisions to the
controller of :mod:`gsvc.codecs.control` (cut and drift detection at the sender, a
deadline-aware plan ladder at the receiver); with ``"off"`` they behave exactly as the
codec alone.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Sequence

import numpy as np

from ..video import phase_shift_px
from .base import DecodePlan, Decoded, EncodedFrame, Feedback, answers
from .control.confidence import reference_confidence
from .conditions import AnchorConditions, ConditionCoder, parse_conditions
from .backends import load_backend, model_space, warp_sample
from .lowres import back_project, lowres_side, upsample_lowres
from .lowres_chain import ReceiverChain
from .ratelevels import LadderRateControl
from .sampler import start_index
from .motion import (ZERO_MOTION, MotionField, covered, decode_motion, encode_motion, estimate_motion, motion_block_px,
                     warp)

__all__ = ["DiffusionCodec", "DiffusionEncoder", "DiffusionDecoder", "frame_generator", "fill_uncovered"]


#: timing-only runs: stands for the model-space sample a real anchor decode keeps as
#: :attr:`DiffusionDecoder.ref_x`, so plans count the VAE encodes a real run's plans count
PLANNED_SAMPLE = object()
#: plans shown by :meth:`DiffusionDecoder.predict` without the sampler: the reference moved
#: (``warp``), the low-res frame upsampled (``lowres``), a full-size anchor as sent (``classic``)
NO_DENOISER = ("warp", "lowres", "classic")


def fill_uncovered(ref: np.ndarray, mask: np.ndarray, lowres: np.ndarray | None) -> np.ndarray:
    """A warped reference ``[H, W, 3]`` with the pixels its motion uncovered (``mask`` 0,
    ``[H, W]``) taken from the upsampled low-res frame instead of the repeated edge (unchanged
    without one)."""
    if lowres is None:
        return ref
    m = mask[..., None]
    return ref * m + upsample_lowres(lowres, ref.shape[0]) * (1 - m)


def frame_generator(stream_seed: int, frame: int, part: str = ""):
    """A torch generator for one frame's noise: independent of decode order and batching. ``part``
    names a second sampler run of the same frame, which draws its own noise."""
    import torch
    h = hashlib.sha256(f"{stream_seed}:{frame}{':' + part if part else ''}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(h[:8], "little") >> 1)


class CorruptFrame(ValueError):
    """A frame's sections do not parse: the decoder conceals it."""


def parsed_or_corrupt(parse):
    """``parse()``, with data that does not parse (ValueError, KeyError) raised as :class:`CorruptFrame`."""
    try:
        return parse()
    except (ValueError, KeyError) as err:
        raise CorruptFrame(str(err)) from err


class DiffusionCodec:
    """Base of the diffusion codecs; subclasses set ``name`` and a decoder class."""

    name = "diffusion"
    group_frames = 1
    uses_pixels = True
    makes_images = True
    capabilities = frozenset({"diffusion", "lowres", "rate", "rate_ceiling"})
    decoder_cls: type = None  # set by subclasses
    #: every frame is an anchor (no reference, no motion)
    intra_only = False

    def __init__(self, codec_spec, video_spec):
        self.spec = codec_spec
        self.video = video_spec

    @classmethod
    def spec_problem(cls, spec) -> str | None:
        """A diffusion codec needs at least one condition to generate from."""
        if spec.semantic == "off" and spec.lowres == "off" and spec.structure == "off":
            return (f"codec.name={spec.name!r} needs something to generate from: codec.semantic, "
                    "codec.lowres and codec.structure are all 'off'; switch one on")
        return None

    @classmethod
    def rate_problem(cls, spec) -> str | None:
        """An intra-only codec's rate knob is the low-res frame's quantiser: none without it."""
        if cls.intra_only and spec.lowres == "off":
            return (f"has nothing to turn with codec.name={spec.name!r} and codec.lowres='off' (its rate knobs are "
                    "the low-res frame's quantiser and the anchor period); switch codec.lowres on or set "
                    "link.rate_control='off'")
        return None

    @property
    def denoiser(self):
        """The model back-end (:class:`gsvc.codecs.backends.Denoiser`), loaded once per process."""
        return load_backend(self.spec.model, self.spec.weights, self.spec.prompt)

    @property
    def space(self) -> str:
        """``"pixel"`` or ``"latent"``: the back-end's model space, known without loading it."""
        return model_space(self.spec)

    def encoder(self, stream_seed: int) -> "DiffusionEncoder":
        return DiffusionEncoder(self)

    def decoder(self, stream_seed: int) -> "DiffusionDecoder":
        return self.decoder_cls(self, stream_seed)


class DiffusionEncoder(LadderRateControl):
    """Sender state: the anchor frame, its conditioning parts and the global motion accumulated since it.

    With ``codec.control="adaptive"`` a :class:`~gsvc.codecs.control.SenderControl` also
    watches every frame for cuts and drift and adds a ``control`` section.
    """

    def __init__(self, codec: DiffusionCodec):
        self.codec, self.spec = codec, codec.spec
        self.ref_rgb = self.prev_rgb = None
        self.cond = ConditionCoder(self.spec, codec.video.resolution)
        self.acc_px = np.zeros(2)
        self.since_anchor = 0
        self.last_index = -1  # the last frame encoded (the sender may skip frames)
        self.last_anchor = -1  # the last anchor sent
        self.control = None
        if self.spec.control == "adaptive":
            from .control import SenderControl
            self.control = SenderControl(self.spec)

    def _wants_anchor(self, feedback: Sequence[Feedback]) -> bool:
        if self.codec.intra_only or self.ref_rgb is None or self.since_anchor + 1 >= self.spec.gop:
            return True
        if self.control is not None:
            return self.control.feedback_wants_anchor(feedback)
        return answers(feedback, self.last_anchor)

    def encode(self, frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]:
        rgb = np.asarray(frame.rgb, np.float32)
        change = None if self.control is None else self.control.observe(rgb, frame.labels)
        if self._wants_anchor(feedback) or change is not None and change.cut:
            out = self._anchor(frame, rgb, change)
        else:
            out = self._delta(frame, rgb, change)
        if self.ladder is not None:
            self.ladder.observe(out.nbytes)
        self.last_index = frame.index
        return [out]

    def _anchor(self, frame, rgb: np.ndarray, change, drift: bool = False) -> EncodedFrame:
        sections = self.cond.anchor(frame, rgb)
        if not sections:
            raise ValueError(f"codec.name={self.codec.name!r} has nothing to condition frame {frame.index} on: "
                             "the source has no labels (or codec.semantic='off') and codec.lowres and "
                             "codec.structure are 'off'; switch one of them on")
        self.ref_rgb, self.prev_rgb, self.acc_px, self.since_anchor = rgb, rgb, np.zeros(2), 0
        self.last_anchor = frame.index
        if change is None:
            return EncodedFrame(frame.index, "anchor", sections, (), frame.scene_cut)
        sections["control"] = self.control.anchor_section(frame.index, change, drift)
        return EncodedFrame(frame.index, "anchor", sections, (), change.cut)

    def _delta(self, frame, rgb: np.ndarray, change) -> EncodedFrame:
        prev_rgb = self.prev_rgb
        self.acc_px = self.acc_px + phase_shift_px(prev_rgb, rgb)
        self.prev_rgb = rgb
        self.since_anchor += 1
        block = motion_block_px(self.spec.motion_block_px, rgb.shape[0])
        motion = estimate_motion(self.ref_rgb, rgb, block, prior_px=(float(self.acc_px[0]), float(self.acc_px[1])))
        mbytes = encode_motion(motion)
        sent = decode_motion(mbytes)
        refs = (frame.index - self.since_anchor,)
        sections, step = {"motion": mbytes}, None
        if self.spec.lowres_reference != "anchor" and self.spec.lowres == "all" and self.last_index != refs[0]:
            step_bytes = encode_motion(estimate_motion(prev_rgb, rgb, block_px=block))
            step = decode_motion(step_bytes)
        sections.update(self.cond.delta(frame, rgb, sent, step=step))
        if self.cond.delta_chained:  # its low-res frame is predicted from the previous frame's
            sections["step"] = step_bytes
            refs += (self.last_index,)
        meta = {"distance_px": motion.magnitude_px()}
        if change is None:
            return EncodedFrame(frame.index, "delta", sections, refs, frame.scene_cut, meta=meta)
        predicted = self.cond.anchor_parts.predicted_labels(sent)
        conf = reference_confidence(warp(self.ref_rgb, sent), predicted, rgb, frame.labels)
        if self.control.drifted(conf):
            return self._anchor(frame, rgb, change, drift=True)
        sections["control"] = self.control.delta_section(change, conf)
        return EncodedFrame(frame.index, "delta", sections, refs, False, meta=meta)


class DiffusionDecoder:
    """Receiver state of one stream; subclasses implement :meth:`plan_frame` and :meth:`generate`.

    With ``codec.control="adaptive"`` a :class:`~gsvc.codecs.control.ReceiverControl` picks
    the plan from a ladder built around :meth:`plan_frame` to fit the playout deadline, and
    the decoder can also show a frame without the denoiser: ``warp`` (the reference moved to
    the frame), ``lowres`` (an anchor's low-res frame upsampled) or ``repeat`` (the last image).
    """

    def __init__(self, codec: DiffusionCodec, stream_seed: int):
        self.codec, self.spec, self.seed = codec, codec.spec, stream_seed
        self.ref_image = None
        self.ref_x = None      # latent back-end: the reference in model space [1, C, h, w] (None: encode ref_image)
        self.last_x = None     # model-space result of the last sampler run
        self.ref_parts = AnchorConditions()
        self.ref_frame = -1
        self.last_image = None
        self.last_motion: MotionField = ZERO_MOTION
        self.broken = True
        self.chained = self.spec.lowres_reference != "anchor"
        self.chain = ReceiverChain()  # what chained deltas follow (gsvc.codecs.lowres_chain)
        self.control = None
        if self.spec.control == "adaptive":
            from .control import ReceiverControl
            self.control = ReceiverControl(self.spec)

    def set_cost_model(self, fn) -> None:
        """``fn(unet_evals) -> expected service ms`` from the receiver's latency model (used by control)."""
        if self.control is not None:
            self.control.set_cost_model(fn)

    def set_service_tail(self, fn) -> None:
        """``fn(risk) -> ms`` a decode exceeds its expected time by with probability ``risk`` (used by control)."""
        if self.control is not None:
            self.control.set_service_tail(fn)

    # --- planning -------------------------------------------------------------
    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan:
        info = None if self.control is None else self.control.arrived(ef, complete)
        if not complete or (ef.kind == "delta" and (self.broken or ef.refs[0] != self.ref_frame
                                                     or not self.chain.follows(ef))):
            return DecodePlan("conceal")
        if ef.kind == "anchor" and self.full_frame_anchor(ef):
            return DecodePlan("classic")
        if self.control is not None:
            return self.with_vae_calls(ef, self.control.plan(self, ef, info, budget_ms))
        return self.with_vae_calls(ef, self.plan_frame(ef, budget_ms))

    def full_frame_anchor(self, ef: EncodedFrame) -> bool:
        """Does anchor ``ef`` carry its low-res frame at the full size (``codec.anchor_lowres_factor=1``)?
        Then it is a classic intra frame: back-projection would make any generated image equal to it,
        so it is shown as decoded (plan ``classic``, no denoiser evaluations)."""
        data = ef.sections.get("lowres")
        try:
            return data is not None and lowres_side(data) == self.codec.video.resolution
        except ValueError:
            return False

    def with_vae_calls(self, ef: EncodedFrame, plan: DecodePlan) -> DecodePlan:
        """``plan`` with the VAE calls a latent back-end runs for it: one decode of the sample, and
        :meth:`vae_encodes_needed` encodes (pixel space, or a plan without the denoiser: none)."""
        if self.codec.space == "pixel" or plan.unet_evals == 0:
            return plan
        return dataclasses.replace(plan, vae_decodes=1 + (plan.refine_steps > 0),
                                   vae_encodes=self.vae_encodes_needed(ef, plan))

    def vae_encodes_needed(self, ef: EncodedFrame, plan: DecodePlan) -> int:
        """Images a latent decode of ``ef`` takes into latent space: a delta starts from the reference
        latent warped, which needs an encode only when the reference was not sampled here."""
        return int(ef.kind == "delta" and self.ref_x is None)

    def plan_frame(self, ef: EncodedFrame, budget_ms: float | None) -> DecodePlan:
        """The codec's own (fixed-step) plan for a frame that can be decoded."""
        raise NotImplementedError

    def refine_plan(self, ef: EncodedFrame, nominal: DecodePlan) -> DecodePlan | None:
        """The codec's refinement of a delta at its own strength, which control may lengthen
        or shorten (None: the frame cannot be refined)."""
        return nominal if nominal.unet_evals > 0 else None

    def schedule_steps(self) -> int:
        """Length of the schedule a delta's refinement runs the end of."""
        return self.spec.steps

    def anchor_schedule(self) -> int:
        """Steps an anchor is sampled in: ``codec.anchor_steps`` (None: ``codec.steps``)."""
        return self.spec.anchor_steps or self.spec.steps

    def final_steps(self, n: int | None = None) -> int:
        """Steps a refinement at the codec's own strength runs from the switch point of an ``n``-step
        schedule (default ``codec.steps``): the last ``ceil(strength * n)``."""
        n = self.spec.steps if n is None else n
        return n - start_index(n, self.spec.strength)

    def shed(self, ef: EncodedFrame, plan: DecodePlan, budget_ms: float, arrived_late: bool) -> str | None:
        """Load shedding: may this frame, which would miss its deadline, be skipped?

        Deltas depend on their anchor only, so a late delta is skipped (``"late"``), as is a late anchor
        no delta follows (``codec.gop=1``: every frame is an anchor). Another anchor is needed by its
        group: it is decoded late if it arrived late or can still start before its deadline; an anchor
        the receiver's queue held past its deadline, or one that could only be concealed, is dropped
        with the reference and a new anchor asked for (``"resync"``). With a chained ``codec.lowres_reference`` the next
        delta's low-res frame may be predicted from a late delta's: the delta is skipped all the
        same and its low-res frame decoded (cheap, host-side, not timed), which leaves the chain as a
        full decode leaves it; timing-only runs, which decode nothing, keep only its frame number.
        """
        if ef.kind != "anchor" or self.codec.intra_only or self.codec.spec.gop == 1:
            if self.chained and ef.kind == "delta":
                self._skip_chained(ef, plan)
            return "late"
        if plan.path == "conceal" or budget_ms < 0 and not arrived_late:
            self.broken = True
            return "resync"
        return None

    def _skip_chained(self, ef: EncodedFrame, plan: DecodePlan) -> None:
        """A late delta of a chained stream is skipped: its low-res frame continues the chain (decoded now
        when this decoder holds its anchor's, i.e. it decodes for real), unless it could not be decoded."""
        if plan.path == "conceal":
            self.chain.lost()
            return
        self.chain.skip(ef)
        if self.ref_parts.lowres is not None:
            try:
                self.chain.current(self.ref_parts.lowres, self.codec.video.resolution)
            except (ValueError, KeyError):
                self.chain.lost()

    # --- decoding -------------------------------------------------------------
    def advance(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        """Timing-only runs: leave the reference state ``decode(ef, plan)`` would leave and return its
        result without an image, without running the model. The plans that follow are then the ones
        a real decode is followed by (they depend on which frame is the reference, not on its pixels),
        and concealments ask for anchors as they do after a real decode."""
        if plan.path == "conceal":
            out = self._conceal(ef, show=False)
        elif plan.path == "repeat":
            out = self._repeat(ef, show=False)
        else:
            if ef.kind == "anchor":
                self.ref_frame, self.broken = ef.frame, False
                self.ref_x = None if plan.path in NO_DENOISER else PLANNED_SAMPLE
            if self.chained:
                self.chain.advanced(ef)
            self.advanced(ef, plan)
            out = Decoded(None, plan.steps, plan.unet_evals, anchor=ef.kind == "anchor")
        return out if self.control is None else self.control.annotate(ef, plan, out)

    def advanced(self, ef: EncodedFrame, plan: DecodePlan) -> None:
        """Timing-only: what a subclass keeps beyond the reference (e.g. ``reuse``'s cached anchor) after
        ``ef`` was decoded by ``plan`` (neither concealed nor repeated)."""

    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        if self.codec.space == "latent":
            den = self.codec.denoiser
            e0, d0 = den.vae_encodes, den.vae_decodes
            out = dataclasses.replace(self.decode_frame(ef, plan), vae_encodes=den.vae_encodes - e0,
                                      vae_decodes=den.vae_decodes - d0)
        else:
            out = self.decode_frame(ef, plan)
        return out if self.control is None else self.control.annotate(ef, plan, out)

    def decode_frame(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        """The decode every diffusion codec shares: concealment, repeat, or :meth:`reconstruct`
        (concealed when the frame's sections do not parse)."""
        if plan.path == "conceal":
            return self._conceal(ef)
        if plan.path == "repeat":
            return self._repeat(ef)
        try:
            image, motion = self.reconstruct(ef, plan)
        except CorruptFrame:
            return self._conceal(ef)
        self.last_image, self.last_motion = image, motion
        return Decoded(image, plan.steps, plan.unet_evals, anchor=ef.kind == "anchor")

    def reconstruct(self, ef: EncodedFrame, plan: DecodePlan) -> tuple[np.ndarray, MotionField]:
        """The image ``[H, W, 3]`` of ``ef`` by ``plan`` and the motion it carried; an anchor becomes
        the reference (:meth:`keep_reference`). Raises :class:`CorruptFrame` if the sections do not parse."""
        parsed = parsed_or_corrupt(lambda: self._parse(ef))
        if self.chained:
            self.chain.decoded(ef, parsed.get("lowres"))
        if plan.path in NO_DENOISER:
            image = self.predict(parsed)
        else:
            self.last_x = None
            image = self.scale_detail(self.generate(ef, plan, parsed), parsed)
        image = self.agree_with_lowres(image, parsed)
        if ef.kind == "anchor":
            self.keep_reference(ef, plan, image, parsed)
        return image, parsed.get("motion", ZERO_MOTION)

    def keep_reference(self, ef: EncodedFrame, plan: DecodePlan, image: np.ndarray, parsed: dict) -> None:
        """Anchor ``ef``, decoded to ``image`` by ``plan``, is the reference from now on (with the
        model-space sample the sampler left, unless no sampler ran)."""
        self.ref_image, self.ref_frame, self.broken = image, ef.frame, False
        self.ref_x = self.last_x if plan.path not in NO_DENOISER else None
        self.ref_parts = AnchorConditions.of(parsed)

    def predict(self, parsed: dict) -> np.ndarray:
        """The frame ``[H, W, 3]`` without the denoiser (before back-projection): a delta's reference
        moved by its motion, the pixels the motion uncovered from its upsampled low-res frame (plan
        ``warp``); an anchor's low-res frame upsampled (plan ``lowres``)."""
        if "ref" in parsed:
            if parsed.get("ref_mask") is None:
                return parsed["ref"]
            return fill_uncovered(parsed["ref"], parsed["ref_mask"], parsed.get("lowres"))
        return upsample_lowres(parsed["lowres"], self.codec.video.resolution)

    def scale_detail(self, sampled: np.ndarray, parsed: dict) -> np.ndarray:
        """The sampled frame ``[H, W, 3]`` as shown: its no-generation prediction (:meth:`predict`) plus
        ``codec.detail_scale`` times what the denoiser changed (the receiver's point on the
        perception-distortion trade-off; ``codec.labelled_detail_scale`` where a label map conditions
        the frame). Unchanged at scale 1, and where the frame has neither a low-res frame nor
        a reference (labels only: nothing to fall back on)."""
        scale = self.spec.detail_scale
        if self.spec.labelled_detail_scale is not None and "labels" in parsed:
            scale = self.spec.labelled_detail_scale
        if scale == 1.0 or not ("ref" in parsed or "lowres" in parsed):
            return sampled
        base = self.predict(parsed)
        return np.clip(base + scale * (sampled - base), 0.0, 1.0).astype(np.float32)

    def agree_with_lowres(self, image: np.ndarray, parsed: dict) -> np.ndarray:
        """The image made consistent with the frame's transmitted low-res version, if it has one
        (``codec.lowres_backprojection`` steps of :func:`gsvc.codecs.lowres.back_project`)."""
        if "lowres" not in parsed or not self.spec.lowres_backprojection:
            return image
        return back_project(image, parsed["lowres"], self.spec.lowres_backprojection)

    def _parse(self, ef: EncodedFrame) -> dict:
        side = self.codec.video.resolution
        if ef.kind == "anchor":
            return parse_conditions(ef.sections, None, None, side)
        motion = decode_motion(ef.sections["motion"])
        step, chain = None, None
        if "step" in ef.sections:
            step, chain = decode_motion(ef.sections["step"]), self.chain.current(self.ref_parts.lowres, side)
        out = parse_conditions(ef.sections, self.ref_parts, motion, side, chain, step)
        out["motion"] = motion
        out["ref"] = warp(self.ref_image, motion)
        out["ref_mask"] = covered(motion, side)
        return out

    def _conceal(self, ef: EncodedFrame, show: bool = True) -> Decoded:
        """Show the last output moved by the last motion; a concealed anchor, or a delta on another
        reference, leaves the reference broken until an anchor. A concealed delta ends the low-res
        chain: a chained delta that follows it is concealed too and asks for an anchor.
        ``show=False`` (timing-only): the state change and the result without the image."""
        image = None
        if show:
            image = self._last_or_grey()
            if self.last_image is not None and self.last_motion is not ZERO_MOTION:
                image = warp(image, self.last_motion)
            self.last_image = image
        if ef.kind == "anchor" or ef.refs and ef.refs[0] != self.ref_frame:
            self.broken = True
        chain_broken = False
        if self.chained and ef.kind == "delta":  # deltas after this one may be predicted from it
            chain_broken = not self.chain.follows(ef)  # this one was: the group needs an anchor
            self.chain.lost()
        return Decoded(image, 0, 0, anchor=False, request_anchor=self.broken or chain_broken, path="conceal")

    def _repeat(self, ef: EncodedFrame, show: bool = True) -> Decoded:
        """Show the last image again (no decode). An anchor shown this way leaves the reference broken.
        ``show=False`` (timing-only): the state change and the result without the image."""
        image = None
        if show:
            image = self.last_image = self._last_or_grey()
        if ef.kind == "anchor":
            self.broken = True
        return Decoded(image, 0, 0, anchor=False, request_anchor=self.broken)

    def _last_or_grey(self) -> np.ndarray:
        """The last image shown, or mid-grey before there was one."""
        if self.last_image is not None:
            return self.last_image
        side = self.codec.video.resolution
        return np.full((side, side, 3), 0.5, np.float32)

    def generate(self, ef: EncodedFrame, plan: DecodePlan, parsed: dict) -> np.ndarray:
        raise NotImplementedError

    # --- helpers for subclasses -----------------------------------------------
    def run_sampler(self, ef: EncodedFrame, parsed: dict, steps: int, *, ref: np.ndarray | None = None,
                    ref_mask: np.ndarray | None = None, strength: float = 1.0, part: str = "") -> np.ndarray:
        """Sample one frame conditioned on the parts in ``parsed`` (+ a reference if given);
        returns ``[H, W, 3]`` float32 in [0, 1] and keeps the model-space result in ``last_x``.

        ``ref_mask`` ``[H, W]`` marks where the warped reference shows real content (1) and
        where the motion uncovered what it never saw (0). The shipped model is told so through
        its mask channel, and a refinement starts there from the upsampled low-res frame (when
        the frame has one) instead of the reference's repeated edge. A latent back-end starts
        a refinement from the reference latent warped by ``parsed["motion"]`` (see :meth:`_start`).
        ``part``: a second run for the same frame, with its own noise (:func:`frame_generator`).
        """
        from .sampler import sample
        den = self.codec.denoiser
        res = sample(den, self.condition(parsed, ref, ref_mask), steps, start=self._start(ref, ref_mask, parsed),
                     strength=strength, generator=frame_generator(self.seed, ef.frame, part),
                     sampler=self.spec.sampler)
        self.last_x = res.x0
        return den.to_image(res.x0)[0]

    def condition(self, parsed: dict, ref: np.ndarray | None = None, ref_mask: np.ndarray | None = None):
        """The denoiser's conditioning tensor ``[1, C, H, W]`` for one frame."""
        def one(x):
            return None if x is None else [x]
        return self.codec.denoiser.condition(
            1, self.codec.video.resolution, labels=one(parsed.get("labels")), ref=one(ref), ref_mask=one(ref_mask),
            lowres=one(parsed.get("lowres")), structure=one(parsed.get("structure")))

    def _start(self, ref, ref_mask, parsed):
        """Model-space start of a refinement ``[1, C, h, w]`` (None: from noise).

        Pixel space: the warped reference with uncovered pixels from the low-res frame. Latent
        space: the reference latent (the anchor's sample, else its image VAE-encoded once)
        warped by the motion scaled to latent resolution, as CVSC does (latent pixels the motion
        uncovered repeat the edge: filling them from the low-res frame would cost a VAE encode);
        a reference given without motion is VAE-encoded.
        """
        if ref is None:
            return None
        den = self.codec.denoiser
        if den.space == "latent" and "motion" in parsed:
            if self.ref_x is None:
                self.ref_x = den.to_model(self.ref_image[None])
            return warp_sample(den, self.ref_x, parsed["motion"])
        filled = ref if ref_mask is None else fill_uncovered(ref, ref_mask, parsed.get("lowres"))
        return den.to_model(filled[None])
