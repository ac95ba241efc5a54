"""The fading draw of ``umi`` and ``uma`` on a dedicated link: geometry over TDL small-scale fading.

The mean SNR comes from TR 38.901 geometry (:mod:`.geometry`: path loss at ``channel.distance_m``,
LoS state, shadowing along the UE's path) and the small-scale fading from TDL-D (LoS) or TDL-A (NLoS)
at the scenario's median delay spread. Uplink: the UE's open-loop power on the whole carrier
(:func:`.uplink.open_loop_tx_power_dbm`, with ``cell.ue_power_dbm``, ``cell.p0_dbm``, ``cell.alpha``)
and the base station's noise figure ``cell.bs_noise_figure_db``. A shared cell draws these models
with Sionna's multi-cell code instead (:mod:`.multicell`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import geometry

if TYPE_CHECKING:
    import torch

    from .cellspec import CellSpec
    from .fading import SumOfSinusoids
    from .linkspec import ChannelSpec, LinkSpec

__all__ = ["geometric_fading"]


def geometric_fading(channel: ChannelSpec, link: LinkSpec, n_prb: int, num_slots: int, gen: torch.Generator,
                     rng: np.random.Generator, cell: CellSpec) -> tuple[SumOfSinusoids, np.ndarray | float, dict]:
    """The fading draw of ``umi``/``uma`` on a dedicated link: geometry gives the mean SNR (path loss,
    LoS state, shadowing along the path), TDL-D (LoS) or TDL-A (NLoS) the small-scale fading."""
    from .sources import tdl_sos

    model = channel.model
    v_mps = channel.speed_kmh / 3.6
    if channel.los == "auto":
        los = bool(rng.random() < geometry.los_probability(model, channel.distance_m))
    else:
        los = channel.los == "los"
    pl_db = geometry.pathloss_db(model, channel.distance_m, channel.carrier_ghz, los)
    if link.direction == "uplink":
        return _uplink_geometry(channel, link, n_prb, num_slots, gen, rng, cell, los, pl_db)
    occupied_hz = n_prb * 12 * link.scs_khz * 1e3
    noise_dbm = geometry.noise_power_dbm(occupied_hz, channel.noise_figure_db)
    snr_db = channel.tx_power_dbm - pl_db - noise_dbm
    if channel.shadowing == "on":
        sf = geometry.shadowing_db(num_slots, link.slot_s, v_mps, geometry.shadowing_std_db(model, los),
                                   geometry.shadowing_decorrelation_m(model, los), rng)
        snr_db = snr_db - sf
    ds_s = geometry.median_delay_spread_s(model, channel.carrier_ghz, los)
    sos = tdl_sos("D" if los else "A", ds_s, channel.carrier_ghz * 1e9, v_mps, channel.num_rx_ant, gen)
    meta = {"los": los, "pathloss_db": pl_db, "noise_dbm": noise_dbm, "small_scale": "tdl-d" if los else "tdl-a",
            "delay_spread_ns": ds_s * 1e9}
    return sos, snr_db, meta


def _uplink_geometry(channel, link, n_prb, num_slots, gen, rng, cell, los, pl_db):
    """The ``umi``/``uma`` uplink of :func:`geometric_fading`: the same path loss, shadowing and small-scale draws
    as the downlink, with the UE's open-loop power on all ``n_prb`` PRBs and the BS's noise figure."""
    from .sources import tdl_sos
    from .uplink import open_loop_tx_power_dbm

    model, v_mps = channel.model, channel.speed_kmh / 3.6
    noise_dbm = geometry.noise_power_dbm(n_prb * 12 * link.scs_khz * 1e3, cell.bs_noise_figure_db)
    loss_db = np.asarray(pl_db, np.float64)
    if channel.shadowing == "on":
        loss_db = pl_db + geometry.shadowing_db(num_slots, link.slot_s, v_mps, geometry.shadowing_std_db(model, los),
                                                geometry.shadowing_decorrelation_m(model, los), rng)
    # the UE's PL estimate follows the shadowing (it is in the filtered RSRP), so its power does too
    tx_dbm = open_loop_tx_power_dbm(loss_db, n_prb, cell.alpha, cell.p0_dbm, cell.ue_power_dbm)
    snr_db = tx_dbm - loss_db - noise_dbm
    if snr_db.ndim == 0:
        snr_db = float(snr_db)
    ds_s = geometry.median_delay_spread_s(model, channel.carrier_ghz, los)
    sos = tdl_sos("D" if los else "A", ds_s, channel.carrier_ghz * 1e9, v_mps, channel.num_rx_ant, gen)
    meta = {"los": los, "pathloss_db": pl_db, "noise_dbm": noise_dbm, "small_scale": "tdl-d" if los else "tdl-a",
            "delay_spread_ns": ds_s * 1e9, "direction": "uplink",
            "ue_tx_power_dbm": float(np.mean(tx_dbm)),
            "power_limited_share": float(np.mean(tx_dbm >= cell.ue_power_dbm))}
    return sos, snr_db, meta
