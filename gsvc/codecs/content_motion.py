"""``content_motion``: CMD (content + motion). The sender buffers a group of ``codec.gop``
frames, aligns every frame to the group's middle (key) frame with its motion field and
averages them with importance weights ``exp(-mse / 0.005)`` (frames that align well
count more) into one *content frame*; it sends the group's conditions once (the key frame's
labels, the content frame's low-res version and structure map, as switched on), and one
motion field (key -> frame) per frame. The receiver runs the
image denoiser once per group, for the content frame, and makes every frame by warping
the content frame with its motion: no denoiser work at all. The sender cannot encode
before the whole group is captured, so the group's buffering delay is part of every
frame's latency. Under ``codec.control="adaptive"`` a cut or drift closes a group early, and a
frame that the warped content explains poorly also carries its conditions so that the receiver
can refine it (the only denoiser work on a motion frame); the group's first frame, the anchor,
carries its own under names prefixed :data:`OWN`, and is refined after the content is generated
(``DecodePlan.refine_steps``; under a deadline the content's schedule is shortened before the
refinement is given up, :mod:`gsvc.codecs.control.planner`). ``codec.anchor_steps`` sets the content
frame's schedule (None: ``steps``; unlike cvsc's, not three by default: on the dev set, adaptive, a
three-step content costs +0.0025 LPIPS for 0.8 fewer evaluations per frame). With a latent back-end the content
frame's latent is sampled once per group and decoded once; a refinement starts from that
latent warped by the frame's motion."""
from __future__ import annotations

import numpy as np

from .base import DecodePlan, EncodedFrame
from .control.confidence import reference_confidence
from .conditions import PARTS, ConditionCoder, parse_conditions
from .diffusion import NO_DENOISER, DiffusionCodec, DiffusionDecoder, parsed_or_corrupt
from .lowres import upsample_lowres
from .motion import covered, decode_motion, encode_motion, estimate_motion, motion_block_px, warp, warp_labels
from .ratelevels import LadderRateControl

IMPORTANCE_MSE = 0.005
#: prefix of the sections that carry an anchor's own conditions (its frame refined from the content)
OWN = "own_"


def own_sections(ef: EncodedFrame) -> dict[str, bytes]:
    """The conditions an anchor carries for its own frame, under their names without :data:`OWN`."""
    return {name[len(OWN):]: data for name, data in ef.sections.items() if name.startswith(OWN)}


class ContentMotionEncoder(LadderRateControl):
    """Buffers a group of frames. Feedback needs no answer here: every group starts with an anchor.

    Under adaptive control a group is also closed early, before the frame that starts a new
    one: at a detected cut, or when the group's first frame explains less than
    ``1 - drift_limit`` of the new frame.
    """

    def __init__(self, codec):
        self.codec, self.spec = codec, codec.spec
        self.group: list = []
        self.cond = ConditionCoder(self.spec, codec.video.resolution)
        self.control = None
        if self.spec.control == "adaptive":
            from .control import SenderControl
            self.control = SenderControl(self.spec)
        self.changes: dict = {}  # frame index -> SceneChange (adaptive control)
        self.drift_start = False  # the buffered group was started by drift

    def encode(self, frame, feedback) -> list[EncodedFrame]:
        out = []
        if self.control is not None:
            rgb = np.asarray(frame.rgb, np.float32)
            change = self.control.observe(rgb, frame.labels)
            self.changes[frame.index] = change
            drift = bool(self.group) and not change.cut and self._drifted(rgb, frame.labels)
            if self.group and (change.cut or drift):
                out = self.flush()
                self.drift_start = drift
            elif not self.group:
                self.drift_start = False
        self.group.append(frame)
        if len(self.group) >= self.spec.gop:
            out += self.flush()
        return out

    def _drifted(self, rgb: np.ndarray, labels: np.ndarray) -> bool:
        first = self.group[0]
        first_rgb = np.asarray(first.rgb, np.float32)
        m = estimate_motion(first_rgb, rgb)
        predicted = None if first.labels is None else warp_labels(first.labels, m)
        return self.control.drifted(reference_confidence(warp(first_rgb, m), predicted, rgb, labels))

    def flush(self) -> list[EncodedFrame]:
        """Encode whatever is buffered (the end of the clip ends a group early)."""
        if not self.group:
            return []
        frames, self.group = self.group, []
        rgb = [np.asarray(f.rgb, np.float32) for f in frames]
        m = len(frames) // 2
        key = rgb[m]
        to_key = [warp(x, estimate_motion(x, key)) for x in rgb]  # each frame seen from the key view
        w = np.array([np.exp(-np.mean((a - key) ** 2) / IMPORTANCE_MSE) for a in to_key])
        content = np.tensordot(w / w.sum(), np.stack(to_key), axes=1).astype(np.float32)
        out = []
        g0 = frames[0].index
        group_sections = self.cond.anchor(frames[m], content)  # the key frame's labels, the content's pixels
        if not group_sections:
            raise ValueError("codec.name='content_motion' has nothing to condition its content frame on: the source "
                             "has no labels (or codec.semantic='off') and codec.lowres and codec.structure are 'off'")
        for k, f in enumerate(frames):
            motion = estimate_motion(key, rgb[k], motion_block_px(self.spec.motion_block_px, key.shape[0]))
            sections = {"motion": encode_motion(motion)}
            if k == 0:
                sections.update(group_sections)
            kind = "anchor" if k == 0 else "delta"
            cut = f.scene_cut
            if self.control is not None:
                change = self.changes.pop(f.index)
                cut = change.cut and k == 0
                sent = decode_motion(sections["motion"])
                predicted = self.cond.anchor_parts.predicted_labels(sent)
                conf = reference_confidence(warp(content, sent), predicted, rgb[k], f.labels)
                if k == 0:
                    sections["control"] = self.control.anchor_section(f.index, change, self.drift_start)
                    if conf < self.spec.trust_confidence:
                        own = self.cond.delta(f, rgb[k], sent, parts=PARTS)
                        sections.update({OWN + name: data for name, data in own.items()})
                else:
                    sections["control"] = self.control.delta_section(change, conf)
                    if conf < self.spec.trust_confidence:  # the warp will not do: send conditions to refine with
                        sections.update(self.cond.delta(f, rgb[k], sent, parts=PARTS))
            out.append(EncodedFrame(f.index, kind, sections, () if k == 0 else (g0,), cut,
                                    meta={"distance_px": motion.magnitude_px(), "group": g0}))
            if self.ladder is not None:
                self.ladder.observe(out[-1].nbytes)
        return out


class ContentMotionDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        if ef.kind == "anchor":
            n = self.anchor_schedule()
            k = self.final_steps() if own_sections(ef) else 0
            return DecodePlan("generate", n, n + k, refine_steps=k)
        return DecodePlan("warp", 0, 0)

    def refine_plan(self, ef, nominal):
        """Under adaptive control a delta the warp explains badly carries its conditions: refine it
        from the warped content frame like ``cvsc`` (``ceil(strength * steps)`` steps, more at low confidence)."""
        if not set(PARTS) & set(ef.sections):
            return None
        k = self.final_steps()
        return DecodePlan("refine", k, k, strength=self.spec.strength)

    def reconstruct(self, ef, plan):
        """An anchor's content frame (generated, or its low-res frame under adaptive control) becomes the
        reference; every frame shows it warped by its motion, a delta with conditions refined from there."""
        side = self.codec.video.resolution
        motion = parsed_or_corrupt(lambda: decode_motion(ef.sections["motion"]))
        if ef.kind == "anchor":
            parsed = parsed_or_corrupt(lambda: self._parse(ef))
            if plan.path in NO_DENOISER:  # control's low-res fallback, or a full-size anchor
                content = upsample_lowres(parsed["lowres"], side)
            else:
                content = self.scale_detail(self.run_sampler(ef, parsed, plan.steps), parsed)
            self.keep_reference(ef, plan, self.agree_with_lowres(content, parsed), parsed)
        image = warp(self.ref_image, motion)
        if ef.kind == "anchor":  # its own frame's conditions, at the codec's strength, with noise of their own
            refine, sections, strength, part = plan.refine_steps, own_sections(ef), self.spec.strength, "own"
        else:
            refine, sections, strength, part = plan.unet_evals, ef.sections, plan.strength, ""
        if refine > 0:  # adaptive control sent the frame's conditions: refine it from the warped content
            parsed = {**parsed_or_corrupt(lambda: parse_conditions(sections, self.ref_parts, motion, side)),
                      "motion": motion}
            mask = covered(motion, image.shape[0])
            sampled = self.run_sampler(ef, parsed, self.spec.steps, ref=image, ref_mask=mask, strength=strength,
                                       part=part)
            image = self.agree_with_lowres(self.scale_detail(sampled, {**parsed, "ref": image, "ref_mask": mask}),
                                           parsed)
        return image, motion



class ContentMotionCodec(DiffusionCodec):
    name = "content_motion"
    capabilities = DiffusionCodec.capabilities | {"reference"}
    decoder_cls = ContentMotionDecoder

    def __init__(self, codec_spec, video_spec):
        super().__init__(codec_spec, video_spec)
        self.group_frames = codec_spec.gop

    def encoder(self, stream_seed):
        return ContentMotionEncoder(self)
