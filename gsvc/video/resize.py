"""Fitting frames of any size to gsvc's square resolution.

Frames are centre-cropped to a square and resampled with separable weight
matrices: area averaging when shrinking (no aliasing), linear interpolation
when enlarging. Labels use the nearest source pixel of the same crop.
"""
from __future__ import annotations

import numpy as np

__all__ = ["resample_matrix", "resize", "center_square", "fit_square"]


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``[n_out, n_in]`` float32 weights (rows sum to 1) mapping a line of n_in pixels to n_out."""
    scale = n_in / n_out
    centres = (np.arange(n_out) + 0.5) * scale  # output pixel centres in input coordinates
    src = np.arange(n_in) + 0.5
    if scale <= 1.0:  # enlarging: linear interpolation (a tent one input pixel wide)
        w = np.clip(1.0 - np.abs(src[None, :] - centres[:, None]), 0.0, None)
    else:  # shrinking: average over the box that one output pixel covers
        w = np.clip(np.minimum(src[None, :] + 0.5, centres[:, None] + scale / 2)
                    - np.maximum(src[None, :] - 0.5, centres[:, None] - scale / 2), 0.0, None)
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(np.float32)


def resize(frames: np.ndarray, height_px: int, width_px: int) -> np.ndarray:
    """Resample ``[..., H, W, C]`` float32 frames to ``[..., height_px, width_px, C]``."""
    h, w = frames.shape[-3], frames.shape[-2]
    if (h, w) == (height_px, width_px):
        return frames
    my = resample_matrix(h, height_px)
    mx = resample_matrix(w, width_px)
    out = np.einsum("ih,...hwc->...iwc", my, frames, optimize=True)
    return np.einsum("jw,...iwc->...ijc", mx, out, optimize=True).astype(np.float32)


def center_square(shape_hw: tuple[int, int]) -> tuple[slice, slice]:
    """Row and column slices of the largest centred square in an ``H x W`` frame."""
    h, w = shape_hw
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return slice(y0, y0 + side), slice(x0, x0 + side)


def fit_square(rgb: np.ndarray, side_px: int, labels: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Centre-crop ``[T, H, W, 3]`` frames (and ``[T, H, W]`` labels) to a square and resize to ``side_px``."""
    ys, xs = center_square(rgb.shape[1:3])
    out = resize(rgb[:, ys, xs], side_px, side_px)
    if labels is None:
        return out, None
    lab = labels[:, ys, xs]
    n = lab.shape[1]
    idx = np.minimum(((np.arange(side_px) + 0.5) * n / side_px).astype(np.intp), n - 1)
    return out, lab[:, idx][:, :, idx]
