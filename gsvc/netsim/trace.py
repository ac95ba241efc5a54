"""The per-slot channel trace that the link reads.

A :class:`ChannelTrace` is drawn once, before the event loop, by
:mod:`gsvc.netsim.channel` (Sionna fading + PHY abstraction + link adaptation +
HARQ, or an ideal or recorded link). The SimPy link then only reads these arrays:
it maps the bits of a transmission burst onto consecutive slots with cumulative
sums, so one burst costs one event however many slots it spans.

Slots are scheduling opportunities of fixed duration ``slot_s``. Slot ``i``
carries ``tb_bits[i]`` bits of *new* data (0 where the slot carries no new data,
e.g. it is busy with a HARQ retransmission or has no allocation). The data of
slot ``i`` reaches the receiver at ``deliver_s[i]`` (its end plus any HARQ
retransmission rounds) unless ``lost[i]`` (HARQ gave up). The trace repeats when
a run outlasts it, like a Mahimahi trace.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ChannelTrace", "constant_rate_trace"]


@dataclass(frozen=True, eq=False)
class ChannelTrace:
    """Per-slot link capacity, delivery time and loss.

    Attributes:
        slot_s: slot duration, s.
        tb_bits: ``[num_slots]`` int64, new-data bits carried in each slot, >= 0.
        deliver_s: ``[num_slots]`` float64, time (from the trace start, s) at which
            the data sent in slot ``i`` is delivered; >= (i + 1) * slot_s.
        lost: ``[num_slots]`` bool, the data of slot ``i`` never arrives (HARQ exhausted).
        loss_unit: what ``lost`` loses. ``"slot"`` (a radio trace): a slot's transport block, so a
            packet is lost if any slot carrying its bits was. ``"packet"`` (a packet-loss process on an
            abstract link, ``constant`` and ``mahimahi``): a packet is lost if the slot carrying its last
            bit was, so each packet is lost with the slots' loss probability, whatever its length in
            slots (packets ending in the same slot share their fate).
        info: free-form per-slot diagnostics (``sinr_db``, ``mcs``, ``tx_count`` ...),
            each ``[num_slots]``; not read by the link.
        meta: description of how the trace was made (model, seed, versions).
    """

    slot_s: float
    tb_bits: np.ndarray
    deliver_s: np.ndarray
    lost: np.ndarray
    info: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    loss_unit: str = "slot"

    def __post_init__(self) -> None:
        n = len(self.tb_bits)
        if n == 0:
            raise ValueError("ChannelTrace needs at least one slot")
        if not (len(self.deliver_s) == len(self.lost) == n):
            raise ValueError(
                f"ChannelTrace arrays differ in length: tb_bits {n}, deliver_s {len(self.deliver_s)}, lost {len(self.lost)}")
        if self.slot_s <= 0:
            raise ValueError(f"ChannelTrace.slot_s={self.slot_s} must be > 0")
        if self.loss_unit not in ("slot", "packet"):
            raise ValueError(f"ChannelTrace.loss_unit={self.loss_unit!r} is not 'slot' or 'packet'")
        if int(np.sum(self.tb_bits)) <= 0:
            raise ValueError("ChannelTrace carries no bits at all: the link could never deliver a packet")
        ends = (np.arange(n) + 1) * self.slot_s
        if np.any(self.deliver_s < ends - 1e-9):
            raise ValueError("ChannelTrace.deliver_s is earlier than the end of its slot")

    @property
    def num_slots(self) -> int:
        return len(self.tb_bits)

    @property
    def duration_s(self) -> float:
        return self.num_slots * self.slot_s

    @property
    def goodput_mbps(self) -> float:
        """Delivered (not lost) new-data bits per second over the trace, Mbit/s."""
        ok = np.where(self.lost, 0, self.tb_bits)
        return float(ok.sum()) / self.duration_s / 1e6


def constant_rate_trace(rate_mbps: float, slot_s: float = 0.5e-3, duration_s: float = 1.0,
                        delay_s: float = 0.0) -> ChannelTrace:
    """An error-free link of constant rate: every slot carries ``rate * slot`` bits.

    Fractional bits per slot are spread exactly (cumulative rounding), so the long-run
    rate is ``rate_mbps`` to the bit. ``delay_s`` is added to every delivery.
    """
    if not rate_mbps > 0:
        raise ValueError(f"rate_mbps={rate_mbps} must be > 0")
    n = max(1, int(round(duration_s / slot_s)))
    cum = np.floor(np.arange(1, n + 1) * rate_mbps * 1e6 * slot_s + 1e-9).astype(np.int64)
    tb_bits = np.diff(cum, prepend=0)
    deliver = (np.arange(n) + 1) * slot_s + delay_s
    return ChannelTrace(slot_s=slot_s, tb_bits=tb_bits, deliver_s=deliver, lost=np.zeros(n, bool),
                        meta={"model": "constant-rate", "rate_mbps": rate_mbps})
