"""The one conditional denoiser that every diffusion codec shares.

A ``diffusers.UNet2DModel`` whose input is the noisy image concatenated with its
conditions (:data:`COND_CHANNELS`, each absent part all zeros):

* the one-hot semantic map (``NUM_CLASSES``; all zeros when the source has no labels),
* a reference image (3) with its per-pixel validity mask (1: 0 where the motion
  uncovered content the reference never showed, or no reference),
* the low-resolution frame upsampled to full size (3) and a flag plane saying it is there (1),
* the structure (edge) map (1) and its flag plane (1).

It predicts the velocity ``v`` (see :mod:`gsvc.codecs.model`). The network is fully
convolutional (no attention), and every condition is defined relative to the frame (a
low-res frame at ``1/k`` of the side, edges smoothed in proportion to the side), so the
same weights serve every resolution in ``resolutions_px``; they were trained on 64 px
crops of frames rendered at 64-256 px. The architecture is a :class:`DenoiserConfig`,
written beside the weights (their ``.json``) so that calibration, training and decoding agree
on it; ``gsvc train --channels/--layers`` makes another one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..video.classes import NUM_CLASSES

__all__ = ["DenoiserConfig", "build_unet", "COND_CHANNELS"]

#: conditioning channels: labels, reference + mask, low-res + flag, structure + flag
COND_CHANNELS = NUM_CLASSES + 3 + 1 + 3 + 1 + 1 + 1


@dataclass(frozen=True)
class DenoiserConfig:
    """Architecture of the shared denoiser and the frame sides it serves.

    ``resolutions_px``: frame sides (px) the weights were trained and validated for; a
    scenario at another ``video.resolution`` is refused when it is built. ``residual_lowres``
    changes what the network's input and output mean, not its shape.
    """

    block_out_channels: tuple[int, ...] = (32, 64, 96)
    layers_per_block: int = 1
    attention_at_lowest: bool = False
    norm_num_groups: int = 8
    resolutions_px: tuple[int, ...] = (64, 96, 128, 160, 192, 224, 256)
    #: the network denoises the residual against the frame's upsampled low-res plane (where the
    #: frame has one) instead of the image itself; see :meth:`gsvc.codecs.model.PixelDenoiser.predict`.
    #: Weights written before this field existed are read as False
    residual_lowres: bool = True

    @property
    def in_channels(self) -> int:
        return 3 + COND_CHANNELS  # noisy image + conditions

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
