"""What the dev set is made of: its clip names and the layout of their shots.

Declarations only, read by :class:`~gsvc.video.spec.VideoSpec`'s validation without loading the
frame sources; :mod:`gsvc.video.devset` renders the clips.
"""
from __future__ import annotations

from .sample_pictures import SAMPLE_PICTURES

__all__ = ["SPEEDS_PX", "CAMERAS", "SHOTS_PER_CLIP", "DEV_SEED0", "CLIP_NAMES", "MIN_SHOT_FRAMES"]

#: camera speeds of the shots, px/frame at 64 px (scaled by resolution / 64)
SPEEDS_PX = (0.5, 1.0, 2.0, 4.0, 8.0)
#: camera kinds of the shots (:func:`gsvc.video.camera.camera_path`)
CAMERAS = ("pan", "zoom", "shake")
SHOTS_PER_CLIP = len(SPEEDS_PX)
#: first seed of the dev set's viewpoints and drawn images
DEV_SEED0 = 3_000_000
#: the clips, in order
CLIP_NAMES = tuple(SAMPLE_PICTURES) + ("dead_leaves", "procedural")
#: fewest frames per shot (a shot's VideoSpec lasts at least 0.1 s)
MIN_SHOT_FRAMES = 2
