"""Scores (original, shown) image pairs as a run resolves them, a few frames at a time."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .registry import DEFAULT_METRICS, METRICS, metric_columns

__all__ = ["StreamScorer"]


class StreamScorer:
    """Collects image pairs for log rows and scores them in batches of ``batch_frames``.

    ``cols``: the per-frame log columns (``column -> indexable``), written in place.
    Holds at most ``batch_frames`` pairs: memory does not grow with the run. Batching
    only amortises the per-call cost of the metric functions; every metric scores each
    frame pair on its own, so the numbers do not depend on the batch size.
    """

    def __init__(self, cols, metrics: Sequence[str] = DEFAULT_METRICS, batch_frames: int = 16):
        metric_columns(metrics)
        if batch_frames < 1:
            raise ValueError(f"batch_frames={batch_frames} must be at least 1")
        self.cols, self.batch_frames = cols, batch_frames
        self.metrics = [METRICS[n] for n in metrics if not METRICS[n].sequence]
        self.sequences = [METRICS[n] for n in metrics if METRICS[n].sequence]
        self._writers: dict[tuple[str, int], object] = {}  # (metric, stream) -> its on-disk sequence
        self._temporal = any(m.temporal for m in self.metrics)
        self._rows: list[int] = []
        self._ref: list[np.ndarray] = []
        self._test: list[np.ndarray] = []
        self._prev: list[tuple | None] = []  # per queued pair: (prev_ref, prev_test) of its stream, or None
        self._last: dict[int, tuple] = {}  # stream -> its last (ref, test), for temporal metrics

    def add(self, row: int, ref: np.ndarray, test: np.ndarray, stream: int = 0) -> None:
        """Queue log row ``row`` of ``stream``: ``ref``/``test`` are ``[H, W, 3]`` uint8 (original, shown),
        given in slot order within each stream."""
        for m in self.sequences:
            key = (m.name, stream)
            if key not in self._writers:
                from .vmaf import VmafWriter
                self._writers[key] = VmafWriter()
            self._writers[key].add(row, ref, test)
        self._rows.append(row)
        self._ref.append(ref)
        self._test.append(test)
        if self._temporal:
            self._prev.append(self._last.get(stream))
            self._last[stream] = (ref, test)
        if len(self._rows) >= self.batch_frames:
            self.flush()

    def flush(self) -> None:
        """Score every queued pair now."""
        if not self._rows:
            return
        ref, test = np.stack(self._ref), np.stack(self._test)
        for m in self.metrics:
            col = self.cols[m.column]
            values = self._temporal_scores(m, ref, test) if m.temporal else m.fn(ref, test)
            for row, v in zip(self._rows, np.asarray(values).tolist()):
                col[row] = v
        self._rows, self._ref, self._test, self._prev = [], [], [], []

    def close(self) -> None:
        """The run is over: score what is queued and every sequence metric."""
        self.flush()
        for (name, _), writer in sorted(self._writers.items()):
            rows, values = writer.close()
            col = self.cols[METRICS[name].column]
            for row, v in zip(rows, values.tolist()):
                col[row] = v
        self._writers = {}

    def _temporal_scores(self, m, ref: np.ndarray, test: np.ndarray) -> np.ndarray:
        out = np.full(len(ref), np.nan)
        have = [k for k, p in enumerate(self._prev) if p is not None]
        if have:
            prev_ref = np.stack([self._prev[k][0] for k in have])
            prev_test = np.stack([self._prev[k][1] for k in have])
            out[have] = m.fn(prev_ref, ref[have], prev_test, test[have])
        return out
