"""The GPU queue against queueing theory: D/M/1 mean wait, and zero wait when service fits."""
import numpy as np
import pytest
from scipy.optimize import brentq

import gsvc
from helpers import profile, timing_scenario


def dm1_mean_wait_s(interval_s: float, mean_service_s: float) -> float:
    """D/M/1 mean waiting time: sigma = exp(-mu*T*(1-sigma)), W = sigma / (mu * (1 - sigma))."""
    mu = 1.0 / mean_service_s
    sigma = brentq(lambda s: s - np.exp(-mu * interval_s * (1 - s)), 1e-12, 1 - 1e-12)
    return sigma / (mu * (1 - sigma))


def periodic_arrivals(**receiver):
    """Equal-size frames over an ideal link arrive exactly one frame interval apart."""
    return timing_scenario(video=dict(seconds=4000, fps=25), codec=dict(gop=1, anchor_ratio=1.0),
                           jitter=dict(mode="fixed", delay_ms=500), receiver=receiver)


def test_mean_queue_wait_matches_dm1_formula_within_3_percent():
    mean_service_ms = 0.7 * 1000 / 25  # load 0.7
    sc = periodic_arrivals(latency=profile(eval_ms=0.0, jitter=dict(dist="exponential", mean_ms=mean_service_ms)),
                           decode="timing-only", gpus=1, policy="fifo")
    frames = gsvc.run(sc).frames
    arrivals = np.diff(frames["arrive_ms"].to_numpy())
    assert np.allclose(arrivals, 1000 / 25)  # 40 ms is a whole number of 0.5 ms slots
    theory_ms = dm1_mean_wait_s(1 / 25, mean_service_ms / 1e3) * 1e3
    measured_ms = frames["queue_wait_ms"].mean()
    assert measured_ms == pytest.approx(theory_ms, rel=0.03)


def test_deterministic_service_shorter_than_interval_never_waits():
    sc = periodic_arrivals(latency=profile(eval_ms=5.0, overhead_ms=3.0), decode="timing-only")
    frames = gsvc.run(sc.updated({"video.seconds": 60})).frames
    assert (frames["queue_wait_ms"] == 0).all()
    assert np.allclose(frames["decode_done_ms"] - frames["decode_start_ms"], 4 * 5.0 + 3.0)
