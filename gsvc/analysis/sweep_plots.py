"""Plots of a sweep (matplotlib, Agg): metric-vs-setting curves with confidence bands, Pareto front.

Each function takes the long table of :func:`gsvc.analysis.stats.aggregate` (one
row per grid point and metric: ``mean``, ``ci_low``, ``ci_high``), writes one PNG
to ``path`` (a file path or a binary file object) and returns ``path``.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .plots import PathOrFile, save_figure  # noqa: E402
from .stats import pareto_mask  # noqa: E402

__all__ = ["sweep_curves", "snr_sweep", "bandwidth_sweep", "users_sweep", "satisfied_users", "pareto_frontier",
           "METRIC_LABELS"]

METRIC_LABELS = {
    "latency_ms_p50": "median latency (ms)", "latency_ms_p95": "p95 latency (ms)",
    "latency_ms_p99": "p99 latency (ms)", "deadline_miss_rate": "deadline-miss rate",
    "freeze_count": "freezes", "stall_ratio": "freeze (stall) ratio", "psnr_db_mean": "PSNR (dB)",
    "ssim_mean": "SSIM", "bitrate_kbps": "bitrate (kbit/s)", "gpu_utilization": "GPU utilisation",
    "unet_evals_per_frame": "denoiser evaluations per frame",
    "channel.snr_db": "SNR (dB)", "link.bandwidth_mhz": "bandwidth (MHz)",
    "radio_satisfied_fraction": "users satisfied: radio (3GPP)", "viewer_satisfied_fraction": "users satisfied: viewer",
    "streams": "users (streams)",
}
_QUALITY = ("psnr_db_mean", "ssim_mean")
_STAT_COLUMNS = ("metric", "n", "mean", "std", "ci_low", "ci_high")


def _label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


def _not_measured(ax, metric: str) -> None:
    why = "timing-only runs score no quality" if metric in _QUALITY else "no run measured it"
    ax.text(0.5, 0.5, f"{_label(metric)}: not measured\n({why})", ha="center", va="center",
            transform=ax.transAxes, color="grey")


def _keys(agg: pd.DataFrame) -> list[str]:
    """The grid-key columns of an aggregate table."""
    return [c for c in agg.columns if c not in _STAT_COLUMNS]


def _filter(agg: pd.DataFrame, where: dict | None) -> pd.DataFrame:
    for k, v in (where or {}).items():
        agg = agg[agg[k] == v]
    return agg


def _line_label(by: list[str], key) -> str:
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(by, key))


def sweep_curves(agg: pd.DataFrame, path: PathOrFile, x: str, by: str | Sequence[str] | None = None,
                 metrics: Sequence[str] = ("latency_ms_p95", "stall_ratio", "psnr_db_mean"),
                 where: dict | None = None, title: str = "", reference: float | None = None,
                 ylim: tuple[float, float] | None = None) -> PathOrFile:
    """One panel per metric: its mean against grid key ``x``, a line per value of ``by``,
    shaded between the confidence limits. ``where``: fix other grid keys (``{key: value}``);
    ``reference``: a dashed horizontal line at that value on every panel (a threshold); ``ylim``: the
    range of every panel, bands clipped to it (a fraction's t-interval over few seeds leaves [0, 1]).

    A metric that no run measured (quality in timing-only runs) gets a note instead of a line.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    agg = _filter(agg, where)
    loose = [k for k in _keys(agg) if k != x and k not in by and agg[k].nunique(dropna=False) > 1]
    if loose:
        raise ValueError(f"grid keys {', '.join(loose)} vary as well as {x}; put them in by= "
                         f"or fix them with where={{key: value}}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        m = agg[agg["metric"] == metric]
        if m.empty or m["mean"].isna().all():
            _not_measured(ax, metric)
        else:
            for key, g in (m.groupby(by, sort=False) if by else [((), m)]):
                g = g.sort_values(x)
                line, = ax.plot(g[x], g["mean"], marker="o", ms=3, label=_line_label(by, key) if by else None)
                band = g["ci_low"].notna()
                if band.any():
                    lo, hi = g["ci_low"][band], g["ci_high"][band]
                    if ylim is not None:
                        lo, hi = lo.clip(*ylim), hi.clip(*ylim)
                    ax.fill_between(g[x][band], lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        if reference is not None:
            ax.axhline(reference, color="k", ls="--", lw=0.8)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(_label(x))
        ax.set_ylabel(_label(metric))
        ax.grid(alpha=0.3)
    if by and axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=7)
    n = int(agg["n"].max()) if len(agg) else 0
    fixed = "; ".join(f"{_label(k)} = {v}" for k, v in (where or {}).items())
    fig.suptitle((title or f"{_label(x)} sweep") + f"  (mean, 95% CI over {n} seeds)" + (f"\n{fixed}" if fixed else ""),
                 fontsize=10)
    return save_figure(fig, path)


def snr_sweep(agg: pd.DataFrame, path: PathOrFile, by: str | Sequence[str] | None = "codec.name",
              **kw) -> PathOrFile:
    """p95 latency, freeze ratio and PSNR against ``channel.snr_db``, a line per codec."""
    return sweep_curves(agg, path, x="channel.snr_db", by=_present(agg, by), **kw)


def bandwidth_sweep(agg: pd.DataFrame, path: PathOrFile, by: str | Sequence[str] | None = "codec.name",
                    **kw) -> PathOrFile:
    """p95 latency, freeze ratio and PSNR against ``link.bandwidth_mhz``, a line per codec."""
    return sweep_curves(agg, path, x="link.bandwidth_mhz", by=_present(agg, by), **kw)


def users_sweep(agg: pd.DataFrame, path: PathOrFile, by: str | Sequence[str] | None = "cell.scheduler",
                metrics: Sequence[str] = ("latency_ms_p95", "deadline_miss_rate", "jain_index"), **kw) -> PathOrFile:
    """p95 latency, deadline misses and Jain's fairness index against the number of users
    (``streams``) sharing a cell, a line per scheduler."""
    return sweep_curves(agg, path, x="streams", by=_present(agg, by), metrics=metrics, **kw)


def satisfied_users(agg: pd.DataFrame, path: PathOrFile, by: str | Sequence[str] | None = "codec.name",
                    threshold: float = 0.9, x: str = "streams", **kw) -> PathOrFile:
    """The fraction of satisfied users (radio, the 3GPP rule; viewer, on screen in time and good
    enough) against the number of users, a line per codec, with the capacity threshold dashed: a
    line's capacity is where it last stays above (:func:`gsvc.analysis.capacity.capacity`)."""
    return sweep_curves(agg, path, x=x, by=_present(agg, by), reference=threshold, ylim=(0.0, 1.0),
                        metrics=("radio_satisfied_fraction", "viewer_satisfied_fraction"), **kw)


def _present(agg: pd.DataFrame, by):
    """``by`` without columns the table lacks (a sweep with one codec has no ``codec.name`` column)."""
    by = [by] if isinstance(by, str) else list(by or [])
    return [b for b in by if b in agg.columns] or None


def pareto_frontier(agg: pd.DataFrame, path: PathOrFile, latency: str = "latency_ms_p95",
                    quality: str = "psnr_db_mean", by: str | None = "codec.name", higher_is_better: bool = True,
                    title: str = "") -> PathOrFile:
    """Every grid point's mean ``latency`` against mean ``quality``, coloured by ``by``, with the
    frontier of points no other point beats on both. ``higher_is_better=False`` for costs such
    as ``stall_ratio``."""
    keys = _keys(agg)
    means = agg.set_index(keys + ["metric"])["mean"]
    wide = means.unstack("metric").reset_index() if keys else means.to_frame().T.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    if quality not in wide or latency not in wide or wide[quality].isna().all():
        _not_measured(ax, quality if latency in wide else latency)
    else:
        by = by if by in wide.columns else None
        for key, g in (wide.groupby(by, sort=False) if by else [("all points", wide)]):
            ax.scatter(g[latency], g[quality], s=18, label=str(key), alpha=0.8)
        benefit = wide[quality] if higher_is_better else -wide[quality]
        front = wide[pareto_mask(wide[latency].to_numpy(), benefit.to_numpy())].sort_values(latency)
        ax.plot(front[latency], front[quality], "k--", lw=1, label="Pareto front")
        others = [k for k in keys if k != by]
        for r in front.to_dict("records"):  # records keep each column's type (no int -> float)
            ax.annotate(_line_label(others, tuple(r[k] for k in others)), (r[latency], r[quality]),
                        fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.legend(fontsize=7, title=by)
    ax.set_xlabel(_label(latency))
    ax.set_ylabel(_label(quality) + ("" if higher_is_better else " (lower is better)"))
    ax.grid(alpha=0.3)
    ax.set_title(title or "Latency-quality trade-off")
    return save_figure(fig, path)
