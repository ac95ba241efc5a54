"""Summary statistics of a per-frame log (pure pandas: no simulator needed).

Freezes follow the WebRTC stats rule (w3c webrtc-stats, ``freezeCount``): a gap
between consecutive rendered frames of a stream is a freeze when it is at least
``max(3 * T, T + 150 ms)``, with ``T`` the nominal frame interval ``1000 / fps``;
its whole duration counts toward ``freeze_ms_total``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["summarize", "group_summaries", "freeze_gaps_ms", "playback_stats", "OPTIONAL_METRIC_COLUMNS",
           "GROUP_KEYS"]

#: per-frame quality columns a scenario may ask for (``Scenario.metrics``); each gets a ``_mean``
OPTIONAL_METRIC_COLUMNS = ("lpips", "dists", "vmaf", "flicker", "tlp")


def freeze_threshold_ms(fps: float) -> float:
    """Shortest gap between rendered frames that is a freeze: ``max(3 T, T + 150 ms)``, ``T = 1000 / fps``."""
    interval = 1000.0 / fps
    return max(3 * interval, interval + 150.0)


def freeze_gaps_ms(display_ms: np.ndarray, fps: float) -> np.ndarray:
    """Durations (ms) of the freezes among one stream's rendered display times."""
    gaps = np.diff(np.sort(display_ms[~np.isnan(display_ms)]))
    return gaps[gaps >= freeze_threshold_ms(fps)]


def playback_stats(display_ms: np.ndarray, fps: float) -> tuple[float, float]:
    """``(harmonic_framerate, time_between_freezes_ms_mean)`` of one stream's rendered frames.

    As libwebrtc's ``video/video_quality_observer2.cc`` reports them (UMA
    ``HarmonicFrameRate`` and ``MeanTimeBetweenFreezesMs``): the harmonic frame rate is the
    rendered duration over the sum of squared inter-frame intervals (s / s^2 = 1/s), so long
    gaps weigh more than many short ones; the time between freezes is the mean length of
    the smooth stretches the freezes (:func:`freeze_gaps_ms`) cut the playback into. NaN
    with fewer than two rendered frames.
    """
    t = np.sort(display_ms[~np.isnan(display_ms)])
    if len(t) < 2:
        return float("nan"), float("nan")
    gaps = np.diff(t)
    harmonic = float((t[-1] - t[0]) / 1e3 / np.sum((gaps / 1e3) ** 2)) if np.any(gaps > 0) else float("nan")
    freeze = gaps >= freeze_threshold_ms(fps)
    # smooth stretches: from the first frame (or the end of a freeze) to the next freeze's start
    bounds = np.concatenate(([t[0]], t[1:][freeze], [t[-1]]))
    starts_of_freezes = np.concatenate((t[:-1][freeze], [t[-1]]))
    stretches = starts_of_freezes - bounds[:-1]
    return harmonic, float(stretches.mean())


def _busy_s(frames: pd.DataFrame) -> float:
    """GPU busy time: each batch counted once (rows sharing gpu and decode start)."""
    d = frames.loc[frames["gpu"] >= 0, ["gpu", "decode_start_ms", "decode_done_ms"]]
    d = d.drop_duplicates(["gpu", "decode_start_ms"])
    return float((d["decode_done_ms"] - d["decode_start_ms"]).sum()) / 1e3


def summarize(frames: pd.DataFrame, fps: float, gpus: int) -> dict:
    """Run-level summary from the per-frame log (frame counts by status, latency percentiles,
    freezes, quality and metric means, bitrate, GPU utilisation, air delay); ``None`` where
    nothing was measured."""
    n = len(frames)
    status = frames["status"].value_counts()
    lat = frames["latency_ms"].dropna().to_numpy()
    q = (lambda p: float(np.percentile(lat, p))) if len(lat) else (lambda p: float("nan"))
    by_stream = [g["display_ms"].to_numpy() for _, g in frames.groupby("stream")]
    freezes = [freeze_gaps_ms(d, fps) for d in by_stream]
    playback = np.array([playback_stats(d, fps) for d in by_stream]).reshape(-1, 2)
    freeze_ms = float(sum(f.sum() for f in freezes))
    streams = int(frames["stream"].nunique())
    duration_s = n / streams / fps if streams else 0.0
    # a freeze is a gap between rendered frames, so the freezes of a stream whose delay grew during the run can add
    # up to more than the video's length: each stream's ratio is over the longer of the two
    watched_s = sum(max(duration_s, float(np.ptp(d[~np.isnan(d)])) / 1e3 if np.isfinite(d).sum() > 1 else 0.0)
                    for d in by_stream)
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
        "stall_ratio": freeze_ms / 1e3 / watched_s if duration_s else float("nan"),
        "harmonic_framerate": float(np.nanmean(playback[:, 0])) if np.isfinite(playback[:, 0]).any() else float("nan"),
        "time_between_freezes_ms_mean": (float(np.nanmean(playback[:, 1])) if np.isfinite(playback[:, 1]).any()
                                         else float("nan")),
        "psnr_db_mean": float(frames["psnr_db"].mean()),
        "ssim_mean": float(frames["ssim"].mean()),
        "bitrate_kbps": float(frames["bytes"].sum()) * 8 / 1e3 / duration_s / streams if duration_s else float("nan"),
        "gpu_utilization": float(_busy_s(frames) / (gpus * span_s)) if span_s > 0 else float("nan"),
        "unet_evals_per_frame": float(frames["unet_evals"].mean()),
        "air_delay_ms_mean": float(frames["air_delay_ms"].mean()) if "air_delay_ms" in frames else float("nan"),
        "air_delay_ms_p99": (float(np.nanpercentile(frames["air_delay_ms"], 99))
                             if "air_delay_ms" in frames and frames["air_delay_ms"].notna().any() else float("nan")),
    }
    for col in OPTIONAL_METRIC_COLUMNS:
        if col in frames:
            out[f"{col}_mean"] = float(frames[col].mean())
    if "vmaf" in frames:
        out["vmaf_p5"] = float(np.nanpercentile(frames["vmaf"], 5)) if frames["vmaf"].notna().any() else float("nan")
    # None, not NaN, for "not measured" (e.g. quality in timing-only runs): valid JSON, compares equal
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}


#: what a run's summary says of each group of streams, as ``<group>/<key>``
GROUP_KEYS = ("latency_ms_p95", "deadline_miss_rate", "psnr_db_mean", "ssim_mean", "bitrate_kbps",
              "air_delay_ms_mean", "air_delay_ms_p99", "freeze_count")


def group_summaries(frames: pd.DataFrame, per_stream: list[dict], group_of_stream: list[str], fps: float,
                    gpus: int) -> dict:
    """``<group>/<key>`` for :data:`GROUP_KEYS`, plus ``<group>/throughput_mbps`` (the radio goodput of
    its streams), ``<group>/streams`` and ``<group>/{radio,viewer}_satisfied_fraction`` (where
    ``per_stream`` rows carry :func:`gsvc.netsim.satisfaction.satisfaction`'s verdicts), for every
    group of a run whose streams come in groups."""
    out = {}
    names = np.asarray(group_of_stream)
    for name in dict.fromkeys(group_of_stream):
        streams = np.flatnonzero(names == name)
        part = summarize(frames[frames["stream"].isin(streams)], fps, gpus)
        out.update({f"{name}/{k}": part[k] for k in GROUP_KEYS})
        out[f"{name}/throughput_mbps"] = float(sum(per_stream[s]["goodput_mbps"] for s in streams))
        out[f"{name}/streams"] = int(len(streams))
        for kind in ("radio", "viewer"):  # satisfaction (netsim.satisfaction), where it was judged
            if f"{kind}_satisfied" in per_stream[streams[0]]:
                out[f"{name}/{kind}_satisfied_fraction"] = float(np.mean([per_stream[s][f"{kind}_satisfied"]
                                                                          for s in streams]))
    return out
