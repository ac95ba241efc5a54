"""How the streams of a scenario share the radio: one UE per stream in one cell.

``cell.scheduler="dedicated"`` (the default) gives every stream a carrier of its own, as
:class:`~gsvc.netsim.channel.linkspec.LinkSpec` describes; ``"pf"``, ``"max-rate"`` and ``"round-robin"`` put every
stream's UE on the one carrier of the serving sector, and the scheduler splits its PRB groups
in every slot (:mod:`.scheduler`). ``cell.interference="full-buffer"`` adds the downlink of every
other sector of a hexagonal layout, transmitting on every PRB (``umi``/``uma`` only: interference
needs geometry). Any setting other than dedicated without interference draws the streams' traces
together (:mod:`.cell`).
"""
from __future__ import annotations

import math
from typing import Literal, Union

from pydantic import field_validator, model_validator

from ...spec import Spec, SpecError, bounded
from .panel import panel_shape

__all__ = ["CellSpec", "validate_cell", "cell_is_shared", "scheduled_in_loop", "sector_elements"]


def __getattr__(name: str):
    """``GEOMETRY_MODELS``: the system-level channel models (:func:`.models.system_level_names`), as a tuple."""
    if name == "GEOMETRY_MODELS":
        from .models import system_level_names
        return tuple(system_level_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: the fractional path-loss compensation factors TS 38.331 allows (PUSCH-PowerControl alpha: alpha0, alpha04 ...
#: alpha1)
ALPHAS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class CellSpec(Spec):
    """The cell the streams' UEs share (see module docstring).

    ``rings``, ``isd_m``, ``min_distance_m``, ``max_distance_m``, ``indoor_probability`` and
    ``ue_distances_m`` are read for ``channel.model`` ``umi``/``uma`` in a shared cell (and ``rma``): each stream's
    UE is dropped uniformly in the serving sector (sector 0 of the centre site) between the two
    distances, or placed at ``ue_distances_m[stream]`` from the site at a random azimuth in the
    sector; a UE whose best server is another sector is dropped again. None takes TR 38.901
    Table 7.2-1's value (UMi: ISD 200 m, min 10 m; UMa: ISD 500 m, min 35 m; RMa: ISD 1732 m, min 35 m).
    With other link-level
    models every UE sees its own fading at ``channel.snr_db``.
    ``pf_beta``: discount factor of the proportional-fair average rate (Sionna's
    ``PFSchedulerSUMIMO`` default 0.98).
    ``interferer_beams`` (with ``bs_tx_antennas`` > 1 and full-buffer interference): how the other
    sectors, beamforming to UEs that are not simulated, point. ``"isotropic"``: every beam's power spread
    evenly over directions, the mean interference of one element, steady from slot to slot.
    ``"grid"``: on every PRB group in every slot each other sector sends one beam of a grid of ``4 T``
    DFT beams (the row's oversampled spatial beams, as TS 38.214's Type I codebook builds them with
    ``O1 = 4``), drawn afresh: the same mean, but interference that flashes up when a beam points at
    the UE and vanishes when it does not, which the channel the scheduler and OLLA last heard of does not
    foresee. With ``mu_mimo_ues`` K the other sectors serve K UEs at once as well: K such beams, each at
    ``1 / K`` of the power (flashes that are more frequent and weaker).
    ``bs_rows``, ``bs_polarization``: the shape of the beamforming sector's panel (``(M, N, P)`` of TR 38.901
    Sec. 7.3, one panel, every element its own port): ``bs_rows`` rows ``M`` of ``N`` columns, each position one
    vertically polarised element (``"single"``) or a +-45 degree cross-polarised pair (``"dual"``, ``P = 2``), so
    ``bs_tx_antennas = M N P`` on the downlink (on the uplink the panel is the sector's ``channel.num_rx_ant``
    receive elements, up to 64 there). A row (the default) steers in azimuth only; rows steer in elevation as well,
    and a dual-polarised panel doubles the ports on the same aperture. With ``interferer_beams="grid"`` the
    beams are then TS 38.214's two-dimensional Type I beams (``O2 = 4`` with ``M`` > 1), with a co-phasing of
    ``{1, j, -1, -j}`` between the polarisations.
    """

    spec_path = "cell"
    scheduler: str = "dedicated"
    interference: Literal["off", "full-buffer"] = "off"
    rings: int = bounded(1, 1, 2, "rings", "rings of hexagonal sites around the serving site (7 or 19 sites)")
    isd_m: Union[float, None] = bounded(None, 10.0, 10_000.0, "m", "inter-site distance (None: TR 38.901)")
    min_distance_m: Union[float, None] = bounded(None, 1.0, 5_000.0, "m", "minimum 2D BS-UE distance")
    max_distance_m: Union[float, None] = bounded(None, 1.0, 5_000.0, "m", "maximum 2D BS-UE distance")
    indoor_probability: float = bounded(0.8, 0.0, 1.0, "", "share of indoor UEs (TR 38.901 Table 7.2-1: 0.8)")
    ue_distances_m: Union[tuple[float, ...], None] = None
    pf_beta: float = bounded(0.98, 0.5, 0.9999, "", "discount of the proportional-fair average rate")
    traffic: Literal["queue", "full-buffer"] = "queue"
    pdb_ms: float = bounded(30.0, 0.5, 10_000.0, "ms", "packet delay budget over the air: 'pf-delay' weighs a UE "
                            "by its head-of-line delay against it; a stream is radio-satisfied when 99 % of its "
                            "frames meet it (gsvc.netsim.satisfaction)")
    bsr_period_ms: float = bounded(0.0, 0.0, 10_240.0, "ms", "uplink buffer status report period "
                                   "(TS 38.331 periodicBSR-Timer; 0: the scheduler sees every UE's queue exactly)")
    sr_delay_ms: float = bounded(2.0, 0.0, 1000.0, "ms", "uplink scheduling request to first grant, for data "
                                 "reaching a UE the scheduler thinks has none (read when bsr_period_ms > 0)")
    ue_power_dbm: float = bounded(23.0, 0.0, 33.0, "dBm", "UE maximum transmit power (uplink; TS 38.101-1 "
                                  "power class 3: 23 dBm)")
    p0_dbm: float = bounded(-80.0, -202.0, 24.0, "dBm", "uplink open-loop power control target P0 per PRB "
                            "(TS 38.213 Sec. 7.1.1 P_O_PUSCH; -202..24 dBm). The default, with alpha 0.8, "
                            "is gsvc's choice of a common fractional setting, not a value from a 3GPP table")
    alpha: float = bounded(0.8, 0.0, 1.0, "", "uplink path-loss compensation factor of open-loop power control "
                           "(one of ALPHAS)")
    bs_noise_figure_db: float = bounded(5.0, 0.0, 20.0, "dB", "base-station noise figure, the uplink's receiver "
                                        "(TR 38.802 Table A.2.1-1: 5 dB)")
    bs_tx_antennas: int = bounded(1, 1, 64, "antennas", "downlink of a shared umi/uma/rma cell: the sector's transmit "
                                  "elements (TR 38.901 sector elements at half a wavelength: bs_rows rows of "
                                  "bs_tx_antennas / (bs_rows x polarisations) columns), one layer eigen-beamformed to "
                                  "each UE from its channel csi_delay_ms before")
    bs_rows: int = bounded(1, 1, 8, "rows", "rows of the sector's panel, half a wavelength apart (1: a horizontal row)")
    bs_polarization: Literal["single", "dual"] = "single"
    interferer_beams: Literal["isotropic", "grid"] = "isotropic"
    mu_mimo_ues: int = bounded(1, 1, 8, "UEs", "MU-MIMO in a queue cell (traffic 'queue'): the most UEs one PRB "
                               "group carries at once, on the downlink one zero-forced layer each from a beamforming "
                               "sector (bs_tx_antennas > 1), on the uplink separated by the sector's zero-forcing "
                               "receiver over channel.num_rx_ant elements (gsvc.netsim.channel.mumimo); 1: single-user")
    csi_delay_ms: float = bounded(0.0, 0.0, 1000.0, "ms", "age of the channel a beamforming sector "
                                  "(bs_tx_antennas > 1) precodes with: 0 is ideal channel knowledge; a CSI "
                                  "report's period and latency age it")

    @field_validator("scheduler")
    @classmethod
    def _known(cls, v: str) -> str:
        from .scheduler import RULES, SHARED_NOT
        problem = None if v == SHARED_NOT else RULES.problem(v)
        if problem:
            raise ValueError(f"{problem}; or {SHARED_NOT!r}: a carrier per stream")
        return v

    @model_validator(mode="after")
    def _check_distances(self) -> "CellSpec":
        p = self.spec_path
        if self.traffic == "full-buffer" and self.scheduler != "dedicated":
            from .scheduler import scheduling_rule
            if scheduling_rule(self.scheduler).hol_weight is not None:
                raise ValueError(f"{p}.scheduler={self.scheduler!r} weighs each UE's queue, so it needs "
                                 f"{p}.traffic='queue' (not {p}.traffic='full-buffer')")
        if self.alpha not in ALPHAS:
            raise ValueError(f"{p}.alpha={self.alpha:g} is not a TS 38.213 path-loss compensation factor; "
                             f"give one of {', '.join(f'{a:g}' for a in ALPHAS)}")
        if self.min_distance_m is not None and self.max_distance_m is not None \
                and self.min_distance_m >= self.max_distance_m:
            raise ValueError(f"{p}.min_distance_m={self.min_distance_m:g} must be below "
                             f"{p}.max_distance_m={self.max_distance_m:g}")
        if self.ue_distances_m is not None:
            bad = [d for d in self.ue_distances_m if not (1.0 <= d <= 5_000.0) or math.isnan(d)]
            if bad:
                raise ValueError(f"{p}.ue_distances_m has {bad}; give distances in [1, 5000] m")
        return self


def cell_is_shared(cell: CellSpec, channel=None) -> bool:
    """Are the streams' traces drawn by the cell (a shared carrier, interference, or ``rma``, whose
    only model is the multi-cell one)?"""
    if cell.scheduler != "dedicated" or cell.interference != "off":
        return True
    if channel is None:
        return False
    from .models import channel_model
    model = channel_model(channel.model)
    return model.system_level and model.fading is None


def scheduled_in_loop(cell: CellSpec) -> bool:
    """Is the carrier shared and scheduled inside the event loop, among the UEs with data
    (``cell.traffic="queue"``), rather than split into full-buffer shares before it?"""
    return cell.scheduler != "dedicated" and cell.traffic == "queue"


def sector_elements(cell: CellSpec, channel, link) -> tuple[str, int]:
    """The field that counts the sector's elements and how many there are: the ones it sends on
    (``cell.bs_tx_antennas``) on the downlink, the ones it receives on (``channel.num_rx_ant``) on the uplink."""
    if link.direction == "uplink":
        return f"{channel.spec_path}.num_rx_ant", channel.num_rx_ant
    return f"{cell.spec_path}.bs_tx_antennas", cell.bs_tx_antennas


#: largest MU-MIMO channel a run may hold (:func:`mu_channel_gib`), GiB
MU_CHANNEL_MAX_GIB = 4.0


def mu_channel_gib(cell: CellSpec, channel, link, streams: int) -> float:
    """GiB of the channel MU-MIMO pairing keeps (``[slots, UEs, PRB groups, elements]`` complex64 and the
    interference ``[slots, UEs, groups]`` float32) for ``link.trace_s``; the elements are the sector's transmit
    elements on the downlink, its receive elements (``channel.num_rx_ant``) on the uplink."""
    from . import numerology as nr
    n_prb = nr.num_prb(link.bandwidth_mhz, link.scs_khz, nr.frequency_range(channel.carrier_ghz)) or 1
    groups = len(nr.prb_groups(n_prb)[1])
    slots = link.trace_s / link.slot_s
    return slots * streams * groups * (8 * sector_elements(cell, channel, link)[1] + 4) / 2 ** 30


def validate_cell(cell: CellSpec, channel, link, streams: int) -> None:
    """Raise :class:`~gsvc.spec.SpecError` if the cell does not fit the channel, link and streams."""
    from .models import channel_model, link_level_names
    p, c = cell.spec_path, channel.spec_path
    model = channel_model(channel.model)
    sector_panel = cell_is_shared(cell, channel) and model.system_level
    uplink = link.direction == "uplink"
    field, elements = sector_elements(cell, channel, link)
    if channel.num_rx_ant > 8 and not (uplink and sector_panel):
        raise SpecError([f"{c}.num_rx_ant={channel.num_rx_ant}: more than 8 receive antennas only at the sector of "
                         f"a shared {c}.model 'umi', 'uma' or 'rma' uplink ({p}.scheduler 'pf' ..., "
                         f"link.direction='uplink'); give 1-8 here"])
    rows, _, pols = panel_shape(elements, cell.bs_rows, cell.bs_polarization)
    ports = rows * pols
    if ports > 1:
        pair = " cross-polarised pairs" if cell.bs_polarization == "dual" else " elements"
        if not sector_panel:
            raise SpecError([f"{p}.bs_rows={cell.bs_rows}, {p}.bs_polarization={cell.bs_polarization!r} shape the "
                             f"sector's panel of a shared {c}.model 'umi', 'uma' or 'rma' cell; leave them at 1, "
                             f"'single' here"])
        if elements % ports:
            raise SpecError([f"{field}={elements} does not fill {p}.bs_rows={cell.bs_rows} row(s) of{pair}; "
                             f"give a multiple of {ports}"])
    if cell.bs_tx_antennas > 1:
        where = None
        if not sector_panel:
            where = f"a shared cell of {c}.model 'umi', 'uma' or 'rma' ({p}.scheduler 'pf' ... or {p}.interference)"
        elif link.direction == "uplink":
            where = f"the downlink (on the uplink the sector receives on {c}.num_rx_ant elements)"
        if where is not None:
            raise SpecError([f"{p}.bs_tx_antennas={cell.bs_tx_antennas} is read only in {where}; leave it at 1 here"])
    elif cell.csi_delay_ms > 0 and not (uplink and cell.mu_mimo_ues > 1):
        raise SpecError([f"{p}.csi_delay_ms={cell.csi_delay_ms:g} is the age of a beamforming sector's channel "
                         f"knowledge; it is read only with {p}.bs_tx_antennas > 1 (or uplink {p}.mu_mimo_ues > 1)"])
    elif cell.interferer_beams != "isotropic":
        raise SpecError([f"{p}.interferer_beams={cell.interferer_beams!r} is how the other beamforming sectors "
                         f"point; it is read only with {p}.bs_tx_antennas > 1"])
    if cell.interferer_beams != "isotropic" and cell.interference != "full-buffer":
        raise SpecError([f"{p}.interferer_beams={cell.interferer_beams!r} shapes the other sectors' "
                         f"interference; it is read only with {p}.interference='full-buffer'"])
    if cell.mu_mimo_ues > 1:
        from .scheduler import RULES
        why = None
        if uplink and not sector_panel:
            why = f"a shared cell of {c}.model 'umi', 'uma' or 'rma' pairs UEs"
        elif cell.mu_mimo_ues > elements:
            why = f"zero-forcing separates at most {field}={elements} UEs; give {field} >= {cell.mu_mimo_ues}"
        elif cell.traffic != "queue":
            why = f"UEs are paired slot by slot in a {p}.traffic='queue' cell, not in full-buffer shares"
        elif cell.scheduler in RULES.names() and RULES.entry(cell.scheduler).priority is None:
            why = f"pairing weighs the scheduler's metric; {p}.scheduler={cell.scheduler!r} has none"
        if why is not None:
            raise SpecError([f"{p}.mu_mimo_ues={cell.mu_mimo_ues} is read only where it can be: {why}"])
        gib = mu_channel_gib(cell, channel, link, streams)
        if gib > MU_CHANNEL_MAX_GIB:
            raise SpecError([f"link.trace_s={link.trace_s:g} with {p}.mu_mimo_ues={cell.mu_mimo_ues}: the channel "
                             f"pairing reads (every UE's {elements}-element channel on every PRB group "
                             f"in every slot) would take {gib:.1f} GiB; give link.trace_s <= "
                             f"{link.trace_s * MU_CHANNEL_MAX_GIB / gib:.1f} s (the trace repeats after)"])
    if not cell_is_shared(cell, channel):
        if cell.ue_distances_m is not None:
            raise SpecError([f"{p}.ue_distances_m is read only in a shared cell ({p}.scheduler 'pf' or "
                             f"'round-robin', or {p}.interference='full-buffer')"])
        return
    if not model.link_level:
        raise SpecError([f"{p}.scheduler={cell.scheduler!r} with {p}.interference={cell.interference!r} needs a "
                         f"link-level {c}.model (Sionna fading: {', '.join(link_level_names())}); "
                         f"{c}.model={channel.model!r} gives a rate, not per-PRB channels to schedule"])
    geometric = model.system_level
    if cell.interference == "full-buffer" and not geometric:
        raise SpecError([f"{p}.interference='full-buffer' needs the geometry of {c}.model 'umi' or 'uma'; "
                         f"{c}.model={channel.model!r} has no other sites"])
    if cell.ue_distances_m is not None:
        if not geometric:
            raise SpecError([f"{p}.ue_distances_m places UEs in the 'umi'/'uma' topology; "
                             f"{c}.model={channel.model!r} has none"])
        if len(cell.ue_distances_m) != streams:
            raise SpecError([f"{p}.ue_distances_m has {len(cell.ue_distances_m)} distances for streams={streams}; "
                             "give one per stream"])
    if geometric and channel.distance_m != type(channel).model_fields["distance_m"].default:
        raise SpecError([f"{c}.distance_m={channel.distance_m:g} places the one UE of a dedicated link; in a shared "
                         f"cell the UEs are dropped in the sector: give {p}.ue_distances_m (one per stream) or "
                         f"{p}.min_distance_m / {p}.max_distance_m"])
    if geometric:
        from .multicell import scenario_defaults
        d = scenario_defaults(channel.model)
        isd = cell.isd_m or d["isd_m"]
        lo = cell.min_distance_m if cell.min_distance_m is not None else d["min_distance_m"]
        radius = isd / math.sqrt(3.0)  # a site's hexagon reaches isd / sqrt(3) from its centre
        if lo >= radius:
            raise SpecError([f"{p}.min_distance_m={lo:g} leaves no room in a sector of {p}.isd_m={isd:g} "
                             f"(its hexagon reaches {radius:.0f} m)"])
        far = [x for x in (cell.ue_distances_m or ()) if x > radius or x < lo]
        if far:
            raise SpecError([f"{p}.ue_distances_m has {far} outside the serving sector "
                             f"([{lo:g}, {radius:.0f}] m for {p}.isd_m={isd:g})"])
