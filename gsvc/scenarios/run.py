"""Run one scenario: draw the channel traces, open the video, simulate, summarise."""
from __future__ import annotations

import contextlib
import functools
import platform
from typing import Callable

import numpy as np

from .._version import __version__
from ..codecs.cache import CodecCache, cache_codecs
from ..timing import make_latency_model
from ..timing.latency import MeasuredLatency
from ..timing.custom import custom_name, reads_wall_clock
from ..codecs.registry import make_codec
from ..netsim.channel import cell_is_shared, draw_traces, scheduled_in_loop
from ..netsim.channel.cell import cell_layout, cell_stats, draw_cell_channel, queue_cell_stats
from ..netsim.carrier import SharedCarrier
from ..netsim.satisfaction import satisfaction, satisfaction_summary
from ..netsim.simulation import StreamInput, simulate
from ..netsim.summary import group_summaries, summarize
from ..spec import SpecError
from ..video.frame import Frame
from .result import RunResult
from .scenario import Scenario
from .warmup import warm_up

__all__ = ["run", "derive_seed"]

_EMPTY = np.zeros((0, 0, 3), np.float32)


def derive_seed(seed: int, *purpose: int | str) -> int:
    """A 63-bit seed for one purpose (e.g. ``("trace", stream)``), stable across processes."""
    words = [seed & 0xFFFFFFFF, seed >> 32] + [
        p if isinstance(p, int) else int.from_bytes(p.encode()[:8].ljust(8, b"\0"), "little") & 0xFFFFFFFF
        for p in purpose]
    return int(np.random.SeedSequence(words).generate_state(2, np.uint64)[0] >> np.uint64(1))


def _placeholder_frames(video, n: int):
    """Frames without pixels, for codecs that never read them (timing-only studies)."""
    dt = 1.0 / video.fps
    return (Frame(i, i * dt, _EMPTY) for i in range(n))


def _frames_for(sc: Scenario, stream: int, uses_pixels: bool):
    if not uses_pixels:
        return _placeholder_frames(sc.video, sc.video.num_frames)
    from ..video import open_source
    try:
        return iter(open_source(sc.video, derive_seed(sc.seed, "video", stream)))
    except ValueError as err:  # an unreadable video.path: a bad scenario, named before the channel is drawn
        raise SpecError([str(err)]) from err


def _warm_up(codecs: dict, groups, sc: Scenario, latency) -> float:
    """Warm each group's codec up on its first stream's first frames (:mod:`.warmup`); the ``measured``
    latency model observes those decodes. Returns the wall time spent, s."""
    total_s, first = 0.0, 0
    for name, count, g in groups:
        first, stream = first + count, first
        if not codecs[name].makes_images:
            continue
        spent_s, timed = warm_up(codecs[name], g.video, derive_seed(sc.seed, "video", stream))
        total_s += spent_s
        if isinstance(latency, MeasuredLatency):  # a model of one's own may draw from the run's generator
            for evals, ms in timed:
                latency.observe(evals, ms * latency.scale)
    return total_s


@contextlib.contextmanager
def one_torch_thread():
    """PyTorch's intra-op threads set to 1 for the block, then put back (see :func:`run`)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(sc: Scenario, progress: Callable[[float], None] | None = None, pictures: bool = False,
        cache: CodecCache | None = None) -> RunResult:
    """Simulate ``sc`` and return its :class:`RunResult`. Same scenario -> identical frames table.

    A run that decodes holds PyTorch to one intra-op thread while it simulates: elementwise kernels
    (SiLU ...) round the tail of each thread's chunk differently, so decoded images would otherwise
    depend on the thread count (a sweep worker's, this machine's core count) in their last bits.

    ``pictures=True`` also records what the viewer saw (a side-by-side MP4 per stream and a PNG
    strip of stream 0's key moments, :mod:`gsvc.netsim.pictures`); ``RunResult.save`` writes them.
    ``cache``: encodes and decodes go through it (:mod:`gsvc.codecs.cache`; the result is the same
    with or without it); ``meta["cache"]`` counts the calls and those it served (None: not used).
    """
    if not isinstance(sc, Scenario):
        raise TypeError(f"gsvc.run needs a Scenario, got {type(sc).__name__}")
    groups = sc.groups()
    codecs = {name: make_codec(g.codec, g.video) for name, _, g in groups}
    codec = codecs[groups[0][0]]
    timing_only = sc.timing_only or not any(c.makes_images for c in codecs.values())
    counts = None
    if cache is not None and not reads_wall_clock(sc.receiver.latency):  # a hit would change a wall-clock time
        codecs, counts = cache_codecs(codecs, cache)
        codec = codecs[groups[0][0]]
    latency = make_latency_model(sc.receiver.latency, sc.receiver.latency_scale,
                                 np.random.default_rng(derive_seed(sc.seed, "latency")), sc.receiver.controlnet,
                                 frame_px=sc.video.resolution, timed_as_px=sc.receiver.timed_as_px)
    phase = np.random.default_rng(derive_seed(sc.seed, "phase"))
    inputs = []
    n_streams = sc.num_streams
    of_stream = sc.stream_groups()
    # the sources first: a file that cannot be read fails before a channel that may take minutes is drawn
    frames = [_frames_for(g, s, codecs[name].uses_pixels) for s, (name, g) in enumerate(of_stream)]
    seeds = [derive_seed(sc.seed, "trace", s) for s in range(n_streams)]
    in_loop = scheduled_in_loop(sc.cell)
    if in_loop:  # the channel now, the allocation inside the run
        cell_channel = draw_cell_channel(sc.channel, sc.link, sc.cell, seeds, derive_seed(sc.seed, "cell"))
        traces = [None] * n_streams
        carrier = functools.partial(SharedCarrier, radio=cell_channel, link=sc.link, cell=sc.cell)
    else:
        traces = draw_traces(sc.channel, sc.link, sc.cell, seeds, derive_seed(sc.seed, "cell"))
        carrier = None
    for s, trace in enumerate(traces):
        start_s = 0.0 if s == 0 else float(phase.uniform(0.0, sc.video.frame_interval_s))
        inputs.append(StreamInput(frames[s], trace, derive_seed(sc.seed, "codec", s), start_s, codecs[of_stream[s][0]]))
    warm_up_s = None
    with contextlib.nullcontext() if timing_only else one_torch_thread():
        if not timing_only and reads_wall_clock(sc.receiver.latency):
            warm_up_s = _warm_up(codecs, groups, sc, latency)
        out = simulate(inputs, codec=codec, fps=sc.video.fps, num_frames=sc.video.num_frames,
                       resolution=sc.video.resolution, link_spec=sc.link, jitter_spec=sc.jitter,
                       receiver_spec=sc.receiver, latency=latency, timing_only=sc.timing_only,
                       progress=progress, metrics=sc.metrics, pictures=pictures, carrier=carrier)
    summary = summarize(out.frames, sc.video.fps, sc.receiver.gpus)
    if in_loop:
        radio, per_stream = queue_cell_stats(cell_channel, out.meta["carrier"])
        channel_meta, layout = [cell_channel.ue_meta[0]], cell_channel.layout
    else:
        radio, per_stream = cell_stats(traces)
        channel_meta = [traces[0].meta]
        layout = cell_layout(traces[0]) if cell_is_shared(sc.cell, sc.channel) else None
    summary.update(radio)
    satisfied = satisfaction(out.frames, sc.cell.pdb_ms, sc.capacity)
    summary.update(satisfaction_summary(satisfied))
    for s, row in enumerate(per_stream):
        row["group"] = of_stream[s][0]
        row.update(satisfied[s])
    if len(groups) > 1:
        summary.update(group_summaries(out.frames, per_stream, [n for n, _ in of_stream], sc.video.fps,
                                       sc.receiver.gpus))
    meta = {
        "gsvc": __version__, "python": platform.python_version(), "seed": sc.seed,
        "spec_hash": sc.spec_hash(), "timing_only": timing_only,
        "quality": "none: timing-only run" if timing_only else f"{'/'.join(sc.metrics)} of the frames shown",
        "latency_model": (sc.receiver.latency if custom_name(sc.receiver.latency) is not None else latency.kind)
        if latency.profile is None else f"profile:{latency.profile.name}",
        "latency_profile": latency.profile.model_dump(mode="json") if latency.profile is not None else None,
        "wall_s": out.wall_s, "sim_end_s": out.sim_end_s,
        "warm_up_s": warm_up_s,
        "channel": channel_meta,
        "streams": per_stream,
        "cell": layout,
        "cache": None if counts is None else counts.as_dict(),
    }
    return RunResult(out.frames, summary, sc, meta, out.meta.get("pictures"))
