"""The shared conditional denoiser: weights, noise schedule and conditioning input.

Images are ``[B, 3, H, W]`` float32 in [-1, 1] inside the model. The conditioning
input (:meth:`Denoiser.condition`) is concatenated to the noisy image on the channel
axis: one-hot labels (``NUM_CLASSES``), a reference image (3) and its validity mask
(1), and a thumbnail upsampled to full size (3, zeros when absent). The UNet predicts
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
from .denoiser import DenoiserConfig, build_unet

__all__ = ["Denoiser", "make_scheduler", "default_weights_path", "save_denoiser", "SCHEDULE"]

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


def default_weights_path(resolution: int = 64) -> Path:
    return Path(str(resources.files("gsvc.codecs") / "weights" / f"denoiser-{resolution}.safetensors"))


def save_denoiser(den: "Denoiser", path: str | Path, meta: dict | None = None) -> Path:
    """Write ``path`` (float16 safetensors) and ``path.json`` (config + ``meta``)."""
    import torch
    from safetensors.torch import save_file
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in den.unet.state_dict().items()}, str(p))
    p.with_suffix(".json").write_text(json.dumps({"config": den.cfg.to_dict(), **(meta or {})}, indent=1) + "\n")
    return p


class Denoiser:
    """The UNet with its config, on a device, in eval mode."""

    def __init__(self, unet, cfg: DenoiserConfig, device: str = "cpu", meta: dict | None = None):
        self.unet, self.cfg, self.device, self.meta = unet.to(device).eval(), cfg, device, meta or {}

    @classmethod
    def fresh(cls, cfg: DenoiserConfig = DenoiserConfig(), seed: int = 0, device: str = "cpu") -> "Denoiser":
        """Randomly initialised (for training, timing and tests of plumbing)."""
        import torch
        torch.manual_seed(seed)
        return cls(build_unet(cfg), cfg, device)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu") -> "Denoiser":
        """Load trained weights (``safetensors`` + ``.json`` config beside it); default: the shipped ones."""
        import torch
        from safetensors.torch import load_file
        p = Path(path) if path is not None else default_weights_path()
        if not p.exists():
            raise FileNotFoundError(
                f"denoiser weights not found at {p}; train them with `gsvc train {p.parent}` "
                "(about 40 minutes on a 2-core CPU) or pass the path of weights you trained")
        meta = json.loads(p.with_suffix(".json").read_text()) if p.with_suffix(".json").exists() else {}
        cfg = DenoiserConfig(**{k: tuple(v) if isinstance(v, list) else v
                                for k, v in meta.get("config", {}).items()})
        unet = build_unet(cfg)
        state = {k: v.to(torch.float32) for k, v in load_file(str(p)).items()}
        unet.load_state_dict(state)
        return cls(unet, cfg, device, meta)

    def condition(self, labels: np.ndarray, ref: np.ndarray | None = None, ref_mask: np.ndarray | None = None,
                  thumb: np.ndarray | None = None):
        """Conditioning tensor ``[B, NUM_CLASSES + 7, H, W]``.

        Args:
            labels: ``[B, H, W]`` uint8 class ids.
            ref: ``[B, H, W, 3]`` float in [0, 1] or None.
            ref_mask: ``[B]`` or ``[B, H, W]`` in [0, 1] (1 = use the reference); None = all ones if ref given.
            thumb: ``[B, n, n, 3]`` float in [0, 1], or a list of ``[n, n, 3]`` / None per item
                (None: that item has no thumbnail), or None.
        """
        import torch
        import torch.nn.functional as F
        lab = torch.as_tensor(np.asarray(labels, np.int64), device=self.device)
        b, h, w = lab.shape
        onehot = F.one_hot(lab.clamp(0, NUM_CLASSES - 1), NUM_CLASSES).permute(0, 3, 1, 2).float()
        zeros3 = torch.zeros(b, 3, h, w, device=self.device)
        if ref is None:
            r, m = zeros3, torch.zeros(b, 1, h, w, device=self.device)
        else:
            r = self.to_model(ref)
            mk = np.ones(b, np.float32) if ref_mask is None else np.asarray(ref_mask, np.float32)
            mk = torch.as_tensor(mk, device=self.device)
            m = (mk.view(b, 1, 1, 1) if mk.ndim == 1 else mk.view(b, 1, h, w)).expand(b, 1, h, w)
            r = r * m
        if thumb is None:
            t = zeros3
        elif isinstance(thumb, list):
            t = zeros3.clone()
            for i, th in enumerate(thumb):
                if th is not None:
                    t[i] = F.interpolate(self.to_model(th[None]), size=(h, w), mode="bilinear", align_corners=False)[0]
        else:
            t = F.interpolate(self.to_model(thumb), size=(h, w), mode="bilinear", align_corners=False)
        return torch.cat([onehot, r, m, t], 1)

    def to_model(self, rgb: np.ndarray):
        """``[B, H, W, 3]`` in [0, 1] -> ``[B, 3, H, W]`` in [-1, 1]."""
        import torch
        x = torch.as_tensor(np.asarray(rgb, np.float32), device=self.device)
        return x.permute(0, 3, 1, 2) * 2 - 1

    @staticmethod
    def to_image(x) -> np.ndarray:
        """``[B, 3, H, W]`` in [-1, 1] -> ``[B, H, W, 3]`` float32 in [0, 1]."""
        return ((x.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)
