"""What video a scenario plays."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import field_validator, model_validator

from ..spec import Spec, bounded

__all__ = ["VideoSpec", "Camera"]

Camera = Literal["static", "pan", "zoom", "shake", "mixed"]


class VideoSpec(Spec):
    """Frame source and its parameters. Identical spec and seed give identical frames.

    Sources (``source``):

    * ``"procedural"``: labelled street scenes drawn from the seed (:mod:`gsvc.video.procedural`).
    * ``"array"``: frames from ``.npy`` / ``.npz`` files at ``path`` (``[T, H, W, 3]``; an
      ``.npz`` may add ``labels`` ``[T, H, W]``).
    * ``"file"``: a video file, a directory of images, or a glob pattern of images at ``path``
      (decoded with PyAV).
    * ``"photo"``: the camera moves over still image(s) at ``path``.

    ``path`` may be a list: the clips are played one after another with a scene cut at
    each join. File, array and photo frames are centre-cropped to a square and resized
    to ``resolution``.

    Camera (``camera``, procedural and photo sources): ``"pan"`` moves at a constant
    ``motion_px`` pixels per frame in direction ``pan_angle_deg``; ``"shake"`` takes a
    step of ``motion_px`` in a random direction every frame; ``"zoom"`` scales about the
    frame centre so that the mean displacement over the frame is ``motion_px``;
    ``"mixed"`` draws one of those three per scene; ``"static"`` does not move. All
    paths turn back at the edge of the world (or photo), so the step stays exact.

    Scene cuts: at the times in ``cuts_s`` (the first frame at or after each time starts
    a new scene) plus, for procedural and photo sources, random cuts at mean rate
    ``cut_rate_hz`` drawn from the seed. For file and array sources ``cuts_s`` marks cuts
    known to be in the material.

    Labels (``labels``): ``"auto"`` gives true labels where the source has them and the
    heuristic estimate of :mod:`gsvc.video.segment` otherwise; ``"estimate"`` always uses
    the estimate; ``"none"`` gives no labels.
    """

    spec_path = "video"
    source: Literal["procedural", "array", "file", "photo"] = "procedural"
    seconds: float = bounded(10.0, 0.1, 86_400.0, "s", "clip length")
    fps: float = bounded(15.0, 1.0, 240.0, "frames/s", "capture rate")
    resolution: int = bounded(64, 32, 256, "px", "side of the square frame")
    motion_px: float = bounded(2.0, 0.0, 64.0, "px/frame", "camera motion magnitude")
    camera: Camera = "pan"
    pan_angle_deg: float | None = bounded(
        None, -360.0, 360.0, "deg", "pan direction (0 = right, 90 = down); None: random, near horizontal, per scene")
    cuts_s: list[float] = []
    cut_rate_hz: float = bounded(0.0, 0.0, 10.0, "Hz", "mean rate of random extra scene cuts (Poisson)")
    vehicles: float = bounded(1.5, 0.0, 16.0, "per view width", "mean number of vehicles per frame width of street")
    pedestrians: float = bounded(2.5, 0.0, 32.0, "per view width", "mean number of pedestrians per frame width")
    object_speed_px: float = bounded(
        1.5, 0.0, 32.0, "px/frame", "mean vehicle speed at zoom 1; pedestrians walk at a third of it")
    lighting: Literal["varied", "fixed"] = "varied"
    path: str | list[str] | None = None
    labels: Literal["auto", "estimate", "none"] = "auto"

    @property
    def num_frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.fps

    @property
    def paths(self) -> list[str]:
        """``path`` as a list (empty when unset)."""
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)

    def cut_frame(self, cut_s: float) -> int:
        """Index of the first frame of the scene that starts at ``cut_s`` seconds."""
        return int(math.ceil(cut_s * self.fps - 1e-9))

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, v):
        if isinstance(v, list) and not v:
            raise ValueError("is an empty list; give one path or several")
        if isinstance(v, list) and any(not p for p in v) or v == "":
            raise ValueError("contains an empty path")
        return v

    @model_validator(mode="after")
    def _check_cross_fields(self) -> "VideoSpec":
        p = self.spec_path
        if self.source == "procedural" and self.path is not None:
            raise ValueError(f"{p}.path={self.path!r} is only read by the file, array and photo sources, "
                             f"not by {p}.source='procedural'")
        if self.source != "procedural" and self.path is None:
            raise ValueError(f"{p}.path is required when {p}.source={self.source!r}")
        if self.source in ("file", "array") and self.cut_rate_hz > 0:
            raise ValueError(f"{p}.cut_rate_hz={self.cut_rate_hz:g} only applies to procedural and photo sources; "
                             f"a {self.source} source plays its material as it is")
        last_s = (self.num_frames - 1) / self.fps
        frames = [self.cut_frame(c) for c in self.cuts_s]
        bad = [c for c, i in zip(self.cuts_s, frames) if not 1 <= i <= self.num_frames - 1]
        if bad:
            raise ValueError(
                f"{p}.cuts_s={self.cuts_s} has cuts outside the clip ({bad}); each must lie within "
                f"(0, {last_s:g}] s, after the first frame and no later than the last one "
                f"({p}.seconds={self.seconds:g}, {p}.fps={self.fps:g})")
        if len(set(frames)) != len(frames):
            raise ValueError(f"{p}.cuts_s={self.cuts_s} puts two cuts on the same frame at "
                             f"{p}.fps={self.fps:g}; give cuts at least one frame apart")
        return self
