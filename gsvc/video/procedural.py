"""Procedural street scenes with exact labels, camera motion and scene cuts.

A scene is rendered in three vectorised steps: the static world (street,
buildings, trees, poles) is drawn once as a label map and texture
(:mod:`gsvc.video.world`); every frame is a bilinear sample of it along the
camera path (:mod:`gsvc.video.camera`), so sub-pixel motion is real; vehicles
and pedestrians are then composited with exact area coverage
(:mod:`gsvc.video.movers`). Each scene draws from its own random stream, so
any frame renders the same whether it is asked for alone, in a batch, or
while iterating.

Example::

    >>> from gsvc.video import VideoSpec, procedural_clip
    >>> clip = procedural_clip(VideoSpec(seconds=1, fps=10, resolution=32, cuts_s=[0.5]), seed=3)
    >>> clip.rgb.shape, clip.labels.shape, clip.scene_cut.nonzero()[0].tolist()
    ((10, 32, 32, 3), (10, 32, 32), [5])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import CameraPath, camera_path, sample_bilinear, sample_nearest
from .movers import Movers, draw_movers, place_movers
from .scenes import STREAM_SCENE, check_seed, cut_frames, scene_starts, stream_rng
from .source import Clip, VideoSource
from .spec import VideoSpec
from .world import Lighting, World, render_world

__all__ = ["ProceduralSource", "procedural_clip", "Scene", "build_scene"]

#: world width limits per screen side; a longer pan turns back at the world's end
MIN_WORLD_WIDTH, MAX_WORLD_WIDTH = 2.0, 8.0


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything needed to render any frame of one scene."""

    world: World
    path: CameraPath
    movers: Movers
    motion_px: np.ndarray  # [T, 2] float32
    zoom: np.ndarray  # [T] float32


def build_scene(spec: VideoSpec, seed: int, scene_index: int, num_frames: int) -> Scene:
    """Draw the world, camera path and movers of scene ``scene_index`` (``num_frames`` long)."""
    rng = stream_rng(seed, STREAM_SCENE, scene_index)
    side = spec.resolution
    camera = spec.camera if spec.camera != "mixed" else str(rng.choice(["pan", "zoom", "shake"]))
    lighting = Lighting.draw(rng, spec.lighting)
    travel_px = spec.motion_px * num_frames if camera == "pan" else 0.0
    width = int(np.clip(side * 1.5 + travel_px, MIN_WORLD_WIDTH * side, MAX_WORLD_WIDTH * side))
    world = render_world(width, side, rng, lighting)
    path = camera_path(camera, spec.motion_px, num_frames, world.labels.shape, side, side, rng,
                       spec.pan_angle_deg)
    movers = place_movers(width, side, spec.vehicles, spec.pedestrians, spec.object_speed_px, rng, lighting)
    motion, zoom = path.motion(side)
    return Scene(world, path, movers, motion, zoom)


def render_frames(scene: Scene, t0: int, t1: int, side_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``[t0, t1)`` of a scene (frame numbers within the scene).

    Returns:
        rgb ``[T, S, S, 3]`` float32 in [0, 1] and labels ``[T, S, S]`` uint8.
    """
    sub = CameraPath(scene.path.center_xy[t0:t1], scene.path.view_px[t0:t1], scene.path.kind)
    rgb = sample_bilinear(scene.world.rgb, sub, side_px)
    labels = sample_nearest(scene.world.labels, sub, side_px)
    draw_movers(rgb, labels, scene.movers, sub, np.arange(t0, t1), side_px)
    return rgb, labels


class ProceduralSource(VideoSource):
    """Labelled procedural street video for ``spec`` and ``seed`` (see the module docstring)."""

    def __init__(self, spec: VideoSpec, seed: int):
        self.spec = spec
        self.seed = check_seed(seed)
        self.fps = spec.fps
        self.resolution = spec.resolution
        self.num_frames = spec.num_frames
        self.cuts = cut_frames(spec, self.seed)  # [K] first frames of scenes 1..K
        self._starts = np.concatenate([scene_starts(self.cuts), [self.num_frames]])  # [K + 2]
        self._cache: dict[int, Scene] = {}

    def num_scenes(self) -> int:
        return len(self._starts) - 1

    def scene(self, k: int) -> Scene:
        """Scene ``k`` (built on first use; the two most recent are kept)."""
        if k not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = build_scene(self.spec, self.seed, k, int(self._starts[k + 1] - self._starts[k]))
        return self._cache[k]

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        start, stop = self._span(start, stop)
        k0 = int(np.searchsorted(self._starts, start, side="right") - 1)
        k1 = int(np.searchsorted(self._starts, stop - 1, side="right") - 1)
        rgbs, labs, ids, motions, zooms = [], [], [], [], []
        for k in range(k0, k1 + 1):
            first = int(self._starts[k])
            t0, t1 = max(start, first) - first, min(stop, int(self._starts[k + 1])) - first
            sc = self.scene(k)
            rgb, lab = render_frames(sc, t0, t1, self.resolution)
            rgbs.append(rgb)
            labs.append(lab)
            ids.append(np.full(t1 - t0, k, np.int64))
            motions.append(sc.motion_px[t0:t1])
            zooms.append(sc.zoom[t0:t1])
        scene_id = np.concatenate(ids)
        frames = np.arange(start, stop)
        scene_cut = np.isin(frames, self.cuts)
        one = len(rgbs) == 1  # speed: skip the copy of concatenate for the common single-scene batch
        return Clip(rgbs[0] if one else np.concatenate(rgbs), labs[0] if one else np.concatenate(labs),
                    scene_id, scene_cut, np.concatenate(motions), np.concatenate(zooms), self.fps, start)


def procedural_clip(spec: VideoSpec, seed: int, start: int = 0, stop: int | None = None) -> Clip:
    """Frames ``[start, stop)`` of the procedural video of ``spec`` and ``seed`` as one batch.

    The fast path for training data: ``clip.rgb [T, S, S, 3]`` float32, ``clip.labels
    [T, S, S]`` uint8, plus per-frame ``scene_id``, ``scene_cut``, ``motion_px``, ``zoom``.
    Identical to the frames that :func:`gsvc.video.open_source` yields for the same spec and seed.
    """
    return ProceduralSource(spec, seed).clip(start, stop)
