"""Quality of what the viewer saw.

``METRICS`` names every per-frame metric a run can score (one pure function each,
``fn(ref, test) -> [T]`` on ``[T, H, W, 3]`` uint8 frames); :class:`StreamScorer`
scores frame slots as the display resolves them, a small batch at a time, so a run
keeps no image beyond the ones still in flight. A new per-frame metric plugs in with
``register_metric(Metric(name, column, fn))``.
"""
from .registry import DEFAULT_METRICS, METRICS, Metric, metric_columns, register_metric
from .scorer import StreamScorer

__all__ = ["METRICS", "DEFAULT_METRICS", "Metric", "metric_columns", "register_metric", "StreamScorer"]
