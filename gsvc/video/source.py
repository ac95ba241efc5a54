"""The interface every frame source offers, and joining sources into one.

A :class:`VideoSource` renders or reads frames in batches (:class:`Clip`, plain
arrays) and hands them out one :class:`~gsvc.video.Frame` at a time. A source
only has to implement :meth:`VideoSource.clip`; iteration, random access and
``read_all`` follow from it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .frame import Frame

__all__ = ["Clip", "VideoSource", "ConcatSource", "concat"]


@dataclass(frozen=True, eq=False)
class Clip:
    """Consecutive frames as arrays (the batch form of :class:`~gsvc.video.Frame`).

    Attributes:
        rgb: ``[T, S, S, 3]`` float32 in [0, 1].
        labels: ``[T, S, S]`` uint8 class ids, or None.
        scene_id: ``[T]`` int64.
        scene_cut: ``[T]`` bool, True on the first frame of every scene but the first of the source.
        motion_px: ``[T, 2]`` float32 true camera motion (see :class:`~gsvc.video.Frame`), or None.
        zoom: ``[T]`` float32 true magnification since the previous frame, or None.
        fps: frames per second.
        start: index of the first frame in its source.
    """

    rgb: np.ndarray
    labels: np.ndarray | None
    scene_id: np.ndarray
    scene_cut: np.ndarray
    motion_px: np.ndarray | None
    zoom: np.ndarray | None
    fps: float
    start: int = 0

    def __len__(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def resolution(self) -> int:
        return int(self.rgb.shape[1])

    def frames(self) -> list[Frame]:
        """One :class:`Frame` per row; their arrays are read-only views of this clip's."""
        for a in (self.rgb, self.labels):
            if a is not None:
                a.setflags(write=False)
        out = []
        for k in range(len(self)):
            motion = None if self.motion_px is None else (float(self.motion_px[k, 0]), float(self.motion_px[k, 1]))
            out.append(Frame(
                index=self.start + k,
                time_s=(self.start + k) / self.fps,
                rgb=self.rgb[k],
                labels=None if self.labels is None else self.labels[k],
                scene_id=int(self.scene_id[k]),
                scene_cut=bool(self.scene_cut[k]),
                motion_px=motion,
                zoom=None if self.zoom is None else float(self.zoom[k]),
            ))
        return out


class VideoSource(ABC):
    """Frames of one video, in order, from index 0 to ``num_frames - 1``.

    Subclasses set ``fps``, ``resolution`` and ``num_frames`` and implement :meth:`clip`.
    The same source object yields the same frames every time it is read.
    """

    fps: float
    resolution: int
    num_frames: int
    #: frames rendered or read per batch while iterating
    chunk_frames: int = 64

    @abstractmethod
    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        """Frames ``[start, stop)`` as one :class:`Clip` (``stop`` None: to the end)."""

    def num_scenes(self) -> int:
        """Number of scenes (one more than the last frame's scene id)."""
        return int(self.clip(self.num_frames - 1).scene_id[-1]) + 1

    def _span(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.num_frames if stop is None else stop
        if not 0 <= start < stop <= self.num_frames:
            raise IndexError(f"frames [{start}, {stop}) are not within [0, {self.num_frames}) of this source")
        return int(start), int(stop)

    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[Frame]:
        for start in range(0, self.num_frames, self.chunk_frames):
            yield from self.clip(start, min(start + self.chunk_frames, self.num_frames)).frames()

    def frame(self, index: int) -> Frame:
        """Frame ``index`` (renders or reads only the batch it needs)."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} is not within [0, {self.num_frames}) of this source")
        return self.clip(index, index + 1).frames()[0]

    def read_all(self) -> list[Frame]:
        """Every frame, in order."""
        return list(self)


class ConcatSource(VideoSource):
    """Sources played one after another; the first frame of every part after the first is a scene cut."""

    def __init__(self, parts: Sequence[VideoSource]):
        if not parts:
            raise ValueError("sources is empty; give at least one source to concatenate")
        for k, p in enumerate(parts):
            if p.resolution != parts[0].resolution:
                raise ValueError(f"sources[{k}].resolution={p.resolution} differs from "
                                 f"sources[0].resolution={parts[0].resolution}; resize the parts to one resolution")
            if p.fps != parts[0].fps:
                raise ValueError(f"sources[{k}].fps={p.fps:g} differs from sources[0].fps={parts[0].fps:g}")
        self.parts = list(parts)
        self.fps = parts[0].fps
        self.resolution = parts[0].resolution
        self._first = np.cumsum([0] + [len(p) for p in parts])  # [P + 1] first frame of each part
        self.num_frames = int(self._first[-1])
        self._scene_offset: list[int] | None = None

    def _offsets(self) -> list[int]:
        if self._scene_offset is None:
            self._scene_offset = [0] + list(np.cumsum([p.num_scenes() for p in self.parts[:-1]]))
        return self._scene_offset

    def num_scenes(self) -> int:
        return int(self._offsets()[-1] + self.parts[-1].num_scenes())

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        start, stop = self._span(start, stop)
        pieces = []
        for k, part in enumerate(self.parts):
            lo, hi = max(start, self._first[k]), min(stop, self._first[k + 1])
            if lo < hi:
                c = part.clip(int(lo - self._first[k]), int(hi - self._first[k]))
                cut = c.scene_cut.copy()
                if k > 0 and lo == self._first[k]:
                    cut[0] = True
                pieces.append((c, c.scene_id + self._offsets()[k], cut))
        clips = [p[0] for p in pieces]

        def cat(name):
            arrays = [getattr(c, name) for c in clips]
            return None if any(a is None for a in arrays) else np.concatenate(arrays)

        # each part reports no motion on its own first frame, so a join needs no fix-up
        return Clip(np.concatenate([c.rgb for c in clips]), cat("labels"),
                    np.concatenate([p[1] for p in pieces]), np.concatenate([p[2] for p in pieces]),
                    cat("motion_px"), cat("zoom"), self.fps, start)


def concat(sources: Sequence[VideoSource]) -> VideoSource:
    """Play ``sources`` one after another with a scene cut at every join.

    All must share ``fps`` and ``resolution``. Motion and labels are kept where every
    part has them.
    """
    return ConcatSource(sources)
