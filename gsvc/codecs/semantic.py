"""Semantic coding at the sender: label maps and thumbnails as real compressed bytes.

Label maps (``[H, W]`` uint8 class ids < 16) are coded losslessly (optionally after
nearest-neighbour downsampling by ``factor``) with the context-adaptive arithmetic
coder of :mod:`gsvc.codecs.entropy`:

* intra: mode byte 0; each pixel predicted from its causal neighbours;
* inter: mode byte 1; each pixel predicted from ``predicted``, the reference labels
  motion-compensated with the transmitted motion, so unchanged regions cost almost
  nothing.

A thumbnail is the frame averaged over ``thumb_px``-pixel blocks and quantised to 5 bits
per channel, then coded as the residual of the median edge detector prediction
(LOCO-I / JPEG-LS) with the same arithmetic coder.

Every section carries a 16-bit checksum of what it decodes to (arithmetic-coded bytes
have no redundancy of their own), so a corrupted or truncated section raises
``ValueError`` and the frame is concealed instead of shown wrong.
"""
from __future__ import annotations

import struct

import numpy as np

from .entropy import checksum, decode_label_map, decode_residuals, encode_label_map, encode_residuals

__all__ = ["encode_labels", "decode_labels", "encode_thumbnail", "decode_thumbnail", "quantize_thumbnail",
           "upsample_labels"]

_INTRA, _INTER = 0, 1


def _down(labels: np.ndarray, factor: int) -> np.ndarray:
    return labels[factor // 2::factor, factor // 2::factor] if factor > 1 else labels


def upsample_labels(labels: np.ndarray, side_px: int) -> np.ndarray:
    """Nearest-neighbour upsampling of a ``[h, w]`` map to ``[side_px, side_px]``."""
    f = side_px // labels.shape[0]
    return np.repeat(np.repeat(labels, f, 0), f, 1) if f > 1 else labels


def encode_labels(labels: np.ndarray, predicted: np.ndarray | None = None, factor: int = 1) -> bytes:
    """Bytes of a label map; inter-coded against ``predicted`` (same shape as ``labels``) if given."""
    lab = _down(np.ascontiguousarray(labels, np.uint8), factor)
    pred = None if predicted is None else _down(np.asarray(predicted, np.uint8), factor)
    head = struct.pack("<BHBH", _INTRA if pred is None else _INTER, lab.shape[0], factor, checksum(lab))
    return head + encode_label_map(lab, pred)


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


def _med_at(q: np.ndarray, i: int, j: int) -> np.ndarray:
    """Median edge detector prediction (LOCO-I / JPEG-LS) of ``q[i, j]`` (3 channels) from its
    causal neighbours (left, up, up-left; mid-level 16 before the first pixel)."""
    left = q[i, j - 1] if j else (q[i - 1, j] if i else np.full(3, 16))
    up = q[i - 1, j] if i else left
    ul = q[i - 1, j - 1] if i and j else up
    lo, hi = np.minimum(left, up), np.maximum(left, up)
    return np.where(ul >= hi, lo, np.where(ul <= lo, hi, left + up - ul))


def _thumbnail_levels(rgb: np.ndarray, thumb_px: int) -> np.ndarray:
    """``[H, W, 3]`` in [0, 1] -> ``[n, n, 3]`` int64 5-bit levels of its ``thumb_px`` block means."""
    n = rgb.shape[0] // thumb_px
    small = rgb[:n * thumb_px, :n * thumb_px].reshape(n, thumb_px, n, thumb_px, 3).mean((1, 3))
    return np.clip(np.round(small * 31), 0, 31).astype(np.int64)


def quantize_thumbnail(rgb: np.ndarray, thumb_px: int = 8) -> np.ndarray:
    """The thumbnail a receiver decodes from :func:`encode_thumbnail` (``[n, n, 3]`` float32),
    without coding it (for training)."""
    return _thumbnail_levels(rgb, thumb_px).astype(np.float32) / 31.0


def encode_thumbnail(rgb: np.ndarray, thumb_px: int = 8) -> bytes:
    """``[H, W, 3]`` float in [0, 1] -> bytes of its ``(H/thumb_px)``-side 5-bit thumbnail."""
    q = _thumbnail_levels(rgb, thumb_px)
    n = q.shape[0]
    pred = np.array([[_med_at(q, i, j) for j in range(n)] for i in range(n)])
    return struct.pack("<BH", n, checksum(q.astype(np.uint8))) + encode_residuals(q - pred)


def decode_thumbnail(data: bytes) -> np.ndarray:
    """Bytes -> ``[n, n, 3]`` float32 thumbnail in [0, 1]; ValueError on malformed bytes."""
    if len(data) < 3:
        raise ValueError("thumbnail section too short")
    n, crc = struct.unpack("<BH", data[:3])
    if n == 0:
        raise ValueError("thumbnail section has the wrong size")
    res = decode_residuals(data[3:], n * n * 3).reshape(n, n, 3)
    q = np.zeros((n, n, 3), np.int64)
    for i in range(n):  # undo the causal prediction pixel by pixel
        for j in range(n):
            q[i, j] = _med_at(q, i, j) + res[i, j]
    if q.min() < 0 or q.max() > 31 or checksum(q.astype(np.uint8)) != crc:
        raise ValueError("thumbnail section corrupt (checksum mismatch)")
    return q.astype(np.float32) / 31.0
