"""What video a scenario plays."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import ValidationInfo, field_validator, model_validator

from ..spec import Spec, bounded

__all__ = ["VideoSpec", "Camera"]

Camera = Literal["static", "pan", "zoom", "shake", "mixed"]

_PATH_HELP = {
    "file": "a video file, a directory of images or a glob pattern of images (or a list of them)",
    "array": "an .npy or .npz file of [T, H, W, 3] frames (or a list of them)",
    "photo": "an image file (or a list of them)",
    "devset": "the name of a dev-set clip (gsvc.video.devset.CLIP_NAMES)",
}


def _cut_frame(cut_s: float, fps: float) -> int:
    return int(math.ceil(cut_s * fps - 1e-9))


class VideoSpec(Spec):
    """Frame source and its parameters. Identical spec and seed give identical frames.

    Sources (``source``):

    * ``"procedural"``: labelled street scenes drawn from the seed (:mod:`gsvc.video.procedural`).
    * ``"array"``: frames from ``.npy`` / ``.npz`` files at ``path`` (``[T, H, W, 3]``; an
      ``.npz`` may add ``labels`` ``[T, H, W]``).
    * ``"file"``: a video file, a directory of images, or a glob pattern of images at ``path``
      (decoded with PyAV).
    * ``"photo"``: the camera moves over still image(s) at ``path``.
    * ``"devset"``: the dev-set clip named by ``path`` (:mod:`gsvc.video.devset`: camera paths at
      0.5 to 8 px/frame, hard cuts between shots, over matplotlib's sample pictures and gsvc's
      stress content); its shots fix camera, motion and cuts, so ``camera``, ``motion_px`` and
      ``pan_angle_deg`` are not read and ``cuts_s`` and ``cut_rate_hz`` are refused; the content
      does not depend on the run's seed.

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

    Labels (``labels``): ``"auto"`` gives true labels where the source has them
    (procedural scenes, arrays with labels) and none otherwise; ``"estimate"`` always uses
    the colour-class heuristic of :mod:`gsvc.video.segment` (a street-scene palette, not a
    segmentation of real video: it is there to study what wrong semantics cost); ``"none"``
    gives no labels.
    """

    spec_path = "video"
    source: Literal["procedural", "array", "file", "photo", "devset"] = "procedural"
    seconds: float = bounded(10.0, 0.1, 86_400.0, "s", "clip length")
    fps: float = bounded(15.0, 1.0, 240.0, "frames/s", "capture rate")
    resolution: int = bounded(
        64, 32, 1024, "px", "side of the square frame (a diffusion codec further needs a model that serves it)")
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
        return _cut_frame(cut_s, self.fps)

    @field_validator("path")
    @classmethod
    def _check_path(cls, v, info: ValidationInfo):
        if isinstance(v, list) and not v:
            raise ValueError("is an empty list; give one path or several")
        if v == "" or isinstance(v, list) and any(not p for p in v):
            raise ValueError("contains an empty path")
        source, p = info.data.get("source"), cls.spec_path
        if source == "procedural" and v is not None:
            raise ValueError(f"is only read by the file, array and photo sources, not by {p}.source='procedural'")
        if source not in (None, "procedural") and v is None:
            raise ValueError(f"must be given when {p}.source={source!r}: "
                             + _PATH_HELP.get(source, "a file"))
        if source == "devset":
            from .devclips import CLIP_NAMES
            if v not in CLIP_NAMES:
                raise ValueError(f"names no dev-set clip; give one of {', '.join(CLIP_NAMES)}")
        return v

    @field_validator("cuts_s")
    @classmethod
    def _check_cuts(cls, v: list[float], info: ValidationInfo):
        if "seconds" not in info.data or "fps" not in info.data:
            return v  # reported on those fields
        p, seconds, fps = cls.spec_path, info.data["seconds"], info.data["fps"]
        n = max(1, int(round(seconds * fps)))
        frames = [_cut_frame(c, fps) for c in v]
        bad = [c for c, i in zip(v, frames) if not 1 <= i <= n - 1]
        if bad:
            raise ValueError(
                f"has cuts outside the clip ({bad}); each must lie within (0, {(n - 1) / fps:g}] s, "
                f"after the first frame and no later than the last one ({p}.seconds={seconds:g}, {p}.fps={fps:g})")
        if len(set(frames)) != len(frames):
            raise ValueError(f"puts two cuts on the same frame at {p}.fps={fps:g}; give cuts at least one frame apart")
        return v

    @model_validator(mode="after")
    def _check_cut_rate(self) -> "VideoSpec":
        p = self.spec_path
        if self.source in ("file", "array") and self.cut_rate_hz > 0:
            raise ValueError(f"{p}.cut_rate_hz={self.cut_rate_hz:g} only applies to procedural and photo sources; "
                             f"a {self.source} source plays its material as it is")
        if self.source == "devset":
            from .devclips import MIN_SHOT_FRAMES, SHOTS_PER_CLIP
            if self.cuts_s or self.cut_rate_hz > 0:
                raise ValueError(f"{p}.cuts_s and {p}.cut_rate_hz do not apply to {p}.source='devset': its "
                                 f"{SHOTS_PER_CLIP} shots fix the cuts; leave them unset")
            if self.num_frames < SHOTS_PER_CLIP * MIN_SHOT_FRAMES:
                raise ValueError(f"{p}.seconds={self.seconds:g} at {p}.fps={self.fps:g} gives {self.num_frames} "
                                 f"frames; a dev-set clip needs at least {SHOTS_PER_CLIP * MIN_SHOT_FRAMES} "
                                 f"({MIN_SHOT_FRAMES} per shot)")
        return self
