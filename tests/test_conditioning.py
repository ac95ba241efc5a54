"""Conditioning any content can supply: low-res frame and structure sections, switches, resolutions."""
import struct

import numpy as np
import pytest

import gsvc
from gsvc.codecs.denoiser import DenoiserConfig
from gsvc.codecs import lowres
from gsvc.codecs.lowres import (deblock, decode_lowres, downsample, encode_lowres, lowres_header, predict_lowres,
                                rd_cost, upsample_lowres)
from gsvc.codecs.model import Denoiser, save_denoiser, served_resolutions
from gsvc.codecs.motion import decode_motion, encode_motion, estimate_motion, warp, warp_labels
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.codecs.structure import decode_structure, edge_map, encode_structure
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.video import VideoSpec, open_source, photo_source
from gsvc.video.quality import psnr_db
from gsvc.video.stills import synthetic_image

TINY = DenoiserConfig(block_out_channels=(8, 16, 16), norm_num_groups=4)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return str(save_denoiser(Denoiser.fresh(TINY, seed=1), tmp_path_factory.mktemp("w") / "denoiser.safetensors"))


@pytest.fixture(scope="module")
def photo():
    """A generated stand-in for a photograph (no labels)."""
    return synthetic_image("dead_leaves", 7, 100, 160)


def photo_frames(photo, side=64, seconds=0.4):
    spec = VideoSpec(seconds=seconds, fps=15, resolution=side, camera="pan", motion_px=1.5, pan_angle_deg=0.0)
    return photo_source(photo, spec, 1).read_all()


def test_lowres_frame_round_trips_and_finer_steps_cost_more_and_match_better(photo):
    rgb = photo_frames(photo)[0].rgb
    sizes, errors = [], []
    for quant in (2, 8, 32):
        data, recon = encode_lowres(rgb, 4, quant)
        assert np.array_equal(decode_lowres(data), recon) and recon.shape == (16, 16, 3)
        sizes.append(len(data))
        errors.append(float(np.abs(recon - downsample(rgb, 4)).mean()))
    assert sizes[0] > sizes[1] > sizes[2]
    assert errors[0] < errors[1] < errors[2] and errors[0] < 2 / 255


def test_intra_frames_are_deblocked_in_the_loop_and_come_closer_to_their_source(photo, monkeypatch):
    frames = photo_frames(photo)
    a, b = frames[0].rgb, frames[2].rgb
    m = decode_motion(encode_motion(estimate_motion(a, b)))
    filtered = {}
    for name, fn in (("on", deblock), ("off", lambda rgb, quant, block=4: rgb)):
        monkeypatch.setattr(lowres, "deblock", fn)
        data, anchor = encode_lowres(a, 1, 32)
        assert np.array_equal(decode_lowres(data), anchor)  # the decoder filters exactly as the encoder did
        pred = predict_lowres(anchor, m, 64, 2)
        inter, recon = encode_lowres(b, 2, 32, pred)
        filtered[name] = (data, anchor, pred, inter, recon)
    on, off = filtered["on"], filtered["off"]
    assert on[0] == off[0]  # same bits: the filter is the decoder's
    assert psnr_db(on[1], a) > psnr_db(off[1], a) + 0.1
    assert not np.array_equal(on[2], off[2])  # a delta is predicted from the filtered anchor...
    monkeypatch.setattr(lowres, "deblock", lambda rgb, quant, block=4: pytest.fail("an inter frame was deblocked"))
    assert np.array_equal(decode_lowres(on[3], on[2]), on[4])  # ...and is not filtered itself


def test_deblocking_smooths_a_small_step_at_a_block_edge_and_keeps_a_picture_edge():
    quant = 16
    img = np.full((8, 8, 3), 0.5, np.float32)
    img[:, 4:] += 2 * quant / 255  # a step of two quantiser steps across the block edge: an artefact
    out = deblock(img, quant)
    assert 0 < out[0, 4, 0] - out[0, 3, 0] < img[0, 4, 0] - img[0, 3, 0]
    np.testing.assert_array_equal(out[:, [0, 1, 6, 7]], img[:, [0, 1, 6, 7]])  # only the two edge pixels move
    edge = np.full((8, 8, 3), 0.2, np.float32)
    edge[:, 4:] = 0.8  # a step of 0.6 (about 10 steps): a picture edge
    np.testing.assert_array_equal(deblock(edge, quant), edge)


def test_8x8_blocks_beat_4x4_on_whole_photo_frames_at_equal_rate(photo):
    frames = [f.rgb for f in photo_frames(photo)[:4]]
    coded = {name: [lowres._code(rgb, None, step, lowres._INTRA, t) for rgb in frames]
             for name, t, step in (("8x8", lowres._T8, 14), ("4x4", lowres._T4, 16))}
    for c in coded.values():
        assert all(np.array_equal(decode_lowres(data), recon) for data, recon in c)
    size = {name: sum(len(data) for data, _ in c) for name, c in coded.items()}
    quality = {name: np.mean([psnr_db(recon, rgb) for (_, recon), rgb in zip(c, frames)]) for name, c in coded.items()}
    assert size["8x8"] < size["4x4"] and quality["8x8"] > quality["4x4"] + 0.3  # fewer bytes, better frames


def test_the_sender_sends_each_large_intra_frame_with_the_transform_of_lower_rd_cost(photo):
    frames = [f.rgb for f in photo_frames(photo)[:4]]
    chose = set()
    for rgb in frames:
        for step in (3, 10, 25):
            data, recon = encode_lowres(rgb, 1, step)
            both = [lowres._code(rgb, None, step, lowres._INTRA, t) for t in (lowres._T4, lowres._T8)]
            costs = [rd_cost(*c, downsample(rgb, 1), step) for c in both]
            assert rd_cost(data, recon, downsample(rgb, 1), step) == min(costs) and data in [c[0] for c in both]
            assert np.array_equal(decode_lowres(data), recon)
            chose.add(data == both[1][0])
    assert chose == {True, False}  # the photo's frames take 8x8 at some steps, 4x4 at others
    half, _ = encode_lowres(frames[0], 2, 10)  # a 32 px frame, and an inter frame, have 4x4 only
    assert half == lowres._code(lowres.downsample(frames[0], 2), None, 10, lowres._INTRA, lowres._T4)[0]
    inter, pred = encode_lowres(frames[1], 1, 10, frames[0])
    assert not struct.unpack("<H", inter[:2])[0] & lowres._T8_BIT
    flipped = bytes([half[0], half[1] | 0x40]) + half[2:]  # 8x8 claimed for a 32 px frame
    with pytest.raises(ValueError, match="bad header"):
        decode_lowres(flipped)


def test_8x8_deblocking_filters_only_the_8x8_block_edges():
    img = np.full((16, 16, 3), 0.5, np.float32)
    img[:, 4:8] += 0.02  # a small step at a 4x4 edge inside an 8x8 block, and one at the 8x8 edge
    img[:, 8:] += 0.04
    out = deblock(img, 16, block=8)
    np.testing.assert_array_equal(out[:, :7], img[:, :7])
    assert 0 < out[0, 8, 0] - out[0, 7, 0] < img[0, 8, 0] - img[0, 7, 0]
    assert not np.array_equal(deblock(img, 16), img[:, :])  # 4x4 filtering moves the inner edge too


def test_inter_coded_lowres_from_the_moved_anchor_is_cheaper_than_intra(photo):
    frames = photo_frames(photo)
    a, b = frames[0].rgb, frames[3].rgb
    _, anchor = encode_lowres(a, 4, 8)
    m = decode_motion(encode_motion(estimate_motion(a, b)))
    pred = predict_lowres(anchor, m, 64)
    inter, recon = encode_lowres(b, 4, 8, pred)
    assert np.array_equal(decode_lowres(inter, pred), recon)
    assert len(inter) < 0.8 * len(encode_lowres(b, 4, 8)[0])
    with pytest.raises(ValueError, match="anchor"):
        decode_lowres(inter)  # an inter section cannot be decoded without the anchor's frame


def test_anchor_lowres_frame_can_be_full_size_with_its_own_quantiser(photo):
    from gsvc.codecs.conditions import ConditionCoder
    a, b = (f.rgb for f in photo_frames(photo)[:2])
    spec = CodecSpec(name="cvsc", semantic="off", anchor_lowres_factor=1, anchor_lowres_quant=6, lowres_factor=4,
                     lowres_quant=40)
    coder = ConditionCoder(spec, 64)
    anchor = coder.anchor(None, a)["lowres"]
    assert lowres_header(anchor) == ("intra", 64, 6)  # the whole frame, the anchor's step
    assert psnr_db(decode_lowres(anchor), a) > 35
    delta = coder.delta(None, b, decode_motion(encode_motion(estimate_motion(a, b))))["lowres"]
    assert lowres_header(delta) == ("inter", 16, 40)  # the deltas keep theirs


def test_structure_map_round_trips_and_scales_with_the_frame(photo):
    frames = {side: photo_frames(photo, side, 0.3) for side in (64, 128)}
    e64, e128 = edge_map(frames[64][0].rgb), edge_map(frames[128][0].rgb)
    assert set(np.unique(e64)) == {0, 1}
    assert 0.5 < e128.mean() * 2 / e64.mean() < 2.0  # about half the edge pixels per area at twice the side
    m = estimate_motion(frames[64][0].rgb, frames[64][2].rgb)
    pred = warp_labels(e64, m)
    e2 = edge_map(frames[64][2].rgb)
    assert np.array_equal(decode_structure(encode_structure(e2, pred), pred), e2)
    assert np.array_equal(decode_structure(encode_structure(e64)), e64)


def test_upsampled_lowres_is_exact_on_a_ramp():
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    img = np.stack([xx, yy, (xx + yy) / 2], -1).astype(np.float32)
    assert np.abs(upsample_lowres(downsample(img, 4), 64) - img)[4:-4, 4:-4].max() < 1e-6


@pytest.mark.parametrize("parts, expect", [
    (dict(), {"semantic", "lowres"}),
    (dict(lowres="off"), {"semantic"}),
    (dict(semantic="off", structure="all"), {"lowres", "structure"}),
    (dict(lowres="anchors"), {"semantic"}),
])
def test_each_part_is_a_counted_section_switched_by_the_spec(tiny_weights, parts, expect):
    video = VideoSpec(seconds=0.4, fps=15, resolution=64)
    frames = open_source(video, 2).read_all()
    enc = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, gop=4, **parts), video).encoder(0)
    efs = [ef for f in frames for ef in enc.encode(f, [])]
    delta = efs[1]
    assert delta.kind == "delta" and set(delta.sections) == expect | {"motion"}
    assert delta.nbytes == sum(len(b) for b in delta.sections.values())
    if parts.get("lowres") == "anchors":
        assert "lowres" in efs[0].sections


def test_a_source_without_labels_sends_no_semantic_section(tiny_weights, photo):
    video = VideoSpec(seconds=0.4, fps=15, resolution=64)
    enc = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, gop=4), video).encoder(0)
    efs = [ef for f in photo_frames(photo) for ef in enc.encode(f, [])]
    assert all("semantic" not in ef.sections and "lowres" in ef.sections for ef in efs)
    only_labels = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, lowres="off"), video).encoder(0)
    with pytest.raises(ValueError, match="nothing to condition"):
        only_labels.encode(photo_frames(photo)[0], [])


@pytest.mark.parametrize("section", ["lowres", "structure"])
def test_damaged_lowres_or_structure_section_is_concealed_never_shown(tiny_weights, section):
    video = VideoSpec(seconds=0.4, fps=15, resolution=64)
    frames = open_source(video, 2).read_all()
    c = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, steps=2, gop=6, structure="all"), video)
    enc, dec = c.encoder(0), c.decoder(0)
    efs = [ef for f in frames for ef in enc.encode(f, [])]
    for ef in efs[:2]:
        dec.decode(ef, dec.plan(ef, True, None))
    last, motion = dec.last_image, dec.last_motion
    data = bytearray(efs[2].sections[section])
    data[len(data) // 2] ^= 0x10
    bad = type(efs[2])(efs[2].frame, efs[2].kind, {**efs[2].sections, section: bytes(data)}, efs[2].refs)
    out = dec.decode(bad, dec.plan(bad, True, None))
    assert out.path == "conceal" and not out.request_anchor  # a delta breaks no reference: nothing to ask for
    assert np.array_equal(out.image, warp(last, motion))  # the last image moved by the last motion


@pytest.mark.parametrize("side", [64, 128, 256])
def test_one_set_of_weights_decodes_every_served_resolution(tiny_weights, side):
    video = VideoSpec(seconds=0.2, fps=15, resolution=side)
    frames = open_source(video, 4).read_all()
    c = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, steps=2, gop=4), video)
    enc, dec = c.encoder(0), c.decoder(0)
    for f in frames[:2]:
        (ef,) = enc.encode(f, [])
        out = dec.decode(ef, dec.plan(ef, True, None))
        assert out.image.shape == (side, side, 3) and np.isfinite(out.image).all() and out.path is None


def test_unserved_resolution_is_refused_naming_the_field_and_what_is_served(tmp_path):
    narrow = str(save_denoiser(Denoiser.fresh(DenoiserConfig(block_out_channels=(8, 16, 16), norm_num_groups=4,
                                                             resolutions_px=(64,))), tmp_path / "n.safetensors"))
    assert served_resolutions(narrow) == (64,)
    with pytest.raises(SpecError, match=r"video.resolution=128 .* serves 64 px"):
        Scenario(video=dict(resolution=128, seconds=0.2), codec=dict(name="cvsc", weights=narrow))
    with pytest.raises(SpecError, match="video.resolution=32"):
        Scenario(video=dict(resolution=32, seconds=0.2), codec=dict(name="full"))
    Scenario(video=dict(resolution=128, seconds=0.2), codec=dict(name="h264"))  # classic codecs serve any size
    with pytest.raises(SpecError, match="codec.lowres_factor=8"):
        Scenario(video=dict(resolution=100, seconds=0.2), codec=dict(name="cvsc", lowres_factor=8, weights=narrow),
                 receiver=dict(decode="timing-only", latency="profile:cpu-2core"))
    with pytest.raises(SpecError, match="needs something to generate from"):
        CodecSpec(name="cvsc", semantic="off", lowres="off")


def test_photo_source_run_scores_what_the_viewer_saw(tiny_weights, tmp_path, photo):
    from gsvc.video import write_image
    path = str(write_image(tmp_path / "still.png", photo))
    sc = Scenario(video=dict(source="photo", path=path, seconds=0.4, fps=15, resolution=64, motion_px=1),
                  codec=dict(name="cvsc", weights=tiny_weights, steps=2, gop=4),
                  channel=dict(model="ideal", rate_mbps=20), jitter=dict(mode="fixed", delay_ms=2000),
                  receiver=dict(latency="profile:cpu-2core"))
    f = gsvc.run(sc).frames
    assert len(f) == 6 and (f["status"] == "ok").all()
    assert f["psnr_db"].notna().all() and f["ssim"].notna().all()
    # the random tiny model still starts deltas from the anchor moved by the motion: far from noise
    assert f["psnr_db"].min() > 8.0


def test_dead_leaves_images_are_deterministic_and_look_natural():
    a, b = synthetic_image("dead_leaves", 3, 80, 120), synthetic_image("dead_leaves", 3, 80, 120)
    assert np.array_equal(a, b) and a.shape == (80, 120, 3) and 0 <= a.min() and a.max() <= 1
    assert not np.array_equal(a, synthetic_image("dead_leaves", 4, 80, 120))
    # natural-image statistics: neighbouring pixels are strongly correlated, yet there are edges
    g = a.mean(-1)
    corr = np.corrcoef(g[:, :-1].ravel(), g[:, 1:].ravel())[0, 1]
    assert 0.6 < corr < 0.995
    assert psnr_db(a[None], np.full_like(a, a.mean())[None])[0] < 20


def test_finer_anchor_lowres_predicts_coarser_deltas_and_decodes(tiny_weights, photo):
    video = VideoSpec(seconds=0.4, fps=15, resolution=64)
    c = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, steps=2, gop=4, anchor_lowres_factor=2,
                             lowres_factor=4), video)
    enc, dec = c.encoder(0), c.decoder(0)
    efs = [ef for f in photo_frames(photo) for ef in enc.encode(f, [])]
    from gsvc.codecs.lowres import lowres_side
    assert [lowres_side(ef.sections["lowres"]) for ef in efs[:3]] == [32, 16, 16]
    for ef in efs:
        assert dec.decode(ef, dec.plan(ef, True, None)).path is None


def test_adaptive_control_finds_cuts_in_content_without_labels(tiny_weights, tmp_path, photo):
    """The sender's detector works on the colour-class estimate it computes for itself (never sent)."""
    from gsvc.video import write_image
    paths = [str(write_image(tmp_path / "a.png", photo)),
             str(write_image(tmp_path / "b.png", synthetic_image("fractal", 2, 100, 160)))]
    sc = Scenario(video=dict(source="photo", path=paths, seconds=0.8, fps=15, resolution=64, motion_px=1),
                  codec=dict(name="cvsc", weights=tiny_weights, steps=2, gop=30, control="adaptive"),
                  channel=dict(model="ideal", rate_mbps=20), jitter=dict(mode="fixed", delay_ms=2000),
                  receiver=dict(latency="profile:cpu-2core"))
    f = gsvc.run(sc).frames
    cut = f.index[f["scene_cut"]]
    assert len(cut) == 1 and f.loc[cut, "cut_detected"].all() and (f.loc[cut, "kind"] == "anchor").all()
    assert f["cut_detected"].sum() <= 2


def test_back_projection_makes_an_image_agree_with_its_lowres_frame(photo):
    from gsvc.codecs.lowres import back_project
    rgb = photo_frames(photo)[0].rgb
    lowres = downsample(rgb, 4)
    up = upsample_lowres(lowres, 64)
    fixed = back_project(up, lowres, 5)
    assert np.abs(downsample(fixed, 4) - lowres).mean() < 0.3 * np.abs(downsample(up, 4) - lowres).mean()
    assert psnr_db(rgb[None], fixed[None])[0] > psnr_db(rgb[None], up[None])[0] + 0.3
    assert back_project(up, lowres, 0) is not None and np.array_equal(back_project(up, lowres, 0), up)
