"""``cvsc``: ControlVideo-SemCom. An anchor every ``codec.gop`` frames is generated from
noise (``anchor_steps``); every other frame warps the anchor's
reconstruction by the motion accumulated since the anchor, noises it to
``codec.strength`` and runs only the last ``ceil(strength * steps)`` steps, conditioned
on its own conditions (semantic map, low-res frame, structure map, as sent) and the warped
reference. With a latent back-end it warps the anchor's *latent* by the motion scaled to
latent resolution (px / VAE factor) and noises that. It assumes neighbouring frames are
alike: it has no idea of scene cuts or of motion too large to warp. With
``codec.anchor_lowres_factor=1`` the anchor is sent whole and shown as sent (nothing to generate);
only the deltas are refined."""
from __future__ import annotations

from .base import DecodePlan
from .diffusion import DiffusionCodec, DiffusionDecoder


class CvscDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        if ef.kind == "anchor":
            n = self.anchor_schedule()
            return DecodePlan("generate", n, n)
        k = self.final_steps()
        return DecodePlan("refine", k, k, strength=self.spec.strength)

    def generate(self, ef, plan, parsed):
        if ef.kind == "anchor":
            return self.run_sampler(ef, parsed, plan.steps)
        return self.run_sampler(ef, parsed, self.spec.steps, ref=parsed["ref"],
                                ref_mask=parsed["ref_mask"], strength=plan.strength)


#: cvsc's low-res stream, tuned on the dev set (:mod:`gsvc.video.devset`, 8 clips x 4 s at 64 px, its
#: ``lowres`` rows, control off and adaptive; benchmarks/results/bench_devset.txt): anchors as before
#: (half the side, quantiser step 8: the generated frame every delta starts from), deltas at half the
#: side too, step 32 (was a quarter, step 8). No generation: 25.7 dB / SSIM 0.781 at 34.2 kbit/s against
#: 24.9 / 0.750 at 31.6 with control off; 26.9 / 0.838 at 27.8 against 26.5 / 0.830 at 26.4 with
#: control="adaptive". Full-size anchors (``anchor_lowres_factor=1, anchor_lowres_quant=16,
#: lowres_quant=48``) measured better still (25.7 / 0.764 at 31.6; adaptive 28.1 / 0.860 at 28.9) but
#: leave nothing to generate on anchors: an option, not cvsc's default. A quarter of the side leaves the
#: model more to add but costs more than it gains: with the chained stream of :data:`TUNED_CHAINED` at
#: ``lowres_factor=4`` (anchors too, steps 18 / 5) the set shows 22.76 dB / 0.658 / LPIPS 0.203 / DISTS 0.243
#: at 9.7 kbit/s without generation and 23.20 / 0.680 / 0.172 / 0.230 at 11.6 with it (0.160 as sampled;
#: most of the gain is the procedural clip's label maps, on the photographs -0.003 to -0.026 LPIPS as
#: sampled against -0.009 at half the side), where H.264 gives 26.47 / 0.815 / 0.070 at 11.3; anchors at
#: half the side with such deltas at step 10, 25.04 / 0.756 / 0.115 at 16.7 and 25.42 / 0.769 / 0.099 at 18.7
TUNED_LOWRES = {"lowres_factor": 2, "lowres_quant": 32, "anchor_lowres_quant": 8}

#: cvsc's and lowres's stream now: the same, with each delta's low-res frame predicted from its anchor's
#: or the previous frame's, whichever costs less (``lowres_reference="best"``, :mod:`gsvc.codecs.lowres_chain`),
#: which buys a finer step, 24. On the dev set with no generation (the ``lowres`` rows, every frame on
#: time): 26.64 dB / SSIM 0.819 / LPIPS 0.079 at 31.1 kbit/s against 25.66 / 0.781 / 0.095 at 34.2 with
#: control off; step 20 gives 27.07 / 0.833 at 34.2 (the old rate), step 28 26.26 / 0.806 at 29.0, always
#: chaining ("previous") 26.38 / 0.810 at 32.4 at step 24; cvsc itself 26.88 / 0.819 / 0.067 at 33.4
#: against 25.84 / 0.781 / 0.083 at 36.5. On a lossy link a lost delta leaves the deltas chained to it
#: undecodable until an anchor, which the first of them asks for; measured on the pedestrian-urban preset
#: over a 2 Mbit/s link losing 2 % / 5 % of its 0.5 ms slots at random (a packet then lost with any slot it
#: spanned: 2-18 % / 5-40 % of packets by size; ``loss_rate`` is now the packet loss rate) (10 s, 64 px), cvsc
#: showed 21.50 / 19.70 dB against 21.51 / 19.57 anchor-predicted at step 32. ``lowres_reference="anchor"``
#: keeps every delta independent of the others. Since then the stream got cheaper (half-side motion blocks,
#: :func:`gsvc.codecs.motion.motion_block_px`; a flag per empty block; a low-res frame predicted by a cubic
#: spline at its own size, :func:`gsvc.codecs.lowres.predict_lowres`): at step 24 the lowres row fell to
#: 26.97 / 0.825 / 0.072 at 20.9 kbit/s, so the steps were tuned again on the same set (lowres rows, control
#: off): deltas at step 20 and anchors at 5 with six back-projection steps give 27.68 / 0.845 / 0.060 at
#: 24.3 kbit/s (three steps: 27.67 / 0.846 / 0.065); step 18 with anchors at 8 27.60 / 0.845 at 24.4, step
#: 20 with anchors at 4 27.75 / 0.848 at 25.1, step 18 with anchors at 5 27.88 / 0.853 at 25.6, a gop of 20
#: 27.29 / 0.838 at 24.0 (step 18); finer anchors buy more per bit than finer deltas. cvsc at these: 27.88 /
#: 0.844 / 0.050 at 26.6 kbit/s (the procedural clip's label maps add 2.3 kbit/s over the set). Then the
#: coder got 14 % cheaper for the same frames (the range coder's shortest flush, a shorter motion header,
#: median DC prediction, models started from counted priors: :mod:`gsvc.codecs.entropy_priors`): the lowres
#: row at these steps fell to 20.9 kbit/s, and the finer steps measured again (lowres rows, control off):
#: deltas at 18 with anchors at 5 27.91 / 0.853 / 0.057 at 22.2 kbit/s, 16 28.15 / 0.860 / 0.055 at 23.8,
#: anchors at 4 with deltas at 20 / 18 / 16 27.77 / 27.99 / 28.23 dB at 21.7 / 22.9 / 24.6 kbit/s: finer
#: deltas now buy more per bit than finer anchors. Step 18 is the finest that keeps cvsc, label maps
#: included, within 25 kbit/s on the set: 28.13 dB / 0.852 / 0.047 at 24.5 kbit/s
TUNED_CHAINED = {**TUNED_LOWRES, "lowres_quant": 18, "anchor_lowres_quant": 5, "lowres_reference": "best",
                 "lowres_backprojection": 6}


#: cvsc's delta strength, tuned on the dev set (benchmarks/results/bench_devset.txt): noising the warped
#: reconstruction to 0.1 of the 10-step schedule (one evaluation per delta) shows the same frames as 0.3
#: (three): whole set 25.78 dB / SSIM 0.777 / LPIPS 0.083 against 25.79 / 0.775 / 0.083 with control
#: off, 27.02 / 0.829 / 0.056 against 27.00 / 0.828 / 0.056 adaptive, at 1.60 and 2.18 evaluations per
#: frame instead of 3.47 and 3.94. A delta's quality comes from its anchor (warped and back-projected
#: onto the delta's low-res frame), not from the refinement steps, so these are receiver time saved
TUNED_STRENGTH = 0.1

#: cvsc's share of the generated detail shown (``codec.detail_scale``) on frames the low-res frame alone
#: conditions, tuned on the dev set (its cvsc rows, the same bytes and evaluations at every scale; whole
#: set, PSNR dB / SSIM / LPIPS / DISTS, control off, every frame at the one scale): 0 (the ``lowres`` row)
#: 27.91 / 0.853 / 0.057 / 0.140, 0.25 28.09 / 0.857 / 0.056 / 0.138, 0.5 28.19 / 0.858 / 0.053 / 0.136,
#: 0.75 28.20 / 0.856 / 0.050 / 0.136, 1 (as sampled) 28.13 / 0.852 / 0.047 / 0.137, 1.5 27.78 / 0.838 /
#: 0.047 / 0.142. Per clip it differs: on the six photographs and the dead-leaves clip the shipped model's
#: detail is part signal, part noise (at 0.75 the photographs are within 0.1 dB / 0.004 SSIM / 0.001
#: LPIPS of the stream without generation, as sampled -0.008 SSIM), on the procedural clip (the content
#: it was trained on, with labels) the sampled detail is better on all four (26.93 / 0.810 / 0.051 /
#: 0.126 against 26.85 / 0.808 / 0.066 / 0.133 at 0.75 and 26.52 / 0.801 / 0.086 / 0.143 at 0.5). With
#: labelled frames at 1 (:data:`TUNED_LABELLED_DETAIL`) the set comes to 28.24 / 0.859 / 0.049 / 0.134
#: at 0.5 against 28.21 / 0.856 / 0.048 / 0.135 at 0.75 (adaptive 29.44 / 0.899 / 0.035 / 0.116 against
#: 29.38 / 0.895 / 0.034 / 0.117; from the rows above and the procedural clip's at each scale): 0.5, the
#: better PSNR, SSIM and DISTS for 0.001 LPIPS
TUNED_DETAIL = 0.5

#: cvsc's share on a frame conditioned on a label map (``codec.labelled_detail_scale``): all of it. There
#: the detail follows the labels, information the low-res frame lacks (the procedural clip above). An edge
#: map (``codec.structure``) does not earn it: on four unlabelled dev-set clips (grace_hopper, minduka, mri,
#: dead_leaves) cvsc with edge maps on every frame showed 28.38 dB / 0.866 / LPIPS 0.045 / DISTS 0.140
#: with all of the detail on edge-conditioned frames against 28.55 / 0.875 / 0.047 / 0.136 at 0.5
TUNED_LABELLED_DETAIL = 1.0

#: the share of the generated detail cvsc (and reuse, on the same stream) shows
TUNED_SHOWN = {"detail_scale": TUNED_DETAIL, "labelled_detail_scale": TUNED_LABELLED_DETAIL}


#: cvsc's anchor schedule with the shipped model (``codec.anchor_steps``; was ``codec.steps``, 10),
#: tuned on the dev set (8 clips x 4 s at 64 px, every frame decoded in order; whole set, kbit/s
#: unchanged at 24.1, PSNR dB / SSIM / LPIPS, control off): 10 steps 28.25 / 0.8591 / 0.0483, 5
#: 28.25 / 0.8591 / 0.0484, 3 28.26 / 0.8592 / 0.0485, 2 28.27 / 0.8595 / 0.0486, 1 28.24 / 0.8591 /
#: 0.0488; adaptive, 10 29.45 / 0.8988 / 0.0355 against 3 29.46 / 0.8990 / 0.0359; at 128 px (four
#: clips) 30.77 / 0.8701 / 0.0654 against 30.77 / 0.8701 / 0.0656. The model denoises the residual
#: against the upsampled low-res frame (its ``residual_lowres``), which a factor-2 anchor (step 5)
#: already pins down: the schedule past three steps changes no metric by more than 0.0005, and an
#: anchor costs 3 evaluations instead of 10 (1.13 per frame instead of 1.60), its decode the latency
#: spike of every group. A ``steps`` given sets the anchors' too; with a model folder, anchors run
#: ``steps`` (:data:`gsvc.codecs.spec.SHIPPED_MODEL_DEFAULTS`). A run that times the shipped model's
#: frames as another model's (a published profile, ``receiver.timed_as_px``) should give ``steps``, as
#: ``examples/cell_capacity.py`` does: that model's anchors need its own schedule
TUNED_ANCHOR_STEPS = 3


class CvscCodec(DiffusionCodec):
    name = "cvsc"
    capabilities = DiffusionCodec.capabilities | {"reference", "lowres_chain"}
    spec_defaults = {**TUNED_CHAINED, "strength": TUNED_STRENGTH, **TUNED_SHOWN, "anchor_steps": TUNED_ANCHOR_STEPS}
    decoder_cls = CvscDecoder
