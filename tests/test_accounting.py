"""Every captured frame is accounted for once, and its timestamps are in causal order."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import gsvc
from gsvc.codecs.registry import make_codec
from gsvc.netsim.simulation import StreamInput, simulate
from gsvc.netsim.trace import ChannelTrace
from gsvc.scenarios.run import _placeholder_frames
from helpers import check_accounting, profile, timing_scenario


def lossy_trace(rng: np.random.Generator, slots: int, loss: float, harq_rounds: int) -> ChannelTrace:
    """A trace with random capacity, random HARQ delays and random losses."""
    slot_s = 0.5e-3
    tb = rng.integers(0, 4000, slots)
    rounds = rng.integers(0, harq_rounds + 1, slots)
    deliver = (np.arange(slots) + 1) * slot_s + rounds * 2e-3 + 0.004
    lost = rng.random(slots) < loss
    return ChannelTrace(slot_s, tb, deliver, lost)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams=st.integers(1, 4), gpus=st.integers(1, 3), policy=st.sampled_from(["fifo", "edf"]),
       max_batch=st.integers(1, 3), max_wait_ms=st.sampled_from([0.0, 5.0]),
       mode=st.sampled_from(["fixed", "adaptive"]), late=st.sampled_from(["show", "drop"]),
       fps=st.sampled_from([10.0, 24.0, 30.0]), loss=st.sampled_from([0.0, 0.05, 0.3]),
       eval_ms=st.floats(0.5, 30.0), seed=st.integers(0, 2**32))
def test_every_frame_has_exactly_one_outcome_over_lossy_links(streams, gpus, policy, max_batch, max_wait_ms, mode,
                                                                late, fps, loss, eval_ms, seed):
    sc = timing_scenario(streams=streams, video=dict(seconds=2, fps=fps),
                         jitter=dict(mode=mode, late=late, delay_ms=60),
                         receiver=dict(gpus=gpus, policy=policy, max_batch=max_batch, max_wait_ms=max_wait_ms,
                                       latency=profile(eval_ms=eval_ms, jitter=dict(dist="exponential", mean_ms=5))))
    rng = np.random.default_rng(seed)
    codec = make_codec(sc.codec, sc.video)
    n = sc.video.num_frames
    inputs = [StreamInput(_placeholder_frames(sc.video, n), lossy_trace(rng, 4000, loss, 3), seed + s,
                          float(rng.uniform(0, 1 / fps))) for s in range(streams)]
    from gsvc.timing import make_latency_model
    lat = make_latency_model(sc.receiver.latency, 1.0, np.random.default_rng(seed))
    out = simulate(inputs, codec=codec, fps=fps, num_frames=n, resolution=64, link_spec=sc.link,
                   jitter_spec=sc.jitter, receiver_spec=sc.receiver, latency=lat, timing_only=True)
    check_accounting(out.frames, streams, n)
    lost = out.frames["packets_lost"] > 0
    assert (out.frames.loc[lost, "status"] == "lost").all()


@settings(max_examples=10, deadline=None)
@given(streams=st.integers(1, 3), gpus=st.integers(1, 2), rate_mbps=st.sampled_from([0.05, 1.0, 50.0]),
       seed=st.integers(0, 1000))
def test_every_frame_has_exactly_one_outcome_through_run(streams, gpus, rate_mbps, seed):
    sc = timing_scenario(seed=seed, streams=streams, receiver=dict(gpus=gpus),
                         channel=dict(rate_mbps=rate_mbps), video=dict(seconds=2))
    check_accounting(gsvc.run(sc).frames, streams, sc.video.num_frames)
