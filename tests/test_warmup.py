"""A run timed by this host's wall clock warms its codecs up first (gsvc.scenarios.warmup)."""
import pandas as pd
import pytest

import gsvc
from gsvc import Scenario
from test_diffusion_codecs import tiny_weights  # noqa: F401  (fixture)


class RecordingLatency:
    """Every decode 10 ms; records what it observed before the run's first decode."""

    kind, profile, learns = "recording", None, True

    def __init__(self, rng, frame_px):
        self.calls = []
        RecordingLatency.last = self

    def decode_ms(self, evals, batch, resolution, classic=False, measured_ms=None, vae_encodes=0):
        self.calls.append(("decode", measured_ms))
        return 10.0

    def encode_ms(self, measured_ms=None):
        return 1.0

    def expected_ms(self, evals, batch, resolution, classic=False, vae_encodes=0):
        return 10.0

    def observe(self, evals, service_ms):
        self.calls.append(("observe", evals))


@pytest.fixture
def recording(monkeypatch):
    from gsvc.timing import custom
    monkeypatch.setattr(custom, "REGISTRY", custom.REGISTRY.copy())
    gsvc.timing.register_latency_model("rec", RecordingLatency)
    gsvc.timing.register_latency_model("rec-wall", RecordingLatency, wall_clock=True)


def test_a_wall_clock_run_codes_its_first_frames_once_before_and_is_otherwise_the_same(recording):
    sc = Scenario(seed=2, video=dict(seconds=1, fps=10, resolution=32), codec=dict(name="h264", bitrate_kbps=64))
    plain = gsvc.run(sc.updated({"receiver.latency": "model:rec"}))
    calls = RecordingLatency.last.calls
    assert plain.meta["warm_up_s"] is None and calls[0][0] == "decode"  # no warm-up: the run decodes first
    wall = gsvc.run(sc.updated({"receiver.latency": "model:rec-wall"}))
    calls = RecordingLatency.last.calls
    assert wall.meta["warm_up_s"] > 0 and calls[0][0] == "decode"  # a model of one's own is not fed
    # the run itself is untouched: its coders, seeds and random streams are its own
    pd.testing.assert_frame_equal(wall.frames, plain.frames)


def test_the_measured_latency_starts_from_the_warm_up_s_decodes(tiny_weights, monkeypatch):
    """The first decode (weights loaded, first calls) is not measured; the second, a delta of one
    evaluation, is the measured model's first observation, made before the run's first decode."""
    from gsvc.timing.latency import MeasuredLatency
    calls = []
    observe, decode_ms = MeasuredLatency.observe, MeasuredLatency.decode_ms
    monkeypatch.setattr(MeasuredLatency, "observe", lambda self, e, ms: (calls.append(("observe", e)),
                                                                          observe(self, e, ms))[1])
    monkeypatch.setattr(MeasuredLatency, "decode_ms", lambda self, *a, **k: (calls.append(("decode",)),
                                                                              decode_ms(self, *a, **k))[1])
    sc = Scenario(seed=2, video=dict(seconds=0.4, fps=10, resolution=64),
                  codec=dict(name="cvsc", weights=tiny_weights, steps=4, strength=0.25),
                  receiver=dict(latency="measured"))
    result = gsvc.run(sc)
    assert result.meta["warm_up_s"] > 0
    assert calls[0] == ("observe", 1) and calls[1] == ("decode",)
