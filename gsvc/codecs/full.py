"""``full``: plain diffusion semantic communication. Every frame is generated from pure
noise with ``codec.steps`` steps, conditioned on what the frame carries (semantic map,
low-res frame, structure map: ``codec.semantic``, ``codec.lowres``, ``codec.structure``). No reference, so no drift and no speed-up."""
from __future__ import annotations

from .base import DecodePlan
from .diffusion import DiffusionCodec, DiffusionDecoder


class FullDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        return DecodePlan("generate", self.spec.steps, self.spec.steps)

    def generate(self, ef, plan, parsed):
        return self.run_sampler(ef, parsed, plan.steps)


class FullCodec(DiffusionCodec):
    name = "full"
    intra_only = True
    decoder_cls = FullDecoder
