"""Semantic coding at the sender: label maps as real compressed bytes.

Label maps (``[H, W]`` uint8 class ids < 16) are coded losslessly (optionally after
nearest-neighbour downsampling by ``factor``) with the context-adaptive arithmetic
coder of :mod:`gsvc.codecs.entropy`:

* intra: mode byte 0; each pixel predicted from its causal neighbours;
* inter: mode byte 1; each pixel predicted from ``predicted``, the reference labels
  motion-compensated with the transmitted motion, so unchanged regions cost almost
  nothing; a delta whose prediction misses much is sent intra when that is shorter.

Every section carries a 16-bit checksum of what it decodes to (arithmetic-coded bytes
have no redundancy of their own), so a corrupted or truncated section raises
``ValueError`` and the frame is concealed instead of shown wrong.
"""
from __future__ import annotations

import struct

import numpy as np

from .entropy import checksum, decode_label_map, encode_label_map

__all__ = ["encode_labels", "decode_labels", "upsample_labels"]

_INTRA, _INTER = 0, 1


def _down(labels: np.ndarray, factor: int) -> np.ndarray:
    return labels[factor // 2::factor, factor // 2::factor] if factor > 1 else labels


def upsample_labels(labels: np.ndarray, side_px: int) -> np.ndarray:
    """Nearest-neighbour upsampling of a ``[h, w]`` map to ``[side_px, side_px]``."""
    f = side_px // labels.shape[0]
    return np.repeat(np.repeat(labels, f, 0), f, 1) if f > 1 else labels


#: share of pixels the prediction gets wrong above which an inter map is also coded intra, and the
#: shorter sent (below it the inter map is always the shorter: a prediction that misses whole rows,
#: as a sub-pixel shift of a horizon can, costs more than the map's own neighbours)
INTRA_CHECK_MISS = 0.02


def encode_labels(labels: np.ndarray, predicted: np.ndarray | None = None, factor: int = 1) -> bytes:
    """Bytes of a label map; inter-coded against ``predicted`` (same shape as ``labels``) if given,
    unless intra coding is shorter (checked where the prediction misses more than
    :data:`INTRA_CHECK_MISS` of the pixels)."""
    lab = _down(np.ascontiguousarray(labels, np.uint8), factor)
    pred = None if predicted is None else _down(np.asarray(predicted, np.uint8), factor)
    crc = checksum(lab)

    def section(mode: int, against: np.ndarray | None) -> bytes:
        return struct.pack("<BHBH", mode, lab.shape[0], factor, crc) + encode_label_map(lab, against)

    intra = None
    if pred is None or np.mean(pred != lab) > INTRA_CHECK_MISS:
        intra = section(_INTRA, None)
        if pred is None:
            return intra
    inter = section(_INTER, pred)
    return inter if intra is None or len(inter) <= len(intra) else intra


def decode_labels(data: bytes, predicted: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`encode_labels` at full resolution; ValueError on malformed bytes."""
    if len(data) < 6:
        raise ValueError("semantic section too short")
    mode, side, factor, crc = struct.unpack("<BHBH", data[:6])
    if factor not in (1, 2, 4) or not 0 < side <= 4096:
        raise ValueError("semantic section has a bad header")
    if mode == _INTRA:
        pred = None
    elif mode == _INTER:
        if predicted is None:
            raise ValueError("inter-coded semantic section needs the reference labels")
        pred = _down(np.asarray(predicted, np.uint8), factor)
        if pred.shape != (side, side):
            raise ValueError("semantic section does not match the reference labels")
    else:
        raise ValueError(f"semantic section has unknown mode {mode}")
    lab = decode_label_map(data[6:], (side, side), pred)
    if checksum(lab) != crc:
        raise ValueError("semantic section corrupt (checksum mismatch)")
    return upsample_labels(lab, side * factor)
