"""Confidence in the reference, computed at the sender and sent in a 2-byte ``control`` section.

The receiver starts a delta frame from its reference moved to the frame (warped by
the transmitted motion, or plus the transmitted residual). The sender has the
original frames, so it can say how much of the frame that prediction explains:

``confidence = fraction of pixels whose predicted label equals the frame's label and whose
predicted colour is within COLOUR_TOL of the frame's (max over R, G, B)``.

Disoccluded and occluded areas (new content entering at the borders, behind moving
objects) fail the label test; misaligned texture, lighting change and zoom the colour
test. 1 = the warped reference is the frame; 0 = it explains nothing (a cut).

The ``control`` section carries one flags byte (cut, large motion, drift refresh) and
the confidence quantised to 8 bits, so its 2 bytes are counted like every other section.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["COLOUR_TOL", "reference_confidence", "ControlInfo", "encode_control", "decode_control"]

#: largest colour error (max over channels, colour units in [0, 1]) of a pixel counted as explained
COLOUR_TOL = 0.12

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
    return float(np.mean(ok))


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
