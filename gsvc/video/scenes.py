"""Where scenes start, and the random streams each part of a source draws from.

Every random choice comes from a generator seeded by ``(seed, stream, ...)``
(:func:`stream_rng`), so a scene renders the same whichever order or batch its
frames are asked for in, and in any process.
"""
from __future__ import annotations

import numpy as np

from .spec import VideoSpec

__all__ = ["check_seed", "stream_rng", "cut_frames", "scene_starts", "STREAM_CUTS", "STREAM_SCENE"]

#: stream numbers: the random cuts of a clip, and everything drawn for one scene
STREAM_CUTS, STREAM_SCENE = 1, 2


def check_seed(seed: int) -> int:
    """``seed`` as an int; ValueError unless it is a non-negative integer."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} is not a non-negative integer")
    return int(seed)


def stream_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator for one named stream of a seed, e.g. ``stream_rng(7, STREAM_SCENE, 3)``."""
    return np.random.default_rng(np.random.SeedSequence([check_seed(seed), *stream]))


def cut_frames(spec: VideoSpec, seed: int, random_cuts: bool = True) -> np.ndarray:
    """First frames of every scene after the first: ``[K]`` int64, sorted, within ``[1, num_frames)``.

    The cuts of ``spec.cuts_s`` (first frame at or after each time), plus, when
    ``random_cuts`` and ``spec.cut_rate_hz > 0``, a Poisson process of cuts at that rate.
    """
    n = spec.num_frames
    frames = [spec.cut_frame(c) for c in spec.cuts_s]
    if random_cuts and spec.cut_rate_hz > 0:
        rng = stream_rng(seed, STREAM_CUTS)
        times, t = [], 0.0
        while t < spec.seconds:
            gaps = rng.exponential(1.0 / spec.cut_rate_hz, 256)
            block = t + np.cumsum(gaps)
            times.append(block)
            t = float(block[-1])
        times = np.concatenate(times)
        drawn = np.ceil(times[times < spec.seconds] * spec.fps - 1e-9).astype(np.int64)
        frames.extend(drawn.tolist())
    out = np.unique(np.asarray(frames, np.int64))
    return out[(out >= 1) & (out < n)]


def scene_starts(cuts: np.ndarray) -> np.ndarray:
    """``[K + 1]`` first frame of every scene (0 first) from the cut frames."""
    return np.concatenate([[0], np.asarray(cuts, np.int64)])
