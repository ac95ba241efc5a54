"""Per-UE traces of a shared cell: per-PRB SINR -> scheduler -> per-UE EESM, OLLA and HARQ.

For chunks of slots at a time (memory stays bounded):

1. Per-UE, per-PRB-group SINR at the start of every slot. ``umi``/``uma``: every UE's channel from
   every sector of the Sionna multi-cell drop (:mod:`.multicell`), evaluated at the group centres;
   MRC over the UE's antennas, ``SINR = P |h_s|^2 / (sum_b P |h_s^H h_b|^2 / |h_s|^2 + N)`` with the
   sum over the other sectors when ``cell.interference="full-buffer"`` (each transmits on every PRB
   with the same power; ``P`` = ``channel.tx_power_dbm`` spread over the carrier's PRBs, ``N`` the
   thermal noise of one PRB with ``channel.noise_figure_db``). Other link-level models: every UE its
   own realisation of the model at ``channel.snr_db``, drawn exactly as a dedicated link would draw it.
2. The scheduler splits the groups among the UEs (:mod:`.scheduler`; full-buffer traffic).
3. Each UE's EESM over its own allocation, OLLA on its own reports and HARQ on its own TBs
   (:meth:`.harq.HarqOlla.step_chunk_shared`), TB sizes of TS 38.214 for the PRBs it got.

The outcome is one :class:`~gsvc.netsim.trace.ChannelTrace` per stream, read by the stream's own
link as before (slots where the UE had no PRBs carry no bits). Random streams: the drop and fading
of the cell from ``cell_seed``; each UE's decoding draws (and, without geometry, its fading) from
its stream's trace seed, the same streams a dedicated link of that seed uses, so one UE alone under
``"pf"`` sees exactly the channel it would have on its own carrier.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..trace import ChannelTrace
from . import numerology as nr
from .cellspec import GEOMETRY_MODELS, CellSpec
from .fading import frequency_response
from .geometry import noise_power_dbm
from .harq import HarqOlla
from .phy import effective_sinr_alloc_db, phy_tables, tb_size_table
from .scheduler import Scheduler
from .spec import ChannelSpec, LinkSpec

__all__ = ["draw_cell_traces", "cell_stats", "cell_layout", "jain_index", "StarvedUE", "UE_FACTS"]

#: slots per chunk (10 UEs x 21 sectors: a few tens of MB per chunk)
CHUNK_SLOTS = 8192


#: keys of a cell trace's ``meta`` that describe its own UE; the others describe the whole cell
UE_FACTS = ("ue", "seed", "prb_share", "mean_sinr_db", "mean_snr_db", "distance_m", "los", "indoor",
            "geometry_sinr_db", "coupling_gain_db")


def power_mean_db(x_db) -> float:
    """Mean of linear powers given in dB, in dB (``10 lg mean(10^(x/10))``)."""
    return float(10 * np.log10(np.mean(10 ** (np.asarray(x_db, float) / 10))))


def cell_layout(trace: ChannelTrace) -> dict:
    """What a cell trace's ``meta`` says of the whole cell (layout, scheduler, numerology), without
    its own UE's facts (:data:`UE_FACTS`)."""
    return {k: v for k, v in trace.meta.items() if k not in UE_FACTS}


def jain_index(x) -> float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` (1 = equal shares, 1/n = one takes all)."""
    x = np.asarray(x, float)
    return float(x.sum() ** 2 / (len(x) * (x ** 2).sum())) if len(x) and (x ** 2).sum() > 0 else float("nan")


class StarvedUE(ValueError):
    """A UE got no bits in the whole trace (``max-rate`` starves UEs with poorer channels).

    ``goodputs_mbps``: every UE's goodput over the trace, for studies of the scheduler itself."""

    def __init__(self, message: str, goodputs_mbps: list[float]):
        super().__init__(message)
        self.goodputs_mbps = goodputs_mbps


class _Geometric:
    """SINR of the UEs of a Sionna multi-cell drop (module docstring, step 1)."""

    def __init__(self, channel: ChannelSpec, link: LinkSpec, cell: CellSpec, num_ue: int, n_prb: int, seed: int):
        from .multicell import draw_cell, geometry_sinr_db
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(seed))
        self.drop = draw_cell(channel.model, num_ue=num_ue, rings=cell.rings, isd_m=cell.isd_m,
                              min_distance_m=cell.min_distance_m, max_distance_m=cell.max_distance_m,
                              distances_m=cell.ue_distances_m, indoor_probability=cell.indoor_probability,
                              carrier_ghz=channel.carrier_ghz, speed_kmh=channel.speed_kmh,
                              num_rx_ant=channel.num_rx_ant, los=channel.los, shadowing=channel.shadowing, gen=gen)
        self.interference = cell.interference == "full-buffer"
        p_prb_dbm = channel.tx_power_dbm - 10 * math.log10(n_prb)
        n_prb_dbm = noise_power_dbm(12 * link.scs_khz * 1e3, channel.noise_figure_db)
        self.snr_scale = 10 ** ((p_prb_dbm - n_prb_dbm) / 10)          # P / N for a unit channel gain
        self.geometry_sinr_db = geometry_sinr_db(self.drop.coupling_gain_db, channel.tx_power_dbm,
                                                 n_prb * 12 * link.scs_khz * 1e3, channel.noise_figure_db,
                                                 self.drop.serving, self.interference)

    def sinr(self, freqs_hz, start: int, slot_s: float, t_len: int) -> np.ndarray:
        """``[T, U, G]`` float32 linear SINR of slots ``start ..``."""
        s, t0_s = self.drop.serving, start * slot_s
        out = []
        for per_bs in self.drop.links:
            h_s = frequency_response(per_bs[s], freqs_hz, t0_s, slot_s, t_len).numpy()      # [T, R, G]
            sig = (h_s.real ** 2 + h_s.imag ** 2).sum(axis=1)                              # [T, G] |h_s|^2
            interf = np.zeros_like(sig)
            if self.interference:
                for b, sos in enumerate(per_bs):
                    if b != s:
                        h_b = frequency_response(sos, freqs_hz, t0_s, slot_s, t_len).numpy()
                        proj = (np.conj(h_s) * h_b).sum(axis=1)                             # [T, G] h_s^H h_b
                        interf += proj.real ** 2 + proj.imag ** 2
                interf /= np.maximum(sig, 1e-30)
            sinr = sig * self.snr_scale / (interf * self.snr_scale + 1.0)
            out.append(np.maximum(sinr, 1e-12).astype(np.float32))
        return np.stack(out, axis=1)

    def ue_meta(self, u: int) -> dict:
        d = self.drop
        return {"distance_m": float(d.distance_m[u]), "los": bool(d.los[u]), "indoor": bool(d.indoor[u]),
                "geometry_sinr_db": float(self.geometry_sinr_db[u]),
                "coupling_gain_db": float(d.coupling_gain_db[u, d.serving]), **d.meta}

    def initial_sinr_db(self, u: int, num_rx_ant: int) -> float:
        return float(self.geometry_sinr_db[u]) + 10 * math.log10(num_rx_ant)


class _PerUe:
    """SINR of UEs that each see their own link-level channel at ``channel.snr_db`` (no geometry)."""

    def __init__(self, channel: ChannelSpec, link: LinkSpec, streams_of_ue, n_prb: int, n_total: int):
        from .linklevel import _channel, linear_snr
        self.sos, self.snr_lin, self.snr_db = [], [], []
        for gen, rng_geo in streams_of_ue:
            sos, snr_db, _ = _channel(channel, link, n_prb, n_total, gen, rng_geo)
            self.sos.append(sos)
            self.snr_db.append(float(np.mean(snr_db)))
            self.snr_lin.append(linear_snr(snr_db))
        self.num_rx_ant = channel.num_rx_ant

    def sinr(self, freqs_hz, start: int, slot_s: float, t_len: int) -> np.ndarray:
        """``[T, U, G]`` float32 linear SINR of slots ``start ..``, each UE as its dedicated link sees it."""
        from .linklevel import slot_sinr
        return np.stack([slot_sinr(sos, snr, freqs_hz, start, slot_s, t_len, self.num_rx_ant)
                         for sos, snr in zip(self.sos, self.snr_lin)], axis=1)

    def ue_meta(self, u: int) -> dict:
        return {"mean_snr_db": self.snr_db[u]}

    def initial_sinr_db(self, u: int, num_rx_ant: int) -> float:
        return self.snr_db[u] + 10 * math.log10(num_rx_ant)


def _generate(channel: ChannelSpec, link: LinkSpec, cell: CellSpec, stream_seeds, cell_seed: int,
              chunk_slots: int = CHUNK_SLOTS) -> list[ChannelTrace]:
    from .linklevel import _streams, _versions
    fr = nr.frequency_range(channel.carrier_ghz)
    n_prb = nr.num_prb(link.bandwidth_mhz, link.scs_khz, fr)
    slot = link.slot_s
    n_new = max(1, round(link.trace_s / slot))
    rtt = link.harq_rtt_slots
    num_ue = len(stream_seeds)
    # room after the trace for the last blocks' retransmissions (each waits for its UE's turn too)
    tail = ((link.harq_max_retx + 1) * (2 * rtt + 2) + 8) * max(1, num_ue) if link.harq_max_retx > 0 else 0
    n_total = n_new + tail
    streams = [_streams(s) for s in stream_seeds]                       # (fading, geometry, decoding) per UE
    if channel.model in GEOMETRY_MODELS:
        source = _Geometric(channel, link, cell, num_ue, n_prb, cell_seed)
    else:
        source = _PerUe(channel, link, [(g, r) for g, r, _ in streams], n_prb, n_total)
    tables = phy_tables(n_prb, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table, link.bler_target)
    tbs = tb_size_table(n_prb, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table)
    centres, sizes = nr.prb_groups(n_prb)
    freqs_hz = (np.asarray(centres) - n_prb / 2.0) * 12 * link.scs_khz * 1e3
    weights = (np.asarray(sizes) / n_prb).astype(np.float32)
    sched = Scheduler(cell.scheduler, sizes, num_ue, rtt, cell.pf_beta)
    machines = [HarqOlla(tables, n_new, slot, link.core_delay_ms * 1e-3, rtt, link.harq_max_retx,
                         link.harq_combining == "chase", None if link.mcs == "olla" else int(link.mcs),
                         link.bler_target, link.olla_step_db, source.initial_sinr_db(u, channel.num_rx_ant))
                for u in range(num_ue)]
    wideband_db = np.empty((num_ue, n_new), np.float32)
    prb_used = np.zeros((num_ue, n_new), np.int16)
    for start in range(0, n_total, chunk_slots):
        t = min(chunk_slots, n_total - start)
        sinr = source.sinr(freqs_hz, start, slot, t)                               # [T, U, G]
        alloc = sched.allocate(sinr)                                                # [T, U, G] PRBs
        if start < n_new:
            k = min(t, n_new - start)
            wideband_db[:, start:start + k] = (10 * np.log10(sinr[:k] @ weights)).T
            prb_used[:, start:start + k] = alloc[:k].sum(axis=2).T
        for u, machine in enumerate(machines):
            eff = effective_sinr_alloc_db(sinr[:, u], tables.beta, alloc[:, u])
            machine.step_chunk_shared(eff, streams[u][2].random(t), alloc[:, u].sum(axis=1), tbs)
        if start + t >= n_new and all(m.pending == 0 for m in machines):
            break
    versions = _versions()
    outs = []
    for machine in machines:
        machine.give_up_pending()
        outs.append(machine.arrays())
    delivered = [float(np.where(o["lost"], 0, o["tb_bits"]).sum()) / (n_new * slot) / 1e6 for o in outs]
    starved = [u for u, o in enumerate(outs) if o["tb_bits"].sum() == 0]
    if starved:
        raise StarvedUE(f"cell.scheduler={cell.scheduler!r} gave streams {starved} no PRBs in the whole trace "
                        f"(link.trace_s={link.trace_s:g}); their video could never be delivered. Use 'pf' or "
                        "'round-robin', or fewer streams", delivered)
    traces = []
    for u, out in enumerate(outs):
        meta = {"model": channel.model, "cell": cell.model_dump(mode="json"), "ue": u, "num_ue": num_ue,
                "seed": int(stream_seeds[u]), "cell_seed": int(cell_seed), "num_prb": n_prb, "slot_s": slot,
                "frequency_range": fr, "prb_group_size": nr.rbg_size_prb(n_prb),
                "harq": f"{link.harq_combining}-combining, max_retx={link.harq_max_retx}, rtt_slots={rtt}",
                "traffic": "full buffer (the scheduler does not see the video queues)",
                "prb_share": float(prb_used[u].sum()) / (n_prb * n_new),
                "mean_sinr_db": power_mean_db(wideband_db[u]),
                "versions": versions, **source.ue_meta(u)}
        info = {"sinr_db": wideband_db[u], "prb": prb_used[u], "sinr_eff_db": out["sinr_eff_db"],
                "mcs": out["mcs"], "tx_count": out["tx_count"], "retx": out["retx"]}
        traces.append(ChannelTrace(slot_s=slot, tb_bits=out["tb_bits"], deliver_s=out["deliver_s"],
                                   lost=out["lost"], info=info, meta=meta))
    return traces


def draw_cell_traces(channel: ChannelSpec, link: LinkSpec, cell: CellSpec, stream_seeds, cell_seed: int, *,
                     cache: bool = True) -> list[ChannelTrace]:
    """One trace per stream of a shared cell (module docstring); deterministic for the arguments.

    Cached per UE under a key of the whole cell (channel, link, cell, every stream's seed, the
    cell's seed, library versions), so a trace is reused only with the very cell it was drawn in.
    """
    seeds = [int(s) for s in stream_seeds]
    if not cache:
        return _generate(channel, link, cell, seeds, cell_seed)
    from .cache import cached, library_versions, trace_key
    drawn: list = []

    def make(u: int) -> ChannelTrace:
        if not drawn:
            drawn.extend(_generate(channel, link, cell, seeds, cell_seed))
        return drawn[u]
    base = {"cell": cell.model_dump(mode="json"), "stream_seeds": seeds, **library_versions()}
    return [cached(trace_key(channel.model_dump(), link.model_dump(), cell_seed, {**base, "ue": u}),
                   lambda u=u: make(u)) for u in range(len(seeds))]


def cell_stats(traces) -> tuple[dict, list[dict]]:
    """Cell summary (``throughput_mbps``, ``jain_index``, ``sinr_db_mean``) and per-stream rows
    (``stream``, ``goodput_mbps``, ``sinr_db_mean``, ``prb_share`` and the drop's facts)."""
    rows = []
    for s, tr in enumerate(traces):
        sinr = tr.info.get("sinr_db")
        row = {"stream": s, "goodput_mbps": tr.goodput_mbps,
               "sinr_db_mean": power_mean_db(sinr) if sinr is not None and len(sinr) else None}
        for key in ("prb_share", "distance_m", "los", "indoor", "geometry_sinr_db"):
            if key in tr.meta:
                row[key] = tr.meta[key]
        rows.append(row)
    good = [r["goodput_mbps"] for r in rows]
    sinrs = [r["sinr_db_mean"] for r in rows if r["sinr_db_mean"] is not None]
    summary = {"throughput_mbps": float(np.sum(good)), "jain_index": jain_index(good),
               "sinr_db_mean": float(np.mean(sinrs)) if sinrs else None}
    return summary, rows
