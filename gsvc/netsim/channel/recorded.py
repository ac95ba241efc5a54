"""Traces given as a rate or a recording: constant-rate links, Mahimahi and throughput traces.

Mahimahi format (Netravali et al., "Mahimahi: Accurate Record-and-Replay for
HTTP", USENIX ATC 2015; ``mm-link``): one integer per line, a time in ms at which
one packet of up to 1500 bytes may be delivered; several equal lines are several
packets in that ms. The trace repeats with period equal to its last timestamp.
Here a timestamp ``t`` becomes one opportunity in 1-ms slot ``(t - 1) mod period``,
whose data is delivered at its end, ``t`` ms (so 0 and ``period`` coincide, as in
Mahimahi).

Throughput format (the "time_s, Mbit/s" traces of the FCC and HSDPA sets as Pensieve
(Mao et al., SIGCOMM 2017) and Sabre use them): one ``time_s, rate_mbps`` pair per line,
comma or blank separated, ``#`` comments; the rate holds until the next line's time, the
last one for as long as the interval before it. It becomes 1-ms slots carrying that many
bits (rounded so the total over any span is exact to one bit). ``channel.trace_file`` may
name a bundled trace as ``"bundled:NAME"`` (:func:`bundled_traces`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..trace import ChannelTrace, constant_rate_trace

if TYPE_CHECKING:
    from .linkspec import ChannelSpec, LinkSpec

__all__ = ["read_mahimahi_ms", "read_throughput", "mahimahi_trace", "constant_trace", "bundled_traces",
           "resolve_trace_path", "gilbert_elliott"]

MAHIMAHI_SLOT_S = 1e-3
_BUNDLED = "bundled:"


def bundled_traces() -> list[str]:
    """Names of the traces shipped with gsvc (synthetic, made for tests and examples)."""
    return sorted(p.stem for p in (Path(__file__).parent / "traces").glob("*.csv"))


def resolve_trace_path(path: str, field: str = "channel.trace_file") -> str:
    """The file behind ``channel.trace_file`` (``"bundled:NAME"`` or a path)."""
    if not path.startswith(_BUNDLED):
        return path
    name = path[len(_BUNDLED):]
    if name not in bundled_traces():
        raise ValueError(f"{field}={path!r} names no bundled trace; bundled: {', '.join(bundled_traces())}")
    return str(Path(__file__).parent / "traces" / f"{name}.csv")


def _is_throughput_trace(path: str) -> bool:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = line.split("#", 1)[0].strip()
            if text:
                return len(text.replace(",", " ").split()) == 2
    return False


def read_throughput(path: str, field: str = "channel.trace_file") -> tuple[np.ndarray, np.ndarray]:
    """A "time_s, Mbit/s" trace: ``(times_s [n], rates_mbps [n])`` float64, times increasing from >= 0."""
    times, rates = [], []
    with open(path, encoding="utf-8") as fh:
        for num, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.replace(",", " ").split()
            try:
                t, r = (float(x) for x in parts)
            except ValueError:
                raise ValueError(f"{field}={path!r} line {num}: {text!r} is not 'time_s, Mbit/s'") from None
            if not (np.isfinite(t) and np.isfinite(r)) or t < 0 or r < 0 or (times and t <= times[-1]):
                raise ValueError(f"{field}={path!r} line {num}: time {t:g} s must be >= 0 and increase, "
                                 f"rate {r:g} Mbit/s must be >= 0")
            times.append(t)
            rates.append(r)
    if not times or max(rates) <= 0:
        raise ValueError(f"{field}={path!r} has no positive rate; a throughput trace needs at least one")
    return np.asarray(times), np.asarray(rates)


def _throughput_slots(times_s: np.ndarray, rates_mbps: np.ndarray) -> np.ndarray:
    """Bits per 1-ms slot, ``[period_ms]`` int64, of a piecewise-constant rate (repeating)."""
    last = times_s[-1] - times_s[-2] if len(times_s) > 1 else 1.0
    ends = np.append(times_s[1:], times_s[-1] + last) - times_s[0]
    period = max(1, int(round(ends[-1] * 1e3)))
    t_s = np.arange(1, period + 1) * 1e-3  # slot ends, s from the first sample
    edges = np.append(0.0, ends)
    bits_at_edges = np.append(0.0, np.cumsum(rates_mbps * 1e6 * np.diff(edges)))
    cum = np.rint(np.interp(t_s, edges, bits_at_edges)).astype(np.int64)  # exact: the rate is piecewise constant
    return np.diff(np.append(0, cum))


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
    """Which slots lose the packets that end in them: ``[n]`` bool, only where ``carries`` (``[n]`` bool) is set."""
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
    """The recorded trace ``channel.trace_file`` (Mahimahi or throughput format) as 1-ms slots,
    plus ``link.core_delay_ms``."""
    field = f"{channel.spec_path}.trace_file"
    path = resolve_trace_path(channel.trace_file, field)
    if not os.path.isfile(path):
        raise ValueError(f"{field}={channel.trace_file!r} does not exist")
    if _is_throughput_trace(path):
        tb_bits = _throughput_slots(*read_throughput(path, field))
        period, stamps = len(tb_bits), None
    else:
        stamps = read_mahimahi_ms(path, field)
        period = int(stamps[-1])
        count = np.bincount((stamps - 1) % period, minlength=period).astype(np.int64)
        tb_bits = count * channel.trace_packet_bytes * 8
    deliver = (np.arange(period) + 1) * MAHIMAHI_SLOT_S + link.core_delay_ms * 1e-3
    lost = _apply_loss(channel, tb_bits > 0, seed)
    return ChannelTrace(slot_s=MAHIMAHI_SLOT_S, tb_bits=tb_bits, deliver_s=deliver, lost=lost, loss_unit="packet",
                        meta={"model": "mahimahi", "trace_file": os.path.abspath(path),
                              "format": "throughput" if stamps is None else "mahimahi",
                              "period_ms": period, "opportunities": int(np.count_nonzero(tb_bits)), "seed": int(seed),
                              "loss_rate": channel.loss_rate, "loss_model": channel.loss_model,
                              "loss_burst_slots": channel.loss_burst_slots})


def constant_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """``channel.rate_mbps`` at the link's slot rate; each packet lost with ``channel.loss_rate`` (drawn on the
    slot that carries its last bit, :attr:`ChannelTrace.loss_unit` ``"packet"``)."""
    base = constant_rate_trace(channel.rate_mbps, slot_s=link.slot_s, duration_s=link.trace_s,
                               delay_s=link.core_delay_ms * 1e-3)
    lost = _apply_loss(channel, base.tb_bits > 0, seed)
    return ChannelTrace(slot_s=base.slot_s, tb_bits=base.tb_bits, deliver_s=base.deliver_s, lost=lost,
                        loss_unit="packet",
                        meta={"model": "constant", "rate_mbps": channel.rate_mbps, "loss_rate": channel.loss_rate,
                              "loss_model": channel.loss_model, "loss_burst_slots": channel.loss_burst_slots,
                              "seed": int(seed)})
