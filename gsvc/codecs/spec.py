"""Which codec a scenario runs, and its settings."""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from ..spec import Spec, bounded

__all__ = ["CodecSpec", "FOLLOWERS", "SHIPPED_MODEL_DEFAULTS", "DEFAULT_BITRATE_KBPS"]

#: the name lists this module had, and the capability that replaces each (gsvc.codecs.registry)
_REMOVED = {"DIFFUSION_CODECS": "diffusion", "LOWRES_CODECS": "lowres", "REFERENCE_CODECS": "reference"}


def __getattr__(name: str):
    if name in _REMOVED:
        raise AttributeError(f"gsvc.codecs.spec.{name} was removed: codecs declare capabilities; use "
                             f"gsvc.codecs.registry.names_with({_REMOVED[name]!r})")
    raise AttributeError(f"module 'gsvc.codecs.spec' has no attribute {name!r}")


#: a field given alone also sets these (they keep their field default, which follows it, instead of the
#: codec's own): a ``detail_scale`` is every frame's share, labelled frames' too; a ``steps`` is the
#: anchors' schedule too
FOLLOWERS = {"detail_scale": ("labelled_detail_scale",), "steps": ("anchor_steps",)}

#: codec defaults measured with the shipped denoiser only: with a model folder (``model`` not
#: ``"shipped"``) these keep their field defaults (:data:`gsvc.codecs.cvsc.TUNED_ANCHOR_STEPS` holds where
#: the upsampled low-res frame pins the shipped model's output down; a latent model sampled from noise
#: needs its own schedule)
SHIPPED_MODEL_DEFAULTS = ("anchor_steps",)

#: the rate a codec aims at, and link rate control starts from, when ``codec.bitrate_kbps`` is not given (kbit/s)
DEFAULT_BITRATE_KBPS = 64.0


class CodecSpec(Spec):
    """Codec name and settings. Fields a codec does not use are ignored by it.

    ``steps``: length of a diffusion codec's sampling schedule (``full`` runs all of it
    from noise; ``cvsc`` runs the last ``ceil(strength * steps)`` of it from the warped
    reference; ``anchor_steps`` is used for anchors). ``gop``: frames per group (anchor
    period of the diffusion codecs). ``bitrate_kbps``: the target rate of a codec with a rate of its own
    (H.264/H.265: x264's target and VBV rate; ``synthetic``, ``xr``: their frame sizes) and the start and
    ceiling of ``link.rate_control``; a codec whose rate follows its settings (the diffusion codecs and
    ``lowres``, capability ``rate_ceiling``) turns its stream down toward it with its rate ladder
    (:mod:`gsvc.codecs.ratelevels`; as far as the ladder's rungs go: label maps and motion are not coarsened)
    even without link rate control, so a sweep over ``bitrate_kbps`` draws every codec's rate-quality curve.
    None (the default): :data:`DEFAULT_BITRATE_KBPS` where a rate is needed (:attr:`rate_kbps`), and a
    diffusion codec's own tuned settings, uncapped.
    ``keyframe_s``: period of the classic codecs' keyframes (None: only at the start and
    on loss or request, as WebRTC senders do).

    The model back-end (:mod:`gsvc.codecs.backends`): ``model="shipped"`` is the shipped
    pixel-space denoiser, with ``weights`` the path of its weights file (None: the shipped
    ones); ``model="path/to/folder"`` is a latent diffusion model saved in the diffusers
    pipeline layout (``unet/``, ``vae/``, ``scheduler/``, optional ``controlnet/``, and
    ``prompt_embeds.safetensors`` or ``text_encoder/`` + ``tokenizer/`` with ``prompt``, the
    text it is conditioned on); see :mod:`gsvc.codecs.backends.folder`. ``sampler`` is the
    solver (``"ddim"``, ``"dpm"``) run on the back-end's noise schedule. A latent model reads
    the conditions below differently from the shipped one: its ControlNet (if the folder has
    one) is fed the label map, or the structure map where there are no labels; the low-res
    frame enters through back-projection and each codec's start latent; without a ControlNet,
    only the prompt, the start latent and back-projection tie the output to the frame
    (:mod:`gsvc.codecs.backends.latent`).

    What a diffusion frame is conditioned on (each a section whose bytes are counted):
    ``semantic="auto"`` sends the label map where the source has true labels (``"off"``:
    never), with ``label_factor`` its downsampling; ``lowres`` sends the frame at
    ``1/lowres_factor`` of its side with no frame, with anchors or with every frame, coded
    with quantiser step ``lowres_quant`` (8-bit levels; smaller is finer and costs more);
    anchors at ``1/anchor_lowres_factor`` instead when set (a finer anchor, as classic codecs
    spend more on I frames: every delta of ``cvsc`` starts from it; 1 sends the anchor whole, an
    intra frame shown as decoded, without the denoiser), and with quantiser step
    ``anchor_lowres_quant`` when set (finer than the deltas' for the same reason); the receiver
    codes a delta's low-res frame against its anchor's moved by the delta's motion
    (``lowres_reference="anchor"``: a delta depends on its anchor only, so a lost delta breaks
    nothing after it), against the previous frame's as decoded and moved by a coarse motion from
    it (``"previous"``: P frames, as H.264 chains them), or against whichever of the two costs less
    for each delta (``"best"``). Chained, a delta lost or concealed leaves the deltas predicted from
    it undecodable until an anchor, which the receiver asks for, and a late delta is still skipped
    but its low-res frame decoded, so the chain goes on (codecs that declare ``lowres_chain``); the receiver
    makes every frame that carries a low-res version agree with it (``lowres_backprojection``
    steps of iterative back-projection, 0 = off; none of the published methods does this);
    ``structure`` sends its edge map likewise. A delta's motion (from its anchor, and a chained
    delta's from the previous frame) is a global shift plus one vector per block of
    ``motion_block_px`` (blocks overlapping by half; None: half the frame side, a 3 x 3 grid at any
    resolution, :func:`gsvc.codecs.motion.motion_block_px`). ``name="lowres"`` sends the low-res frame and
    motion as ``cvsc`` does and shows them without generation (:mod:`gsvc.codecs.lowres_only`).
    ``detail_scale`` is the receiver's point on the perception-distortion trade-off (Blau and
    Michaeli, "The Perception-Distortion Tradeoff", CVPR 2018; a decoder-side knob as in Agustsson
    et al., "Multi-Realism Image Compression with a Conditional Generator", CVPR 2023): a generated
    frame is shown as its no-generation prediction (the upsampled low-res frame, or the warped
    reference) plus ``detail_scale`` times what the denoiser changed, before back-projection; frames
    with neither (labels only) are shown as sampled. No byte and no evaluation changes. A frame
    conditioned on a label map (``semantic``) takes ``labelled_detail_scale`` instead (None:
    ``detail_scale``): there the detail follows information the low-res frame lacks (an edge map,
    ``structure``, measured no such gain with the shipped model and takes ``detail_scale``).
    cvsc's and reuse's defaults (:data:`gsvc.codecs.cvsc.TUNED_DETAIL` and, on labelled frames,
    :data:`gsvc.codecs.cvsc.TUNED_LABELLED_DETAIL`) were tuned with the shipped model; with another
    model, ``detail_scale=1`` shows its samples as they are (a ``detail_scale`` given alone sets both).
    A codec class may default some of these fields to its own values (``spec_defaults``: the tuned
    stream of cvsc and lowres, :data:`gsvc.codecs.cvsc.TUNED_CHAINED`, and anchor_residual's,
    :data:`gsvc.codecs.cvsc.TUNED_LOWRES`, and cvsc's anchor schedule,
    :data:`gsvc.codecs.cvsc.TUNED_ANCHOR_STEPS`); a value given here wins, and a field given alone
    also sets the fields that follow it (:data:`FOLLOWERS`: a ``steps`` given sets the anchors'
    schedule too). With a model folder, the defaults measured with the shipped model only
    (:data:`SHIPPED_MODEL_DEFAULTS`) keep their field defaults.

    ``control="adaptive"`` (reference-based codecs only) runs the adaptive controller of
    :mod:`gsvc.codecs.control`: the sender detects cuts (``cut_threshold``) and large motion
    (``large_motion_px``), sends its confidence in the reference and refreshes the anchor
    on cuts and when more than ``drift_limit`` of the frame is unexplained; the receiver
    runs the codec's own steps at confidence ``trust_confidence`` or above, more steps
    below it, asks for an anchor below ``min_confidence``, and falls back to fewer steps,
    warp-only or repeat when the plan would not fit the playout deadline less a margin: the
    larger of ``deadline_margin_ms`` and the time by which a decode overruns its expected
    time with probability ``deadline_risk`` (the latency model's tail: a profile's jitter).
    """

    spec_path = "codec"
    name: str = "synthetic"
    steps: int = bounded(10, 1, 1000, "steps")
    gop: int = bounded(15, 1, 10_000, "frames")
    bitrate_kbps: float | None = bounded(
        None, 1.0, 1_000_000.0, "kbit/s", "target rate (None: 64 kbit/s where a rate is needed, no ceiling)")
    anchor_ratio: float = bounded(4.0, 1.0, 100.0, "", "anchor size / delta size (synthetic codec)")
    strength: float = bounded(0.3, 0.01, 1.0, "", "noise strength a reference is taken to before refinement")
    anchor_steps: int | None = bounded(None, 1, 1000, "steps", "schedule length for anchors (None: steps)")
    keyframe_s: float | None = bounded(10.0, 0.1, 86_400.0, "s", "period of classic keyframes (None: on demand only)")
    semantic: Literal["auto", "off"] = "auto"
    lowres: Literal["off", "anchors", "all"] = "all"
    lowres_factor: Literal[1, 2, 4, 8, 16] = 4
    anchor_lowres_factor: Literal[1, 2, 4, 8, 16] | None = 2
    lowres_quant: int = bounded(8, 1, 255, "levels", "quantiser step of the low-res frame's DCT coefficients")
    anchor_lowres_quant: int | None = bounded(
        None, 1, 255, "levels", "quantiser step of an anchor's low-res frame (None: lowres_quant)")
    lowres_reference: Literal["anchor", "previous", "best"] = "anchor"
    motion_block_px: int | None = bounded(
        None, 4, 1024, "px", "block side of a delta's motion field (None: half the frame side)")
    lowres_backprojection: int = bounded(
        3, 0, 20, "iterations", "back-projection steps that make a decoded frame agree with its low-res frame")
    detail_scale: float = bounded(
        1.0, 0.0, 2.0, "", "share of the generated detail shown: 0 the frame without the denoiser, 1 as sampled")
    labelled_detail_scale: float | None = bounded(
        None, 0.0, 2.0, "", "detail_scale of a frame conditioned on a label map (None: detail_scale)")
    structure: Literal["off", "anchors", "all"] = "off"
    sampler: Literal["ddim", "dpm"] = "ddim"
    label_factor: Literal[1, 2, 4] = 1
    weights: str | None = None
    model: str = "shipped"
    prompt: str | None = None
    control: Literal["off", "adaptive"] = "off"
    cut_threshold: float = bounded(0.022, 0.001, 1.0, "", "class-colour change between frames that marks a scene cut")
    large_motion_px: float = bounded(8.0, 0.5, 64.0, "px/frame", "motion between frames flagged as large")
    trust_confidence: float = bounded(0.7, 0.0, 1.0, "", "confidence from which a delta runs the codec's own steps")
    min_confidence: float = bounded(0.3, 0.0, 1.0, "", "confidence below which the receiver asks for an anchor")
    drift_limit: float = bounded(
        0.6, 0.0, 1.0, "", "unexplained share of a frame's detail that makes the sender send an anchor")
    deadline_margin_ms: float = bounded(8.0, 0.0, 10_000.0, "ms", "kept free of the playout budget at least")
    deadline_risk: float = bounded(
        0.01, 0.0001, 0.5, "", "probability of a late decode a plan may run (the latency model's service-time tail)")

    @property
    def rate_kbps(self) -> float:
        """The rate a codec with a rate of its own aims at, and link rate control's start (kbit/s):
        ``bitrate_kbps``, or :data:`DEFAULT_BITRATE_KBPS` where it is not given."""
        return DEFAULT_BITRATE_KBPS if self.bitrate_kbps is None else self.bitrate_kbps

    @model_validator(mode="after")
    def _codec_own_defaults(self) -> "CodecSpec":
        """Fields the user left out take the codec's own default (its class's ``spec_defaults``, e.g.
        cvsc's tuned low-res stream). They stay unset in ``model_fields_set``, so
        :meth:`~gsvc.scenarios.Scenario.updated` gives a changed ``codec.name`` its own."""
        from .registry import spec_defaults
        own = spec_defaults(self.name)
        given = set(self.model_fields_set)
        for field, followers in FOLLOWERS.items():
            if field in given:
                given |= set(followers)
        if self.model != "shipped":
            given |= set(SHIPPED_MODEL_DEFAULTS)
        missing = [f for f in own if f not in given]
        if missing:
            checked = type(self).model_validate({"name": self.name, **own})  # the codec's values, validated
            for field in missing:
                self.__dict__[field] = checked.__dict__[field]
        return self

    @classmethod
    def given_fields(cls, fields: dict) -> dict:
        """``fields`` (a full dump, e.g. a run's ``scenario.json``) less each field at the value its codec would
        give it: the spec these make is equal to ``cls(**fields)``, with those fields left out as a spec
        written in Python leaves them, so a changed ``name`` takes the new codec's own defaults
        (``spec_defaults``) instead of keeping the old codec's, or clashing with them. A dump lists every
        field, so it cannot say which were given; a value equal to the default reads as the default."""
        full = cls(**fields)
        keep = {k: fields[k] for k in ("name", "model") if k in fields}
        ref = cls(**keep)
        given = {k: v for k, v in fields.items() if k in keep or getattr(ref, k) != getattr(full, k)}
        same = cls(**given).model_dump(mode="python") == full.model_dump(mode="python")
        return given if same else dict(fields)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from .registry import CODECS, codec_names
        if v not in codec_names():
            raise ValueError(CODECS.problem(v))
        return v

    @field_validator("model")
    @classmethod
    def _model_named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("is empty; give 'shipped' or the path of a diffusers pipeline folder")
        return v

    @model_validator(mode="after")
    def _weights_are_the_shipped_models(self) -> "CodecSpec":
        if self.weights is not None and self.model != "shipped":
            raise ValueError(f"codec.weights={self.weights!r} is a weights file of the shipped model, but "
                             f"codec.model={self.model!r} is a folder with its own weights; give one of the two")
        if self.prompt is not None and self.model == "shipped":
            raise ValueError(f"codec.prompt={self.prompt!r} needs a model with a text encoder; the shipped "
                             "model (codec.model='shipped') is conditioned on labels, low-res frame and structure")
        return self

    @model_validator(mode="after")
    def _control_needs_reference(self) -> "CodecSpec":
        from .registry import has, names_with
        if self.control == "adaptive" and not has(self.name, "reference"):
            raise ValueError(f"codec.control='adaptive' needs a reference-based codec "
                             f"({', '.join(names_with('reference'))}); codec.name={self.name!r} has no reference to adapt")
        return self

    @model_validator(mode="after")
    def _chain_needs_lowres_deltas(self) -> "CodecSpec":
        from .registry import has, names_with
        ref = self.lowres_reference
        if ref != "anchor":
            if not has(self.name, "lowres_chain"):
                raise ValueError(f"codec.lowres_reference={ref!r} chains the deltas' low-res frames, which only "
                                 f"{', '.join(names_with('lowres_chain'))} do; codec.name={self.name!r} codes them "
                                 "against the anchor ('anchor')")
            # a codec's own default stands, inert, where the user sends no low-res frames with deltas
            if self.lowres != "all" and "lowres_reference" in self.model_fields_set:
                raise ValueError(f"codec.lowres_reference={ref!r} chains the deltas' low-res frames, but "
                                 f"codec.lowres={self.lowres!r} sends none with deltas; set codec.lowres='all'")
        return self

    @model_validator(mode="after")
    def _codec_accepts_the_settings(self) -> "CodecSpec":
        from .registry import problem_of
        problem = problem_of(self.name, "spec_problem", self)
        if problem:
            raise ValueError(problem)
        return self
