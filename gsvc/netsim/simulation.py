"""Wires the pipeline of every stream into one SimPy run.

source -> sender (encode, packetise) -> link -> jitter buffer -> GPU pool -> display,
with a feedback path from receiver to sender. Everything random was drawn before
(channel traces) or comes from generators passed in, so a run is deterministic for
its inputs. The netsim never imports a concrete codec: it talks to the ``Codec``
protocol.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import simpy

from ..codecs.base import Codec
from ..metrics import DEFAULT_METRICS, StreamScorer, metric_columns
from .display import Screen, resolve_display
from .framelog import FrameLog
from .jitter import JitterBuffer
from .link import Link
from .pictures import PictureRecorder, Pictures
from .ratecontrol import make_rate_controller
from .receiver import GpuPool, Job
from .sender import Sender
from .trace import ChannelTrace

__all__ = ["StreamInput", "SimOutput", "simulate"]


@dataclass
class StreamInput:
    """What one stream needs: its frames, its channel trace (None on a traffic-aware shared carrier),
    its seeds and start offset."""

    frames: Iterable  # Frame objects in capture order
    trace: ChannelTrace | None
    codec_seed: int
    start_s: float = 0.0
    codec: Codec | None = None  # this stream's codec when the streams' groups differ (else simulate's)


@dataclass
class SimOutput:
    frames: object  # pandas DataFrame, the per-frame log
    gpu_busy_s: float
    sim_end_s: float
    wall_s: float
    meta: dict = field(default_factory=dict)


def simulate(inputs: Sequence[StreamInput], *, codec: Codec, fps: float, num_frames: int, resolution: int,
             link_spec, jitter_spec, receiver_spec, latency, timing_only: bool,
             progress: Callable[[float], None] | None = None,
             metrics: Sequence[str] = DEFAULT_METRICS, pictures: bool = False,
             carrier: Callable | None = None) -> SimOutput:
    """Run the pipeline for every stream until every frame has been decoded.

    Returns the per-frame log (status, display, latency and quality filled in) and
    the GPU busy time. ``progress(fraction)`` is called as simulated time advances.
    ``metrics``: the per-frame quality metrics scored on what was shown (:mod:`gsvc.metrics`).
    ``pictures``: record a side-by-side MP4 per stream and a PNG strip of stream 0
    (:mod:`gsvc.netsim.pictures`; ``SimOutput.meta["pictures"]``).
    ``carrier(env)``: the streams share one carrier scheduled in the loop
    (:class:`~gsvc.netsim.carrier.SharedCarrier`), each stream on its port instead of a link over its
    own trace; its PRB shares, goodputs and utilization go to ``SimOutput.meta["carrier"]``.
    """
    t_wall = time.perf_counter()
    env = simpy.Environment()
    n_streams = len(inputs)
    log = FrameLog(n_streams, num_frames, extra_float=metric_columns(metrics))
    cols = log.cols
    codecs = [inp.codec if inp.codec is not None else codec for inp in inputs]
    score = [not timing_only and c.makes_images for c in codecs]
    incomplete = np.zeros(n_streams * num_frames, bool)
    jitters: list[JitterBuffer] = []
    senders: list[Sender] = []
    scorer = StreamScorer(cols, metrics) if any(score) else None
    recorders = [PictureRecorder(s, fps, strip=s == 0) if score[s] and pictures else None for s in range(n_streams)]
    screens = [Screen(cols, log.row(s, 0), num_frames, jitter_spec.late, scorer, s, recorders[s]) if score[s] else None
               for s in range(n_streams)]

    def on_done(job: Job, decoded, now_s: float) -> None:
        jitters[job.stream].note_decoded(job.release_s, now_s, job.playout_s, job.evals)
        screen = screens[job.stream]
        if screen is not None:
            now_ms = now_s * 1e3
            screen.advance(now_ms)
            screen.decoded(job.frame, now_ms, None if decoded is None else decoded.image)
        if decoded is not None and decoded.request_anchor:
            senders[job.stream].feedback.send(now_s, "anchor_request", job.frame)

    def on_skip(job: Job, reason: str, now_s: float) -> None:
        if job.release_s <= job.playout_s < job.release_s + job.cost_s:
            # the decode alone, started at release, would end after the deadline: the playout delay is too
            # short for this codec on this receiver. A receiver that sheds every such frame never measures
            # a decode, so an adaptive delay would never grow and nothing would be shown; the frame counts
            # as decoded by release + its expected cost, as libwebrtc's timing counts the decode time of
            # every frame (VCMTiming's decode-time percentile), and the delay rises to fit it
            jitters[job.stream].note_decoded(job.release_s, job.release_s + job.cost_s, job.playout_s, job.evals)
        if reason == "resync":
            senders[job.stream].feedback.send(now_s, "anchor_request", job.frame)

    decoders = [c.decoder(inp.codec_seed) for c, inp in zip(codecs, inputs)]
    pool = GpuPool(env, receiver_spec, latency, decoders, resolution, log, timing_only, on_done, on_skip)

    c = log.columns()

    def make_release(s: int):
        row0, screen, submit = log.row(s, 0), screens[s], pool.submit

        def release(frame: int, playout_s: float, payload) -> None:
            r = row0 + frame
            c.playout_ms[r] = playout_s * 1e3
            if screen is not None:
                screen.released(frame)
            if payload is not None:  # None: the sender dropped it; there is nothing to decode
                submit(Job(s, frame, payload[0], payload[1], env.now, playout_s, r))
        return release

    reports = link_spec.rate_control != "off"

    def rate_controller(c: Codec):
        """One stream's controller, starting at (and capped by) its codec's ``bitrate_kbps``."""
        if not reports:
            return None
        return make_rate_controller(link_spec.rate_control, c.spec.rate_kbps, link_spec.feedback_delay_ms / 1e3)

    def ceiling(c: Codec) -> float | None:
        """Without rate control, a given ``codec.bitrate_kbps`` caps a codec whose rate follows its settings."""
        if reports or "rate_ceiling" not in getattr(c, "capabilities", ()):
            return None
        return c.spec.bitrate_kbps

    def deliver(s: int, ef, complete: bool) -> None:
        r = log.row(s, ef.frame)
        if not complete:
            incomplete[r] = True
            senders[s].feedback.send(env.now, "loss", ef.frame)
        if reports:
            senders[s].reports.post(env.now, senders[s].report(ef.frame, env.now))
        jitters[s].arrive(env.now, ef.frame, c.capture_ms[r] / 1e3, (ef, complete), ef.nbytes)

    def drop(s: int, frame: int) -> None:
        """The sender of stream ``s`` dropped ``frame`` before encoding it: the jitter buffer moves past it."""
        r = log.row(s, frame)
        jitters[s].arrive(env.now, frame, c.capture_ms[r] / 1e3, None)

    def make_deadline(s: int):
        def playout_deadline_s(frame: int) -> float:
            """The receiver's estimate of ``frame``'s playout time: capture + its current playout delay."""
            return c.capture_ms[log.row(s, frame)] / 1e3 + jitters[s].delay_s
        return playout_deadline_s

    shared = carrier(env) if carrier is not None else None
    for s, inp in enumerate(inputs):
        # a decoder that fits its plans to the playout budget gets no cost term (gsvc.netsim.jitter); a codec
        # of the user's own (the Codec protocol asks for no spec) keeps the cost term
        control = getattr(getattr(codecs[s], "spec", None), "control", "off")
        jitters.append(JitterBuffer(jitter_spec, fps, make_release(s), cost_term=control != "adaptive"))
        link = shared.ports[s] if shared is not None else Link(inp.trace)
        st = Sender(env, s, inp.frames, link, inp.codec_seed, inp.start_s, codecs[s], latency, link_spec, fps,
                    num_frames, log, deliver, screens[s], playout_deadline_s=make_deadline(s),
                    rate_controller=rate_controller(codecs[s]), drop=drop, ceiling_kbps=ceiling(codecs[s]))
        senders.append(st)
        st.start()

    horizon_s = max(inp.start_s for inp in inputs) + num_frames / fps
    if progress is None:
        env.run()
    else:
        for k in range(1, 21):
            env.run(until=horizon_s * k / 20)
            progress(k / 20)
        env.run()

    for s in range(n_streams):
        if screens[s] is not None:
            screens[s].finish()
    if scorer is not None:
        scorer.close()
    meta = {} if shared is None else {"carrier": shared.stats(horizon_s)}
    if any(r is not None for r in recorders):
        videos = {s: r.close() for s, r in enumerate(recorders) if r is not None}
        meta["pictures"] = Pictures({s: p for s, p in videos.items() if p},
                                    recorders[0].strip_png() if recorders[0] is not None else None)
    for s in range(n_streams):
        sl = log.stream_slice(s)
        resolve_display(cols, sl, jitter_spec.late, incomplete[sl])
    return SimOutput(log.to_frame(), pool.busy_s, env.now, time.perf_counter() - t_wall, meta)
