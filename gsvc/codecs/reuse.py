"""``reuse``: Denoising Reuse. The anchor of each group is denoised from noise with its
schedule (``codec.anchor_steps``; None: ``codec.steps``) while every intermediate sample is
cached; every other frame takes the cached sample at a switch step, warps it with the motion
from the anchor, and finishes the anchor's schedule from there under its own conditions and
the warped anchor reconstruction: the last ``k = ceil(strength * n)`` of its ``n`` steps (at the
defaults one, as many as ``cvsc`` runs from its warped reconstruction, so the two compare at
equal evaluations).
With a latent back-end the cache holds the anchor's intermediate *latents*, warped by the
motion scaled to latent resolution.

The switch step used to move earlier with the motion since the anchor (``+ round(motion_px / 2)``
steps): motion accumulates over a group, so most deltas ran the whole schedule from the anchor's
warped early samples, which hold less of it. On the dev set (8 clips, 64 px, every frame on time)
that gave 24.15 dB / SSIM 0.705 / LPIPS 0.121 at 7.88 evaluations per frame; the fixed switch
gives 24.54 / 0.718 / 0.111 at 3.47. Moving the noise of a cached sample apart from its clean
estimate (nearest neighbour for the noise, bilinear for the estimate) instead of warping the sum
bilinearly measured worse there (23.25 dB / 0.663), so the sum is warped."""
from __future__ import annotations

from .backends import warp_sample
from .base import DecodePlan
from .cvsc import TUNED_ANCHOR_STEPS, TUNED_CHAINED, TUNED_SHOWN, TUNED_STRENGTH
from .diffusion import NO_DENOISER, DiffusionCodec, DiffusionDecoder, frame_generator
from .motion import decode_motion


class ReuseDecoder(DiffusionDecoder):
    def __init__(self, codec, stream_seed):
        super().__init__(codec, stream_seed)
        self.cache: dict[int, object] = {}
        self.cache_frame = -1          # anchor whose samples are cached
        self.cache_steps = self.anchor_schedule()  # schedule length they were sampled with (deltas finish it)

    def schedule_steps(self) -> int:
        return self.cache_steps

    def vae_encodes_needed(self, ef, plan) -> int:
        return 0  # a delta resumes from the cached latent: nothing to encode

    def advanced(self, ef, plan):
        if ef.kind == "anchor" and plan.path not in NO_DENOISER:  # a real decode samples it and caches the samples
            self.cache_frame, self.cache_steps = ef.frame, plan.steps

    def plan_frame(self, ef, budget_ms):
        if ef.kind == "anchor":
            n = self.anchor_schedule()
            return DecodePlan("generate", n, n)
        if self.cache_frame != ef.refs[0]:  # the anchor was shown without sampling (adaptive control)
            return DecodePlan("warp")
        n = self.cache_steps
        try:
            decode_motion(ef.sections["motion"])
        except (ValueError, KeyError):
            return DecodePlan("conceal")
        k = self.final_steps(n)
        return DecodePlan("reuse", k, k, strength=k / n)

    def generate(self, ef, plan, parsed):
        from .sampler import sample
        den = self.codec.denoiser
        if ef.kind == "anchor":
            res = sample(den, self.condition(parsed), plan.steps, generator=frame_generator(self.seed, ef.frame), keep=True,
                         sampler=self.spec.sampler)
            self.cache, self.cache_frame, self.cache_steps = res.samples, ef.frame, plan.steps
            self.last_x = res.x0
            return den.to_image(res.x0)[0]
        n = self.cache_steps
        i0 = n - plan.steps
        x = warp_sample(den, self.cache[i0], parsed["motion"])             # the anchor's x_t, moved to this frame
        res = sample(den, self.condition(parsed, parsed["ref"], parsed["ref_mask"]), n, cached=(i0, x), generator=frame_generator(self.seed, ef.frame),
                     sampler=self.spec.sampler)
        return den.to_image(res.x0)[0]


#: reuse's share of the generated detail on frames the low-res frame alone conditions (cvsc's on labelled
#: frames): its deltas start from a noisier sample than cvsc's, so they carry more sampled detail
TUNED_REUSE_DETAIL = 0.25

#: reuse's defaults: cvsc's tuned stream and delta length, so that the two differ only in where a delta
#: starts (the anchor's cached sample against its reconstruction). On the dev set (8 clips, 64 px, every
#: frame on time) that gives 26.76 dB / SSIM 0.812 / LPIPS 0.066 at 33.4 kbit/s and 1.60 evaluations per
#: frame (cvsc: 26.88 / 0.819 / 0.067), where the shared defaults (a quarter of the side, step 8, 3 steps
#: per delta) gave 24.61 / 0.722 / 0.110 at 33.9 kbit/s and 3.47; the tuned stream at 3 steps, 26.74 / 0.809.
#: It shows cvsc's share of the generated detail too (``detail_scale``, all of it on labelled frames; at
#: 0.5 on the dev set: 28.16 / 0.856 / 0.051 / DISTS 0.137 against 27.94 / 0.845 / 0.046 / 0.141 as
#: sampled, at 24.1 kbit/s)
#:
#: Then its anchors took cvsc's three-step schedule (:data:`gsvc.codecs.cvsc.TUNED_ANCHOR_STEPS`; the deltas
#: finish it, one step each from the anchor's last cached sample, a noisier start than the last of ten) and a
#: smaller share of the detail (:data:`TUNED_REUSE_DETAIL`). Dev set, every frame decoded in order (whole set,
#: 24.1 kbit/s, PSNR dB / SSIM / LPIPS / evaluations per frame; control off, then adaptive at 24.8 kbit/s):
#: ten-step anchors at 0.5 28.22 / 0.8575 / 0.0468 / 1.60, 29.41 / 0.8962 / 0.0346 / 2.50; three at 0.5
#: 28.20 / 0.8545 / 0.0457 / 1.13, 29.36 / 0.8915 / 0.0334 / 1.44; at 0.35 28.24 / 0.8578 / 0.0465, 29.42 /
#: 0.8959 / 0.0341; at 0.25 28.25 / 0.8591 / 0.0470, 29.44 / 0.8979 / 0.0345: better than ten-step anchors
#: on all three for 30 % (adaptive 42 %) fewer evaluations, and with control off level with cvsc at equal
#: evaluations (28.26 / 0.8592 / 0.0485 / 1.13; adaptive 29.49 / 0.8995 / 0.0356 / 1.64) but for 0.0015
#: less LPIPS
TUNED_REUSE = {**TUNED_CHAINED, "strength": TUNED_STRENGTH, **TUNED_SHOWN, "detail_scale": TUNED_REUSE_DETAIL,
               "anchor_steps": TUNED_ANCHOR_STEPS}


class ReuseCodec(DiffusionCodec):
    name = "reuse"
    capabilities = DiffusionCodec.capabilities | {"reference", "lowres_chain"}
    spec_defaults = TUNED_REUSE
    decoder_cls = ReuseDecoder
