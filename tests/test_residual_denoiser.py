"""The residual parameterisation: the network denoises what the low-res frame does not carry."""
import json

import numpy as np
import torch

from gsvc.codecs.denoiser import DenoiserConfig
from gsvc.codecs.model import PixelDenoiser, weights_config, make_scheduler
from gsvc.codecs.sampler import sample

SIDE = 16
TINY = DenoiserConfig(block_out_channels=(8, 8, 8), norm_num_groups=4)


class _Oracle(torch.nn.Module):
    """Stands in for the UNet: returns the exact residual velocity ``a e - s (x0 - b)`` for one known
    sample, after checking it was given the residual ``x_t - a b`` (so the wrapper's algebra is tested)."""

    def __init__(self, x0, e, base, alphas):
        super().__init__()
        self.x0, self.e, self.base, self.alphas = x0, e, base, alphas

    def forward(self, inp, t):
        ab = self.alphas[t.long()].reshape(-1, 1, 1, 1)
        a, s = ab.sqrt(), (1 - ab).sqrt()
        r0 = self.x0 - self.base
        assert torch.allclose(inp[:, :3], a * r0 + s * self.e, atol=1e-5)
        return type("Out", (), {"sample": a * self.e - s * r0})()


def _lowres_item(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((SIDE // 2, SIDE // 2, 3)).astype(np.float32)


def test_the_wrapper_turns_an_exact_residual_velocity_into_the_exact_image_velocity():
    den = PixelDenoiser.fresh(TINY)
    cond = den.condition(2, SIDE, lowres=[_lowres_item(1), None])
    k = cond.shape[1] - 10
    base = cond[:, k + 4:k + 7] * cond[:, k + 7:k + 8]
    assert base[0].abs().sum() > 0 and base[1].abs().sum() == 0  # the second item has no low-res frame
    g = torch.Generator().manual_seed(0)
    x0, e = torch.rand(2, 3, SIDE, SIDE, generator=g) * 2 - 1, torch.randn(2, 3, SIDE, SIDE, generator=g)
    alphas = make_scheduler().alphas_cumprod.float()
    den.unet = _Oracle(x0, e, base, alphas)
    t = torch.tensor([700, 120])
    ab = alphas[t].reshape(-1, 1, 1, 1)
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * e
    assert torch.allclose(den.predict(x_t, t, cond), ab.sqrt() * e - (1 - ab).sqrt() * x0, atol=1e-5)


def test_a_network_that_finds_no_residual_decodes_to_the_upsampled_lowres_frame():
    den = PixelDenoiser.fresh(TINY)

    class NoResidual(torch.nn.Module):  # x0 estimate of the residual is 0: v_r = a r_t / s
        def forward(self, inp, t):
            ab = den._alphas_cumprod[torch.as_tensor(t).long()].reshape(-1, 1, 1, 1)
            return type("Out", (), {"sample": ab.sqrt() * inp[:, :3] / (1 - ab).sqrt().clamp_min(1e-6)})()

    den.unet = NoResidual()
    lr = _lowres_item(2)
    cond = den.condition(1, SIDE, lowres=[lr])
    k = cond.shape[1] - 10
    out = sample(den, cond, 5, generator=torch.Generator().manual_seed(1)).x0
    assert torch.allclose(out, cond[:, k + 4:k + 7], atol=1e-3)


def test_weights_written_before_the_field_are_read_as_image_space(tmp_path):
    assert DenoiserConfig().residual_lowres
    p = tmp_path / "old.safetensors"
    p.with_suffix(".json").write_text(json.dumps({"config": {"block_out_channels": [8, 8, 8]}}))
    assert weights_config(p).residual_lowres is False
    p.with_suffix(".json").write_text(json.dumps({"config": {"residual_lowres": True}}))
    assert weights_config(p).residual_lowres is True


def test_image_space_weights_predict_what_the_network_says():
    den = PixelDenoiser.fresh(DenoiserConfig(block_out_channels=(8, 8, 8), norm_num_groups=4, residual_lowres=False))
    cond = den.condition(1, SIDE, lowres=[_lowres_item(3)])
    x = torch.randn(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(2))
    t = torch.tensor(500)
    assert torch.equal(den.predict(x, t, cond), den.unet(torch.cat([x, cond], 1), t).sample)
