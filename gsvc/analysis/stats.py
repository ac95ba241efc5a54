"""Statistics across seed replications: mean and Student-t confidence interval per grid point."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["mean_ci", "aggregate", "ci_table", "pareto_mask", "KEY_METRICS"]

#: the summary metrics that sweep tables and plots show by default
KEY_METRICS = ("latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "deadline_miss_rate", "freeze_count",
               "stall_ratio", "psnr_db_mean", "ssim_mean", "bitrate_kbps", "gpu_utilization",
               "unet_evals_per_frame")


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[int, float, float, float, float]:
    """``(n, mean, std, ci_low, ci_high)`` of the finite values.

    The interval is ``mean +- t_{(1+confidence)/2, n-1} * std / sqrt(n)`` (Student t,
    sample standard deviation); values equal to within float rounding
    (a spread under 16 ulp of the mean) give exactly zero width. With one value the interval is NaN (not
    estimable); with none, everything but ``n`` is NaN.
    """
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, np.nan, np.nan, np.nan
    std = float(x.std(ddof=1))
    if std <= 16 * np.finfo(float).eps * abs(mean):
        std = 0.0  # values equal but for the last bits of a float sum: rounding, not a spread between seeds
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / np.sqrt(n)
    return n, mean, std, mean - half, mean + half


def aggregate(summary: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] | None = None,
              confidence: float = 0.95) -> pd.DataFrame:
    """Long table, one row per grid point (values of ``by``) and metric, over the replications.

    Columns: ``*by, metric, n, mean, std, ci_low, ci_high`` (``n``: replications
    that measured the metric; NaN statistics where it was not measured, e.g.
    quality in timing-only runs). ``metrics`` defaults to the :data:`KEY_METRICS`
    present in ``summary``.
    """
    by = list(by)
    metrics = [m for m in (metrics or KEY_METRICS) if m in summary.columns]
    rows = []
    groups = summary.groupby(by, sort=False, dropna=False) if by else [((), summary)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            n, mean, std, lo, hi = mean_ci(g[m].to_numpy(dtype=float), confidence)
            rows.append((*key, m, n, mean, std, lo, hi))
    return pd.DataFrame(rows, columns=[*by, "metric", "n", "mean", "std", "ci_low", "ci_high"])


def ci_table(agg: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """:func:`aggregate`'s table made wide for reading: one row per grid point, one text column per
    metric, ``"mean ± half-width"`` of the interval (just the mean with one seed, ``n/a`` if not measured)."""
    def cell(r) -> str:
        if pd.isna(r["mean"]):
            return "n/a"
        half = (r["ci_high"] - r["ci_low"]) / 2
        return f"{r['mean']:.4g}" + ("" if pd.isna(half) else f" ± {half:.2g}")
    by = list(by)
    t = agg.assign(text=agg.apply(cell, axis=1) if len(agg) else [])
    if not by:
        return t.set_index("metric")[["text"]].T.reset_index(drop=True)
    wide = t.pivot(index=by, columns="metric", values="text")[list(dict.fromkeys(agg["metric"]))]
    return wide.rename_axis(columns=None).reset_index()


def pareto_mask(cost: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """``[n] bool``: points no other point beats (lower or equal ``cost`` and higher or equal
    ``benefit``, strictly better in one). Points with a NaN coordinate are never on the front."""
    cost, benefit = np.asarray(cost, float), np.asarray(benefit, float)
    ok = np.isfinite(cost) & np.isfinite(benefit)
    front = np.zeros(len(cost), bool)
    best = -np.inf
    # sweep by increasing cost (ties: best benefit first); a point is on the front when it beats
    # the best benefit of every cheaper point
    for i in np.lexsort((-benefit, cost)):
        if ok[i] and benefit[i] > best:
            front[i], best = True, benefit[i]
    return front
