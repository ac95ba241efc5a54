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


def _apply_loss(channel: ChannelSpec, carries: np.ndarray, seed: int) -> np.ndarray:
    """Which slots lose their data: ``[n]`` bool, only where ``carries`` (``[n]`` bool) is set."""
    n, p = len(carries), channel.loss_rate
    if p <= 0:
        return np.zeros(n, bool)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    if channel.loss_model == "bernoulli":
        return (rng.random(n) < p) & carries
    lost = np.zeros(n, bool)
    lost[np.flatnonzero(carries)] = gilbert_elliott(int(carries.sum()), p, channel.loss_burst_slots, rng)
    return lost


def gilbert_elliott(n: int, loss: float, burst: float, rng: np.random.Generator) -> np.ndarray:
    """``[n]`` bool losses of a two-state Markov chain with mean ``loss`` and mean burst ``burst``.

    The simple Gilbert model (E. N. Gilbert, "Capacity of a burst-noise channel", Bell Syst.
    Tech. J. 39(5), 1960; Elliott 1963 adds loss in the good state, zero here): the bad state
    loses everything and lasts a geometric number of slots with mean ``burst`` (leave it with
    probability 1/burst); the good state is left with probability
    ``loss / (burst * (1 - loss))``, which makes the stationary loss ``loss``. The first state
    is drawn from the stationary distribution. Run lengths are drawn in blocks, not slot by slot.
    """
    p_leave = {True: 1.0 / burst, False: loss / (burst * (1.0 - loss))}  # bad -> good, good -> bad
    edges = np.zeros(n + 1, np.int64)  # +1 where a bad run starts, -1 where it ends
    bad = bool(rng.random() < loss)
    pos = 0
    while pos < n:
        k = int(2 * (n - pos) * p_leave[False]) + 16  # about enough runs for the rest, drawn at once
        first, second = rng.geometric(p_leave[bad], k), rng.geometric(p_leave[not bad], k)
        runs = np.empty(2 * k, np.int64)
        runs[0::2], runs[1::2] = first, second
        ends = pos + np.cumsum(runs)
        starts = ends - runs
        sel = slice(0, None, 2) if bad else slice(1, None, 2)  # the bad runs of this block
        np.add.at(edges, np.minimum(starts[sel], n), 1)
        np.add.at(edges, np.minimum(ends[sel], n), -1)
        pos = int(ends[-1])  # the block has an even number of runs: the state is back to `bad`
    return np.cumsum(edges[:n]) > 0


def mahimahi_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """The Mahimahi trace ``channel.trace_file`` as 1-ms slots, plus ``link.core_delay_ms``."""
    stamps = read_mahimahi_ms(channel.trace_file, f"{channel.spec_path}.trace_file")
    period = int(stamps[-1])
    slots = (stamps - 1) % period
    count = np.bincount(slots, minlength=period).astype(np.int64)
    tb_bits = count * channel.trace_packet_bytes * 8
    deliver = (np.arange(period) + 1) * MAHIMAHI_SLOT_S + link.core_delay_ms * 1e-3
    lost = _apply_loss(channel, tb_bits > 0, seed)
    return ChannelTrace(slot_s=MAHIMAHI_SLOT_S, tb_bits=tb_bits, deliver_s=deliver, lost=lost,
                        meta={"model": "mahimahi", "trace_file": os.path.abspath(channel.trace_file),
                              "period_ms": period, "opportunities": int(len(stamps)), "seed": int(seed),
                              "loss_rate": channel.loss_rate, "loss_model": channel.loss_model,
                              "loss_burst_slots": channel.loss_burst_slots})


def constant_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """``channel.rate_mbps`` at the link's slot rate; each slot lost with ``channel.loss_rate``."""
    base = constant_rate_trace(channel.rate_mbps, slot_s=link.slot_s, duration_s=link.trace_s,
                               delay_s=link.core_delay_ms * 1e-3)
    lost = _apply_loss(channel, base.tb_bits > 0, seed)
    return ChannelTrace(slot_s=base.slot_s, tb_bits=base.tb_bits, deliver_s=base.deliver_s, lost=lost,
                        meta={"model": "constant", "rate_mbps": channel.rate_mbps, "loss_rate": channel.loss_rate,
                              "loss_model": channel.loss_model, "loss_burst_slots": channel.loss_burst_slots,
                              "seed": int(seed)})
