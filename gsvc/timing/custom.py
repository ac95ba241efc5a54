"""Latency models of one's own, chosen by ``receiver.latency="model:NAME"``.

A model is registered with a factory, ``factory(rng, frame_px) -> LatencyModel``: ``rng`` is a
``numpy.random.Generator`` drawn from the scenario's seed (the model's only random source, so the
same scenario and seed give the same times in any process) and ``frame_px`` the run's
``video.resolution``. The object it returns must satisfy :class:`~gsvc.timing.protocol.LatencyModel`
(checked when the run is built). ``wall_clock=True`` declares that the model reads the wall time of
the real decode (``measured_ms``), as ``"measured"`` does: the codec cache is then not used (a hit
would change the time) and timing-only runs refuse it.

Example::

    from gsvc.timing import register_latency_model
    register_latency_model("my-npu", lambda rng, frame_px: MyNpuLatency(rng))
    Scenario(receiver=dict(latency="model:my-npu"))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..registry import Registry

__all__ = ["PREFIX", "REGISTRY", "LatencyModelEntry", "register_latency_model", "latency_model_names", "latency_entry",
           "custom_name", "reads_wall_clock"]

#: how ``receiver.latency`` names a registered model
PREFIX = "model:"


@dataclass(frozen=True)
class LatencyModelEntry:
    """A registered latency model: its name, its factory and whether it reads wall-clock time."""

    name: str
    factory: Callable
    wall_clock: bool = False


#: every registered latency model, by name (without the prefix)
REGISTRY: Registry[LatencyModelEntry] = Registry("receiver.latency", "latency model",
                                                 "gsvc.timing.register_latency_model", prefix=PREFIX)


def register_latency_model(name: str, factory: Callable, *, wall_clock: bool = False,
                           replace: bool = False) -> LatencyModelEntry:
    """Make ``factory`` available as ``receiver.latency="model:<name>"`` (a name taken is refused unless
    ``replace``)."""
    if not isinstance(name, str) or ":" in name:
        raise ValueError(f"register_latency_model: {name!r} is not a name (non-empty, no ':')")
    if not callable(factory):
        raise TypeError(f"register_latency_model: the factory of {name!r} is not callable")
    return REGISTRY.add(name, LatencyModelEntry(name, factory, bool(wall_clock)), replace=replace)


def latency_model_names() -> list[str]:
    return REGISTRY.names()


def custom_name(latency) -> str | None:
    """The registered name ``receiver.latency`` selects (``"model:NAME"``), or None for anything else."""
    return latency[len(PREFIX):] if isinstance(latency, str) and latency.startswith(PREFIX) else None


def latency_entry(name: str) -> LatencyModelEntry:
    """The entry registered as ``name`` (ValueError naming the known ones if none)."""
    return REGISTRY.entry(name)


def reads_wall_clock(latency) -> bool:
    """Whether ``receiver.latency`` times decodes by this host's wall clock: ``"measured"``, or a model
    registered with ``wall_clock=True``."""
    if isinstance(latency, str) and latency == "measured":
        return True
    name = custom_name(latency)
    return name is not None and latency_entry(name).wall_clock
