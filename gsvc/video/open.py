"""``open_source``: the one way a scenario's :class:`VideoSpec` becomes frames.

Example::

    >>> from gsvc.video import VideoSpec, open_source
    >>> src = open_source(VideoSpec(seconds=1, fps=8, resolution=32, camera="shake"), seed=1)
    >>> len(src), src.fps, src.resolution, next(iter(src)).labels.shape
    (8, 8.0, 32, (32, 32))
"""
from __future__ import annotations

import os

import numpy as np

from .arrays import ArraySource, check_labels, check_rgb
from .devset import dev_source
from .files import read_frames
from .photo import PhotoSource, read_photos
from .procedural import ProceduralSource
from .resize import fit_square
from .scenes import check_seed, cut_frames
from .segment import estimate_labels
from .source import Clip, VideoSource
from .spec import VideoSpec

__all__ = ["open_source", "ReplacedLabels"]


class ReplacedLabels(VideoSource):
    """Another source's frames with their labels replaced: estimated by
    :func:`gsvc.video.segment.estimate_labels` (``estimate=True``) or dropped."""

    def __init__(self, inner: VideoSource, estimate: bool):
        self.inner, self.estimate = inner, estimate
        self.fps, self.resolution, self.num_frames = inner.fps, inner.resolution, inner.num_frames
        self.chunk_frames = inner.chunk_frames

    def num_scenes(self) -> int:
        return self.inner.num_scenes()

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        c = self.inner.clip(start, stop)
        labels = estimate_labels(c.rgb) if self.estimate else None
        return Clip(c.rgb, labels, c.scene_id, c.scene_cut, c.motion_px, c.zoom, c.fps, c.start)


def _path_name(spec: VideoSpec, i: int) -> str:
    return f"{spec.spec_path}.path" if isinstance(spec.path, str) else f"{spec.spec_path}.path[{i}]"


def _load_array(path: str, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Frames (and labels) from an ``.npy`` or ``.npz`` file."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"{name}={path!r} could not be read as .npy/.npz: {err}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if "rgb" not in data.files:
                raise ValueError(f"{name}={path!r} has arrays {data.files}; expected 'rgb' (and optionally 'labels')")
            rgb = check_rgb(data["rgb"], f"{name}={path!r}: rgb")
            labels = None if "labels" not in data.files else \
                check_labels(data["labels"], rgb.shape[:3], f"{name}={path!r}: labels")
        return rgb, labels
    return check_rgb(data, f"{name}={path!r}"), None


def _load_clips(spec: VideoSpec) -> VideoSource:
    """File or array source: every path in turn at ``spec.fps``, cut at joins, cut short at ``spec.num_frames``."""
    rgbs, labs, joins, total = [], [], [], 0
    for i, path in enumerate(spec.paths):
        if total >= spec.num_frames:
            break
        name = _path_name(spec, i)
        remaining_s = (spec.num_frames - total) / spec.fps
        if spec.source == "array":
            rgb, labels = _load_array(os.fspath(path), name)
            src_fps = None
        else:
            rgb, src_fps = read_frames(path, max_seconds=remaining_s, name=name)
            labels = None
        # play at spec.fps: output frame i shows the source frame on screen at time i / fps
        step = 1.0 if src_fps is None else src_fps / spec.fps
        n_out = min(int(np.floor((len(rgb) - 1) / step + 1e-9)) + 1, spec.num_frames - total)
        pick = np.floor(np.arange(n_out) * step + 1e-9).astype(np.intp)
        rgb = check_rgb(rgb[pick], name)
        rgb, labels = fit_square(rgb, spec.resolution, None if labels is None else labels[pick])
        if total:
            joins.append(total)
        rgbs.append(rgb)
        labs.append(labels)
        total += n_out
    known = cut_frames(spec, 0, random_cuts=False)
    cuts = np.unique(np.concatenate([np.asarray(joins, np.int64), known[known < total]]))
    labels = None if any(lab is None for lab in labs) else np.concatenate(labs)
    return ArraySource(np.concatenate(rgbs), spec.fps, labels, cuts)


def open_source(spec: VideoSpec, seed: int) -> VideoSource:
    """The frames that ``spec`` describes, drawn with ``seed``.

    The source has ``fps``, ``resolution``, ``num_frames``, ``len()``, iteration in
    order, ``frame(i)``, ``clip(start, stop)`` (arrays) and ``read_all()``. Procedural and
    photo sources render lazily, in batches; file and array sources load their frames
    (up to ``spec.seconds``) when opened. A file or array source plays ``spec.seconds``
    at most, and fewer frames when its material is shorter.

    Raises:
        ValueError naming the field (``video.path`` ...) when a file cannot be read or holds
        bad frames; ValueError for a negative or non-integer ``seed``.
    """
    if not isinstance(spec, VideoSpec):
        raise TypeError(f"spec is a {type(spec).__name__}; expected a VideoSpec")
    seed = check_seed(seed)
    if spec.source == "procedural":
        source: VideoSource = ProceduralSource(spec, seed)
    elif spec.source == "photo":
        source = PhotoSource(read_photos(spec), spec, seed)
    elif spec.source == "devset":
        source = dev_source(spec.path, spec.resolution, spec.fps, spec.num_frames)
    else:
        source = _load_clips(spec)
    has_truth = spec.source == "procedural" or spec.source == "devset" and spec.path == "procedural" or \
        (spec.source == "array" and source.clip(0, 1).labels is not None)
    if spec.labels == "none" or spec.labels == "estimate" or (spec.labels == "auto" and not has_truth):
        return ReplacedLabels(source, estimate=spec.labels == "estimate")
    return source
