"""Roofline decode-time estimates for GPUs nobody lent us.

One evaluation costs ``flops`` and moves ``bytes`` (:mod:`gsvc.timing.flops`); on a GPU with
peak dense FP16 tensor throughput ``peak`` and memory bandwidth ``bw`` it takes

    t_ms = 1e3 * max(flops / (eff_compute * peak), bytes / (eff_memory * bw))

``eff_compute`` and ``eff_memory`` are fitted once (:func:`fit_efficiency`) on the published
SD-1.5 measurements in :data:`FIT_DATA` and frozen in :data:`EFFICIENCY`; the benchmark
``benchmarks/bench_profiles.py`` refits them and prints the data and residuals.

Choices, and why:

* ``peak`` is the datasheet's dense FP16 tensor rate with FP16 accumulate (for the data-center
  parts FP16 and FP32 accumulate run at the same rate; GeForce cards accumulate in FP32 at half
  rate). The fastest published stacks (TensorRT, stable-fast's fused fp16 GEMMs) accumulate in
  FP16; with the FP32-accumulate rate for the GeForce cards the same fit is worse (largest
  factor ~1.7 instead of ~1.4). Both rates are kept in :data:`GPUS`.
* The fit uses, per GPU, the fastest published batch-1 time at stock clocks (the roofline is a
  ceiling; stack overheads are what the efficiencies absorb), and minimises the largest
  |log(estimate / published)| over the fit GPUs (the stated accuracy of the model is that
  largest factor). All five GPUs with an SD-1.5 measurement are fitted; each is also predicted
  from a fit on the other four (leave-one-out), which is the held-out check.
* ``bytes`` counts every op's inputs and outputs once; GPUs with a large L2 (RTX 4090: 72 MB)
  keep much of that traffic on chip, so the memory term is a pessimistic bound. With the fitted
  ``eff_memory`` (~1.0) it binds only on the RTX 4090, which is why the 4090 left out of the fit
  is over-estimated by ~1.8x (leave-one-out); fitted with it, every GPU lands within ~1.3x.
* Not modelled: kernel-launch/CPU overhead, clocks under power limits (T4: 70 W), batch
  efficiency beyond the bytes' weight part. Treat estimates as +/- the fit's largest factor.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .flops import EvalCost

__all__ = ["GpuSpec", "GPUS", "FitPoint", "FIT_DATA", "EFFICIENCY", "gpu_spec", "estimate_ms", "fit_efficiency",
           "fit_residuals"]


@dataclass(frozen=True)
class GpuSpec:
    """Datasheet figures of one GPU.

    ``fp16_tflops``: peak dense FP16 tensor TFLOP/s, FP16 accumulate (the roofline's ``peak``);
    ``fp16_fp32acc_tflops``: the same with FP32 accumulate (None where not found);
    ``mem_bw_gbs``: memory bandwidth, GB/s; ``source``: where each figure was read;
    ``unverified``: figures that were not read in any source (derived or recalled).
    """

    name: str
    label: str
    fp16_tflops: float
    fp16_fp32acc_tflops: float | None
    mem_bw_gbs: float
    memory_gb: float
    source: str
    unverified: tuple[str, ...] = ()


GPUS: dict[str, GpuSpec] = {g.name: g for g in (
    GpuSpec("a100", "A100 SXM 80GB", 312.0, 312.0, 2039.0, 80,
            "glennklockwood.com/garden/processors/A100 (citing the NVIDIA A100 datasheet and Ampere whitepaper): "
            "'FP16 | 312 | 624' (matrix dense | sparse); 'A100 80G SXM4 ... 80 GB HBM2e ... 2.039 GB/s' [sic, 2,039 GB/s]; "
            "FP32 accumulate 312 from the H100 architecture blog Table 3 quoted at forums.developer.nvidia.com/t/218102. "
            "The 40 GB SXM4 has the same FLOPs and 1,555 GB/s."),
    GpuSpec("h100", "H100 SXM 80GB", 989.5, 989.5, 3350.0, 80,
            "archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html (NVIDIA H100 datasheet table): 'FP16 Tensor core "
            "| 1,979 TFLOPS* (SXM)', '* Shown with sparsity. Specifications 1/2 lower without sparsity' -> 989.5 dense; "
            "'GPU memory bandwidth | 3,350 GB/sec'; glennklockwood.com/garden/processors/h100: 'FP16 | 133.8 | 989.4 | "
            "1978.9' (vector | matrix | sparse)."),
    GpuSpec("h200", "H200 SXM 141GB", 989.5, 989.5, 4800.0, 141,
            "aiwiki.ai/wiki/nvidia_h200: '141 GB at 4.8 TB/s ... same Hopper microarchitecture and GH100 silicon as the "
            "NVIDIA H100, so its compute pipeline is functionally identical' -> tensor rate taken = H100 SXM; "
            "lzwjava.github.io/nvidia-h200-gpu-specs-en: 'Memory Bandwidth | 3.35 TB/s | 4.8 TB/s'. CONFLICT: "
            "saulelectric.com labels the 1.97 PFLOPS sparse FP16 figure 'dense'. NVIDIA's H200 datasheet not read."),
    GpuSpec("rtx4090", "GeForce RTX 4090", 330.3, 165.2, 1008.0, 24,
            "gigagpu.com (RTX 4090 dense TFLOPS table): 'BF16 / FP16 (FP32 accum) | 165.2 | 330.3', 'FP16 (FP16 accum) "
            "| 330.3 | 660.6' (dense | sparse); waredb.com/processor/nvidia-geforce-rtx-4090: 'FP16: 165.15 TFLOPS, "
            "with sparsity: 330.30 TFLOPS', 'bandwidth up to 1008 GB/s'. NVIDIA's Ada whitepaper appendix not read."),
    GpuSpec("rtx3090", "GeForce RTX 3090", 142.0, 71.0, 936.0, 24,
            "holynerdvana.blogspot.com/2022/10/nvidia-geforce-rtx-3090-specifications.html: 'FP16 TFLOPS (Sparsity) "
            "142 (285)', 'Bandwidth (GB/s) 936'. The FP32-accumulate rate 71 (half rate on GeForce GA102) is recalled "
            "from the GA102 whitepaper appendix, which was not read.", unverified=("fp16_fp32acc_tflops",)),
    GpuSpec("l4", "L4", 121.0, None, 300.0, 24,
            "grokipedia.com/page/NVIDIA_L4_vs_L40S (quoting the NVIDIA L4 datasheet): '24 GB GDDR6 memory at 300 GB/s "
            "bandwidth, ... 242 TFLOPS in FP16 Tensor Core operations (with sparsity)' -> 121 dense."),
    GpuSpec("t4", "T4", 65.0, 65.0, 320.0, 16,
            "geektopia.es (T4 launch): '8.1 TFLOPS ... FP32 o los 65 TFLOPS' (mixed FP16/FP32); hmc-tech.com: '65.13 "
            "TFLOPS Tensor (FP16 Accumulate) ... 65.13 TFLOPS Tensor (FP32 Accumulate)'; pcpartcomparison.com: '16 GB "
            "... bandwidth of 320.0 GB/s', boost 1590 MHz, 70 W. Turing has no structured sparsity."),
    GpuSpec("orin-agx", "Jetson AGX Orin 64GB", 42.5, None, 204.8, 64,
            "mzph.cn/web/30785.shtml (summary of NVIDIA's Jetson AGX Orin technical brief): '64 Tensor cores - 170 "
            "sparse TOPs INT8' -> DERIVED 170 / 2 (dense) / 2 (FP16 = half the INT8 rate) = 42.5 TFLOP/s at the MAXN "
            "GPU clock; 204.8 GB/s (256-bit LPDDR5-6400) is the commonly cited figure but was not read in any source.",
            unverified=("fp16_tflops", "mem_bw_gbs")),
)}


def gpu_spec(name: str) -> GpuSpec:
    """The datasheet entry for ``name`` (case-insensitive); a clear error lists the valid names."""
    key = name.lower()
    if key not in GPUS:
        raise ValueError(f"--roofline / gpu={name!r} is not a known GPU; valid: {', '.join(GPUS)}")
    return GPUS[key]


@dataclass(frozen=True)
class FitPoint:
    """A published SD-1.5 UNet time: ``ms_per_sample`` at 512 px (64x64 latent), fp16, per sample of a
    UNet batch of ``unet_batch`` samples (CFG: 2 per image), with its ``source``."""

    gpu: str
    ms_per_sample: float
    unet_batch: int
    stack: str
    source: str


_DIFFUSERS = ("huggingface/diffusers, docs/source/en/optimization/torch2.0.md, commit "
              "8a79d8ec3973e78065f13638eefc0dc7d4dc6009 (tag v0.30.0)")
_STABLE_FAST = "chengzeyi/stable-fast, README.md, commit 2b9b84e9d94b36cf5484c261b410c177836ebffe"

#: The fastest published batch-1 (one image, CFG on: 2 UNet samples per step) time per GPU at stock
#: clocks. Excluded: ONNX Runtime's T4 table (clocks locked at 990 MHz) and end-to-end times
#: (they include the text encoder and VAE).
FIT_DATA: tuple[FitPoint, ...] = (
    FitPoint("a100", 8.091, 2, "stable-fast (xformers, Triton, CUDA graph)",
             f"{_STABLE_FAST}; raw '### A100 ... stable-fast (with xformers & Triton) | 61.8 it/s'; "
             "1000/61.8 = 16.18 ms per step / 2 samples (CFG) = 8.09 ms. A100 variant not stated."),
    FitPoint("h100", 4.78, 2, "stable-fast (xformers, Triton, CUDA graph)",
             f"{_STABLE_FAST}; raw '### H100 ... stable-fast (with xformers & Triton) | 104.6 it/s'; "
             "1000/104.6 = 9.56 ms per step / 2 samples (CFG) = 4.78 ms. H100 variant (SXM/PCIe) not stated."),
    FitPoint("rtx4090", 10.038, 2, "torch.compile (PyTorch nightly 2023-05)",
             f"{_DIFFUSERS}; raw '### RTX 4090 (batch size: 1) ... SD - txt2img | 40.5 | 41.89 | 44.65 | 49.81' "
             "(it/s; last column torch nightly - compile); 1000/49.81 = 20.08 ms per step / 2 = 10.04 ms."),
    FitPoint("rtx3090", 19.463, 2, "torch.compile (PyTorch nightly 2023-05)",
             f"{_DIFFUSERS}; raw '### RTX 3090 (batch size: 1) ... SD - txt2img | 22.56 | 22.84 | 23.84 | 25.69' "
             "(it/s); 1000/25.69 = 38.93 ms per step / 2 = 19.46 ms."),
    FitPoint("t4", 66.138, 2, "torch.compile (PyTorch nightly 2023-05)",
             f"{_DIFFUSERS}; raw '### T4 (batch size: 1) ... SD - txt2img | 6.9 | 6.95 | 7.3 | 7.56' (it/s); "
             "1000/7.56 = 132.28 ms per step / 2 = 66.14 ms."),
)

#: ``(eff_compute, eff_memory)`` from :func:`fit_efficiency` on :data:`FIT_DATA` with the SD-1.5 UNet's
#: counted cost at UNet batch 2 (frozen here; ``tests/test_profiles.py`` checks that a refit agrees).
EFFICIENCY: tuple[float, float] = (0.2437, 1.036)


def estimate_ms(cost: EvalCost, gpu: str | GpuSpec, efficiency: tuple[float, float] = EFFICIENCY) -> float:
    """Roofline time of one evaluation of ``cost`` on ``gpu``, ms (the whole batch of ``cost``)."""
    g = gpu if isinstance(gpu, GpuSpec) else gpu_spec(gpu)
    eff_c, eff_m = efficiency
    compute_s = cost.flops / (eff_c * g.fp16_tflops * 1e12)
    memory_s = cost.bytes / (eff_m * g.mem_bw_gbs * 1e9)
    return 1e3 * max(compute_s, memory_s)


def _per_sample_ms(cost: EvalCost, p: FitPoint, eff) -> float:
    return estimate_ms(cost, p.gpu, eff) / cost.batch


def fit_efficiency(cost: EvalCost, points: Iterable[FitPoint] = FIT_DATA) -> tuple[float, float]:
    """``(eff_compute, eff_memory)`` minimising the largest |log(estimate / published)| over ``points``
    (ties: the smaller sum of squares), on a log grid. ``cost``: the SD-1.5 UNet at the points' UNet batch."""
    points = list(points)
    eff_c = np.geomspace(0.02, 1.0, 400)[None, :, None]  # [1, C, 1]
    eff_m = np.geomspace(0.05, 5.0, 200)[None, None, :]  # [1, 1, M]
    g = [gpu_spec(p.gpu) for p in points]
    compute_ms = np.array([1e3 * cost.flops / (x.fp16_tflops * 1e12) for x in g])[:, None, None] / eff_c
    memory_ms = np.array([1e3 * cost.bytes / (x.mem_bw_gbs * 1e9) for x in g])[:, None, None] / eff_m
    published = np.array([p.ms_per_sample for p in points])[:, None, None]
    r = np.log(np.maximum(compute_ms, memory_ms) / cost.batch / published)  # [P, C, M]
    worst = np.round(np.abs(r).max(axis=0), 6)
    score = worst + 1e-9 * (r ** 2).sum(axis=0)  # ties: the smaller sum of squares
    ic, im = np.unravel_index(np.argmin(score), score.shape)
    return float(eff_c[0, ic, 0]), float(eff_m[0, 0, im])


def fit_residuals(cost: EvalCost, efficiency: tuple[float, float] = EFFICIENCY,
                  points: Iterable[FitPoint] = FIT_DATA) -> list[dict]:
    """Per fit point: published and estimated ms per sample, their ratio, and the leave-one-out estimate
    (fitted on the other points) and its ratio."""
    points = list(points)
    rows = []
    for p in points:
        est = _per_sample_ms(cost, p, efficiency)
        loo_eff = fit_efficiency(cost, [q for q in points if q is not p])
        loo = _per_sample_ms(cost, p, loo_eff)
        rows.append(dict(gpu=p.gpu, published_ms=p.ms_per_sample, estimate_ms=est, ratio=est / p.ms_per_sample,
                         loo_estimate_ms=loo, loo_ratio=loo / p.ms_per_sample, stack=p.stack))
    return rows


def roofline_profile(gpu: str, model="sd15", resolutions=(512,), batches=(1, 4, 16), name: str | None = None,
                     efficiency: tuple[float, float] = EFFICIENCY, log=lambda s: None):
    """A :class:`~gsvc.timing.profile.LatencyProfile` of ``kind="roofline"`` for ``model`` on ``gpu``.

    ``eval_ms[res][b]`` = :func:`estimate_ms` of one counted evaluation of ``b`` frames at ``res`` px.
    For ``model="sd15"`` the VAE decode and encode per frame and the ControlNet factor
    ((UNet + ControlNet) / UNet time at batch 1) are estimated the same way. Every number's
    derivation is in ``sources``.
    """
    import datetime as _dt

    from .flops import count_model
    from .profile import LatencyProfile
    g = gpu_spec(gpu)
    eff_c, eff_m = efficiency
    how = (f"roofline: t = max(FLOPs / ({eff_c:.4f} x {g.fp16_tflops} TFLOP/s), bytes / ({eff_m:.4f} x "
           f"{g.mem_bw_gbs} GB/s)); FLOPs by torch's FlopCounterMode, bytes = every op's fp16 inputs and outputs "
           f"once (gsvc.timing.flops); efficiencies fitted on published SD-1.5 times (gsvc.timing.roofline.FIT_DATA); "
           f"datasheet: {g.source}")
    eval_ms, sources, costs = {}, {}, {}
    for res in resolutions:
        eval_ms[str(res)] = {}
        for b in batches:
            cost = costs[res, b] = count_model(model, b, res)
            ms = estimate_ms(cost, g, efficiency)
            eval_ms[str(res)][str(b)] = round(ms, 4)
            sources[f"eval_ms.{res}.{b}"] = (f"ESTIMATE, not measured: {cost.tflop:.4f} TFLOP, {cost.gbytes:.3f} GB "
                                             f"moved -> {ms:.4f} ms; {how}")
            log(f"  {res:>4} px  batch {b:>2}: {cost.tflop:9.4f} TFLOP {cost.gbytes:9.3f} GB -> {ms:9.3f} ms")
    extra = {}
    if model == "sd15":
        vae_dec, vae_enc = {}, {}
        for res in resolutions:
            for part, table in (("decode", vae_dec), ("encode", vae_enc)):
                cost = count_model(f"sd15-vae-{part}", 1, res)
                table[str(res)] = round(estimate_ms(cost, g, efficiency), 3)
                sources[f"vae_{part}_ms.{res}"] = (f"ESTIMATE: SD-1.5 VAE {part} of one {res} px frame, {cost.tflop:.3f} "
                                                  f"TFLOP, {cost.gbytes:.3f} GB -> {table[str(res)]} ms; {how}")
        res = resolutions[0]
        unet_ms = estimate_ms(costs.get((res, 1)) or count_model("sd15", 1, res), g, efficiency)
        cn_ms = estimate_ms(count_model("sd15-controlnet", 1, res), g, efficiency)
        factor = round(1.0 + cn_ms / unet_ms, 3)
        sources["controlnet_factor"] = (f"ESTIMATE: 1 + ControlNet / UNet roofline time at {res} px, batch 1 = 1 + "
                                        f"{cn_ms:.3f} / {unet_ms:.3f}; {how}")
        extra = dict(vae_decode_ms=vae_dec, vae_encode_ms=vae_enc, controlnet_factor=factor)
    model_name = model if isinstance(model, str) else type(model).__name__
    for f in ("overhead_ms", "per_frame_ms", "jitter"):
        sources[f] = "not estimated (0): kernel launch, scheduler and host overheads are outside the roofline"
    return LatencyProfile(
        name=name or f"{model_name}-{g.name}-roofline".replace("/", "_"),
        device=f"{g.label} (roofline estimate, not measured)", kind="roofline",
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        model=f"{model_name} (work counted on torch's meta device; weights do not change it)",
        eval_ms=eval_ms, sources=sources, **extra,
        notes=(f"ROOFLINE ESTIMATE for {g.label}, not a measurement. {how}. The fit's largest factor between "
               f"estimate and published time is ~1.3x over A100, H100, RTX 4090, RTX 3090 and T4 (leave-one-out: up "
               f"to ~1.8x, the RTX 4090); small models (the shipped one) are launch-bound on a real GPU, which the "
               f"roofline does not model, so their estimates are far too low. Unverified datasheet figures: "
               f"{', '.join(g.unverified) or 'none'}."))


__all__ += ["roofline_profile"]
