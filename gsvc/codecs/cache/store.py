"""Where cache entries live: an LRU in this process's memory and, optionally, a folder on disk.

An :class:`Entry` is a JSON tree and the arrays it refers to. In memory the arrays are
read-only, and whoever takes an entry out builds copies. On disk an entry is one file,
``<folder>/<key[:2]>/<key>.entry``::

    GSVC-CACHE 1\\n              magic and format
    <64 hex digits>\\n            SHA-256 of everything below
    <8 bytes>                    length of the JSON, little-endian
    <JSON>                       the key, the tree, each array's digest
    <.npz>                       the arrays (NumPy's format, loaded with allow_pickle=False)

A file whose magic, checksum, key or array digests do not match is a miss: it is
deleted and the value computed again. Files are written under a unique temporary name
in the same folder and moved into place with ``os.replace``, so a reader sees a whole
entry or none, and two processes writing the same key leave one whole entry (both wrote
the same bytes). The folder is kept under ``disk_mb``: when this process's running
total passes it, the least recently used files (by modification time; a hit touches
its file) are deleted down to 80 % of it. The total is re-read from the folder every
twentieth of the bound written, so with several writers the folder exceeds its bound by at
most about a twentieth of it per other writer. Temporary files older than an hour (of a
killed writer) go in the same sweep.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...atomic import write_bytes_atomic
from .keys import FORMAT
from .state import array_digest

__all__ = ["Entry", "CodecCache", "MAGIC", "entry_path"]

MAGIC = f"GSVC-CACHE {FORMAT}\n".encode()
_SUFFIX = ".entry"
_STALE_TMP_S = 3600.0


@dataclass
class Entry:
    """One cached value: ``tree`` (JSON-able) and the read-only ``arrays`` it refers to."""

    tree: dict
    arrays: list

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays) + 64 * len(self.arrays) + 1024


def entry_path(folder: Path, key: str) -> Path:
    """The file of ``key`` in a cache folder."""
    return Path(folder) / key[:2] / f"{key}{_SUFFIX}"


def encode_entry(key: str, entry: Entry) -> bytes:
    """The bytes of an entry's file."""
    meta = json.dumps({"key": key, "tree": entry.tree, "arrays": [array_digest(a) for a in entry.arrays]},
                      separators=(",", ":")).encode()
    buf = io.BytesIO()
    np.savez(buf, *entry.arrays)
    body = struct.pack("<Q", len(meta)) + meta + buf.getvalue()
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def decode_entry(key: str, data: bytes) -> Entry:
    """The entry in a file's bytes; ValueError if anything in them does not check out."""
    if not data.startswith(MAGIC):
        raise ValueError("not a cache entry of this format")
    head = len(MAGIC) + 65
    if len(data) < head + 8 or data[head - 1:head] != b"\n":
        raise ValueError("truncated")
    body = data[head:]
    if hashlib.sha256(body).hexdigest().encode() != data[len(MAGIC):head - 1]:
        raise ValueError("checksum mismatch")
    (n,) = struct.unpack("<Q", body[:8])
    meta = json.loads(body[8:8 + n])
    if meta.get("key") != key:
        raise ValueError("entry of another key")
    try:
        with np.load(io.BytesIO(body[8 + n:]), allow_pickle=False) as z:
            arrays = [z[f"arr_{i}"] for i in range(len(meta["arrays"]))]
    except (zipfile.BadZipFile, KeyError, EOFError, OSError) as err:
        raise ValueError(f"arrays unreadable: {err}") from None
    for a, d in zip(arrays, meta["arrays"]):
        if array_digest(a) != d:
            raise ValueError("array digest mismatch")
        a.flags.writeable = False
    return Entry(meta["tree"], arrays)


class CodecCache:
    """Cache entries by key: in memory (LRU, ``memory_mb``) and in ``folder`` if given (``disk_mb``).

    Safe to share between threads; several processes may share one folder.
    """

    def __init__(self, folder: str | os.PathLike | None = None, memory_mb: float = 512.0,
                 disk_mb: float = 4096.0):
        for name, v in (("memory_mb", memory_mb), ("disk_mb", disk_mb)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0:
                raise ValueError(f"{name}={v!r} is not a size; give a number of MB >= 0")
        self.folder = Path(folder) if folder is not None else None
        self.memory_bytes = int(memory_mb * 2**20)
        self.disk_bytes = int(disk_mb * 2**20)
        self._memory: OrderedDict[str, Entry] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self._disk_total: int | None = None  # this process's idea of the folder's size
        self._since_scan = 0
        self.corrupt = 0  # entries found damaged on disk (and recomputed)

    # --- the two operations ------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """The entry of ``key`` or None (also when its file was damaged; the file is then deleted)."""
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                self._memory.move_to_end(key)
                return entry
        if self.folder is None:
            return None
        path = entry_path(self.folder, key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            entry = decode_entry(key, data)
        except ValueError:
            self.corrupt += 1
            _unlink(path)
            return None
        try:
            os.utime(path)  # recently used: the last to be trimmed
        except OSError:
            pass
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry`` under ``key`` (in memory, and on disk when there is a folder)."""
        self._remember(key, entry)
        if self.folder is None or self.disk_bytes == 0:
            return
        data = encode_entry(key, entry)
        if len(data) > self.disk_bytes:
            return
        path = entry_path(self.folder, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
        except OSError:
            return  # a full or read-only disk only loses the entry
        self._account(len(data))

    # --- memory ------------------------------------------------------------------------
    def _remember(self, key: str, entry: Entry) -> None:
        size = entry.nbytes
        if size > self.memory_bytes:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._held -= old.nbytes
            self._memory[key] = entry
            self._held += size
            while self._held > self.memory_bytes:
                _, gone = self._memory.popitem(last=False)
                self._held -= gone.nbytes

    @property
    def memory_held_bytes(self) -> int:
        """Bytes of the entries now held in memory (as counted for ``memory_mb``)."""
        return self._held

    # --- disk --------------------------------------------------------------------------
    def _account(self, written: int) -> None:
        with self._lock:
            if self._disk_total is None:
                self._disk_total = self.disk_usage()
            else:
                self._disk_total += written
            self._since_scan += written
            rescan = self._since_scan > self.disk_bytes / 20
            if rescan:
                self._since_scan = 0
                self._disk_total = self.disk_usage()
            if self._disk_total > self.disk_bytes:
                self._disk_total = self.trim(int(0.8 * self.disk_bytes))

    def _files(self) -> list[tuple[float, int, Path]]:
        """(modification time, size, path) of every entry file; stale temporary files are deleted."""
        out = []
        if self.folder is None or not self.folder.exists():
            return out
        now = time.time()
        for sub in os.scandir(self.folder):
            if not sub.is_dir():
                continue
            for f in os.scandir(sub.path):
                try:
                    st = f.stat()
                except OSError:
                    continue
                if f.name.endswith(_SUFFIX):
                    out.append((st.st_mtime, st.st_size, Path(f.path)))
                elif f.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP_S:
                    _unlink(Path(f.path))
        return out

    def disk_usage(self) -> int:
        """Bytes of the entry files in the folder now."""
        return sum(size for _, size, _ in self._files())

    def trim(self, target_bytes: int) -> int:
        """Delete the least recently used entry files until the folder holds at most ``target_bytes``;
        returns what it then holds."""
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= target_bytes:
                break
            _unlink(path)
            total -= size
        return total

    def clear(self) -> None:
        """Forget every entry, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            self._held = 0
            self._disk_total = 0
        if self.folder is not None and self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
