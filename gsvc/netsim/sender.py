"""The sender of one stream: capture, encode, packetise, transmit, retransmit.

Timing assumptions:

* Frame ``n`` is captured at ``start_s + n / fps`` and handed to the encoder with the
  feedback that has reached the sender by then. Encoding takes the latency model's
  ``encode_ms``; one frame at a time (a frame waits for the encoder to be free).
* The encoded frame is cut into MTU-sized packets (:func:`packetise`) and queued on the
  stream's :class:`~gsvc.netsim.link.Link` as one burst, when the encoder is done (plus the
  frame's ``meta["ready_offset_ms"]``: a traffic model's arrival jitter, :mod:`gsvc.codecs.xr`).
* Retransmission (``link.nack="on"``, NACK/RTX as in RFC 4585 sec. 6.2.1 and RFC 4588):
  once a frame's last packet has arrived or is known lost, the receiver asks for the
  missing packets if a retransmission can still arrive before the frame's playout
  deadline. It judges that from the round trip: the uplink delay plus the one-way delay
  this frame's burst took. The request reaches the sender after ``link.feedback_delay_ms``,
  the missing packets are queued on the link behind whatever is there, and the rounds
  repeat while the deadline allows. The frame goes to the jitter buffer when it is
  complete or no further round fits.
* Rate control (``link.rate_control``): the sender's bandwidth estimator reads the
  receiver reports that the feedback path delivered and sets the encoder's target rate
  before each frame (:mod:`gsvc.netsim.ratecontrol`).

Event cost: one timeout per capture and per delivery, plus two per retransmission round.
"""
from __future__ import annotations

import time
from typing import Callable

from ..codecs.base import Codec, hook
from .feedback import FeedbackPath
from .link import Burst
from .packets import packetise
from .ratecontrol import FrameReport, ProbeReport, probe_cluster, probe_rate_kbps

#: pacing rate over the target rate (libwebrtc goog_cc_network_control.cc, kDefaultPaceMultiplier)
PACE_MULTIPLIER = 2.5

__all__ = ["Sender"]


class Sender:
    """Sender side of one stream: captures, encodes and transmits frame by frame.

    ``deliver(stream, ef, complete)`` is called when a frame reaches the receiver (or is
    known incomplete); ``playout_deadline_s(frame)`` is the receiver's current idea of
    the frame's playout time (used to decide whether a retransmission can still help).
    ``rate_controller``: link rate control (None: off); without it, ``ceiling_kbps`` (if given) is a
    constant target handed to the encoder's ``set_target_kbps`` before every frame (a given
    ``codec.bitrate_kbps`` capping a codec whose rate follows its settings).
    """

    def __init__(self, env, idx: int, frames, link, codec_seed: int, start_s: float, codec: Codec,
                 latency, link_spec, fps: float, num_frames: int, log, deliver: Callable, screen,
                 playout_deadline_s: Callable[[int], float], rate_controller=None,
                 drop: Callable[[int, int], None] | None = None, ceiling_kbps: float | None = None):
        self.env, self.idx, self.codec = env, idx, codec
        self.frames_in, self.start_s = frames, start_s
        self.latency, self.deliver, self.screen = latency, deliver, screen
        self.cols, self.row0 = log.columns(), log.row(idx, 0)
        self.mtu = link_spec.mtu_bytes
        self.interval_s = 1.0 / fps
        self.num_frames = num_frames
        self.encoder = codec.encoder(codec_seed)
        self.link = link  # a Link over the stream's own trace, or its port on a shared carrier
        self.feedback_s = link_spec.feedback_delay_ms / 1e3
        self.core_s = link_spec.core_delay_ms / 1e3
        self.feedback = FeedbackPath(self.feedback_s)
        self.nack = link_spec.nack == "on"
        self.playout_deadline_s = playout_deadline_s
        self.rate = rate_controller  # None: rate control off
        self.ceiling_kbps = ceiling_kbps  # without rate control: a constant target for the codec's own ladder
        self.drop = drop  # drop(stream, frame): the sender dropped a frame before the encoder
        self.reports = FeedbackPath(self.feedback_s)  # receiver reports for the rate controller
        self._set_target = hook(self.encoder, "set_target_kbps")
        self._flush = hook(self.encoder, "flush")
        self._pacer_free_s = 0.0
        self._timing: dict[int, tuple] = {}  # frame -> (send_s, arrive_s, lost) per packet, until reported
        self.encoder_free_s = 0.0
        self.measure_encode = latency.kind == "measured"
        self._n = 0
        self._frames = None

    def start(self) -> None:
        """Schedule the captures: frame ``n`` at ``start_s + n / fps``.

        Each capture schedules the next with a bare timeout callback rather than running as
        a SimPy process: resuming a generator costs about a microsecond per frame more, and
        the events happen at the same times in the same order.
        """
        self._frames = iter(self.frames_in)
        self._next_capture()

    def _next_capture(self) -> None:
        if self._n >= self.num_frames:
            return
        capture_s = self.start_s + self._n * self.interval_s
        now = self.env.now
        if capture_s > now:
            self.env.timeout(capture_s - now).callbacks.append(self._capture)
        else:
            self._capture(None)

    def _capture(self, _event) -> None:
        c, n, now = self.cols, self._n, self.env.now
        capture_s = self.start_s + n * self.interval_s
        frame = next(self._frames)
        r = self.row0 + n
        c.capture_ms[r] = capture_s * 1e3
        if self.screen is not None:
            self.screen.captured(n, capture_s * 1e3, frame.rgb)
        c.scene_cut[r] = frame.scene_cut
        if self.rate is not None:
            for report in self.reports.arrived(now):
                self.rate.on_report(report, now)
            c.target_kbps[r] = kbps = self.rate.target_kbps(now)
            if self.rate.congested(now) and self.encoder_free_s <= now:
                c.plan[r], c.skip_reason[r] = "skip", "congestion"
                self.drop(self.idx, n)
                self._n = n + 1
                self._next_capture()
                return
            if self._set_target is not None:
                self._set_target(kbps)
        elif self.ceiling_kbps is not None and self._set_target is not None:
            c.target_kbps[r] = self.ceiling_kbps
            self._set_target(self.ceiling_kbps)
        if self.measure_encode:
            t0 = time.perf_counter()
            efs = self.encoder.encode(frame, self.feedback.arrived(now))
            wall_ms = (time.perf_counter() - t0) * 1e3
        else:
            efs, wall_ms = self.encoder.encode(frame, self.feedback.arrived(now)), None
        self.encoder_free_s = max(now, self.encoder_free_s) + self.latency.encode_ms(wall_ms) / 1e3
        if n == self.num_frames - 1 and self._flush is not None:
            efs = list(efs) + self._flush()  # a group codec emits its last, short group
        for ef in efs:  # a traffic model's arrival jitter holds a frame back from the radio (codecs.xr)
            offset_ms = ef.meta.get("ready_offset_ms", 0.0) if ef.meta else 0.0
            self._transmit(ef, self.encoder_free_s + offset_ms / 1e3)
        self._n = n + 1
        self._next_capture()

    def _transmit(self, ef, ready_s: float) -> None:
        c, r = self.cols, self.row0 + ef.frame
        nbytes = ef.nbytes
        sizes = packetise(nbytes, self.mtu)
        c.encode_done_ms[r] = ready_s * 1e3
        c.bytes[r] = nbytes
        c.packets[r] = len(sizes)
        c.kind[r] = ef.kind
        if self.rate is None:
            self.link.transmit(sizes, ready_s, lambda burst: self._sent(ef, sizes, ready_s, ready_s, burst))
            return
        times = self._pace(sizes, ready_s, r)
        self.link.transmit(sizes, times, lambda burst: self._sent(ef, sizes, ready_s, times[0], burst, times))
        self._after_frame(r, nbytes, ready_s)

    def _sent(self, ef, sizes: list[int], ready_s: float, first_ready_s: float, burst: Burst,
              times: list[float] | None = None) -> None:
        """The fate of ``ef``'s first transmission is known: log it, then deliver at its arrival (or NACK).

        ``ready_s``: when the encoder finished it; ``first_ready_s``: when its first packet was queued
        at the radio (later under pacing). ``air_delay_ms`` runs from there to the decoding of its last
        byte (the core network's delay taken off; NaN if a packet was lost: it never arrived)."""
        c, r = self.cols, self.row0 + ef.frame
        c.packets_lost[r] = burst.packets_lost
        c.tx_done_ms[r] = burst.tx_done_s * 1e3
        c.arrive_ms[r] = burst.last_arrival_s * 1e3
        if not burst.packets_lost:
            c.air_delay_ms[r] = (burst.last_arrival_s - self.core_s - first_ready_s) * 1e3
        if times is not None:
            self._timing[ef.frame] = (tuple(times), burst.arrive_s, burst.lost)
        ev = self.env.timeout(burst.last_arrival_s - self.env.now)
        if burst.packets_lost and self.nack:
            missing = [size for size, lost in zip(sizes, burst.lost) if lost]
            ev.callbacks.append(lambda _e: self._missing(ef, missing, ready_s))
        else:
            complete = burst.packets_lost == 0
            ev.callbacks.append(lambda _e: self.deliver(self.idx, ef, complete))

    # --- rate control --------------------------------------------------------
    def _pace(self, sizes: list[int], ready_s: float, r: int) -> list[float]:
        """Send times of ``sizes`` through the pacer: packets leave one by one at :data:`PACE_MULTIPLIER`
        times the target rate (libwebrtc ``goog_cc_network_control.cc`` ``kDefaultPaceMultiplier``), so
        the receiver's reports carry the per-packet timing the delay-based estimator reads."""
        rate_bps = PACE_MULTIPLIER * self.cols.target_kbps[r] * 1e3
        t = max(ready_s, self._pacer_free_s)
        times = []
        for size in sizes:
            times.append(t)
            t += size * 8 / rate_bps
        self._pacer_free_s = t
        return times

    def _after_frame(self, r: int, nbytes: int, ready_s: float) -> None:
        """Tell the rate controller what was sent; send a probe cluster behind the frame if it asks."""
        self.rate.on_sent(nbytes)
        probe = self.rate.probe_kbps(self.env.now)
        if probe is None:
            return
        sizes = probe_cluster(probe, self.mtu)
        self.cols.probe_bytes[r] += sum(sizes)
        self.link.transmit(sizes, ready_s, lambda burst: self._probe_sent(sizes, probe, burst))

    def _probe_sent(self, sizes: list[int], probe: float, burst: Burst) -> None:
        report = ProbeReport(probe_rate_kbps(sizes, burst.arrive_s, burst.lost), probe)
        ev = self.env.timeout(burst.last_arrival_s - self.env.now)
        ev.callbacks.append(lambda _e: self.reports.post(self.env.now, report))

    def report(self, frame: int, now_s: float) -> FrameReport:
        """What the receiver reports about ``frame``, which reached it at ``now_s``: per packet when
        it was sent and when it arrived (the transport-wide feedback of RTP, draft-holmer-rmcat-
        transport-wide-cc-extensions-01), its size and what was lost."""
        c, r = self.cols, self.row0 + frame
        sends, arrive, lost = self._timing.pop(frame, ((), (), ()))
        timing = tuple((t_s, a_s) for t_s, a_s, lo in zip(sends, arrive, lost) if not lo)
        return FrameReport(frame, c.encode_done_ms[r] / 1e3, now_s, int(c.bytes[r]),
                           int(c.packets[r] + c.packets_retx[r]), int(c.packets_lost[r]), timing)

    # --- retransmission ------------------------------------------------------
    def _missing(self, ef, missing: list[int], sent_s: float) -> None:
        """The receiver knows ``missing`` packets (sizes) of ``ef`` are lost: ask again, or give up."""
        now = self.env.now
        round_trip_s = self.feedback_s + (now - sent_s)
        if now + round_trip_s > self.playout_deadline_s(ef.frame):
            self.deliver(self.idx, ef, False)
            return
        ev = self.env.timeout(self.feedback_s)
        ev.callbacks.append(lambda _e: self._retransmit(ef, missing))

    def _retransmit(self, ef, missing: list[int]) -> None:
        """A NACK for ``missing`` packets of ``ef`` reached the sender: queue them again."""
        now = self.env.now
        self.link.transmit(missing, now, lambda burst: self._resent(ef, missing, now, burst))

    def _resent(self, ef, missing: list[int], now: float, burst: Burst) -> None:
        c, r = self.cols, self.row0 + ef.frame
        c.packets_retx[r] += len(missing)
        c.packets_lost[r] = burst.packets_lost
        c.tx_done_ms[r] = burst.tx_done_s * 1e3
        c.arrive_ms[r] = burst.last_arrival_s * 1e3
        still = [size for size, lost in zip(missing, burst.lost) if lost]
        ev = self.env.timeout(burst.last_arrival_s - self.env.now)
        if still:
            ev.callbacks.append(lambda _e: self._missing(ef, still, now))
        else:
            ev.callbacks.append(lambda _e: self.deliver(self.idx, ef, True))
