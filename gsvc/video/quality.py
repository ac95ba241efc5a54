"""Frame quality scores: PSNR and SSIM of what the viewer saw against the original.

Both take ``[..., H, W, 3]`` arrays (uint8 in [0, 255] or float in [0, 1]) and
return one score per image. SSIM follows Wang et al. 2004 (IEEE TIP 13(4)):
Gaussian window sigma = 1.5 px (11 taps), K1 = 0.01, K2 = 0.03, averaged over the
three colour channels.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["psnr_db", "ssim", "to_uint8"]


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] -> uint8 (rounded, clipped); uint8 passes through."""
    if rgb.dtype == np.uint8:
        return rgb
    return np.clip(np.rint(np.asarray(rgb, np.float32) * 255.0), 0, 255).astype(np.uint8)


def _as_unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def psnr_db(ref: np.ndarray, test: np.ndarray, cap_db: float = 100.0) -> np.ndarray:
    """PSNR per image, dB; identical images give ``cap_db``."""
    a, b = _as_unit(ref), _as_unit(test)
    mse = np.mean((a - b) ** 2, axis=(-3, -2, -1))
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(1.0 / mse)
    return np.minimum(out, cap_db)


def ssim(ref: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Mean SSIM per image, in [-1, 1]."""
    a, b = _as_unit(ref), _as_unit(test)
    sig = [0.0] * (a.ndim - 3) + [1.5, 1.5, 0.0]
    f = lambda x: gaussian_filter(x, sigma=sig, truncate=3.5, mode="reflect")  # noqa: E731
    mu_a, mu_b = f(a), f(b)
    va = f(a * a) - mu_a**2
    vb = f(b * b) - mu_b**2
    cov = f(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return s.mean(axis=(-3, -2, -1))
