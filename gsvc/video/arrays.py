"""Frames held in memory: validation of frame arrays and the array source.

Example::

    >>> import numpy as np
    >>> from gsvc.video import from_array
    >>> src = from_array(np.zeros((4, 32, 32, 3), np.float32), fps=10, cut_frames=[2])
    >>> [f.scene_cut for f in src]
    [False, False, True, False]
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .classes import NUM_CLASSES
from .source import Clip, VideoSource

__all__ = ["ArraySource", "from_array", "check_rgb", "check_labels", "MIN_SIDE_PX", "MAX_SIDE_PX"]

#: allowed frame side, px (the range of ``VideoSpec.resolution``)
MIN_SIDE_PX, MAX_SIDE_PX = 32, 256


def check_rgb(rgb, name: str = "rgb", ndim: int = 4) -> np.ndarray:
    """Validate colour frames and return them as float32 in [0, 1] (a new array).

    Args:
        rgb: ``[T, H, W, 3]`` (``ndim=4``) or one image ``[H, W, 3]`` (``ndim=3``);
            float in [0, 1] or uint8 in [0, 255].
        name: how the error messages call the input.

    Raises:
        ValueError naming ``name``: wrong shape, no frames, wrong dtype, NaN/inf, out of range.
    """
    a = np.asarray(rgb)
    want = "[T, H, W, 3]" if ndim == 4 else "[H, W, 3]"
    if a.ndim != ndim or a.shape[-1] != 3:
        raise ValueError(f"{name} has shape {a.shape}; expected {want} RGB")
    if a.size == 0:
        what = "frames" if ndim == 4 and a.shape[0] == 0 else "pixels"
        raise ValueError(f"{name} has shape {a.shape}: 0 {what}; give at least one frame of at least one pixel")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255.0)
    if a.dtype.kind != "f":
        raise ValueError(f"{name} has dtype {a.dtype}; expected float32 in [0, 1] or uint8")
    out = a.astype(np.float32)  # always a copy
    finite = np.isfinite(out)
    if not finite.all():
        where = np.argwhere(~finite)[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at index {tuple(int(i) for i in where)})")
    lo, hi = float(out.min()), float(out.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{name} has values in [{lo:g}, {hi:g}]; expected floats in [0, 1]")
    return out


def check_square(shape: tuple[int, ...], name: str) -> int:
    """Side of square frames ``[..., S, S, 3]`` with S within the resolution range; ValueError otherwise."""
    h, w = shape[-3], shape[-2]
    if h != w:
        raise ValueError(f"{name} frames are {h}x{w} (H x W); expected square frames")
    if not MIN_SIDE_PX <= h <= MAX_SIDE_PX:
        raise ValueError(f"{name} frames are {h}x{w}; resolution must be in [{MIN_SIDE_PX}, {MAX_SIDE_PX}] px")
    return int(h)


def check_labels(labels, shape: tuple[int, ...], name: str = "labels") -> np.ndarray:
    """Validate a label map of ``shape`` (``[T, H, W]``) and return it as uint8 (a new array)."""
    a = np.asarray(labels)
    if a.shape != tuple(shape):
        raise ValueError(f"{name} has shape {a.shape}; expected {tuple(shape)} to match the frames")
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} has dtype {a.dtype}; expected integer class ids (uint8)")
    if a.size and (a.min() < 0 or a.max() >= NUM_CLASSES):
        raise ValueError(f"{name} has ids in [{a.min()}, {a.max()}]; class ids must be in [0, {NUM_CLASSES - 1}]")
    return a.astype(np.uint8)


def check_fps(fps, name: str = "fps") -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(fps) or not 1.0 <= fps <= 240.0:
        raise ValueError(f"{name}={fps!r} is not a frame rate in [1, 240] frames/s")
    return float(fps)


class ArraySource(VideoSource):
    """Frames from arrays held in memory (built by :func:`from_array`; arrays are already validated)."""

    def __init__(self, rgb: np.ndarray, fps: float, labels: np.ndarray | None, cuts: np.ndarray,
                 motion_px: np.ndarray | None = None, zoom: np.ndarray | None = None):
        self.rgb, self.labels = rgb, labels
        for a in (rgb, labels):
            if a is not None:
                a.setflags(write=False)
        self.fps = fps
        self.num_frames = int(rgb.shape[0])
        self.resolution = int(rgb.shape[1])
        self.cuts = np.asarray(cuts, np.int64)
        self.scene_cut = np.zeros(self.num_frames, bool)
        self.scene_cut[self.cuts] = True
        self.scene_id = np.cumsum(self.scene_cut)
        self.motion_px, self.zoom = motion_px, zoom

    def num_scenes(self) -> int:
        return len(self.cuts) + 1

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        start, stop = self._span(start, stop)
        sl = slice(start, stop)

        def part(a):
            return None if a is None else a[sl]

        return Clip(self.rgb[sl], part(self.labels), self.scene_id[sl], self.scene_cut[sl],
                    part(self.motion_px), part(self.zoom), self.fps, start)


def from_array(rgb, fps: float, labels=None, cut_frames: Sequence[int] = (), motion_px=None) -> ArraySource:
    """A source that plays frames held in memory.

    Args:
        rgb: ``[T, S, S, 3]`` float in [0, 1] or uint8, with S in [32, 256].
        fps: frame rate, frames/s.
        labels: optional ``[T, S, S]`` integer class ids (see :data:`gsvc.video.CLASSES`).
        cut_frames: indices of frames that start a new scene (each in ``[1, T)``).
        motion_px: optional ``[T, 2]`` true camera motion per frame (see :class:`~gsvc.video.Frame`).

    The arrays are copied; the frames yielded are read-only views of the copies.
    """
    frames = check_rgb(rgb, "rgb")
    check_square(frames.shape, "rgb")
    fps = check_fps(fps)
    labs = None if labels is None else check_labels(labels, frames.shape[:3], "labels")
    cuts = np.asarray(list(cut_frames), dtype=np.int64) if len(cut_frames) else np.zeros(0, np.int64)
    t = frames.shape[0]
    if ((cuts < 1) | (cuts >= t)).any() or len(np.unique(cuts)) != len(cuts):
        raise ValueError(f"cut_frames={list(cut_frames)} must be distinct frame indices in [1, {t - 1}] "
                         f"(frame 0 starts the first scene)")
    motion = None
    if motion_px is not None:
        motion = np.asarray(motion_px, np.float32)
        if motion.shape != (t, 2) or not np.isfinite(motion).all():
            raise ValueError(f"motion_px has shape {motion.shape}; expected finite [T={t}, 2] (dx, dy) px")
    return ArraySource(frames, fps, labs, np.sort(cuts), motion)
