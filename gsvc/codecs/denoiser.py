"""The one conditional denoiser that every diffusion codec shares.

A ``diffusers.UNet2DModel`` whose input is the noisy image concatenated with its
conditions: the one-hot semantic map (``NUM_CLASSES`` channels), a reference image
(3) with its per-pixel validity mask (1: 0 where the motion uncovered content the
reference never showed) and an optional thumbnail upsampled to full size (3).
It predicts the velocity ``v`` (see :mod:`gsvc.codecs.model`). The architecture is
fixed by :class:`DenoiserConfig` so that calibration, training and decoding agree on it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..video.classes import NUM_CLASSES

__all__ = ["DenoiserConfig", "build_unet"]


@dataclass(frozen=True)
class DenoiserConfig:
    """Architecture of the shared denoiser (defaults: ~1.1 M parameters)."""

    block_out_channels: tuple[int, ...] = (32, 64, 64)
    layers_per_block: int = 1
    attention_at_lowest: bool = True
    norm_num_groups: int = 8

    @property
    def in_channels(self) -> int:
        return 3 + NUM_CLASSES + 3 + 1 + 3  # noisy image, labels, reference, mask, thumbnail

    def to_dict(self) -> dict:
        return asdict(self)


def build_unet(cfg: DenoiserConfig = DenoiserConfig()):
    """A freshly initialised ``UNet2DModel`` of this architecture (weights are loaded separately)."""
    from diffusers import UNet2DModel

    n = len(cfg.block_out_channels)
    down = ["DownBlock2D"] * (n - 1) + ["AttnDownBlock2D" if cfg.attention_at_lowest else "DownBlock2D"]
    up = ["AttnUpBlock2D" if cfg.attention_at_lowest else "UpBlock2D"] + ["UpBlock2D"] * (n - 1)
    return UNet2DModel(in_channels=cfg.in_channels, out_channels=3, block_out_channels=cfg.block_out_channels,
                       layers_per_block=cfg.layers_per_block, down_block_types=tuple(down),
                       up_block_types=tuple(up), norm_num_groups=cfg.norm_num_groups)
