"""The result of one run: per-frame log, summary, scenario and metadata; saved as Parquet + JSON."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..atomic import write_atomic as _atomic
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
    #: what ``gsvc.run(..., pictures=True)`` recorded (:class:`gsvc.netsim.pictures.Pictures`), or None
    pictures: object = None

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``frames.parquet``, ``summary.json``, ``scenario.json``, ``meta.json`` into ``out_dir``,
        and with pictures ``video.mp4`` (stream 0; ``video-s{k}.mp4`` for stream k) and ``strip.png``.

        Each file is written to a temporary name and renamed, so an interrupted save never
        leaves a half-written file under the final name.
        """
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        _atomic(d / "frames.parquet", lambda p: self.frames.to_parquet(p, index=False))
        for name, obj in (("summary", self.summary), ("scenario", self.scenario.model_dump(mode="json")),
                          ("meta", self.meta)):
            _atomic(d / f"{name}.json", lambda p, o=obj: Path(p).write_text(json.dumps(o, indent=2, default=str)))
        if self.pictures is not None:
            for s, src in self.pictures.videos.items():
                _atomic(d / ("video.mp4" if s == 0 else f"video-s{s}.mp4"),
                        lambda p, src=src: shutil.copyfile(src, p))
            if self.pictures.strip_png:
                _atomic(d / "strip.png", lambda p: Path(p).write_bytes(self.pictures.strip_png))
        return d


def load_run(out_dir: str | os.PathLike) -> RunResult:
    """Read a run saved by :meth:`RunResult.save`."""
    d = Path(out_dir)
    if not (d / "frames.parquet").exists():
        raise FileNotFoundError(f"{d} holds no saved run (frames.parquet missing)")
    pictures = None
    if (d / "video.mp4").exists() or (d / "strip.png").exists():
        from ..netsim.pictures import Pictures
        videos = {0: str(d / "video.mp4")} if (d / "video.mp4").exists() else {}
        videos.update({int(p.stem.split("-s")[1]): str(p) for p in d.glob("video-s*.mp4")})
        pictures = Pictures(videos, (d / "strip.png").read_bytes() if (d / "strip.png").exists() else None)
    return RunResult(
        frames=pd.read_parquet(d / "frames.parquet"),
        summary=json.loads((d / "summary.json").read_text()),
        scenario=Scenario.from_dump(json.loads((d / "scenario.json").read_text())),
        meta=json.loads((d / "meta.json").read_text()),
        pictures=pictures,
    )
