"""The receiver: a pool of GPU servers shared by every stream.

Timing assumptions:

* A frame becomes eligible when the jitter buffer releases it and the previous
  frame of its stream has finished decoding (frame n may depend on frame n-1), so
  each stream has at most one frame in service.
* A free GPU takes eligible frames by ``policy``: ``fifo`` (earliest release) or
  ``edf`` (earliest playout deadline). With ``max_batch > 1`` it takes up to that
  many frames (one per stream) and, if the batch is not full, waits until the
  oldest eligible frame has waited ``max_wait_ms``.
* The decoder's plan is made when service starts, with the time left to the
  frame's playout deadline as its budget. The service time comes from the latency
  model (:class:`~gsvc.timing.protocol.LatencyModel`) for the batch size, the largest number
  of denoiser evaluations in it and the VAE encodes its plans count.
* Load shedding (``receiver.shed="on"``): when a plan's expected service time (batch of
  one) would end after the frame's playout deadline, the decoder's ``shed`` decides
  whether to skip it (:data:`~gsvc.codecs.base.SHED_REASONS`). A skipped frame takes no
  GPU time: it is done at once and the stream's next frame becomes eligible. ``on_skip`` sees
  its expected service time (``Job.cost_s``), so an adaptive playout delay too short for the
  decode itself can grow to fit it (:func:`~gsvc.netsim.simulation.simulate`).
* The real decode (when not timing-only) runs at service start; its image is handed
  to ``on_done`` when the service ends, and not kept. A timing-only run calls the
  decoder's ``advance`` instead (the state a decode leaves, no model, no image), so the
  plans and anchor requests that follow are those of a real run.

Event cost: one SimPy timeout per batch (and one timer per batching wait).
"""
from __future__ import annotations

import heapq
import time
from collections import deque

import simpy

from ..codecs.base import SHED_REASONS, SKIP, hook
from ..timing.protocol import LatencyModel
from .display import ON_TIME_TOLERANCE_MS

__all__ = ["GpuPool", "Job"]


class Job:
    """One frame waiting for, or in, decode."""

    __slots__ = ("stream", "frame", "ef", "complete", "release_s", "playout_s", "row", "skip_reason", "cost_s",
                 "evals")

    def __init__(self, stream, frame, ef, complete, release_s, playout_s, row):
        self.stream, self.frame, self.ef, self.complete = stream, frame, ef, complete
        self.release_s, self.playout_s, self.row = release_s, playout_s, row
        self.skip_reason = ""
        self.cost_s = 0.0  # a shed frame's expected service time (batch of one), s
        self.evals = 0  # denoiser evaluations: planned, then the decoder's own count once decoded


class GpuPool:
    """Shared decode servers; ``submit`` jobs, results land in the frame log."""

    def __init__(self, env: simpy.Environment, spec, latency: LatencyModel, decoders, resolution: int, log,
                 timing_only: bool, on_done, on_skip=None):
        self.env, self.spec, self.latency = env, spec, latency
        self.decoders, self.resolution, self.log = decoders, resolution, log
        self.timing_only = timing_only
        self.on_done = on_done  # on_done(job, decoded_or_None, now_s)
        self.on_skip = on_skip or (lambda job, reason, now_s: None)  # on_skip(job, reason, now_s)
        # per stream the decoder's shed(ef, plan, budget_ms), None where it has none or shedding is off
        self._shed = [hook(d, "shed") for d in decoders] if spec.shed == "on" else None
        # timing-only: per stream the decoder's advance(ef, plan) (its state without the model), or None
        self._advance = [hook(d, "advance") for d in decoders] if timing_only else None
        self.free = list(range(spec.gpus))  # heap of idle GPU ids
        self.waiting = [deque() for _ in decoders]  # per stream, released jobs in frame order
        self.busy = [False] * len(decoders)
        self._ready: list[tuple] = []  # heap of (key, seq, stream) for eligible stream heads
        self._seq = 0
        self._timer_at = None
        self.edf = spec.policy == "edf"
        self.max_wait_s = spec.max_wait_ms / 1e3
        self._batching = spec.max_batch > 1 and self.max_wait_s > 0
        self._learns = latency.learns  # a model that learns: its expected costs change
        self._cost_ms: dict[tuple[int, bool, int], float] = {}
        self.busy_s = 0.0
        self._cols = log.columns()  # attribute access to the log's arrays: the per-frame writes are hot
        for dec in decoders:
            set_cost_model = hook(dec, "set_cost_model")
            if set_cost_model is not None:
                set_cost_model(lambda evals: latency.expected_ms(evals, 1, resolution))
            set_service_tail = hook(dec, "set_service_tail")
            if set_service_tail is not None and hasattr(latency, "tail_ms"):
                set_service_tail(lambda risk: latency.tail_ms(risk))

    def submit(self, job: Job) -> None:
        s = job.stream
        if self.free and not self._ready and not self.busy[s] and not self.waiting[s] and not self._batching:
            # the common case of a receiver with room: a free GPU, nobody else waiting, no batch to
            # gather; start at once instead of going through the ready heap (same order, same times)
            self.busy[s] = True
            plan = self._plan_or_skip(job, self.env.now)
            if plan is not None:
                self._start(heapq.heappop(self.free), [(job, plan)])
            return
        q = self.waiting[s]
        q.append(job)
        if len(q) == 1 and not self.busy[s]:
            self._make_eligible(job)
            self._dispatch()  # nothing else can have become startable: only this stream changed

    def _make_eligible(self, job: Job) -> None:
        self._seq += 1
        heapq.heappush(self._ready, (job.playout_s if self.edf else job.release_s, self._seq, job.stream))

    def _dispatch(self) -> None:
        while self.free and self._ready:
            if self._batching and self._should_wait():
                return
            now = self.env.now
            batch = []
            while self._ready and len(batch) < self.spec.max_batch:
                stream = heapq.heappop(self._ready)[2]
                self.busy[stream] = True
                job = self.waiting[stream].popleft()
                plan = self._plan_or_skip(job, now)
                if plan is not None:
                    batch.append((job, plan))
            if batch:
                self._start(heapq.heappop(self.free), batch)

    def _plan_or_skip(self, job: Job, now: float):
        """The plan to decode ``job`` with, or None after shedding it (done at once, no GPU)."""
        plan = self._plan(job, now)
        if plan is SKIP:
            self._skip(job, now)
            return None
        return plan

    def _plan(self, job: Job, now: float):
        """The decoder's plan for ``job`` at service start, or ``SKIP`` if it sheds the frame."""
        dec = self.decoders[job.stream]
        budget_ms = (job.playout_s - now) * 1e3
        plan = dec.plan(job.ef, job.complete, budget_ms)
        job.evals = plan.unet_evals
        if self._shed is None or self._shed[job.stream] is None:
            return plan
        key = (plan.unet_evals, plan.path == "classic", plan.vae_encodes)
        cost_ms = self._cost_ms.get(key)
        if cost_ms is None or self._learns:  # a profile's expected cost never changes: once
            cost_ms = self._cost_ms[key] = self.latency.expected_ms(
                plan.unet_evals, 1, self.resolution, classic=key[:2] == (0, True), vae_encodes=plan.vae_encodes)
        if cost_ms <= budget_ms + ON_TIME_TOLERANCE_MS:
            return plan
        reason = self._shed[job.stream](job.ef, plan, budget_ms, job.release_s > job.playout_s)
        if reason is None:
            return plan
        if reason not in SHED_REASONS:
            raise ValueError(f"decoder of stream {job.stream} shed frame {job.frame} for {reason!r}; "
                             f"a reason is one of {SHED_REASONS}")
        job.skip_reason, job.cost_s = reason, cost_ms / 1e3
        return SKIP

    def _skip(self, job: Job, now: float) -> None:
        """Finish a shed frame at once: no GPU time, the stream's next frame may start."""
        c, r = self._cols, job.row
        c.decode_start_ms[r] = c.decode_done_ms[r] = now * 1e3
        c.queue_wait_ms[r] = (now - job.release_s) * 1e3
        c.plan[r], c.skip_reason[r], c.batch[r] = SKIP.path, job.skip_reason, 0
        c.anchor[r] = False
        self.busy[job.stream] = False
        q = self.waiting[job.stream]
        if q:
            self._make_eligible(q[0])
        self.on_skip(job, job.skip_reason, now)

    def _should_wait(self) -> bool:
        """Batching: hold a free GPU while the batch is short and the oldest frame may still wait."""
        if len(self._ready) >= self.spec.max_batch:
            return False
        oldest = min(self.waiting[s][0].release_s for _, _, s in self._ready)
        wake = oldest + self.max_wait_s
        if self.env.now >= wake - 1e-12:
            return False
        if self._timer_at is None or self._timer_at > wake:
            self._timer_at = wake
            self.env.timeout(wake - self.env.now).callbacks.append(self._timer)
        return True

    def _timer(self, _event) -> None:
        if self._timer_at is not None and self.env.now >= self._timer_at - 1e-12:
            self._timer_at = None
        self._dispatch()

    def _start(self, gpu: int, batch: list[tuple[Job, object]]) -> None:
        now = self.env.now
        c = self._cols
        results, max_evals, vae_encodes, classic, wall_ms = [], 0, 0, True, 0.0
        for job, plan in batch:
            dec = self.decoders[job.stream]
            if self.timing_only:
                advance = self._advance[job.stream]
                decoded = None if advance is None else advance(job.ef, plan)
            else:
                t0 = time.perf_counter()
                decoded = dec.decode(job.ef, plan)
                wall_ms += (time.perf_counter() - t0) * 1e3
            results.append((job, plan, decoded))
            max_evals = max(max_evals, plan.unet_evals)
            vae_encodes += plan.vae_encodes
            classic = classic and plan.unet_evals == 0 and plan.path == "classic"
            r = job.row
            c.decode_start_ms[r] = now * 1e3
            c.queue_wait_ms[r] = (now - job.release_s) * 1e3
            c.gpu[r] = gpu
            c.batch[r] = len(batch)
            if decoded is None:
                c.plan[r], c.steps[r], c.unet_evals[r] = plan.path, plan.steps, plan.unet_evals
                c.anchor[r] = job.ef.kind == "anchor"
            else:
                c.plan[r] = plan.path if decoded.path is None else decoded.path
                c.steps[r], c.unet_evals[r], c.anchor[r] = decoded.steps, decoded.unet_evals, decoded.anchor
                job.evals = decoded.unet_evals
                c.cut_detected[r], c.confidence[r] = decoded.cut_detected, decoded.confidence
        service_s = self.latency.decode_ms(max_evals, len(batch), self.resolution, classic=classic,
                                           measured_ms=None if self.timing_only else wall_ms,
                                           vae_encodes=vae_encodes) / 1e3
        if self._learns:
            self.latency.observe(max_evals, service_s * 1e3)
        self.busy_s += service_s
        self.env.timeout(service_s).callbacks.append(lambda _e: self._finish(gpu, results))

    def _finish(self, gpu: int, results: list) -> None:
        now = self.env.now
        for job, plan, decoded in results:
            self._cols.decode_done_ms[job.row] = now * 1e3
            self.busy[job.stream] = False
            q = self.waiting[job.stream]
            if q:
                self._make_eligible(q[0])
            self.on_done(job, decoded, now)
        heapq.heappush(self.free, gpu)
        if self._ready:  # a call per finished batch otherwise, for nothing
            self._dispatch()
