"""FLOPs and bytes moved by one denoiser evaluation (the inputs of a roofline estimate).

Everything here works on a zero-argument closure that runs exactly one evaluation
(``fn() -> object``). Back-ends that offer ``example_evaluation(batch, side_px)`` give
such a closure; :func:`evaluation_closure` builds it for the two model names that need
no folder: ``"shipped"`` (the shared pixel-space denoiser, input
``[b, cfg.in_channels, side, side]``) and ``"sd15"`` (an SD-1.5-shaped
``UNet2DConditionModel``, latent ``[b, 4, side/8, side/8]``, text context ``[b, 77, 768]``).
Both are built on torch's ``meta`` device: no weights are allocated and no arithmetic
runs, so counting the 860 M-parameter SD-1.5 UNet takes a second and no memory.

How the counts are made
-----------------------
* ``flops``: :class:`torch.utils.flop_counter.FlopCounterMode` (matmuls, convolutions,
  attention; a multiply-add is 2 FLOPs). Normalisations and element-wise ops are not
  counted by torch and are a few per cent of a UNet's work.
* ``bytes``: a lower-bound-style traffic model, "every op reads each of its tensor
  inputs once and writes each of its outputs once", summed over the aten ops of the
  evaluation by a :class:`~torch.utils._python_dispatch.TorchDispatchMode`. Element counts
  are taken from the traced tensors and priced at ``dtype_bytes`` per element (2 for
  fp16), whatever dtype the trace ran in. Views (``op.is_view``: reshape, transpose,
  slicing ...) move no data and are skipped. Weights are op inputs, so
  ``bytes`` includes one read of every parameter per use; ``param_bytes`` reports the
  parameter footprint separately (``numel * dtype_bytes``). Fusion (FlashAttention,
  fused norms) removes some of this traffic on a real GPU, caches add none of it back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

__all__ = ["EvalCost", "count_evaluation", "evaluation_closure", "MODELS"]

#: model names that :func:`evaluation_closure` builds without a folder: the shipped denoiser, the
#: SD-1.5 UNet, and the SD-1.5 companions a latent receiver also runs (VAE decode per image, VAE
#: encode where a method needs it, a ControlNet beside the UNet at every evaluation)
MODELS = ("shipped", "sd15", "sd15-vae-decode", "sd15-vae-encode", "sd15-controlnet")

#: SD-1.5's VAE (runwayml/stable-diffusion-v1-5, vae/config.json: AutoencoderKL, 83.7 M parameters)
SD15_VAE = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512),
                layers_per_block=2, latent_channels=4, sample_size=512)
#: An SD-1.5 ControlNet (lllyasviel/sd-controlnet-*: the UNet's encoder and mid block, diffusers'
#: default conditioning embedding), 361 M parameters
SD15_CONTROLNET = dict(in_channels=4, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                       block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, cross_attention_dim=768,
                       attention_head_dim=8, conditioning_embedding_out_channels=(16, 32, 96, 256))


@dataclass(frozen=True)
class EvalCost:
    """Work of one evaluation of ``model`` at ``side_px`` px for ``batch`` frames.

    ``flops``: FLOPs (multiply-add = 2); ``bytes``: bytes moved under the read-inputs /
    write-outputs-once model at ``dtype_bytes`` per element; ``param_bytes``: parameter
    footprint; ``params``: parameter count; ``flops_by_op``: FLOPs per aten op name.
    """

    model: str
    side_px: int
    batch: int
    flops: float
    bytes: float
    param_bytes: float
    params: int
    dtype_bytes: int
    flops_by_op: dict

    @property
    def tflop(self) -> float:
        return self.flops / 1e12

    @property
    def gbytes(self) -> float:
        return self.bytes / 1e9

    @property
    def intensity_flop_per_byte(self) -> float:
        return self.flops / max(self.bytes, 1.0)

    def to_dict(self) -> dict:
        return asdict(self)


def _bytes_mode(dtype_bytes: int):
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class _BytesMoved(TorchDispatchMode):
        """Sums ``numel * dtype_bytes`` of every tensor input and output of each non-view op."""

        def __init__(self):
            super().__init__()
            self.elements = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if not getattr(func, "is_view", False):
                for t in tree_flatten((args, kwargs or {}, out))[0]:
                    if isinstance(t, torch.Tensor):
                        self.elements += t.numel()
            return out

        @property
        def bytes(self) -> float:
            return float(self.elements * dtype_bytes)

    return _BytesMoved()


def count_evaluation(fn: Callable[[], object], *, model: str = "", side_px: int = 0, batch: int = 0,
                     params: int = 0, dtype_bytes: int = 2) -> EvalCost:
    """Count FLOPs and bytes moved by one call of ``fn`` (one evaluation), under ``no_grad``.

    ``params``: parameter count of the model behind ``fn`` (for ``param_bytes``); the other
    keyword arguments only label the result.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    flop_mode = FlopCounterMode(display=False)
    with torch.no_grad(), flop_mode:
        fn()
    bytes_mode = _bytes_mode(dtype_bytes)
    with torch.no_grad(), bytes_mode:
        fn()
    by_op = {str(k): float(v) for k, v in flop_mode.get_flop_counts().get("Global", {}).items()}
    return EvalCost(model=model, side_px=side_px, batch=batch, flops=float(flop_mode.get_total_flops()),
                    bytes=bytes_mode.bytes, param_bytes=float(params * dtype_bytes), params=int(params),
                    dtype_bytes=dtype_bytes, flops_by_op=by_op)


def _shipped(batch: int, side_px: int, device: str):
    import torch

    from ..codecs.denoiser import DenoiserConfig, build_unet
    cfg = DenoiserConfig()
    with torch.device(device):
        unet = build_unet(cfg).eval()
        x = torch.randn(batch, cfg.in_channels, side_px, side_px)
        t = torch.full((batch,), 500)
    return unet, (lambda: unet(x, t))


def _sd15(batch: int, side_px: int, device: str):
    import torch

    from .calibrate import build_sd15_unet
    side = max(8, side_px // 8)  # the VAE's 8x downsampling
    with torch.device(device):
        unet = build_sd15_unet().eval()
        x = torch.randn(batch, 4, side, side)
        ctx = torch.randn(batch, 77, 768)  # CLIP ViT-L/14 text context: 77 tokens x 768
        t = torch.full((batch,), 500)
    return unet, (lambda: unet(x, t, encoder_hidden_states=ctx))


def _sd15_vae(batch: int, side_px: int, device: str, part: str):
    import torch
    from diffusers import AutoencoderKL
    with torch.device(device):
        vae = AutoencoderKL(**SD15_VAE).eval()
        if part == "decode":
            z = torch.randn(batch, 4, max(1, side_px // 8), max(1, side_px // 8))
            return vae, (lambda: vae.decode(z))
        img = torch.randn(batch, 3, side_px, side_px)
        return vae, (lambda: vae.encode(img))


def _sd15_controlnet(batch: int, side_px: int, device: str):
    import torch
    from diffusers import ControlNetModel
    side = max(8, side_px // 8)
    with torch.device(device):
        net = ControlNetModel(**SD15_CONTROLNET).eval()
        x, ctx = torch.randn(batch, 4, side, side), torch.randn(batch, 77, 768)
        cond = torch.randn(batch, 3, side * 8, side * 8)  # the structure/semantic map at image resolution
        t = torch.full((batch,), 500)
    return net, (lambda: net(x, t, encoder_hidden_states=ctx, controlnet_cond=cond))


def _folder_unet(path, batch: int, side_px: int, device: str):
    """The UNet of a diffusers pipeline folder, built from ``unet/config.json`` (weights are not needed
    to count work); latent side = side_px / the VAE's factor (as the latent back-end reads it from
    ``vae/config.json``, AutoencoderKL or AutoencoderTiny; 8 without one), context from the UNet's
    ``cross_attention_dim`` and 77 tokens."""
    import json
    from pathlib import Path

    import torch
    from diffusers import UNet2DConditionModel

    from ..codecs.backends.folder import vae_factor
    root = Path(path)
    cfg_path = root / "unet" / "config.json"
    if not cfg_path.exists():
        raise ValueError(f"model={str(path)!r}: {cfg_path} is missing; give a diffusers pipeline folder with unet/")
    cfg = json.loads(cfg_path.read_text())
    vae_cfg = root / "vae" / "config.json"
    down = vae_factor(json.loads(vae_cfg.read_text())) if vae_cfg.exists() else 8  # an SD VAE without one
    side = max(8, side_px // down)
    with torch.device(device):
        unet = UNet2DConditionModel.from_config(cfg).eval()
        x = torch.randn(batch, unet.config.in_channels, side, side)
        ctx = torch.randn(batch, 77, unet.config.cross_attention_dim)
        t = torch.full((batch,), 500)
    return unet, (lambda: unet(x, t, encoder_hidden_states=ctx))


def evaluation_closure(model, batch: int, side_px: int, device: str = "meta") -> tuple[Callable[[], object], int]:
    """``(fn, params)``: a closure running one evaluation of ``model`` and its parameter count.

    ``model``: a name in :data:`MODELS`, the path of a diffusers pipeline folder (its ``unet/``),
    or a back-end object with ``example_evaluation(batch, side_px) -> Callable[[], object]`` (its
    parameter count is read from a ``parameters()`` method or a ``unet`` attribute when it has
    one, else 0).
    ``side_px``: image side in pixels (the latent side is derived by the back-end).
    """
    if batch < 1 or side_px < 8:
        raise ValueError(f"batch={batch}, side_px={side_px}: give batch >= 1 and side_px >= 8")
    if hasattr(model, "example_evaluation"):
        return model.example_evaluation(batch, side_px), _param_count(model)
    builders = {"shipped": _shipped, "sd15": _sd15, "sd15-controlnet": _sd15_controlnet,
                "sd15-vae-decode": lambda b, s, d: _sd15_vae(b, s, d, "decode"),
                "sd15-vae-encode": lambda b, s, d: _sd15_vae(b, s, d, "encode")}
    if model in builders:
        net, fn = builders[model](batch, side_px, device)
    elif isinstance(model, str) and ("/" in model or model.startswith(".")):
        net, fn = _folder_unet(model, batch, side_px, device)
    else:
        raise ValueError(f"model={model!r} is not one of {', '.join(MODELS)}, a diffusers folder path or a back-end "
                         "with example_evaluation")
    return fn, sum(p.numel() for p in net.parameters())


def _param_count(backend) -> int:
    for obj in (backend, getattr(backend, "unet", None)):
        if obj is not None and callable(getattr(obj, "parameters", None)):
            return sum(p.numel() for p in obj.parameters())
    return 0


def count_model(model, batch: int, side_px: int, dtype_bytes: int = 2) -> EvalCost:
    """FLOPs and bytes of one evaluation of ``model`` (see :func:`evaluation_closure`)."""
    fn, params = evaluation_closure(model, batch, side_px)
    name = model if isinstance(model, str) else type(model).__name__
    return count_evaluation(fn, model=name, side_px=side_px, batch=batch, params=params, dtype_bytes=dtype_bytes)


__all__ += ["count_model"]
