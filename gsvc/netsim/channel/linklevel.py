"""Per-slot trace of a fading link: Sionna channel -> SINR per PRB group -> EESM -> OLLA + HARQ.

Steps, for chunks of slots at a time (memory stays bounded for hour-long traces):

1. Draw one channel realisation (:mod:`.sources`) and evaluate its frequency
   response at the centre of every PRB group (RBG, TS 38.214 Table 5.1.2.2.1-1) at
   the start of every slot (:mod:`.fading`); the channel is assumed constant within
   a slot.
2. SINR per group = mean SNR x sum over receive antennas of |H|^2 (MRC).
3. EESM effective SINR for every MCS (:func:`.phy.effective_sinr_db`, NumPy).
4. Link adaptation, decoding draws and HARQ (:class:`.harq.HarqOlla`).

Uplink (``link.direction="uplink"``): Sionna's PUSCH BLER tables (:func:`.phy.phy_tables` with
``is_pusch=True``); for ``umi``/``uma`` (:mod:`.geofading`) the UE transmits with open-loop power control on the whole
carrier (:func:`.uplink.open_loop_tx_power_dbm`, TS 38.213 Sec. 7.1.1, with ``cell.ue_power_dbm``,
``cell.p0_dbm``, ``cell.alpha``; PL = path loss plus the shadowing the UE measures in its RSRP) and the
base station's noise figure ``cell.bs_noise_figure_db`` sets the noise; ``channel.tx_power_dbm`` and
``channel.noise_figure_db`` are not read. Other models take ``channel.snr_db`` as the uplink's SNR.

The trace covers ``link.trace_s``; blocks started near its end finish their
retransmissions in extra slots after it (their ``deliver_s`` may exceed the trace
duration). When a run outlasts the trace and it repeats, those extra slots are
not carried into the repetition.

Random streams, all derived from ``seed`` with ``numpy.random.SeedSequence``: the
fading draw (a ``torch.Generator``), geometry (LoS state, shadowing) and the
per-slot decoding draws (``numpy.random.Generator``). No global generator is used.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..trace import ChannelTrace
from . import numerology as nr
from .fading import SumOfSinusoids, frequency_response
from .harq import HarqOlla
from .phy import effective_sinr_db, phy_tables
from .linkspec import ChannelSpec, LinkSpec

__all__ = ["draw_link_level", "draw_fading", "slot_sinr", "linear_snr", "CHUNK_SLOTS"]

#: slots per chunk: bounds memory (a few MB per chunk) while keeping the number of array calls small
CHUNK_SLOTS = 32768


def _versions() -> dict:
    from ..._version import __version__
    from .cache import library_versions
    return {"gsvc": __version__, **library_versions()}


def _streams(seed: int) -> tuple[torch.Generator, np.random.Generator, np.random.Generator]:
    fading, geo, decode = np.random.SeedSequence(int(seed)).spawn(3)
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int(fading.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return gen, np.random.default_rng(geo), np.random.default_rng(decode)


def draw_fading(channel: ChannelSpec, link: LinkSpec, n_prb: int, num_slots: int, gen: torch.Generator,
                rng: np.random.Generator, cell=None) -> tuple[SumOfSinusoids | None, np.ndarray | float, dict]:
    """(fading realisation or None, mean SNR per slot in dB ([num_slots] or scalar), meta) of
    ``channel.model``'s fading draw (:class:`~.models.ChannelModel`).

    ``cell``: a :class:`~.cellspec.CellSpec` whose uplink power control and BS noise figure an uplink
    ``umi``/``uma`` link uses (None: ``CellSpec()``'s defaults); not read by the downlink.
    """
    from .cellspec import CellSpec
    from .models import channel_model
    cell = CellSpec() if cell is None else cell
    return channel_model(channel.model).fading(channel, link, n_prb, num_slots, gen, rng, cell)


def linear_snr(snr_db) -> np.ndarray:
    """Mean SNR (dB, scalar or ``[num_slots]``) as float32 linear power ratios."""
    return (10.0 ** (np.asarray(snr_db, np.float64) / 10.0)).astype(np.float32)


def slot_sinr(sos: SumOfSinusoids | None, snr_lin: np.ndarray, freqs_hz: np.ndarray, start: int, slot_s: float,
              num_slots: int, num_rx_ant: int) -> np.ndarray:
    """``[num_slots, G]`` float32 linear SINR per PRB group of slots ``start ..``: the channel's MRC
    gain (``num_rx_ant`` without fading, ``sos`` None) times the mean SNR (:func:`linear_snr`)."""
    if sos is None:
        gain = np.full((num_slots, len(freqs_hz)), num_rx_ant, np.float32)
    else:
        h = frequency_response(sos, freqs_hz, start * slot_s, slot_s, num_slots).numpy()   # [T, R, G] complex64
        gain = (h.real * h.real + h.imag * h.imag).sum(axis=1)                           # [T, G] MRC
    snr_t = snr_lin[start:start + num_slots, None] if snr_lin.ndim else snr_lin
    return np.maximum(gain * snr_t, np.float32(1e-12))


def draw_link_level(channel: ChannelSpec, link: LinkSpec, seed: int,
                    chunk_slots: int = CHUNK_SLOTS, *, cell=None) -> ChannelTrace:
    """Draw the trace of a link-level model (see module docstring); ``link.trace_s`` long.

    ``cell``: the :class:`~.cellspec.CellSpec` whose uplink power control (``ue_power_dbm``, ``p0_dbm``,
    ``alpha``) and ``bs_noise_figure_db`` an uplink ``umi``/``uma`` link reads (None: the defaults). A
    cache of uplink traces must key on those fields too.
    """
    fr = nr.frequency_range(channel.carrier_ghz)
    n_prb = nr.num_prb(link.bandwidth_mhz, link.scs_khz, fr)
    slot = link.slot_s
    n_new = max(1, round(link.trace_s / slot))
    rtt = link.harq_rtt_slots
    # room after the trace for the last blocks' retransmissions
    tail = (link.harq_max_retx + 1) * (2 * rtt + 2) + 8 if link.harq_max_retx > 0 else 0
    n_total = n_new + tail
    gen, rng_geo, rng_dec = _streams(seed)
    sos, snr_db, meta = draw_fading(channel, link, n_prb, n_total, gen, rng_geo, cell)
    tables = phy_tables(n_prb, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table, link.bler_target,
                        is_pusch=link.direction == "uplink")
    centres, sizes = nr.prb_groups(n_prb)
    freqs_hz = (np.asarray(centres) - n_prb / 2.0) * 12 * link.scs_khz * 1e3
    weights = (np.asarray(sizes) / n_prb).astype(np.float32)                      # [G]
    mrc_gain_db = 10 * math.log10(channel.num_rx_ant)
    snr_lin = linear_snr(snr_db)                                                  # [] or [n_total]
    snr_mean_db = float(np.mean(snr_db))
    machine = HarqOlla(tables, n_new, slot, link.core_delay_ms * 1e-3, rtt, link.harq_max_retx,
                       link.harq_combining == "chase", None if link.mcs == "olla" else int(link.mcs),
                       link.bler_target, link.olla_step_db, snr_mean_db + mrc_gain_db)
    wideband_db = np.empty(n_new, np.float32)
    for start in range(0, n_total, chunk_slots):
        t = min(chunk_slots, n_total - start)
        sinr = slot_sinr(sos, snr_lin, freqs_hz, start, slot, t, channel.num_rx_ant)  # [T, G] linear
        eff_db = effective_sinr_db(sinr, tables.beta, weights)                      # [T, M] dB
        if start < n_new:
            k = min(t, n_new - start)
            wideband_db[start:start + k] = 10 * np.log10(sinr[:k] @ weights)
        machine.step_chunk(eff_db, rng_dec.random(t))
        if start + t >= n_new and machine.pending == 0:
            break
    machine.give_up_pending()
    out = machine.arrays()
    first = out["tx_count"] > 0
    failed_first = out["tx_count"][first] > 1
    failed_first |= out["lost"][first] & (out["tx_count"][first] == 1)
    meta.update({
        "model": channel.model, "seed": int(seed), "num_prb": n_prb, "frequency_range": fr,
        "prb_group_size": nr.rbg_size_prb(n_prb), "re_per_prb": link.re_per_prb, "slot_s": slot,
        "harq": f"{link.harq_combining}-combining, max_retx={link.harq_max_retx}, rtt_slots={rtt}",
        "mcs": link.mcs, "mcs_table": link.mcs_table, "bler_target": link.bler_target,
        "mean_snr_db": snr_mean_db, "versions": _versions(),
        "first_tx_bler": float(failed_first.mean()) if first.any() else float("nan"),
    })
    info = {"sinr_db": wideband_db, "sinr_eff_db": out["sinr_eff_db"], "mcs": out["mcs"],
            "tx_count": out["tx_count"], "retx": out["retx"]}
    if np.ndim(snr_db):
        info["snr_db"] = np.asarray(snr_db[:n_new], np.float32)
    return ChannelTrace(slot_s=slot, tb_bits=out["tb_bits"], deliver_s=out["deliver_s"], lost=out["lost"],
                        info=info, meta=meta)
