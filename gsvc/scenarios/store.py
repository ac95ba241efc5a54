"""The sweep result store: one Parquet file per finished point, an index, and the sweep's definition.

Layout of a store folder::

    sweep.json                   the sweep: base scenario, grid, seeds, and every point
                                 (spec hash, grid values, replication, seed)
    points/<spec_hash>.parquet   one finished point: its per-frame log; the file's key-value
                                 metadata ("gsvc") holds the summary, scenario, meta,
                                 grid values, replication and seed
    index.jsonl                  one line per finished point (spec hash, grid values,
                                 replication, seed, summary, meta), appended as points finish
    cache/                       the codec cache's entries (gsvc.codecs.cache), shared by
                                 the workers; deleting it loses no result

A point file is written under a temporary name and renamed into place, so it is
either complete or absent: a point is finished exactly when its file exists.
The index only saves reading every file's footer; a line lost to a kill (or
torn mid-write) is restored from the point files when the store is opened, and
lines for the same hash are merged. Only the process that runs the sweep writes
the store; workers send it each point's file as bytes.
"""
from __future__ import annotations

import io
import json
import os
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import write_bytes_atomic
from .result import RunResult
from .scenario import Scenario

__all__ = ["SweepStore", "SweepResults", "encode_point", "is_sweep_store", "load_sweep"]

_META_KEY = b"gsvc"
_CACHE_COUNTS = ("decodes", "decode_hits", "encodes", "encode_hits")


def encode_point(result: RunResult, params: dict, replicate: int) -> tuple[str, bytes, dict]:
    """``(spec_hash, parquet_bytes, index_entry)`` of one finished run (called in the worker)."""
    entry = {"spec_hash": result.scenario.spec_hash(), "params": params, "replicate": replicate,
             "seed": result.scenario.seed, "summary": result.summary, "meta": result.meta}
    table = pa.Table.from_pandas(result.frames, preserve_index=False)
    blob = json.dumps({**entry, "scenario": result.scenario.model_dump(mode="json")}, default=str)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: blob.encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return entry["spec_hash"], buf.getvalue(), json.loads(json.dumps(entry, default=str))


def _footer(path: Path) -> dict:
    """The ``gsvc`` metadata of a point file (reads the footer only)."""
    return json.loads(pq.read_schema(path).metadata[_META_KEY])


class SweepStore:
    """Read and write one store folder (see the module docstring for its layout)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.points_dir = self.root / "points"
        self.index_path = self.root / "index.jsonl"
        self.definition_path = self.root / "sweep.json"
        self.cache_dir = self.root / "cache"

    # --- writing (the sweep's process only) ---------------------------------------
    def write_definition(self, definition: dict) -> None:
        self.points_dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.definition_path, json.dumps(definition, indent=1, default=str).encode())

    def write_point(self, spec_hash: str, data: bytes, entry: dict) -> None:
        """Move one point's file into place, then append its index line."""
        write_bytes_atomic(self.point_path(spec_hash), data)
        self._append_index(entry)

    def _append_index(self, entry: dict) -> None:
        line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
        fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one write of the whole line: a kill leaves a line whole or torn, never mixed
        finally:
            os.close(fd)

    # --- reading ------------------------------------------------------------------
    def point_path(self, spec_hash: str) -> Path:
        return self.points_dir / f"{spec_hash}.parquet"

    def definition(self) -> dict:
        if not self.definition_path.exists():
            raise FileNotFoundError(f"{self.root} holds no sweep (sweep.json missing)")
        return json.loads(self.definition_path.read_text())

    def finished(self) -> set[str]:
        """Spec hashes of the points whose file is in place."""
        if not self.points_dir.exists():
            return set()
        return {p.stem for p in self.points_dir.glob("*.parquet")}

    def index(self) -> dict[str, dict]:
        """Index entry of every finished point, restoring (and re-appending) lines the index lacks."""
        entries: dict[str, dict] = {}
        if self.index_path.exists():
            for line in self.index_path.read_text().splitlines():
                try:
                    e = json.loads(line)
                    entries[e["spec_hash"]] = e
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a kill; the point file restores it below
        done = self.finished()
        for h in sorted(done - set(entries)):
            footer = _footer(self.point_path(h))
            footer.pop("scenario", None)
            entries[h] = footer
            try:
                self._append_index(footer)
            except OSError:
                pass  # a read-only store: the footer was read, the index stays as it is
        return {h: e for h, e in entries.items() if h in done}

    def load_point(self, spec_hash: str) -> RunResult:
        """The full :class:`RunResult` of one finished point."""
        path = self.point_path(spec_hash)
        if not path.exists():
            raise KeyError(f"point {spec_hash} has not finished (no {path})")
        table = pq.read_table(path)
        info = json.loads(table.schema.metadata[_META_KEY])
        return RunResult(table.to_pandas(), info["summary"], Scenario.from_dump(info["scenario"]), info["meta"])


def is_sweep_store(path: str | os.PathLike) -> bool:
    return (Path(path) / "sweep.json").exists()


class SweepResults:
    """The finished points of a sweep store, as tables.

    ``summary``: one row per finished point: the grid values (one column per dotted
    key), ``replicate``, ``seed``, ``spec_hash``, ``timing_only``, then the run
    summary (``latency_ms_p95``, ``stall_ratio``, ``psnr_db_mean`` ...; NaN where not
    measured). ``frames``: every finished point's per-frame log with the same key
    columns in front. ``keys``: the grid keys; ``missing``: points not finished yet.
    """

    def __init__(self, root: str | os.PathLike):
        self.store = SweepStore(root)
        self.path = self.store.root
        d = self.store.definition()
        self.definition = d
        self.base = Scenario.from_dump(d["base"])
        self.grid: dict = d["grid"]
        self.seeds: int = d["seeds"]
        self.keys: list[str] = list(self.grid)
        self._index = self.store.index()
        self.points: list[dict] = d["points"]
        self.missing = [p for p in self.points if p["spec_hash"] not in self._index]

    @property
    def complete(self) -> bool:
        return not self.missing

    def _key_columns(self, p: dict) -> dict:
        return {**p["params"], "replicate": p["replicate"], "seed": p["seed"], "spec_hash": p["spec_hash"]}

    @cached_property
    def summary(self) -> pd.DataFrame:
        rows = []
        for p in self.points:
            e = self._index.get(p["spec_hash"])
            if e is not None:
                rows.append({**self._key_columns(p), "timing_only": bool(e["meta"].get("timing_only")),
                             **{k: (float("nan") if v is None else v) for k, v in e["summary"].items()}})
        return pd.DataFrame(rows)

    @cached_property
    def frames(self) -> pd.DataFrame:
        parts = []
        for p in self.points:
            if p["spec_hash"] in self._index:
                f = pd.read_parquet(self.store.point_path(p["spec_hash"]))
                for i, (k, v) in enumerate(self._key_columns(p).items()):
                    f.insert(i, k, v)
                parts.append(f)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @cached_property
    def cache(self) -> pd.DataFrame:
        """Per finished point the grid values, replicate, seed and its calls of the codec cache:
        ``decodes``, ``decode_hits``, ``encodes``, ``encode_hits`` (0 where the point ran without it)."""
        rows = []
        for p in self.points:
            e = self._index.get(p["spec_hash"])
            if e is not None:
                counts = e["meta"].get("cache") or {}
                rows.append({**self._key_columns(p), **{k: int(counts.get(k, 0)) for k in _CACHE_COUNTS}})
        return pd.DataFrame(rows, columns=[*self.keys, "replicate", "seed", "spec_hash", *_CACHE_COUNTS]
                            if not rows else None)

    def cache_counts(self) -> dict:
        """The codec cache's calls summed over the finished points (``decodes``, ``decode_hits`` ...)."""
        t = self.cache
        return {k: int(t[k].sum()) if len(t) else 0 for k in _CACHE_COUNTS}

    def run(self, spec_hash: str) -> RunResult:
        """The full result (frames, summary, scenario, meta) of one finished point."""
        return self.store.load_point(spec_hash)

    def __len__(self) -> int:
        return len(self.points) - len(self.missing)

    def __repr__(self) -> str:
        return (f"SweepResults({str(self.path)!r}: {len(self)} of {len(self.points)} points finished, "
                f"grid {', '.join(self.keys) or '(none)'}, seeds={self.seeds})")


def load_sweep(root: str | os.PathLike) -> SweepResults:
    """Open a sweep store (any time: while it runs, after a kill, or when finished)."""
    return SweepResults(root)
