"""A codec, a metric and a latency model of one's own plug in from one file and run through gsvc.run."""
import numpy as np
import pandas as pd
import pytest

import gsvc
from gsvc.codecs import registry
from gsvc.codecs.base import DecodePlan, Decoded, EncodedFrame
from gsvc.metrics import METRICS, Metric, register_metric
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError


class _GreyEncoder:
    def __init__(self, nbytes: int):
        self.nbytes = nbytes

    def encode(self, frame, feedback):
        mean = int(np.asarray(frame.rgb).mean() * 255) if frame.rgb is not None else 128
        return [EncodedFrame(frame.index, "anchor", {"mean": bytes([mean]) + bytes(self.nbytes - 1)})]


class _GreyDecoder:
    def __init__(self, side: int):
        self.side = side

    def plan(self, ef, complete, budget_ms):
        return DecodePlan("classic") if complete else DecodePlan("conceal")

    def decode(self, ef, plan):
        level = ef.sections["mean"][0] / 255 if plan.path == "classic" else 0.5
        return Decoded(np.full((self.side, self.side, 3), level, np.float32), 0, 0, anchor=True)


class GreyCodec:
    """Sends each frame's mean level (padded to ``bitrate_kbps``); shows a flat frame of it."""

    name = "grey"
    group_frames, uses_pixels, makes_images = 1, True, True
    capabilities = frozenset()

    def __init__(self, codec_spec, video_spec):
        self.nbytes = max(1, int(codec_spec.bitrate_kbps * 1e3 / 8 / video_spec.fps))
        self.side = video_spec.resolution

    def encoder(self, stream_seed):
        return _GreyEncoder(self.nbytes)

    def decoder(self, stream_seed):
        return _GreyDecoder(self.side)


@pytest.fixture
def grey(monkeypatch):
    monkeypatch.setattr(registry, "CODECS", registry.CODECS.copy())  # undone after the test
    registry.register(GreyCodec)
    register_metric(Metric("mean_error", "mean_error", lambda ref, test: np.abs(
        ref.astype(float).mean(axis=(1, 2, 3)) - test.astype(float).mean(axis=(1, 2, 3))), higher_is_better=False))
    yield
    METRICS.pop("mean_error", None)


def test_a_registered_codec_and_metric_run_through_gsvc_run(grey):
    sc = Scenario(seed=1, video=dict(seconds=1, fps=10, resolution=32), codec=dict(name="grey", bitrate_kbps=16),
                  channel=dict(model="constant", rate_mbps=1.0), metrics=("psnr", "mean_error"))
    f = gsvc.run(sc).frames
    assert (f["bytes"] == 200).all()  # 16 kbit/s at 10 frames/s: the codec's own bytes on the link
    assert (f["status"] == "ok").all()
    assert f["mean_error"].max() < 1.0  # the flat frame has the source's mean level (to 1/255)
    assert f["psnr_db"].notna().all()


def test_a_registered_codec_is_held_to_its_capabilities(grey):
    with pytest.raises(SpecError, match="codec.control='adaptive' needs a reference-based codec"):
        Scenario(codec=dict(name="grey", control="adaptive"))
    with pytest.raises(SpecError, match="codec.name='grey' has a fixed rate"):
        Scenario(codec=dict(name="grey"), link=dict(rate_control="gcc"))


def test_registering_a_taken_name_or_an_unknown_capability_is_refused(grey):
    class Other(GreyCodec):
        pass
    with pytest.raises(ValueError, match="'grey' is taken"):
        registry.register(Other)

    class Odd(GreyCodec):
        name, capabilities = "odd", frozenset({"teleport"})
    with pytest.raises(ValueError, match="unknown capabilities"):
        registry.register(Odd)
    with pytest.raises(ValueError, match="'psnr' is taken"):
        register_metric(Metric("psnr", "psnr2", None))


def test_declared_hooks_are_found_through_wrappers_and_defaults_count_as_absent():
    """The simulator finds an optional hook with base.hook: a codec's own method (also through a
    delegating wrapper such as the codec cache's), None for a default it inherited or none at all, and
    an undeclared name is an error (a misspelt hook in the simulator cannot silently disable it)."""
    from gsvc.codecs.base import DecoderHooks, EncoderHooks, hook

    class Plain:
        pass

    class Defaults(EncoderHooks, DecoderHooks):
        pass

    class Own(DecoderHooks):
        def shed(self, ef, plan, budget_ms, arrived_late):
            return "late"

    class Wrapper:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

    for name in ("flush", "set_target_kbps", "set_cost_model", "set_service_tail", "shed", "advance"):
        assert hook(Plain(), name) is None and hook(Defaults(), name) is None
    assert hook(Own(), "shed")(None, None, 0.0, False) == "late"
    assert hook(Wrapper(Own()), "shed")(None, None, 0.0, False) == "late"
    assert hook(Wrapper(Own()), "advance") is None
    with pytest.raises(AttributeError, match="'shred' is not a declared codec hook"):
        hook(Own(), "shred")


class FlatLatency:
    """Every decode takes 10 ms plus up to 1 ms drawn from the run's own generator; encodes 1 ms."""

    kind, profile, learns = "flat", None, False

    def __init__(self, rng, frame_px):
        self.rng, self.frame_px = rng, frame_px

    def decode_ms(self, evals, batch, resolution, classic=False, measured_ms=None, vae_encodes=0):
        return 10.0 + float(self.rng.uniform(0.0, 1.0))

    def encode_ms(self, measured_ms=None):
        return 1.0

    def expected_ms(self, evals, batch, resolution, classic=False, vae_encodes=0):
        return 10.5

    def observe(self, evals, service_ms):
        pass


@pytest.fixture
def flat(monkeypatch):
    from gsvc.timing import custom
    monkeypatch.setattr(custom, "REGISTRY", custom.REGISTRY.copy())  # undone after the test
    gsvc.timing.register_latency_model("flat", FlatLatency)
    gsvc.timing.register_latency_model("flat-wall", FlatLatency, wall_clock=True)


def test_a_registered_latency_model_times_the_receiver(flat):
    """receiver.latency='model:flat' times every decode by the user's model, deterministically for the
    seed (its generator is the run's), and the run's meta names it."""
    sc = Scenario(seed=1, video=dict(seconds=1, fps=10, resolution=32), codec=dict(name="synthetic", bitrate_kbps=64),
                  receiver=dict(latency="model:flat"))
    result = gsvc.run(sc)
    f = result.frames
    service_ms = (f.decode_done_ms - f.decode_start_ms).dropna()
    assert len(service_ms) == len(f) and service_ms.between(10.0, 11.0).all() and service_ms.std() > 0.1
    assert (f.encode_done_ms - f.capture_ms).eq(1.0).all()
    assert result.meta["latency_model"] == "model:flat"
    pd.testing.assert_frame_equal(f, gsvc.run(sc).frames)


def test_a_latency_model_is_checked_before_the_run(flat):
    with pytest.raises(SpecError, match=r"receiver.latency='model:nope' names no latency model; known: model:flat, "
                                        r"model:flat-wall \(add one with gsvc.timing.register_latency_model\)"):
        Scenario(receiver=dict(latency="model:nope"))
    with pytest.raises(SpecError, match=r"receiver.timed_as_px serves a profile's times at another side; "
                                        r"receiver.latency='model:flat' is not a profile"):
        Scenario(receiver=dict(latency="model:flat", timed_as_px=256))
    with pytest.raises(SpecError, match=r"receiver.latency='model:flat-wall' \(wall-clock time\) cannot time it"):
        Scenario(receiver=dict(latency="model:flat-wall", decode="timing-only"))
    with pytest.raises(ValueError, match="receiver.latency='model:flat' is taken"):
        gsvc.timing.register_latency_model("flat", lambda rng, px: None)
