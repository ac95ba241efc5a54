"""A multi-cell downlink drawn with Sionna's TR 38.901 system-level models, as sums of sinusoids.

Steps (all random draws from one ``torch.Generator`` of the run, never Sionna's global one):

1. **Topology**: ``sionna.sys.gen_hexgrid_topology`` drops candidate UEs in the first sector of
   the centre site of a hexagonal grid of ``rings`` rings (three sectors per site, wraparound
   virtual BS positions), or places them at given 2D distances along random azimuths within
   that sector; indoor state and velocity (``speed_kmh``, random direction) as Sionna draws them.
2. **Channel**: Sionna's ``UMi`` / ``UMa`` system-level model (TR 38.901 Sec. 7.5: LoS state,
   correlated large-scale parameters, path loss, shadowing, O2I loss, clusters and rays) with a
   single-element BS of TR 38.901's sector pattern (Table 7.3-1, downtilted to the sector centre
   by Sionna) and ``num_rx_ant`` omni UE antennas.
3. **Best server**: each candidate's coupling gain to every sector (path loss, shadowing and the
   antenna pattern over its rays, small-scale fading averaged out); candidates whose best server is
   not the serving sector are discarded (a "re-drop" from the same spatially consistent draw), and
   the first ``num_ue`` that remain are kept.
4. **Sum of sinusoids**: every ray of every link becomes one complex sinusoid (its gain at
   t = 0 from Sionna's coefficient generator, its Doppler ``2 pi r_rx . v / lambda`` from TR 38.901
   eq. 7.5-22), grouped into Sionna's paths (the two strongest clusters split into three
   sub-clusters, Table 7.5-5), the LoS ray added to the first path with the K-factor split, and
   path loss and shadowing applied as Sionna's step 12 does. :func:`.fading.frequency_response` then
   evaluates each link at PRB-group centres for any span of slots, continuously across chunks
   (Sionna's own ``__call__`` restarts at t = 0 and redraws its rays every call).

The ray grouping is not re-implemented: Sionna's own ``_step_11_reduce_nlos`` is fed a tensor
whose time axis carries each ray's index, so its sums become a ray-to-path map. The result equals
Sionna's channel coefficients at any instant (checked by the tests).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from .fading import SumOfSinusoids

__all__ = ["CellDrop", "draw_cell", "sionna_generator", "scenario_defaults", "best_server", "geometry_sinr_db"]

#: BS heights, inter-site distances and minimum BS-UE distances of TR 38.901 Table 7.2-1 (UMi
#: street canyon: ISD 200 m, BS 10 m; UMa: ISD 500 m, BS 25 m; minimum 2D distance 10 m / 35 m)
#: and Table 7.2-3 (RMa: ISD 1732 m, BS 35 m, minimum 35 m)
SCENARIO_DEFAULTS = {"umi": {"isd_m": 200.0, "min_distance_m": 10.0, "bs_height_m": 10.0},
                     "uma": {"isd_m": 500.0, "min_distance_m": 35.0, "bs_height_m": 25.0},
                     "rma": {"isd_m": 1732.0, "min_distance_m": 35.0, "bs_height_m": 35.0}}
#: candidates dropped per UE kept (the best-server check discards the others)
_CANDIDATES_PER_UE = 4
_MAX_ATTEMPTS = 8


def scenario_defaults(model: str) -> dict:
    """TR 38.901 layout defaults of ``model`` ("umi", "uma" or "rma")."""
    return dict(SCENARIO_DEFAULTS[model])


@contextlib.contextmanager
def sionna_generator(gen: torch.Generator):
    """Make every Sionna draw inside the block come from ``gen`` (Sionna's functions read
    ``config.torch_rng("cpu")``); the previous generator is put back afterwards."""
    from sionna.phy import config
    old = config._torch_rngs.get("cpu")
    config._torch_rngs["cpu"] = gen
    try:
        yield
    finally:
        if old is None:
            config._torch_rngs.pop("cpu", None)
        else:
            config._torch_rngs["cpu"] = old


@dataclass(frozen=True)
class CellDrop:
    """One drop of the cell: per-UE links to every sector as sums of sinusoids.

    Attributes:
        links: ``links[u][b]`` the channel of sector ``b`` at UE ``u`` (a :class:`SumOfSinusoids`
            whose gains include path loss, shadowing and antenna gains: mean power = coupling gain).
        coupling_gain_db: ``[num_ue, num_bs]`` float64, coupling gain (path loss, shadowing and antenna
            gains; small-scale fading averaged), dB (negative).
        distance_m: ``[num_ue]`` 2D distance to the serving site, m.
        los: ``[num_ue]`` bool, LoS to the serving sector.
        indoor: ``[num_ue]`` bool.
        serving: index of the serving sector (0).
        meta: how the drop was made.
    """

    links: list
    coupling_gain_db: np.ndarray
    distance_m: np.ndarray
    los: np.ndarray
    indoor: np.ndarray
    serving: int
    meta: dict


def best_server(coupling_gain_db: np.ndarray) -> np.ndarray:
    """``[U]`` index of each UE's best server (least coupling loss, ``sionna.sys.serving_indices``)
    from ``coupling_gain_db`` ``[U, B]``, dB."""
    from sionna.sys import coupling_loss_db, serving_indices
    return serving_indices(coupling_loss_db(torch.from_numpy(np.asarray(coupling_gain_db, np.float64)),
                                            precision="double")).numpy()


def geometry_sinr_db(coupling_gain_db: np.ndarray, tx_power_dbm: float, bandwidth_hz: float, noise_figure_db: float,
                     serving: int, interference: bool) -> np.ndarray:
    """``[U]`` geometry SINR, dB (``sionna.sys.geometry_sinr_db``; TR 38.901 Sec. 7.8 Phase 1): serving
    received power over the other sectors' (when ``interference``) plus thermal noise over ``bandwidth_hz``."""
    from sionna.sys import geometry_sinr_db as sionna_geometry_sinr_db
    cl = -np.asarray(coupling_gain_db, np.float64)
    if not interference:  # only the serving sector transmits
        keep = np.full(cl.shape, 1e6)
        keep[:, serving] = cl[:, serving]
        cl = keep
    srv = torch.full((cl.shape[0],), serving, dtype=torch.int64)
    return sionna_geometry_sinr_db(torch.from_numpy(cl), tx_power_dbm, bandwidth_hz, noise_figure_db, serving=srv,
                                   precision="double").numpy()


def _arrays(carrier_hz: float, num_rx_ant: int):
    from sionna.phy.channel.tr38901 import PanelArray
    bs = PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single", polarization_type="V",
                    antenna_pattern="38.901", carrier_frequency=carrier_hz, precision="single", device="cpu")
    ut = PanelArray(num_rows_per_panel=1, num_cols_per_panel=num_rx_ant, polarization="single",
                    polarization_type="V", antenna_pattern="omni", carrier_frequency=carrier_hz,
                    precision="single", device="cpu")
    return bs, ut


def _candidates(model, rings, n, isd_m, min_m, max_m, speed_mps, indoor_p, distances_m, gen):
    """Drop ``n`` candidate UEs in sector 0 of the centre site (Sionna's hex grid)."""
    from sionna.sys import gen_hexgrid_topology
    topo = gen_hexgrid_topology(batch_size=1, num_rings=rings, num_ut_per_sector=n, scenario=model,
                                min_bs_ut_dist=min_m, max_bs_ut_dist=max_m, isd=isd_m,
                                min_ut_velocity=speed_mps, max_ut_velocity=speed_mps,
                                indoor_probability=indoor_p, precision="single", device="cpu")
    ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, _los, bs_vloc = topo
    # UEs are ordered [cell, sector, ue]: the first n are those of sector 0 of the centre site
    ut_loc, ut_o, ut_v, indoor = ut_loc[:, :n].clone(), ut_o[:, :n], ut_v[:, :n], indoor[:, :n]
    bs_vloc = bs_vloc[:, :, :n]
    if distances_m is not None:
        # the given distances, at azimuths uniform over the sector (boresight 60 deg, +-60 deg)
        az = math.pi / 3 + (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi / 3
        d = torch.as_tensor(distances_m, dtype=torch.float64)
        ut_loc[0, :, 0] = (d * torch.cos(az)).float()
        ut_loc[0, :, 1] = (d * torch.sin(az)).float()
        # a UE of the centre site sees every site itself: no wraparound image is nearer
        bs_vloc = bs_loc[:, :, None, :].expand(-1, -1, n, -1).contiguous()
    return ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, bs_vloc


def _channel_model(model: str, carrier_hz: float, num_rx_ant: int):
    from sionna.phy.channel.tr38901 import RMa, UMa, UMi
    bs, ut = _arrays(carrier_hz, num_rx_ant)
    if model == "rma":  # RMa has no O2I model choice (TR 38.901 Table 7.4.3-3 is UMi/UMa only)
        return RMa(carrier_frequency=carrier_hz, ut_array=ut, bs_array=bs, direction="downlink",
                   precision="single", device="cpu")
    cls = {"umi": UMi, "uma": UMa}[model]
    return cls(carrier_frequency=carrier_hz, o2i_model="low", ut_array=ut, bs_array=bs, direction="downlink",
               precision="single", device="cpu")


def _ray_gains(ch, rays, phi, topology, c_ds):
    """Ray-level coefficients at t = 0 grouped into Sionna's paths.

    Returns ``(gain [1, tx, rx, P, R, 1, M] complex64, omega [1, tx, rx, P, M] float64, delays
    [1, tx, rx, P])`` where ``P`` paths hold ``M`` rays each (zero where a ray is not in the path).
    """
    cir = ch._cir_sampler
    t0 = torch.zeros(1, dtype=torch.float32)
    h_full = cir._step_11_nlos(phi, topology, rays, t0)                 # [1, tx, rx, C, M, R, T=1, 1]
    m = h_full.shape[4]
    eye = torch.eye(m, dtype=h_full.dtype)                               # ray index carried on the time axis
    spread = h_full[..., :1] * eye.reshape(1, 1, 1, 1, m, 1, 1, m)       # [1, tx, rx, C, M, R, 1, M]
    gain, delays = cir._step_11_reduce_nlos(spread, rays, c_ds)          # [1, tx, rx, P, R, 1, M]
    # Doppler of each ray (TR 38.901 eq. 7.5-22, the receiving end moves)
    r_hat = cir._unit_sphere_vector(rays.zoa, rays.aoa)[..., 0].double()  # [1, tx, rx, C, M, 3]
    v = topology.velocities.double()[:, None, :, None, None, :]           # [1, 1, rx, 1, 1, 3]
    omega = 2 * math.pi / float(cir._lambda_0) * (r_hat * v).sum(-1)      # [1, tx, rx, C, M]
    om = omega.to(torch.complex128)[..., None, None, None] * eye.to(torch.complex128).reshape(
        1, 1, 1, 1, m, 1, 1, m)                                           # [1, tx, rx, C, M, 1, 1, M]
    om_paths, _ = cir._step_11_reduce_nlos(om, rays, c_ds)                # [1, tx, rx, P, 1, 1, M]
    return gain, om_paths[:, :, :, :, 0, 0].real, delays


def draw_cell(model: str, *, num_ue: int, rings: int, isd_m: float | None, min_distance_m: float | None,
              max_distance_m: float | None, distances_m: tuple | None, indoor_probability: float,
              carrier_ghz: float, speed_kmh: float, num_rx_ant: int, los: str, shadowing: str,
              gen: torch.Generator) -> CellDrop:
    """Drop ``num_ue`` UEs served by sector 0 and return every UE-sector link (module docstring)."""
    d = scenario_defaults(model)
    isd = d["isd_m"] if isd_m is None else float(isd_m)
    min_m = d["min_distance_m"] if min_distance_m is None else float(min_distance_m)
    carrier_hz = carrier_ghz * 1e9
    speed_mps = speed_kmh / 3.6
    n_cand = num_ue * _CANDIDATES_PER_UE
    if distances_m is not None:  # each UE's distance at several azimuths: the first served one is kept
        distances_m = tuple(distances_m) * _CANDIDATES_PER_UE
    force_los = {"auto": None, "los": True, "nlos": False}[los]
    with sionna_generator(gen):
        for attempt in range(_MAX_ATTEMPTS):
            ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, bs_vloc = _candidates(
                model, rings, n_cand, isd, min_m, max_distance_m, speed_mps, indoor_probability, distances_m, gen)
            ch = _channel_model(model, carrier_hz, num_rx_ant)
            ch.set_topology(ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, force_los, bs_vloc)
            coupling, parts = _links(ch, shadowing == "on")
            coupling_db = 10 * np.log10(np.maximum(coupling, 1e-30))               # [U_cand, B]
            served = best_server(coupling_db) == 0                                 # [U_cand]
            if distances_m is not None:
                tries = served.reshape(_CANDIDATES_PER_UE, num_ue)                 # [try, ue]
                if tries.any(axis=0).all():
                    keep = tries.argmax(axis=0) * num_ue + np.arange(num_ue)
                    break
            elif served.sum() >= num_ue:
                keep = np.flatnonzero(served)[:num_ue]
                break
        else:
            what = "cell.ue_distances_m" if distances_m is not None else "cell.max_distance_m"
            raise ValueError(
                f"cell: fewer than {num_ue} of the dropped UEs are best served by the serving sector after "
                f"{_MAX_ATTEMPTS} drops; check {what} or lower the number of streams")
    gains, omega, delays, scale = parts
    links = []
    for u in keep:
        per_bs = []
        for b in range(gains.shape[0]):
            g = gains[b, u] * scale[b, u]                                           # [P, R, N]
            per_bs.append(SumOfSinusoids(gain=np.ascontiguousarray(g.transpose(1, 0, 2)),
                                         omega_rad_s=omega[b, u], delays_s=delays[b, u]))
        links.append(per_bs)
    xy = ut_loc[0, keep, :2].double().numpy()
    dist = np.hypot(xy[:, 0], xy[:, 1])
    meta = {"topology": "sionna.sys.gen_hexgrid_topology", "scenario": model, "rings": rings, "isd_m": isd,
            "min_distance_m": min_m, "max_distance_m": max_distance_m, "num_bs": int(gains.shape[0]),
            "bs_antenna": "TR 38.901 Table 7.3-1 sector pattern, 1 element", "ue_antennas": num_rx_ant,
            "candidates_dropped": int(n_cand * (attempt + 1))}
    return CellDrop(links=links, coupling_gain_db=coupling_db[keep],
                    distance_m=dist, los=np.asarray(ch._scenario.los[0, 0, keep].numpy(), bool),
                    indoor=np.asarray(indoor[0, keep].numpy(), bool), serving=0, meta=meta)


def sionna_inputs(ch):
    """Sionna's rays, random phases, topology and cluster delay spread for the channel's
    current topology (one draw; what its ``__call__`` would use)."""
    from sionna.phy.channel.tr38901.channel_coefficients import Topology
    from sionna.phy.channel.utils import deg_2_rad

    sc = ch._scenario
    lsp = ch._lsp
    rays = ch._ray_sampler(lsp)
    cir = ch._cir_sampler
    phi = cir._step_10(rays.aoa.shape)
    topology = Topology(velocities=sc.ut_velocities, moving_end="rx", los_aoa=deg_2_rad(sc.los_aoa),
                        los_aod=deg_2_rad(sc.los_aod), los_zoa=deg_2_rad(sc.los_zoa), los_zod=deg_2_rad(sc.los_zod),
                        los=sc.los, distance_3d=sc.distance_3d, tx_orientations=sc.bs_orientations,
                        rx_orientations=sc.ut_orientations)
    c_ds = sc.get_param("cDS") * 1e-9
    return lsp, rays, phi, topology, c_ds


def _links(ch, shadowing_on: bool, inputs=None):
    """Per-ray sums of sinusoids of every (sector, UE) link and their coupling gains.

    Returns ``(coupling [U, B] linear power gain, (gains [B, U, P, R, N] complex128, omega [B, U, P, N]
    float64, delays [B, U, P] float64, scale [B, U] float64))``; ``N`` = rays per path + 1 (LoS).
    ``inputs``: from :func:`sionna_inputs` (drawn here when None).
    """
    lsp, rays, phi, topology, c_ds = sionna_inputs(ch) if inputs is None else inputs
    sc, cir = ch._scenario, ch._cir_sampler
    gain, omega, delays = _ray_gains(ch, rays, phi, topology, c_ds)
    g = gain[0, :, :, :, :, 0, :].to(torch.complex128).numpy()             # [B, U, P, R, M]
    om = omega[0].numpy()                                                   # [B, U, P, M]
    k = lsp.k_factor[0].double().numpy()                                    # [B, U] linear
    is_los = sc.los[0].numpy()                                              # [B, U]
    t0 = torch.zeros(1, dtype=torch.float32)
    h_los = cir._step_11_los(topology, t0)[0, :, :, 0, :, 0, 0].to(torch.complex128).numpy()   # [B, U, R]
    r_los = cir._unit_sphere_vector(topology.los_zoa, topology.los_aoa)[0, ..., 0].double()    # [B, U, 3]
    v = sc.ut_velocities[0].double()                                        # [U, 3]
    om_los = (2 * math.pi / float(cir._lambda_0) * (r_los * v[None]).sum(-1)).numpy()           # [B, U]
    nb, nu, npth, nr, m = g.shape
    gains = np.zeros((nb, nu, npth, nr, m + 1), complex)
    omegas = np.zeros((nb, nu, npth, m + 1))
    nlos_scale = np.where(is_los, np.sqrt(1.0 / (k + 1.0)), 1.0)            # [B, U]
    gains[..., :m] = g * nlos_scale[:, :, None, None, None]
    omegas[..., :m] = om
    los_amp = np.where(is_los, np.sqrt(k / (k + 1.0)), 0.0)
    gains[:, :, 0, :, m] = h_los * los_amp[:, :, None]                      # LoS ray joins the first path
    omegas[:, :, 0, m] = om_los
    pl_db = lsp.pathloss[0].double().numpy()                                 # [B, U]
    sf = lsp.sf[0].double().numpy() if shadowing_on else np.ones_like(pl_db)
    scale = 10.0 ** (-pl_db / 20.0) * np.sqrt(sf)                           # Sionna's step 12
    ray_power = (np.abs(gains) ** 2).sum(axis=(2, 4)).mean(axis=2)          # [B, U] mean over antennas
    coupling = (ray_power * scale ** 2).T                                   # [U, B]
    return coupling, (gains, omegas, delays[0].double().numpy(), scale)
