"""Specs of the radio channel and of the link that serves it.

:class:`ChannelSpec` says how the radio channel behaves (fading model, SNR or
geometry, mobility); :class:`LinkSpec` says how the link uses it (numerology,
link adaptation, HARQ, fixed delays). :func:`validate_pair` checks what only the
two together can tell (the carrier's frequency range against the numerology);
the Scenario calls it.
"""
from __future__ import annotations

import math
import numbers
from typing import Literal, Union

from pydantic import field_validator, model_validator

from ...spec import Spec, SpecError, bounded
from . import numerology as nr
from .numerology import MCS_RANGE, PUSCH_MCS_RANGE

__all__ = ["ChannelSpec", "LinkSpec", "validate_pair", "MCS_RANGE", "PUSCH_MCS_RANGE"]


def models_shim(module: str):
    """A module ``__getattr__`` for ``module`` that serves ``MODELS`` and ``LINK_LEVEL_MODELS``: the
    registered models now (:mod:`.models`), as tuples (the names these tuples had before the registry)."""
    def __getattr__(name: str):
        if name in ("MODELS", "LINK_LEVEL_MODELS"):
            from . import models
            return tuple(models.model_names() if name == "MODELS" else models.link_level_names())
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return __getattr__


__getattr__ = models_shim(__name__)


class ChannelSpec(Spec):
    """The propagation channel of each stream's downlink.

    What each ``model`` reads (other fields are ignored by it):

    - ``ideal``: error-free, constant ``rate_mbps`` (no fading).
    - ``constant``: constant ``rate_mbps`` at the link's slot rate; each packet is lost
      with probability ``loss_rate`` (drawn on the slot that carries its last bit).
    - ``mahimahi``: a recorded Mahimahi trace ``trace_file`` (one delivery opportunity of
      ``trace_packet_bytes`` per line, ms timestamps), or a throughput trace (``time_s,
      Mbit/s`` per line, the FCC/HSDPA form), repeating; ``loss_rate`` as above.
    - losses on ``constant`` and ``mahimahi``: ``loss_model="bernoulli"`` (each slot on its
      own) or ``"gilbert-elliott"`` (bursts: mean ``loss_rate``, mean burst length
      ``loss_burst_slots`` delivery slots); a packet is lost when the slot carrying its last bit
      is, so ``loss_rate`` is the packet loss rate whatever the link's rate and the packets' size.
    - ``awgn``: constant ``snr_db``.
    - ``rayleigh``: flat Rayleigh fading, Doppler from ``speed_kmh`` and ``carrier_ghz``.
    - ``tdl-a`` ... ``tdl-e``, ``cdl-a`` ... ``cdl-e``: TR 38.901 Sec. 7.7 link-level
      models with ``delay_spread_ns``, mean ``snr_db``, ``speed_kmh``, ``carrier_ghz``.
    - ``umi``, ``uma``: mean SNR from geometry (TR 38.901 Table 7.4.1-1 path loss at
      ``distance_m``, LoS state ``los``, ``shadowing``, ``tx_power_dbm``,
      ``noise_figure_db``) over TDL small-scale fading; in a shared cell (``cell.*``), and always
      for ``rma`` (TR 38.901 rural macro), the UE is dropped in Sionna's hexagonal topology and
      every link is Sionna's system-level channel (:mod:`.multicell`).

    Fading models combine ``num_rx_ant`` receive antennas with MRC: the receiving end's, the UE's on
    the downlink and the base station's (the sector's) on the uplink; ``snr_db`` is the mean SNR per
    receive antenna.
    """

    spec_path = "channel"
    model: str = "ideal"
    snr_db: float = bounded(10.0, -30.0, 60.0, "dB", "mean SNR per receive antenna")
    speed_kmh: float = bounded(3.0, 0.0, 500.0, "km/h", "UE speed (Doppler)")
    carrier_ghz: float = bounded(3.5, 0.5, 100.0, "GHz", "carrier frequency (TR 38.901 models: 0.5-100 GHz)")
    rate_mbps: float = bounded(20.0, 0.01, 10_000.0, "Mbit/s", "rate of the ideal and constant links")
    delay_spread_ns: float = bounded(100.0, 1.0, 5000.0, "ns",
                                     "RMS delay spread of TDL/CDL models (TR 38.901 Table 7.7.3-1: "
                                     "10 very short, 30 short, 100 nominal, 300 long, 1000 very long)")
    num_rx_ant: int = bounded(1, 1, 64, "antennas", "receive antennas (downlink: the UE's; uplink: the "
                             "base station's), combined with MRC; above 8 only at the sector of a shared "
                             "umi/uma/rma uplink (cell.bs_rows, cell.bs_polarization shape its panel)")
    distance_m: float = bounded(200.0, 10.0, 5000.0, "m",
                                "2D BS-UE distance for umi/uma (TR 38.901 Table 7.4.1-1: 10 m - 5 km)")
    tx_power_dbm: float = bounded(44.0, -10.0, 60.0, "dBm",
                                  "BS transmit power over the carrier (TR 38.802 Table A.2.1-1: 44 dBm UMi, "
                                  "46 dBm UMa at 20 MHz)")
    noise_figure_db: float = bounded(9.0, 0.0, 20.0, "dB", "UE noise figure (TR 38.802 Table A.2.1-1: 9 dB)")
    shadowing: Literal["on", "off"] = "on"
    los: Literal["auto", "los", "nlos"] = "auto"
    trace_file: Union[str, None] = None
    trace_packet_bytes: int = bounded(1500, 1, 65_535, "bytes", "bytes per Mahimahi delivery opportunity")
    loss_rate: float = bounded(0.0, 0.0, 0.99, "", "probability that a packet is lost (constant, mahimahi)")
    loss_model: Literal["bernoulli", "gilbert-elliott"] = "bernoulli"
    loss_burst_slots: float = bounded(1.0, 1.0, 10_000.0, "slots",
                                      "mean length of a loss burst, in delivery slots (gilbert-elliott)")

    @field_validator("model")
    @classmethod
    def _known(cls, v: str) -> str:
        from .models import REGISTRY
        problem = REGISTRY.problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _check_model_fields(self) -> "ChannelSpec":
        from .models import OPTIONAL_FIELDS, channel_model, names_where
        p = self.spec_path
        entry = channel_model(self.model)
        for name, default in OPTIONAL_FIELDS.items():
            value = getattr(self, name)
            if value != default and name not in entry.reads:
                readers = " or ".join(repr(n) for n in names_where(lambda m: name in m.reads))
                why = f"; with {p}.model={self.model!r} losses come from HARQ" if entry.link_level and \
                    name != "trace_file" else f", not {p}.model={self.model!r}"
                raise ValueError(f"{p}.{name}={value!r} is read only by {p}.model {readers}{why}")
        problem = entry.problem(self)
        if problem:
            raise ValueError(problem)
        if self.loss_model == "bernoulli" and self.loss_burst_slots != 1.0:
            raise ValueError(f"{p}.loss_burst_slots={self.loss_burst_slots:g} is read only by "
                             f"{p}.loss_model='gilbert-elliott' (independent losses have bursts of 1/(1 - loss_rate))")
        if self.loss_model == "gilbert-elliott" and self.loss_rate > 0:
            need = self.loss_rate / (1.0 - self.loss_rate)
            if self.loss_burst_slots < need:
                raise ValueError(f"{p}.loss_burst_slots={self.loss_burst_slots:g} is too short for {p}.loss_rate="
                                 f"{self.loss_rate:g}: a mean loss of p needs bursts of at least p / (1 - p) = "
                                 f"{need:.3g} slots")
        return self


class LinkSpec(Spec):
    """Numerology, link adaptation, HARQ and the fixed parts of the path between sender and receiver.

    With ``cell.scheduler="dedicated"`` (the default) the stream is given the whole carrier
    (all N_RB of TS 38.101 Table 5.3.2-1) in every slot; in a shared cell the scheduler
    gives it PRB groups of it (:mod:`.cell`). Each slot carries one transport block on ``pdsch_symbols`` OFDM
    symbols minus ``dmrs_re_per_prb`` DMRS resource elements per PRB.
    ``nack="on"``: the receiver asks for lost packets again while a retransmission can
    still arrive before the frame's playout deadline (:mod:`gsvc.netsim.sender`).
    ``rate_control``: ``"gcc"`` or ``"throughput"`` set the encoder's target rate from the
    receiver's reports (:mod:`gsvc.netsim.ratecontrol`), starting at and never above
    ``codec.bitrate_kbps``; ``"off"``: the codec's own settings throughout.
    """

    spec_path = "link"
    bandwidth_mhz: float = bounded(10.0, 1.0, 400.0, "MHz", "channel bandwidth")
    scs_khz: Literal[15, 30, 60, 120] = 30
    harq_max_retx: int = bounded(3, 0, 8, "", "HARQ retransmissions before a transport block is lost")
    harq_rtt_ms: float = bounded(2.0, 0.0, 50.0, "ms", "time from a failed transmission to its retransmission")
    harq_combining: Literal["chase", "none"] = "chase"
    bler_target: float = bounded(0.1, 0.001, 0.5, "", "first-transmission BLER that link adaptation aims for")
    mcs_table: Literal[1, 2] = 1
    mcs: Union[Literal["olla"], int] = "olla"
    olla_step_db: float = bounded(1.0, 0.01, 10.0, "dB", "OLLA offset increase on a NACK (decrease on ACK is "
                                  "step * bler_target / (1 - bler_target))")
    pdsch_symbols: int = bounded(12, 1, 14, "symbols", "OFDM symbols per slot carrying PDSCH "
                                 "(14 minus the PDCCH CORESET)")
    dmrs_re_per_prb: int = bounded(12, 0, 48, "RE", "DMRS resource elements per PRB and slot (TS 38.214 "
                                   "Sec. 5.1.3.2 N_DMRS^PRB; 12 = one type-1 DMRS symbol)")
    mtu_bytes: int = bounded(1200, 64, 9000, "bytes", "largest packet payload")
    core_delay_ms: float = bounded(5.0, 0.0, 1000.0, "ms", "one-way delay from the base station to the receiver")
    feedback_delay_ms: float = bounded(10.0, 0.0, 1000.0, "ms",
                                       "one-way delay of feedback (NACKs, reports, anchor requests) from receiver "
                                       "to sender, the reverse of the video's direction")
    direction: Literal["downlink", "uplink"] = "downlink"
    trace_s: float = bounded(10.0, 0.1, 3600.0, "s", "length of the channel trace drawn (it repeats after)")
    nack: Literal["off", "on"] = "off"
    rate_control: Literal["off", "gcc", "throughput"] = "off"

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data):
        if isinstance(data, dict) and "uplink_delay_ms" in data:
            raise ValueError(f"{cls.spec_path}.uplink_delay_ms was renamed {cls.spec_path}.feedback_delay_ms (the "
                             "receiver-to-sender feedback delay, whichever way the video crosses the radio: "
                             f"{cls.spec_path}.direction); give {cls.spec_path}.feedback_delay_ms")
        return data

    @field_validator("mcs", mode="before")
    @classmethod
    def _check_mcs(cls, v, info):
        if v == "olla":
            return v
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError("is neither 'olla' nor an MCS index (int)")
        v = int(v)
        table = info.data.get("mcs_table", 1)
        lo, hi = MCS_RANGE[table]
        if not lo <= v <= hi:
            raise ValueError(f"has no BLER table for {cls.spec_path}.mcs_table={table} "
                             f"(PDSCH MCS {lo}..{hi} are tabulated); give {lo}..{hi} or 'olla'")
        return v

    @model_validator(mode="after")
    def _check_numerology(self) -> "LinkSpec":
        p = self.spec_path
        if nr.num_prb(self.bandwidth_mhz, self.scs_khz) is None:
            tables = [fr for fr in ("FR1", "FR2") if nr.valid_bandwidths_mhz(self.scs_khz, fr)]
            bws = [", ".join(map(str, nr.valid_bandwidths_mhz(self.scs_khz, fr))) for fr in tables]
            if len(tables) == 1:
                where = f"{nr.nrb_table(tables[0])[0]}; valid: {bws[0]} MHz"
            else:
                where = " or ".join(f"{nr.nrb_table(fr)[0]} ({fr}: {b} MHz)" for fr, b in zip(tables, bws))
            raise ValueError(f"{p}.bandwidth_mhz={self.bandwidth_mhz:g} with {p}.scs_khz={self.scs_khz} "
                             f"is not in {where}")
        if self.direction == "uplink" and self.mcs != "olla":
            lo, hi = PUSCH_MCS_RANGE[self.mcs_table]
            if not lo <= self.mcs <= hi:
                raise ValueError(f"{p}.mcs={self.mcs} has no PUSCH BLER table for {p}.mcs_table={self.mcs_table} "
                                 f"({p}.direction='uplink': MCS {lo}..{hi}); give {lo}..{hi} or 'olla'")
        if self.dmrs_re_per_prb >= 12 * self.pdsch_symbols:
            raise ValueError(f"{p}.dmrs_re_per_prb={self.dmrs_re_per_prb} leaves no data in {p}.pdsch_symbols="
                             f"{self.pdsch_symbols} symbols (12 RE each per PRB)")
        return self

    @property
    def slot_s(self) -> float:
        """Slot duration from the numerology: 1 ms / 2^mu with SCS = 15 kHz * 2^mu."""
        return nr.slot_s(self.scs_khz)

    @property
    def harq_rtt_slots(self) -> int:
        """Slots from a transmission to the earliest retransmission of its block (>= 1)."""
        return max(1, math.ceil(self.harq_rtt_ms * 1e-3 / self.slot_s - 1e-9))

    @property
    def re_per_prb(self) -> int:
        """Data REs per PRB and slot, N'_RE = 12 * symbols - DMRS, capped at 156 (TS 38.214 Sec. 5.1.3.2)."""
        return min(156, 12 * self.pdsch_symbols - self.dmrs_re_per_prb)


def validate_pair(channel: ChannelSpec, link: LinkSpec) -> None:
    """Raise :class:`~gsvc.spec.SpecError` if ``channel`` and ``link`` do not fit together.

    For link-level models the carrier must lie in FR1 (<= 7.125 GHz) or FR2-1
    (24.25-52.6 GHz) and the bandwidth/SCS pair must be in that range's TS 38.101
    table.
    """
    from .models import channel_model, link_level_names
    c, l = channel.spec_path, link.spec_path
    if not channel_model(channel.model).link_level:
        if link.direction == "uplink":
            raise SpecError([f"{l}.direction='uplink' needs a link-level {c}.model (Sionna fading: "
                             f"{', '.join(link_level_names())}); {c}.model={channel.model!r} is a given rate or a "
                             "recorded trace, the same whichever way it is read"])
        return
    fr = nr.frequency_range(channel.carrier_ghz)
    if fr is None:
        raise SpecError([
            f"{c}.carrier_ghz={channel.carrier_ghz:g} is in no NR frequency range with a TS 38.101 numerology "
            f"(FR1 up to {nr.FR1_MAX_GHZ:g} GHz, FR2-1 {nr.FR2_MIN_GHZ:g}-{nr.FR2_MAX_GHZ:g} GHz); "
            f"{c}.model={channel.model!r} needs one"])
    if nr.num_prb(link.bandwidth_mhz, link.scs_khz, fr) is None:
        name = nr.nrb_table(fr)[0]
        valid = nr.valid_bandwidths_mhz(link.scs_khz, fr)
        if valid:
            hint = f"valid with {l}.scs_khz={link.scs_khz}: " + ", ".join(map(str, valid)) + " MHz"
        else:
            scs = sorted(nr.nrb_table(fr)[1])
            hint = f"{fr} allows {l}.scs_khz " + ", ".join(map(str, scs))
        raise SpecError([
            f"{l}.bandwidth_mhz={link.bandwidth_mhz:g} with {l}.scs_khz={link.scs_khz} is not in {name} "
            f"({fr}, {c}.carrier_ghz={channel.carrier_ghz:g}); {hint}"])
