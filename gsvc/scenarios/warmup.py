"""Warm a run's codecs up before a run that times decodes by this host's wall clock.

With ``receiver.latency="measured"`` the simulated decode time is the real one, and a codec's first
decode pays what a receiver pays once, before its first call: loading the model's weights and
PyTorch's first-call setup. On this 2-core host that charged the first cvsc anchor of the
pedestrian-urban preset 2.6 s, and every frame behind it in the first 2.5 s of a 3 s run was shed as
late. A receiver loads its model before the session starts, so each codec first encodes and decodes
the first frames of its own video once, on an encoder and a decoder the run never uses, and a latency
model that learns (``measured``) starts from those decodes' times instead of from nothing (the first
anchor of that run was planned at its full ten steps, 365 ms, because nothing had been measured yet).
"""
from __future__ import annotations

import time

from ..codecs.base import Codec, hook
from ..video import open_source

__all__ = ["warm_up", "WARM_UP_FRAMES"]

#: frames each codec codes before the run: an anchor and a delta, so both paths have run once
WARM_UP_FRAMES = 2


def warm_up(codec: Codec, video, seed: int) -> tuple[float, list[tuple[int, float]]]:
    """Encode and decode the first :data:`WARM_UP_FRAMES` frames of ``video`` (drawn from ``seed``) with
    ``codec`` on throwaway coders. Returns the wall time it took, s, and ``(evaluations, wall ms)`` of
    each decode after the first (the first carries the one-time costs), which the ``measured`` latency
    model takes as its first measurements. The run's own coders, their seeds and the scenario's
    random streams are untouched."""
    t0 = time.perf_counter()
    enc, dec = codec.encoder(0), codec.decoder(0)
    source = iter(open_source(video, seed))
    encoded = []
    for _ in range(min(WARM_UP_FRAMES, video.num_frames)):
        encoded += enc.encode(next(source), [])
    flush = hook(enc, "flush")
    if flush is not None:
        encoded += flush()
    timed = []
    for ef in encoded:
        plan = dec.plan(ef, True, None)
        t = time.perf_counter()
        dec.decode(ef, plan)
        timed.append((plan.unet_evals, (time.perf_counter() - t) * 1e3))
    return time.perf_counter() - t0, timed[1:]
