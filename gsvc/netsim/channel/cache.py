"""Cache of drawn traces: in memory (LRU) and on disk (one ``.npz`` per trace).

The key is a SHA-256 over the channel and link specs, the seed, the gsvc version,
the versions of Sionna, torch and NumPy, and :data:`FORMAT` (bumped whenever the
generator's output changes). The disk
cache lives in ``$GSVC_CACHE_DIR`` (default ``~/.cache/gsvc/traces``); setting
``GSVC_CACHE_DIR`` to the empty string or ``off`` disables it. Files are written
to a temporary name in the same directory and moved into place with
``os.replace``, so concurrent runs never read a half-written trace.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from collections import OrderedDict
from typing import Callable

import numpy as np

from ...atomic import write_atomic
from ..trace import ChannelTrace

__all__ = ["trace_key", "library_versions", "cache_dir", "cached", "save_trace", "load_trace", "clear_memory", "FORMAT"]

#: version of the trace generator's output; part of every key (2: a UE's first MCS follows a channel report;
#: 3: a shared uplink's sector receives on ``channel.num_rx_ant`` elements, which it did not read before)
FORMAT = 3
_MEMORY: "OrderedDict[str, ChannelTrace]" = OrderedDict()
_MEMORY_SIZE = 16


def trace_key(channel_dump: dict, link_dump: dict, seed: int, extra: dict | None = None) -> str:
    """Hex digest identifying one trace."""
    from ..._version import __version__

    blob = json.dumps({"channel": channel_dump, "link": link_dump, "seed": int(seed), "gsvc": __version__,
                       "format": FORMAT, "extra": extra or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def library_versions() -> dict:
    """Versions of the libraries whose numbers end up in a link-level trace (part of its key)."""
    from importlib import metadata

    out = {}
    for dist in ("sionna-no-rt", "torch", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def cache_dir() -> str | None:
    """Directory of the disk cache, or ``None`` when disabled."""
    env = os.environ.get("GSVC_CACHE_DIR")
    if env is None:
        return os.path.join(os.path.expanduser("~"), ".cache", "gsvc", "traces")
    if env.strip() in ("", "off"):
        return None
    return env


def save_trace(path: str, trace: ChannelTrace) -> None:
    """Write ``trace`` to ``path`` (.npz) atomically."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    arrays = {"slot_s": np.float64(trace.slot_s), "tb_bits": trace.tb_bits, "deliver_s": trace.deliver_s,
              "lost": trace.lost, "meta_json": np.array(json.dumps(trace.meta, default=str)),
              "loss_unit": np.array(trace.loss_unit)}
    arrays.update({f"info__{k}": np.asarray(v) for k, v in trace.info.items()})

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:  # a file object: given a name, np.savez would append ".npz" to it
            np.savez(fh, **arrays)

    write_atomic(path, write)


def load_trace(path: str) -> ChannelTrace:
    """Read a trace written by :func:`save_trace`."""
    with np.load(path, allow_pickle=False) as z:
        info = {k[len("info__"):]: z[k] for k in z.files if k.startswith("info__")}
        return ChannelTrace(slot_s=float(z["slot_s"]), tb_bits=z["tb_bits"], deliver_s=z["deliver_s"],
                            lost=z["lost"], info=info, meta=json.loads(str(z["meta_json"])),
                            loss_unit=str(z["loss_unit"]) if "loss_unit" in z.files else "slot")


def _frozen(trace: ChannelTrace) -> ChannelTrace:
    """A copy whose arrays are read-only (cached traces are shared) and whose meta is plain JSON; every other
    field is carried over as it is (``dataclasses.replace``, so a field added to the trace is not dropped here)."""
    def ro(a):
        a = np.array(a, copy=True)
        a.flags.writeable = False
        return a
    return dataclasses.replace(trace, slot_s=float(trace.slot_s), tb_bits=ro(trace.tb_bits),
                               deliver_s=ro(trace.deliver_s), lost=ro(trace.lost),
                               info={k: ro(v) for k, v in trace.info.items()},
                               meta=json.loads(json.dumps(trace.meta, default=str)))


def clear_memory() -> None:
    """Forget the in-memory traces."""
    _MEMORY.clear()


def cached(key: str, make: Callable[[], ChannelTrace]) -> ChannelTrace:
    """The trace for ``key``: from memory, else from disk, else ``make()`` (then stored in both)."""
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    folder = cache_dir()
    path = os.path.join(folder, f"{key}.npz") if folder else None
    trace = None
    if path and os.path.exists(path):
        try:
            trace = load_trace(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            trace = None                     # unreadable file: draw again and overwrite it
    if trace is None:
        trace = _frozen(make())
        if path:
            try:
                save_trace(path, trace)
            except OSError:
                pass                         # a read-only or full disk only loses the cache
    else:
        trace = _frozen(trace)
    _MEMORY[key] = trace
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return trace
