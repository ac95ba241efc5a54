"""Semantic coding at the sender: label maps and thumbnails as real compressed bytes.

Label maps (``[H, W]`` uint8 class ids) are coded losslessly (optionally after
nearest-neighbour downsampling by ``factor``):

* intra: mode byte 0, then zlib of the map (zlib's own matching beat left/up
  neighbour prediction on the procedural scenes);
* inter: mode byte 1, then zlib of ``labels XOR predicted`` where ``predicted`` is the
  reference labels motion-compensated with the transmitted motion; unchanged pixels
  become zeros.

A thumbnail is the frame averaged over ``thumb_px``-pixel blocks and quantised to 5 bits
per channel, then zlib-compressed.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_labels", "decode_labels", "encode_thumbnail", "decode_thumbnail", "upsample_labels"]

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
    head = struct.pack("<BHB", _INTRA if predicted is None else _INTER, lab.shape[0], factor)
    if predicted is None:
        body = lab
    else:
        body = lab ^ _down(np.asarray(predicted, np.uint8), factor)
    return head + zlib.compress(body.tobytes(), 9)


def decode_labels(data: bytes, predicted: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`encode_labels` at full resolution; ValueError on malformed bytes."""
    if len(data) < 4:
        raise ValueError("semantic section too short")
    mode, side, factor = struct.unpack("<BHB", data[:4])
    try:
        body = np.frombuffer(zlib.decompress(data[4:]), np.uint8)
    except zlib.error as e:
        raise ValueError(f"semantic section corrupt: {e}") from None
    if factor < 1 or body.size != side * side:
        raise ValueError("semantic section has the wrong size")
    body = body.reshape(side, side)
    if mode == _INTRA:
        lab = body
    elif mode == _INTER:
        if predicted is None:
            raise ValueError("inter-coded semantic section needs the reference labels")
        lab = body ^ _down(np.asarray(predicted, np.uint8), factor)
    else:
        raise ValueError(f"semantic section has unknown mode {mode}")
    return upsample_labels(lab, side * factor)


def encode_thumbnail(rgb: np.ndarray, thumb_px: int = 8) -> bytes:
    """``[H, W, 3]`` float in [0, 1] -> bytes of its ``(H/thumb_px)``-side 5-bit thumbnail."""
    h = rgb.shape[0]
    n = h // thumb_px
    small = rgb[:n * thumb_px, :n * thumb_px].reshape(n, thumb_px, n, thumb_px, 3).mean((1, 3))
    q = np.clip(np.round(small * 31), 0, 31).astype(np.uint8)
    return struct.pack("<B", n) + zlib.compress(q.tobytes(), 9)


def decode_thumbnail(data: bytes) -> np.ndarray:
    """Bytes -> ``[n, n, 3]`` float32 thumbnail in [0, 1]; ValueError on malformed bytes."""
    if len(data) < 2:
        raise ValueError("thumbnail section too short")
    n = data[0]
    try:
        q = np.frombuffer(zlib.decompress(data[1:]), np.uint8)
    except zlib.error as e:
        raise ValueError(f"thumbnail section corrupt: {e}") from None
    if q.size != n * n * 3:
        raise ValueError("thumbnail section has the wrong size")
    return q.reshape(n, n, 3).astype(np.float32) / 31.0
