"""Vehicles and pedestrians that move through a scene on their own.

Each mover is a few axis-aligned rectangles ("parts": body, cabin, windows and
wheels of a vehicle; legs, torso and head of a pedestrian) placed relative to the
mover's left edge and ground line in world pixels. Vehicles keep their lane and
its speed (so they never run into each other); pedestrians walk at their own
pace with swinging legs. A mover leaves one end of the world and comes back at
the other, outside the part of the world that the camera can see.

Parts are composited in screen space with their exact area coverage per pixel
(a box filter), so a sub-pixel move changes the frame continuously; a pixel
takes a mover's label when the mover (all its parts together) covers at least
half of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import CameraPath
from .classes import CLASS_RGB, class_id
from .world import Layout, Lighting

__all__ = ["Movers", "draw_movers", "place_movers"]

VEHICLE, PEDESTRIAN = class_id("vehicle"), class_id("pedestrian")

# parts as (x0, x1, y0, y1) in units of the mover's length and height; y up from the ground is negative
_VEHICLE_PARTS = np.array([
    [0.00, 1.00, -0.62, -0.15],  # body
    [0.22, 0.78, -1.00, -0.58],  # cabin
    [0.28, 0.48, -0.92, -0.64],  # rear window
    [0.52, 0.72, -0.92, -0.64],  # front window
    [0.12, 0.30, -0.30, 0.00],  # rear wheel
    [0.70, 0.88, -0.30, 0.00],  # front wheel
])
_PEDESTRIAN_PARTS = np.array([
    [0.22, 0.48, -0.46, 0.00],  # leg
    [0.52, 0.78, -0.46, 0.00],  # leg
    [0.10, 0.90, -0.84, -0.42],  # torso
    [0.30, 0.70, -1.00, -0.82],  # head
])
_LEG_SWING = np.array([1.0, -1.0, 0.0, 0.0])  # x swing of each pedestrian part, in units of its width x 0.15
_GLASS = np.array([0.12, 0.15, 0.20], np.float32)
_TYRE = np.array([0.05, 0.05, 0.06], np.float32)
_SKIN = np.array([0.85, 0.66, 0.52], np.float32)


@dataclass(frozen=True, eq=False)
class Movers:
    """All movers of a scene, in drawing order (far to near).

    Attributes:
        x0_px: ``[N]`` left edge at scene frame 0, world px.
        speed_px: ``[N]`` signed speed, world px per frame.
        ground_px: ``[N]`` ground line (bottom of the wheels or feet), world px.
        length_px, height_px: ``[N]`` size, world px.
        kind: ``[N]`` class id (vehicle or pedestrian).
        colours: ``[N, P, 3]`` float32 colour of each part (lit).
        gait_rad: ``[N]`` leg phase advance per frame (0 for vehicles).
        period_px: a mover's x repeats with this period (world width plus room to hide).
    """

    x0_px: np.ndarray
    speed_px: np.ndarray
    ground_px: np.ndarray
    length_px: np.ndarray
    height_px: np.ndarray
    kind: np.ndarray
    colours: np.ndarray
    gait_rad: np.ndarray
    period_px: float

    def __len__(self) -> int:
        return len(self.x0_px)

    def left_px(self, t: np.ndarray) -> np.ndarray:
        """Left edges ``[N, T]`` at scene frames ``t [T]``; hidden (x < -length) while wrapping round."""
        u = self.x0_px[:, None] + self.speed_px[:, None] * t[None, :] + self.length_px[:, None]
        return np.mod(u, self.period_px) - self.length_px[:, None]


def place_movers(world_width_px: int, side_px: int, vehicles_per_view: float, pedestrians_per_view: float,
                 speed_px: float, rng: np.random.Generator, lighting: Lighting) -> Movers:
    """Draw the movers of one scene (counts scale with the world width; ``*_per_view`` per screen width)."""
    lay = Layout.for_side(side_px)
    s = float(side_px)
    period = world_width_px + 0.6 * s
    rows = []  # (x0, speed, ground, length, height, kind, colours, gait)
    for ground, scale, n_mean in ((lay.far_lane_px, 0.85, vehicles_per_view / 2),
                                  (lay.near_lane_px, 1.0, vehicles_per_view / 2)):
        if n_mean <= 0:
            continue
        lane_speed = rng.choice([-1.0, 1.0]) * speed_px * rng.uniform(0.6, 1.4) * scale
        spacing = s / n_mean  # mean distance between vehicle fronts
        x = rng.uniform(-0.4 * s, 0)
        while True:
            length = rng.uniform(0.26, 0.38) * s * scale
            if x + length > period - 0.4 * s:
                break
            body = CLASS_RGB[VEHICLE] * rng.uniform(0.75, 1.25, 3)
            colours = np.stack([body, body, _GLASS, _GLASS, _TYRE, _TYRE])
            rows.append((x, lane_speed, ground, length, 0.38 * length, VEHICLE, colours, 0.0))
            x += length + max(0.05 * s, rng.exponential(max(spacing - 0.32 * s, 1e-3)))
    for lo, hi, scale in ((lay.facade_bottom_px + 0.02 * s, lay.road_top_px, 0.85),
                          (lay.road_bottom_px + 0.05 * s, lay.height_px - 0.01 * s, 1.0)):
        n = rng.poisson(pedestrians_per_view / 2 * period / s)
        for _ in range(n):
            height = rng.uniform(0.13, 0.17) * s * scale
            v = rng.choice([-1.0, 1.0]) * speed_px / 3 * rng.uniform(0.6, 1.4) * scale
            clothes = CLASS_RGB[PEDESTRIAN] * rng.uniform(0.8, 1.2, 3)
            colours = np.stack([clothes * 0.5, clothes * 0.5, clothes, _SKIN])
            gait = min(2 * np.pi * abs(v) / (0.6 * height), 1.2)
            rows.append((rng.uniform(0, period), v, rng.uniform(lo, hi), 0.4 * height, height, PEDESTRIAN,
                         colours, gait))
    rows.sort(key=lambda r: r[2])  # far (small ground y) first
    n_parts = max(len(_VEHICLE_PARTS), len(_PEDESTRIAN_PARTS))
    cols = np.zeros((len(rows), n_parts, 3), np.float32)
    for i, r in enumerate(rows):
        cols[i, : len(r[6])] = np.clip(r[6] * lighting.rgb_gain, 0.0, 1.0)
    arr = [np.array([r[k] for r in rows], np.float64) for k in (0, 1, 2, 3, 4)]
    return Movers(*arr, np.array([r[5] for r in rows], np.uint8), cols,
                  np.array([r[7] for r in rows], np.float64), float(period))


def _coverage(lo: np.ndarray, hi: np.ndarray, first: np.ndarray | int, count: int) -> np.ndarray:
    """Overlap of pixels ``first + [0, count)`` with intervals ``[lo, hi]``.

    ``lo``, ``hi``: ``[T]``; ``first``: ``[T]`` or a scalar -> ``[T, count]`` float32.
    """
    p = (np.asarray(first, np.float32).reshape(-1, 1) + np.arange(count, dtype=np.float32)[None, :])
    lo = lo.astype(np.float32)[:, None]
    hi = hi.astype(np.float32)[:, None]
    return np.clip(np.minimum(p + 1, hi) - np.maximum(p, lo), 0.0, 1.0)


def draw_movers(rgb: np.ndarray, labels: np.ndarray | None, movers: Movers, path: CameraPath,
                t_scene: np.ndarray, screen_px: int) -> None:
    """Composite the movers into rendered frames, in place.

    Args:
        rgb: ``[T, S, S, 3]`` float32 frames rendered along ``path``.
        labels: ``[T, S, S]`` uint8 or None.
        movers: the scene's movers.
        path: the camera path of these T frames.
        t_scene: ``[T]`` frame numbers within the scene (sets the movers' positions).
        screen_px: S.
    """
    if len(movers) == 0:
        return
    scale = screen_px / path.view_px  # [T] screen px per world px
    cx, cy = path.center_xy[:, 0], path.center_xy[:, 1]
    half = screen_px / 2.0
    lefts = movers.left_px(t_scene.astype(np.float64))  # [N, T]
    for i in range(len(movers)):
        parts = _VEHICLE_PARTS if movers.kind[i] == VEHICLE else _PEDESTRIAN_PARTS
        length, height = movers.length_px[i], movers.height_px[i]
        swing = 0.15 * length * _LEG_SWING[: len(parts)] if movers.kind[i] == PEDESTRIAN else np.zeros(len(parts))
        # screen box of the whole mover per frame, to skip frames and pixels it does not touch
        x_lo = (lefts[i] - 0.2 * length - cx) * scale + half
        x_hi = (lefts[i] + 1.2 * length - cx) * scale + half
        y_lo = (movers.ground_px[i] - height - cy) * scale + half
        y_hi = (movers.ground_px[i] - cy) * scale + half
        vis = np.flatnonzero((x_hi > 0) & (x_lo < screen_px) & (y_hi > 0) & (y_lo < screen_px))
        if vis.size == 0:
            continue
        # speed: work on a window per frame that follows the mover (the band of rows it
        # crosses, and as many columns as it is wide), not on whole frames
        r0 = int(max(0, np.floor(y_lo[vis].min())))
        r1 = int(min(screen_px, np.ceil(y_hi[vis].max())))
        width = min(screen_px, int(np.ceil((x_hi[vis] - x_lo[vis]).max())) + 2)
        c0 = np.clip(np.floor(x_lo[vis]), 0, screen_px - width).astype(np.intp)  # [Tv] first column
        index = (vis[:, None, None], np.arange(r0, r1)[None, :, None], c0[:, None, None] + np.arange(width))
        sub = rgb[index]  # [Tv, R, Wb, 3]
        sc, left = scale[vis], lefts[i, vis]
        phase = np.sin(movers.gait_rad[i] * t_scene[vis])
        cover = np.zeros(sub.shape[:3], np.float32)  # fraction of each pixel the mover covers
        for p, (px0, px1, py0, py1) in enumerate(parts):
            dx = swing[p] * phase
            ax = _coverage((left + px0 * length + dx - cx[vis]) * sc + half,
                           (left + px1 * length + dx - cx[vis]) * sc + half, c0, width)
            ay = _coverage((movers.ground_px[i] + py0 * height - cy[vis]) * sc + half,
                           (movers.ground_px[i] + py1 * height - cy[vis]) * sc + half, r0, r1 - r0)
            alpha = ay[:, :, None] * ax[:, None, :]  # [Tv, R, Wb]
            sub += alpha[..., None] * (movers.colours[i, p] - sub)
            cover += alpha * (1.0 - cover)
        rgb[index] = sub
        if labels is not None:
            sub_lab = labels[index]
            sub_lab[cover >= 0.5] = movers.kind[i]
            labels[index] = sub_lab
