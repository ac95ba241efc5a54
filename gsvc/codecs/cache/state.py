"""An encoder's or decoder's state as plain data: digest it, keep it, put it back.

:func:`snapshot` walks an object's attributes (``__dict__`` and ``__slots__``) and turns
each into a *tree* of JSON values with arrays beside it; every tree has a SHA-256 digest
over its JSON and its arrays' bytes. What the walk understands:

* ``None``, ``bool``, ``int``, ``str``: themselves; ``float``: its exact hex form (NaN
  and -0.0 kept);
* ``bytes``, NumPy arrays and scalars, torch tensors: arrays (a tensor's device is kept,
  so it comes back as the same tensor);
* ``tuple``, ``list``, ``dict``, ``deque``: their items;
* pydantic models of gsvc (the specs an encoder switches between under rate control):
  their JSON dump and class;
* objects of gsvc classes: their class and attributes, walked the same way; an object
  that is a module-level constant of gsvc (``ZERO_MOTION``) is rebuilt by reference, so that
  ``is`` tests against it still hold after a restore (its attributes are still part of the
  digest).

Two kinds of attribute are *wiring*, not state, and are left out: plain functions (the
receiver's cost model, handed over once by ``set_cost_model`` and read only when
planning, before the cache is asked) and the codec object itself (whose spec, video and
model are part of every cache key). Anything else (an FFmpeg context, a random
generator, a bound method) raises :class:`Uncacheable`: such a coder is never cached,
rather than cached wrong.

A tree is plain data: it is stored without pickle (JSON + ``.npz``) and rebuilt by
:func:`build`, which creates objects only of classes found under ``gsvc.``.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import sys
import types
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["Uncacheable", "Snapshot", "Walker", "snapshot", "fingerprint", "build", "restore", "array_digest"]

_PLAIN = (type(None), bool, int, str)
_WIRING = (types.FunctionType, types.BuiltinFunctionType)


class Uncacheable(TypeError):
    """An object holds something whose state cannot be captured as plain data."""


def array_digest(a: np.ndarray) -> str:
    """Hex SHA-256 of an array's dtype, shape and bytes (C order)."""
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    if a.size:
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _is_codec(value) -> bool:
    """The codec object an encoder or decoder points back to (configuration, keyed separately)."""
    return all(hasattr(value, a) for a in ("encoder", "decoder", "makes_images", "group_frames"))


def is_wiring(value) -> bool:
    """A function or the codec: part of how a coder is connected, not of its state."""
    return isinstance(value, _WIRING) or _is_codec(value)


def _is_spec(value) -> bool:
    return hasattr(type(value), "model_fields") and hasattr(value, "model_dump")


def fields_of(obj) -> dict:
    """An object's attributes: its ``__dict__`` and every ``__slots__`` entry that is set."""
    out = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                out[name] = getattr(obj, name)
    return out


# --- module-level constants, kept by reference -------------------------------------
_CONSTANTS: dict[int, str] = {}
_MODULES_SEEN = 0


def _constant_name(value) -> str | None:
    """``module:name`` when ``value`` is a module-level object of a loaded gsvc module."""
    global _MODULES_SEEN
    if len(sys.modules) != _MODULES_SEEN:  # modules were imported since: index their constants too
        _MODULES_SEEN = len(sys.modules)
        for mod_name, mod in list(sys.modules.items()):
            if mod is None or not mod_name.startswith("gsvc."):
                continue
            for name, obj in list(vars(mod).items()):
                if not isinstance(obj, (type, types.ModuleType)) and (type(obj).__module__ or "").startswith("gsvc."):
                    _CONSTANTS.setdefault(id(obj), f"{mod_name}:{name}")
    name = _CONSTANTS.get(id(value))
    return name if name is not None and _resolve(name) is value else None


def _resolve(path: str):
    """The gsvc object ``module:qualname`` names (nothing outside gsvc)."""
    mod_name, _, qual = path.partition(":")
    if not mod_name.startswith("gsvc."):
        raise ValueError(f"{path!r} is not a gsvc name")
    obj = importlib.import_module(mod_name)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


_SPEC_JSON: dict[int, tuple[object, dict]] = {}


def _spec_json(spec) -> dict:
    """A (frozen) spec's JSON dump, memoised by identity: encoders hold the same few specs."""
    hit = _SPEC_JSON.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    dump = spec.model_dump(mode="json")
    if len(_SPEC_JSON) > 256:
        _SPEC_JSON.clear()
    _SPEC_JSON[id(spec)] = (spec, dump)
    return dump


# --- walking ------------------------------------------------------------------------
class Walker:
    """Turns values into trees, collecting their arrays (each distinct array once).

    ``keep=True`` keeps read-only copies of the arrays (for storing); ``False`` only hashes them.
    """

    def __init__(self, keep: bool):
        self.keep = keep
        self.arrays: list[np.ndarray] = []
        self.array_digests: list[str] = []
        self._index: dict[str, int] = {}

    def tree(self, value, where: str = "state"):
        """The tree of ``value``; ``where`` names it in an :class:`Uncacheable` error."""
        if isinstance(value, np.generic):  # before the plain types: np.float64 is a float
            return {"$s": self._array(np.asarray(value))}
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, float):
            return {"$f": value.hex()}
        if isinstance(value, (bytes, bytearray)):
            return {"$B": self._array(np.frombuffer(bytes(value), np.uint8))}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise Uncacheable(f"{where} is an array of Python objects")
            return {"$a": self._array(value)}
        if type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
            return {"$t": self._array(value.detach().cpu().numpy()), "device": str(value.device)}
        if isinstance(value, list):
            return [self.tree(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if type(value) is tuple:
            return {"$tuple": [self.tree(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, deque):
            return {"$deque": [self.tree(v, f"{where}[{i}]") for i, v in enumerate(value)], "maxlen": value.maxlen}
        if type(value) is dict:
            return {"$dict": [[self.tree(k, f"{where} key"), self.tree(v, f"{where}[{k!r}]")]
                              for k, v in value.items()]}
        cls = type(value)
        if not (cls.__module__ or "").startswith("gsvc.") or isinstance(value, tuple):
            raise Uncacheable(f"{where} is a {cls.__module__}.{cls.__qualname__}, which a cache entry cannot hold")
        if _is_spec(value):
            return {"$spec": _class_path(cls), "v": _spec_json(value)}
        fields = {k: self.tree(v, f"{where}.{k}") for k, v in sorted(fields_of(value).items()) if not is_wiring(v)}
        const = _constant_name(value)
        if const is not None:  # rebuilt by reference; its content still counts in every digest
            return {"$const": const, "f": fields}
        return {"$obj": _class_path(cls), "f": fields}

    def _array(self, a: np.ndarray) -> int:
        d = array_digest(a)
        i = self._index.get(d)
        if i is None:
            if self.keep:
                a = np.array(a, copy=True, order="C")
                a.flags.writeable = False
            i = self._index[d] = len(self.arrays)
            self.arrays.append(a)
            self.array_digests.append(d)
        return i

    def digest(self, tree) -> str:
        """Hex SHA-256 of ``tree`` with its array references replaced by the arrays' digests."""
        return hashlib.sha256(json.dumps(_with_digests(tree, self.array_digests), sort_keys=True).encode()
                              ).hexdigest()


def _with_digests(tree, digests: list[str]):
    """The tree with every array index replaced by that array's digest (what a key must depend on)."""
    if isinstance(tree, list):
        return [_with_digests(t, digests) for t in tree]
    if not isinstance(tree, dict):
        return tree
    out = {}
    for k, v in tree.items():
        out[k] = digests[v] if k in ("$a", "$B", "$s", "$t") else _with_digests(v, digests)
    return out


@dataclass
class Snapshot:
    """One object's state: per attribute its tree and digest, and the arrays the trees refer to."""

    trees: dict
    digests: dict
    arrays: list

    @property
    def digest(self) -> str:
        """One hex digest of the whole state (attribute names and their digests)."""
        return hashlib.sha256(json.dumps(self.digests, sort_keys=True).encode()).hexdigest()


def snapshot(obj, keep: bool = False) -> Snapshot:
    """The state of ``obj`` (an encoder or decoder), attribute by attribute; raises :class:`Uncacheable`.

    ``keep``: keep copies of the arrays (to store the state), not only their digests."""
    w = Walker(keep)
    trees, digests = {}, {}
    for name, value in sorted(fields_of(obj).items()):
        if is_wiring(value):
            continue
        trees[name] = w.tree(value, name)
        digests[name] = w.digest(trees[name])
    return Snapshot(trees, digests, w.arrays)


def fingerprint(value, where: str = "value") -> str:
    """Hex SHA-256 of any value the walk understands (a frame, a feedback list, an encoded frame)."""
    w = Walker(keep=False)
    return w.digest(w.tree(value, where))


# --- rebuilding -----------------------------------------------------------------------
def build(tree, arrays: list, current=None):
    """The value a tree describes (arrays copied, so the stored ones stay untouched).

    ``current``: the value now in that place; an object rebuilt in place of one of the same
    class keeps that one's wiring (the attributes the walk leaves out).
    """
    if isinstance(tree, _PLAIN):
        return tree
    if isinstance(tree, list):
        cur = current if isinstance(current, list) and len(current) == len(tree) else [None] * len(tree)
        return [build(t, arrays, c) for t, c in zip(tree, cur)]
    tag = next(iter(tree))
    arg = tree[tag]
    if tag == "$f":
        return float.fromhex(arg)
    if tag == "$B":
        return arrays[arg].tobytes()
    if tag == "$a":
        return np.array(arrays[arg], copy=True)
    if tag == "$s":
        return np.array(arrays[arg], copy=True)[()]
    if tag == "$t":
        import torch
        return torch.from_numpy(np.array(arrays[arg], copy=True)).to(tree["device"])
    if tag == "$tuple":
        cur = current if isinstance(current, tuple) and len(current) == len(arg) else (None,) * len(arg)
        return tuple(build(t, arrays, c) for t, c in zip(arg, cur))
    if tag == "$deque":
        return deque((build(t, arrays) for t in arg), maxlen=tree["maxlen"])
    if tag == "$dict":
        out = {}
        for kt, vt in arg:
            k = build(kt, arrays)
            out[k] = build(vt, arrays, current.get(k) if isinstance(current, dict) else None)
        return out
    if tag == "$const":
        return _resolve(arg)
    if tag == "$spec":
        cls = _resolve(arg)
        if type(current) is cls and _spec_json(current) == tree["v"]:
            return current
        return cls.model_validate(tree["v"])
    if tag == "$obj":
        cls = _resolve(arg)
        if not isinstance(cls, type):
            raise ValueError(f"{arg!r} is not a class")
        obj = cls.__new__(cls)
        kept = fields_of(current) if type(current) is cls else {}
        for name, value in kept.items():
            if is_wiring(value):
                object.__setattr__(obj, name, value)
        for name, t in tree["f"].items():
            object.__setattr__(obj, name, build(t, arrays, kept.get(name)))
        return obj
    raise ValueError(f"unknown tag {tag!r} in a saved state")


def restore(obj, trees: dict, removed: list, arrays: list) -> None:
    """Set the attributes of ``obj`` named in ``trees`` to what they describe; delete those in ``removed``."""
    for name, tree in trees.items():
        object.__setattr__(obj, name, build(tree, arrays, getattr(obj, name, None)))
    for name in removed:
        if hasattr(obj, name):
            object.__delattr__(obj, name)
