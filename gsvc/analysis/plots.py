"""Plots of one run's per-frame log (matplotlib, Agg).

Each function takes a frames table (one run, or a sweep's frames with key
columns), writes one PNG to ``path`` (a file path or a binary file object) and
returns ``path``.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .timeseries import gpu_utilization, queue_length  # noqa: E402

__all__ = ["latency_cdf", "frame_timeline", "gpu_queue_timeline", "cell_throughput", "save_figure"]

PathOrFile = str | Path | BinaryIO


def latency_cdf(frames: pd.DataFrame, path: PathOrFile, by: str | None = None, title: str = "") -> PathOrFile:
    """Empirical CDF of ``latency_ms`` (shown frames), one curve per value of column ``by`` (e.g. ``codec.name``)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    groups = frames.groupby(by) if by else [("all frames", frames)]
    for key, g in groups:
        lat = np.sort(g["latency_ms"].dropna().to_numpy())
        if len(lat):
            ax.step(lat, np.arange(1, len(lat) + 1) / len(lat), where="post", label=str(key))
    ax.set_xlabel("capture-to-display latency (ms)")
    ax.set_ylabel("fraction of shown frames")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(loc="lower right", title=by, fontsize=8)
    else:
        ax.text(0.5, 0.5, "no frame was shown", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title or "Latency CDF")
    return save_figure(fig, path)


_STAGES = [("encode", "capture_ms", "encode_done_ms", "#8da0cb"),
           ("transmit", "encode_done_ms", "arrive_ms", "#66c2a5"),
           ("queue", "arrive_ms", "decode_start_ms", "#fc8d62"),
           ("decode", "decode_start_ms", "decode_done_ms", "#e78ac3"),
           ("wait to display", "decode_done_ms", "display_ms", "#a6d854")]
_STATUS_COLOUR = {"ok": "black", "late": "red", "lost": "purple", "skipped": "grey"}


def frame_timeline(frames: pd.DataFrame, path: PathOrFile, stream: int = 0, start_frame: int = 0,
                   num_frames: int = 60, title: str = "") -> PathOrFile:
    """Per-frame stages (encode, transmit, queue, decode, display wait) of one stream over a window."""
    g = frames[(frames["stream"] == stream) & (frames["frame"] >= start_frame)].head(num_frames)
    fig, ax = plt.subplots(figsize=(9, 0.12 * len(g) + 1.5))
    for name, a, b, colour in _STAGES:
        left, right = g[a].to_numpy(), g[b].to_numpy()
        ok = ~(np.isnan(left) | np.isnan(right))
        ax.barh(g["frame"][ok], (right - left)[ok], left=left[ok], color=colour, label=name, height=0.8)
    for status, colour in _STATUS_COLOUR.items():
        h = g[g["status"] == status]
        ax.scatter(h["playout_ms"], h["frame"], marker="|", color=colour, s=40, label=f"deadline ({status})")
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel(f"frame (stream {stream})")
    ax.legend(fontsize=7, ncol=3, loc="upper right")
    ax.set_title(title or "Per-frame timeline")
    return save_figure(fig, path)


def gpu_queue_timeline(frames: pd.DataFrame, path: PathOrFile, gpus: int | None = None,
                       bin_ms: float | None = None, title: str = "") -> PathOrFile:
    """Receiver queue length (frames waiting for a GPU) and GPU-pool utilisation over simulated time.

    ``bin_ms``: width of the utilisation bins (default: about 100 bins over the run).
    ``gpus``: size of the pool (default: GPUs seen in the log). See :mod:`.timeseries`.
    """
    t_ms, length = queue_length(frames)
    if bin_ms is None:
        span_ms = float(np.nanmax(frames["decode_done_ms"]) - np.nanmin(frames["capture_ms"])) if len(frames) else 0
        bin_ms = max(span_ms / 100, 1.0) if np.isfinite(span_ms) else 1.0
    b_ms, util = gpu_utilization(frames, bin_ms, gpus)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    top.step(t_ms / 1e3, length, where="post", color="#fc8d62")
    top.set_ylabel("frames waiting\nfor a GPU")
    top.set_ylim(0, max(1, int(length.max())) * 1.1)
    top.grid(alpha=0.3)
    bottom.bar(b_ms / 1e3, util * 100, width=bin_ms / 1e3, align="edge", color="#e78ac3")
    bottom.set_ylabel(f"GPU busy (%)\n{bin_ms:.0f} ms bins")
    bottom.set_ylim(0, 105)
    bottom.set_xlabel("simulated time (s)")
    bottom.grid(alpha=0.3)
    if not len(util):
        bottom.text(0.5, 0.5, "no frame was decoded", ha="center", va="center", transform=bottom.transAxes)
    top.set_title(title or "Receiver queue and GPU utilisation")
    return save_figure(fig, path)


def cell_throughput(streams: pd.DataFrame | list, path: PathOrFile, title: str = "") -> PathOrFile:
    """Each UE's goodput (full-buffer share of the cell, Mbit/s) against its distance to the site,
    coloured by its mean SINR; ``streams``: a run's ``meta["streams"]`` rows (or a table of them)."""
    t = pd.DataFrame(streams)
    fig, ax = plt.subplots(figsize=(6, 4))
    if "distance_m" not in t or t.empty:
        ax.text(0.5, 0.5, "no cell geometry (cell.scheduler='dedicated' or no umi/uma drop)",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
    else:
        sc = ax.scatter(t["distance_m"], t["goodput_mbps"], c=t["sinr_db_mean"], cmap="viridis", s=28)
        fig.colorbar(sc, ax=ax, label="mean SINR (dB)")
        for _, r in t.iterrows():
            ax.annotate(str(int(r["stream"])), (r["distance_m"], r["goodput_mbps"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("2D distance to the serving site (m)")
    ax.set_ylabel("goodput (Mbit/s)")
    ax.grid(alpha=0.3)
    ax.set_title(title or "Per-UE throughput in the cell")
    return save_figure(fig, path)


def save_figure(fig, path: PathOrFile) -> PathOrFile:
    """Write ``fig`` as PNG to a path (parents created) or a binary file object, and close it."""
    if isinstance(path, (str, Path)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
    return path
