"""Small builders shared by the tests."""
from __future__ import annotations

from gsvc.codecs.latency import JitterSpec, LatencyProfile
from gsvc.scenarios import Scenario


def profile(eval_ms: float = 10.0, overhead_ms: float = 0.0, jitter: dict | None = None,
            batch: dict | None = None, encode_ms: float = 0.0) -> LatencyProfile:
    table = batch or {"1": eval_ms}
    return LatencyProfile(name="test", eval_ms={"64": {str(k): v for k, v in table.items()}},
                          overhead_ms=overhead_ms, encode_ms=encode_ms,
                          jitter=JitterSpec(**(jitter or {})))


def timing_scenario(**kw) -> Scenario:
    """A timing-only scenario with the synthetic codec over an ideal link."""
    base = dict(name="t", video=dict(seconds=4, fps=15), codec=dict(name="synthetic", steps=4),
                channel=dict(model="ideal", rate_mbps=20),
                receiver=dict(latency=profile(), decode="timing-only"))
    for k, v in kw.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return Scenario(**base)
