"""What video a scenario plays."""
from __future__ import annotations

from typing import Literal

from ..spec import Spec, bounded

__all__ = ["VideoSpec"]


class VideoSpec(Spec):
    """Frame source and its parameters. Identical spec and seed give identical frames."""

    spec_path = "video"
    source: Literal["procedural"] = "procedural"
    seconds: float = bounded(10.0, 0.1, 86_400.0, "s", "clip length")
    fps: float = bounded(15.0, 1.0, 240.0, "frames/s", "capture rate")
    resolution: int = bounded(64, 32, 256, "px", "side of the square frame")
    motion_px: float = bounded(2.0, 0.0, 64.0, "px/frame", "camera motion magnitude")

    @property
    def num_frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.fps
