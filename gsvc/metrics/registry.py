"""The per-frame metrics a run can score, by name, and the log columns they fill."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..registry import Registry
from ..video.quality import psnr_db, ssim

__all__ = ["Metric", "METRICS", "DEFAULT_METRICS", "metric_columns", "register_metric"]


@dataclass(frozen=True)
class Metric:
    """One per-frame quality metric.

    Attributes:
        name: what a scenario calls it (``"psnr"``).
        column: the per-frame log column it fills (``"psnr_db"``), unit in the name.
        fn: ``fn(ref, test) -> [T] float64`` on ``[T, H, W, 3]`` uint8 arrays; each
            frame's score must depend on that frame pair alone (on the pair and the slot
            before it for a temporal metric), so that scoring in batches of any size
            gives the same numbers.
    """

    name: str
    column: str
    fn: Callable[..., np.ndarray] | None
    #: ``fn(prev_ref, ref, prev_test, test)``: scores a frame against the slot before it
    #: (NaN on a stream's first slot)
    temporal: bool = False
    #: scored over each stream's whole sequence at the end of the run (frames kept on disk,
    #: not in memory); ``fn`` is unused, :mod:`gsvc.metrics.vmaf` does it
    sequence: bool = False
    #: more is better (PSNR, SSIM, VMAF); False for distances (LPIPS, DISTS, flicker, TLP)
    higher_is_better: bool = True


def _lazy(module: str, name: str) -> Callable[..., np.ndarray]:
    """``gsvc.metrics.<module>.<name>``, imported at its first call (optional extras stay optional)."""
    def fn(*args):
        return getattr(importlib.import_module(f".{module}", __package__), name)(*args)
    return fn


#: every metric, by name
METRICS: Registry[Metric] = Registry("metrics", "metric", "gsvc.metrics.register_metric")
for _m in (
    Metric("psnr", "psnr_db", psnr_db),
    Metric("ssim", "ssim", ssim),
    Metric("lpips", "lpips", _lazy("lpips", "lpips"), higher_is_better=False),
    Metric("dists", "dists", _lazy("dists", "dists"), higher_is_better=False),
    Metric("vmaf", "vmaf", None, sequence=True),
    Metric("flicker", "flicker", _lazy("temporal", "flicker"), temporal=True, higher_is_better=False),
    Metric("tlp", "tlp", _lazy("temporal", "tlp"), temporal=True, higher_is_better=False),
):
    METRICS.add(_m.name, _m)
del _m

def register_metric(metric: Metric, replace: bool = False) -> Metric:
    """Make ``metric`` available to ``Scenario.metrics`` by its name (a name taken is refused unless
    ``replace``). Its column must carry its unit in the name where it has one (``_db``)."""
    taken = {m.column for m in METRICS.values() if m.name != metric.name}
    if metric.column in taken:
        raise ValueError(f"register_metric: column {metric.column!r} is filled by another metric")
    return METRICS.add(metric.name, metric, replace=replace)


#: what every run with images scores
DEFAULT_METRICS: tuple[str, ...] = ("psnr", "ssim")


def metric_columns(names=DEFAULT_METRICS) -> list[str]:
    """Log columns filled by the metrics ``names``; an unknown name is refused."""
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"metrics={list(names)!r} names unknown metrics {unknown}; known: {sorted(METRICS)}")
    return [METRICS[n].column for n in names]
