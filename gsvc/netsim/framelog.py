"""The per-frame log: one row per stream and captured frame, preallocated.

Columns (:data:`COLUMNS`, plus the chosen quality metrics) are numpy arrays indexed
by ``stream * frames_per_stream + frame``, filled in place as the events happen by
the part that learns each value: the sender (capture, encode, bytes, packets, radio
fates), the jitter buffer's release (``playout_ms``), the GPU pool (decode times,
plan, skips) and the screen's scorer (quality). ``status``, ``display_ms`` and
``latency_ms`` are filled per stream after the event loop
(:func:`gsvc.netsim.display.resolve_display`). :meth:`FrameLog.to_frame` turns the
arrays into a pandas DataFrame once, at the end of the run.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

__all__ = ["FrameLog", "COLUMNS", "STATUSES"]

STATUSES = ("ok", "late", "lost", "skipped")

#: column -> numpy dtype (NaN marks "did not happen" in float columns)
COLUMNS: dict[str, str] = {
    "stream": "int32", "frame": "int32",
    "capture_ms": "float64", "target_kbps": "float64", "encode_done_ms": "float64",
    "bytes": "int64", "packets": "int32", "packets_lost": "int32", "packets_retx": "int32", "probe_bytes": "int64",
    "tx_done_ms": "float64", "arrive_ms": "float64", "air_delay_ms": "float64", "playout_ms": "float64",
    "decode_start_ms": "float64", "decode_done_ms": "float64", "display_ms": "float64",
    "latency_ms": "float64", "status": "object",
    "steps": "int32", "unet_evals": "int32", "gpu": "int32", "batch": "int32",
    "queue_wait_ms": "float64", "plan": "object", "skip_reason": "object", "kind": "object",
    "anchor": "bool", "scene_cut": "bool", "cut_detected": "bool", "confidence": "float64",
    "psnr_db": "float64", "ssim": "float64",
}


class FrameLog:
    """Preallocated columns for ``streams x frames`` rows."""

    def __init__(self, streams: int, frames: int, extra_float: tuple[str, ...] | list[str] = ()):
        """``extra_float``: float64 columns besides :data:`COLUMNS` (the chosen quality metrics)."""
        self.streams, self.frames = streams, frames
        n = streams * frames
        self.cols: dict[str, np.ndarray] = {}
        self.names = list(COLUMNS) + [c for c in extra_float if c not in COLUMNS]
        for name in self.names:
            dtype = COLUMNS.get(name, "float64")
            if dtype == "float64":
                self.cols[name] = np.full(n, np.nan)
            elif dtype == "object":
                self.cols[name] = np.full(n, "", dtype=object)
            else:
                self.cols[name] = np.zeros(n, dtype=dtype)
        self.cols["stream"][:] = np.repeat(np.arange(streams), frames)
        self.cols["frame"][:] = np.tile(np.arange(frames), streams)
        self.cols["gpu"][:] = -1

    def columns(self) -> SimpleNamespace:
        """The same arrays as ``cols``, as attributes (``log.columns().bytes[row] = n``)."""
        return SimpleNamespace(**self.cols)

    def row(self, stream: int, frame: int) -> int:
        return stream * self.frames + frame

    def stream_slice(self, stream: int) -> slice:
        return slice(stream * self.frames, (stream + 1) * self.frames)

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame({k: self.cols[k] for k in self.names})
        for k in ("status", "plan", "skip_reason", "kind"):
            df[k] = df[k].astype(str)
        return df
