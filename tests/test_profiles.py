"""Published and roofline GPU latency profiles, the ControlNet option and the calibrate CLI."""
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gsvc
from gsvc.cli import main
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.timing import (LatencyModel, LatencyProfile, MeasuredLatency, ProfileLatency, ServiceJitter,
                         list_profiles, load_profile, make_latency_model)

PUBLISHED = ["sd15-a100", "sd15-h100", "sd15-rtx3090", "sd15-rtx4090", "sd15-t4"]


@pytest.fixture(scope="module")
def sd15_cost_b2():
    from gsvc.timing.flops import count_model
    return count_model("sd15", 2, 512)  # the CFG pair of one image: the published batch-1 measurements


def numbers_needing_a_source(p: LatencyProfile) -> list[str]:
    keys = [f"eval_ms.{r}.{b}" for r, t in p.eval_ms.items() for b in t]
    keys += [f"vae_decode_ms.{r}" for r in p.vae_decode_ms] + [f"vae_encode_ms.{r}" for r in p.vae_encode_ms]
    return keys + (["controlnet_factor"] if p.controlnet_factor is not None else [])


def test_published_profiles_ship_beside_cpu_2core():
    assert set(PUBLISHED) | {"cpu-2core"} <= set(list_profiles())


@pytest.mark.parametrize("name", PUBLISHED)
def test_every_published_number_carries_its_source(name):
    p = load_profile(name)
    assert p.kind == "published" and "512" in p.eval_ms and set(p.eval_ms["512"]) == {"1", "4", "16"}
    assert p.vae_decode_ms and p.controlnet_factor is not None
    for key in numbers_needing_a_source(p):
        assert len(p.sources.get(key, "")) > 40, f"{name}: {key} has no source"
    for key, text in p.sources.items():  # a derived number says so; a read one names its commit
        assert "DERIVED" in text or "commit" in text or key in ("classic_ms", "overhead_ms", "per_frame_ms", "jitter")


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_batches_cost_more_in_total_and_less_per_frame(name):
    p = load_profile(name)
    t1, t4, t16 = (p.eval_time_ms(512, b) for b in (1, 4, 16))
    assert t1 < t4 < t16 and t16 / 16 <= t4 / 4 * 1.05 and t4 / 4 <= t1 * 1.05


def test_other_resolutions_scale_with_pixel_count_from_512():
    p = load_profile("sd15-rtx4090")
    assert p.eval_time_ms(256, 1) == pytest.approx(p.eval_time_ms(512, 1) / 4)
    assert p.vae_decode_time_ms(1024) == pytest.approx(4 * p.vae_decode_time_ms(512))


def test_cpu_2core_times_are_unchanged():
    import gsvc.timing
    raw = json.loads((Path(gsvc.timing.__file__).parent / "profiles" / "cpu-2core.json").read_text())
    p = load_profile("cpu-2core")
    assert p.kind == "measured" and p.vae_decode_ms == {} and p.controlnet_factor is None
    lat = ProfileLatency(p, np.random.default_rng(0))
    ref_rng = np.random.default_rng(0)
    ref_jitter = p.jitter.sample(ref_rng, ProfileLatency.JITTER_BLOCK)[::-1].tolist()
    for evals, batch, res in [(4, 1, 64), (10, 2, 128), (0, 1, 64), (3, 8, 256)]:
        base = raw["overhead_ms"] + raw["per_frame_ms"] * batch + evals * float(raw["eval_ms"][str(res)][str(batch)])
        assert lat.decode_ms(evals, batch, res) == max(0.0, base + ref_jitter.pop())
    assert lat.expected_ms(4, 1, 64) == raw["per_frame_ms"] + 4 * raw["eval_ms"]["64"]["1"] + np.mean(
        raw["jitter"]["samples_ms"])


def test_vae_decode_is_added_once_per_frame_that_ran_the_denoiser():
    p = load_profile("sd15-rtx4090")
    lat = ProfileLatency(p, np.random.default_rng(0))
    assert lat.expected_ms(0, 1, 512) == 0.0  # a concealed (warped/repeated) frame runs no VAE
    assert lat.expected_ms(4, 2, 512) == pytest.approx(4 * p.eval_time_ms(512, 2) + 2 * p.vae_decode_time_ms(512))


def test_controlnet_factor_applies_only_when_asked():
    p = load_profile("sd15-rtx4090")
    off = make_latency_model("profile:sd15-rtx4090", 1.0, np.random.default_rng(0))
    on = make_latency_model("profile:sd15-rtx4090", 1.0, np.random.default_rng(0), controlnet="on")
    vae = p.vae_decode_time_ms(512)
    assert off.expected_ms(10, 1, 512) == pytest.approx(10 * p.eval_time_ms(512, 1) + vae)
    assert on.expected_ms(10, 1, 512) == pytest.approx(10 * p.eval_time_ms(512, 1) * p.controlnet_factor + vae)
    assert 1.3 < p.controlnet_factor < 1.5


def test_receiver_controlnet_on_needs_a_profile_that_knows_the_factor():
    from gsvc.scenarios import Scenario
    sc = Scenario(receiver=dict(latency="profile:sd15-t4", controlnet="on"))
    assert sc.receiver.controlnet == "on" and Scenario().receiver.controlnet == "off"
    with pytest.raises((SpecError, ValueError), match="receiver.controlnet"):
        Scenario(receiver=dict(latency="profile:cpu-2core", controlnet="on"))
    with pytest.raises((SpecError, ValueError), match="receiver.controlnet"):
        Scenario(receiver=dict(latency="measured", controlnet="on"))
    with pytest.raises((SpecError, ValueError), match="controlnet"):
        Scenario(receiver=dict(controlnet="yes"))


def test_a_run_with_controlnet_on_is_slower_by_the_factor():
    from gsvc import run
    from gsvc.scenarios import Scenario
    base = Scenario(seed=3, video=dict(seconds=1, fps=10, resolution=64), codec=dict(name="full", steps=4),
                    receiver=dict(latency="profile:sd15-rtx4090", decode="timing-only"))
    f_off = run(base).frames
    f_on = run(base.updated({"receiver.controlnet": "on"})).frames
    d_off = (f_off.decode_done_ms - f_off.decode_start_ms).to_numpy()
    d_on = (f_on.decode_done_ms - f_on.decode_start_ms).to_numpy()
    p = load_profile("sd15-rtx4090")
    per_eval = p.eval_time_ms(64, 1)
    ok = (f_off.unet_evals == 4).to_numpy() & (f_on.unet_evals == 4).to_numpy()
    assert ok.any()
    assert np.allclose(d_on[ok] - d_off[ok], 4 * per_eval * (p.controlnet_factor - 1), rtol=1e-6)


@pytest.mark.parametrize("gpu", ["a100", "h100", "rtx4090"])
def test_roofline_lands_within_1_5x_of_the_published_time(gpu, sd15_cost_b2):
    from gsvc.timing.roofline import FIT_DATA, estimate_ms
    point = next(p for p in FIT_DATA if p.gpu == gpu)
    ratio = estimate_ms(sd15_cost_b2, gpu) / sd15_cost_b2.batch / point.ms_per_sample
    assert 1 / 1.5 < ratio < 1.5, ratio


def test_the_frozen_efficiencies_are_what_the_fit_gives(sd15_cost_b2):
    from gsvc.timing.roofline import EFFICIENCY, fit_efficiency
    assert fit_efficiency(sd15_cost_b2) == pytest.approx(EFFICIENCY, rel=0.02)


def test_every_datasheet_gpu_has_a_source():
    from gsvc.timing.roofline import GPUS
    assert {"a100", "h100", "h200", "rtx4090", "rtx3090", "l4", "t4", "orin-agx"} <= set(GPUS)
    for g in GPUS.values():
        assert g.fp16_tflops > 0 and g.mem_bw_gbs > 0 and len(g.source) > 60


def test_calibrate_flops_prints_and_writes_the_counts(tmp_path):
    out = tmp_path / "flops.json"
    res = CliRunner().invoke(main, ["calibrate", "--flops", "--model", "shipped", "--resolution", "64",
                                    "--batch", "1", "--batch", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    counts = json.loads(out.read_text())["counts"]
    assert [c["batch"] for c in counts] == [1, 2] and counts[1]["flops"] == pytest.approx(2 * counts[0]["flops"])
    assert "TFLOP" in res.output


def test_calibrate_roofline_writes_a_profile_that_says_it_is_an_estimate(tmp_path):
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["calibrate", "--roofline", "rtx4090", "--batch", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    p = load_profile(str(out))
    assert p.kind == "roofline" and "roofline" in p.device and "ESTIMATE" in p.notes
    assert p.controlnet_factor is not None and p.vae_decode_ms
    for key in numbers_needing_a_source(p):
        assert "ESTIMATE" in p.sources[key]
    published = load_profile("sd15-rtx4090").eval_time_ms(512, 1)
    assert 1 / 1.5 < p.eval_time_ms(512, 1) / published < 1.5


def test_a_bad_gpu_name_names_the_option_and_lists_the_valid_ones():
    res = CliRunner().invoke(main, ["calibrate", "--roofline", "rtx5090"])
    assert res.exit_code == 2
    assert "--roofline" in res.output and "rtx4090" in res.output and "orin-agx" in res.output


def test_timing_calibration_refuses_a_model_it_cannot_time():
    res = CliRunner().invoke(main, ["calibrate", "--model", "sd15-controlnet"])
    assert res.exit_code == 2 and "--model" in res.output


def test_timed_as_serves_a_512_px_receiver_for_small_frames():
    p = load_profile("sd15-rtx4090")
    q = p.timed_as(64, 512)
    for b in (1, 3, 16):
        assert q.eval_time_ms(64, b) == pytest.approx(p.eval_time_ms(512, b))
    assert q.vae_decode_time_ms(64) == pytest.approx(p.vae_decode_time_ms(512))
    assert q.controlnet_factor == p.controlnet_factor and "512 px" in q.sources["eval_ms.64.1"]
    for key in numbers_needing_a_source(q):
        assert key in q.sources


def test_receiver_timed_as_px_times_a_run_as_the_profile_snippet_did():
    base = Scenario(seed=2, video=dict(seconds=1, resolution=64), codec=dict(name="cvsc", steps=3),
                    receiver=dict(decode="timing-only"))
    by_field = gsvc.run(base.updated({"receiver.latency": "profile:sd15-rtx4090", "receiver.timed_as_px": 512}))
    by_snippet = gsvc.run(base.updated({"receiver.latency": load_profile("sd15-rtx4090").timed_as(64, 512)}))
    at_64 = gsvc.run(base.updated({"receiver.latency": "profile:sd15-rtx4090"}))
    assert by_field.frames.equals(by_snippet.frames)
    assert by_field.meta["latency_profile"]["name"] == "sd15-rtx4090@512px-for-64px"
    service = lambda r: (r.frames["decode_done_ms"] - r.frames["decode_start_ms"]).max()  # noqa: E731
    assert service(by_field) > 30 * service(at_64)  # 64x the pixels, and the VAE decode at 512 px


def test_timed_as_px_is_refused_with_a_measured_latency_and_out_of_range():
    with pytest.raises(SpecError, match="receiver.timed_as_px"):
        Scenario(receiver=dict(latency="measured", timed_as_px=512))
    with pytest.raises(SpecError, match=r"receiver.timed_as_px=8 .*\[16, 4096\]"):
        Scenario(receiver=dict(latency="profile:sd15-a100", timed_as_px=8))


def test_every_latency_model_meets_the_receivers_protocol():
    rng = np.random.default_rng(0)
    for latency in ("measured", "profile:cpu-2core"):
        model = make_latency_model(latency, 1.0, rng)
        assert isinstance(model, LatencyModel)
        assert (model.profile is None) == (latency == "measured") and model.learns == (latency == "measured")


def test_timing_calibration_times_the_architecture_of_the_weights_it_is_given(tmp_path):
    from gsvc.codecs.denoiser import DenoiserConfig
    from gsvc.codecs.model import Denoiser, save_denoiser
    from gsvc.timing.calibrate import calibrate
    w = save_denoiser(Denoiser.fresh(DenoiserConfig(block_out_channels=(16, 32))), tmp_path / "w.safetensors")
    p = calibrate("tiny", "cpu", resolutions=(64,), batches=(1,), repeats=1, log=lambda m: None, weights=w)
    assert '"block_out_channels": [16, 32]' in p.model and p.eval_ms["64"]["1"] > 0
    with pytest.raises(FileNotFoundError, match="--weights"):
        calibrate("tiny", "cpu", resolutions=(64,), batches=(1,), weights=tmp_path / "none.safetensors")


def test_the_measured_h200_profiles_say_how_they_were_measured():
    for name in ("h200-gsvc", "sd15-h200-eager"):
        p = load_profile(name)
        assert p.kind == "measured" and p.device == "NVIDIA H200" and "eager PyTorch" in p.notes
        assert p.versions["torch"].endswith("+cu130") and "1 CPU core" in p.notes
    from gsvc.codecs.model import default_weights_path, weights_config
    shipped = weights_config(default_weights_path()).block_out_channels
    assert json.dumps(list(shipped)) in load_profile("h200-gsvc").model  # it timed the shipped architecture
    sd15 = load_profile("sd15-h200-eager")
    assert sd15.eval_time_ms(512, 16) < 16 * sd15.eval_time_ms(512, 1)  # batching pays where launches bind


def test_a_jitter_tail_is_exceeded_as_often_as_the_risk_it_was_asked_for():
    rng = np.random.default_rng(0)
    for jitter in (ServiceJitter(dist="exponential", mean_ms=3.0),
                   ServiceJitter(dist="lognormal", mean_ms=3.0, sigma=0.6)):
        draws = jitter.sample(rng, 400_000)
        for risk in (0.01, 0.1):
            assert np.mean(draws > jitter.mean() + jitter.tail_ms(risk)) == pytest.approx(risk, rel=0.08)
    cpu = load_profile("cpu-2core").jitter  # 40 samples, two far out (+18.4, +22.4 ms)
    assert cpu.tail_ms(0.01) == pytest.approx(max(cpu.samples_ms) - cpu.mean())  # 40 draws cannot show 1 %
    assert cpu.tail_ms(0.05) == pytest.approx(sorted(cpu.samples_ms)[37] - cpu.mean())  # 2 of 40 above it
    assert 2.0 < cpu.tail_ms(0.05) < 3.0 and cpu.tail_ms(0.01) > 20.0
    assert ServiceJitter(dist="fixed", mean_ms=5.0).tail_ms(0.01) == 0.0
    with pytest.raises(ValueError, match="risk"):
        cpu.tail_ms(0.0)


def test_a_measured_latency_learns_its_tail_from_the_decodes_it_saw():
    m = MeasuredLatency()
    assert m.tail_ms(0.01) == 0.0
    for k in range(100):
        m.observe(2, 20.0 + (30.0 if k % 20 == 19 else 0.0))
    # 5 of 100 decodes about 30 ms over the learned time: a 1 % tail holds them, a 10 % one does not
    assert m.tail_ms(0.01) > 20.0 and m.tail_ms(0.1) < 5.0
