"""Small builders shared by the tests."""
from __future__ import annotations

import numpy as np

from gsvc.timing import ServiceJitter, LatencyProfile
from gsvc.scenarios import Scenario


def profile(eval_ms: float = 10.0, overhead_ms: float = 0.0, jitter: dict | None = None,
            batch: dict | None = None, encode_ms: float = 0.0) -> LatencyProfile:
    table = batch or {"1": eval_ms}
    return LatencyProfile(name="test", eval_ms={"64": {str(k): v for k, v in table.items()}},
                          overhead_ms=overhead_ms, encode_ms=encode_ms,
                          jitter=ServiceJitter(**(jitter or {})))


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


def check_accounting(frames, streams: int, per_stream: int):
    """Every captured frame has exactly one outcome, and its timestamps are in causal order."""
    assert len(frames) == streams * per_stream
    counts = frames.groupby("stream")["status"].value_counts().unstack(fill_value=0)
    for s in range(streams):
        total = sum(int(counts.loc[s].get(k, 0)) for k in ("ok", "late", "lost", "skipped"))
        assert total == per_stream
    assert set(frames["status"]) <= {"ok", "late", "lost", "skipped"}
    sent = frames["encode_done_ms"].notna()  # the sender may drop frames before the encoder
    assert (frames.loc[~sent, "skip_reason"] == "congestion").all()
    f = frames[sent]
    c, e, a = f["capture_ms"], f["encode_done_ms"], f["arrive_ms"]
    s, d = f["decode_start_ms"], f["decode_done_ms"]
    assert (c <= e + 1e-9).all() and (e <= a + 1e-9).all() and (a <= s + 1e-9).all() and (s <= d + 1e-9).all()
    shown = frames["display_ms"].notna()
    assert (frames.loc[shown, "display_ms"] >= frames.loc[shown, "decode_done_ms"] - 1e-9).all()
    for _, g in f.groupby("stream"):  # per-stream decode order
        assert (np.diff(g["decode_start_ms"].to_numpy()) >= -1e-9).all()
        assert (g["decode_start_ms"].to_numpy()[1:] >= g["decode_done_ms"].to_numpy()[:-1] - 1e-9).all()


def group_freqs_hz(n_prb: int, scs_khz: float = 30.0) -> np.ndarray:
    """Centre frequency (Hz, from the carrier's centre) of each PRB group of an ``n_prb`` carrier: where a cell's
    SINR source evaluates its channels."""
    from gsvc.netsim.channel import numerology as nr
    centres, _ = nr.prb_groups(n_prb)
    return (np.asarray(centres) - n_prb / 2.0) * 12 * scs_khz * 1e3
