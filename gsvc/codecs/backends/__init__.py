"""Model back-ends: the :class:`Denoiser` interface every diffusion codec and the sampler call.

A back-end owns the network, its noise schedule and the space it denoises in; a codec
says only where the loop starts and what the frame is conditioned on. Two back-ends:

* ``codec.model="shipped"`` (default): :class:`gsvc.codecs.model.PixelDenoiser`, the
  shipped pixel-space UNet (``space="pixel"``, ``scale_factor=1``), weights from
  ``codec.weights`` (None: the shipped file);
* ``codec.model="path/to/folder"``: :class:`gsvc.codecs.backends.latent.LatentDiffusers`,
  a latent diffusion model in the diffusers pipeline layout (``space="latent"``,
  ``scale_factor`` = the VAE's downsampling), see :mod:`gsvc.codecs.backends.folder`.

Tensors in model space are ``[B, C, h, w]`` float32 with ``h = w = side_px / scale_factor``.
"""
from __future__ import annotations

import functools
from typing import Callable, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["Denoiser", "load_backend", "model_space", "served_resolutions_of", "list_sides", "warp_sample", "SHIPPED"]

#: ``codec.model`` of the shipped pixel-space model
SHIPPED = "shipped"


@runtime_checkable
class Denoiser(Protocol):
    """What a diffusion codec needs from a model.

    Attributes:
        space: ``"pixel"`` (the model denoises images) or ``"latent"`` (a VAE's latents).
        scale_factor: image px per model-space px (1 in pixel space, 8 for an SD VAE); a
            motion field in px is divided by it to move a model-space tensor.
        resolutions_px: frame sides (px) the back-end serves.
        has_controlnet: a ControlNet runs beside the UNet at every evaluation (the latency
            side applies its overhead).
        device: torch device of the tensors it makes.
        vae_encodes, vae_decodes: image <-> latent conversions run so far (0 in pixel space).
    """

    space: Literal["pixel", "latent"]
    scale_factor: int
    resolutions_px: tuple[int, ...]
    has_controlnet: bool
    device: str
    vae_encodes: int
    vae_decodes: int

    def condition(self, batch: int, side_px: int, *, labels=None, ref=None, ref_mask=None, lowres=None,
                  structure=None):
        """The conditioning object of a batch (parts as :meth:`gsvc.codecs.model.PixelDenoiser.condition`)."""

    def predict(self, x_t, t, cond):
        """One evaluation: the model output the scheduler steps with, shaped like ``x_t``."""

    def make_scheduler(self, kind: str = "ddim"):
        """A fresh diffusers scheduler of this back-end's noise schedule; ``kind``: ``codec.sampler``."""

    def latent_shape(self, side_px: int) -> tuple[int, int, int]:
        """``(channels, side_px / scale_factor, side_px / scale_factor)`` of one frame in model space."""

    def noise_shape(self, cond) -> tuple[int, int, int, int]:
        """``(B, C, h, w)`` of the noise a sample conditioned on ``cond`` starts from."""

    def to_model(self, rgb: np.ndarray):
        """``[B, H, W, 3]`` float in [0, 1] -> model space (a VAE encode in latent space, counted)."""

    def to_image(self, x) -> np.ndarray:
        """Model space -> ``[B, H, W, 3]`` float32 in [0, 1] (a VAE decode in latent space, counted)."""

    def example_evaluation(self, batch: int, side_px: int) -> Callable[[], object]:
        """A zero-argument closure running exactly one evaluation on random inputs of the right shapes."""

    def describe(self) -> str:
        """One line: what the back-end is and where its parts came from."""


def model_space(spec) -> str:
    """``"pixel"`` or ``"latent"`` for a :class:`~gsvc.codecs.spec.CodecSpec`, without loading anything."""
    return "pixel" if spec.model == SHIPPED else "latent"


def served_resolutions_of(spec) -> tuple[int, ...]:
    """Frame sides (px) the back-end of ``spec`` serves, read from configs only (no weights).

    Raises ValueError naming ``codec.model`` and the missing part for an incomplete folder.
    """
    if spec.model == SHIPPED:
        from ..model import served_resolutions
        return served_resolutions(spec.weights)
    from .folder import check_folder
    return check_folder(spec.model, spec.prompt).resolutions_px


def list_sides(sides) -> str:
    """Frame sides for an error message: ``64, 96, 128`` for a few, ``64, 128, ..., 1024 (multiples
    of 64)`` for a long arithmetic run."""
    sides = list(sides)
    if len(sides) > 8 and all(b - a == sides[1] - sides[0] for a, b in zip(sides, sides[1:])):
        return f"{sides[0]}, {sides[1]}, ..., {sides[-1]} (multiples of {sides[1] - sides[0]})"
    return ", ".join(map(str, sides))


def load_backend(model: str = SHIPPED, weights: str | None = None, prompt: str | None = None) -> Denoiser:
    """The back-end of this process for ``codec.model`` (loaded once per model, weights and prompt)."""
    return _load(model, weights, prompt)


@functools.lru_cache(maxsize=4)
def _load(model: str, weights: str | None, prompt: str | None) -> Denoiser:
    if model == SHIPPED:
        from ..model import PixelDenoiser
        return PixelDenoiser.load(weights)
    from .latent import LatentDiffusers
    return LatentDiffusers.load(model, prompt=prompt)


def warp_sample(den: Denoiser, x, motion):
    """Move a model-space tensor ``x`` ``[1, C, h, w]`` by ``motion`` (px at image scale).

    The motion is scaled to model resolution (vectors / ``den.scale_factor``) and the tensor
    is warped bilinearly with repeated edges (:func:`gsvc.codecs.motion.warp`): a shift by a
    whole number of model-space pixels moves it exactly.
    """
    import torch

    from ..motion import warp
    arr = np.ascontiguousarray(x[0].permute(1, 2, 0).cpu().numpy())           # [h, w, C]
    moved = warp(arr, motion.scaled(1.0 / den.scale_factor))
    if den.space == "pixel":  # the shipped model's historic round trip through to_model (bit-identical numbers)
        return den.to_model((moved[None] + 1) / 2)
    return torch.as_tensor(moved, device=x.device).permute(2, 0, 1)[None].to(x.dtype)
