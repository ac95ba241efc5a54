"""The dev set: real content to develop and tune the codecs on, reported per clip and per speed.

Clips (:data:`CLIP_NAMES`): one over each picture of :mod:`gsvc.video.sample_pictures` (every
picture in matplotlib's sample data), and two stress clips gsvc draws itself: ``dead_leaves``
(camera paths over dead-leaves images, :func:`gsvc.video.stills.dead_leaves`, a new image
each shot) and ``procedural`` (labelled street scenes, :mod:`gsvc.video.procedural`).

Each clip is :data:`SHOTS_PER_CLIP` shots of (nearly) equal length joined by hard cuts, each a
camera path from a new viewpoint (over a picture whose shorter side is :data:`WORLD_SIDES`
screen sides) at one speed of :data:`SPEEDS_PX` (0.5 to 8 px/frame at 64 px,
in proportion at other sizes). Clip ``k`` (its place in :data:`CLIP_NAMES`) gives its shot ``j``
speed ``SPEEDS_PX[(j + k) % 5]`` and camera ``CAMERAS[(j + 2k) % 3]``: every clip has every speed,
and across the set every speed comes at every place in a clip and with every camera.

The content is fixed: viewpoints and drawn images come from seeds from :data:`DEV_SEED0`
(training draws its clips from seeds below 1 000 000, its validation from 1 000 000, the
held-out procedural clips of ``benchmarks/bench_codecs.py`` from 2 000 000), whatever the seed
of the run that plays it.

Example::

    >>> from gsvc.video import devset
    >>> clip = devset.dev_source("mri", resolution=32, fps=15, num_frames=10)
    >>> [(s.camera, s.speed_px, s.first_frame) for s in clip.shots][:2]
    [('zoom', 0.5, 0), ('shake', 1.0, 2)]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .photo import PhotoSource
from .procedural import ProceduralSource
from .sample_pictures import sample_picture
from .source import Clip, ConcatSource, VideoSource
from .spec import VideoSpec
from .stills import synthetic_image
from .devclips import CAMERAS, CLIP_NAMES, DEV_SEED0, MIN_SHOT_FRAMES, SHOTS_PER_CLIP, SPEEDS_PX

__all__ = ["CLIP_NAMES", "SPEEDS_PX", "CAMERAS", "SHOTS_PER_CLIP", "DEV_SEED0", "Shot", "DevClipSource",
           "shots", "dev_source", "clips"]

#: a picture's shorter side in screen sides: the view shows half of it, so that a pan at 8 px/frame
#: runs 8 frames before it turns (at gsvc's usual 1.25 a square picture leaves a pan 2 frames)
WORLD_SIDES = 2.0


@dataclass(frozen=True)
class Shot:
    """One shot of a dev clip: frames ``[first_frame, first_frame + num_frames)``.

    ``speed_px``: nominal speed, px/frame at 64 px; ``motion_px``: the camera's step at the clip's
    resolution, px/frame (for zoom: mean displacement over the frame).
    """

    camera: str
    speed_px: float
    motion_px: float
    first_frame: int
    num_frames: int


def shots(name: str, num_frames: int, resolution: int = 64) -> tuple[Shot, ...]:
    """The shots of clip ``name`` when it is ``num_frames`` long at ``resolution`` px."""
    if name not in CLIP_NAMES:
        raise ValueError(f"name={name!r} is not a dev-set clip; known: {', '.join(CLIP_NAMES)}")
    if num_frames < SHOTS_PER_CLIP * MIN_SHOT_FRAMES:
        raise ValueError(f"num_frames={num_frames} is too short for {SHOTS_PER_CLIP} shots of at least "
                         f"{MIN_SHOT_FRAMES} frames; give at least {SHOTS_PER_CLIP * MIN_SHOT_FRAMES}")
    k = CLIP_NAMES.index(name)
    first = (np.arange(SHOTS_PER_CLIP + 1) * num_frames) // SHOTS_PER_CLIP
    out = []
    for j in range(SHOTS_PER_CLIP):
        speed = SPEEDS_PX[(j + k) % len(SPEEDS_PX)]
        out.append(Shot(CAMERAS[(j + 2 * k) % len(CAMERAS)], speed, speed * resolution / 64, int(first[j]),
                        int(first[j + 1] - first[j])))
    return tuple(out)


def _shot_source(name: str, shot: Shot, j: int, resolution: int, fps: float) -> VideoSource:
    """Frames of shot ``j`` of clip ``name``: a camera path of its own seed."""
    seed = DEV_SEED0 + 100 * CLIP_NAMES.index(name) + j
    spec = VideoSpec(seconds=shot.num_frames / fps, fps=fps, resolution=resolution, camera=shot.camera,
                     motion_px=shot.motion_px)
    if name == "procedural":
        return ProceduralSource(spec, seed)
    if name == "dead_leaves":  # a new image each shot, as training draws them (1.3 x 2 screen sides)
        picture = synthetic_image("dead_leaves", seed, int(resolution * 1.3) + 2, 2 * resolution)
    else:
        picture = sample_picture(name)
    return PhotoSource([picture], spec, seed, world_height=WORLD_SIDES)


class DevClipSource(VideoSource):
    """Dev clip ``name``: its :attr:`shots` played one after another, a hard cut between each two."""

    def __init__(self, name: str, resolution: int = 64, fps: float = 15.0, num_frames: int = 60):
        self.name = name
        self.shots = shots(name, num_frames, resolution)
        self._inner = ConcatSource([_shot_source(name, s, j, resolution, fps) for j, s in enumerate(self.shots)])
        self.fps, self.resolution, self.num_frames = self._inner.fps, resolution, self._inner.num_frames

    def num_scenes(self) -> int:
        return len(self.shots)

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        return self._inner.clip(start, stop)

    def speeds_px(self) -> np.ndarray:
        """``[T]`` float64: each frame's nominal shot speed, px/frame at 64 px."""
        return np.concatenate([np.full(s.num_frames, s.speed_px) for s in self.shots])

    def cameras(self) -> np.ndarray:
        """``[T]`` str: each frame's camera kind."""
        return np.concatenate([np.full(s.num_frames, s.camera) for s in self.shots])


def dev_source(name: str, resolution: int = 64, fps: float = 15.0, num_frames: int = 60) -> DevClipSource:
    """Dev clip ``name`` of :data:`CLIP_NAMES` (``video.source="devset"``, ``video.path=name`` in a scenario)."""
    return DevClipSource(name, resolution, fps, num_frames)


def clips(resolution: int = 64, fps: float = 15.0, num_frames: int = 60) -> list[DevClipSource]:
    """Every dev clip, in the order of :data:`CLIP_NAMES`."""
    return [DevClipSource(n, resolution, fps, num_frames) for n in CLIP_NAMES]
