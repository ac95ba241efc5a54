"""``lowres``: the no-generation reference (cvsc's low-res and motion stream, shown without a denoiser)."""
import warnings

import numpy as np
import pytest

import gsvc
from gsvc.analysis import bd_rate, render_report
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.video import VideoSpec, open_source
from gsvc.video.quality import psnr_db, to_uint8
from helpers import profile

VIDEO = VideoSpec(seconds=1, fps=15, resolution=64, labels="none", motion_px=1.5)


def encode_all(name: str, video: VideoSpec, frames, **kw):
    c = make_codec(CodecSpec(name=name, **kw), video)
    enc = c.encoder(0)
    return c, [ef for f in frames for ef in enc.encode(f, [])]


def test_lowres_sends_the_same_bytes_as_cvsc_and_spends_no_evaluation():
    frames = open_source(VIDEO, 3).read_all()
    for kw in ({}, dict(lowres_factor=8, lowres_quant=16, gop=4), dict(lowres="anchors")):
        _, low = encode_all("lowres", VIDEO, frames, **kw)
        _, cv = encode_all("cvsc", VIDEO, frames, **kw)
        assert [ef.sections for ef in low] == [ef.sections for ef in cv]
    c, efs = encode_all("lowres", VIDEO, frames)
    dec = c.decoder(0)
    for ef in efs:
        plan = dec.plan(ef, True, None)
        d = dec.decode(ef, plan)
        assert plan.path == "classic" and plan.unet_evals == d.unet_evals == 0
        assert float(psnr_db(to_uint8(frames[ef.frame].rgb)[None], to_uint8(d.image)[None])[0]) > 20


def test_lowres_sends_cvsc_low_res_and_motion_sections_but_no_labels_or_edges():
    video = VIDEO.model_copy(update={"labels": "auto"})  # procedural: true labels
    frames = open_source(video, 4).read_all()[:4]
    _, low = encode_all("lowres", video, frames, structure="all")
    _, cv = encode_all("cvsc", video, frames, structure="all")
    for a, b in zip(low, cv):
        assert {"semantic", "structure"} <= set(b.sections) and not {"semantic", "structure"} & set(a.sections)
        assert a.sections == {k: v for k, v in b.sections.items() if k in ("lowres", "motion", "step")}


def test_a_delta_is_the_moved_anchor_made_to_agree_with_its_own_low_res_frame():
    frames = open_source(VIDEO, 3).read_all()[:3]
    err = {}
    for steps in (0, 3):
        c, efs = encode_all("lowres", VIDEO, frames, lowres_backprojection=steps)
        dec = c.decoder(0)
        shown = [dec.decode(ef, dec.plan(ef, True, None)).image for ef in efs]
        err[steps] = [float(np.abs(a - f.rgb).mean()) for a, f in zip(shown, frames)]
    assert efs[1].kind == "delta"
    assert all(e3 < e0 for e0, e3 in zip(err[0], err[3]))  # back-projection onto the sent frame helps every frame


def test_lowres_decode_is_timed_as_a_classic_decode():
    prof = profile(eval_ms=50.0, overhead_ms=2.0).model_copy(update={"classic_ms": 3.0})
    sc = Scenario(name="low", video=dict(seconds=1, fps=15, resolution=64), codec=dict(name="lowres"),
                  channel=dict(model="ideal", rate_mbps=20), receiver=dict(latency=prof))
    f = gsvc.run(sc).frames
    assert (f["unet_evals"] == 0).all() and (f["plan"] == "classic").all()
    np.testing.assert_allclose(f["decode_done_ms"] - f["decode_start_ms"], 5.0)
    assert f["psnr_db"].notna().all()


def test_lowres_is_refused_without_a_low_res_frame_and_accepts_rate_control_and_adaptive_control():
    with pytest.raises(SpecError, match="codec.lowres"):
        Scenario(codec=dict(name="lowres", lowres="off"))
    with pytest.raises(SpecError, match="lowres_factor"):
        Scenario(video=dict(resolution=48), codec=dict(name="lowres", lowres_factor=16))
    Scenario(codec=dict(name="lowres"), link=dict(rate_control="throughput"))
    Scenario(codec=dict(name="lowres", control="adaptive"))


def test_lowres_runs_through_a_sweep_the_report_and_the_bd_rate_table(tmp_path):
    base = Scenario(name="rd", video=dict(seconds=1, fps=15, resolution=64, labels="none"),
                    codec=dict(name="lowres", gop=5), receiver=dict(latency="profile:cpu-2core"))
    res = gsvc.sweep(base, {"codec.name": ["h264", "lowres"], "codec.bitrate_kbps": [16, 64],
                            "codec.lowres_quant": [4, 32]}, seeds=1, executor="serial", out=tmp_path / "s",
                     progress=False)
    s = res.summary
    low = s[s["codec.name"] == "lowres"]
    assert (low["unet_evals_per_frame"] == 0).all()
    for _, g in low.groupby("codec.lowres_quant"):        # the rate given caps the stream's rate ladder
        kbps = g.set_index("codec.bitrate_kbps")["bitrate_kbps"]
        assert kbps[16] < kbps[64]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the two codecs' quality ranges may overlap little
        d = bd_rate(s, anchor="h264", keys=["codec.bitrate_kbps", "codec.lowres_quant"])
    assert set(d) == {"lowres"}
    page = render_report(res)
    assert "against h264" in page and "against lowres" in page


@pytest.mark.parametrize("shift_px", [1, 2, 3])  # a quarter, half and three quarters of a low-res pixel
def test_a_low_res_frame_moved_by_a_subpixel_pan_is_predicted_closer_than_by_upsampling_it(shift_px):
    from gsvc.codecs.lowres import downsample, predict_lowres, upsample_lowres
    from gsvc.codecs.motion import MotionField, warp
    from gsvc.video import devset
    world = np.asarray(devset.dev_source("grace_hopper", 128).clip(0, 1).frames()[0].rgb, np.float32)
    # two 56 px views of the same picture, the second panned by shift_px / 2 px; their 28 px low-res frames
    ref = downsample(downsample(world[8:120, 8:120], 2), 2)
    cur = downsample(downsample(world[8:120, 8 + shift_px:120 + shift_px], 2), 2)
    pan = MotionField((shift_px / 2, 0.0), np.zeros((1, 1, 2), np.float32))
    inner = np.s_[2:-2, 2:-2]

    def rms(pred):
        return float(np.sqrt(np.mean((pred[inner] - cur[inner]) ** 2)))

    upsampled = downsample(warp(upsample_lowres(ref, 56), pan), 2)  # gsvc's earlier predictor
    assert rms(predict_lowres(ref, pan, 56, 2)) < 0.7 * min(rms(upsampled), rms(ref))


def test_detail_scale_moves_cvsc_from_the_no_generation_frames_to_the_sampled_ones():
    frames = open_source(VIDEO, 3).read_all()[:4]
    _, efs = encode_all("lowres", VIDEO, frames)

    def shown(name, **kw):
        c = make_codec(CodecSpec(name=name, **kw), VIDEO)
        dec = c.decoder(0)
        return [dec.decode(ef, dec.plan(ef, True, None)).image for ef in efs]

    plain = shown("lowres")
    none, half, full = (shown("cvsc", detail_scale=s) for s in (0.0, 0.5, 1.0))
    assert [ef.kind for ef in efs] == ["anchor", "delta", "delta", "delta"]
    for a, b in zip(plain, none):  # scale 0 is the lowres codec's picture, frame for frame
        np.testing.assert_allclose(a, b, atol=1e-6)
    gap = [float(np.abs(f - n).mean()) for f, n in zip(full, none)]
    assert min(gap) > 1e-3  # the denoiser changed every frame
    # the anchor at half scale lies halfway: back-projection is linear in the image
    np.testing.assert_allclose(half[0], (none[0] + full[0]) / 2, atol=2e-3)
    assert all(float(np.abs(h - n).mean()) < g for h, n, g in zip(half, none, gap))


def test_frames_conditioned_on_labels_take_the_labelled_detail_scale():
    def shown(video, **kw):
        frames = open_source(video, 3).read_all()[:3]
        c, efs = encode_all("cvsc", video, frames, **kw)
        dec = c.decoder(0)
        return [dec.decode(ef, dec.plan(ef, True, None)).image for ef in efs]

    def same(a, b):
        return all(np.allclose(x, y, atol=1e-6) for x, y in zip(a, b))

    labelled = VideoSpec(seconds=1, fps=15, resolution=64, motion_px=1.5)  # procedural: true label maps
    default = shown(labelled)  # cvsc's defaults: all of the detail where labels condition the frame
    assert same(default, shown(labelled, detail_scale=1.0))
    assert not same(default, shown(labelled, detail_scale=0.75, labelled_detail_scale=0.75))
    assert same(shown(labelled, detail_scale=0.0), shown(labelled, detail_scale=0.0, labelled_detail_scale=0.0))
    # frames without labels ignore it, edge maps (codec.structure) included: they take detail_scale
    assert same(shown(VIDEO), shown(VIDEO, labelled_detail_scale=0.0))
    edges = shown(VIDEO, structure="all", labelled_detail_scale=0.0)
    assert same(edges, shown(VIDEO, structure="all"))
    assert not same(edges, shown(VIDEO, structure="all", detail_scale=0.0))
