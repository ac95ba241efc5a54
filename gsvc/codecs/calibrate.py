"""``gsvc calibrate``: measure decode costs on this device and write a latency profile.

It times the shared denoiser (:mod:`gsvc.codecs.denoiser`, random weights: the time of
a forward pass does not depend on their values) for each resolution and batch size,
the per-frame work around it (building the conditioning input and one DDIM update),
and the spread of repeated decodes, and stores them with their provenance (device,
date, library versions) as a :class:`~gsvc.codecs.latency.LatencyProfile`.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .denoiser import DenoiserConfig, build_unet
from .latency import JitterSpec, LatencyProfile

__all__ = ["calibrate", "write_profile"]


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


def calibrate(name: str, device: str = "cpu", resolutions: Sequence[int] = (32, 64, 128),
              batches: Sequence[int] = (1, 2, 4, 8), repeats: int = 5,
              log: Callable[[str], None] = print) -> LatencyProfile:
    """Measure and return a profile for the shared denoiser on ``device``."""
    import diffusers
    import torch
    from diffusers import DDIMScheduler

    from ..video.classes import NUM_CLASSES

    cfg = DenoiserConfig()
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
        labels = torch.randint(0, NUM_CLASSES, (1, res, res), device=device)
        img = torch.rand(1, 3, res, res, device=device)

        def per_frame():
            onehot = torch.nn.functional.one_hot(labels, NUM_CLASSES).permute(0, 3, 1, 2).float()
            inp = torch.cat([img, onehot, img, img[:, :1], img], 1)
            return sched.step(inp[:, :3], sched.timesteps[0], img).prev_sample

        per_frame_ms, _ = _median_ms(per_frame, repeats * 4, sync)
        x = torch.randn(1, cfg.in_channels, res, res, device=device)
        t = torch.full((1,), 500, device=device)
        _, samples = _median_ms(lambda: unet(x, t), max(repeats * 4, 20), sync)
    deviations = samples - np.median(samples)
    import simpy
    return LatencyProfile(
        name=name, device=_device_name(device),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=f"gsvc shared denoiser UNet2DModel {json.dumps(cfg.to_dict())}",
        versions={"torch": torch.__version__, "diffusers": diffusers.__version__, "simpy": simpy.__version__,
                  "python": platform.python_version()},
        eval_ms=eval_ms, overhead_ms=0.0, per_frame_ms=round(per_frame_ms, 3),
        jitter=JitterSpec(dist="empirical", samples_ms=tuple(round(float(d), 3) for d in deviations)),
        notes=(f"measured by `gsvc calibrate` on {device}; jitter = deviations of {len(samples)} repeated "
               f"batch-1 evaluations at {res} px from their median"),
    )


def write_profile(profile: LatencyProfile, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(profile.model_dump(mode="json"), indent=2) + "\n")
    return p
