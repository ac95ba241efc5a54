"""Camera paths over a still world image and the sampling that renders them.

A camera is a square view of side ``view_px`` (world pixels) centred at
``center_xy`` (world pixels, x right, y down) that is shown on a screen of
``screen_px`` x ``screen_px`` pixels. Screen pixel centre ``j + 0.5`` shows the
world point ``center + (j + 0.5 - screen_px / 2) * view_px / screen_px``.

Every path is built from an "unfolded" trajectory that is folded back into the
allowed range (like a ball bouncing off walls), so that the step each frame is
exactly the one asked for except on the frames where the path turns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CameraPath", "camera_path", "mean_radius_px", "sample_bilinear", "sample_nearest",
           "warp_previous", "fold"]

#: half-width of the random pan direction around horizontal when no angle is given, deg
PAN_SPREAD_DEG = 20.0
#: zoom range relative to the base view: view side from ZOOM_MIN_VIEW * base up to the largest that fits
ZOOM_MIN_VIEW = 0.5


@dataclass(frozen=True, eq=False)
class CameraPath:
    """Camera state per frame.

    Attributes:
        center_xy: ``[T, 2]`` float64, centre of the view in world pixels.
        view_px: ``[T]`` float64, side of the square view in world pixels.
        kind: the camera kind that produced it (``"pan"``, ``"zoom"`` ...).
    """

    center_xy: np.ndarray
    view_px: np.ndarray
    kind: str

    def __len__(self) -> int:
        return len(self.view_px)

    def motion(self, screen_px: int) -> tuple[np.ndarray, np.ndarray]:
        """True motion per frame in the convention of :class:`gsvc.video.Frame`.

        Returns:
            motion_px: ``[T, 2]`` float32, camera translation since the previous frame in
                pixels of the previous frame (``(0, 0)`` on frame 0).
            zoom: ``[T]`` float32, magnification since the previous frame (1 on frame 0).
        """
        c, v = self.center_xy, self.view_px
        motion = np.zeros((len(v), 2), np.float64)
        zoom = np.ones(len(v), np.float64)
        if len(v) > 1:
            motion[1:] = (c[1:] - c[:-1]) * (screen_px / v[:-1])[:, None]
            zoom[1:] = v[:-1] / v[1:]
        return motion.astype(np.float32), zoom.astype(np.float32)


def fold(x: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """Fold an unbounded trajectory into ``[lo, hi]`` by reflection at the ends (same shape as ``x``)."""
    length = np.maximum(np.asarray(hi, np.float64) - lo, 0.0)
    safe = np.where(length > 0, length, 1.0)
    y = np.mod(x - lo, 2.0 * safe)
    return np.where(length > 0, lo + safe - np.abs(y - safe), lo)


def mean_radius_px(screen_px: int) -> float:
    """Mean distance of the pixel centres of a square screen from its centre, px."""
    r = np.arange(screen_px) + 0.5 - screen_px / 2.0
    return float(np.hypot(r[:, None], r[None, :]).mean())


def camera_path(kind: str, motion_px: float, num_frames: int, world_hw: tuple[int, int], base_view_px: float,
                screen_px: int, rng: np.random.Generator, pan_angle_deg: float | None = None) -> CameraPath:
    """Draw a camera path over a world image.

    Args:
        kind: ``"static" | "pan" | "zoom" | "shake"``.
        motion_px: step per frame in screen pixels (for zoom: mean displacement over the frame).
        num_frames: frames in the path.
        world_hw: ``(height, width)`` of the world image in pixels; the view never leaves it.
        base_view_px: side of the view in world pixels at zoom 1 (must fit in the world).
        screen_px: side of the rendered frame in pixels.
        rng: the scene's generator (start point, direction, shake steps).
        pan_angle_deg: pan direction; None draws one within ``PAN_SPREAD_DEG`` of horizontal.
    """
    world_h, world_w = world_hw
    n = int(num_frames)
    t = np.arange(n, dtype=np.float64)
    if kind == "zoom":
        v_max = float(min(world_h, world_w))
        v_min = min(ZOOM_MIN_VIEW * base_view_px, v_max)
        lo, hi = np.log(v_min), np.log(v_max)
        step = np.log1p(motion_px / mean_radius_px(screen_px))
        sign = rng.choice([-1.0, 1.0])
        log_v = fold(rng.uniform(lo, hi) + sign * step * t, lo, hi)
        view = np.exp(log_v)
        center = np.array([rng.uniform(v_max / 2, world_w - v_max / 2), world_h / 2.0])
        return CameraPath(np.broadcast_to(center, (n, 2)).copy(), view, kind)

    view = np.full(n, float(base_view_px))
    lo = np.array([base_view_px / 2, base_view_px / 2])
    hi = np.array([world_w - base_view_px / 2, world_h - base_view_px / 2])
    start = rng.uniform(lo, hi)
    step_world = motion_px * base_view_px / screen_px
    if kind == "static" or step_world == 0.0:
        return CameraPath(np.broadcast_to(start, (n, 2)).copy(), view, kind)
    if kind == "pan":
        if pan_angle_deg is None:
            angle = rng.choice([0.0, np.pi]) + np.deg2rad(rng.uniform(-PAN_SPREAD_DEG, PAN_SPREAD_DEG))
        else:
            angle = np.deg2rad(pan_angle_deg)
        velocity = step_world * np.array([np.cos(angle), np.sin(angle)])
        unfolded = start + t[:, None] * velocity
        return CameraPath(fold(unfolded, lo, hi), view, kind)
    if kind == "shake":
        # a random walk of fixed step length, kept near its start by folding into a small box
        radius = np.minimum(max(3.0 * step_world, 0.05 * base_view_px), (hi - lo) / 2)
        mid = (lo + hi) / 2
        angles = rng.uniform(0.0, 2 * np.pi, n)
        steps = step_world * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        steps[0] = 0.0
        unfolded = mid + rng.uniform(-radius, radius) + np.cumsum(steps, axis=0)
        return CameraPath(fold(unfolded, mid - radius, mid + radius), view, kind)
    raise ValueError(f"camera kind {kind!r} is not one of static, pan, zoom, shake")


def _coords(path: CameraPath, screen_px: int) -> tuple[np.ndarray, np.ndarray]:
    """World pixel-index coordinates of the screen pixel centres: ``ux [T, W]``, ``uy [T, H]`` float32."""
    offs = np.arange(screen_px) + 0.5 - screen_px / 2.0
    scale = (path.view_px / screen_px)[:, None]
    ux = path.center_xy[:, 0:1] + offs[None, :] * scale - 0.5
    uy = path.center_xy[:, 1:2] + offs[None, :] * scale - 0.5
    return ux, uy


def sample_bilinear(image: np.ndarray, path: CameraPath, screen_px: int) -> np.ndarray:
    """Render the frames of ``path`` from ``image`` with bilinear interpolation.

    Args:
        image: ``[Hw, Ww, C]`` float32 world image.
        path: camera path of T frames.
        screen_px: side of the output frames.

    Returns:
        ``[T, screen_px, screen_px, C]`` float32.
    """
    hw, ww, ch = image.shape
    ux, uy = _coords(path, screen_px)
    x0 = np.floor(ux)
    y0 = np.floor(uy)
    fx = (ux - x0).astype(np.float32)[:, None, :, None]  # [T, 1, W, 1]
    fy = (uy - y0).astype(np.float32)[:, :, None, None]  # [T, H, 1, 1]
    x0i = np.clip(x0, 0, ww - 1).astype(np.intp)
    x1i = np.clip(x0 + 1, 0, ww - 1).astype(np.intp)
    y0i = np.clip(y0, 0, hw - 1).astype(np.intp) * ww
    y1i = np.clip(y0 + 1, 0, hw - 1).astype(np.intp) * ww
    flat = image.reshape(hw * ww, ch)
    # speed: one flat np.take per corner is ~3x faster than 2-D fancy indexing
    def corner(yi, xi):
        return np.take(flat, yi[:, :, None] + xi[:, None, :], axis=0)
    top = corner(y0i, x0i)
    top += fx * (corner(y0i, x1i) - top)
    bottom = corner(y1i, x0i)
    bottom += fx * (corner(y1i, x1i) - bottom)
    top += fy * (bottom - top)
    return top


def sample_nearest(image: np.ndarray, path: CameraPath, screen_px: int) -> np.ndarray:
    """Render ``[Hw, Ww]`` (e.g. labels) along ``path`` with nearest-pixel sampling -> ``[T, S, S]``, same dtype."""
    hw, ww = image.shape[:2]
    ux, uy = _coords(path, screen_px)
    xi = np.clip(np.floor(ux + 0.5), 0, ww - 1).astype(np.intp)
    yi = np.clip(np.floor(uy + 0.5), 0, hw - 1).astype(np.intp) * ww
    return np.take(image.reshape(-1), yi[:, :, None] + xi[:, None, :])


def warp_previous(prev: np.ndarray, motion_px: tuple[float, float], zoom: float = 1.0) -> np.ndarray:
    """Predict a frame from the previous one and the true camera motion between them.

    Pixel ``p`` of the prediction samples ``prev`` bilinearly at ``c + (p - c) / zoom + motion_px``
    (``c``: frame centre); points outside ``prev`` take its nearest edge pixel. Moving
    objects and newly revealed areas are of course not predicted.

    Args:
        prev: ``[H, W, C]`` float32 previous frame.
        motion_px: ``(dx, dy)`` from :attr:`gsvc.video.Frame.motion_px`.
        zoom: from :attr:`gsvc.video.Frame.zoom`.

    Returns:
        ``[H, W, C]`` float32.
    """
    h, w = prev.shape[:2]
    if h != w:
        raise ValueError(f"prev has shape {prev.shape}; expected a square frame [H, H, C]")
    # express the warp as a camera path over ``prev``: one frame, view side w / zoom
    centre = np.array([[w / 2.0 + motion_px[0], h / 2.0 + motion_px[1]]])
    path = CameraPath(centre, np.array([w / zoom]), "warp")
    return sample_bilinear(np.asarray(prev, np.float32), path, w)[0]
