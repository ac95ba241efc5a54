"""``cvsc``: ControlVideo-SemCom. An anchor every ``codec.gop`` frames is generated from
noise (``anchor_steps``); every other frame warps the anchor's
reconstruction by the motion accumulated since the anchor, noises it to
``codec.strength`` and runs only the last ``ceil(strength * steps)`` steps, conditioned
on its own conditions (semantic map, low-res frame, structure map, as sent) and the warped
reference. With a latent back-end it warps the anchor's *latent* by the motion scaled to
latent resolution (px / VAE factor) and noises that. It assumes neighbouring frames are
alike: it has no idea of scene cuts or of motion too large to warp."""
from __future__ import annotations

from .base import DecodePlan
from .diffusion import DiffusionCodec, DiffusionDecoder
from .sampler import start_index


class CvscDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        if ef.kind == "anchor":
            n = self.spec.anchor_steps or self.spec.steps
            return DecodePlan("generate", n, n)
        k = self.spec.steps - start_index(self.spec.steps, self.spec.strength)
        return DecodePlan("refine", k, k, strength=self.spec.strength)

    def generate(self, ef, plan, parsed):
        if ef.kind == "anchor":
            return self.run_sampler(ef, parsed, plan.steps)
        return self.run_sampler(ef, parsed, self.spec.steps, ref=parsed["ref"],
                                ref_mask=parsed["ref_mask"], strength=plan.strength)


class CvscCodec(DiffusionCodec):
    name = "cvsc"
    capabilities = DiffusionCodec.capabilities | {"reference"}
    decoder_cls = CvscDecoder
