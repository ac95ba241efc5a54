"""Traces given as a rate or a recording: constant-rate links and Mahimahi traces.

Mahimahi format (Netravali et al., "Mahimahi: Accurate Record-and-Replay for
HTTP", USENIX ATC 2015; ``mm-link``): one integer per line, a time in ms at which
one packet of up to 1500 bytes may be delivered; several equal lines are several
packets in that ms. The trace repeats with period equal to its last timestamp.
Here a timestamp ``t`` becomes one opportunity in 1-ms slot ``(t - 1) mod period``,
whose data is delivered at its end, ``t`` ms (so 0 and ``period`` coincide, as in
Mahimahi).
"""
from __future__ import annotations

import os

import numpy as np

from ..trace import ChannelTrace, constant_rate_trace
from .spec import ChannelSpec, LinkSpec

__all__ = ["read_mahimahi_ms", "mahimahi_trace", "constant_trace"]

MAHIMAHI_SLOT_S = 1e-3


def read_mahimahi_ms(path: str, field: str = "channel.trace_file") -> np.ndarray:
    """Timestamps of a Mahimahi trace, ``[num_opportunities]`` int64, ms, non-decreasing.

    Raises ValueError naming ``field`` and the line for a missing or malformed file.
    """
    if not os.path.isfile(path):
        raise ValueError(f"{field}={path!r} does not exist")
    stamps = []
    with open(path, encoding="utf-8") as fh:
        for num, line in enumerate(fh, 1):
            text = line.strip()
            if not text:
                continue
            try:
                t = int(text)
            except ValueError:
                raise ValueError(f"{field}={path!r} line {num}: {text!r} is not an integer ms timestamp") from None
            if t < 0 or (stamps and t < stamps[-1]):
                raise ValueError(f"{field}={path!r} line {num}: timestamp {t} is negative or decreases")
            stamps.append(t)
    if not stamps or stamps[-1] <= 0:
        raise ValueError(f"{field}={path!r} has no positive timestamp; a Mahimahi trace needs at least one")
    return np.asarray(stamps, np.int64)


def _apply_loss(lost_p: float, n: int, seed: int) -> np.ndarray:
    if lost_p <= 0:
        return np.zeros(n, bool)
    return np.random.default_rng(np.random.SeedSequence(int(seed))).random(n) < lost_p


def mahimahi_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """The Mahimahi trace ``channel.trace_file`` as 1-ms slots, plus ``link.core_delay_ms``."""
    stamps = read_mahimahi_ms(channel.trace_file, f"{channel.spec_path}.trace_file")
    period = int(stamps[-1])
    slots = (stamps - 1) % period
    count = np.bincount(slots, minlength=period).astype(np.int64)
    tb_bits = count * channel.trace_packet_bytes * 8
    deliver = (np.arange(period) + 1) * MAHIMAHI_SLOT_S + link.core_delay_ms * 1e-3
    lost = _apply_loss(channel.loss_rate, period, seed) & (tb_bits > 0)
    return ChannelTrace(slot_s=MAHIMAHI_SLOT_S, tb_bits=tb_bits, deliver_s=deliver, lost=lost,
                        meta={"model": "mahimahi", "trace_file": os.path.abspath(channel.trace_file),
                              "period_ms": period, "opportunities": int(len(stamps)), "seed": int(seed),
                              "loss_rate": channel.loss_rate})


def constant_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """``channel.rate_mbps`` at the link's slot rate; each slot lost with ``channel.loss_rate``."""
    base = constant_rate_trace(channel.rate_mbps, slot_s=link.slot_s, duration_s=link.trace_s,
                               delay_s=link.core_delay_ms * 1e-3)
    lost = _apply_loss(channel.loss_rate, base.num_slots, seed) & (base.tb_bits > 0)
    return ChannelTrace(slot_s=base.slot_s, tb_bits=base.tb_bits, deliver_s=base.deliver_s, lost=lost,
                        meta={"model": "constant", "rate_mbps": channel.rate_mbps, "loss_rate": channel.loss_rate,
                              "seed": int(seed)})
