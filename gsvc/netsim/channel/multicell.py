"""A multi-cell downlink or uplink drawn with Sionna's TR 38.901 system-level models, as sums of sinusoids.

Steps (all random draws from one ``torch.Generator`` of the run, never Sionna's global one):

1. **Topology**: ``sionna.sys.gen_hexgrid_topology`` drops candidate UEs in the first sector of
   the centre site of a hexagonal grid of ``rings`` rings (three sectors per site, wraparound
   virtual BS positions), or places them at given 2D distances along random azimuths within
   that sector; indoor state and velocity (``speed_kmh``, random direction) as Sionna draws them.
2. **Channel**: Sionna's ``UMi`` / ``UMa`` system-level model (TR 38.901 Sec. 7.5: LoS state,
   correlated large-scale parameters, path loss, shadowing, O2I loss, clusters and rays) with a BS of
   ``num_tx_ant`` elements of TR 38.901's sector pattern (Table 7.3-1, downtilted to the sector centre
   by Sionna; one by default, a horizontal row at half a wavelength for more) and ``num_rx_ant`` omni UE
   antennas.
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

**Uplink** (``direction="uplink"``): the same steps with Sionna's model built for the uplink (the UE
transmits from one omni antenna, the sector receives on ``num_rx_ant`` elements of the sector pattern):
its rays, LoS angles, K-factor and cluster delay spread are put in the transmitter/receiver view that
Sionna's own ``__call__`` uses for the uplink (arrival and departure swapped), and each ray's Doppler is
``2 pi r_tx . v / lambda`` with ``r_tx`` its departure direction at the moving UE (eq. 7.5-22 with the
transmitting end moving; the same shift as the downlink's by reciprocity). Only the links into the
serving sector are kept as sums of sinusoids (the other sectors' receptions are not simulated), and
besides the served UEs the drop keeps the first few UEs Sionna dropped in every other sector, counted to
their best server (never the serving sector), up to :data:`INTERFERERS_PER_SECTOR` per sector, with their
channel into the serving sector and their coupling gains to every sector (:class:`Interferers`): the
uplink interferers.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from .panel import panel_shape
from .fading import SumOfSinusoids

__all__ = ["CellDrop", "Interferers", "INTERFERERS_PER_SECTOR", "draw_cell", "drop_for", "ue_facts", "sionna_generator", "scenario_defaults",
           "best_server", "geometry_sinr_db"]

#: BS heights, inter-site distances and minimum BS-UE distances of TR 38.901 Table 7.2-1 (UMi
#: street canyon: ISD 200 m, BS 10 m; UMa: ISD 500 m, BS 25 m; minimum 2D distance 10 m / 35 m)
#: and Table 7.2-3 (RMa: ISD 1732 m, BS 35 m, minimum 35 m)
SCENARIO_DEFAULTS = {"umi": {"isd_m": 200.0, "min_distance_m": 10.0, "bs_height_m": 10.0},
                     "uma": {"isd_m": 500.0, "min_distance_m": 35.0, "bs_height_m": 25.0},
                     "rma": {"isd_m": 1732.0, "min_distance_m": 35.0, "bs_height_m": 35.0}}
#: candidates dropped per UE kept (the best-server check discards the others)
_CANDIDATES_PER_UE = 4
_MAX_ATTEMPTS = 8
#: uplink interferers kept per other sector. Two: enough that the one UE an interfering sector schedules
#: on a PRB changes from slot to slot (the interference fluctuates as in a loaded network; ITU-R M.2412's
#: full-buffer eMBB evaluations have 10 UEs per TRxP), while the channels of the other sectors' UEs into the
#: serving sector stay few (at most 2 x 20 links with 1 ring, 2 x 56 with 2 rings).
INTERFERERS_PER_SECTOR = 2
#: UEs taken from each other sector's drop as interferer candidates (each is counted to its best server;
#: about half are best served by the sector they were dropped in, the others fill their best server's quota)
_INTERFERER_CANDIDATES = 2 * INTERFERERS_PER_SECTOR


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
class Interferers:
    """The other sectors' UEs of an uplink drop, as seen by the serving sector.

    Attributes:
        links: ``links[k]`` the channel from UE ``k`` into the serving sector (a :class:`SumOfSinusoids`
            with ``num_rx_ant`` receive antennas, the serving sector's elements; mean power = coupling gain).
        sector: ``[K]`` int, the sector that serves UE ``k`` (its best server, never the serving sector),
            ascending.
        coupling_gain_db: ``[K, num_bs]`` float64, UE ``k``'s coupling gain to every sector, dB.
    """

    links: list
    sector: np.ndarray
    coupling_gain_db: np.ndarray


@dataclass(frozen=True)
class CellDrop:
    """One drop of the cell: per-UE links as sums of sinusoids.

    Attributes:
        links: downlink: ``links[u][b]`` the channel of sector ``b`` at UE ``u`` (a :class:`SumOfSinusoids`
            whose gains include path loss, shadowing and antenna gains: mean power = coupling gain);
            uplink: ``links[u] = [channel from UE u into the serving sector]`` (only it receives).
        coupling_gain_db: ``[num_ue, num_bs]`` float64, coupling gain (path loss, shadowing and antenna
            gains; small-scale fading averaged), dB (negative).
        distance_m: ``[num_ue]`` 2D distance to the serving site, m.
        los: ``[num_ue]`` bool, LoS to the serving sector.
        indoor: ``[num_ue]`` bool.
        serving: index of the serving sector (0).
        meta: how the drop was made.
        direction: ``"downlink"`` or ``"uplink"``.
        interferers: uplink: the other sectors' UEs (:class:`Interferers`); downlink: None.
    """

    links: list
    coupling_gain_db: np.ndarray
    distance_m: np.ndarray
    los: np.ndarray
    indoor: np.ndarray
    serving: int
    meta: dict
    direction: str = "downlink"
    interferers: Interferers | None = None


def drop_for(channel, cell, num_ue: int, seed: int, num_rx_ant: int, direction: str = "downlink",
             num_tx_ant: int = 1) -> "CellDrop":
    """:func:`draw_cell` with the layout of ``cell`` and the propagation of ``channel`` (specs), from a
    generator seeded with ``seed``: the drop a cell's SINR source (downlink or uplink) starts from."""
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int(seed))
    return draw_cell(channel.model, num_ue=num_ue, rings=cell.rings, isd_m=cell.isd_m,
                     min_distance_m=cell.min_distance_m, max_distance_m=cell.max_distance_m,
                     distances_m=cell.ue_distances_m, indoor_probability=cell.indoor_probability,
                     carrier_ghz=channel.carrier_ghz, speed_kmh=channel.speed_kmh, num_rx_ant=num_rx_ant,
                     los=channel.los, shadowing=channel.shadowing, gen=gen, direction=direction,
                     num_tx_ant=num_tx_ant, bs_panel=(cell.bs_rows, cell.bs_polarization))


def ue_facts(drop: "CellDrop", geometry_sinr_db, u: int) -> dict:
    """What a drop says of its UE ``u`` (distance, LoS, indoor, geometry SINR, coupling gain) and of
    the drop itself (its ``meta``), for a cell trace's ``meta`` and ``gsvc.run``'s per-stream rows."""
    return {"distance_m": float(drop.distance_m[u]), "los": bool(drop.los[u]), "indoor": bool(drop.indoor[u]),
            "geometry_sinr_db": float(geometry_sinr_db[u]),
            "coupling_gain_db": float(drop.coupling_gain_db[u, drop.serving]), **drop.meta}


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


def _arrays(carrier_hz: float, num_rx_ant: int, direction: str = "downlink", num_tx_ant: int = 1,
            bs_panel: tuple[int, str] = (1, "single")):
    """BS (TR 38.901 sector pattern) and UE (omni) arrays: ``num_rx_ant`` elements at the receiving end;
    ``num_tx_ant`` at the sector in the downlink, one at the UE in the uplink, at half-wavelength spacing.
    The UE's elements are a horizontal row of vertically polarised elements; the sector's (its ``num_tx_ant``
    on the downlink, its ``num_rx_ant`` on the uplink) are ``bs_panel = (rows, polarization)``: ``rows`` rows of
    vertical (``"single"``) elements or +-45 degree cross-polarised pairs (``"dual"``), ``elements / (rows x P)``
    columns. Sionna orders a panel's elements polarisation first, then column, then row (row fastest)."""
    from sionna.phy.channel.tr38901 import PanelArray
    num_bs_ant, num_ut_ant = (num_tx_ant, num_rx_ant) if direction == "downlink" else (num_rx_ant, 1)
    rows, cols, _ = panel_shape(num_bs_ant, *bs_panel)
    polarization = bs_panel[1]
    bs = PanelArray(num_rows_per_panel=rows, num_cols_per_panel=cols, polarization=polarization,
                    polarization_type="cross" if polarization == "dual" else "V",
                    antenna_pattern="38.901", carrier_frequency=carrier_hz, precision="single", device="cpu")
    ut = PanelArray(num_rows_per_panel=1, num_cols_per_panel=num_ut_ant, polarization="single",
                    polarization_type="V", antenna_pattern="omni", carrier_frequency=carrier_hz,
                    precision="single", device="cpu")
    return bs, ut


def _bs_antenna(elements: int, bs_panel: tuple[int, str]) -> str:
    """What the drop's meta says of the sector's ``elements`` (and their panel, ``(rows, polarization)``)."""
    text = f"TR 38.901 Table 7.3-1 sector pattern, {elements} element(s)"
    if elements == 1:
        return text
    return text + ", panel {} x {} x {} (rows x columns x polarisations)".format(*panel_shape(elements, *bs_panel))


def _candidates(model, rings, n, isd_m, min_m, max_m, speed_mps, indoor_p, distances_m, gen, others=0):
    """Drop ``n`` candidate UEs in sector 0 of the centre site (Sionna's hex grid); with ``others`` > 0
    (at most ``n``) the first ``others`` that Sionna dropped in each other sector follow them, sector by sector."""
    from sionna.sys import gen_hexgrid_topology
    topo = gen_hexgrid_topology(batch_size=1, num_rings=rings, num_ut_per_sector=n, scenario=model,
                                min_bs_ut_dist=min_m, max_bs_ut_dist=max_m, isd=isd_m,
                                min_ut_velocity=speed_mps, max_ut_velocity=speed_mps,
                                indoor_probability=indoor_p, precision="single", device="cpu")
    ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, _los, bs_vloc = topo
    # UEs are ordered [cell, sector, ue]: the first n are those of sector 0 of the centre site
    sel = slice(None, n)
    if others:  # sector j's UEs are j * n .. j * n + n - 1
        num_bs = bs_loc.shape[1]
        sel = torch.cat([torch.arange(n), (torch.arange(1, num_bs)[:, None] * n + torch.arange(others)).reshape(-1)])
    ut_loc, ut_o, ut_v, indoor = ut_loc[:, sel].clone(), ut_o[:, sel], ut_v[:, sel], indoor[:, sel]
    bs_vloc = bs_vloc[:, :, sel]
    if distances_m is not None:
        # the given distances, at azimuths uniform over the sector (boresight 60 deg, +-60 deg)
        az = math.pi / 3 + (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi / 3
        d = torch.as_tensor(distances_m, dtype=torch.float64)
        ut_loc[0, :n, 0] = (d * torch.cos(az)).float()
        ut_loc[0, :n, 1] = (d * torch.sin(az)).float()
        # a UE of the centre site sees every site itself: no wraparound image is nearer (the other
        # sectors' UEs keep theirs)
        bs_vloc = torch.cat([bs_loc[:, :, None, :].expand(-1, -1, n, -1), bs_vloc[:, :, n:]], dim=2).contiguous()
    return ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, bs_vloc


def _channel_model(model: str, carrier_hz: float, num_rx_ant: int, direction: str = "downlink", num_tx_ant: int = 1,
                   bs_panel: tuple[int, str] = (1, "single")):
    from sionna.phy.channel.tr38901 import RMa, UMa, UMi
    bs, ut = _arrays(carrier_hz, num_rx_ant, direction, num_tx_ant, bs_panel)
    if model == "rma":  # RMa has no O2I model choice (TR 38.901 Table 7.4.3-3 is UMi/UMa only)
        return RMa(carrier_frequency=carrier_hz, ut_array=ut, bs_array=bs, direction=direction,
                   precision="single", device="cpu")
    cls = {"umi": UMi, "uma": UMa}[model]
    return cls(carrier_frequency=carrier_hz, o2i_model="low", ut_array=ut, bs_array=bs, direction=direction,
               precision="single", device="cpu")


def _ray_fields(ch, rays, phi, topology):
    """Every ray's coefficient at t = 0 and its Doppler.

    Returns ``(h_full [1, tx, rx, C, M, R, T, 1] complex64, omega [1, tx, rx, C, M] float64 rad/s)``.
    """
    cir = ch._cir_sampler
    t0 = torch.zeros(1, dtype=torch.float32)
    h_full = cir._step_11_nlos(phi, topology, rays, t0)                 # [1, tx, rx, C, M, R, T=1, 1]
    # Doppler of each ray (TR 38.901 eq. 7.5-22) at the moving end, the UE: the receiving end in the
    # downlink (arrival direction), the transmitting end in the uplink (departure direction)
    if topology.moving_end == "rx":
        r_hat = cir._unit_sphere_vector(rays.zoa, rays.aoa)[..., 0].double()  # [1, tx, rx, C, M, 3]
        v = topology.velocities.double()[:, None, :, None, None, :]           # [1, 1, rx, 1, 1, 3]
    else:
        r_hat = cir._unit_sphere_vector(rays.zod, rays.aod)[..., 0].double()  # [1, tx, rx, C, M, 3]
        v = topology.velocities.double()[:, :, None, None, None, :]           # [1, tx, 1, 1, 1, 3]
    omega = 2 * math.pi / float(cir._lambda_0) * (r_hat * v).sum(-1)      # [1, tx, rx, C, M]
    return h_full, omega


def _group_paths(cir, h_full, omega, rays, c_ds):
    """Rays grouped into Sionna's paths (``rays`` needs ``powers``, ``delays`` and
    ``strongest_cluster_indices``).

    Returns ``(gain [1, tx, rx, P, R, T, M] complex64, omega [1, tx, rx, P, M] float64, delays
    [1, tx, rx, P])`` where ``P`` paths hold ``M`` rays each (zero where a ray is not in the path).
    The ray-to-path map does not depend on the antennas: Sionna's reduction is fed each ray's cluster
    number (plus one) once, with the ray index on its time axis, and the rays' coefficients on every
    antenna pair are then gathered along it (a tensor ``R x T`` times smaller than feeding the
    coefficients themselves; the same values, copied rather than summed with zeros).
    """
    b, tx, rx, c, m = h_full.shape[:5]
    n_r, n_t = h_full.shape[5], h_full.shape[6]
    eye = torch.eye(m, dtype=h_full.dtype)                               # ray index carried on the time axis
    number = (torch.arange(c, dtype=torch.float32) + 1).to(h_full.dtype).reshape(1, 1, 1, c, 1, 1, 1, 1)
    spread = number.expand(b, tx, rx, c, 1, 1, 1, 1) * eye.reshape(1, 1, 1, 1, m, 1, 1, m)  # [b, tx, rx, C, M, 1, 1, M]
    ids, delays = cir._step_11_reduce_nlos(spread, rays, c_ds)           # [b, tx, rx, P, 1, 1, M]
    ids = ids[:, :, :, :, 0, 0, :].real.round().long()                   # [b, tx, rx, P, M] cluster + 1, or 0
    coef = h_full[..., 0].permute(0, 1, 2, 4, 3, 5, 6)                   # [b, tx, rx, M, C, R, T] at t = 0
    at = (ids - 1).clamp(min=0).permute(0, 1, 2, 4, 3)                   # [b, tx, rx, M, P]
    picked = torch.gather(coef, 4, at[..., None, None].expand(-1, -1, -1, -1, -1, n_r, n_t))
    picked = picked * (ids > 0).permute(0, 1, 2, 4, 3)[..., None, None].to(picked.dtype)
    gain = picked.permute(0, 1, 2, 4, 5, 6, 3)                           # [b, tx, rx, P, R, T, M]
    om = omega.to(torch.complex128)[..., None, None, None] * eye.to(torch.complex128).reshape(
        1, 1, 1, 1, m, 1, 1, m)                                           # [1, tx, rx, C, M, 1, 1, M]
    om_paths, _ = cir._step_11_reduce_nlos(om, rays, c_ds)                # [1, tx, rx, P, 1, 1, M]
    return gain, om_paths[:, :, :, :, 0, 0].real, delays


def _ray_gains(ch, rays, phi, topology, c_ds):
    """Ray-level coefficients at t = 0 grouped into Sionna's paths (:func:`_group_paths`)."""
    h_full, omega = _ray_fields(ch, rays, phi, topology)
    return _group_paths(ch._cir_sampler, h_full, omega, rays, c_ds)


def draw_cell(model: str, *, num_ue: int, rings: int, isd_m: float | None, min_distance_m: float | None,
              max_distance_m: float | None, distances_m: tuple | None, indoor_probability: float,
              carrier_ghz: float, speed_kmh: float, num_rx_ant: int, los: str, shadowing: str,
              gen: torch.Generator, direction: str = "downlink", num_tx_ant: int = 1,
              bs_panel: tuple[int, str] = (1, "single")) -> CellDrop:
    """Drop ``num_ue`` UEs served by sector 0 and return their links (module docstring).

    ``num_rx_ant``: antennas of the receiving end (downlink: each UE's; uplink: the sector's).
    ``num_tx_ant``: the sector's transmit elements in the downlink (each link's antenna axis is then
    ``num_rx_ant * num_tx_ant`` pairs, receive antenna major); the uplink's UE sends from one.
    ``bs_panel``: ``(rows, polarization)`` of the sector's elements, ``num_tx_ant`` of them on the downlink,
    ``num_rx_ant`` on the uplink (:func:`_arrays`).
    ``direction``: ``"downlink"`` (every sector's channel at every UE) or ``"uplink"`` (every UE's channel
    into sector 0, and the other sectors' UEs as :attr:`CellDrop.interferers`).
    """
    if direction not in ("downlink", "uplink"):
        raise ValueError(f"direction={direction!r}; give 'downlink' or 'uplink'")
    uplink = direction == "uplink"
    d = scenario_defaults(model)
    isd = d["isd_m"] if isd_m is None else float(isd_m)
    min_m = d["min_distance_m"] if min_distance_m is None else float(min_distance_m)
    carrier_hz = carrier_ghz * 1e9
    speed_mps = speed_kmh / 3.6
    n_cand = num_ue * _CANDIDATES_PER_UE
    others = min(n_cand, _INTERFERER_CANDIDATES) if uplink else 0
    if distances_m is not None:  # each UE's distance at several azimuths: the first served one is kept
        distances_m = tuple(distances_m) * _CANDIDATES_PER_UE
    force_los = {"auto": None, "los": True, "nlos": False}[los]
    with sionna_generator(gen):
        for attempt in range(_MAX_ATTEMPTS):
            ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, bs_vloc = _candidates(
                model, rings, n_cand, isd, min_m, max_distance_m, speed_mps, indoor_probability, distances_m, gen,
                others)
            ch = _channel_model(model, carrier_hz, num_rx_ant, direction, 1 if uplink else num_tx_ant, bs_panel)
            ch.set_topology(ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, force_los, bs_vloc)
            coupling, parts = (_uplink_links if uplink else _links)(ch, shadowing == "on")
            coupling_db = 10 * np.log10(np.maximum(coupling, 1e-30))               # [U_cand (+ others), B]
            best = best_server(coupling_db)
            served = best[:n_cand] == 0                                            # [U_cand]
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
        for b in range(gains.shape[0]):   # uplink: only the serving sector's reception is kept
            per_bs.append(_sos(gains[b, u], omega[b, u], delays[b, u], scale[b, u]))
        links.append(per_bs)
    xy = ut_loc[0, keep, :2].double().numpy()
    dist = np.hypot(xy[:, 0], xy[:, 1])
    num_bs = int(coupling_db.shape[1])
    meta = {"topology": "sionna.sys.gen_hexgrid_topology", "scenario": model, "rings": rings, "isd_m": isd,
            "min_distance_m": min_m, "max_distance_m": max_distance_m, "num_bs": num_bs,
            "bs_antenna": _bs_antenna(num_tx_ant, bs_panel), "ue_antennas": num_rx_ant,
            "candidates_dropped": int(n_cand * (attempt + 1))}
    interferers = None
    if uplink:
        meta.update({"direction": "uplink", "ue_antennas": 1,
                     "bs_antenna": _bs_antenna(num_rx_ant, bs_panel)})
        # the other sectors' UEs, each counted to its best server (the serving sector's are skipped: it
        # schedules them itself), the first INTERFERERS_PER_SECTOR of each sector in drop order
        cand = n_cand + np.arange(others * (num_bs - 1))
        chosen = np.concatenate([cand[best[cand] == b][:INTERFERERS_PER_SECTOR] for b in range(1, num_bs)])
        interferers = Interferers(
            links=[_sos(gains[0, k], omega[0, k], delays[0, k], scale[0, k]) for k in chosen],
            sector=best[chosen].astype(np.int64), coupling_gain_db=coupling_db[chosen])
        meta.update({"interferers_per_sector": INTERFERERS_PER_SECTOR, "interferers": int(len(chosen))})
    return CellDrop(links=links, coupling_gain_db=coupling_db[keep],
                    distance_m=dist, los=np.asarray(ch._scenario.los[0, 0, keep].numpy(), bool),
                    indoor=np.asarray(indoor[0, keep].numpy(), bool), serving=0, meta=meta,
                    direction=direction, interferers=interferers)


def _sos(gains, omega, delays, scale) -> SumOfSinusoids:
    """One link (``gains [P, R, N]``, ``omega [P, N]``, ``delays [P]``, ``scale`` its path-loss and
    shadowing amplitude) as a :class:`SumOfSinusoids`."""
    g = gains * scale                                                                # [P, R, N]
    return SumOfSinusoids(gain=np.ascontiguousarray(g.transpose(1, 0, 2)), omega_rad_s=omega, delays_s=delays)


def sionna_inputs(ch):
    """Sionna's rays, random phases, topology and cluster delay spread for the channel's
    current topology (one draw; what its ``__call__`` would use), in its transmitter/receiver view:
    ``[tx, rx]`` = ``[BS, UE]`` in the downlink, ``[UE, BS]`` in the uplink (the LSPs stay ``[BS, UE]``)."""
    from sionna.phy.channel.tr38901.channel_coefficients import Topology
    from sionna.phy.channel.utils import deg_2_rad

    sc = ch._scenario
    lsp = ch._lsp
    rays = ch._ray_sampler(lsp)
    uplink = sc.direction == "uplink"
    if uplink:
        _uplink_view(rays)
    cir = ch._cir_sampler
    phi = cir._step_10(rays.aoa.shape)
    if not uplink:
        topology = Topology(velocities=sc.ut_velocities, moving_end="rx", los_aoa=deg_2_rad(sc.los_aoa),
                            los_aod=deg_2_rad(sc.los_aod), los_zoa=deg_2_rad(sc.los_zoa),
                            los_zod=deg_2_rad(sc.los_zod), los=sc.los, distance_3d=sc.distance_3d,
                            tx_orientations=sc.bs_orientations, rx_orientations=sc.ut_orientations)
        c_ds = sc.get_param("cDS") * 1e-9
        return lsp, rays, phi, topology, c_ds
    # the uplink view of Sionna's SystemLevelChannel.__call__: arrival and departure swapped, [UE, BS]
    def t(x):
        return x.permute(0, 2, 1)
    topology = Topology(velocities=sc.ut_velocities, moving_end="tx", los_aoa=t(deg_2_rad(sc.los_aod)),
                        los_aod=t(deg_2_rad(sc.los_aoa)), los_zoa=t(deg_2_rad(sc.los_zod)),
                        los_zod=t(deg_2_rad(sc.los_zoa)), los=t(sc.los), distance_3d=t(sc.distance_3d),
                        tx_orientations=sc.ut_orientations, rx_orientations=sc.bs_orientations)
    c_ds = t(sc.get_param("cDS") * 1e-9)
    return lsp, rays, phi, topology, c_ds


def _uplink_view(rays) -> None:
    """Put Sionna's rays (drawn ``[BS, UE]`` with arrival at the UE) in the uplink's ``[UE, BS]`` view,
    as ``SystemLevelChannel.__call__`` does for ``direction="uplink"`` (in place)."""
    def t(x):
        return None if x is None else x.transpose(1, 2)
    rays.aod, rays.zod, rays.aoa, rays.zoa = t(rays.aoa), t(rays.zoa), t(rays.aod), t(rays.zod)
    rays.powers, rays.delays, rays.xpr = t(rays.powers), t(rays.delays), t(rays.xpr)
    for name in ("cluster_sort_indices", "strongest_cluster_indices", "phases", "blockage_loss_db"):
        if getattr(rays, name, None) is not None:
            setattr(rays, name, t(getattr(rays, name)))
    if getattr(rays, "los_blockage_loss_db", None) is not None:
        rays.los_blockage_loss_db = t(rays.los_blockage_loss_db)


def _links(ch, shadowing_on: bool, inputs=None):
    """Per-ray sums of sinusoids of every (sector, UE) link and their coupling gains.

    Returns ``(coupling [U, B] linear power gain, (gains [B, U, P, R, N] complex128, omega [B, U, P, N]
    float64, delays [B, U, P] float64, scale [B, U] float64))``; ``N`` = rays per path + 1 (LoS).
    ``inputs``: from :func:`sionna_inputs` (drawn here when None).
    """
    lsp, rays, phi, topology, c_ds = sionna_inputs(ch) if inputs is None else inputs
    sc, cir = ch._scenario, ch._cir_sampler
    gain, omega, delays = _ray_gains(ch, rays, phi, topology, c_ds)
    g = gain[0].to(torch.complex128).numpy()                                # [B, U, P, R, T, M]
    g = g.reshape(*g.shape[:3], -1, g.shape[-1])                            # [B, U, P, R * T, M]
    om = omega[0].numpy()                                                   # [B, U, P, M]
    k = lsp.k_factor[0].double().numpy()                                    # [B, U] linear
    is_los = sc.los[0].numpy()                                              # [B, U]
    t0 = torch.zeros(1, dtype=torch.float32)
    h_los = cir._step_11_los(topology, t0)[0, :, :, 0, :, :, 0].to(torch.complex128).numpy()   # [B, U, R, T]
    h_los = h_los.reshape(*h_los.shape[:2], -1)                             # [B, U, R * T]
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


def _uplink_links(ch, shadowing_on: bool, inputs=None):
    """The uplink counterpart of :func:`_links`: every UE's coupling gain to every sector, and its
    channel into sector 0 only as sums of sinusoids.

    Returns ``(coupling [U, B] linear power gain, (gains [1, U, P, R, N] complex128, omega [1, U, P, N]
    float64, delays [1, U, P] float64, scale [1, U] float64))``; ``R`` = the sector's receive antennas.
    The coupling gain is :func:`_links`'s (ray powers, K-factor split, path loss and shadowing), summed
    from the rays directly: the ray-to-path map (a tensor ``M`` times larger) is built for sector 0 only.
    """
    from types import SimpleNamespace

    lsp, rays, phi, topology, c_ds = sionna_inputs(ch) if inputs is None else inputs
    sc, cir = ch._scenario, ch._cir_sampler
    h_full, omega = _ray_fields(ch, rays, phi, topology)                    # [1, U, B, C, M, R, 1, 1], [1, U, B, C, M]
    s = slice(0, 1)                                                         # the serving sector
    sub = SimpleNamespace(powers=rays.powers[:, :, s], delays=rays.delays[:, :, s],
                          strongest_cluster_indices=None if getattr(rays, "strongest_cluster_indices", None) is None
                          else rays.strongest_cluster_indices[:, :, s])
    gain, om, delays = _group_paths(cir, h_full[:, :, s], omega[:, :, s], sub, c_ds[:, :, s])
    g = gain[0, :, 0, :, :, 0, :].to(torch.complex128).numpy()             # [U, P, R, M]
    om = om[0, :, 0].numpy()                                                # [U, P, M]
    k = lsp.k_factor[0].double().numpy()                                    # [B, U] linear
    is_los = sc.los[0].numpy()                                              # [B, U]
    nlos_scale = np.where(is_los, np.sqrt(1.0 / (k + 1.0)), 1.0)            # [B, U]
    los_amp = np.where(is_los, np.sqrt(k / (k + 1.0)), 0.0)
    t0 = torch.zeros(1, dtype=torch.float32)
    h_los = cir._step_11_los(topology, t0)[0, :, :, 0, :, 0, 0].to(torch.complex128).numpy()   # [U, B, R]
    r_los = cir._unit_sphere_vector(topology.los_zod, topology.los_aod)[0, :, 0, :, 0].double()  # [U, 3]
    v = sc.ut_velocities[0].double()                                        # [U, 3]
    om_los = (2 * math.pi / float(cir._lambda_0) * (r_los * v).sum(-1)).numpy()                 # [U]
    nu, npth, nr, m = g.shape
    gains = np.zeros((nu, npth, nr, m + 1), complex)
    omegas = np.zeros((nu, npth, m + 1))
    gains[..., :m] = g * nlos_scale[0][:, None, None, None]
    omegas[..., :m] = om
    gains[:, 0, :, m] = h_los[:, 0] * los_amp[0][:, None]                    # LoS ray joins the first path
    omegas[:, 0, m] = om_los
    pl_db = lsp.pathloss[0].double().numpy()                                 # [B, U]
    sf = lsp.sf[0].double().numpy() if shadowing_on else np.ones_like(pl_db)
    scale = 10.0 ** (-pl_db / 20.0) * np.sqrt(sf)                           # [B, U], Sionna's step 12
    nlos_power = (h_full.abs().double() ** 2).sum(dim=(3, 4, 6, 7)).mean(dim=3)[0].numpy()     # [U, B]
    los_power = (np.abs(h_los) ** 2).mean(axis=2)                            # [U, B]
    ray_power = nlos_power * nlos_scale.T ** 2 + los_power * los_amp.T ** 2
    coupling = ray_power * scale.T ** 2                                     # [U, B]
    return coupling, (gains[None], omegas[None], delays[0, :, 0].double().numpy()[None], scale[:1])
