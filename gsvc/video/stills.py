"""Synthetic still images with natural-image statistics, made by code (no image files).

They are what gsvc trains its denoiser on besides the procedural street scenes, so that it
learns what photographs look like without ever seeing one (the images shipped with
scikit-image, scikit-learn, imageio, OpenCV ... are kept for independent evaluation).

* :func:`dead_leaves`: the dead-leaves model (Matheron 1968; Lee, Mumford & Huang, "Occlusion
  models for natural images", IJCV 2001): opaque shapes (discs, ellipses, rectangles,
  triangles) of power-law sizes (``p(r) ~ r^-2.6``, close to the scale-invariant r^-3 of natural images)
  fall on top of each other. Fills are colours from a natural-looking distribution with a
  linear shading gradient and, on many shapes, a fractal or periodic texture; the image is
  then blurred by a random amount (focus), colour-cast and noised like a sensor.
* :func:`fractal_texture`: ``1/f^beta`` Gaussian noise (beta 2.6-3.2: smoother than the
  1.6-2.6 measured on whole natural images, as a single surface is) pushed through a random colour ramp: clouds, rock, foliage-like fields.

Every image is a deterministic function of the generator it is given. Shapes scale with
the image height, so the same statistics appear at every resolution.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["dead_leaves", "fractal_texture", "synthetic_image"]

#: exponent of the size law p(r) ~ r^-alpha (3 is exactly scale invariant; a little less favours
#: the large smooth regions photographs have)
_ALPHA = 2.6


def _power_noise(rng: np.random.Generator, h: int, w: int, beta: float) -> np.ndarray:
    """``[h, w]`` float32 noise with power spectrum ``1/f^beta``, zero mean, unit std."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    f[0, 0] = 1.0
    spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** (beta / 2)
    spec[0, 0] = 0
    x = np.fft.irfft2(spec, s=(h, w))
    return ((x - x.mean()) / (x.std() + 1e-8)).astype(np.float32)


def _natural_colour(rng: np.random.Generator) -> np.ndarray:
    """An RGB colour in [0, 1]: mostly muted (earth, skin, foliage, sky, greys), sometimes vivid."""
    hue = rng.random()
    sat = rng.beta(1.3, 2.5) if rng.random() < 0.85 else rng.uniform(0.6, 1.0)
    val = rng.beta(2.2, 1.8)
    k = (np.array([5.0, 3.0, 1.0]) + hue * 6) % 6
    rgb = val * (1 - sat * np.clip(np.minimum(k, 4 - k), 0, 1))
    return rgb.astype(np.float32)


def fractal_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """``[h, w, 3]`` float32 in [0, 1]: fractal noise through a random colour ramp."""
    x = _power_noise(rng, h, w, rng.uniform(2.6, 3.2))
    stops = np.stack([_natural_colour(rng) for _ in range(4)])  # [4, 3]
    t = np.clip((np.tanh(x * rng.uniform(0.5, 1.5)) + 1) / 2, 0, 1) * 3
    i = np.minimum(t.astype(int), 2)
    frac = (t - i)[..., None]
    img = stops[i] * (1 - frac) + stops[i + 1] * frac
    detail = _power_noise(rng, h, w, rng.uniform(0.8, 1.5))[..., None] * rng.uniform(0.0, 0.06)
    return np.clip(img + detail, 0, 1).astype(np.float32)


def _shape_mask(kind: int, xx: np.ndarray, yy: np.ndarray, r: float, aspect: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    u = (xx * c + yy * s) / r
    v = (-xx * s + yy * c) / (r * aspect)
    if kind == 0:  # disc / ellipse
        return u * u + v * v <= 1
    if kind == 1:  # rectangle
        return (np.abs(u) <= 1) & (np.abs(v) <= 1)
    return (v >= -0.5) & (v <= 1 - np.abs(u) * 1.5)  # triangle


def dead_leaves(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """``[h, w, 3]`` float32 in [0, 1]: a dead-leaves image (see the module docstring)."""
    texture = _power_noise(rng, h, w, rng.uniform(1.6, 2.6))
    img = np.empty((h, w, 3), np.float32)
    img[:] = _natural_colour(rng)
    free = np.ones((h, w), bool)  # pixels no shape covers yet
    r_min, r_max = max(1.0, h / 50), h * rng.uniform(0.3, 0.7)
    yy0, xx0 = np.mgrid[0:h, 0:w].astype(np.float32)
    # drawn front to back: a shape fills only what the shapes in front of it left free, which
    # gives the same image as dropping them back to front, and can stop once all is covered
    for _ in range(4000):
        u = rng.random()
        r = (r_min ** (1 - _ALPHA) - u * (r_min ** (1 - _ALPHA) - r_max ** (1 - _ALPHA))) ** (1 / (1 - _ALPHA))
        cx, cy = rng.uniform(-r, w + r), rng.uniform(-r, h + r)
        aspect = float(np.exp(rng.normal(0, 0.5)))
        ext = r * max(1.0, aspect) * 1.5
        x0, x1 = int(max(0, cx - ext)), int(min(w, cx + ext + 1))
        y0, y1 = int(max(0, cy - ext)), int(min(h, cy + ext + 1))
        kind, fill_kind = int(rng.choice(3, p=[0.5, 0.3, 0.2])), rng.random()
        colour, g, angle = _natural_colour(rng), rng.normal(0, 0.15, 2) / max(r, 1.0), rng.uniform(0, np.pi)
        if x1 <= x0 or y1 <= y0:
            continue
        xx, yy = xx0[y0:y1, x0:x1] - cx, yy0[y0:y1, x0:x1] - cy
        mask = _shape_mask(kind, xx, yy, r, aspect, angle) & free[y0:y1, x0:x1]
        if not mask.any():
            continue
        fill = colour[None, None, :] * (1 + (g[0] * xx + g[1] * yy)[..., None])
        if fill_kind < 0.45:  # fractal texture, a random patch of the shared field
            amp = rng.uniform(0.03, 0.2)
            fill = fill + amp * np.roll(texture, (int(rng.integers(h)), int(rng.integers(w))), (0, 1))[y0:y1, x0:x1, None]
        elif fill_kind < 0.6:  # periodic grating (fabric, bricks, blinds)
            period = rng.uniform(2.0, max(3.0, r / 2))
            a = rng.uniform(0, np.pi)
            wave = np.sin((xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi / period)
            fill = fill * (1 + rng.uniform(0.05, 0.3) * wave[..., None])
        img[y0:y1, x0:x1][mask] = np.clip(fill, 0, 1)[mask]
        free[y0:y1, x0:x1] &= ~mask
        if not free.any():
            break
    sigma = rng.uniform(0, 1.2) * h / 200
    if sigma > 0.2:
        img = gaussian_filter(img, (sigma, sigma, 0))
    img = img * rng.uniform(0.85, 1.15, 3)[None, None, :] ** 0.5
    img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.25)
    img = img + rng.normal(0, rng.uniform(0, 0.015), img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def synthetic_image(kind: str, seed: int, h: int, w: int) -> np.ndarray:
    """``kind`` ``"dead_leaves"`` or ``"fractal"``, drawn from ``seed``: ``[h, w, 3]`` float32 in [0, 1]."""
    rng = np.random.default_rng([seed, 0x5EED])
    if kind == "dead_leaves":
        return dead_leaves(rng, h, w)
    if kind == "fractal":
        return fractal_texture(rng, h, w)
    raise ValueError(f"kind={kind!r} is not 'dead_leaves' or 'fractal'")
