"""Channel traces for the link: what each slot can carry, when it arrives, what is lost.

Two entry points draw whole per-slot traces before the event loop:
:func:`draw_traces` every stream's trace of a run (what ``gsvc.run`` calls), and
:func:`draw_trace` the trace of one stream on a carrier of its own. The models:

- ``ideal`` / ``constant`` / ``mahimahi``: a given rate or a recorded trace
  (:mod:`.recorded`);
- ``awgn``, ``rayleigh``, ``tdl-*``, ``cdl-*``, ``umi``, ``uma``: Sionna fading, EESM
  PHY abstraction, OLLA and HARQ (:mod:`.linklevel`; the HARQ model is described
  in :mod:`.harq`). These are cached (:mod:`.cache`).
- a model of one's own: :func:`.models.register` (the registry every name above is in).
- a shared cell (``cell.scheduler`` ``pf``/``round-robin`` or interference): every stream's
  trace drawn together (:func:`draw_traces`, :mod:`.cell`, :mod:`.multicell`).

Importing this package does not import torch or Sionna; the fading models do
when first used.
"""
from __future__ import annotations


from ..trace import ChannelTrace
from .cellspec import CellSpec, cell_is_shared, scheduled_in_loop, validate_cell
from .models import ChannelModel, channel_model, model_names
from .linkspec import ChannelSpec, LinkSpec, models_shim, validate_pair

__all__ = ["ChannelSpec", "LinkSpec", "CellSpec", "ChannelTrace", "ChannelModel", "draw_trace", "draw_traces",
           "validate_pair", "validate_cell", "scheduled_in_loop", "MODELS", "model_names"]

__getattr__ = models_shim(__name__)  # MODELS: the registered models now, as a tuple


def draw_trace(channel: ChannelSpec, link: LinkSpec, seed: int, *, cache: bool = True,
               cell: CellSpec | None = None) -> ChannelTrace:
    """Draw the whole per-slot trace for one stream, before the event loop.

    Deterministic for ``(channel, link, seed)``: the same arguments give the same
    trace in any process. The core-network delay is added to every delivery time.

    Args:
        channel, link: the specs; checked together with :func:`validate_pair`.
        seed: seed of every random draw of the trace.
        cache: reuse (and store) link-level traces in the memory and disk cache.
        cell: the cell whose uplink power control and base-station noise figure an uplink
            ``umi``/``uma`` link reads (None: :class:`CellSpec` defaults).
    """
    validate_pair(channel, link)
    entry = channel_model(channel.model)
    if entry.trace is not None:
        return entry.trace(channel, link, seed)
    if entry.fading is None:
        raise ValueError(f"{channel.spec_path}.model={channel.model!r} exists only as Sionna's multi-cell model: draw "
                         "it with draw_traces (a cell of one or more UEs)")
    from .linklevel import draw_link_level

    def make() -> ChannelTrace:
        return draw_link_level(channel, link, seed, cell=cell)
    if not (cache and entry.cached):
        return make()
    from .cache import cached, library_versions, trace_key
    extra = dict(library_versions())
    if link.direction == "uplink":  # what the UE's power and the BS's noise read from the cell
        c = cell or CellSpec()
        extra["uplink"] = [c.ue_power_dbm, c.p0_dbm, c.alpha, c.bs_noise_figure_db]
    return cached(trace_key(channel.model_dump(), link.model_dump(), seed, extra), make)


def draw_traces(channel: ChannelSpec, link: LinkSpec, cell: CellSpec, stream_seeds, cell_seed: int, *,
                cache: bool = True) -> list[ChannelTrace]:
    """Every stream's trace: each on its own (:func:`draw_trace`, ``cell.scheduler="dedicated"``
    without interference) or all from one shared cell (:func:`.cell.draw_cell_traces`)."""
    validate_pair(channel, link)
    validate_cell(cell, channel, link, len(stream_seeds))
    if not cell_is_shared(cell, channel):
        return [draw_trace(channel, link, s, cache=cache, cell=cell) for s in stream_seeds]
    from .cell import draw_cell_traces
    return draw_cell_traces(channel, link, cell, stream_seeds, cell_seed, cache=cache)
