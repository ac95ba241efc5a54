"""The shipped back-end: a pixel-space conditional denoiser, its weights, noise schedule and conditioning.

:class:`PixelDenoiser` implements :class:`gsvc.codecs.backends.Denoiser` (``codec.model="shipped"``).

Images are ``[B, 3, H, W]`` float32 in [-1, 1] inside the model. The conditioning
input (:meth:`Denoiser.condition`) is concatenated to the noisy image on the channel
axis (see :mod:`gsvc.codecs.denoiser` for its planes); every part may be absent. The UNet predicts
``v`` (v-prediction, Salimans & Ho 2022); the DDIM schedule uses trailing timestep
spacing and a zero-SNR terminal step (Lin et al. 2024), so few-step sampling starts
from pure noise.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from ..video.classes import NUM_CLASSES
from .denoiser import COND_CHANNELS, DenoiserConfig, build_unet

__all__ = ["PixelDenoiser", "Denoiser", "make_scheduler", "default_weights_path", "save_denoiser", "served_resolutions", "SCHEDULE"]

#: noise schedule shared by training and every sampler
SCHEDULE = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                prediction_type="v_prediction", rescale_betas_zero_snr=True, timestep_spacing="trailing",
                clip_sample=False)


def make_scheduler(kind: str = "ddim"):
    """A fresh scheduler of the shared schedule: ``"ddim"`` or ``"dpm"`` (DPM-Solver++ multistep)."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
    if kind == "ddim":
        return DDIMScheduler(**SCHEDULE, set_alpha_to_one=True)
    if kind == "dpm":
        cfg = {k: v for k, v in SCHEDULE.items() if k != "clip_sample"}
        return DPMSolverMultistepScheduler(**cfg, algorithm_type="dpmsolver++", final_sigmas_type="zero")
    raise ValueError(f"codec.sampler={kind!r} is not 'ddim' or 'dpm'")


def default_weights_path() -> Path:
    """The shipped weights (one file for every resolution the model serves)."""
    return Path(str(resources.files("gsvc.codecs") / "weights" / "denoiser.safetensors"))


def weights_config(path: Path) -> DenoiserConfig:
    """The architecture of the weights at ``path``, from the ``.json`` beside them (reads no weights)."""
    meta = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
    cfg = {"residual_lowres": False, **meta.get("config", {})}  # weights from before the field: image space
    return DenoiserConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})


def served_resolutions(path: str | Path | None = None) -> tuple[int, ...]:
    """Frame sides (px) the weights at ``path`` (None: the shipped ones) serve, from the config
    beside them; reads no weights, so scenarios can be checked before anything runs."""
    p = Path(path) if path is not None else default_weights_path()
    return tuple(weights_config(p).resolutions_px) if p.exists() else ()


def save_denoiser(den: "PixelDenoiser", path: str | Path, meta: dict | None = None) -> Path:
    """Write ``path`` (float16 safetensors) and ``path.json`` (config + ``meta``)."""
    import torch
    from safetensors.torch import save_file
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in den.unet.state_dict().items()}, str(p))
    p.with_suffix(".json").write_text(json.dumps({"config": den.cfg.to_dict(), **(meta or {})}, indent=1) + "\n")
    return p


class PixelDenoiser:
    """The shipped UNet with its config, on a device, in eval mode (a :class:`~gsvc.codecs.backends.Denoiser`).

    It denoises images (``space="pixel"``, ``scale_factor=1``) and is conditioned by
    concatenating :meth:`condition`'s planes to the noisy image; one evaluation is one UNet call.
    """

    space = "pixel"
    scale_factor = 1
    has_controlnet = False
    #: no image <-> model conversion needs a network here
    vae_encodes = vae_decodes = 0

    def __init__(self, unet, cfg: DenoiserConfig, device: str = "cpu", meta: dict | None = None):
        import torch
        self.unet, self.cfg, self.device, self.meta = unet.to(device).eval(), cfg, device, meta or {}
        self._alphas_cumprod = make_scheduler().alphas_cumprod.to(device=device, dtype=torch.float32)

    @property
    def resolutions_px(self) -> tuple[int, ...]:
        return tuple(self.cfg.resolutions_px)

    def make_scheduler(self, kind: str = "ddim"):
        """A fresh scheduler of the shared :data:`SCHEDULE` (``codec.sampler``: ``"ddim"`` or ``"dpm"``)."""
        return make_scheduler(kind)

    def latent_shape(self, side_px: int) -> tuple[int, int, int]:
        return (3, side_px, side_px)

    def noise_shape(self, cond) -> tuple[int, int, int, int]:
        """``cond`` ``[B, COND_CHANNELS, H, W]`` -> ``(B, 3, H, W)``."""
        b, _, h, w = cond.shape
        return (b, 3, h, w)

    def predict(self, x_t, t, cond):
        """``v`` ``[B, 3, H, W]`` for the noisy image ``x_t`` ``[B, 3, H, W]`` at timestep ``t``
        (a scalar or ``[B]``).

        With ``cfg.residual_lowres`` the network sees and predicts the *residual* against the
        base ``b``, the frame's upsampled low-res plane (zero, mid-grey, where the frame has
        none): ``x_t = a x_0 + s e`` is ``r_t + a b`` for the residual ``r_0 = x_0 - b``, and
        ``v = a e - s x_0 = v_r - s b``, so the network gets ``x_t - a b`` and its ``v_r``
        becomes ``v_r - s b`` (``a``, ``s``: the square roots of alpha-bar and 1 - alpha-bar at
        ``t``). Everything outside this method (sampler, references, cached samples) stays in
        image space. A network that predicts no residual therefore decodes to the low-res
        frame upsampled: generation adds to plain upsampling instead of replacing it (residual
        diffusion for super-resolution: Yue et al., "ResShift", NeurIPS 2023).
        """
        import torch
        if not self.cfg.residual_lowres:
            return self.unet(torch.cat([x_t, cond], 1), t).sample
        k = NUM_CLASSES
        base = cond[:, k + 4:k + 7] * cond[:, k + 7:k + 8]
        ab = self._alphas_cumprod[torch.as_tensor(t, device=self.device).long()].reshape(-1, 1, 1, 1)
        a, s = ab.sqrt(), (1 - ab).sqrt()
        return self.unet(torch.cat([x_t - a * base, cond], 1), t).sample - s * base

    def example_evaluation(self, batch: int, side_px: int):
        """One evaluation on random inputs: image ``[batch, 3, side, side]``, zero conditions, t = 500."""
        import torch
        g = torch.Generator().manual_seed(0)
        x = torch.randn(batch, 3, side_px, side_px, generator=g).to(self.device)
        cond = torch.zeros(batch, COND_CHANNELS, side_px, side_px, device=self.device)
        t = torch.full((batch,), 500, device=self.device)
        return lambda: self.predict(x, t, cond)

    def describe(self) -> str:
        n = sum(p.numel() for p in self.unet.parameters())
        src = self.meta.get("weights", "shipped weights")
        return (f"shipped pixel-space UNet2DModel ({n / 1e6:.2f} M parameters, v-prediction, "
                f"{COND_CHANNELS} condition planes concatenated), {src}")

    @classmethod
    def fresh(cls, cfg: DenoiserConfig = DenoiserConfig(), seed: int = 0, device: str = "cpu") -> "PixelDenoiser":
        """Randomly initialised (for training, timing and tests of plumbing)."""
        import torch
        torch.manual_seed(seed)
        return cls(build_unet(cfg), cfg, device)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> "PixelDenoiser":
        """Load trained weights (``safetensors`` + ``.json`` config beside it); default: the shipped ones."""
        import torch
        from safetensors.torch import load_file
        p = Path(path) if path is not None else default_weights_path()
        if not p.exists():
            raise FileNotFoundError(
                f"denoiser weights not found at {p}; train them with `gsvc train {p.parent}` "
                "(about 40 minutes on a 2-core CPU) or pass the path of weights you trained")
        meta = json.loads(p.with_suffix(".json").read_text()) if p.with_suffix(".json").exists() else {}
        cfg = weights_config(p)
        unet = build_unet(cfg)
        state = {k: v.to(torch.float32) for k, v in load_file(str(p)).items()}
        unet.load_state_dict(state)
        return cls(unet, cfg, device, {**meta, "weights": str(p)})

    def condition(self, batch: int, side_px: int, *, labels=None, ref=None, ref_mask=None, lowres=None,
                  structure=None):
        """Conditioning tensor ``[batch, COND_CHANNELS, side_px, side_px]``.

        Every part is optional: None (absent for the whole batch), an array with a leading
        batch axis, or a list with one array or None per item.

        Args:
            labels: ``[H, W]`` uint8 class ids per item.
            ref: ``[H, W, 3]`` float in [0, 1] per item (a motion-compensated reference).
            ref_mask: ``[H, W]`` in [0, 1] per item (1 = the reference shows this pixel);
                all ones where a reference is given without a mask.
            lowres: ``[n, n, 3]`` float in [0, 1] per item, any ``n`` dividing ``side_px``
                (upsampled bilinearly here).
            structure: ``[H, W]`` {0, 1} edge map per item.
        """
        import torch
        import torch.nn.functional as F
        b, s, dev = batch, side_px, self.device

        def items(part):
            return [None] * b if part is None else list(part)

        out = torch.zeros(b, COND_CHANNELS, s, s, device=dev)
        k = NUM_CLASSES
        for i, lab in enumerate(items(labels)):
            if lab is not None:
                ids = torch.as_tensor(np.asarray(lab, np.int64), device=dev).clamp(0, k - 1)
                out[i, :k] = F.one_hot(ids, k).permute(2, 0, 1).float()
        masks = items(ref_mask)
        for i, r in enumerate(items(ref)):
            if r is not None:
                m = torch.ones(s, s, device=dev) if masks[i] is None else \
                    torch.as_tensor(np.asarray(masks[i], np.float32), device=dev)
                out[i, k:k + 3] = self.to_model(np.asarray(r)[None])[0] * m
                out[i, k + 3] = m
        for i, lr in enumerate(items(lowres)):
            if lr is not None:
                out[i, k + 4:k + 7] = F.interpolate(self.to_model(np.asarray(lr)[None]), size=(s, s), mode="bilinear",
                                                    align_corners=False)[0]
                out[i, k + 7] = 1.0
        for i, st in enumerate(items(structure)):
            if st is not None:
                out[i, k + 8] = torch.as_tensor(np.asarray(st, np.float32), device=dev) * 2 - 1
                out[i, k + 9] = 1.0
        return out

    def to_model(self, rgb: np.ndarray):
        """``[B, H, W, 3]`` in [0, 1] -> ``[B, 3, H, W]`` in [-1, 1]."""
        import torch
        x = torch.as_tensor(np.asarray(rgb, np.float32), device=self.device)
        return x.permute(0, 3, 1, 2) * 2 - 1

    @staticmethod
    def to_image(x) -> np.ndarray:
        """``[B, 3, H, W]`` in [-1, 1] -> ``[B, H, W, 3]`` float32 in [0, 1]."""
        return ((x.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)


#: the historic name of the shipped back-end (``gsvc train`` and ``gsvc calibrate`` build it by this name)
Denoiser = PixelDenoiser
