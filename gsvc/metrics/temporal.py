"""Temporal consistency of what the viewer saw: the warping error (flicker) between shown frames.

``flicker`` is the warping error of Lai et al., "Learning Blind Video Temporal
Consistency" (ECCV 2018), eq. 8, per frame: the optical flow from each original frame back
to the previous original (DIS, Kroeger et al. ECCV 2016, as OpenCV implements it; no learned
weights) moves the previously *shown* frame onto the current one, and the mean squared
difference (RGB in [0, 1]) to the currently shown frame is taken over the pixels that
flow sees in both frames (forward-backward consistent, the occlusion test of Sundaram et
al. ECCV 2010 that Lai et al. use). A video that reproduces the originals' motion with no
flicker scores about what the originals themselves score, which is near zero; frames
frozen on screen while the scene moves score high.

``tlp`` is the temporal LPIPS of Chu et al., "Learning Temporal Coherence via
Self-Supervision for GAN-based Video Generation" (TecoGAN, ACM TOG 2020): how far the
perceptual change between consecutive shown frames is from the change between the
originals, ``|LPIPS(shown_t-1, shown_t) - LPIPS(orig_t-1, orig_t)|``; 0 when the shown video
changes exactly as much as the original.

``flicker`` needs OpenCV (``pip install -e ".[perceptual]"``), ``tlp`` the LPIPS weights
(:mod:`gsvc.metrics.lpips`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["flicker", "tlp"]


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError("metrics=['flicker'] needs OpenCV for optical flow; install it with "
                          "pip install -e \".[perceptual]\" (opencv-python-headless)") from None
    return cv2


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray((rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
                                .clip(0, 255).astype(np.uint8))


def flicker(prev_ref: np.ndarray, ref: np.ndarray, prev_test: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Warping error per frame pair, ``[T]`` float64; all inputs ``[T, H, W, 3]`` uint8.

    ``prev_*`` are the frames of the slot before each of ``ref``/``test``.
    """
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    h, w = ref.shape[1:3]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = np.empty(len(ref))
    for k in range(len(ref)):
        g0, g1 = _grey(prev_ref[k]), _grey(ref[k])
        back = dis.calc(g1, g0, None)  # [H, W, 2]: pixel p of frame t came from p + back(p) in t-1
        fwd = dis.calc(g0, g1, None)
        map_x, map_y = grid_x + back[..., 0], grid_y + back[..., 1]
        fwd_at = cv2.remap(fwd, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        err = np.sum((back + fwd_at) ** 2, axis=-1)
        bound = 0.01 * (np.sum(back ** 2, axis=-1) + np.sum(fwd_at ** 2, axis=-1)) + 0.5
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        mask = (err < bound) & inside
        moved = cv2.remap(prev_test[k].astype(np.float32) / 255.0, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        diff = np.sum((moved - test[k].astype(np.float32) / 255.0) ** 2, axis=-1) / 3.0
        out[k] = float(diff[mask].mean()) if mask.any() else float("nan")
    return out


def tlp(prev_ref: np.ndarray, ref: np.ndarray, prev_test: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Temporal LPIPS per frame pair, ``[T]`` float64; all inputs ``[T, H, W, 3]`` uint8."""
    from .lpips import lpips
    return np.abs(lpips(prev_test, test) - lpips(prev_ref, ref))
