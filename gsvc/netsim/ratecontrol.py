"""Sender rate control: a target bitrate from the receiver's reports (``link.rate_control``).

The receiver reports, for every frame it receives, when the frame was sent, when its last
packet arrived, its size and its lost packets (:class:`FrameReport`); the reports reach the
sender after ``link.feedback_delay_ms``, as transport-wide feedback does in WebRTC. Before
each frame the sender asks its controller for a target and hands it to the encoder.

* ``"gcc"``: Google Congestion Control in the form of libwebrtc's ``goog_cc`` (H. Lundin
  et al., draft-ietf-rmcat-gcc-02, 2016; constants from libwebrtc
  ``modules/congestion_controller/goog_cc/trendline_estimator.cc`` and
  ``modules/remote_bitrate_estimator/aimd_rate_control.cc``):

  - *trendline*: per frame the delay variation ``d = (arrival_i - arrival_{i-1}) -
    (send_i - send_{i-1})`` is accumulated, smoothed (coefficient 0.9) and a least-squares
    line fitted over the last 20 frames; its slope times ``min(n, 60) * 4`` is the
    modified trend;
  - *overuse detector*: overuse when the modified trend exceeds an adaptive threshold
    (start 12.5 ms, ``k_up`` 0.0087, ``k_down`` 0.039 per ms, clamped to [6, 600]) for more
    than 10 ms and at least two frames while the trend does not fall; underuse below minus
    the threshold;
  - *AIMD*: on overuse the rate falls to 0.85 of the throughput the receiver measured
    (500 ms window) and holds; otherwise it grows, 8 % per second while the link capacity
    is unknown, and by about one packet per response time (RTT + 100 ms) once an
    overuse has shown where the capacity is; never above 1.5 x throughput + 10 kbit/s;
  - *loss-based bound* (draft-ietf-rmcat-gcc-02 sec. 6): with more than 10 % of the
    packets of the last second lost it falls by half the loss fraction, below 2 % it
    grows by 5 % per second; the target is the smaller of the two.

  - *congestion window* (libwebrtc ``goog_cc_network_control.cc`` with the default of
    ``rtc_base/experiments/rate_control_settings.cc``, ``QueueSize:350,DropFrame:true``):
    while more bytes have been sent but not yet reported than the target carries in the
    smallest RTT + 350 ms, the sender drops frames before the encoder (they are logged as
    ``skipped``, ``skip_reason="congestion"``);
  - *probing* (gsvc's rule, in the spirit of libwebrtc's probe after a large drop): while
    the estimate is below 2/3 of the highest target of the last 10 s, once a second a
    cluster of padding packets (at least 5, 15 ms at the probe rate) is sent at
    ``min(2 x target, that highest target)``; if the receiver measures it arriving at 90 %
    of that rate or more, the estimate jumps to the measured rate.

  A reduced form: no application-limited-region logic, no separate acknowledged-rate
  estimator (the receiver's windowed throughput stands in for it), no pacer (a frame's
  packets leave together).
* ``"throughput"``: a rate-based rule as throughput-driven ABR uses it: 0.9 times the
  harmonic mean of the last five frames' delivery rates, each a frame's bits over the
  time it spent on the link beyond the smallest one-way delay seen (so an idle link
  reports its capacity and a queue lowers the estimate).

Targets are clamped to ``[min_kbps, max_kbps]``.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = ["FrameReport", "ProbeReport", "GccController", "ThroughputController", "make_rate_controller",
           "probe_cluster", "probe_rate_kbps"]


@dataclass(frozen=True)
class ProbeReport:
    """The receiver's measurement of one probe cluster: its delivery rate, kbit/s."""

    rate_kbps: float
    probe_kbps: float


@dataclass(frozen=True)
class FrameReport:
    """What the receiver reports about one received frame (times in s from the run start)."""

    frame: int
    send_s: float  # when the sender handed it to the link
    arrive_s: float  # when its last packet arrived (or was known lost)
    bytes: int
    packets: int
    packets_lost: int
    #: (send_s, arrive_s) of every packet that arrived, in sending order
    packet_times: tuple[tuple[float, float], ...] = ()


# libwebrtc delay_based_bwe.cc
_GROUP_S = 0.005
# libwebrtc trendline_estimator.cc
_SMOOTHING = 0.9
_WINDOW = 20
_THRESHOLD_GAIN = 4.0
_MIN_NUM_DELTAS = 60
_K_UP, _K_DOWN = 0.0087, 0.039
_OVERUSE_TIME_MS = 10.0
_MAX_ADAPT_OFFSET_MS = 15.0
# libwebrtc aimd_rate_control.cc
_BETA = 0.85
_MULTIPLICATIVE_PER_S = 1.08
_PACKET_BYTES = 1200
_ASSUMED_FRAME_S = 1 / 30
_MIN_ADDITIVE_BPS_PER_S = 4000.0
_THROUGHPUT_WINDOW_S = 0.5
# rate_control_settings.cc (congestion window: accepted queue)
_QUEUE_S = 0.350
# probing (gsvc's rule; cluster size as libwebrtc's kMinProbePacketsSent / kMinProbeDurationMs)
_PROBE_PACKETS, _PROBE_S = 5, 0.015
_PROBE_INTERVAL_S, _PROBE_MEMORY_S, _PROBE_BELOW = 1.0, 10.0, 2 / 3
# draft-ietf-rmcat-gcc-02 sec. 6
_LOSS_HIGH, _LOSS_LOW = 0.10, 0.02
_LOSS_WINDOW_S = 1.0


class _Trendline:
    """Overuse detection from the delay variation of consecutive frames (libwebrtc's estimator)."""

    def __init__(self):
        self.accumulated_ms = self.smoothed_ms = 0.0
        self.history: deque[tuple[float, float]] = deque()
        self.first_arrival_ms: float | None = None
        self.num_deltas = 0
        self.threshold_ms = 12.5
        self.prev_trend = 0.0
        self.time_over_ms = -1.0
        self.overuse_count = 0
        self.last_update_ms: float | None = None
        self.state = "normal"

    def update(self, recv_delta_ms: float, send_delta_ms: float, arrival_ms: float) -> str:
        self.num_deltas = min(self.num_deltas + 1, 1000)
        if self.first_arrival_ms is None:
            self.first_arrival_ms = arrival_ms
        self.accumulated_ms += recv_delta_ms - send_delta_ms
        self.smoothed_ms = _SMOOTHING * self.smoothed_ms + (1 - _SMOOTHING) * self.accumulated_ms
        self.history.append((arrival_ms - self.first_arrival_ms, self.smoothed_ms))
        if len(self.history) > _WINDOW:
            self.history.popleft()
        trend = self.prev_trend
        if len(self.history) == _WINDOW:
            trend = _slope(self.history, trend)
        self._detect(trend, send_delta_ms, arrival_ms)
        return self.state

    def _detect(self, trend: float, send_delta_ms: float, now_ms: float) -> None:
        if self.num_deltas < 2:
            self.state = "normal"
            return
        modified = min(self.num_deltas, _MIN_NUM_DELTAS) * trend * _THRESHOLD_GAIN
        if modified > self.threshold_ms:
            self.time_over_ms = send_delta_ms / 2 if self.time_over_ms < 0 else self.time_over_ms + send_delta_ms
            self.overuse_count += 1
            if self.time_over_ms > _OVERUSE_TIME_MS and self.overuse_count > 1 and trend >= self.prev_trend:
                self.time_over_ms, self.overuse_count = 0.0, 0
                self.state = "overuse"
        elif modified < -self.threshold_ms:
            self.time_over_ms, self.overuse_count, self.state = -1.0, 0, "underuse"
        else:
            self.time_over_ms, self.overuse_count, self.state = -1.0, 0, "normal"
        self.prev_trend = trend
        self._adapt(modified, now_ms)

    def _adapt(self, modified: float, now_ms: float) -> None:
        if self.last_update_ms is None:
            self.last_update_ms = now_ms
        if abs(modified) > self.threshold_ms + _MAX_ADAPT_OFFSET_MS:
            self.last_update_ms = now_ms  # a sudden capacity drop: do not adapt to the spike
            return
        k = _K_DOWN if abs(modified) < self.threshold_ms else _K_UP
        dt_ms = min(now_ms - self.last_update_ms, 100.0)
        self.threshold_ms = min(max(self.threshold_ms + k * (abs(modified) - self.threshold_ms) * dt_ms, 6.0), 600.0)
        self.last_update_ms = now_ms


def _slope(points, default: float) -> float:
    n = len(points)
    x_avg = sum(p[0] for p in points) / n
    y_avg = sum(p[1] for p in points) / n
    num = sum((x - x_avg) * (y - y_avg) for x, y in points)
    den = sum((x - x_avg) ** 2 for x, _ in points)
    return default if den == 0 else num / den


class GccController:
    """Delay- and loss-based target bitrate (see the module docstring); all rates kbit/s."""

    kind = "gcc"

    def __init__(self, start_kbps: float, min_kbps: float, max_kbps: float, uplink_delay_s: float):
        self.min_kbps, self.max_kbps = min_kbps, max_kbps
        self.delay_kbps = self.loss_kbps = start_kbps
        self.uplink_s = uplink_delay_s
        self.trend = _Trendline()
        self.state = "hold"
        self.capacity_kbps: float | None = None
        self._last: FrameReport | None = None
        self._group: tuple[float, float] | None = None  # (send s, arrival s) of the last packet group
        self._last_change_s: float | None = None
        self._last_loss_s: float | None = None
        self._recent: deque[FrameReport] = deque()
        self._rtt_s = 0.1
        self._min_rtt_s = math.inf
        self._outstanding_bytes = 0
        self._history: deque[tuple[float, float]] = deque()  # (time s, target kbit/s)
        self._last_probe_s = -math.inf

    def on_sent(self, nbytes: int) -> None:
        """The sender put ``nbytes`` of media on the link."""
        self._outstanding_bytes += nbytes

    def probe_kbps(self, now_s: float) -> float | None:
        """The rate of a probe cluster to send now, or None."""
        if now_s - self._last_probe_s < _PROBE_INTERVAL_S or not self._history:
            return None
        best = max(k for _, k in self._history)
        estimate = min(self.delay_kbps, self.loss_kbps)
        if estimate >= _PROBE_BELOW * best:
            return None
        self._last_probe_s = now_s
        return min(2 * estimate, best)

    def on_report(self, rep, now_s: float) -> None:
        """A receiver report reached the sender at ``now_s``."""
        if isinstance(rep, ProbeReport):
            if rep.rate_kbps >= 0.9 * rep.probe_kbps:
                self.delay_kbps = max(self.delay_kbps, min(rep.rate_kbps, self.max_kbps))
                self.loss_kbps = max(self.loss_kbps, self.delay_kbps)
                self.capacity_kbps = None
            return
        self._outstanding_bytes -= rep.bytes
        self._recent.append(rep)
        while self._recent and self._recent[0].arrive_s < rep.arrive_s - max(_LOSS_WINDOW_S, _THROUGHPUT_WINDOW_S):
            self._recent.popleft()
        self._rtt_s = self.uplink_s + max(0.0, rep.arrive_s - rep.send_s)
        self._min_rtt_s = min(self._min_rtt_s, self._rtt_s)
        if self._last is None or rep.frame > self._last.frame:
            for send_s, arrive_s in self._groups(rep):
                if self._group is not None:
                    usage = self.trend.update((arrive_s - self._group[1]) * 1e3, (send_s - self._group[0]) * 1e3,
                                              arrive_s * 1e3)
                    self._aimd(usage, now_s)
                self._group = (send_s, arrive_s)
            self._last = rep
        self._loss_update(now_s)

    @staticmethod
    def _groups(rep: FrameReport) -> list[tuple[float, float]]:
        """The report's packets as send-time groups (libwebrtc ``delay_based_bwe.cc``
        ``kSendTimeGroupLength``, 5 ms): ``(last send, last arrival)`` of each, in s."""
        if not rep.packet_times:
            return [(rep.send_s, rep.arrive_s)]
        groups, start = [], None
        for send_s, arrive_s in rep.packet_times:
            if start is None or send_s - start > _GROUP_S:
                groups.append([send_s, arrive_s])
                start = send_s
            else:
                groups[-1] = [send_s, max(groups[-1][1], arrive_s)]
        return [tuple(g) for g in groups]

    def _throughput_kbps(self) -> float:
        last = self._recent[-1].arrive_s
        bits = sum(r.bytes * 8 for r in self._recent if r.arrive_s > last - _THROUGHPUT_WINDOW_S)
        return bits / _THROUGHPUT_WINDOW_S / 1e3

    def _aimd(self, usage: str, now_s: float) -> None:
        if usage == "overuse":
            self.state = "decrease"
        elif usage == "underuse":
            self.state = "hold"
        elif self.state == "hold":
            self.state, self._last_change_s = "increase", now_s
        measured = self._throughput_kbps()
        if self.state == "decrease":
            self.capacity_kbps = measured if self.capacity_kbps is None else 0.95 * self.capacity_kbps + 0.05 * measured
            self.delay_kbps = min(self.delay_kbps, _BETA * measured)
            self.state, self._last_change_s = "hold", now_s
        elif self.state == "increase":
            dt_s = 0.0 if self._last_change_s is None else min(now_s - self._last_change_s, 1.0)
            if self.capacity_kbps is not None and measured > 1.5 * self.capacity_kbps:
                self.capacity_kbps = None  # far above the old capacity: it has changed
            if self.capacity_kbps is None:
                step = max(self.delay_kbps * (_MULTIPLICATIVE_PER_S ** dt_s - 1.0), 1.0 * dt_s)
            else:
                frame_bits = self.delay_kbps * 1e3 * _ASSUMED_FRAME_S
                packet_bits = frame_bits / max(1.0, math.ceil(frame_bits / (_PACKET_BYTES * 8)))
                rate_bps_per_s = max(_MIN_ADDITIVE_BPS_PER_S, packet_bits / (self._rtt_s + 0.1))
                step = rate_bps_per_s * dt_s / 1e3
            self.delay_kbps = min(self.delay_kbps + step, 1.5 * measured + 10.0)
            self._last_change_s = now_s
        self.delay_kbps = min(max(self.delay_kbps, self.min_kbps), self.max_kbps)

    def _loss_update(self, now_s: float) -> None:
        if self._last_loss_s is not None and now_s - self._last_loss_s < 0.1:
            return
        dt_s = 0.0 if self._last_loss_s is None else min(now_s - self._last_loss_s, 1.0)
        self._last_loss_s = now_s
        packets = sum(r.packets for r in self._recent)
        lost = sum(r.packets_lost for r in self._recent) / packets if packets else 0.0
        if lost > _LOSS_HIGH:
            self.loss_kbps *= 1 - 0.5 * lost * dt_s
        elif lost < _LOSS_LOW:
            self.loss_kbps *= 1.05 ** dt_s
        self.loss_kbps = min(max(self.loss_kbps, self.min_kbps), self.max_kbps)

    def _target(self) -> float:
        return min(max(min(self.delay_kbps, self.loss_kbps), self.min_kbps), self.max_kbps)

    def target_kbps(self, now_s: float) -> float:
        """The encoder's target for the next frame (remembered for the probing rule)."""
        target = self._target()
        self._history.append((now_s, target))
        while self._history[0][0] < now_s - _PROBE_MEMORY_S:
            self._history.popleft()
        return target

    def congested(self, now_s: float) -> bool:
        """The congestion window is full: drop the next frame before the encoder."""
        if not math.isfinite(self._min_rtt_s):
            return False
        window_bytes = self._target() * 1e3 / 8 * (self._min_rtt_s + _QUEUE_S)
        return self._outstanding_bytes > window_bytes


def probe_cluster(rate_kbps: float, mtu_bytes: int) -> list[int]:
    """Padding packet sizes (bytes) of one probe cluster at ``rate_kbps``: at least
    :data:`_PROBE_PACKETS` packets and :data:`_PROBE_S` of data at that rate."""
    total = max(rate_kbps * 1e3 / 8 * _PROBE_S, _PROBE_PACKETS * 100)
    n = max(_PROBE_PACKETS, math.ceil(total / mtu_bytes))
    return [int(math.ceil(total / n))] * n


def probe_rate_kbps(sizes: list[int], arrive_s, lost) -> float:
    """Delivery rate of a probe cluster as the receiver measures it: the bits after the first
    packet over the spread of the arrivals (kbit/s; 0 if fewer than two arrived)."""
    got = [(t, b) for t, b, lo in zip(arrive_s, sizes, lost) if not lo]
    if len(got) < 2:
        return 0.0
    spread_s = max(t for t, _ in got) - min(t for t, _ in got)
    bits = sum(b for _, b in got[1:]) * 8
    return math.inf if spread_s <= 0 else bits / spread_s / 1e3


class ThroughputController:
    """Target = 0.9 x harmonic mean of the last five frames' delivery rates (kbit/s)."""

    kind = "throughput"

    def __init__(self, start_kbps: float, min_kbps: float, max_kbps: float, uplink_delay_s: float):
        self.min_kbps, self.max_kbps, self.start_kbps = min_kbps, max_kbps, start_kbps
        self._rates: deque[float] = deque(maxlen=5)
        self._base_s = math.inf

    def on_sent(self, nbytes: int) -> None:
        pass

    def probe_kbps(self, now_s: float) -> None:
        return None

    def congested(self, now_s: float) -> bool:
        return False

    def on_report(self, rep: FrameReport, now_s: float) -> None:
        transit_s = rep.arrive_s - rep.send_s
        self._base_s = min(self._base_s, transit_s)
        on_link_s = transit_s - self._base_s
        if on_link_s > 1e-6:
            self._rates.append(rep.bytes * 8 / on_link_s / 1e3)

    def target_kbps(self, now_s: float) -> float:
        if not self._rates:
            return self.start_kbps
        hm = len(self._rates) / sum(1.0 / r for r in self._rates)
        return min(max(0.9 * hm, self.min_kbps), self.max_kbps)


def make_rate_controller(kind: str, start_kbps: float, uplink_delay_s: float, min_kbps: float = 10.0,
                         max_kbps: float | None = None):
    """The controller named by ``link.rate_control`` (None for ``"off"``)."""
    if kind == "off":
        return None
    cls = {"gcc": GccController, "throughput": ThroughputController}[kind]
    return cls(start_kbps, min_kbps, start_kbps if max_kbps is None else max_kbps, uplink_delay_s)
