"""Quality metrics beyond PSNR/SSIM: temporal flicker, playback statistics, Bjontegaard deltas."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import gsvc
from gsvc.analysis import bd_metric, bd_rate, rd_curves, render_report
from gsvc.metrics import StreamScorer
from gsvc.metrics.temporal import flicker
from gsvc.netsim.summary import playback_stats
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.video import VideoSpec, open_source
from gsvc.video.quality import to_uint8


@pytest.fixture(scope="module")
def clip():
    v = VideoSpec(seconds=1, fps=15, resolution=64, motion_px=3, camera="pan")
    return np.stack([to_uint8(f.rgb) for f in open_source(v, 4)])


def test_flicker_is_low_for_the_originals_and_high_for_a_frozen_screen(clip):
    prev, cur = clip[:-1], clip[1:]
    faithful = flicker(prev, cur, prev, cur)
    frozen = flicker(prev, cur, prev, prev)  # the screen keeps the previous frame
    assert faithful.mean() < 0.2 * frozen.mean()
    assert np.isfinite(faithful).all()


def test_temporal_scores_do_not_depend_on_the_batch_size(clip):
    def score(batch):
        cols = {"psnr_db": np.full(len(clip), np.nan), "ssim": np.full(len(clip), np.nan),
                "flicker": np.full(len(clip), np.nan)}
        sc = StreamScorer(cols, ("psnr", "ssim", "flicker"), batch_frames=batch)
        for k in range(len(clip)):
            sc.add(k, clip[k], clip[max(k - 1, 0)])
        sc.flush()
        return cols
    one, many = score(1), score(16)
    for col in ("psnr_db", "ssim", "flicker"):
        np.testing.assert_array_equal(one[col], many[col])
    assert np.isnan(one["flicker"][0]) and np.isfinite(one["flicker"][1:]).all()


def test_scenario_metrics_add_columns_and_summary_fields():
    sc = Scenario(name="m", video=dict(seconds=1, fps=15, resolution=32, motion_px=2), codec=dict(name="h264"),
                  metrics=["flicker"], receiver=dict(latency="profile:cpu-2core"))
    assert sc.metrics == ("psnr", "ssim", "flicker")
    r = gsvc.run(sc)
    assert r.frames["flicker"].iloc[1:].notna().all()
    assert r.summary["flicker_mean"] == pytest.approx(r.frames["flicker"].mean())
    assert "flicker" in r.meta["quality"]
    assert "flicker" not in gsvc.run(sc.updated({"metrics": []})).frames


def test_unknown_metric_is_refused_naming_the_field():
    with pytest.raises(SpecError, match="metrics"):
        Scenario(metrics=["lpipz"])


def test_playback_stats_follow_libwebrtc_definitions():
    t = np.arange(45) * 1000 / 15  # 3 s at 15 fps, no freeze
    harmonic, between = playback_stats(t, 15)
    assert harmonic == pytest.approx(15.0)
    assert between == pytest.approx(t[-1])
    gap = np.concatenate((t[t < 1000], t[t >= 1600]))  # a 666 ms freeze
    harmonic, between = playback_stats(gap, 15)
    d = np.diff(gap) / 1e3
    assert harmonic == pytest.approx((gap[-1] - gap[0]) / 1e3 / np.sum(d ** 2))
    assert between == pytest.approx(((t[t < 1000][-1] - 0) + (gap[-1] - 1600)) / 2)
    assert np.isnan(playback_stats(np.array([5.0]), 15)[0])


def _rd_table():
    rows = []
    for codec, scale in (("h264", 1.0), ("semantic", 0.8)):
        for kbps in (50, 100, 200, 400):
            for seed in (0, 1):
                rows.append({"codec.name": codec, "codec.bitrate_kbps": kbps, "seed": seed,
                             "bitrate_kbps": kbps * scale, "psnr_db_mean": 20 + 5 * np.log2(kbps / 50)})
    return pd.DataFrame(rows)


def test_bd_rate_of_a_codec_with_a_fifth_fewer_bits_is_minus_20_percent():
    s = _rd_table()
    assert bd_rate(s, anchor="h264")["semantic"] == pytest.approx(-20.0, abs=1e-6)
    assert bd_metric(s, anchor="h264")["semantic"] == pytest.approx(5 * np.log2(1 / 0.8), abs=1e-6)
    with pytest.raises(ValueError, match="anchor"):
        bd_rate(s, anchor="vp9")
    buf = rd_curves(s, io.BytesIO())
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_report_over_codecs_and_rates_shows_the_bd_rate(tmp_path):
    base = Scenario(name="rd", video=dict(seconds=1, fps=15, resolution=32), codec=dict(name="h264"),
                    receiver=dict(latency="profile:cpu-2core"))
    res = gsvc.sweep(base, {"codec.name": ["h264", "h265"], "codec.bitrate_kbps": [16, 64]}, seeds=1,
                     executor="serial", out=tmp_path / "s", progress=False)
    page = render_report(res)
    assert "BD-rate" in page and "Rate vs PSNR" in page


def test_vmaf_of_a_run_is_scored_per_frame_and_rises_with_the_rate():
    sc = Scenario(name="v", video=dict(seconds=1, fps=15, resolution=64), codec=dict(name="h264", bitrate_kbps=16),
                  metrics=["vmaf"], receiver=dict(latency="profile:cpu-2core"))
    low = gsvc.run(sc)
    high = gsvc.run(sc.updated({"codec.bitrate_kbps": 256}))
    assert low.frames["vmaf"].between(0, 100).all() and low.frames["vmaf"].notna().all()
    assert high.summary["vmaf_mean"] > low.summary["vmaf_mean"]
    assert low.summary["vmaf_p5"] <= low.summary["vmaf_mean"]


def test_vmaf_writer_scores_the_sequence_it_was_given(clip, tmp_path):
    from gsvc.metrics.vmaf import VmafWriter, vmaf_files
    noisy = np.clip(clip.astype(int) + np.random.default_rng(0).integers(-25, 25, clip.shape), 0, 255).astype(np.uint8)
    w = VmafWriter()
    for k in range(len(clip)):
        w.add(100 + k, clip[k], noisy[k])
    rows, values = w.close()
    assert rows == list(range(100, 100 + len(clip))) and not w.dir.exists()
    clip.tofile(tmp_path / "r.rgb")
    noisy.tofile(tmp_path / "t.rgb")
    np.testing.assert_array_equal(values, vmaf_files(str(tmp_path / "r.rgb"), str(tmp_path / "t.rgb"), 64, 64))
    assert 0 < values.mean() < 100


def _blur(x: np.ndarray) -> np.ndarray:
    from scipy.ndimage import gaussian_filter
    return np.clip(gaussian_filter(x.astype(np.float32), sigma=(0, 1.5, 1.5, 0)), 0, 255).round().astype(np.uint8)


def test_a_blurred_clip_scores_worse_than_the_original_on_every_metric(clip):
    from gsvc.metrics.lpips import lpips
    from gsvc.metrics.vmaf import VmafWriter
    from gsvc.video.quality import psnr_db, ssim
    blurred = _blur(clip)
    assert (psnr_db(clip, blurred) < psnr_db(clip, clip)).all()
    assert (ssim(clip, blurred) < ssim(clip, clip)).all()
    assert (lpips(clip, blurred) > lpips(clip, clip) + 0.01).all()
    from gsvc.metrics.dists import dists
    assert (dists(clip, blurred) > dists(clip, clip) + 0.01).all()
    same, worse = VmafWriter(), VmafWriter()
    for k in range(len(clip)):
        same.add(k, clip[k], clip[k])
        worse.add(k, clip[k], blurred[k])
    identical, blurry = same.close()[1], worse.close()[1]
    # libvmaf's motion feature has no previous frame on the first one, which then scores a little lower
    assert (identical[1:] >= 99).all() and identical.mean() >= 99 and (blurry < identical - 5).all()


def test_flicker_is_larger_for_a_clip_with_shuffled_frames(clip):
    order = np.random.default_rng(1).permutation(len(clip))
    shuffled = clip[order]
    prev, cur = clip[:-1], clip[1:]
    assert flicker(prev, cur, shuffled[:-1], shuffled[1:]).mean() > 3 * flicker(prev, cur, prev, cur).mean()


def test_bd_rate_of_the_bjontegaard_readme_example_matches_an_independent_pchip_integration():
    from scipy.interpolate import PchipInterpolator
    rate_a, psnr_a = [9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851]
    rate_t, psnr_t = [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987]
    rows = [{"codec.name": c, "codec.bitrate_kbps": k, "seed": 0, "bitrate_kbps": r, "psnr_db_mean": p}
            for c, rates, psnrs in (("anchor", rate_a, psnr_a), ("test", rate_t, psnr_t))
            for k, (r, p) in enumerate(zip(rates, psnrs))]
    got = bd_rate(pd.DataFrame(rows), anchor="anchor")["test"]
    # JVET CTC: integrate log10(rate) as a PCHIP function of PSNR over the common PSNR range
    lo, hi = max(min(psnr_a), min(psnr_t)), min(max(psnr_a), max(psnr_t))
    def area(psnr, rate):
        order = np.argsort(psnr)
        return PchipInterpolator(np.array(psnr)[order], np.log10(np.array(rate))[order]).integrate(lo, hi)
    expected = (10 ** ((area(psnr_t, rate_t) - area(psnr_a, rate_a)) / (hi - lo)) - 1) * 100
    assert got == pytest.approx(expected, abs=1e-6)
    assert got == pytest.approx(-4.4175, abs=1e-4)


def test_a_missing_optional_extra_gives_an_install_hint(monkeypatch, clip):
    import sys
    monkeypatch.setitem(sys.modules, "cv2", None)  # as if OpenCV were not installed
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[perceptual\]\""):
        flicker(clip[:1], clip[1:2], clip[:1], clip[1:2])
    monkeypatch.setitem(sys.modules, "bjontegaard", None)
    with pytest.raises(ImportError, match="perceptual"):
        bd_rate(_rd_table())


def test_rd_points_drop_dominated_points_so_bd_rate_needs_no_monotone_input():
    from gsvc.analysis import rd_points
    s = _rd_table()
    s.loc[(s["codec.name"] == "semantic") & (s["codec.bitrate_kbps"] == 400), "psnr_db_mean"] = 20.0  # worse for more
    pts = rd_points(s)["semantic"]
    assert len(pts) == 3 and pts["psnr_db_mean"].is_monotonic_increasing
    assert bd_rate(s, anchor="h264")["semantic"] == pytest.approx(-20.0, abs=1e-6)


def test_tlp_is_zero_for_the_originals_and_grows_when_the_screen_freezes(clip):
    from gsvc.metrics.temporal import tlp
    prev, cur = clip[:-1], clip[1:]
    assert np.allclose(tlp(prev, cur, prev, cur), 0.0, atol=1e-7)
    assert tlp(prev, cur, prev, prev).mean() > 0.01  # frozen screen: no perceptual change where there was one
