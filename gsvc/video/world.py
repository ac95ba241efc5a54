"""The static part of a procedural street scene, rendered once per scene.

The world is a side view of a street: sky, a row of buildings with window grids,
trees and lamp poles on the far sidewalk, a two-lane road with a dashed centre
line and a solid edge line, and the near sidewalk. It is drawn on an integer
pixel grid as a label map first; the colours are then derived from the labels
(class colour, per-object variation, texture noise, lighting), so labels and
pixels share the same geometry exactly.

One world pixel is one screen pixel at zoom 1; the world is
``WORLD_HEIGHT * side_px`` pixels high so that the camera has room to move.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .classes import CLASS_RGB, class_id

__all__ = ["World", "Layout", "Lighting", "render_world", "WORLD_HEIGHT"]

#: world height per screen side
WORLD_HEIGHT = 1.25

SKY, BUILDING, WINDOW, ROAD, LANE, SIDEWALK, VEGETATION, POLE = (
    class_id(n) for n in ("sky", "building", "window", "road", "lane_marking", "sidewalk", "vegetation", "pole"))

# texture amplitudes per class id: low-frequency blotches and per-pixel grain (relative brightness)
_LOW_AMP = np.array([0.00, 0.05, 0.05, 0.05, 0.03, 0.05, 0.22, 0.0, 0.0, 0.05], np.float32)
_FINE_AMP = np.array([0.01, 0.04, 0.03, 0.07, 0.03, 0.05, 0.10, 0.0, 0.0, 0.03], np.float32)


@dataclass(frozen=True)
class Layout:
    """Vertical layout of the street in world pixels (y grows downwards)."""

    height_px: int
    facade_bottom_px: float  # bottom of the buildings, top of the far sidewalk
    road_top_px: float
    road_bottom_px: float  # top of the near sidewalk

    @classmethod
    def for_side(cls, side_px: int) -> "Layout":
        h = int(round(WORLD_HEIGHT * side_px))
        return cls(h, 0.56 * h, 0.63 * h, 0.86 * h)

    @property
    def far_lane_px(self) -> float:
        """Baseline (wheel contact) of the far lane."""
        return self.road_top_px + 0.45 * (self.road_bottom_px - self.road_top_px)

    @property
    def near_lane_px(self) -> float:
        return self.road_top_px + 0.93 * (self.road_bottom_px - self.road_top_px)


@dataclass(frozen=True)
class Lighting:
    """Per-scene light: ``gain`` (brightness) and ``tint`` (warm > 0, cool < 0)."""

    gain: float = 1.0
    tint: float = 0.0

    @classmethod
    def draw(cls, rng: np.random.Generator, mode: str) -> "Lighting":
        if mode == "fixed":
            return cls()
        return cls(float(rng.uniform(0.8, 1.15)), float(rng.uniform(-0.06, 0.06)))

    @property
    def rgb_gain(self) -> np.ndarray:
        """``[3]`` float32 multiplier."""
        return (self.gain * np.array([1 + self.tint, 1.0, 1 - self.tint])).astype(np.float32)


@dataclass(frozen=True, eq=False)
class World:
    """A rendered world: ``rgb [Hw, Ww, 3]`` float32 in [0, 1], ``labels [Hw, Ww]`` uint8, its layout and light."""

    rgb: np.ndarray
    labels: np.ndarray
    layout: Layout
    lighting: Lighting


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise ``[H, W]`` float32 with features about ``cell_px`` wide."""
    gh = max(2, int(np.ceil(shape[0] / cell_px)) + 1)
    gw = max(2, int(np.ceil(shape[1] / cell_px)) + 1)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    out = ndimage.zoom(grid, ((shape[0]) / (gh - 1), (shape[1]) / (gw - 1)), order=1, mode="nearest",
                       grid_mode=False)
    return out[: shape[0], : shape[1]]


def _segments(rng: np.random.Generator, width_px: int, lo_px: float, hi_px: float) -> np.ndarray:
    """Split ``[0, width)`` into pieces of random width in ``[lo, hi)``: ``[N + 1]`` float edges."""
    edges = [-rng.uniform(0, lo_px)]
    while edges[-1] < width_px:
        edges.append(edges[-1] + rng.uniform(lo_px, hi_px))
    return np.array(edges)


def render_world(width_px: int, side_px: int, rng: np.random.Generator, lighting: Lighting) -> World:
    """Draw the static street of one scene.

    Args:
        width_px: world width in pixels.
        side_px: screen side at zoom 1 (sets the size of everything).
        rng: the scene's generator.
        lighting: the scene's light.
    """
    lay = Layout.for_side(side_px)
    hw, ww, s = lay.height_px, int(width_px), float(side_px)
    y = np.arange(hw, dtype=np.float32)[:, None] + 0.5  # [Hw, 1] pixel centres
    x = np.arange(ww, dtype=np.float32)[None, :] + 0.5  # [1, Ww]
    labels = np.full((hw, ww), SKY, np.uint8)
    shade = np.ones((hw, ww), np.float32)  # per-pixel brightness of this object (building, window ...)

    # buildings: one per x-segment, each with its own height, colour and window grid
    edges = _segments(rng, ww, 0.35 * s, 0.9 * s)
    nb = len(edges) - 1
    col = np.clip(np.searchsorted(edges, x[0], side="right") - 1, 0, nb - 1)  # [Ww] building of each column
    top = rng.uniform(0.06, 0.36, nb) * hw
    bld = (y >= top[col]) & (y < lay.facade_bottom_px)
    labels[bld] = BUILDING
    b_shade = rng.uniform(0.82, 1.15, nb).astype(np.float32)
    shade = np.where(bld, b_shade[col], shade)
    # window grid per building: cell pitch, window size inside the cell, a shop floor without windows
    pitch_x = rng.uniform(0.07, 0.13, nb) * s
    pitch_y = rng.uniform(0.08, 0.12, nb) * s
    fill_x = rng.uniform(0.4, 0.7, nb)
    fill_y = rng.uniform(0.45, 0.7, nb)
    lx = x - edges[col] - 0.5 * pitch_x[col]  # [1, Ww] relative to the building's first window column
    ly = y - top[col] - 0.4 * pitch_y[col]  # [Hw, Ww]
    cx, cy = np.floor(lx / pitch_x[col]), np.floor(ly / pitch_y[col])
    in_x = (lx - cx * pitch_x[col] < fill_x[col] * pitch_x[col]) & (x < edges[col + 1] - 0.5 * pitch_x[col])
    in_y = (ly - cy * pitch_y[col] < fill_y[col] * pitch_y[col]) & (ly >= 0)
    upper = y < lay.facade_bottom_px - 0.12 * s
    win = bld & in_x & in_y & upper
    labels[win] = WINDOW
    cell_shade = rng.uniform(0.7, 1.35, (nb, 64, 64)).astype(np.float32)
    w_shade = cell_shade[col, cy.astype(np.intp) % 64, cx.astype(np.intp) % 64]
    shade = np.where(win, w_shade, shade)
    floor_line = bld & ~win & (np.mod(ly, pitch_y[col]) > pitch_y[col] - 1.0) & upper
    shade = np.where(floor_line, shade * 0.85, shade)

    # sidewalks and road
    far_walk = (y >= lay.facade_bottom_px) & (y < lay.road_top_px)
    near_walk = y >= lay.road_bottom_px
    road = (y >= lay.road_top_px) & (y < lay.road_bottom_px)
    labels[np.broadcast_to(far_walk | near_walk, labels.shape)] = SIDEWALK
    labels[np.broadcast_to(road, labels.shape)] = ROAD
    joint = (far_walk | near_walk) & (np.mod(x + rng.uniform(0, s), 0.14 * s) < 1.0)
    shade = np.where(joint, 0.85, shade)
    thick = max(2, int(round(0.02 * hw)))
    mid_row = int(round(0.5 * (lay.road_top_px + lay.road_bottom_px)))
    edge_row = int(lay.road_bottom_px) - 2 * thick
    dash = np.mod(x[0] + rng.uniform(0, s), 0.25 * s) < 0.15 * s  # [Ww]
    labels[mid_row:mid_row + thick, dash] = LANE
    labels[edge_row:edge_row + thick, :] = LANE

    # trees on the far sidewalk: a trunk and a crown of overlapping noisy discs
    n_trees = rng.poisson(0.8 * ww / s)
    edge_noise = _smooth_noise(rng, (hw, ww), 0.04 * s)
    for tx in rng.uniform(0, ww, n_trees):
        trunk_w = max(2.0, 0.025 * s)
        crown_y = lay.facade_bottom_px - rng.uniform(0.12, 0.2) * hw
        trunk = (np.abs(x - tx) < trunk_w / 2) & (y > crown_y) & (y < lay.facade_bottom_px + 0.03 * hw)
        labels[trunk] = VEGETATION
        for _ in range(rng.integers(3, 6)):
            r = rng.uniform(0.06, 0.11) * s
            dx, dy = rng.uniform(-1.2, 1.2) * r, rng.uniform(-0.8, 0.6) * r
            x0, x1 = max(0, int(tx + dx - 1.3 * r)), min(ww, int(tx + dx + 1.3 * r) + 1)
            if x1 <= x0:
                continue
            d = np.hypot(x[:, x0:x1] - tx - dx, y - crown_y - dy)
            disc = d < r * (1 + 0.25 * edge_noise[:, x0:x1])
            labels[:, x0:x1][disc] = VEGETATION
    # hedges along some facades
    for h0 in rng.uniform(0, ww, rng.poisson(0.3 * ww / s)):
        h1 = h0 + rng.uniform(0.2, 0.6) * s
        hedge_top = lay.facade_bottom_px - 0.06 * hw * (1 + 0.3 * edge_noise)
        labels[(x >= h0) & (x < h1) & (y >= hedge_top) & (y < lay.facade_bottom_px)] = VEGETATION

    # lamp poles: a thin post standing on the far sidewalk and a short arm
    pole_w = max(2.0, 0.022 * s)
    for px in rng.uniform(0, ww, rng.poisson(0.5 * ww / s)):
        top_y = rng.uniform(0.18, 0.3) * hw
        post = (np.abs(x - px) < pole_w / 2) & (y >= top_y) & (y < lay.facade_bottom_px + 0.04 * hw)
        arm = (x >= px) & (x < px + 0.06 * s) & (y >= top_y) & (y < top_y + pole_w)
        labels[post | arm] = POLE

    rgb = _colour(labels, shade, lay, rng, s)
    b_tint = 1.0 + rng.uniform(-0.07, 0.07, (nb, 3)).astype(np.float32)  # per-building hue
    rgb *= np.where((labels == BUILDING)[..., None], b_tint[col][None], np.float32(1.0))
    rgb *= lighting.rgb_gain
    np.clip(rgb, 0.0, 1.0, out=rgb)
    return World(rgb, labels, lay, lighting)


def _colour(labels: np.ndarray, shade: np.ndarray, lay: Layout, rng: np.random.Generator, s: float) -> np.ndarray:
    """Colours from labels: class colour x object shade x texture, plus sky gradient and clouds."""
    hw, ww = labels.shape
    rgb = CLASS_RGB[labels]  # [Hw, Ww, 3]
    sky = labels == SKY
    # only buildings and windows keep their per-object shade; joints and floor lines shade the rest
    tex = 1.0 + _LOW_AMP[labels] * _smooth_noise(rng, (hw, ww), 0.1 * s)
    tex += _FINE_AMP[labels] * rng.standard_normal((hw, ww), dtype=np.float32)
    rgb *= (shade * tex)[..., None]
    # sky: lighter towards the horizon, with soft clouds
    t = np.clip(np.arange(hw, dtype=np.float32) / lay.facade_bottom_px, 0, 1)[:, None, None]
    grad = np.array([0.44, 0.63, 0.90], np.float32) * (1 - t) + np.array([0.70, 0.83, 0.95], np.float32) * t
    cloud = np.clip(_smooth_noise(rng, (hw, ww), 0.25 * s) - 0.6, 0.0, 1.0)[..., None] * 0.8
    sky_rgb = grad * (1 - cloud) + np.float32(0.96) * cloud
    rgb = np.where(sky[..., None], sky_rgb, rgb)
    return rgb.astype(np.float32, copy=False)

