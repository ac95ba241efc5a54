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
from ..metrics import StreamScorer
from .display import Screen, resolve_display
from .feedback import FeedbackPath
from .framelog import FrameLog
from .jitter import JitterBuffer
from .link import Link
from .packets import packetise
from .receiver import GpuPool, Job
from .trace import ChannelTrace

__all__ = ["StreamInput", "SimOutput", "simulate"]


@dataclass
class StreamInput:
    """What one stream needs: its frames, its channel trace, its seeds and start offset."""

    frames: Iterable  # Frame objects in capture order
    trace: ChannelTrace
    codec_seed: int
    start_s: float = 0.0


@dataclass
class SimOutput:
    frames: object  # pandas DataFrame, the per-frame log
    gpu_busy_s: float
    sim_end_s: float
    wall_s: float
    meta: dict = field(default_factory=dict)


class _Stream:
    """Sender side of one stream: captures, encodes and transmits frame by frame."""

    def __init__(self, env, idx, inp: StreamInput, codec: Codec, latency, link_spec, fps, num_frames,
                 log: FrameLog, deliver: Callable, screen: Screen | None):
        self.env, self.idx, self.inp, self.codec = env, idx, inp, codec
        self.latency, self.log, self.deliver = latency, log, deliver
        self.cols, self.row0 = log.columns(), log.row(idx, 0)
        self.mtu = link_spec.mtu_bytes
        self.interval_s = 1.0 / fps
        self.num_frames = num_frames
        self.encoder = codec.encoder(inp.codec_seed)
        self.link = Link(inp.trace)
        self.feedback = FeedbackPath(link_spec.uplink_delay_ms / 1e3)
        self.encoder_free_s = 0.0
        self.screen = screen
        self.measure_encode = getattr(latency, "kind", "") == "measured"

    def start(self) -> None:
        """Schedule the captures: frame ``n`` at ``start_s + n / fps``.

        Each capture schedules the next with a bare timeout callback rather than running as
        a SimPy process: resuming a generator costs about a microsecond per frame more, and
        the events happen at the same times in the same order.
        """
        self._n = 0
        self._frames = iter(self.inp.frames)
        self._next_capture()

    def _next_capture(self) -> None:
        if self._n >= self.num_frames:
            return
        capture_s = self.inp.start_s + self._n * self.interval_s
        now = self.env.now
        if capture_s > now:
            self.env.timeout(capture_s - now).callbacks.append(self._capture)
        else:
            self._capture(None)

    def _capture(self, _event) -> None:
        c, n, now = self.cols, self._n, self.env.now
        capture_s = self.inp.start_s + n * self.interval_s
        frame = next(self._frames)
        r = self.row0 + n
        c.capture_ms[r] = capture_s * 1e3
        if self.screen is not None:
            self.screen.captured(n, capture_s * 1e3, frame.rgb)
        c.scene_cut[r] = frame.scene_cut
        if self.measure_encode:
            t0 = time.perf_counter()
            efs = self.encoder.encode(frame, self.feedback.arrived(now))
            wall_ms = (time.perf_counter() - t0) * 1e3
        else:
            efs, wall_ms = self.encoder.encode(frame, self.feedback.arrived(now)), None
        self.encoder_free_s = max(now, self.encoder_free_s) + self.latency.encode_ms(wall_ms) / 1e3
        if n == self.num_frames - 1 and hasattr(self.encoder, "flush"):
            efs = list(efs) + self.encoder.flush()  # a group codec emits its last, short group
        for ef in efs:
            self._transmit(ef, self.encoder_free_s)
        self._n = n + 1
        self._next_capture()

    def _transmit(self, ef, ready_s: float) -> None:
        c, r = self.cols, self.row0 + ef.frame
        nbytes = ef.nbytes
        sizes = packetise(nbytes, self.mtu)
        burst = self.link.send(sizes, ready_s)
        c.encode_done_ms[r] = ready_s * 1e3
        c.bytes[r] = nbytes
        c.packets[r] = len(sizes)
        c.packets_lost[r] = burst.packets_lost
        c.tx_done_ms[r] = burst.tx_done_s * 1e3
        c.kind[r] = ef.kind
        arrive_s = burst.last_arrival_s
        c.arrive_ms[r] = arrive_s * 1e3
        complete = burst.packets_lost == 0
        ev = self.env.timeout(arrive_s - self.env.now)
        ev.callbacks.append(lambda _e: self.deliver(self.idx, ef, complete))


def simulate(inputs: Sequence[StreamInput], *, codec: Codec, fps: float, num_frames: int, resolution: int,
             link_spec, jitter_spec, receiver_spec, latency, timing_only: bool,
             progress: Callable[[float], None] | None = None) -> SimOutput:
    """Run the pipeline for every stream until every frame has been decoded.

    Returns the per-frame log (status, display, latency and quality filled in) and
    the GPU busy time. ``progress(fraction)`` is called as simulated time advances.
    """
    t_wall = time.perf_counter()
    env = simpy.Environment()
    n_streams = len(inputs)
    log = FrameLog(n_streams, num_frames)
    cols = log.cols
    score = not timing_only and codec.makes_images
    incomplete = np.zeros(n_streams * num_frames, bool)
    jitters: list[JitterBuffer] = []
    senders: list[_Stream] = []
    scorer = StreamScorer(cols) if score else None
    screens = [Screen(cols, log.row(s, 0), num_frames, jitter_spec.late, scorer) if score else None
               for s in range(n_streams)]

    def on_done(job: Job, decoded, now_s: float) -> None:
        jitters[job.stream].note_receiver_delay(now_s - job.release_s)
        screen = screens[job.stream]
        if screen is not None:
            now_ms = now_s * 1e3
            screen.advance(now_ms)
            screen.decoded(job.frame, now_ms, None if decoded is None else decoded.image,
                           cols["plan"][job.row] == "skip")
        if decoded is not None and decoded.request_anchor:
            senders[job.stream].feedback.send(now_s, "anchor_request", job.frame)

    def on_skip(job: Job, reason: str, now_s: float) -> None:
        if reason == "resync":
            senders[job.stream].feedback.send(now_s, "anchor_request", job.frame)

    decoders = [codec.decoder(inp.codec_seed) for inp in inputs]
    pool = GpuPool(env, receiver_spec, latency, decoders, resolution, log, timing_only, on_done, on_skip)

    c = log.columns()

    def make_release(s: int):
        row0, screen, submit = log.row(s, 0), screens[s], pool.submit

        def release(frame: int, playout_s: float, payload) -> None:
            ef, complete = payload
            r = row0 + frame
            c.playout_ms[r] = playout_s * 1e3
            if screen is not None:
                screen.released(frame)
            submit(Job(s, frame, ef, complete, env.now, playout_s, r))
        return release

    def deliver(s: int, ef, complete: bool) -> None:
        r = log.row(s, ef.frame)
        if not complete:
            incomplete[r] = True
            senders[s].feedback.send(env.now, "loss", ef.frame)
        jitters[s].arrive(env.now, ef.frame, c.capture_ms[r] / 1e3, (ef, complete))

    for s, inp in enumerate(inputs):
        jitters.append(JitterBuffer(jitter_spec, fps, make_release(s)))
        st = _Stream(env, s, inp, codec, latency, link_spec, fps, num_frames, log, deliver, screens[s])
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
        sl = log.stream_slice(s)
        resolve_display(cols, sl, jitter_spec.late, incomplete[sl])
    return SimOutput(log.to_frame(), pool.busy_s, env.now, time.perf_counter() - t_wall)
