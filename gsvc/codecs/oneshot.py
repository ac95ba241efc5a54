"""``oneshot``: one denoiser evaluation per frame, straight from noise to an image
(the single-pass generators of GAN-era semantic communication), conditioned on the
frame's conditions (semantic map, low-res frame, structure map). The fastest diffusion path, and the blurriest."""
from __future__ import annotations

from .base import DecodePlan
from .diffusion import DiffusionCodec, DiffusionDecoder


class OneshotDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        return DecodePlan("oneshot", 1, 1)

    def generate(self, ef, plan, parsed):
        return self.run_sampler(ef, parsed, 1)


class OneshotCodec(DiffusionCodec):
    name = "oneshot"
    intra_only = True
    decoder_cls = OneshotDecoder
