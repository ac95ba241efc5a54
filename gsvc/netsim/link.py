"""The downlink of one stream: serves packets over a :class:`ChannelTrace`.

Timing assumptions:

* The stream has the link's resources to itself (one dedicated allocation per stream).
* Packets are served first in, first out. A burst may start only at a slot boundary
  at or after the moment its data is ready and after the previous burst's last slot;
  bits of consecutive packets share transport blocks; the unused end of the last
  slot of a burst is padding.
* A packet reaches the receiver when every slot that carried its bits has been
  delivered (``deliver_s``, which includes HARQ rounds and the core delay); it is
  lost if any of those slots was lost.

Because the link is deterministic once the trace is drawn, a whole burst is
resolved at once with cumulative sums and ``searchsorted`` over the trace: one
computation per burst, never one event per slot. The trace repeats when a run
outlasts it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import ChannelTrace

__all__ = ["Link", "Burst"]


@dataclass(frozen=True)
class Burst:
    """The outcome of sending one group of packets.

    ``arrive_s``/``lost``: ``[num_packets]``; ``tx_done_s``: end of the last slot used.
    """

    tx_start_s: float
    tx_done_s: float
    arrive_s: np.ndarray
    lost: np.ndarray

    @property
    def complete(self) -> bool:
        return not bool(self.lost.any())

    @property
    def last_arrival_s(self) -> float:
        return float(self.arrive_s.max())


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
        self.next_slot = 0  # absolute index of the first slot not yet used

    def _bits_before(self, slot: int) -> int:
        """Bits carried by absolute slots ``[0, slot)`` of the repeating trace."""
        q, j = divmod(slot, self.n)
        return q * self._total + (int(self._cum[j - 1]) if j else 0)

    def _slot_of_bit(self, bit: np.ndarray) -> np.ndarray:
        """Absolute slot that carries bit number ``bit`` (1-based), vectorised."""
        q, r = np.divmod(bit - 1, self._total)
        return q * self.n + np.searchsorted(self._cum, r + 1, side="left")

    def send(self, packet_bytes: np.ndarray, ready_s: float) -> Burst:
        """Transmit packets (sizes in bytes) whose data is ready at ``ready_s``; returns their fate."""
        first_free = int(np.ceil(ready_s / self.slot_s - 1e-9))
        start = max(self.next_slot, first_free)
        base = self._bits_before(start)
        ends = base + np.cumsum(np.asarray(packet_bytes, np.int64) * 8)  # [P] last bit of each packet
        begins = np.concatenate(([base + 1], ends[:-1] + 1))             # [P] first bit of each packet
        first_slot = self._slot_of_bit(begins)
        last_slot = self._slot_of_bit(ends)
        lo, hi = int(first_slot[0]), int(last_slot[-1])
        span = np.arange(lo, hi + 1)
        idx = span % self.n
        deliver = self._deliver[idx] + (span // self.n) * self.trace.duration_s  # [S]
        lost = self._lost[idx]
        # segment k is [first_k, last_k]; reduceat over interleaved (start, end) pairs, keep the even results
        pairs = np.empty(2 * len(ends), dtype=np.int64)
        pairs[0::2] = first_slot - lo
        pairs[1::2] = last_slot - lo + 1
        arrive = np.maximum.reduceat(np.append(deliver, -np.inf), pairs)[0::2]
        lost_p = np.logical_or.reduceat(np.append(lost, False), pairs)[0::2]
        self.next_slot = hi + 1
        return Burst(start * self.slot_s, (hi + 1) * self.slot_s, arrive, lost_p)
