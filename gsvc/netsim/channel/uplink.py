"""Per-PRB SINR of a shared multi-cell uplink: UEs transmit with open-loop power control.

:class:`UplinkGeometric` is the uplink counterpart of the downlink source of :mod:`.cell` (same
interface). Its drop is :func:`.multicell.draw_cell` with ``direction="uplink"``: every UE's channel
into the serving sector (sector 0) as sums of sinusoids, and a few UEs of every other sector
(:data:`.multicell.INTERFERERS_PER_SECTOR`) with theirs.

Power control (TS 38.213 Sec. 7.1.1, open loop: no closed-loop term f, no Delta_TF): a UE on ``n`` PRBs
transmits ``P = min(P0 + alpha PL + 10 lg n, Pmax)`` dBm, ``sionna.sys.open_loop_uplink_power_control``
with ``P0 = cell.p0_dbm``, ``alpha = cell.alpha``, ``Pmax = cell.ue_power_dbm``. ``PL`` is the UE's
coupling loss to its serving sector (path loss, shadowing, O2I loss and the sector antenna's gain; fast
fading averaged): TS 38.213 has the UE estimate ``PL = referenceSignalPower - higher-layer filtered
RSRP``, and RSRP is received through the BS antenna and the shadowing, with the fast fading filtered out.

- :meth:`UplinkGeometric.sinr` is the SINR per PRB group at the serving sector with the UE at its
  open-loop power spectral density ``P0 + alpha PL`` per PRB, i.e. before the ``Pmax`` cap (which depends
  on how many PRBs the scheduler gives it): ``SINR = psd |h|^2 / (I + N)`` with MRC over the sector's
  receive antennas, ``N`` the thermal noise of one PRB with ``cell.bs_noise_figure_db``.
- :meth:`UplinkGeometric.psd_backoff_db` is what the cap takes off on ``n`` PRBs (multiply the SINR of
  the allocated groups by ``10^(-backoff / 10)``).
- Interference (``cell.interference="full-buffer"``): on every PRB group in every slot one UE of each
  other sector transmits, drawn uniformly from that sector's kept UEs. It transmits at its own open-loop
  PSD, capped as if it held an equal share ``ceil(n_prb / K)`` of its sector's PRBs (the share a fair
  scheduler gives ``K`` full-buffer UEs). Its power after the serving UE's MRC combiner
  (``|h_u^H h_k|^2 / |h_u|^2``) adds to the noise. The draw comes from a counter-based generator
  (``numpy.random.Philox`` keyed from the seed, its counter from the slot index), so the draw of slot
  ``t`` does not depend on how the slots are chunked.

MU-MIMO (``cell.mu_mimo_ues`` > 1): UEs share PRB groups, separated by the sector's zero-forcing receiver
(:mod:`.mumimo`); :meth:`UplinkGeometric.sinr_and_beams` gives the channels and interference it reads.

Transmit and receive antennas: the UE transmits from one antenna (one transmit chain; no uplink SU-MIMO);
the sector receives on ``channel.num_rx_ant`` elements of the TR 38.901 sector pattern (Sionna's ``PanelArray``
at half-wavelength spacing: a row, or the panel ``cell.bs_rows`` and ``cell.bs_polarization`` shape), combined
with MRC (or, with MU-MIMO on a shared group, zero forcing): the receiving end's antennas,
as on a dedicated uplink and as the UE's are on the downlink. The drop (served UEs and interferers)
is the same with and without ``cell.interference``, so the two can be compared UE by UE.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from .fading import frequency_response
from .geometry import noise_power_dbm

if TYPE_CHECKING:
    from .cellspec import CellSpec
    from .linkspec import ChannelSpec, LinkSpec

__all__ = ["UplinkGeometric", "open_loop_tx_power_dbm"]
#: subcarriers per PRB (TS 38.211 Sec. 4.4.4.1)
_SC_PER_PRB = 12


def open_loop_tx_power_dbm(pathloss_db: np.ndarray, num_prb: np.ndarray, alpha: float, p0_dbm: float,
                           ue_power_dbm: float) -> np.ndarray:
    """UE transmit power over its allocation, dBm (``sionna.sys.open_loop_uplink_power_control``).

    Args:
        pathloss_db: ``[...]`` float, path loss (here the coupling loss) to the serving sector, dB.
        num_prb: ``[...]`` int, PRBs allocated (0: nothing is sent, ``-inf`` dBm).
        alpha, p0_dbm, ue_power_dbm: TS 38.213 Sec. 7.1.1 alpha, P_O_PUSCH per PRB (dBm), P_CMAX (dBm).

    Returns:
        ``[...]`` float64, ``min(P0 + alpha PL + 10 lg n, Pmax)``, dBm; never above ``ue_power_dbm``.
    """
    from sionna.sys import open_loop_uplink_power_control
    pl_db, n = np.broadcast_arrays(np.asarray(pathloss_db, np.float64), np.asarray(num_prb, np.int64))
    w = open_loop_uplink_power_control(torch.from_numpy(np.asarray(10.0 ** (pl_db / 10.0))),
                                       torch.from_numpy(np.asarray(_SC_PER_PRB * n)), alpha=alpha, p0_dbm=p0_dbm,
                                       ut_max_power_dbm=ue_power_dbm, precision="double").numpy()
    with np.errstate(divide="ignore"):
        dbm = 10.0 * np.log10(w) + 30.0
    # the W -> dBm round trip can land 1e-15 dB above the cap that Sionna applied in W
    return np.minimum(dbm, ue_power_dbm)


class UplinkGeometric:
    """SINR of the UEs of a Sionna multi-cell uplink drop (module docstring).

    Args:
        channel: ``model`` ``umi``/``uma``/``rma``, ``carrier_ghz``, ``speed_kmh``, ``los``, ``shadowing``.
        link: ``scs_khz`` (the PRB bandwidth of the noise).
        cell: the layout, ``interference``, ``p0_dbm``, ``alpha``, ``ue_power_dbm``, ``bs_noise_figure_db``.
        num_ue: UEs served by sector 0.
        n_prb: PRBs of the carrier.
        seed: seed of the drop, fading and interferer draws.
    """

    def __init__(self, channel: ChannelSpec, link: LinkSpec, cell: CellSpec, num_ue: int, n_prb: int, seed: int):
        from .multicell import drop_for
        self.drop = drop_for(channel, cell, num_ue, seed, channel.num_rx_ant, direction="uplink")
        d, itf = self.drop, self.drop.interferers
        self.n_prb = int(n_prb)
        self.interference = cell.interference == "full-buffer"
        self._pc = (cell.alpha, cell.p0_dbm, cell.ue_power_dbm)
        self.noise_prb_dbm = noise_power_dbm(_SC_PER_PRB * link.scs_khz * 1e3, cell.bs_noise_figure_db)
        #: ``[U]`` coupling loss to the serving sector, the PL of power control, dB
        self.pathloss_db = -d.coupling_gain_db[:, d.serving]
        #: ``[U]`` open-loop PSD P0 + alpha PL, dBm per PRB
        self.psd_dbm = cell.p0_dbm + cell.alpha * self.pathloss_db
        # speed trick: Sionna's power of every UE on every PRB count, once (the scheduler asks per slot)
        n = np.arange(self.n_prb + 1)
        self._tx_dbm = open_loop_tx_power_dbm(self.pathloss_db[:, None], n[None, :], *self._pc)     # [U, n_prb + 1]
        self._snr_prb = 10 ** ((self.psd_dbm - self.noise_prb_dbm) / 10)                           # [U] psd / N
        # interferers, grouped by sector: sector j's UEs are _first[j] .. _first[j] + _count[j] - 1
        sectors, first, count = np.unique(itf.sector, return_index=True, return_counts=True)
        self._first, self._count = first.astype(np.int64), count.astype(np.int64)
        pl_i = -itf.coupling_gain_db[np.arange(len(itf.sector)), itf.sector]                         # [K]
        share = np.ceil(self.n_prb / count[np.searchsorted(sectors, itf.sector)]).astype(np.int64)  # [K] PRBs
        self.interferer_psd_dbm = open_loop_tx_power_dbm(pl_i, share, *self._pc) - 10 * np.log10(share)
        self._amp_i = np.sqrt(10 ** ((self.interferer_psd_dbm - self.noise_prb_dbm) / 10)).astype(np.float32)
        self._key = np.random.SeedSequence([int(seed), 0x75706C6E]).generate_state(2, np.uint64)   # "upln"
        # mean interference per PRB over noise, at sector 0 (small-scale fading averaged): the geometry
        i_mean = 0.0
        if self.interference and len(first):
            rx = 10 ** ((self.interferer_psd_dbm + itf.coupling_gain_db[:, d.serving] - self.noise_prb_dbm) / 10)
            i_mean = float((np.add.reduceat(rx, first) / count).sum())      # each sector: the mean of its UEs
        sig = 10 ** ((self.psd_dbm + d.coupling_gain_db[:, d.serving] - self.noise_prb_dbm) / 10)
        #: ``[U]`` geometry SINR per receive antenna at the open-loop PSD, dB
        self.geometry_sinr_db = 10 * np.log10(sig / (1.0 + i_mean))

    # -- power control --------------------------------------------------------------------------------
    def _check(self, u: int, n_prb: int) -> None:
        if not 0 <= u < len(self.drop.links):
            raise ValueError(f"u={u} is not a UE of the cell; give 0..{len(self.drop.links) - 1}")
        if not 0 <= n_prb <= self.n_prb:
            raise ValueError(f"n_prb={n_prb} is outside the carrier; give 0..{self.n_prb} PRBs")

    def tx_power_dbm(self, u: int, n_prb: int) -> float:
        """UE ``u``'s total transmit power on ``n_prb`` PRBs, dBm (Sionna's open-loop power control;
        ``-inf`` on 0 PRBs); never above ``cell.ue_power_dbm``."""
        self._check(u, n_prb)
        return float(self._tx_dbm[u, n_prb])

    def psd_backoff_db(self, u: int, n_prb: int) -> float:
        """dB by which UE ``u``'s PSD on ``n_prb`` PRBs falls below the open-loop ``P0 + alpha PL`` that
        :meth:`sinr` assumes, because its total is capped at ``cell.ue_power_dbm`` (0 when it is not)."""
        self._check(u, n_prb)
        if n_prb == 0:
            return 0.0
        backoff = self.psd_dbm[u] + 10 * math.log10(n_prb) - self._tx_dbm[u, n_prb]
        return float(backoff) if backoff > 1e-9 else 0.0        # 1e-14 dB of W <-> dBm rounding is no cap

    # -- SINR -----------------------------------------------------------------------------------------
    def active_interferers(self, start: int, t_len: int, num_groups: int) -> np.ndarray:
        """``[T, S, G]`` int64: the interferer (index into ``drop.interferers``) that each of the ``S`` other
        sectors with kept UEs schedules on each PRB group in slots ``start .. start + T - 1``.

        Uniform over the sector's kept UEs, from a Philox counter set by the slot index: slot ``t``'s
        draw is the same however the slots are chunked.
        """
        s_len = len(self._first)
        per_slot = s_len * num_groups
        blocks = -(-per_slot // 4)                               # Philox gives four 64-bit words per counter
        bits = np.random.Philox(key=self._key, counter=int(start) * blocks)
        raw = bits.random_raw(t_len * blocks * 4).reshape(t_len, blocks * 4)[:, :per_slot]
        u = (raw >> np.uint64(11)).astype(np.float64) * 2.0 ** -53                # [T, S * G] uniform [0, 1)
        local = np.floor(u.reshape(t_len, s_len, num_groups) * self._count[None, :, None]).astype(np.int64)
        return self._first[None, :, None] + local

    #: the MU-MIMO arrays' channels are scaled to each UE's open-loop PSD over noise already
    snr_scale = 1.0

    def sinr(self, freqs_hz, start: int, slot_s: float, t_len: int) -> np.ndarray:
        """``[T, U, G]`` float32 linear SINR of slots ``start ..`` at the serving sector, every UE at its
        open-loop PSD (module docstring)."""
        return self.sinr_and_beams(freqs_hz, start, slot_s, t_len, beams=False)[0]

    def sinr_and_beams(self, freqs_hz, start: int, slot_s: float, t_len: int, beams: bool = True):
        """:meth:`sinr` and, with ``beams``, what uplink MU-MIMO reads (:mod:`.mumimo`): each UE's channel at
        the sector's receive elements scaled by the square root of its open-loop PSD over noise
        (``[T, U, G, R]`` complex64) and its noise plus interference over noise after its MRC combiner
        (``[T, U, G]`` float32), so that ``||h||^2 / D`` is its single-user SINR; ``None, None`` without."""
        s, t0_s = self.drop.serving, start * slot_s
        g_len = len(freqs_hz)
        h_act = None
        if self.interference and len(self._first):
            itf = self.drop.interferers
            h_i = np.stack([frequency_response(sos, freqs_hz, t0_s, slot_s, t_len).numpy() * a
                            for sos, a in zip(itf.links, self._amp_i)])                  # [K, T, R, G] sqrt(INR)
            k = self.active_interferers(start, t_len, g_len)                               # [T, S, G]
            t_idx = np.arange(t_len)[:, None, None, None]
            r_idx = np.arange(h_i.shape[2])[None, None, :, None]
            h_act = h_i[k[:, :, None, :], t_idx, r_idx, np.arange(g_len)[None, None, None, :]]   # [T, S, R, G]
        out, hs, dens = [], [], []
        for u, per_bs in enumerate(self.drop.links):
            h_s = frequency_response(per_bs[s], freqs_hz, t0_s, slot_s, t_len).numpy()      # [T, R, G]
            sig = (h_s.real ** 2 + h_s.imag ** 2).sum(axis=1)                              # [T, G] |h_s|^2
            interf = np.zeros_like(sig)
            if h_act is not None:
                proj = np.einsum("trg,tsrg->tsg", np.conj(h_s), h_act)                    # [T, S, G] h_s^H h_k
                interf = (proj.real ** 2 + proj.imag ** 2).sum(axis=1) / np.maximum(sig, 1e-30)
            sinr = sig * self._snr_prb[u] / (interf + 1.0)
            out.append(np.maximum(sinr, 1e-12).astype(np.float32))
            if beams:
                hs.append((np.swapaxes(h_s, 1, 2) * math.sqrt(self._snr_prb[u])).astype(np.complex64))
                dens.append((interf + 1.0).astype(np.float32))
        if not beams:
            return np.stack(out, axis=1), None, None
        return np.stack(out, axis=1), np.stack(hs, axis=1), np.stack(dens, axis=1)

    def ue_meta(self, u: int) -> dict:
        from .multicell import ue_facts
        return ue_facts(self.drop, self.geometry_sinr_db, u)

    def initial_sinr_db(self, u: int, num_rx_ant: int) -> float:
        """First OLLA estimate: the geometry SINR at the open-loop PSD plus the MRC gain of the sector's
        ``num_rx_ant`` receive antennas."""
        return float(self.geometry_sinr_db[u]) + 10 * math.log10(num_rx_ant)
