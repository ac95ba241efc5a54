"""Channel-model names -> how each model draws its trace; the specs, the link and the cell look here.

Each ``channel.model`` is one :class:`ChannelModel` entry that declares, once, what it is:

* a **rate model** gives :attr:`ChannelModel.trace`, ``(channel, link, seed) -> ChannelTrace``: the
  whole per-slot trace of one stream (a given rate or a recorded trace; downlink or uplink alike,
  never in a shared cell);
* a **fading model** gives :attr:`ChannelModel.fading`, ``(channel, link, n_prb, num_slots, gen, rng,
  cell) -> (sos, snr_db, meta)``: one small-scale realisation (a :class:`~.fading.SumOfSinusoids`, or
  None for a channel without fading) and the mean SNR per receive antenna in dB (a scalar or
  ``[num_slots]``); the link then runs the PHY abstraction, OLLA and HARQ (:mod:`.linklevel`), and a
  shared cell gives every UE its own realisation (:mod:`.cell`). ``gen`` (a ``torch.Generator``) and
  ``rng`` (a ``numpy.random.Generator``) are the only random sources it may use; ``cell`` is the
  :class:`~.cellspec.CellSpec` an uplink may read (its defaults on a link without a cell);
* a **system-level model** (``system_level=True``: Sionna's ``umi``, ``uma``, ``rma``) drops the UEs
  of a shared cell in Sionna's hexagonal topology (:mod:`.multicell`); with a ``fading`` it also
  serves a dedicated link.

``reads`` names the optional :class:`~.linkspec.ChannelSpec` fields of :data:`OPTIONAL_FIELDS` the model
reads (a value given to a model that does not read it is refused), ``spec_problem(channel) -> str |
None`` any check of its own, ``cached`` whether its traces go in the disk cache (:mod:`.cache`, keyed on
gsvc's and the libraries' versions, so only for models whose code ships with gsvc).

The built-in models are listed here; one's own is added with :func:`register` before the scenario is
made (``register(ChannelModel("my-model", "...", fading=draw))``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ...registry import Registry

__all__ = ["ChannelModel", "REGISTRY", "OPTIONAL_FIELDS", "register", "model_names", "channel_model", "names_where",
           "link_level_names", "system_level_names"]

#: ChannelSpec fields only some models read, with their defaults (a model must declare them in ``reads``)
OPTIONAL_FIELDS = {"trace_file": None, "loss_rate": 0.0, "loss_model": "bernoulli", "loss_burst_slots": 1.0}
#: models Sionna's multi-cell system-level code knows (:func:`.multicell.drop_for`)
SIONNA_SYSTEM_LEVEL = ("umi", "uma", "rma")


@dataclass(frozen=True)
class ChannelModel:
    """One channel model: its name, a one-line summary and how it draws (module docstring)."""

    name: str
    summary: str
    trace: Callable | None = None
    fading: Callable | None = None
    system_level: bool = False
    reads: frozenset = field(default_factory=frozenset)
    spec_problem: Callable | None = None
    cached: bool = False

    @property
    def link_level(self) -> bool:
        """Whether the link computes it slot by slot (fading or system-level), rather than being given a rate."""
        return self.fading is not None or self.system_level

    def problem(self, channel) -> str | None:
        """Why ``channel`` (a ChannelSpec of this model) cannot be drawn, or None."""
        return None if self.spec_problem is None else self.spec_problem(channel)


#: every channel model, by name
REGISTRY: Registry[ChannelModel] = Registry("channel.model", "channel model", "gsvc.netsim.channel.models.register")


def register(model: ChannelModel, *, replace: bool = False) -> ChannelModel:
    """Make ``model`` available as ``channel.model=model.name``.

    Refused: a name already taken (unless ``replace``), a model that gives both or neither of
    ``trace`` and ``fading`` (system-level ones excepted), a system-level model Sionna has no
    multi-cell code for, or ``reads`` outside :data:`OPTIONAL_FIELDS`.
    """
    if not isinstance(model, ChannelModel):
        raise TypeError(f"register: give a ChannelModel, not {type(model).__name__}")
    n = model.name
    if (model.trace is None) == (model.fading is None) and not model.system_level:
        raise ValueError(f"register: channel model {n!r} must give exactly one of trace (a rate model) or fading "
                         "(a link-level model)")
    if model.trace is not None and (model.fading is not None or model.system_level):
        raise ValueError(f"register: channel model {n!r} gives a whole trace, so it cannot also be link-level")
    if model.system_level and n not in SIONNA_SYSTEM_LEVEL:
        raise ValueError(f"register: system_level={model.system_level} for {n!r}: Sionna's multi-cell code knows "
                         f"only {', '.join(SIONNA_SYSTEM_LEVEL)}")
    unknown = set(model.reads) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(f"register: channel model {n!r} reads {sorted(unknown)}, which are not optional "
                         f"ChannelSpec fields ({', '.join(OPTIONAL_FIELDS)}); the other fields every model may read")
    return REGISTRY.add(n, model, replace=replace)


def model_names() -> list[str]:
    """Every registered channel model, built-ins first (in the order of :mod:`.linkspec`'s docstring)."""
    return REGISTRY.names()


def channel_model(name: str) -> ChannelModel:
    """The model registered as ``name`` (ValueError naming the known ones if none)."""
    return REGISTRY.entry(name)


def names_where(test: Callable[[ChannelModel], bool]) -> list[str]:
    """The registered models for which ``test(model)`` holds, in registration order."""
    return [n for n, m in REGISTRY.items() if test(m)]


def link_level_names() -> list[str]:
    """Models the link computes slot by slot (fading or system-level)."""
    return names_where(lambda m: m.link_level)


def system_level_names() -> list[str]:
    """Models whose UEs a shared cell drops in Sionna's topology."""
    return names_where(lambda m: m.system_level)


# --- the built-in models --------------------------------------------------------------------------

def _ideal(channel, link, seed):
    from ..trace import constant_rate_trace
    return constant_rate_trace(channel.rate_mbps, slot_s=link.slot_s, duration_s=link.trace_s,
                               delay_s=link.core_delay_ms / 1e3)


def _constant(channel, link, seed):
    from .recorded import constant_trace
    return constant_trace(channel, link, seed)


def _mahimahi(channel, link, seed):
    from .recorded import mahimahi_trace
    return mahimahi_trace(channel, link, seed)


def _needs_trace_file(channel) -> str | None:
    p = channel.spec_path
    if not channel.trace_file:
        return f"{p}.model='mahimahi' needs {p}.trace_file (a Mahimahi trace, one ms timestamp per line)"
    return None


def _awgn(channel, link, n_prb, num_slots, gen, rng, cell):
    return None, channel.snr_db, {}


def _rayleigh(channel, link, n_prb, num_slots, gen, rng, cell):
    from .sources import rayleigh_sos
    return rayleigh_sos(channel.carrier_ghz * 1e9, channel.speed_kmh / 3.6, channel.num_rx_ant, gen), \
        channel.snr_db, {}


def _tapped(kind: str, letter: str) -> Callable:
    """The fading draw of TR 38.901 ``kind`` ("tdl" or "cdl") model ``letter`` at ``channel.snr_db``."""
    def draw(channel, link, n_prb, num_slots, gen, rng, cell):
        from . import sources
        sos = getattr(sources, f"{kind}_sos")(letter, channel.delay_spread_ns * 1e-9, channel.carrier_ghz * 1e9,
                                              channel.speed_kmh / 3.6, channel.num_rx_ant, gen)
        return sos, channel.snr_db, {}
    return draw


def _geometric(channel, link, n_prb, num_slots, gen, rng, cell):
    from .geofading import geometric_fading
    return geometric_fading(channel, link, n_prb, num_slots, gen, rng, cell)


_LOSSES = frozenset({"loss_rate", "loss_model", "loss_burst_slots"})

for _m in (
    ChannelModel("ideal", "error-free constant channel.rate_mbps", trace=_ideal),
    ChannelModel("constant", "constant channel.rate_mbps, each packet lost with channel.loss_rate",
                 trace=_constant, reads=_LOSSES),
    ChannelModel("mahimahi", "a recorded Mahimahi or throughput trace (channel.trace_file), repeating",
                 trace=_mahimahi, reads=_LOSSES | {"trace_file"}, spec_problem=_needs_trace_file),
    ChannelModel("awgn", "constant channel.snr_db", fading=_awgn, cached=True),
    ChannelModel("rayleigh", "flat Rayleigh fading (Jakes Doppler)", fading=_rayleigh, cached=True),
    *(ChannelModel(f"tdl-{x.lower()}", f"TR 38.901 TDL-{x} (Sec. 7.7.2)", fading=_tapped("tdl", x), cached=True)
      for x in "ABCDE"),
    *(ChannelModel(f"cdl-{x.lower()}", f"TR 38.901 CDL-{x} (Sec. 7.7.1)", fading=_tapped("cdl", x), cached=True)
      for x in "ABCDE"),
    ChannelModel("umi", "TR 38.901 UMi-Street Canyon: geometry over TDL fading; Sionna's multi-cell UMi when shared",
                 fading=_geometric, system_level=True, cached=True),
    ChannelModel("uma", "TR 38.901 UMa: geometry over TDL fading; Sionna's multi-cell UMa when shared",
                 fading=_geometric, system_level=True, cached=True),
    ChannelModel("rma", "TR 38.901 RMa, Sionna's multi-cell model only", system_level=True, cached=True),
):
    register(_m)
del _m
