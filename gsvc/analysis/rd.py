"""Rate-distortion comparison of codecs: Bjontegaard deltas and RD curves.

:func:`bd_rate` and :func:`bd_metric` give the Bjontegaard delta (G. Bjontegaard,
VCEG-M33, 2001) of every codec in a sweep against an anchor codec, with the piecewise
cubic (PCHIP) interpolation of the JCT-VC / JVET common test conditions, computed by the
``bjontegaard`` package (``pip install -e ".[perceptual]"``). The points are the sweep's
grid points (mean over seeds) of each codec, without dominated points (more bits for no
more quality); at least two must remain per codec, else the delta is NaN.

A metric where less is better (LPIPS, DISTS: ``higher_is_better=False`` in
:data:`gsvc.metrics.METRICS`) is negated for the interpolation: its BD-rate is still the rate
difference at equal quality, and its BD-metric is in its own units (negative: less distance
at equal rate, i.e. better).

The anchor may be any codec of the sweep: against ``h264`` a codec's place among classic
coders; against ``lowres`` (the same low-res stream shown without generation) what a
diffusion codec's generation adds.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .plots import PathOrFile, save_figure  # noqa: E402

__all__ = ["rd_points", "bd_rate", "bd_metric", "rd_curves"]


def _bjontegaard():
    try:
        import bjontegaard
    except ImportError:
        raise ImportError("BD-rate needs the bjontegaard package; install it with pip install -e \".[perceptual]\"") \
            from None
    return bjontegaard


def _column(metric: str) -> str:
    return metric if metric.endswith("_mean") or metric.endswith("_p5") else f"{metric}_mean"


def _sign(col: str) -> float:
    """+1 where more of the summary column ``col`` (``psnr_db_mean``, ``lpips_mean`` ...) is better, -1
    where less is (a metric of :data:`gsvc.metrics.METRICS` with ``higher_is_better=False``)."""
    from ..metrics import METRICS
    base = col.rsplit("_", 1)[0]
    return -1.0 if any(m.column == base and not m.higher_is_better for m in METRICS.values()) else 1.0


def rd_points(summary: pd.DataFrame, metric: str = "psnr_db", rate: str = "bitrate_kbps",
              by: str = "codec.name", keys: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Per ``by`` value, its RD points: ``rate`` and ``metric`` averaged over seeds of each grid
    point (``keys``: the grid columns; default every column with a dot but ``by``), sorted by rate,
    without dominated points."""
    col = _column(metric)
    for c in (col, rate, by):
        if c not in summary:
            raise ValueError(f"the summary has no column {c!r}; columns: {', '.join(map(str, summary.columns))}")
    keys = [k for k in (keys if keys is not None else [c for c in summary.columns if "." in str(c)]) if k != by]
    out = {}
    for name, g in summary.dropna(subset=[col, rate]).groupby(by):
        pts = g.groupby(keys)[[rate, col]].mean() if keys else g[[rate, col]].mean().to_frame().T
        out[str(name)] = _monotone(pts.sort_values(rate).reset_index(drop=True), col, _sign(col))
    return out


def _monotone(pts: pd.DataFrame, col: str, sign: float = 1.0) -> pd.DataFrame:
    """The points whose quality (``sign * col``) is above every cheaper point's: a point that costs
    more bits for no more quality is dominated, and the interpolation needs quality strictly
    increasing with rate."""
    keep, best = [], -np.inf
    for i, v in enumerate(sign * pts[col].to_numpy()):
        if v > best:
            keep.append(i)
            best = v
    return pts.iloc[keep].reset_index(drop=True)


def _delta(fn_name: str, summary, anchor, metric, rate, by, keys) -> dict[str, float]:
    bd = _bjontegaard()
    pts = rd_points(summary, metric, rate, by, keys)
    if anchor not in pts:
        raise ValueError(f"anchor={anchor!r} is not among the {by} values {sorted(pts)}")
    a, col = pts[anchor], _column(metric)
    sign = _sign(col)
    out = {}
    for name, p in pts.items():
        if name == anchor:
            continue
        if len(p) < 2 or len(a) < 2:
            out[name] = float("nan")
            continue
        fn = getattr(bd, fn_name)
        d = float(fn(a[rate].to_numpy(), sign * a[col].to_numpy(), p[rate].to_numpy(), sign * p[col].to_numpy(),
                     method="pchip", require_matching_points=False))
        out[name] = sign * d if fn_name == "bd_psnr" else d
    return out


def bd_rate(summary: pd.DataFrame, anchor: str = "h264", metric: str = "psnr_db", rate: str = "bitrate_kbps",
            by: str = "codec.name", keys: Sequence[str] | None = None) -> dict[str, float]:
    """BD-rate (%) of every ``by`` value against ``anchor``: the average rate difference at equal
    ``metric`` over the overlapping quality range (negative: fewer bits than the anchor)."""
    return _delta("bd_rate", summary, anchor, metric, rate, by, keys)


def bd_metric(summary: pd.DataFrame, anchor: str = "h264", metric: str = "psnr_db", rate: str = "bitrate_kbps",
              by: str = "codec.name", keys: Sequence[str] | None = None) -> dict[str, float]:
    """BD-``metric`` (e.g. BD-PSNR in dB) of every ``by`` value against ``anchor`` at equal rate."""
    return _delta("bd_psnr", summary, anchor, metric, rate, by, keys)


def rd_curves(summary: pd.DataFrame, path: PathOrFile, metric: str = "psnr_db", rate: str = "bitrate_kbps",
              by: str = "codec.name", anchor: str | None = "h264", keys: Sequence[str] | None = None) -> PathOrFile:
    """Rate vs ``metric`` per ``by`` value (mean over seeds), the BD-rate against ``anchor`` in the legend."""
    pts = rd_points(summary, metric, rate, by, keys)
    deltas = bd_rate(summary, anchor, metric, rate, by, keys) if anchor in pts else {}
    col = _column(metric)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, p in pts.items():
        d = deltas.get(name)
        label = name + ("" if d is None else f" (BD-rate {d:+.1f} %)" if np.isfinite(d) else " (BD-rate n/a)")
        ax.plot(p[rate], p[col], marker="o", label=label + (" [anchor]" if name == anchor else ""))
    ax.set_xscale("log")
    ax.set_xlabel(f"{rate.replace('_kbps', '')} (kbit/s)")
    ax.set_ylabel(col)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Rate-distortion per codec")
    return save_figure(fig, path)
