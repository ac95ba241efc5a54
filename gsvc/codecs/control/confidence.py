"""Confidence in the reference, computed at the sender and sent in a 2-byte ``control`` section.

The receiver starts a delta frame from its reference moved to the frame (warped by
the transmitted motion, or plus the transmitted residual). The sender has the
original frames, so it can say how much of the frame that prediction explains:

``confidence = share of the frame's detail whose predicted label equals the frame's label and
whose predicted colour is within COLOUR_TOL of the frame's (max over R, G, B)``, each pixel
weighted by its local contrast (the larger luma gradient magnitude of the frame and of the
prediction there) plus the frame's mean contrast (:data:`CONTRAST_FLOOR`).

Disoccluded and occluded areas (new content entering at the borders, behind moving
objects) fail the label test; misaligned texture, lighting change and zoom the colour
test. 1 = the warped reference is the frame; 0 = it explains nothing (a cut). Why weighted:
a flat pixel is explained by any prediction of its colour, and a misaligned edge or texture
fails only where the contrast is. Counting pixels alike, ``content_motion`` on the dev set's
logo clip (a graphic on a plain background panned 8 px a frame) showed frames at 11-16 dB
that it trusted at 0.75-0.89, so it neither refined them nor closed the group; weighted, it
closes the group sooner and refines more (the clip's worst shot 17.6 -> 21.2 dB decoded in
order; :data:`CONTRAST_FLOOR`). A sparse graphic still scores well above what its PSNR says
(frames of that shot at 14 dB trusted at 0.73-0.78): the flat area keeps its floor weight.

The ``control`` section carries one flags byte (cut, large motion, drift refresh) and
the confidence quantised to 8 bits, so its 2 bytes are counted like every other section.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ...video.flow import luma

__all__ = ["COLOUR_TOL", "CONTRAST_FLOOR", "reference_confidence", "ControlInfo", "encode_control", "decode_control"]

#: largest colour error (max over channels, colour units in [0, 1]) of a pixel counted as explained
COLOUR_TOL = 0.12
#: weight of every pixel in :func:`reference_confidence` beside its own contrast, in units of the mean of that
#: contrast over the frame: a flat pixel counts half as much as one of average contrast. Tuned on the dev set
#: (8 clips x 4 s at 64 px, every frame decoded in order, no feedback; whole set kbit/s / PSNR dB / SSIM /
#: worst shot's PSNR, all with ``control="adaptive"``). Unweighted (every pixel alike): cvsc 24.95 / 29.46 /
#: 0.8990 / 25.36, lowres 23.27 / 29.08 / 0.8947 / 25.06, content_motion 10.80 / 25.01 / 0.8156 / 17.57.
#: Floor 1: 24.84 / 29.49 / 0.8995 / 25.45, 23.18 / 29.10 / 0.8952 / 25.06, 11.92 / 25.39 / 0.8226 / 20.19
#: (content_motion +0.27 dB over its own ladder at that rate). Floor 0.5: cvsc 25.35 / 29.51; 0.25: cvsc
#: 25.17 / 29.56, lowres 23.58 / 29.15, content_motion 12.86 / 25.57 / 0.8282 / 20.19; 0.1: 25.15 / 29.56 and
#: 13.50 / 25.67. Floor 1 is the one point where cvsc and lowres gain at fewer bits; below it each spends more,
#: for PSNR at about the slope of its quantiser ladder (cvsc 0.21 dB per kbit/s from 1 to 0.25, its ladder 0.18;
#: lowres 0.13, its ladder 0.17), content_motion at a better one than its ladder's (0.19 against 0.11)
CONTRAST_FLOOR = 1.0

_CUT, _LARGE_MOTION, _DRIFT = 1, 2, 4


def reference_confidence(predicted_rgb: np.ndarray, predicted_labels: np.ndarray | None,
                         rgb: np.ndarray, labels: np.ndarray | None) -> float:
    """Fraction of the frame explained by its prediction, in [0, 1].

    Args:
        predicted_rgb: ``[H, W, 3]`` float, the reference moved to this frame.
        predicted_labels: ``[H, W]`` uint8 reference labels moved to this frame (None: colour test only).
        rgb: ``[H, W, 3]`` float, the frame.
        labels: ``[H, W]`` uint8 labels of the frame (None: colour test only).
    """
    ok = np.max(np.abs(predicted_rgb - rgb), axis=-1) < COLOUR_TOL
    if predicted_labels is not None and labels is not None:
        ok &= predicted_labels == labels
    contrast = np.maximum(_contrast(rgb), _contrast(predicted_rgb))
    weight = contrast + CONTRAST_FLOOR * max(float(contrast.mean()), 1e-6)
    return float(np.sum(weight * ok) / np.sum(weight))


def _contrast(rgb: np.ndarray) -> np.ndarray:
    """``[H, W]`` float32: the luma gradient's magnitude (levels in [0, 1] per pixel)."""
    gy, gx = np.gradient(luma(rgb))
    return np.hypot(gx, gy)


@dataclass(frozen=True)
class ControlInfo:
    """What the ``control`` section says about one frame.

    ``cut``: the sender detected a scene cut; ``large_motion``: it detected large motion;
    ``drift``: the sender refreshed its anchor because the reference had drifted;
    ``confidence``: in [0, 1], for a delta the confidence in its reference, for an anchor how
    well the previous frame predicted it (0 at a detected cut).
    """

    cut: bool = False
    large_motion: bool = False
    drift: bool = False
    confidence: float = 1.0


def encode_control(info: ControlInfo) -> bytes:
    """2 bytes: flags (bit 0 cut, bit 1 large motion, bit 2 drift), confidence x 255."""
    flags = _CUT * info.cut | _LARGE_MOTION * info.large_motion | _DRIFT * info.drift
    return struct.pack("<BB", flags, int(round(min(max(info.confidence, 0.0), 1.0) * 255)))


def decode_control(data: bytes) -> ControlInfo:
    """Inverse of :func:`encode_control` (confidence to 1/255); ValueError on malformed bytes."""
    if len(data) != 2:
        raise ValueError(f"control section has {len(data)} bytes, not 2")
    flags, q = struct.unpack("<BB", data)
    if flags & ~(_CUT | _LARGE_MOTION | _DRIFT):
        raise ValueError(f"control section has unknown flags {flags:#x}")
    return ControlInfo(bool(flags & _CUT), bool(flags & _LARGE_MOTION), bool(flags & _DRIFT), q / 255)
