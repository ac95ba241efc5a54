"""The frame type that every source yields and every codec reads."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Frame"]


@dataclass(eq=False, slots=True)
class Frame:
    """One captured video frame; read-only by convention (its arrays are flagged read-only).

    Slotted rather than frozen: a frozen dataclass costs six times as much to build,
    and the simulator builds one per captured frame.

    Attributes:
        index: frame number in its clip, from 0.
        time_s: capture time from the clip start, s.
        rgb: ``[H, W, 3]`` float32 in [0, 1].
        labels: ``[H, W]`` uint8 semantic class ids (see ``gsvc.video.classes``), or None when unknown.
        scene_id: which scene (shot) the frame belongs to; changes at a cut.
        scene_cut: True on the first frame of a new scene (and False on frame 0).
        motion_px: true camera motion since the previous frame as ``(dx, dy)`` pixels, or None.
            Static content at pixel ``p`` of this frame was at ``c + (p - c) / zoom + motion_px``
            in the previous frame, where ``c`` is the frame centre (``(0, 0)`` on frame 0 and
            on the first frame of a scene). See :func:`gsvc.video.camera.warp_previous`.
        zoom: true magnification since the previous frame (> 1: zooming in), or None when
            unknown; 1.0 for pure translation.
    """

    index: int
    time_s: float
    rgb: np.ndarray
    labels: np.ndarray | None = None
    scene_id: int = 0
    scene_cut: bool = False
    motion_px: tuple[float, float] | None = None
    zoom: float | None = None

    @property
    def resolution(self) -> int:
        return int(self.rgb.shape[0])
