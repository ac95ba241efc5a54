"""The result of one run: per-frame log, summary, scenario and metadata; saved as Parquet + JSON."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .scenario import Scenario

__all__ = ["RunResult", "load_run"]


@dataclass
class RunResult:
    """``frames``: the per-frame log (DataFrame); ``summary``: run-level statistics (dict);
    ``scenario``: what was simulated; ``meta``: seed, versions, latency model, wall time."""

    frames: pd.DataFrame
    summary: dict
    scenario: Scenario
    meta: dict = field(default_factory=dict)

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``frames.parquet``, ``summary.json``, ``scenario.json``, ``meta.json`` into ``out_dir``.

        Each file is written to a temporary name and renamed, so an interrupted save never
        leaves a half-written file under the final name.
        """
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        _atomic(d / "frames.parquet", lambda p: self.frames.to_parquet(p, index=False))
        for name, obj in (("summary", self.summary), ("scenario", self.scenario.model_dump(mode="json")),
                          ("meta", self.meta)):
            _atomic(d / f"{name}.json", lambda p, o=obj: Path(p).write_text(json.dumps(o, indent=2, default=str)))
        return d


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_run(out_dir: str | os.PathLike) -> RunResult:
    """Read a run saved by :meth:`RunResult.save`."""
    d = Path(out_dir)
    if not (d / "frames.parquet").exists():
        raise FileNotFoundError(f"{d} holds no saved run (frames.parquet missing)")
    return RunResult(
        frames=pd.read_parquet(d / "frames.parquet"),
        summary=json.loads((d / "summary.json").read_text()),
        scenario=Scenario(**json.loads((d / "scenario.json").read_text())),
        meta=json.loads((d / "meta.json").read_text()),
    )
