"""reuse, anchor_residual and content_motion (tiny random-weight denoiser)."""
import numpy as np
import pytest

import gsvc
from gsvc.scenarios import Scenario
from test_diffusion_codecs import codec, frames, tiny_weights  # noqa: F401  (fixtures)

NAMES = ["reuse", "anchor_residual", "content_motion"]


def decode_stream(c, frames, seed=0, drop=()):
    enc, dec = c.encoder(0), c.decoder(seed)
    efs = [ef for f in frames for ef in enc.encode(f, [])]
    if hasattr(enc, "flush"):
        efs += enc.flush()
    out = []
    for ef in efs:
        plan = dec.plan(ef, ef.frame not in drop, None)
        out.append((ef, plan, dec.decode(ef, plan)))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_frame_decodes_deterministically_from_real_bytes(tiny_weights, frames, name):
    a = decode_stream(codec(name, tiny_weights), frames)
    b = decode_stream(codec(name, tiny_weights), frames)
    assert [ef.frame for ef, _, _ in a] == list(range(len(frames)))
    for (ef, plan, d), (_, _, d2) in zip(a, b):
        assert ef.nbytes == sum(map(len, ef.sections.values())) > 0
        assert np.array_equal(d.image, d2.image)
        assert d.unet_evals == plan.unet_evals


@pytest.mark.parametrize("name", NAMES)
def test_lost_frame_is_concealed_and_the_stream_recovers(tiny_weights, frames, name):
    out = decode_stream(codec(name, tiny_weights), frames, drop={1})
    plans = {ef.frame: (plan.path, d.path) for ef, plan, d in out}
    assert plans[1][0] == "conceal"
    assert all(d.image is not None and d.image.shape == (64, 64, 3) for _, _, d in out)
    assert any(p[0] != "conceal" for f, p in plans.items() if f > 1)


def test_reuse_needs_fewer_evaluations_per_non_reference_frame_than_full(tiny_weights, frames):
    reuse = decode_stream(codec("reuse", tiny_weights, strength=0.25), frames)
    deltas = [d.unet_evals for ef, _, d in reuse if ef.kind == "delta"]
    assert deltas and max(deltas) <= 4 and np.mean(deltas) < 4  # full runs all 4 steps on every frame


def test_reuse_runs_as_many_steps_per_delta_as_cvsc_whatever_the_motion(tiny_weights, frames):
    evals = {}
    for name in ("reuse", "cvsc"):
        out = decode_stream(codec(name, tiny_weights, strength=0.25), frames)
        evals[name] = [d.unet_evals for ef, _, d in out if ef.kind == "delta"]
        assert max(ef.meta.get("distance_px", 0) for ef, _, _ in out) > 1  # the frames do move
    assert evals["reuse"] == evals["cvsc"] and set(evals["reuse"]) == {1}  # ceil(0.25 * 4)


def test_anchor_schedule_sets_anchors_and_reuse_deltas_finish_it(tiny_weights, frames):
    # steps=4: reuse's deltas resume the anchor's 8-step schedule (ceil(0.25 * 8) = 2 steps) from its cached
    # sample two steps before the end; anchor_residual's deltas keep their own 4-step one (ceil(0.25 * 4) = 1)
    want = {"reuse": (8, 2), "anchor_residual": (8, 1)}
    for name, (anchor, delta) in want.items():
        out = decode_stream(codec(name, tiny_weights, strength=0.25, anchor_steps=8), frames)
        evals = {(ef.kind, d.unet_evals) for ef, _, d in out}
        assert evals == {("anchor", anchor), ("delta", delta)}, name
    dec = codec("reuse", tiny_weights, anchor_steps=8).decoder(0)
    assert dec.schedule_steps() == 8  # before any anchor: the planner's ladder assumes the anchor's schedule


def test_reuse_after_an_anchor_shown_without_sampling_plans_the_same_without_the_model(tiny_weights, frames):
    """An anchor the controller could only show from its low-res frame caches no samples: the delta
    after it can only warp, in a real decode and in a timing-only run (which divided by zero)."""
    from gsvc.codecs.base import DecodePlan
    c = codec("reuse", tiny_weights, control="adaptive")
    enc = c.encoder(0)
    efs = [ef for f in frames[:2] for ef in enc.encode(f, [])]
    assert [ef.kind for ef in efs] == ["anchor", "delta"]
    real, timed = c.decoder(0), c.decoder(0)
    for dec in (real, timed):
        dec.plan(efs[0], True, None)
    real.decode(efs[0], DecodePlan("lowres"))
    timed.advance(efs[0], DecodePlan("lowres"))
    plans = [dec.plan(efs[1], True, 1e3) for dec in (real, timed)]
    assert plans[0] == plans[1] and plans[0].path == "warp"


def test_anchor_residual_deltas_send_one_closed_loop_residual(tiny_weights, frames):
    c = codec("anchor_residual", tiny_weights)
    enc, dec = c.encoder(0), c.decoder(0)
    deltas = 0
    for f in frames:
        (ef,) = enc.encode(f, [])
        plan = dec.plan(ef, True, None)
        if ef.kind == "delta":
            deltas += 1
            assert set(ef.sections) <= {"lowres", "semantic"} and "lowres" in ef.sections  # no second residual
            parsed = dec._parse(ef)
            lowres, start = parsed["lowres"], parsed["ref"]
            n = lowres.shape[0]
            own = start.reshape(n, 64 // n, n, 64 // n, 3).mean((1, 3))
            # the start carries the frame's own low-res frame, not the anchor's (unmoved, it differs)
            anchor_low = dec.ref_image.reshape(n, 64 // n, n, 64 // n, 3).mean((1, 3))
            assert np.abs(own - lowres).mean() < 0.25 * np.abs(anchor_low - lowres).mean()
        dec.decode(ef, plan)
    assert deltas >= 2


def test_anchor_residual_needs_the_low_res_stream_of_every_frame(tiny_weights):
    with pytest.raises(ValueError, match="codec.lowres='all'"):
        codec("anchor_residual", tiny_weights, lowres="anchors")


def test_content_motion_runs_the_denoiser_once_per_group(tiny_weights, frames):
    out = decode_stream(codec("content_motion", tiny_weights), frames)
    evals = [d.unet_evals for _, _, d in out]
    groups = sum(ef.kind == "anchor" for ef, _, _ in out)
    assert sum(evals) == groups * 4 and groups == int(np.ceil(len(frames) / 4))


def test_content_motion_group_buffering_shows_in_latency(tiny_weights):
    def latency(name):
        sc = Scenario(video=dict(seconds=1.2, fps=15), jitter=dict(mode="fixed", delay_ms=800),
                      codec=dict(name=name, steps=2, gop=6, weights=tiny_weights), receiver=dict(latency="profile:cpu-2core"))
        return gsvc.run(sc).frames
    from gsvc.timing import load_profile
    encode_ms = load_profile("cpu-2core").encode_ms
    f = latency("content_motion")
    wait = f["encode_done_ms"] - f["capture_ms"]
    # the first frame of each group waits for the other five captures (5 x 66.7 ms), then is encoded
    assert wait.iloc[0] == pytest.approx(5 * 1000 / 15 + encode_ms, abs=1e-6)
    assert wait.iloc[5] == pytest.approx(encode_ms, abs=1e-6)
    assert (f["encode_done_ms"].diff().fillna(0) >= 0).all()
