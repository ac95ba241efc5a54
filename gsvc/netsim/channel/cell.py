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
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..trace import ChannelTrace
from . import numerology as nr
from .cellspec import MU_CHANNEL_MAX_GIB, CellSpec, sector_elements
from .fading import frequency_response
from .geometry import noise_power_dbm
from .harq import HarqOlla
from .panel import panel_shape
from .phy import effective_sinr_alloc_db, phy_tables, tb_size_table
from .scheduler import Scheduler
from .linkspec import ChannelSpec, LinkSpec

__all__ = ["draw_cell_traces", "draw_cell_channel", "CellChannel", "cell_stats", "queue_cell_stats", "cell_layout", "jain_index",
           "StarvedUE", "UE_FACTS"]

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


#: oversampling of the grid of DFT beams other sectors point, horizontally and (with rows) vertically
#: (TS 38.214 Table 5.2.2.2.1-2: O1 = 4, and O2 = 4 where N2 > 1)
GRID_OVERSAMPLING = 4


def grid_beams(cell_seed: int, sector: int, start: int, t_len: int, groups: int, num_tx: int,
               layers: int = 1, rows: int = 1, polarization: str = "single") -> np.ndarray:
    """``[t_len, groups, layers, num_tx]`` complex unit-norm beams sector ``sector`` points on each PRB group
    in slots ``start ..`` (``cell.interferer_beams="grid"``): the oversampled DFT beams of TS 38.214's Type I
    codebook for its panel of ``rows`` rows ``N2`` of ``N1`` columns at half a wavelength, each position one
    element or (``polarization="dual"``) a cross-polarised pair, in Sionna's element order (polarisation,
    column, row): ``O1 N1`` horizontal by ``O2 N2`` vertical directions (``O2 = 1`` for a row) times, for a
    dual-polarised panel, a co-phasing ``phi`` of ``{1, j, -1, -j}`` between the polarisations. One beam is
    drawn for every (slot, group, layer) by a counter-based hash of (cell seed, sector, slot, group, layer), so
    a slot's beams do not depend on how the trace is cut into chunks. ``layers``: the sector serves that many UEs
    at once (as many as this cell's ``mu_mimo_ues``), each beam at ``1 / layers`` of its power. Over the whole
    grid ``mean(w w^H) = I / T``: the mean interference equals the isotropic model's."""
    slots = np.arange(start, start + t_len, dtype=np.uint64)[:, None, None]
    g = np.arange(groups, dtype=np.uint64)[None, :, None]
    lay = np.arange(layers, dtype=np.uint64)[None, None, :]
    with np.errstate(over="ignore"):
        x = (np.uint64(cell_seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(sector) * np.uint64(0xC2B2AE3D27D4EB4F)
             + slots * np.uint64(0x165667B19E3779F9) + g * np.uint64(0x27D4EB2F165667C5)
             + lay * np.uint64(0x85EBCA77C2B2AE63))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)                    # splitmix64 finaliser
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return type1_beams(x % np.uint64(type1_count(num_tx, rows, polarization)), num_tx, rows, polarization)


def _type1_grid(num_tx: int, rows: int, polarization: str) -> tuple[int, int, int, int, int]:
    """``(N1, N2, P, O1 N1, O2 N2)`` of the Type I grid of a panel of ``num_tx`` elements in ``rows`` rows."""
    n2, n1, pols = panel_shape(num_tx, rows, polarization)
    return n1, n2, pols, GRID_OVERSAMPLING * n1, (GRID_OVERSAMPLING if n2 > 1 else 1) * n2


def type1_count(num_tx: int, rows: int = 1, polarization: str = "single") -> int:
    """How many beams :func:`type1_beams` has for a panel of ``num_tx`` elements in ``rows`` rows."""
    _, _, pols, h_count, v_count = _type1_grid(num_tx, rows, polarization)
    return h_count * v_count * (4 if pols == 2 else 1)


def type1_beams(idx: np.ndarray, num_tx: int, rows: int = 1, polarization: str = "single") -> np.ndarray:
    """``[..., num_tx]`` unit-norm beams number ``idx`` (integers below :func:`type1_count`) of TS 38.214's Type I
    single-panel grid (:func:`grid_beams`): beam ``(l, m, phi)`` is ``idx = l + O1 N1 (m + O2 N2 phi)``, and element
    ``k`` (Sionna's order: polarisation, column ``n1``, row ``n2``) gets
    ``exp(2 pi j (l n1 / (O1 N1) + m n2 / (O2 N2))) j^(phi p) / sqrt(T)``, ``p`` its polarisation (0 or 1)."""
    n1, n2, pols, h_count, v_count = _type1_grid(num_tx, rows, polarization)
    idx = np.asarray(idx, np.uint64)
    l_beam = (idx % np.uint64(h_count)).astype(np.float64)[..., None]
    m_beam = (idx // np.uint64(h_count) % np.uint64(v_count)).astype(np.float64)[..., None]
    k = np.arange(num_tx)
    col, row = k % (n1 * n2) // n2, k % n2
    phase = l_beam * col / h_count + m_beam * row / v_count
    if pols == 2:
        phase = phase + (idx // np.uint64(h_count * v_count)).astype(np.float64)[..., None] * (k >= n1 * n2) / 4
    return np.exp(2j * np.pi * phase) / math.sqrt(num_tx)


def _interference(y: np.ndarray, beam: np.ndarray | None) -> np.ndarray:
    """Power another sector puts into a UE whose combined channel from it is ``y`` (``[slots, G, T]``):
    ``mean_l |y w_l|^2`` over its beams ``w`` (``[slots, G, L, T]``, each at ``1 / L`` of the power), or
    ``||y||^2 / T`` for an isotropic one."""
    if beam is None:
        return (y.real ** 2 + y.imag ** 2).sum(axis=-1) / y.shape[-1]
    z = (y[..., None, :] * beam).sum(axis=-1)
    return (z.real ** 2 + z.imag ** 2).mean(axis=-1)


class _Geometric:
    """SINR of the UEs of a Sionna multi-cell drop (module docstring, step 1).

    With ``cell.bs_tx_antennas`` ``T`` > 1 every sector sends one layer to its UE, beamformed with ideal
    channel knowledge (eigen-beamforming: the precoder and the UE's combiner are the dominant singular
    vectors of its ``R x T`` channel on each PRB group and slot, so the signal gain is the largest
    eigenvalue of ``H H^H``). The other sectors beam to their own UEs, which are not simulated: their
    precoders are isotropic toward this UE, so each adds ``||u^H H_b||^2 / T`` after this UE's combiner
    ``u`` (the same mean power as one element, as with one antenna); with ``cell.interferer_beams="grid"``
    each points one DFT beam ``w`` of a grid per PRB group and slot (:func:`grid_beams`) and adds
    ``|u^H H_b w|^2``, the same on average. The sector's power is split over its
    elements: ``T`` elements buy an array gain of ``T`` on average, not ``T`` times the power.
    """

    def __init__(self, channel: ChannelSpec, link: LinkSpec, cell: CellSpec, num_ue: int, n_prb: int, seed: int):
        from .multicell import drop_for, geometry_sinr_db
        self.num_tx = cell.bs_tx_antennas
        self.csi_delay_s = cell.csi_delay_ms / 1e3
        self.grid_seed = int(seed) if cell.interferer_beams == "grid" else None
        self.layers = cell.mu_mimo_ues                                  # UEs each other sector beams to at once
        self.panel = (cell.bs_rows, cell.bs_polarization)
        self.drop = drop_for(channel, cell, num_ue, seed, channel.num_rx_ant, num_tx_ant=self.num_tx)
        self.interference = cell.interference == "full-buffer"
        p_prb_dbm = channel.tx_power_dbm - 10 * math.log10(n_prb)
        n_prb_dbm = noise_power_dbm(12 * link.scs_khz * 1e3, channel.noise_figure_db)
        self.snr_scale = 10 ** ((p_prb_dbm - n_prb_dbm) / 10)          # P / N for a unit channel gain
        self.geometry_sinr_db = geometry_sinr_db(self.drop.coupling_gain_db, channel.tx_power_dbm,
                                                 n_prb * 12 * link.scs_khz * 1e3, channel.noise_figure_db,
                                                 self.drop.serving, self.interference)

    def sinr(self, freqs_hz, start: int, slot_s: float, t_len: int) -> np.ndarray:
        """``[T, U, G]`` float32 linear SINR of slots ``start ..``."""
        if self.num_tx > 1:
            return self.sinr_and_beams(freqs_hz, start, slot_s, t_len, beams=False)[0]
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

    def sinr_and_beams(self, freqs_hz, start: int, slot_s: float, t_len: int, beams: bool = True):
        """:meth:`sinr` with ``T`` transmit elements per sector (class docstring; ``[slots, U, G]``). With
        ``cell.csi_delay_ms`` the precoder is the dominant right singular vector of the channel that long before
        (the sums of sinusoids run back past slot 0 as well), and the UE combines the precoded channel it sees
        now. With ``beams``, also what MU-MIMO pairing reads
        (:mod:`.mumimo`): each UE's effective channel ``u^H H`` toward the serving sector, ``u`` the
        dominant left singular vector of its channel now (``[slots, U, G, T]`` complex64), and its noise
        plus other-sector interference over noise after that combiner (``[slots, U, G]`` float32);
        ``None, None`` without ``beams``."""
        s, t0_s, n_t = self.drop.serving, start * slot_s, self.num_tx
        lag = round(self.csi_delay_s / slot_s)

        def channel(sos, t_s: float = t0_s) -> np.ndarray:                # [slots, G, R, T]
            h = frequency_response(sos, freqs_hz, t_s, slot_s, t_len).numpy()              # [slots, R * T, G]
            return h.reshape(h.shape[0], -1, n_t, h.shape[2]).transpose(0, 3, 1, 2)

        def combined(u, h) -> np.ndarray:                                   # u^H H: [slots, G, T]
            return np.einsum("tgr,tgrk->tgk", np.conj(u), h)
        out, eff_out, den_out = [], [], []
        for per_bs in self.drop.links:
            h_s = channel(per_bs[s]).astype(np.complex128)
            u_now = None
            if lag == 0 or beams:
                gram = h_s @ np.conj(np.swapaxes(h_s, -1, -2))                              # [slots, G, R, R]
                eig, vec = np.linalg.eigh(gram)
                u_now = vec[..., :, -1]                                                      # [slots, G, R]
            if lag == 0:
                sig = np.maximum(eig[..., -1], 0.0)                                          # [slots, G]
                u = u_now
            else:
                h_old = channel(per_bs[s], t0_s - lag * slot_s).astype(np.complex128)
                _, vec = np.linalg.eigh(np.conj(np.swapaxes(h_old, -1, -2)) @ h_old)         # [slots, G, T, T]
                eff = (h_s @ vec[..., :, -1:])[..., 0]                                       # [slots, G, R] H v
                sig = (eff.real ** 2 + eff.imag ** 2).sum(axis=-1)
                u = eff / np.sqrt(np.maximum(sig, 1e-300))[..., None]
            interf = np.zeros_like(sig)
            interf_now = np.zeros_like(sig) if beams and u_now is not u else interf
            if self.interference:
                for b, sos in enumerate(per_bs):
                    if b != s:
                        h_b = channel(sos)
                        beam = None if self.grid_seed is None else grid_beams(
                            self.grid_seed, b, start, t_len, len(freqs_hz), n_t, self.layers, *self.panel)
                        interf += _interference(combined(u, h_b), beam)
                        if interf_now is not interf:
                            interf_now += _interference(combined(u_now, h_b), beam)
            sinr = sig * self.snr_scale / (interf * self.snr_scale + 1.0)
            out.append(np.maximum(sinr, 1e-12).astype(np.float32))
            if beams:
                eff_out.append(combined(u_now, h_s).astype(np.complex64))
                den_out.append((interf_now * self.snr_scale + 1.0).astype(np.float32))
        if not beams:
            return np.stack(out, axis=1), None, None
        return np.stack(out, axis=1), np.stack(eff_out, axis=1), np.stack(den_out, axis=1)

    def ue_meta(self, u: int) -> dict:
        from .multicell import ue_facts
        return ue_facts(self.drop, self.geometry_sinr_db, u)

    def initial_sinr_db(self, u: int, num_rx_ant: int) -> float:
        return float(self.geometry_sinr_db[u]) + 10 * math.log10(num_rx_ant * self.num_tx)


class _PerUe:
    """SINR of UEs that each see their own link-level channel at ``channel.snr_db`` (no geometry)."""

    def __init__(self, channel: ChannelSpec, link: LinkSpec, streams_of_ue, n_prb: int, n_total: int):
        from .linklevel import draw_fading, linear_snr
        self.sos, self.snr_lin, self.snr_db = [], [], []
        for gen, rng_geo in streams_of_ue:
            sos, snr_db, _ = draw_fading(channel, link, n_prb, n_total, gen, rng_geo)
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
    source = _source(channel, link, cell, streams, num_ue, n_prb, n_total, cell_seed)
    tables, tbs = _phy(link, n_prb)
    backoff = _backoff_table(source, num_ue, n_prb)
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
            s_u = sinr[:, u]
            if backoff.any():  # the uplink UE's power cap on the PRBs it got (TS 38.213 Sec. 7.1.1)
                back = backoff[u, alloc[:, u].sum(axis=1)]
                s_u = s_u * (10.0 ** (-back / 10.0)).astype(np.float32)[:, None]
            eff = effective_sinr_alloc_db(s_u, tables.beta, alloc[:, u])
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
    caps = power_cap_prbs(backoff) if backoff.any() else None
    traces = []
    for u, out in enumerate(outs):
        power = {} if caps is None else {"psd_backoff_db": float(backoff[u, caps[u]])}
        meta = {"model": channel.model, "cell": cell.model_dump(mode="json"), "ue": u, "num_ue": num_ue,
                "seed": int(stream_seeds[u]), "cell_seed": int(cell_seed), "num_prb": n_prb, "slot_s": slot,
                "frequency_range": fr, "prb_group_size": nr.rbg_size_prb(n_prb),
                "harq": f"{link.harq_combining}-combining, max_retx={link.harq_max_retx}, rtt_slots={rtt}",
                "traffic": "full buffer (the scheduler does not see the video queues)", "direction": link.direction,
                "prb_share": float(prb_used[u].sum()) / (n_prb * n_new),
                "mean_sinr_db": power_mean_db(wideband_db[u]),
                "versions": versions, **power, **source.ue_meta(u)}
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


def power_cap_prbs(backoff_db: np.ndarray) -> list[int]:
    """Per UE, the most PRBs it fills at its open-loop power spectral density (its power headroom, TS 38.321
    Sec. 5.4.6), at least 1: ``backoff_db`` is :attr:`CellChannel.backoff_db` (``[U, num_prb + 1]``, dB)."""
    return [max(1, int(np.flatnonzero(row == 0.0).max())) for row in backoff_db]


def _at_sendable_power(row: dict, short_db: float) -> None:
    """An uplink stream's row: its ``sinr_db_mean`` (at the open-loop PSD) moved ``short_db`` lower, to the
    PSD its UE can send, the open-loop figure kept as ``open_loop_sinr_db_mean`` and the gap as
    ``psd_backoff_db``."""
    row.update(open_loop_sinr_db_mean=row["sinr_db_mean"], sinr_db_mean=row["sinr_db_mean"] - short_db,
               psd_backoff_db=short_db)


def queue_cell_stats(ch: "CellChannel", carried: dict) -> tuple[dict, list[dict]]:
    """:func:`cell_stats` of a traffic-aware cell: goodputs and PRB shares are what the traffic used
    (``carried``: :meth:`gsvc.netsim.carrier.SharedCarrier.stats`), plus the cell's ``prb_utilization`` and
    ``ues_per_prb_mean``, and each stream's ``scheduled_sinr_db_mean`` (the effective SINR its transmissions
    saw; with MU-MIMO, each stream's ``shared_prb_fraction`` too).

    Uplink: a stream's ``sinr_db_mean`` is at the power spectral density its UE transmits with on the PRBs
    it is given at most (:func:`power_cap_prbs`), and ``psd_backoff_db`` is how far that falls below the
    open-loop target: a UE whose maximum power cannot reach the target even on one PRB (``psd_backoff_db``
    > 0) has that much less SINR than the open-loop channel it is drawn at (``open_loop_sinr_db_mean``)."""
    caps = power_cap_prbs(ch.backoff_db) if np.any(ch.backoff_db) else None
    rows = []
    for u, facts in enumerate(ch.ue_meta):
        row = {"stream": u, "goodput_mbps": carried["goodput_mbps"][u], "sinr_db_mean": power_mean_db(ch.wideband_db[u]),
               "prb_share": carried["prb_share"][u], "scheduled_sinr_db_mean": carried["scheduled_sinr_db_mean"][u]}
        if ch.beam_h is not None:
            row["shared_prb_fraction"] = carried["shared_prb_fraction"][u]
        if caps is not None:
            _at_sendable_power(row, float(ch.backoff_db[u, caps[u]]))
        row.update({k: facts[k] for k in ("distance_m", "los", "indoor", "geometry_sinr_db") if k in facts})
        rows.append(row)
    good = [r["goodput_mbps"] for r in rows]
    summary = {"throughput_mbps": float(np.sum(good)), "jain_index": jain_index(good),
               "sinr_db_mean": float(np.mean([r["sinr_db_mean"] for r in rows])),
               "prb_utilization": float(carried["prb_utilization"]),
               "ues_per_prb_mean": float(carried["ues_per_prb_mean"])}
    return summary, rows


def cell_stats(traces) -> tuple[dict, list[dict]]:
    """Cell summary (``throughput_mbps``, ``jain_index``, ``sinr_db_mean``) and per-stream rows
    (``stream``, ``goodput_mbps``, ``sinr_db_mean``, ``prb_share`` and the drop's facts; uplink: the SINR at
    the power its UE can send, as :func:`queue_cell_stats` gives it)."""
    rows = []
    for s, tr in enumerate(traces):
        sinr = tr.info.get("sinr_db")
        row = {"stream": s, "goodput_mbps": tr.goodput_mbps,
               "sinr_db_mean": power_mean_db(sinr) if sinr is not None and len(sinr) else None}
        if "psd_backoff_db" in tr.meta and row["sinr_db_mean"] is not None:  # uplink: as :func:`queue_cell_stats`
            _at_sendable_power(row, float(tr.meta["psd_backoff_db"]))
        for key in ("prb_share", "distance_m", "los", "indoor", "geometry_sinr_db"):
            if key in tr.meta:
                row[key] = tr.meta[key]
        rows.append(row)
    good = [r["goodput_mbps"] for r in rows]
    sinrs = [r["sinr_db_mean"] for r in rows if r["sinr_db_mean"] is not None]
    shares = [r["prb_share"] for r in rows if "prb_share" in r]
    summary = {"throughput_mbps": float(np.sum(good)), "jain_index": jain_index(good),
               "sinr_db_mean": float(np.mean(sinrs)) if sinrs else None,
               "prb_utilization": float(np.sum(shares)) if shares else None}
    return summary, rows


@dataclass(frozen=True, eq=False)
class CellChannel:
    """What a traffic-aware cell draws before the event loop: the channel, not the allocation.

    The carrier (:class:`gsvc.netsim.carrier.SharedCarrier`) schedules, adapts and decodes on it
    slot by slot inside the run. The SINR repeats after ``num_slots`` as a trace does.

    Attributes:
        sinr: ``[num_slots, U, G]`` float32, linear SINR of every UE on every PRB group at the start
            of every slot (uplink: at the UE's open-loop power spectral density, before the cap).
        group_prbs: ``[G]`` int64, PRBs per group; ``num_prb`` their sum.
        slot_s: slot duration, s.
        tables: PHY tables (PDSCH or PUSCH) and ``tbs``: ``[M, num_prb + 1]`` TB bits per MCS and PRBs.
        backoff_db: ``[U, num_prb + 1]`` float64, dB by which a UE's PSD falls below the open-loop
            one on ``n`` PRBs (the uplink power cap; zeros for the downlink).
        initial_sinr_db: ``[U]`` first OLLA estimate of each UE.
        seeds: each UE's stream seed (its decoding draws come from it).
        ue_meta: per UE, what the drop says of it; ``meta``: the whole cell.
        beam_h, beam_den, snr_scale: what MU-MIMO pairing reads (``cell.mu_mimo_ues`` > 1, :mod:`.mumimo`;
            None and 0 otherwise): ``[num_slots, U, G, T]`` complex64 effective channel of every UE,
            ``[num_slots, U, G]`` float32 noise plus other-sector interference over noise, and the
            sector's power per PRB over noise for a unit channel gain.
    """

    sinr: np.ndarray
    group_prbs: np.ndarray
    num_prb: int
    slot_s: float
    tables: object
    tbs: np.ndarray
    backoff_db: np.ndarray
    initial_sinr_db: np.ndarray
    wideband_db: np.ndarray
    seeds: tuple
    ue_meta: list
    meta: dict
    beam_h: np.ndarray | None = None
    beam_den: np.ndarray | None = None
    snr_scale: float = 0.0

    @property
    def num_slots(self) -> int:
        return self.sinr.shape[0]

    @property
    def layout(self) -> dict:
        """What :func:`cell_layout` says of a trace: the cell, its drop and numerology, no UE's own facts."""
        return {**self.meta, **{k: v for k, v in self.ue_meta[0].items() if k not in UE_FACTS}}

    @property
    def num_ue(self) -> int:
        return self.sinr.shape[1]


def _source(channel: ChannelSpec, link: LinkSpec, cell: CellSpec, streams, num_ue: int, n_prb: int, n_total: int,
            cell_seed: int):
    """The SINR source of a cell: Sionna's multi-cell drop (downlink or uplink) or per-UE link-level models."""
    from .models import channel_model
    if channel_model(channel.model).system_level:
        if link.direction == "uplink":
            from .uplink import UplinkGeometric
            return UplinkGeometric(channel, link, cell, num_ue, n_prb, cell_seed)
        return _Geometric(channel, link, cell, num_ue, n_prb, cell_seed)
    return _PerUe(channel, link, [(g, r) for g, r, _ in streams], n_prb, n_total)


def _phy(link: LinkSpec, n_prb: int):
    """PHY tables and TB sizes of the carrier (PUSCH tables for the uplink)."""
    pusch = link.direction == "uplink"
    return (phy_tables(n_prb, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table, link.bler_target,
                       is_pusch=pusch),
            tb_size_table(n_prb, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table, is_pusch=pusch))


def _backoff_table(source, num_ue: int, n_prb: int) -> np.ndarray:
    """``[U, n_prb + 1]`` dB each UE's PSD falls below its open-loop one on ``n`` PRBs (zeros unless the
    source is an uplink one, whose UEs hit their power cap)."""
    if not hasattr(source, "psd_backoff_db"):
        return np.zeros((num_ue, n_prb + 1))
    return np.array([[source.psd_backoff_db(u, n) if n else 0.0 for n in range(n_prb + 1)] for u in range(num_ue)])


_CHANNELS: "OrderedDict[str, CellChannel]" = OrderedDict()
_CHANNELS_KEPT = 4


def draw_cell_channel(channel: ChannelSpec, link: LinkSpec, cell: CellSpec, stream_seeds, cell_seed: int,
                      chunk_slots: int = CHUNK_SLOTS) -> CellChannel:
    """The channel of a traffic-aware cell (:class:`CellChannel`), deterministic for the arguments.

    The same drop, fading and interference as :func:`draw_cell_traces` (the same random streams),
    ``link.trace_s`` long. The last few draws are kept in memory (a sweep over codecs or loads
    reuses its cell's channel).
    """
    from .cache import library_versions, trace_key
    from .linklevel import _streams, _versions
    seeds = tuple(int(s) for s in stream_seeds)
    key = trace_key(channel.model_dump(), link.model_dump(), cell_seed,
                    {"cell": cell.model_dump(mode="json"), "stream_seeds": list(seeds), "kind": "cell-channel",
                     **library_versions()})
    if key in _CHANNELS:
        _CHANNELS.move_to_end(key)
        return _CHANNELS[key]
    fr = nr.frequency_range(channel.carrier_ghz)
    n_prb = nr.num_prb(link.bandwidth_mhz, link.scs_khz, fr)
    slot = link.slot_s
    n_new = max(1, round(link.trace_s / slot))
    num_ue = len(seeds)
    streams = [_streams(s) for s in seeds]
    source = _source(channel, link, cell, streams, num_ue, n_prb, n_new, cell_seed)
    tables, tbs = _phy(link, n_prb)
    centres, sizes = nr.prb_groups(n_prb)
    freqs_hz = (np.asarray(centres) - n_prb / 2.0) * 12 * link.scs_khz * 1e3
    weights = (np.asarray(sizes) / n_prb).astype(np.float32)
    sinr = np.empty((n_new, num_ue, len(sizes)), np.float32)
    mu = cell.mu_mimo_ues > 1
    elements = sector_elements(cell, channel, link)[1]
    beam_h = np.empty((n_new, num_ue, len(sizes), elements), np.complex64) if mu else None
    beam_den = np.empty((n_new, num_ue, len(sizes)), np.float32) if mu else None
    for start in range(0, n_new, chunk_slots):
        t = min(chunk_slots, n_new - start)
        if mu:
            sinr[start:start + t], beam_h[start:start + t], beam_den[start:start + t] = source.sinr_and_beams(
                freqs_hz, start, slot, t)
        else:
            sinr[start:start + t] = source.sinr(freqs_hz, start, slot, t)
    group = np.asarray(sizes, np.int64)
    wideband_db = (10 * np.log10(sinr @ weights)).T.astype(np.float32)            # [U, n_new]
    backoff = _backoff_table(source, num_ue, n_prb)
    meta = {"model": channel.model, "cell": cell.model_dump(mode="json"), "num_ue": num_ue, "cell_seed": int(cell_seed),
            "num_prb": n_prb, "slot_s": slot, "frequency_range": fr, "prb_group_size": nr.rbg_size_prb(n_prb),
            "direction": link.direction,
            "harq": f"{link.harq_combining}-combining, max_retx={link.harq_max_retx}, rtt_slots={link.harq_rtt_slots}",
            "traffic": "queue (scheduled in the event loop among the UEs with data)", "versions": _versions()}
    ue_meta = [{"ue": u, "seed": seeds[u], **source.ue_meta(u)} for u in range(num_ue)]
    out = CellChannel(sinr=sinr, group_prbs=group, num_prb=n_prb, slot_s=slot, tables=tables, tbs=tbs,
                      backoff_db=backoff,
                      initial_sinr_db=np.array([source.initial_sinr_db(u, channel.num_rx_ant) for u in range(num_ue)]),
                      wideband_db=wideband_db, seeds=seeds, ue_meta=ue_meta, meta=meta, beam_h=beam_h,
                      beam_den=beam_den, snr_scale=float(source.snr_scale) if mu else 0.0)
    _CHANNELS[key] = out
    while len(_CHANNELS) > _CHANNELS_KEPT or (len(_CHANNELS) > 1 and _kept_gib() > MU_CHANNEL_MAX_GIB):
        _CHANNELS.popitem(last=False)
    return out


def _kept_gib() -> float:
    """GiB the kept cell channels hold in MU-MIMO arrays (bounded like one run's, :data:`MU_CHANNEL_MAX_GIB`)."""
    return sum(c.beam_h.nbytes + c.beam_den.nbytes for c in _CHANNELS.values() if c.beam_h is not None) / 2 ** 30
