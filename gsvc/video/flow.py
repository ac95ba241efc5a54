"""Measuring motion between frames (phase correlation), with no knowledge of how they were made.

Used to check the true motion that sources report, and usable by codecs to
detect large motion. Shifts follow the convention of
:attr:`gsvc.video.Frame.motion_px`: ``cur(p) ~= prev(p + shift)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["phase_shift_px", "block_flow_px", "mean_flow_px", "luma"]


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma of ``[..., 3]`` RGB frames as float32 (frames without a colour axis as they are)."""
    a = np.asarray(frames, np.float32)
    return a @ np.array([0.299, 0.587, 0.114], np.float32) if a.shape[-1] == 3 else a


def _peak_subpixel(corr: np.ndarray) -> np.ndarray:
    """Sub-pixel argmax of correlation surfaces ``[..., N, N]`` (periodic) -> ``[..., 2]`` (dy, dx) in (-N/2, N/2]."""
    n_y, n_x = corr.shape[-2:]
    flat = corr.reshape(-1, n_y, n_x)
    idx = flat.reshape(len(flat), -1).argmax(axis=1)
    iy, ix = np.divmod(idx, n_x)
    b = np.arange(len(flat))

    def parabola(minus, centre, plus):
        den = minus - 2 * centre + plus
        return np.where(np.abs(den) > 1e-12, 0.5 * (minus - plus) / np.where(den == 0, 1, den), 0.0)

    c = flat[b, iy, ix]
    dy = parabola(flat[b, (iy - 1) % n_y, ix], c, flat[b, (iy + 1) % n_y, ix])
    dx = parabola(flat[b, iy, (ix - 1) % n_x], c, flat[b, iy, (ix + 1) % n_x])
    py = (iy + dy + n_y / 2) % n_y - n_y / 2
    px = (ix + dx + n_x / 2) % n_x - n_x / 2
    return np.stack([py, px], -1).reshape(corr.shape[:-2] + (2,))


def _shift(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Phase correlation of windowed patches ``[..., N, N]`` -> shifts ``[..., 2]`` (dx, dy)."""
    n_y, n_x = prev.shape[-2:]
    win = np.outer(np.hanning(n_y), np.hanning(n_x)).astype(np.float32)
    fa = np.fft.rfft2((prev - prev.mean(axis=(-2, -1), keepdims=True)) * win)
    fb = np.fft.rfft2((cur - cur.mean(axis=(-2, -1), keepdims=True)) * win)
    cross = fb * np.conj(fa)
    corr = np.fft.irfft2(cross / np.maximum(np.abs(cross), 1e-9), s=(n_y, n_x))
    dy_dx = _peak_subpixel(corr)  # peak at cur = prev shifted by +d, i.e. cur(p) = prev(p - d)
    return -dy_dx[..., ::-1]


def phase_shift_px(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """Global translation ``(dx, dy)`` px with ``cur(p) ~= prev(p + (dx, dy))``.

    Args:
        prev, cur: ``[H, W, 3]`` or ``[H, W]`` float frames.
    """
    dx, dy = _shift(luma(prev), luma(cur))
    return float(dx), float(dy)


def block_flow_px(prev: np.ndarray, cur: np.ndarray, block_px: int = 16) -> np.ndarray:
    """Coarse optical flow: one phase-correlation shift per block.

    Args:
        prev, cur: ``[H, W, 3]`` or ``[H, W]`` float frames of equal shape.
        block_px: block side (blocks overlap by half; edge pixels that do not fill a block are left out).

    Returns:
        ``[By, Bx, 2]`` float (dx, dy) px per block, same convention as :func:`phase_shift_px`.
    """
    a, b = luma(prev), luma(cur)
    h, w = a.shape
    step = block_px // 2
    ys = np.arange(0, h - block_px + 1, step)
    xs = np.arange(0, w - block_px + 1, step)
    if not len(ys) or not len(xs):
        raise ValueError(f"frames of {h}x{w} px are smaller than block_px={block_px}")
    rows = ys[:, None, None, None] + np.arange(block_px)[None, None, :, None]  # [By, 1, b, 1]
    cols = xs[None, :, None, None] + np.arange(block_px)[None, None, None, :]  # [1, Bx, 1, b]
    return _shift(a[rows, cols], b[rows, cols])


def mean_flow_px(frames: np.ndarray, block_px: int = 16) -> float:
    """Mean block-flow magnitude between consecutive frames ``[T, H, W, 3]``, px per frame."""
    frames = np.asarray(frames, np.float32)
    if len(frames) < 2:
        raise ValueError("frames has fewer than 2 frames; flow needs consecutive pairs")
    mags = [np.hypot(*block_flow_px(p, c, block_px).reshape(-1, 2).T).mean() for p, c in zip(frames[:-1], frames[1:])]
    return float(np.mean(mags))
