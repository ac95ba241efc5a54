"""Adaptive control (codec.control="adaptive") on the reference-based codecs, tiny random-weight denoiser."""
import numpy as np
import pytest

import gsvc
from gsvc.codecs.base import DecodePlan, Feedback
from gsvc.codecs.control import (DeadlinePlanner, SceneChangeDetector, SenderControl, decode_control,
                                 reference_confidence, wanted_strength)
from gsvc.codecs.control.confidence import COLOUR_TOL
from gsvc.timing import LatencyProfile
from gsvc.codecs.conditions import parse_conditions
from gsvc.codecs.diffusion import fill_uncovered
from gsvc.codecs.lowres import back_project
from helpers import timing_scenario
from gsvc.codecs.motion import covered, decode_motion, warp
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.video import VideoSpec, open_source, procedural_clip
from gsvc.codecs.registry import make_codec
from test_diffusion_codecs import tiny_weights  # noqa: F401  (fixture)

NAMES = ["cvsc", "reuse", "anchor_residual", "content_motion"]


def codec(name, weights, **kw):
    settings = dict(name=name, weights=weights, steps=4, gop=4) | kw
    return make_codec(CodecSpec(**settings), VideoSpec(seconds=2.0, fps=15, resolution=64))


def encode_all(c, frames, feedback=None):
    enc = c.encoder(0)
    efs = [ef for f in frames for ef in enc.encode(f, (feedback or {}).get(f.index, []))]
    return efs + (enc.flush() if hasattr(enc, "flush") else [])


def decode_all(c, efs, budget_ms=None, cost_ms=None):
    dec = c.decoder(0)
    if cost_ms is not None:
        dec.set_cost_model(cost_ms)
    out = []
    for ef in efs:
        plan = dec.plan(ef, True, budget_ms)
        out.append((plan, dec.decode(ef, plan)))
    return out


@pytest.fixture(scope="module")
def cut_frames():
    spec = VideoSpec(seconds=2.0, fps=15, resolution=64, camera="mixed", motion_px=4, cuts_s=[0.6, 1.3])
    return open_source(spec, 5).read_all()


@pytest.fixture(scope="module")
def gentle_frames():
    """A calm clip: fixed camera, moving vehicles and pedestrians."""
    return open_source(VideoSpec(seconds=0.4, fps=15, resolution=64, camera="static"), 2).read_all()


@pytest.mark.parametrize("name", NAMES)
def test_every_detected_cut_starts_an_anchor(tiny_weights, cut_frames, name):
    efs = encode_all(codec(name, tiny_weights, control="adaptive", gop=8), cut_frames)
    detected = {ef.frame for ef in efs if decode_control(ef.sections["control"]).cut}
    assert detected == {f.index for f in cut_frames if f.scene_cut}  # found from pixels and labels only
    assert all(ef.kind == "anchor" and ef.scene_cut for ef in efs if ef.frame in detected)


def test_detector_finds_procedural_cuts_with_f1_above_0_95():
    tp = fp = fn = 0
    for seed in range(4):
        clip = procedural_clip(VideoSpec(seconds=4, fps=15, resolution=64, camera="mixed", motion_px=6,
                                         cut_rate_hz=1.0, object_speed_px=4), seed)
        det = SceneChangeDetector()
        found = np.array([det.observe(clip.rgb[k], clip.labels[k]).cut for k in range(len(clip))])
        tp += int(np.sum(found & clip.scene_cut))
        fp += int(np.sum(found & ~clip.scene_cut))
        fn += int(np.sum(~found & clip.scene_cut))
    assert tp >= 10 and 2 * tp / (2 * tp + fp + fn) >= 0.95


def test_confidence_counts_the_detail_a_prediction_explains_not_the_area():
    frame = np.ones((64, 64, 3), np.float32)  # a graphic on a plain background
    frame[8:24, 8:24] = (0.1, 0.2, 0.6)
    frame[40:44, 10:54] = 0.0
    moved = np.roll(frame, (0, 30), axis=(0, 1))  # the prediction misplaced 30 px
    area = float(np.mean(np.max(np.abs(moved - frame), axis=-1) < COLOUR_TOL))
    assert area > 0.8  # most pixels are background, explained by any prediction of it
    assert reference_confidence(moved, None, frame, None) < area - 0.1  # the misplaced edges weigh more
    assert reference_confidence(frame, None, frame, None) == 1.0
    assert reference_confidence(np.zeros_like(frame), None, np.zeros_like(frame), None) == 1.0  # no contrast
    rng = np.random.default_rng(0)
    texture = rng.random((64, 64, 3)).astype(np.float32)  # every pixel detailed: the count, near enough
    noisy = np.clip(texture + rng.normal(0, 0.1, texture.shape), 0, 1).astype(np.float32)
    plain = float(np.mean(np.max(np.abs(noisy - texture), axis=-1) < COLOUR_TOL))
    assert abs(reference_confidence(noisy, None, texture, None) - plain) < 0.02


def test_confidence_drops_at_a_cut_and_under_large_motion():
    clip = procedural_clip(VideoSpec(seconds=2, fps=15, resolution=64, camera="pan", motion_px=1, cuts_s=[1.0]), 1)
    det = SceneChangeDetector()
    seen = [det.observe(clip.rgb[k], clip.labels[k]) for k in range(len(clip))]
    cut = int(np.flatnonzero(clip.scene_cut)[0])
    calm = [s.confidence for k, s in enumerate(seen[1:], 1) if k != cut]
    # the street's moving objects hold more of the detail than of the area: calm frames 0.69-0.99
    assert seen[cut].confidence < 0.5 < 0.6 < min(calm)
    fast = procedural_clip(VideoSpec(seconds=1, fps=15, resolution=64, camera="pan", motion_px=10), 1)
    det = SceneChangeDetector(large_motion_px=8.0)
    moving = [det.observe(fast.rgb[k], fast.labels[k]) for k in range(len(fast))][1:]
    assert np.mean([s.confidence for s in moving]) < np.mean(calm) - 0.05
    assert np.mean([s.large_motion for s in moving]) > 0.8  # all but where the pan turns at the world's edge
    assert not any(s.large_motion for s in seen[1:] if not s.cut)


@pytest.mark.parametrize("name", NAMES)
def test_generous_deadline_gives_the_fixed_step_images(tiny_weights, gentle_frames, name):
    fixed = decode_all(codec(name, tiny_weights), encode_all(codec(name, tiny_weights), gentle_frames))
    c = codec(name, tiny_weights, control="adaptive")
    adaptive = decode_all(c, encode_all(c, gentle_frames), budget_ms=1e9, cost_ms=lambda evals: 10.0 * evals)
    assert all(d.confidence >= c.spec.trust_confidence for _, d in adaptive)  # a calm clip: nothing to adapt
    for (p0, d0), (p1, d1) in zip(fixed, adaptive, strict=True):
        assert (p0.path, p0.steps, p0.unet_evals) == (p1.path, p1.steps, p1.unet_evals)
        assert np.array_equal(d0.image, d1.image)


@pytest.mark.parametrize("name", NAMES)
def test_control_section_is_two_counted_bytes_and_changes_nothing_else(tiny_weights, gentle_frames, name):
    off = encode_all(codec(name, tiny_weights), gentle_frames)
    on = encode_all(codec(name, tiny_weights, control="adaptive"), gentle_frames)
    for a, b in zip(off, on, strict=True):
        assert len(b.sections["control"]) == 2 and b.nbytes == a.nbytes + 2
        assert {k: v for k, v in b.sections.items() if k != "control"} == a.sections


def test_low_confidence_starts_from_more_noise_with_more_steps(tiny_weights, cut_frames):
    assert wanted_strength(0.3, 0.9, 0.7) == 0.3 and wanted_strength(0.3, float("nan"), 0.7) == 0.3
    assert wanted_strength(0.3, 0.35, 0.7) == pytest.approx(0.65) and wanted_strength(0.3, 0.0, 0.7) == 1.0
    c = codec("cvsc", tiny_weights, control="adaptive", steps=10, strength=0.3, gop=30, drift_limit=1.0,
              trust_confidence=0.9)
    out = decode_all(c, encode_all(c, cut_frames[:9]))
    steps = {round(d.confidence, 2): p.steps for p, d in out if p.path == "refine"}
    lo, hi = min(steps), max(steps)
    assert hi >= 0.9 and steps[hi] == 3  # trusted: the codec's own ceil(0.3 * 10) = 3 steps
    assert lo < 0.8 and steps[lo] > 3


def test_planner_takes_the_best_plan_that_fits_else_the_cheapest():
    planner = DeadlinePlanner(margin_ms=5.0)
    ladder = [DecodePlan("refine", 4, 4), DecodePlan("refine-short", 2, 2), DecodePlan("warp"), DecodePlan("repeat")]
    assert planner.choose(ladder, 1.0) is ladder[0]  # no cost model yet: the wanted plan
    planner.set_cost_model(lambda evals: 1.0 + 10.0 * evals)
    assert planner.choose(ladder, 46.0) is ladder[0]
    assert planner.choose(ladder, 45.9) is ladder[1]
    assert planner.choose(ladder, 6.0) is ladder[2]
    # nothing fits: the cheapest; warp and repeat cost the same (no evaluation), so the better, warp
    assert planner.choose(ladder, -3.0) is ladder[2]
    assert planner.choose(ladder, None) is ladder[0]
    shorter = [DecodePlan("refine", 4, 4), DecodePlan("refine-short", 2, 2), DecodePlan("refine-short", 1, 1)]
    assert planner.choose(shorter, -3.0) is shorter[2]  # a faster last rung is taken


def test_an_anchor_that_fits_no_generation_is_shown_from_its_low_res_frame_not_repeated():
    """A content frame (content_motion) or an anchor that even one step does not fit: the ``lowres`` rung
    costs what ``repeat`` costs in the latency model and keeps the reference, so every frame after it
    decodes; a repeated anchor left the group concealed (content_motion adaptive on the pedestrian-urban
    preset, whose default playout delay leaves no time for a content frame: 14 dB, every frame concealed)."""
    planner = DeadlinePlanner(margin_ms=5.0)
    planner.set_cost_model(lambda evals: 1.0 + 10.0 * evals)
    ladder = [DecodePlan("generate", 3, 3), DecodePlan("generate-short", 1, 1), DecodePlan("lowres"),
              DecodePlan("repeat")]
    assert planner.choose(ladder, 0.0).path == "lowres"
    # through the simulator: a 350 ms playout delay leaves a content frame held 5 frames (333 ms) too
    # little time for a step; each group is shown from its low-res content frame instead of concealed
    sc = timing_scenario(video=dict(seconds=3, fps=15, resolution=64), jitter=dict(mode="fixed", delay_ms=350),
                         codec=dict(name="content_motion", control="adaptive", gop=6),
                         receiver=dict(latency="profile:cpu-2core"))
    plans = gsvc.run(sc).frames.groupby("kind")["plan"].value_counts()
    assert plans["anchor"].get("lowres", 0) >= 6 and "repeat" not in plans["anchor"]
    assert "conceal" not in plans["delta"]


def test_planner_keeps_the_latency_models_tail_free_where_it_exceeds_the_margin():
    planner = DeadlinePlanner(margin_ms=5.0, risk=0.02)
    ladder = [DecodePlan("refine", 4, 4), DecodePlan("refine-short", 2, 2), DecodePlan("warp"), DecodePlan("repeat")]
    planner.set_cost_model(lambda evals: 1.0 + 10.0 * evals)
    asked = []
    planner.set_service_tail(lambda risk: (asked.append(risk), 12.0)[1])
    assert planner.choose(ladder, 53.0) is ladder[0]  # 41 ms expected + 12 ms of tail
    assert planner.choose(ladder, 52.9) is ladder[1]
    assert set(asked) == {0.02}  # the tail at the codec's own risk
    planner.set_service_tail(lambda risk: 1.0)  # a tail under the margin: the margin holds
    assert planner.choose(ladder, 46.0) is ladder[0] and planner.choose(ladder, 45.9) is ladder[1]


def test_adaptive_plans_leave_room_for_a_profiles_rare_long_decodes():
    # one decode in 20 takes 40 ms longer: a plan at the default 1 % risk keeps that free, one at 50 % does not
    prof = LatencyProfile(eval_ms={"64": {"1": 20.0}}, jitter=dict(dist="empirical", samples_ms=[0.0] * 19 + [40.0]))

    def run(risk):
        return gsvc.run(Scenario(name="t", seed=1, video=dict(seconds=4, fps=10, resolution=64),
                                 codec=dict(name="cvsc", steps=4, control="adaptive", deadline_risk=risk),
                                 channel=dict(model="ideal"), jitter=dict(mode="fixed", delay_ms=60),
                                 receiver=dict(latency=prof, shed="off", decode="timing-only"))).summary

    safe, bold = run(0.01), run(0.5)
    assert safe["deadline_miss_rate"] == 0.0 and bold["deadline_miss_rate"] > 0.02
    assert bold["unet_evals_per_frame"] > safe["unet_evals_per_frame"]


def test_warp_and_repeat_paths_show_the_warped_reference_and_the_last_image(tiny_weights, cut_frames):
    c = codec("cvsc", tiny_weights, control="adaptive")
    efs = encode_all(c, cut_frames[:3])
    dec = c.decoder(0)
    calls = []
    dec.decode(efs[0], dec.plan(efs[0], True, None))
    unet = c.denoiser.unet
    orig = unet.forward
    unet.forward = lambda *a, **k: (calls.append(1), orig(*a, **k))[1]
    try:
        dec.plan(efs[1], True, None)
        warped = dec.decode(efs[1], DecodePlan("warp"))
        m = decode_motion(efs[1].sections["motion"])
        lowres = parse_conditions(efs[1].sections, dec.ref_parts, m, 64)["lowres"]
        # the reference moved to the frame, what the motion uncovered filled from the frame's low-res version
        filled = fill_uncovered(warp(dec.ref_image, m), covered(m, 64), lowres)
        want = back_project(filled, lowres, c.spec.lowres_backprojection)
        assert np.array_equal(warped.image, want)
        dec.plan(efs[2], True, None)
        repeated = dec.decode(efs[2], DecodePlan("repeat"))
        assert repeated.image is warped.image and warped.unet_evals == repeated.unet_evals == 0 and not calls
    finally:
        unet.forward = orig


def _tight(name, weights, control):
    """A run whose deadline leaves no time for even one denoiser evaluation (100 ms each).

    content_motion holds a group of 6 frames before it sends them: 5 frame intervals more delay.
    Load shedding is off: the comparison is the codec alone against the controller.
    """
    delay_ms = 60.0 + (5 * 1000 / 15 if name == "content_motion" else 0.0)
    return Scenario(video=dict(seconds=1.0, fps=15, motion_px=2, cuts_s=[0.5]),
                    codec=dict(name=name, steps=4, gop=6, weights=weights, control=control),
                    jitter=dict(mode="fixed", delay_ms=delay_ms),
                    receiver=dict(latency=LatencyProfile(eval_ms={"64": {"1": 100.0}}), shed="off"))


@pytest.mark.parametrize("name", ["cvsc", "content_motion"])
def test_tiny_deadline_never_misses_and_logs_the_fallback_path(tiny_weights, name):
    fixed = gsvc.run(_tight(name, tiny_weights, "off")).frames
    f = gsvc.run(_tight(name, tiny_weights, "adaptive")).frames
    assert (fixed["status"] == "late").mean() > 0.5
    assert (f["status"] == "late").sum() == 0
    assert "lowres" in set(f["plan"]) and not {"generate", "refine"} & set(f["plan"])
    assert (f["steps"] < 4).all() and f["psnr_db"].notna().all()  # never the full 4 steps
    assert f.loc[f["scene_cut"], "cut_detected"].all()


def test_low_confidence_request_reaches_the_sender_after_the_uplink_delay(tiny_weights):
    sc = Scenario(video=dict(seconds=1.4, fps=15, motion_px=2),
                  codec=dict(name="cvsc", steps=2, gop=100, weights=tiny_weights, control="adaptive",
                             min_confidence=1.0, drift_limit=1.0),  # every delta asks; the sender never refreshes
                  link=dict(feedback_delay_ms=150.0), jitter=dict(mode="fixed", delay_ms=300),
                  receiver=dict(latency="profile:cpu-2core"))
    f = gsvc.run(sc).frames
    asked_ms = f.loc[1, "decode_done_ms"]  # frame 1 is the first delta: it asks
    anchors = f.index[(f["kind"] == "anchor") & (f.index > 0)]
    first = int(anchors[0])
    assert f.loc[first, "capture_ms"] >= asked_ms + 150.0 > f.loc[first - 1, "capture_ms"]


def test_sender_ignores_feedback_that_a_newer_anchor_already_answers():
    ctl = SenderControl(CodecSpec(name="cvsc", control="adaptive"))
    ctl.anchor_frame = 10
    assert not ctl.feedback_wants_anchor([Feedback("anchor_request", 9, 0.0)])
    assert ctl.feedback_wants_anchor([Feedback("anchor_request", 10, 0.0)])
    assert not ctl.feedback_wants_anchor([Feedback("loss", 12, 0.0)])  # a lost delta breaks no reference
    assert ctl.feedback_wants_anchor([Feedback("loss", 10, 0.0)])


def test_adaptive_control_needs_a_reference_based_codec():
    with pytest.raises(SpecError, match="codec.control"):
        Scenario(codec=dict(name="full", control="adaptive"))
    with pytest.raises(SpecError, match="codec.min_confidence"):
        CodecSpec(name="cvsc", min_confidence=1.5)


def test_content_motion_refines_the_frames_its_warp_explains_badly(tiny_weights, cut_frames):
    c = codec("content_motion", tiny_weights, control="adaptive", gop=8, trust_confidence=0.9)
    efs = encode_all(c, cut_frames)
    out = decode_all(c, efs, budget_ms=1e9, cost_ms=lambda evals: 10.0 * evals)
    for ef, (plan, d) in zip(efs, out, strict=True):
        if ef.kind == "delta":
            assert ("semantic" in ef.sections) == (d.confidence < 0.9)
            assert (plan.path == "refine" and d.unet_evals >= 2) == ("semantic" in ef.sections)
    assert any(p.path == "refine" for p, _ in out) and any(p.path == "warp" for p, _ in out)
    tight = decode_all(c, efs, budget_ms=9.0, cost_ms=lambda evals: 10.0 * evals)  # room for no evaluation
    assert {p.path for p, _ in tight} <= {"lowres", "warp"}


def test_content_motion_refines_a_group_first_frame_from_the_content_it_generates(tiny_weights, cut_frames):
    c = codec("content_motion", tiny_weights, control="adaptive", gop=8, trust_confidence=0.9)
    efs = encode_all(c, cut_frames)
    own = [ef for ef in efs if ef.kind == "anchor" and "own_lowres" in ef.sections]
    assert own and len(own) < sum(ef.kind == "anchor" for ef in efs)  # sent where the warp falls short only
    ef = own[0]
    k = 2  # ceil(0.3 * 4) steps: the codec's own refinement strength

    def decode_group(budget_ms):
        dec = c.decoder(0)
        dec.set_cost_model(lambda evals: 10.0 * evals)
        calls = []
        orig = c.denoiser.unet.forward
        c.denoiser.unet.forward = lambda *a, **kw: (calls.append(1), orig(*a, **kw))[1]
        try:
            plan = dec.plan(ef, True, budget_ms)
            shown = dec.decode(ef, plan)
        finally:
            c.denoiser.unet.forward = orig
        return plan, shown, len(calls), warp(dec.ref_image, decode_motion(ef.sections["motion"]))

    plan, shown, calls, warped = decode_group(1e9)
    assert (plan.path, plan.steps, plan.refine_steps, plan.unet_evals) == ("generate", 4, k, 4 + k)
    assert calls == shown.unet_evals == 4 + k  # the evaluations the plan said ran, and were counted
    assert not np.allclose(shown.image, warped)  # the frame shown is refined, not the content moved to it
    # under a deadline the content's schedule shortens first, then the refinement is given up
    plan, shown, calls, warped = decode_group(10.0 * (1 + k) + 8.0)
    assert (plan.path, plan.steps, plan.refine_steps, calls) == ("generate-short", 1, k, 1 + k)
    plan, shown, calls, warped = decode_group(10.0 * (1 + k) + 7.0)
    assert (plan.path, plan.steps, plan.refine_steps, calls) == ("generate-short", k, 0, k)
    assert np.array_equal(shown.image, warped)
    # codec.anchor_steps sets the content's schedule; the refinement keeps the codec's own
    c3 = codec("content_motion", tiny_weights, control="adaptive", gop=8, trust_confidence=0.9, anchor_steps=3)
    assert c3.decoder(0).plan_frame(ef, None) == DecodePlan("generate", 3, 3 + k, refine_steps=k)
