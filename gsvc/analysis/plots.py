"""Plots of run results (matplotlib, Agg). Each function takes tables, writes one PNG, returns its path."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["latency_cdf", "frame_timeline"]


def latency_cdf(frames: pd.DataFrame, path: str | Path, by: str | None = None, title: str = "") -> Path:
    """Empirical CDF of ``latency_ms`` (shown frames), one curve per value of column ``by``."""
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
    ax.legend(loc="lower right")
    ax.set_title(title or "Latency CDF")
    return _save(fig, path)


_STAGES = [("encode", "capture_ms", "encode_done_ms", "#8da0cb"),
           ("transmit", "encode_done_ms", "arrive_ms", "#66c2a5"),
           ("queue", "arrive_ms", "decode_start_ms", "#fc8d62"),
           ("decode", "decode_start_ms", "decode_done_ms", "#e78ac3"),
           ("wait to display", "decode_done_ms", "display_ms", "#a6d854")]
_STATUS_COLOUR = {"ok": "black", "late": "red", "lost": "purple", "skipped": "grey"}


def frame_timeline(frames: pd.DataFrame, path: str | Path, stream: int = 0, start_frame: int = 0,
                   num_frames: int = 60, title: str = "") -> Path:
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
    return _save(fig, path)


def _save(fig, path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p
