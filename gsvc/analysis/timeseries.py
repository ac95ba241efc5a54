"""Receiver load over time, derived from a per-frame log (no simulator needed).

- Queue length at time ``t``: frames with ``arrive_ms <= t < decode_start_ms``
  (complete at the receiver, waiting for a GPU). Frames never decoded (lost or
  skipped) are not counted.
- GPU busy: each batch (rows sharing ``gpu`` and ``decode_start_ms``) keeps its GPU
  busy from ``decode_start_ms`` to ``decode_done_ms``; utilisation in a time bin is
  busy GPU-time over ``gpus x bin`` time.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["queue_length", "gpu_busy_intervals", "gpu_utilization"]


def queue_length(frames: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Step function ``(t_ms, length)``: the queue holds ``length[i]`` frames from ``t_ms[i]`` on.

    Both ``[num_instants + 1]``: a zero at the first arrival, then the length after every
    instant at which frames arrive or start decoding.
    """
    f = frames[frames["arrive_ms"].notna() & frames["decode_start_ms"].notna()]
    t = np.concatenate([f["arrive_ms"].to_numpy(float), f["decode_start_ms"].to_numpy(float)])
    step = np.concatenate([np.ones(len(f), int), -np.ones(len(f), int)])
    if not len(t):
        return np.zeros(1), np.zeros(1, int)
    order = np.argsort(t, kind="stable")
    t, length = t[order], np.cumsum(step[order])
    last = np.append(t[1:] != t[:-1], True)  # the length after all changes at one instant: no phantom spikes
    return np.concatenate([[t[0]], t[last]]), np.concatenate([[0], length[last]])


def gpu_busy_intervals(frames: pd.DataFrame) -> pd.DataFrame:
    """One row per batch decode: ``gpu, start_ms, done_ms``, sorted by start."""
    d = frames.loc[frames["gpu"] >= 0, ["gpu", "decode_start_ms", "decode_done_ms"]].dropna()
    d = d.drop_duplicates(["gpu", "decode_start_ms"]).sort_values("decode_start_ms")
    return d.rename(columns={"decode_start_ms": "start_ms", "decode_done_ms": "done_ms"}).reset_index(drop=True)


def gpu_utilization(frames: pd.DataFrame, bin_ms: float, gpus: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(bin_start_ms, utilization)``: busy fraction of the GPU pool in consecutive bins of ``bin_ms``.

    ``gpus`` defaults to the number of GPUs that appear in the log. Shapes ``[num_bins]``.
    """
    iv = gpu_busy_intervals(frames)
    if iv.empty:
        return np.zeros(0), np.zeros(0)
    gpus = gpus or int(iv["gpu"].nunique())
    t0, t1 = float(iv["start_ms"].min()), float(iv["done_ms"].max())
    edges = t0 + bin_ms * np.arange(int(np.ceil((t1 - t0) / bin_ms)) + 1)
    if edges[-1] < t1:
        edges = np.append(edges, edges[-1] + bin_ms)
    # cumulative busy GPU-time B(t) is piecewise linear, its slope the number of busy GPUs:
    # evaluate it at every start/end, then interpolate at the bin edges (no intervals x bins matrix)
    t = np.concatenate([iv["start_ms"].to_numpy(float), iv["done_ms"].to_numpy(float)])
    slope = np.concatenate([np.ones(len(iv)), -np.ones(len(iv))])
    order = np.argsort(t, kind="stable")
    t, slope = t[order], np.cumsum(slope[order])
    busy = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(t))])
    per_bin = np.diff(np.interp(edges, t, busy))
    return edges[:-1], per_bin / (gpus * bin_ms)
