"""What the diffusion codecs share: sender-side semantic coding, receiver state, concealment.

Every diffusion codec sends the semantic map of each frame (intra-coded in anchors,
inter-coded against the motion-compensated reference labels in deltas), a motion
field from the reference to the frame in deltas, and optionally a thumbnail. The
receiver keeps the reference reconstruction; a codec subclass decides, in
:meth:`DiffusionDecoder.plan_frame` and :meth:`DiffusionDecoder.generate`, where the
sampler starts and how many steps it runs.

A frame whose data is incomplete or does not parse is concealed: the last output
warped by the last motion (or repeated). A lost anchor, or a delta that cannot be
decoded, leaves the reference broken until the next anchor arrives, and the
decoder asks the sender for one over the feedback path.

With ``codec.control="adaptive"`` the encoder and decoder hand their decisions to the
controller of :mod:`gsvc.codecs.control` (cut and drift detection at the sender, a
deadline-aware plan ladder at the receiver); with ``"off"`` they behave exactly as the
codec alone.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Sequence

import numpy as np
from scipy.ndimage import zoom as nd_zoom

from ..video import phase_shift_px
from .base import DecodePlan, Decoded, EncodedFrame, Feedback
from .control.confidence import reference_confidence
from .motion import (ZERO_MOTION, MotionField, covered, decode_motion, encode_motion, estimate_motion, warp,
                     warp_labels)
from .semantic import decode_labels, decode_thumbnail, encode_labels, encode_thumbnail

__all__ = ["DiffusionCodec", "DiffusionEncoder", "DiffusionDecoder", "load_denoiser", "frame_generator",
           "upsample_thumbnail", "fill_uncovered"]


@functools.lru_cache(maxsize=4)
def load_denoiser(path: str | None):
    """The denoiser for this process (loaded once per weights file)."""
    from .model import Denoiser
    return Denoiser.load(path)


def upsample_thumbnail(thumb: np.ndarray, side_px: int) -> np.ndarray:
    """``[n, n, 3]`` thumbnail -> ``[side_px, side_px, 3]`` float32 image (bilinear)."""
    f = side_px / thumb.shape[0]
    return np.clip(nd_zoom(thumb, (f, f, 1), order=1, mode="nearest", grid_mode=True), 0, 1).astype(np.float32)


def fill_uncovered(ref: np.ndarray, mask: np.ndarray, thumb: np.ndarray | None) -> np.ndarray:
    """A warped reference ``[H, W, 3]`` with the pixels its motion uncovered (``mask`` 0,
    ``[H, W]``) taken from the upsampled thumbnail instead of the repeated edge (unchanged
    without a thumbnail)."""
    if thumb is None:
        return ref
    m = mask[..., None]
    return ref * m + upsample_thumbnail(thumb, ref.shape[0]) * (1 - m)


def frame_generator(stream_seed: int, frame: int):
    """A torch generator for one frame's noise: independent of decode order and batching."""
    import torch
    h = hashlib.sha256(f"{stream_seed}:{frame}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(h[:8], "little") >> 1)


class DiffusionCodec:
    """Base of the diffusion codecs; subclasses set ``name`` and a decoder class."""

    name = "diffusion"
    group_frames = 1
    uses_pixels = True
    makes_images = True
    decoder_cls: type = None  # set by subclasses
    #: every frame is an anchor (no reference, no motion)
    intra_only = False

    def __init__(self, codec_spec, video_spec):
        self.spec = codec_spec
        self.video = video_spec

    @property
    def denoiser(self):
        return load_denoiser(self.spec.weights)

    def encoder(self, stream_seed: int) -> "DiffusionEncoder":
        return DiffusionEncoder(self)

    def decoder(self, stream_seed: int) -> "DiffusionDecoder":
        return self.decoder_cls(self, stream_seed)


class DiffusionEncoder:
    """Sender state: the reference frame, its labels and the global motion accumulated since it.

    With ``codec.control="adaptive"`` a :class:`~gsvc.codecs.control.SenderControl` also
    watches every frame for cuts and drift and adds a ``control`` section.
    """

    def __init__(self, codec: DiffusionCodec):
        self.codec, self.spec = codec, codec.spec
        self.ref_rgb = self.ref_labels = self.prev_rgb = None
        self.acc_px = np.zeros(2)
        self.since_anchor = 0
        self.control = None
        if self.spec.control == "adaptive":
            from .control import SenderControl
            self.control = SenderControl(self.spec)

    def _wants_anchor(self, feedback: Sequence[Feedback]) -> bool:
        if self.codec.intra_only or self.ref_rgb is None or self.since_anchor + 1 >= self.spec.gop:
            return True
        if self.control is not None:
            return self.control.feedback_wants_anchor(feedback)
        return any(f.kind in ("loss", "anchor_request") for f in feedback)

    def encode(self, frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]:
        if frame.labels is None:
            raise ValueError("diffusion codecs need semantic labels; set video.labels='auto' or 'estimate'")
        rgb = np.asarray(frame.rgb, np.float32)
        change = None if self.control is None else self.control.observe(rgb, frame.labels)
        if self._wants_anchor(feedback) or change is not None and change.cut:
            return [self._anchor(frame, rgb, change)]
        return [self._delta(frame, rgb, change)]

    def _anchor(self, frame, rgb: np.ndarray, change, drift: bool = False) -> EncodedFrame:
        sections = {"semantic": encode_labels(frame.labels, factor=self.spec.label_factor)}
        if self.spec.thumbnail in ("anchors", "all"):
            sections["thumbnail"] = encode_thumbnail(rgb)
        self.ref_rgb, self.prev_rgb, self.acc_px, self.since_anchor = rgb, rgb, np.zeros(2), 0
        self.ref_labels = decode_labels(sections["semantic"])
        if change is None:
            return EncodedFrame(frame.index, "anchor", sections, (), frame.scene_cut)
        sections["control"] = self.control.anchor_section(frame.index, change, drift)
        return EncodedFrame(frame.index, "anchor", sections, (), change.cut)

    def _delta(self, frame, rgb: np.ndarray, change) -> EncodedFrame:
        self.acc_px = self.acc_px + phase_shift_px(self.prev_rgb, rgb)
        self.prev_rgb = rgb
        self.since_anchor += 1
        motion = estimate_motion(self.ref_rgb, rgb, prior_px=(float(self.acc_px[0]), float(self.acc_px[1])))
        mbytes = encode_motion(motion)
        sent = decode_motion(mbytes)
        predicted = warp_labels(self.ref_labels, sent)
        sections = {"motion": mbytes,
                    "semantic": encode_labels(frame.labels, predicted, factor=self.spec.label_factor)}
        if self.spec.thumbnail == "all":
            sections["thumbnail"] = encode_thumbnail(rgb)
        ref_index = frame.index - self.since_anchor
        meta = {"distance_px": motion.magnitude_px()}
        if change is None:
            return EncodedFrame(frame.index, "delta", sections, (ref_index,), frame.scene_cut, meta=meta)
        conf = reference_confidence(warp(self.ref_rgb, sent), predicted, rgb, frame.labels)
        if self.control.drifted(conf):
            return self._anchor(frame, rgb, change, drift=True)
        sections["control"] = self.control.delta_section(change, conf)
        return EncodedFrame(frame.index, "delta", sections, (ref_index,), False, meta=meta)


class DiffusionDecoder:
    """Receiver state of one stream; subclasses implement :meth:`plan_frame` and :meth:`generate`.

    With ``codec.control="adaptive"`` a :class:`~gsvc.codecs.control.ReceiverControl` picks
    the plan from a ladder built around :meth:`plan_frame` to fit the playout deadline, and
    the decoder can also show a frame without the denoiser: ``warp`` (the reference moved to
    the frame), ``thumbnail`` (an anchor's thumbnail upsampled) or ``repeat`` (the last image).
    """

    def __init__(self, codec: DiffusionCodec, stream_seed: int):
        self.codec, self.spec, self.seed = codec, codec.spec, stream_seed
        self.ref_image = self.ref_labels = None
        self.ref_frame = -1
        self.last_image = None
        self.last_motion: MotionField = ZERO_MOTION
        self.broken = True
        self.control = None
        if self.spec.control == "adaptive":
            from .control import ReceiverControl
            self.control = ReceiverControl(self.spec)

    def set_cost_model(self, fn) -> None:
        """``fn(unet_evals) -> expected service ms`` from the receiver's latency model (used by control)."""
        if self.control is not None:
            self.control.set_cost_model(fn)

    # --- planning -------------------------------------------------------------
    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan:
        info = None if self.control is None else self.control.arrived(ef, complete)
        if not complete or (ef.kind == "delta" and (self.broken or ef.refs[0] != self.ref_frame)):
            return DecodePlan("conceal")
        if self.control is not None:
            return self.control.plan(self, ef, info, budget_ms)
        return self.plan_frame(ef, budget_ms)

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

    # --- decoding -------------------------------------------------------------
    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        out = self.decode_frame(ef, plan)
        return out if self.control is None else self.control.annotate(ef, plan, out)

    def decode_frame(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        if plan.path == "conceal":
            return self._conceal(ef)
        if plan.path == "repeat":
            return self._repeat(ef)
        try:
            parsed = self._parse(ef)
        except (ValueError, KeyError):
            return self._conceal(ef)
        if plan.path == "warp":
            image = fill_uncovered(parsed["ref"], parsed["ref_mask"], parsed.get("thumb"))
        elif plan.path == "thumbnail":
            image = upsample_thumbnail(parsed["thumb"], self.codec.video.resolution)
        else:
            image = self.generate(ef, plan, parsed)
        if ef.kind == "anchor":
            self.ref_image, self.ref_labels, self.ref_frame, self.broken = image, parsed["labels"], ef.frame, False
        self.last_image = image
        self.last_motion = parsed.get("motion", ZERO_MOTION)
        return Decoded(image, plan.steps, plan.unet_evals, anchor=ef.kind == "anchor")

    def _parse(self, ef: EncodedFrame) -> dict:
        out = {}
        if ef.kind == "delta":
            out["motion"] = decode_motion(ef.sections["motion"])
            out["predicted_labels"] = warp_labels(self.ref_labels, out["motion"])
            out["labels"] = decode_labels(ef.sections["semantic"], out["predicted_labels"])
            out["ref"] = warp(self.ref_image, out["motion"])
            out["ref_mask"] = covered(out["motion"], self.ref_image.shape[0])
        else:
            out["labels"] = decode_labels(ef.sections["semantic"])
        if out["labels"].shape[0] != self.codec.video.resolution:
            raise ValueError("semantic map has the wrong size")
        if "thumbnail" in ef.sections:
            out["thumb"] = decode_thumbnail(ef.sections["thumbnail"])
        return out

    def _conceal(self, ef: EncodedFrame) -> Decoded:
        """Show the last output moved by the last motion; the reference stays broken until an anchor."""
        image = self._last_or_grey()
        if self.last_image is not None and self.last_motion is not ZERO_MOTION:
            image = warp(image, self.last_motion)
        if ef.kind == "anchor" or ef.refs and ef.refs[0] != self.ref_frame:
            self.broken = True
        self.last_image = image
        return Decoded(image, 0, 0, anchor=False, request_anchor=self.broken, path="conceal")

    def _repeat(self, ef: EncodedFrame) -> Decoded:
        """Show the last image again (no decode). An anchor shown this way leaves the reference broken."""
        image = self._last_or_grey()
        if ef.kind == "anchor":
            self.broken = True
        self.last_image = image
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
                    ref_mask: np.ndarray | None = None, strength: float = 1.0) -> np.ndarray:
        """Sample one frame conditioned on its labels (+ thumbnail, + reference if given).

        ``ref_mask`` ``[H, W]`` marks where the warped reference shows real content (1) and
        where the motion uncovered what it never saw (0). The model is told so through its
        mask channel, and a refinement starts there from the upsampled thumbnail (when the
        frame has one) instead of the reference's repeated edge.
        """
        from .sampler import sample
        den = self.codec.denoiser
        thumb = parsed.get("thumb")
        cond = den.condition(parsed["labels"][None], None if ref is None else ref[None],
                             None if ref is None or ref_mask is None else ref_mask[None],
                             thumb=None if thumb is None else thumb[None])
        start = None
        if ref is not None:
            start = den.to_model((ref if ref_mask is None else fill_uncovered(ref, ref_mask, thumb))[None])
        res = sample(den, cond, steps, start=start, strength=strength,
                     generator=frame_generator(self.seed, ef.frame), scheduler=self.spec.sampler)
        return den.to_image(res.x0)[0]
