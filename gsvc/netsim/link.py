"""The downlink of one stream: serves packets over a :class:`ChannelTrace`.

Timing assumptions:

* The stream has the link's resources to itself (one dedicated allocation per stream).
* Packets are served first in, first out. A burst may start only at a slot boundary
  at or after the moment its data is ready and after the previous burst's last slot;
  bits of consecutive packets share transport blocks; the unused end of the last
  slot of a burst is padding.
* A packet reaches the receiver when every slot that carried its bits has been
  delivered (``deliver_s``, which includes HARQ rounds and the core delay); it is
  lost if any of those slots was lost (a radio trace's transport blocks) or, on a trace
  of packet losses (``ChannelTrace.loss_unit="packet"``: ``constant``, ``mahimahi``), if
  the slot carrying its last bit was, so that ``channel.loss_rate`` is the packet loss
  rate on a slow link too (per slot, a 1200 B packet over 50 kbit/s spans 384 slots of
  0.5 ms and 3 % slot loss lost all of them).

Because the link is deterministic once the trace is drawn, a whole burst is
resolved at once with cumulative sums and a binary search over the trace: one
computation per burst, never one event per slot. Without rate control a frame's
packets are one burst; with rate control the pacer gives each packet its own send
time, and each packet is then a burst of its own (one computation per packet, each
starting at a slot boundary). The trace repeats when a run outlasts it.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from typing import Callable, NamedTuple

import numpy as np

from .trace import ChannelTrace

__all__ = ["Link", "Burst"]


class Burst(NamedTuple):
    """The outcome of sending one group of packets (times in s from the run start).

    ``arrive_s``/``lost``: per packet; ``tx_done_s``: end of the last slot used;
    ``last_arrival_s``: when the last packet arrives (or is known lost). A named tuple,
    not a frozen dataclass: one is made per frame and costs a third as much to build.
    """

    tx_start_s: float
    tx_done_s: float
    arrive_s: tuple[float, ...]
    lost: tuple[bool, ...]
    last_arrival_s: float
    packets_lost: int

    @property
    def complete(self) -> bool:
        return self.packets_lost == 0


class Link:
    """FIFO server of packets over a (repeating) channel trace."""

    def __init__(self, trace: ChannelTrace):
        self.trace = trace
        self.n = trace.num_slots
        self.slot_s = trace.slot_s
        self._cum = np.cumsum(trace.tb_bits, dtype=np.int64)  # [n] bits carried through slot i
        self._total = int(self._cum[-1])
        has_bits = trace.tb_bits > 0
        # slots that carry no new data must not delay or lose a packet whose range spans them
        self._deliver = np.where(has_bits, trace.deliver_s, -np.inf)
        self._lost = trace.lost & has_bits
        self._dur = trace.duration_s
        self._cum_list = self._cum.tolist()
        self._deliver_list = self._deliver.tolist()
        self._lost_list = self._lost.tolist()
        self._last_bit_only = trace.loss_unit == "packet"  # a packet's fate is its last slot's
        self.next_slot = 0  # absolute index of the first slot not yet used

    def _fate(self, lo: int, hi: int) -> tuple[float, bool]:
        """Latest delivery time and the loss of a packet over absolute slots ``[lo, hi]``: any slot's, or
        the last slot's on a trace of packet losses."""
        q0, j0 = divmod(lo, self.n)
        q1, j1 = divmod(hi, self.n)
        if q0 == q1:
            return (max(self._deliver_list[j0:j1 + 1]) + q0 * self._dur,
                    self._lost_list[j1] if self._last_bit_only else any(self._lost_list[j0:j1 + 1]))
        span = np.arange(lo, hi + 1)
        idx = span % self.n
        return (float((self._deliver[idx] + (span // self.n) * self._dur).max()),
                self._lost_list[j1] if self._last_bit_only else bool(self._lost[idx].any()))

    def transmit(self, packet_bytes, ready_s, on_burst: Callable[[Burst], None]) -> None:
        """Queue packets (sizes in bytes, in order) ready at ``ready_s`` (one time for all, or one per
        packet: a pacer's send times) and call ``on_burst(burst)`` with their fate. The interface a
        shared carrier's port has too (:class:`gsvc.netsim.carrier.CarrierPort`); here the fate is
        known at once, so the call comes before ``transmit`` returns."""
        if not isinstance(ready_s, (list, tuple)):
            on_burst(self.send(packet_bytes, ready_s))
            return
        arrive, lost, first, b = [], [], None, None
        for size, t in zip(packet_bytes, ready_s):
            b = self.send((size,), t)
            first = b if first is None else first
            arrive.append(b.arrive_s[0])
            lost.append(b.lost[0])
        on_burst(Burst(first.tx_start_s, b.tx_done_s, tuple(arrive), tuple(lost), max(arrive), sum(lost)))

    def send(self, packet_bytes, ready_s: float) -> Burst:
        """Transmit packets (sizes in bytes, in order) whose data is ready at ``ready_s``."""
        first_free = math.ceil(ready_s / self.slot_s - 1e-9)
        start = self.next_slot if self.next_slot > first_free else first_free
        n, total, cum = self.n, self._total, self._cum_list
        q, j = divmod(start, n)
        end_bit = q * total + (cum[j - 1] if j else 0)  # bits carried by slots [0, start)
        deliver, lost_in, dur = self._deliver_list, self._lost_list, self._dur
        if len(packet_bytes) == 1:  # one packet, the common case of a small frame: no lists, no loop
            q0, r0 = divmod(end_bit, total)
            j0 = bisect_left(cum, r0 + 1)
            q1, r1 = divmod(end_bit + packet_bytes[0] * 8 - 1, total)
            j1 = bisect_left(cum, r1 + 1)
            last = q1 * n + j1
            if q0 == q1 and j0 == j1:
                d, l = deliver[j0] + q0 * dur, lost_in[j0]
            else:
                d, l = self._fate(q0 * n + j0, last)
            self.next_slot = last + 1
            # tuple.__new__ skips the named tuple's argument handling (half its cost per frame)
            return tuple.__new__(Burst, (start * self.slot_s, (last + 1) * self.slot_s, (d,), (l,), d, int(l)))
        arrive, lost = [], []
        last = start
        # plain Python over a few packets per frame: numpy's per-call overhead would dominate here;
        # finding a bit's slot, and the fate of a packet in one slot, are inlined (this runs per frame)
        for size in packet_bytes:
            q0, r0 = divmod(end_bit, total)  # the packet's first bit is end_bit + 1
            j0 = bisect_left(cum, r0 + 1)
            end_bit += size * 8
            q1, r1 = divmod(end_bit - 1, total)
            j1 = bisect_left(cum, r1 + 1)
            last = q1 * n + j1
            if q0 == q1 and j0 == j1:  # the packet fits in one slot
                d, l = deliver[j0] + q0 * dur, lost_in[j0]
            else:
                d, l = self._fate(q0 * n + j0, last)
            arrive.append(d)
            lost.append(l)
        self.next_slot = last + 1
        return Burst(start * self.slot_s, (last + 1) * self.slot_s, tuple(arrive), tuple(lost),
                     max(arrive), sum(lost))
