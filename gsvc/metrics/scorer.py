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
        self.metrics = [METRICS[n] for n in metrics]
        self._rows: list[int] = []
        self._ref: list[np.ndarray] = []
        self._test: list[np.ndarray] = []

    def add(self, row: int, ref: np.ndarray, test: np.ndarray) -> None:
        """Queue log row ``row``: ``ref``/``test`` are ``[H, W, 3]`` uint8 (original, shown)."""
        self._rows.append(row)
        self._ref.append(ref)
        self._test.append(test)
        if len(self._rows) >= self.batch_frames:
            self.flush()

    def flush(self) -> None:
        """Score every queued pair now."""
        if not self._rows:
            return
        ref, test = np.stack(self._ref), np.stack(self._test)
        for m in self.metrics:
            col = self.cols[m.column]
            for row, v in zip(self._rows, m.fn(ref, test).tolist()):
                col[row] = v
        self._rows, self._ref, self._test = [], [], []
