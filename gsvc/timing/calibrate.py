"""``gsvc calibrate``: measure decode costs on this device and write a latency profile.

It times the shared denoiser (:mod:`gsvc.codecs.denoiser`, random weights: the time of
a forward pass does not depend on their values) for each resolution and batch size,
the per-frame work around it (building the conditioning input and one DDIM update),
and the spread of repeated decodes, and stores them with their provenance (device,
date, library versions) as a :class:`~gsvc.timing.profile.LatencyProfile`.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..codecs.denoiser import DenoiserConfig, build_unet
from ..codecs.model import Denoiser, weights_config, default_weights_path
from .profile import ServiceJitter, LatencyProfile

__all__ = ["calibrate", "write_profile", "build_sd15_unet", "SD15_UNET"]

#: Stable Diffusion 1.5's UNet (runwayml/stable-diffusion-v1-5, unet/config.json): 860 M parameters.
#: Its forward time does not depend on the weights, so random ones time a production-size receiver.
SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                 block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8,
                 down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                   "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"))


def build_sd15_unet(dtype=None):
    """An SD-1.5-shaped ``UNet2DConditionModel`` with random weights (architecture-true timing only)."""
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel(**SD15_UNET)
    return unet if dtype is None else unet.to(dtype)


def _median_ms(fn: Callable[[], object], repeats: int, sync: Callable[[], None]) -> tuple[float, np.ndarray]:
    fn()  # warm-up (allocations, kernel selection)
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    arr = np.array(times)
    return float(np.median(arr)), arr


def _device_name(device: str) -> str:
    import torch
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def calibrate(name: str, device: str = "cpu", resolutions: Sequence[int] = (64, 128, 256),
              batches: Sequence[int] = (1, 2, 4, 8), repeats: int = 5,
              log: Callable[[str], None] = print, model: str = "gsvc",
              weights: str | Path | None = None) -> LatencyProfile:
    """Measure and return a profile on ``device``.

    ``model="gsvc"`` times the shared denoiser, in the architecture of ``weights`` (their
    ``.json``; None: the shipped weights), at image ``resolutions``; ``model="sd15"``
    times an SD-1.5-shaped UNet (fp16 on CUDA) whose latent is 1/8 of each image
    resolution, with a 77-token text context, as a production-size receiver would run.
    """
    if model == "sd15":
        return _calibrate_sd15(name, device, resolutions, batches, repeats, log)
    if model != "gsvc":
        raise ValueError(f"model={model!r} is not 'gsvc' or 'sd15'")
    import diffusers
    import torch
    from diffusers import DDIMScheduler

    from ..video.classes import NUM_CLASSES

    path = Path(weights) if weights is not None else default_weights_path()
    if weights is not None and not path.exists():
        raise FileNotFoundError(f"--weights {path}: no such weights file")
    cfg = weights_config(path) if path.exists() else DenoiserConfig()
    torch.manual_seed(0)
    unet = build_unet(cfg).to(device).eval()
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    eval_ms: dict[str, dict[str, float]] = {}
    with torch.no_grad():
        for res in resolutions:
            eval_ms[str(res)] = {}
            for b in batches:
                x = torch.randn(b, cfg.in_channels, res, res, device=device)
                t = torch.full((b,), 500, device=device)
                ms, _ = _median_ms(lambda: unet(x, t), repeats, sync)
                eval_ms[str(res)][str(b)] = round(ms, 3)
                log(f"  {res:>4} px  batch {b:>2}: {ms:8.2f} ms per evaluation")

        res = 64 if 64 in resolutions else resolutions[0]
        sched = DDIMScheduler(num_train_timesteps=1000)
        sched.set_timesteps(4)
        den = Denoiser(unet, cfg, device)
        rng = np.random.default_rng(0)
        labels = rng.integers(0, NUM_CLASSES, (1, res, res))
        ref, lowres = rng.random((1, res, res, 3)), rng.random((1, res // 4, res // 4, 3))
        img = torch.rand(1, 3, res, res, device=device)

        def per_frame():  # the default conditioning (labels, reference + mask, low-res frame) and one DDIM update
            cond = den.condition(1, res, labels=labels, ref=ref, ref_mask=np.ones((1, res, res)), lowres=lowres)
            return sched.step(cond[:, :3], sched.timesteps[0], img).prev_sample

        per_frame_ms, _ = _median_ms(per_frame, repeats * 4, sync)
        x = torch.randn(1, cfg.in_channels, res, res, device=device)
        t = torch.full((1,), 500, device=device)
        _, samples = _median_ms(lambda: unet(x, t), max(repeats * 4, 20), sync)
    deviations = samples - np.median(samples)
    classic_ms = _classic_decode_ms(res, log)
    encode_ms = _semantic_encode_ms(res, repeats, log)
    import simpy
    return LatencyProfile(
        name=name, device=_device_name(device),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=f"gsvc shared denoiser UNet2DModel {json.dumps(cfg.to_dict())}",
        versions={"torch": torch.__version__, "diffusers": diffusers.__version__, "simpy": simpy.__version__,
                  "python": platform.python_version()},
        eval_ms=eval_ms, overhead_ms=0.0, per_frame_ms=round(per_frame_ms, 3),
        classic_ms=round(classic_ms, 3), encode_ms=round(encode_ms, 3),
        jitter=ServiceJitter(dist="empirical", samples_ms=tuple(round(float(d), 3) for d in deviations)),
        notes=(f"measured by `gsvc calibrate` on {device}; jitter = deviations of {len(samples)} repeated "
               f"batch-1 evaluations at {res} px from their median; classic_ms = median H.264 frame decode "
               f"(PyAV, {res} px); encode_ms = median encode of a cvsc delta frame at its default conditioning "
               f"(motion, labels, low-res frame) "
               f"at {res} px"),
    )


def _classic_decode_ms(resolution: int, log) -> float:
    from .classic_decode import measure_decode_ms
    ms = measure_decode_ms("h264", resolution)
    log(f"  H.264 decode at {resolution} px: {ms:.3f} ms per frame")
    return ms


def _semantic_encode_ms(resolution: int, repeats: int, log) -> float:
    """Median time to encode a delta frame of the diffusion codecs at their default conditioning
    (motion field, inter-coded labels and low-res frame)."""
    from ..video import VideoSpec, open_source
    from ..codecs.registry import make_codec
    from ..codecs.spec import CodecSpec
    video = VideoSpec(seconds=max(1.0, (repeats * 4 + 2) / 15), fps=15, resolution=resolution)
    frames = open_source(video, 0).read_all()
    # a cvsc sender: building it loads no weights (only its decoder would)
    enc = make_codec(CodecSpec(name="cvsc", gop=10_000), video).encoder(0)
    enc.encode(frames[0], [])
    times = []
    for f in frames[1:]:
        t0 = time.perf_counter()
        enc.encode(f, [])
        times.append((time.perf_counter() - t0) * 1e3)
    ms = float(np.median(times))
    log(f"  semantic encode at {resolution} px: {ms:.3f} ms per frame")
    return ms


def _calibrate_sd15(name, device, resolutions, batches, repeats, log) -> LatencyProfile:
    import diffusers
    import torch
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    unet = build_sd15_unet(dtype).to(device).eval()
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    eval_ms: dict[str, dict[str, float]] = {}
    samples = np.zeros(0)
    with torch.no_grad():
        for res in resolutions:
            side = max(8, res // 8)
            eval_ms[str(res)] = {}
            for b in batches:
                x = torch.randn(b, 4, side, side, device=device, dtype=dtype)
                ctx = torch.randn(b, 77, 768, device=device, dtype=dtype)
                t = torch.full((b,), 500, device=device)
                ms, samples = _median_ms(lambda: unet(x, t, encoder_hidden_states=ctx), repeats, sync)
                eval_ms[str(res)][str(b)] = round(ms, 3)
                log(f"  {res:>4} px (latent {side})  batch {b:>2}: {ms:8.2f} ms per evaluation")
    return LatencyProfile(
        name=name, device=_device_name(device),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=f"SD-1.5-shaped UNet2DConditionModel (random weights, {dtype}) {json.dumps(SD15_UNET)}",
        versions={"torch": torch.__version__, "diffusers": diffusers.__version__, "python": platform.python_version()},
        eval_ms=eval_ms,
        jitter=ServiceJitter(dist="empirical", samples_ms=tuple(round(float(d), 3) for d in samples - np.median(samples))),
        notes=f"measured by `gsvc calibrate --model sd15` on {device}; VAE decode not included")


def write_profile(profile: LatencyProfile, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(profile.model_dump(mode="json"), indent=2) + "\n")
    return p
