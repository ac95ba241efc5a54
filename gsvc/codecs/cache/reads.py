"""Which attributes of an object a call reads and writes.

A decoder keeps more state than any one decode reads: a refinement reads the reference
and its conditions, not the last image shown (only a concealment reads that). Two sweep
points whose receivers skipped different frames hold different last images but make
the same refinement; a key over the whole state would tell them apart for nothing. So
the cache keys a call on the attributes the call read before writing them, as build
systems with dynamic dependencies do (Shake's traces): :func:`tracked` runs the call
with the object's class swapped for a subclass that logs every attribute access on it
(``__getattribute__``, ``__setattr__``, ``__delattr__``) and puts the class back.

What a read set covers: each attribute's whole value (reading ``self.control`` and then
anything inside it counts as reading ``control``), and names read that the object does
not have (a ``getattr(self, name, None)`` depends on their absence). Accesses that can
reach every attribute at once (``__dict__``, ``__getstate__``, copying) make the read set
*everything*, as does an object whose class cannot be swapped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Access", "tracked", "EVERYTHING"]

#: the read set of a call that may have read any attribute
EVERYTHING = "*"

#: dunder names that hand out the object's whole state
_WHOLE = ("__dict__", "__getstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__", "__slots__")


@dataclass
class Access:
    """``reads``: names read before being written (or :data:`EVERYTHING`); ``writes``: names set or deleted."""

    reads: set = field(default_factory=set)
    writes: set = field(default_factory=set)
    everything: bool = False


_LOGS: dict[int, Access] = {}
_TRACKING: dict[type, type] = {}


def _tracking_class(cls: type) -> type:
    t = _TRACKING.get(cls)
    if t is not None:
        return t
    get, set_, del_ = cls.__getattribute__, cls.__setattr__, cls.__delattr__

    def __getattribute__(self, name):
        log = _LOGS.get(id(self))
        if log is not None and name not in log.writes:
            if name in _WHOLE:
                log.everything = True
            log.reads.add(name)
        return get(self, name)

    def __setattr__(self, name, value):
        log = _LOGS.get(id(self))
        if log is not None:
            log.writes.add(name)
        set_(self, name, value)

    def __delattr__(self, name):
        log = _LOGS.get(id(self))
        if log is not None:
            log.writes.add(name)
        del_(self, name)

    t = _TRACKING[cls] = type(cls.__name__, (cls,), {
        "__slots__": (), "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        "__getattribute__": __getattribute__, "__setattr__": __setattr__, "__delattr__": __delattr__})
    return t


def tracked(obj, call) -> tuple[object, Access]:
    """``call()``'s result and the attributes of ``obj`` it accessed (see the module docstring)."""
    cls = type(obj)
    log = Access()
    try:
        obj.__class__ = _tracking_class(cls)
    except TypeError:  # a class whose layout forbids the swap: count it as reading everything
        log.everything = True
        return call(), log
    _LOGS[id(obj)] = log
    try:
        out = call()
    finally:
        del _LOGS[id(obj)]
        object.__setattr__(obj, "__class__", cls)
    return out, log
