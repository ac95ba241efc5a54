"""Summary statistics of a per-frame log (pure pandas: no simulator needed).

Freezes follow the WebRTC stats rule (w3c webrtc-stats, ``freezeCount``): a gap
between consecutive rendered frames of a stream is a freeze when it is at least
``max(3 * T, T + 150 ms)``, with ``T`` the nominal frame interval ``1000 / fps``;
its whole duration counts toward ``freeze_ms_total``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["summarize", "freeze_gaps_ms"]


def freeze_gaps_ms(display_ms: np.ndarray, fps: float) -> np.ndarray:
    """Durations (ms) of the freezes among one stream's rendered display times."""
    t = np.sort(display_ms[~np.isnan(display_ms)])
    gaps = np.diff(t)
    interval = 1000.0 / fps
    return gaps[gaps >= max(3 * interval, interval + 150.0)]


def _busy_s(frames: pd.DataFrame) -> float:
    """GPU busy time: each batch counted once (rows sharing gpu and decode start)."""
    d = frames.loc[frames["gpu"] >= 0, ["gpu", "decode_start_ms", "decode_done_ms"]]
    d = d.drop_duplicates(["gpu", "decode_start_ms"])
    return float((d["decode_done_ms"] - d["decode_start_ms"]).sum()) / 1e3


def summarize(frames: pd.DataFrame, fps: float, gpus: int) -> dict:
    """Run-level summary of DESIGN.md from the per-frame log; ``None`` where nothing was measured."""
    n = len(frames)
    status = frames["status"].value_counts()
    lat = frames["latency_ms"].dropna().to_numpy()
    q = (lambda p: float(np.percentile(lat, p))) if len(lat) else (lambda p: float("nan"))
    freezes = [freeze_gaps_ms(g["display_ms"].to_numpy(), fps) for _, g in frames.groupby("stream")]
    freeze_ms = float(sum(f.sum() for f in freezes))
    streams = int(frames["stream"].nunique())
    duration_s = n / streams / fps if streams else 0.0
    span_s = (np.nanmax(frames["decode_done_ms"]) - np.nanmin(frames["capture_ms"])) / 1e3 if n else 0.0
    late = int(status.get("late", 0))
    out = {
        "frames": n,
        "shown": int(status.get("ok", 0)),
        "late": late,
        "lost": int(status.get("lost", 0)),
        "skipped": int(status.get("skipped", 0)),
        "deadline_miss_rate": late / n if n else float("nan"),
        "latency_ms_mean": float(lat.mean()) if len(lat) else float("nan"),
        "latency_ms_p50": q(50), "latency_ms_p95": q(95), "latency_ms_p99": q(99),
        "queue_wait_ms_mean": float(frames["queue_wait_ms"].mean()),
        "freeze_count": int(sum(len(f) for f in freezes)),
        "freeze_ms_total": freeze_ms,
        "stall_ratio": freeze_ms / 1e3 / (duration_s * streams) if duration_s else float("nan"),
        "psnr_db_mean": float(frames["psnr_db"].mean()),
        "ssim_mean": float(frames["ssim"].mean()),
        "bitrate_kbps": float(frames["bytes"].sum()) * 8 / 1e3 / duration_s / streams if duration_s else float("nan"),
        "gpu_utilization": float(_busy_s(frames) / (gpus * span_s)) if span_s > 0 else float("nan"),
        "unet_evals_per_frame": float(frames["unet_evals"].mean()),
    }
    # None, not NaN, for "not measured" (e.g. quality in timing-only runs): valid JSON, compares equal
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}
