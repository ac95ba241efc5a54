"""``LatentDiffusers``: a latent diffusion model from a local diffusers folder as a :class:`Denoiser`.

How a frame is conditioned (this is what the network sees, and all it sees):

* the UNet (``UNet2DConditionModel``, SD-style) is conditioned on the prompt embedding
  (``encoder_hidden_states`` ``[B, tokens, cross_attention_dim]``: the folder's
  ``prompt_embeds.safetensors`` or ``codec.prompt`` through its text encoder), with no
  classifier-free guidance (one UNet call per step, so a step costs one evaluation);
* a ControlNet, when the folder has ``controlnet/``, is fed the frame's semantic map rendered
  in the class colours of :data:`gsvc.video.classes.CLASS_RGB` (a segmentation-ControlNet
  style image), or, for a frame without labels, its structure map as white edges on black
  (a Canny-ControlNet style image): ``[B, 3, H, W]`` float32 in [0, 1] at the resolution its
  conditioning embedding expects. A frame with neither runs the UNet alone;
* the reference, its mask and the low-res frame are *not* inputs of this network: a codec
  brings them in where its loop starts (the warped reference latent noised to the
  strength, the cached latent of ``reuse``, the anchor plus residual of ``anchor_residual``)
  and the decoded image is made to agree with the low-res frame by back-projection
  (:meth:`gsvc.codecs.diffusion.DiffusionDecoder.agree_with_lowres`).

Model space is the VAE's latent ``[B, C, side/f, side/f]`` float32 scaled by the VAE's
``scaling_factor`` (and shifted by ``shift_factor`` where it has one); :meth:`to_model` runs
the VAE encoder (the mean of its posterior, no sampling) and :meth:`to_image` the decoder,
both counted in ``vae_encodes`` / ``vae_decodes``.

The schedule (betas, prediction type, timestep spacing) is the folder's ``scheduler/`` config;
``codec.sampler`` picks the solver run on it (``"ddim"``: DDIM, eta 0; ``"dpm"``:
DPM-Solver++), so that every step is one evaluation and the codecs' plans stay exact.
"""
from __future__ import annotations

import numpy as np

from ...video.classes import CLASS_RGB, NUM_CLASSES

__all__ = ["LatentDiffusers", "LatentCondition", "control_image"]


class LatentCondition:
    """``text``: ``[B, tokens, D]`` float32; ``control``: ``[B, 3, H, W]`` float32 in [0, 1] or None;
    ``batch``, ``side_px``: the frames it conditions."""

    __slots__ = ("text", "control", "batch", "side_px")

    def __init__(self, text, control, batch: int, side_px: int):
        self.text, self.control, self.batch, self.side_px = text, control, batch, side_px


def control_image(labels, structure) -> np.ndarray | None:
    """The ControlNet image of one frame ``[H, W, 3]`` float32 in [0, 1]: the label map ``[H, W]``
    uint8 in class colours, else the structure map ``[H, W]`` {0, 1} as white edges, else None."""
    if labels is not None:
        return CLASS_RGB[np.clip(np.asarray(labels, np.int64), 0, NUM_CLASSES - 1)].astype(np.float32)
    if structure is not None:
        return np.repeat(np.asarray(structure, np.float32)[..., None], 3, axis=2)
    return None


class LatentDiffusers:
    """A UNet2DConditionModel + VAE (+ ControlNet) + schedule + prompt embedding from a folder.

    Build it with :meth:`load`; the parts are public (``unet``, ``vae``, ``controlnet``) so a
    test or a profiler can hook them.
    """

    space = "latent"

    def __init__(self, parts: dict, model: str, device: str = "cpu", control_scale: float = 1.0):
        self.model, self.device, self.control_scale = model, device, control_scale
        self.layout = parts["layout"]
        self.unet, self.vae, self.controlnet = parts["unet"], parts["vae"], parts["controlnet"]
        self.scheduler_config, self.scheduler_class = parts["scheduler_config"], parts["scheduler_class"]
        self.prompt_embeds = parts["prompt_embeds"]                      # [1, tokens, D]
        self.scale_factor = self.layout.scale_factor
        self.resolutions_px = self.layout.resolutions_px
        self.vae_encodes = self.vae_decodes = 0
        cfg = self.vae.config
        self._scale = float(getattr(cfg, "scaling_factor", 1.0) or 1.0)
        self._shift = float(getattr(cfg, "shift_factor", 0.0) or 0.0)
        self._tiny = self.layout.vae_class == "AutoencoderTiny"
        if self.controlnet is not None:  # the conditioning embedding downsamples its image to the latent side
            n = len(self.controlnet.config.conditioning_embedding_out_channels)
            self._control_factor = 2 ** (n - 1)

    @classmethod
    def load(cls, model: str, prompt: str | None = None, device: str = "cpu") -> "LatentDiffusers":
        """Load the folder ``codec.model`` names (see :mod:`gsvc.codecs.backends.folder`)."""
        from .folder import load_components
        return cls(load_components(model, prompt, device), model, device)

    @property
    def has_controlnet(self) -> bool:
        return self.controlnet is not None

    # --- schedule and shapes ------------------------------------------------------
    def make_scheduler(self, kind: str = "ddim"):
        """A fresh scheduler on the folder's noise schedule: ``"ddim"`` (eta 0) or ``"dpm"`` (DPM-Solver++)."""
        from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
        if kind == "ddim":
            return DDIMScheduler.from_config(self.scheduler_config)
        if kind == "dpm":
            return DPMSolverMultistepScheduler.from_config(self.scheduler_config, algorithm_type="dpmsolver++")
        raise ValueError(f"codec.sampler={kind!r} is not 'ddim' or 'dpm'")

    def latent_shape(self, side_px: int) -> tuple[int, int, int]:
        s = side_px // self.scale_factor
        return (self.layout.latent_channels, s, s)

    def noise_shape(self, cond: LatentCondition) -> tuple[int, int, int, int]:
        return (cond.batch, *self.latent_shape(cond.side_px))

    # --- conditioning and one evaluation -------------------------------------------
    def condition(self, batch: int, side_px: int, *, labels=None, ref=None, ref_mask=None, lowres=None,
                  structure=None) -> LatentCondition:
        """The prompt embedding for ``batch`` frames, and the ControlNet image where the folder has one.

        Parts as :meth:`gsvc.codecs.model.PixelDenoiser.condition`; only ``labels`` and
        ``structure`` are read (by the ControlNet); ``ref``, ``ref_mask`` and ``lowres`` are
        accepted and ignored: this network has no input for them (see the module docstring).
        """
        import torch
        import torch.nn.functional as F
        text = self.prompt_embeds.expand(batch, -1, -1)
        control = None
        if self.controlnet is not None:
            labs = [None] * batch if labels is None else list(labels)
            sts = [None] * batch if structure is None else list(structure)
            images = [control_image(lab, st) for lab, st in zip(labs, sts)]
            if any(im is not None for im in images):
                blank = np.zeros((side_px, side_px, 3), np.float32)
                arr = np.stack([blank if im is None else im for im in images])      # [B, H, W, 3]
                control = torch.as_tensor(arr, device=self.device).permute(0, 3, 1, 2)
                side = side_px // self.scale_factor * self._control_factor
                if side != side_px:
                    control = F.interpolate(control, size=(side, side), mode="nearest")
        return LatentCondition(text, control, batch, side_px)

    def predict(self, x_t, t, cond: LatentCondition):
        """One evaluation: the ControlNet (if any, and the frame has a map) then the UNet.

        ``x_t`` ``[B, C, h, w]`` latent; returns the UNet's prediction ``[B, C, h, w]`` (of the
        kind the schedule's ``prediction_type`` names).
        """
        extra = {}
        if self.controlnet is not None and cond.control is not None:
            down, mid = self.controlnet(x_t, t, encoder_hidden_states=cond.text, controlnet_cond=cond.control,
                                        conditioning_scale=self.control_scale, return_dict=False)
            extra = dict(down_block_additional_residuals=down, mid_block_additional_residual=mid)
        out = self.unet(x_t, t, encoder_hidden_states=cond.text, **extra).sample
        return out[:, :x_t.shape[1]]  # a UNet that also predicts variance: keep the mean

    def example_evaluation(self, batch: int, side_px: int):
        """One evaluation on random inputs: latent ``[batch, C, side/f, side/f]``, the prompt
        embedding, a random ControlNet image where there is a ControlNet, t = 500."""
        import torch
        g = torch.Generator().manual_seed(0)
        x = torch.randn((batch, *self.latent_shape(side_px)), generator=g).to(self.device)
        cond = self.condition(batch, side_px)
        if self.controlnet is not None:
            side = side_px // self.scale_factor * self._control_factor
            cond.control = torch.rand((batch, 3, side, side), generator=g).to(self.device)
        t = torch.full((batch,), 500, device=self.device)
        return lambda: self.predict(x, t, cond)

    # --- image <-> latent -------------------------------------------------------------
    def to_model(self, rgb: np.ndarray):
        """``[B, H, W, 3]`` in [0, 1] -> latent ``[B, C, H/f, W/f]`` (one VAE encode, counted)."""
        import torch
        x = torch.as_tensor(np.asarray(rgb, np.float32), device=self.device).permute(0, 3, 1, 2) * 2 - 1
        with torch.no_grad():
            enc = self.vae.encode(x)
            z = enc.latents if self._tiny else enc.latent_dist.mode()
        self.vae_encodes += 1
        return (z - self._shift) * self._scale

    def to_image(self, x) -> np.ndarray:
        """Latent ``[B, C, h, w]`` -> ``[B, h*f, w*f, 3]`` float32 in [0, 1] (one VAE decode, counted)."""
        import torch
        with torch.no_grad():
            img = self.vae.decode(x / self._scale + self._shift).sample
        self.vae_decodes += 1
        return ((img.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)

    def describe(self) -> str:
        n = sum(p.numel() for p in self.unet.parameters())
        cn = ", ControlNetModel on the semantic/structure map" if self.controlnet is not None else ""
        return (f"latent diffusers folder {self.model}: UNet2DConditionModel ({n / 1e6:.2f} M parameters), "
                f"{self.layout.vae_class} (x{self.scale_factor}){cn}, schedule of {self.scheduler_class}, "
                f"prompt from {self.layout.prompt_source}")
