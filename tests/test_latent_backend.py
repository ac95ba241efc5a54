"""Latent diffusers back-end (codec.model = a folder): tiny random diffusers components saved in the test."""
import re
import shutil

import numpy as np
import pytest
import torch

import gsvc
from gsvc.codecs.backends import Denoiser, load_backend, warp_sample
from gsvc.codecs.backends.latent import LatentDiffusers
from gsvc.codecs.motion import MotionField
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.video import VideoSpec, open_source

SIDE = 128


def build_folder(root, vae="kl", controlnet=False, scheduler="DDIMScheduler"):
    """A diffusers pipeline folder of tiny random components (UNet 8/16 channels, 8x VAE)."""
    import diffusers
    from diffusers import AutoencoderKL, AutoencoderTiny, ControlNetModel, UNet2DConditionModel
    from safetensors.torch import save_file
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
                                block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=2, norm_num_groups=4)
    unet.save_pretrained(root / "unet", safe_serialization=True)
    if vae == "kl":
        v = AutoencoderKL(block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                          up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=4,
                          layers_per_block=1, sample_size=SIDE)
    else:
        v = AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                            num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1), latent_channels=4)
    v.save_pretrained(root / "vae", safe_serialization=True)
    sd15_schedule = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1)
    getattr(diffusers, scheduler)(**sd15_schedule).save_pretrained(root / "scheduler")
    if controlnet:
        net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16))
        net.save_pretrained(root / "controlnet", safe_serialization=True)
    save_file({"prompt_embeds": torch.randn(1, 8, 16)}, str(root / "prompt_embeds.safetensors"))
    return str(root)


@pytest.fixture(scope="module")
def kl_folder(tmp_path_factory):
    return build_folder(tmp_path_factory.mktemp("sd-kl"), "kl", controlnet=True)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return build_folder(tmp_path_factory.mktemp("sd-tiny"), "tiny", scheduler="PNDMScheduler")


def scenario(model, name, **codec):
    return Scenario(video=dict(seconds=0.4, fps=10, resolution=SIDE),
                    codec=dict(name=name, model=model, steps=3, gop=2, strength=0.5, **codec),
                    jitter=dict(mode="fixed", delay_ms=5000), receiver=dict(shed="off"), seed=4)


class Calls:
    """Counts forward calls of a module while the context is open."""

    def __init__(self, module):
        self.module, self.n = module, 0

    def __enter__(self):
        self.handle = self.module.register_forward_hook(lambda *_: setattr(self, "n", self.n + 1))
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def test_a_diffusers_folder_loads_as_a_latent_backend(kl_folder):
    den = load_backend(kl_folder)
    assert isinstance(den, LatentDiffusers) and isinstance(den, Denoiser)
    assert (den.space, den.scale_factor, den.has_controlnet) == ("latent", 8, True)
    assert den.latent_shape(SIDE) == (4, 16, 16)
    assert SIDE in den.resolutions_px and 1024 in den.resolutions_px and 136 not in den.resolutions_px
    assert "AutoencoderKL" in den.describe() and "ControlNetModel" in den.describe()
    assert CodecSpec().model == "shipped" and isinstance(load_backend(), Denoiser)
    assert (load_backend().space, load_backend().scale_factor, load_backend().has_controlnet) == ("pixel", 1, False)


@pytest.mark.parametrize("name", ["full", "cvsc", "reuse", "anchor_residual", "content_motion"])
def test_seed_codecs_run_on_a_latent_model_with_the_evaluations_their_plans_said(kl_folder, name):
    den = load_backend(kl_folder)
    with Calls(den.unet) as unet, Calls(den.controlnet) as cn:
        f = gsvc.run(scenario(kl_folder, name)).frames
    assert (f["status"] == "ok").all() and f["psnr_db"].notna().all()
    assert unet.n == f["unet_evals"].sum() > 0
    assert cn.n == unet.n  # every frame carries labels: the ControlNet runs at every evaluation
    want = {"full": [3, 3, 3, 3], "cvsc": [3, 2, 3, 2], "reuse": [3, 2, 3, 2], "anchor_residual": [3, 2, 3, 2],
            "content_motion": [3, 0, 3, 0]}[name]
    assert f["unet_evals"].tolist() == want


def test_same_scenario_and_seed_give_identical_frames(kl_folder):
    a = gsvc.run(scenario(kl_folder, "cvsc")).frames["psnr_db"].to_numpy()
    b = gsvc.run(scenario(kl_folder, "cvsc")).frames["psnr_db"].to_numpy()
    assert np.array_equal(a, b)


def test_decodes_report_the_vae_calls_their_plans_said(kl_folder):
    frames = open_source(VideoSpec(seconds=0.4, fps=10, resolution=SIDE), 4).read_all()
    video = VideoSpec(seconds=0.4, fps=10, resolution=SIDE)
    want = {"cvsc": [(1, 0), (1, 0), (1, 0)], "reuse": [(1, 0), (1, 0), (1, 0)],
            "anchor_residual": [(1, 0), (1, 1), (1, 1)], "full": [(1, 0)] * 3}
    for name, calls in want.items():
        c = make_codec(CodecSpec(name=name, model=kl_folder, steps=3, gop=4, strength=0.5), video)
        enc, dec = c.encoder(0), c.decoder(0)
        got = []
        for f in frames[:3]:
            for ef in enc.encode(f, []):
                plan = dec.plan(ef, True, None)
                d = dec.decode(ef, plan)
                assert (d.vae_decodes, d.vae_encodes) == (plan.vae_decodes, plan.vae_encodes)
                assert d.image.shape == (SIDE, SIDE, 3) and d.image.dtype == np.float32
                got.append((d.vae_decodes, d.vae_encodes))
        assert got == calls, name


def test_a_latent_content_motion_anchor_refining_its_own_frame_runs_what_its_plan_said(kl_folder):
    frames = open_source(VideoSpec(seconds=0.4, fps=10, resolution=SIDE, camera="pan", motion_px=6), 4).read_all()
    c = make_codec(CodecSpec(name="content_motion", model=kl_folder, steps=3, gop=4, control="adaptive",
                             trust_confidence=0.99), VideoSpec(seconds=0.4, fps=10, resolution=SIDE))
    enc, dec = c.encoder(0), c.decoder(0)
    efs = [ef for f in frames for ef in enc.encode(f, [])] + enc.flush()
    assert c.denoiser.space == "latent" and "own_lowres" in efs[0].sections
    with Calls(c.denoiser.unet) as unet:
        plan = dec.plan(efs[0], True, None)
        d = dec.decode(efs[0], plan)
    assert plan.refine_steps == 1 and plan.unet_evals == 3 + 1 == d.unet_evals == unet.n
    # the content and the refined frame each decoded from latents once; the refinement starts from the
    # content's own latent, warped: no encode
    assert (d.vae_decodes, d.vae_encodes) == (plan.vae_decodes, plan.vae_encodes) == (2, 0)


def test_a_whole_latent_pixel_shift_moves_the_latent_exactly(kl_folder):
    den = load_backend(kl_folder)
    x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    right = warp_sample(den, x, MotionField((8.0, 0.0), np.zeros((1, 1, 2), np.float32)))  # 8 px = 1 latent px
    down = warp_sample(den, x, MotionField((0.0, 16.0), np.zeros((1, 1, 2), np.float32)))  # 16 px = 2 latent px
    assert torch.equal(right[..., :, :-1], x[..., :, 1:])  # the frame at p shows the reference at p + v
    assert torch.equal(down[..., :-2, :], x[..., 2:, :])


def test_tiny_and_kl_autoencoders_both_map_images_to_latents_and_back(kl_folder, tiny_folder):
    rgb = np.random.default_rng(0).random((1, SIDE, SIDE, 3)).astype(np.float32)
    for folder, cls in ((kl_folder, "AutoencoderKL"), (tiny_folder, "AutoencoderTiny")):
        den = load_backend(folder)
        e0, d0 = den.vae_encodes, den.vae_decodes
        z = den.to_model(rgb)
        img = den.to_image(z)
        assert type(den.vae).__name__ == cls and z.shape == (1, 4, 16, 16)
        assert img.shape == (1, SIDE, SIDE, 3) and 0 <= img.min() and img.max() <= 1
        assert (den.vae_encodes - e0, den.vae_decodes - d0) == (1, 1)


def test_a_folder_scheduler_class_gives_the_schedule_and_the_sampler_the_solver(tiny_folder):
    den = load_backend(tiny_folder)
    assert "PNDMScheduler" in den.describe() and not den.has_controlnet
    sched = den.make_scheduler("ddim")
    sched.set_timesteps(3)
    assert type(sched).__name__ == "DDIMScheduler" and len(sched.timesteps) == 3
    assert sched.config.beta_schedule == "scaled_linear"
    f = gsvc.run(scenario(tiny_folder, "cvsc", sampler="dpm")).frames
    assert f["unet_evals"].tolist() == [3, 2, 3, 2] and f["psnr_db"].notna().all()


def test_the_controlnet_runs_beside_the_unet_on_the_semantic_map(kl_folder):
    den = load_backend(kl_folder)
    labels = np.zeros((SIDE, SIDE), np.uint8)
    cond = den.condition(1, SIDE, labels=[labels])
    assert cond.control.shape == (1, 3, SIDE, SIDE)
    with Calls(den.unet) as unet, Calls(den.controlnet) as cn:
        den.example_evaluation(2, SIDE)()
        den.predict(torch.zeros(1, 4, 16, 16), torch.tensor(500), cond)
        den.predict(torch.zeros(1, 4, 16, 16), torch.tensor(500), den.condition(1, SIDE))  # no map: UNet alone
    assert (unet.n, cn.n) == (3, 2)


@pytest.mark.parametrize("part, says", [
    ("unet", "has no unet/ (a UNet2DConditionModel saved with save_pretrained)"),
    ("vae", "has no vae/ (an AutoencoderKL or AutoencoderTiny"),
    ("scheduler", "has no scheduler/ (a scheduler_config.json"),
    ("prompt_embeds.safetensors", "has no prompt_embeds.safetensors (key 'prompt_embeds'"),
    ("unet/diffusion_pytorch_model.safetensors", "has no safetensors weights in unet/"),
])
def test_a_folder_missing_a_part_is_refused_naming_codec_model_and_the_part(kl_folder, tmp_path, part, says):
    broken = tmp_path / "broken"
    shutil.copytree(kl_folder, broken)
    p = broken / part
    shutil.rmtree(p) if p.is_dir() else p.unlink()
    with pytest.raises(ValueError, match=re.escape(f"codec.model={str(broken)!r} {says}")):
        scenario(str(broken), "cvsc")


def test_bad_model_settings_are_refused_before_anything_runs(kl_folder, tmp_path):
    with pytest.raises(ValueError, match=r"codec\.model='/no/such/folder' is neither 'shipped' nor a folder"):
        scenario("/no/such/folder", "full")
    with pytest.raises(ValueError, match=r"video\.resolution=136 is not served by codec\.model=.*multiples of 16"):
        Scenario(video=dict(resolution=136), codec=dict(name="full", model=kl_folder, lowres="off"))
    with pytest.raises(ValueError, match=r"codec\.weights=.*codec\.model="):
        CodecSpec(name="cvsc", model=kl_folder, weights="w.safetensors")
    with pytest.raises(ValueError, match=r"codec\.model=.*no text_encoder/ to encode codec\.prompt='a street'"):
        scenario(kl_folder, "full", prompt="a street")
    with_text = tmp_path / "with-text"
    shutil.copytree(kl_folder, with_text)
    (with_text / "text_encoder").mkdir()
    (with_text / "tokenizer").mkdir()
    import importlib.util
    if importlib.util.find_spec("transformers") is None:  # the text-encoder path says what it needs
        with pytest.raises(ValueError, match=r"codec\.model=.*codec\.prompt='a street'.*'transformers' package"):
            scenario(str(with_text), "full", prompt="a street")
    Scenario(video=dict(resolution=1024, seconds=0.2), codec=dict(name="cvsc", model=kl_folder))  # served: accepted


def test_a_folder_with_a_controlnet_timed_by_a_gpu_profile_must_count_it(kl_folder, tiny_folder):
    rx = dict(latency="profile:sd15-rtx4090")
    with pytest.raises(ValueError, match="receiver.controlnet"):
        Scenario(video=dict(resolution=SIDE), codec=dict(name="cvsc", model=kl_folder), receiver=rx)
    Scenario(video=dict(resolution=SIDE), codec=dict(name="cvsc", model=kl_folder), receiver={**rx, "controlnet": "on"})
    Scenario(video=dict(resolution=SIDE), codec=dict(name="cvsc", model=tiny_folder), receiver=rx)  # no ControlNet


def test_the_vae_encodes_a_plan_counts_take_simulated_time(kl_folder):
    """anchor_residual takes each delta's start (its anchor made to agree with its low-res frame) into
    latent space: one VAE encode the profile times (``vae_encode_ms``), the anchors none."""
    from gsvc.timing import LatencyProfile

    def run(encode_ms, decode="real"):
        prof = LatencyProfile(name="p", eval_ms={str(SIDE): {"1": 2.0}}, vae_decode_ms={str(SIDE): 3.0},
                              vae_encode_ms={str(SIDE): encode_ms} if encode_ms else {})
        sc = scenario(kl_folder, "anchor_residual").updated({"receiver.latency": prof, "receiver.decode": decode})
        f = gsvc.run(sc).frames
        return f, (f["decode_done_ms"] - f["decode_start_ms"]).to_numpy()

    frames, without = run(0.0)
    _, with_encode = run(7.0)
    delta = (~frames["anchor"]).to_numpy()
    assert delta.any() and (~delta).any()
    np.testing.assert_allclose(with_encode - without, np.where(delta, 7.0, 0.0))
    _, timing_only = run(7.0, "timing-only")  # the plans count the same encodes without the model
    np.testing.assert_allclose(timing_only, with_encode)
