"""Diffusion codecs (tiny random-weight denoiser): real bytes, determinism, concealment, evaluation counts."""
import dataclasses

import numpy as np
import pytest

import gsvc
from gsvc.codecs.base import Feedback
from gsvc.codecs.denoiser import DenoiserConfig
from gsvc.codecs.model import Denoiser, save_denoiser
from gsvc.codecs.motion import MotionField, decode_motion, encode_motion, estimate_motion
from gsvc.codecs.registry import make_codec
from gsvc.codecs.semantic import decode_labels, encode_labels
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.video import VideoSpec, open_source, procedural_clip

TINY = DenoiserConfig(block_out_channels=(8, 16, 16), norm_num_groups=4, attention_at_lowest=False)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return str(save_denoiser(Denoiser.fresh(TINY, seed=1), tmp_path_factory.mktemp("w") / "denoiser.safetensors"))


@pytest.fixture(scope="module")
def frames():
    return open_source(VideoSpec(seconds=0.6, fps=15, resolution=64, motion_px=2), 3).read_all()


def codec(name, weights, **kw):
    video = VideoSpec(seconds=0.6, fps=15, resolution=64)
    return make_codec(CodecSpec(name=name, weights=weights, steps=4, gop=4, **kw), video)


def test_label_maps_round_trip_intra_and_inter():
    clip = procedural_clip(VideoSpec(seconds=0.4, fps=15, resolution=64), 2)
    intra = encode_labels(clip.labels[0])
    assert np.array_equal(decode_labels(intra), clip.labels[0])
    m = decode_motion(encode_motion(estimate_motion(clip.rgb[0], clip.rgb[2])))
    from gsvc.codecs.motion import warp_labels
    pred = warp_labels(clip.labels[0], m)
    inter = encode_labels(clip.labels[2], pred)
    assert np.array_equal(decode_labels(inter, pred), clip.labels[2])
    assert len(inter) < len(intra)


def test_motion_round_trips_through_bytes():
    rgb = procedural_clip(VideoSpec(seconds=0.2, fps=15, resolution=64), 2).rgb
    m = estimate_motion(rgb[0], rgb[1])
    back = decode_motion(encode_motion(m))
    assert back.global_px == m.global_px and np.array_equal(back.blocks_px, m.blocks_px)
    big = MotionField((-4000.25, 3.75), np.round(np.random.default_rng(0).normal(0, 9, (17, 3, 2)) * 4) / 4)
    back = decode_motion(encode_motion(big))  # a grid of 16 blocks a side or more takes the longer header
    assert back.global_px == big.global_px and np.array_equal(back.blocks_px, big.blocks_px)
    assert len(encode_motion(m)) < len(encode_motion(big))


def test_encoded_sizes_are_the_lengths_of_real_bytes(tiny_weights, frames):
    enc = codec("cvsc", tiny_weights).encoder(0)
    efs = [ef for f in frames for ef in enc.encode(f, [])]
    assert [ef.kind for ef in efs[:5]] == ["anchor", "delta", "delta", "delta", "anchor"]
    for ef in efs:
        assert ef.nbytes == sum(len(b) for b in ef.sections.values()) > 0
    assert set(efs[1].sections) == {"motion", "semantic", "lowres"}


def test_decode_is_deterministic_for_a_seed(tiny_weights, frames):
    def decode_all(seed):
        c = codec("cvsc", tiny_weights)
        enc, dec = c.encoder(0), c.decoder(seed)
        out = []
        for f in frames[:3]:
            for ef in enc.encode(f, []):
                out.append(dec.decode(ef, dec.plan(ef, True, None)).image)
        return np.stack(out)
    a, b, c2 = decode_all(5), decode_all(5), decode_all(6)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c2)


@pytest.mark.parametrize("name,expect", [("full", [4, 4, 4]), ("oneshot", [1, 1, 1]), ("cvsc", [4, 2, 2])])
def test_denoiser_evaluations_equal_what_the_plan_said(tiny_weights, frames, name, expect):
    c = codec(name, tiny_weights, strength=0.5)
    calls = []
    unet = c.denoiser.unet
    orig = unet.forward
    unet.forward = lambda *a, **k: (calls.append(1), orig(*a, **k))[1]
    try:
        enc, dec = c.encoder(0), c.decoder(0)
        for f, want in zip(frames, expect):
            ef = enc.encode(f, [])[0]
            plan = dec.plan(ef, True, None)
            before = len(calls)
            d = dec.decode(ef, plan)
            assert plan.unet_evals == want == d.unet_evals == len(calls) - before
    finally:
        unet.forward = orig


def test_truncated_or_bit_flipped_payload_is_concealed_not_a_crash(tiny_weights, frames):
    c = codec("cvsc", tiny_weights)
    enc, dec = c.encoder(0), c.decoder(0)
    a = enc.encode(frames[0], [])[0]
    dec.decode(a, dec.plan(a, True, None))
    d = enc.encode(frames[1], [])[0]
    broken = dataclasses.replace(d, sections={k: v[: len(v) // 2] for k, v in d.sections.items()})
    out = dec.decode(broken, dec.plan(broken, True, None))
    assert out.path == "conceal" and out.unet_evals == 0
    flipped = dataclasses.replace(d, sections={k: bytes(b ^ 0xFF for b in v) for k, v in d.sections.items()})
    assert dec.decode(flipped, dec.plan(flipped, True, None)).path == "conceal"
    # deltas refer to the anchor, not to each other: the next delta decodes normally
    d2 = enc.encode(frames[2], [])[0]
    assert dec.plan(d2, True, None).path == "refine"


def test_lost_anchor_breaks_the_reference_until_the_next_anchor(tiny_weights, frames):
    c = codec("cvsc", tiny_weights)
    enc, dec = c.encoder(0), c.decoder(0)
    a = enc.encode(frames[0], [])[0]
    out = dec.decode(a, dec.plan(a, False, None))  # incomplete anchor
    assert out.path == "conceal" and out.request_anchor
    d = enc.encode(frames[1], [])[0]
    assert dec.plan(d, True, None).path == "conceal"
    a2 = enc.encode(frames[2], [Feedback("anchor_request", 0, 0.0)])[0]
    assert a2.kind == "anchor"
    dec.decode(a2, dec.plan(a2, True, None))
    assert dec.plan(enc.encode(frames[3], [])[0], True, None).path == "refine"


def test_loss_feedback_makes_the_sender_send_an_anchor(tiny_weights, frames):
    enc = codec("cvsc", tiny_weights).encoder(0)
    enc.encode(frames[0], [])
    assert enc.encode(frames[1], [])[0].kind == "delta"
    assert enc.encode(frames[2], [Feedback("loss", 1, 0.1)])[0].kind == "anchor"


def test_missing_weights_error_says_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="gsvc train"):
        Denoiser.load(tmp_path / "nope.safetensors")


def test_simulated_run_with_cvsc_scores_what_the_viewer_saw(tiny_weights):
    sc = Scenario(video=dict(seconds=0.6, fps=15), codec=dict(name="cvsc", steps=4, gop=4, weights=tiny_weights),
                  receiver=dict(latency="profile:cpu-2core", shed="off"))  # every frame decoded, however late
    r = gsvc.run(sc)
    f = r.frames
    assert f["psnr_db"].notna().all() and f["ssim"].notna().all()
    assert r.meta["timing_only"] is False
    assert set(f["plan"]) <= {"generate", "refine"}
    assert (f.loc[f["kind"] == "delta", "unet_evals"] == 1).all()  # ceil(0.1 * 4): cvsc's own strength


@pytest.mark.parametrize("control", ["off", "adaptive"])
def test_a_full_size_anchor_is_shown_as_sent_without_the_denoiser(tiny_weights, frames, control):
    from gsvc.codecs.lowres import decode_lowres
    c = codec("cvsc", tiny_weights, anchor_lowres_factor=1, anchor_lowres_quant=4, control=control)
    enc, dec = c.encoder(0), c.decoder(0)
    efs = [ef for f in frames[:2] for ef in enc.encode(f, [])]
    anchor, delta = efs
    plan = dec.plan(anchor, True, 1e9)
    assert (plan.path, plan.unet_evals) == ("classic", 0)
    out = dec.decode(anchor, plan)
    assert out.unet_evals == 0 and not out.request_anchor
    assert np.array_equal(out.image, decode_lowres(anchor.sections["lowres"]))
    nxt = dec.plan(delta, True, 1e9)
    assert nxt.path == "refine" and nxt.unet_evals > 0  # the deltas still refine from it
    assert dec.decode(delta, nxt).image.shape == (64, 64, 3)


@pytest.mark.parametrize("name", ["cvsc", "reuse", "content_motion", "anchor_residual", "full", "oneshot", "lowres"])
def test_every_codec_with_anchors_shows_a_full_size_anchor_as_sent(tiny_weights, name):
    sc = Scenario(video=dict(seconds=0.4, fps=15), receiver=dict(latency="profile:sd15-a100", shed="off"),
                  codec=dict(name=name, weights=None if name == "lowres" else tiny_weights, steps=4, gop=3,
                             anchor_lowres_factor=1, anchor_lowres_quant=4))
    f = gsvc.run(sc).frames
    anchors = f[f["kind"] == "anchor"]
    assert len(anchors) >= 2 and (anchors["plan"] == "classic").all() and (anchors["unet_evals"] == 0).all()
    if name != "content_motion":  # whose anchor frame shows its group's content frame moved to it
        assert anchors["psnr_db"].min() > 35  # the anchor as coded at step 4, not a generated image


@pytest.mark.parametrize("name", ["cvsc", "reuse", "anchor_residual", "full", "oneshot", "content_motion"])
def test_detail_scale_zero_shows_an_anchor_without_what_the_denoiser_added(tiny_weights, frames, name):
    from gsvc.codecs.lowres import back_project, decode_lowres, upsample_lowres
    shown = {}
    for scale in (0.0, 1.0):
        c = codec(name, tiny_weights, detail_scale=scale)
        enc, dec = c.encoder(0), c.decoder(0)
        anchor = next(ef for f in frames for ef in enc.encode(f, []))  # content_motion sends a group at once
        dec.decode(anchor, dec.plan(anchor, True, 1e9))
        shown[scale] = dec.ref_image  # the anchor as shown (content_motion: its group's content frame)
    lowres = decode_lowres(anchor.sections["lowres"])
    plain = back_project(upsample_lowres(lowres, 64), lowres, c.spec.lowres_backprojection)
    np.testing.assert_allclose(shown[0.0], plain, atol=1e-5)  # the upsampled low-res frame, back-projected
    assert float(np.abs(shown[1.0] - plain).mean()) > 1e-3  # as sampled: the denoiser's change shown
