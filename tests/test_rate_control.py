"""Sender rate control: GCC and a throughput rule react to the link, the encoders follow the target."""
from __future__ import annotations

import numpy as np
import pytest

import gsvc
from gsvc.codecs.ratelevels import RateLadder
from gsvc.codecs.spec import CodecSpec
from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace
from gsvc.netsim.channel.recorded import bundled_traces
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from helpers import check_accounting, profile

DROP = "bundled:capacity-drop"  # 2 Mbit/s, 0.3 Mbit/s from 10 s to 15 s, 2 Mbit/s again


def _synthetic(rate_control: str, trace: str | None, seconds: float = 20.0) -> Scenario:
    channel = dict(model="mahimahi", trace_file=trace) if trace else dict(model="constant", rate_mbps=2.0)
    return Scenario(name="rc", seed=2, video=dict(seconds=seconds, fps=30), codec=dict(name="synthetic", bitrate_kbps=1500),
                    channel=channel, link=dict(rate_control=rate_control), jitter=dict(mode="fixed", delay_ms=150),
                    receiver=dict(latency=profile(eval_ms=1.0), decode="timing-only"))


def _kbps_per_second(f):
    sec = (f["capture_ms"] // 1000).astype(int)
    return (f.groupby(sec)["bytes"].sum() * 8 / 1e3).to_numpy()


def test_the_bundled_trace_drops_from_2_to_0_3_mbps_for_5_s():
    assert "capacity-drop" in bundled_traces()
    t = draw_trace(ChannelSpec(model="mahimahi", trace_file=DROP), LinkSpec(), 0)
    per_s = t.tb_bits.reshape(-1, 1000).sum(axis=1) / 1e6
    np.testing.assert_allclose(per_s[:10], 2.0)
    np.testing.assert_allclose(per_s[10:15], 0.3)
    np.testing.assert_allclose(per_s[15:], 2.0)


def test_gcc_keeps_latency_bounded_through_a_capacity_drop_and_recovers():
    base = gsvc.run(_synthetic("gcc", None))
    gcc = gsvc.run(_synthetic("gcc", DROP))
    off = gsvc.run(_synthetic("off", DROP))
    assert off.summary["latency_ms_p95"] > 1000  # seconds of queue in front of the link
    assert gcc.summary["latency_ms_p95"] <= 2 * base.summary["latency_ms_p95"]
    rate = _kbps_per_second(gcc.frames)
    before = rate[5:10].mean()
    assert rate[11:15].max() < 350  # it found the 0.3 Mbit/s link
    assert rate[15:18].max() >= 0.8 * before  # and the 2 Mbit/s again within 3 s
    check_accounting(gcc.frames, 1, 600)


def test_throughput_rule_follows_the_link_down():
    f = gsvc.run(_synthetic("throughput", DROP)).frames
    rate = _kbps_per_second(f)
    assert rate[11:15].mean() < 400 < rate[5:10].mean()
    assert f["target_kbps"].notna().all()


def test_target_is_logged_only_with_rate_control():
    f = gsvc.run(_synthetic("off", None, seconds=2)).frames
    assert f["target_kbps"].isna().all() and (f["probe_bytes"] == 0).all()


def test_h264_follows_the_target_of_gcc_on_a_slow_link():
    sc = Scenario(name="h", seed=1, video=dict(seconds=8, fps=15, resolution=128), codec=dict(name="h264", bitrate_kbps=800),
                  channel=dict(model="constant", rate_mbps=0.3), link=dict(rate_control="gcc"),
                  jitter=dict(mode="fixed", delay_ms=200), receiver=dict(latency="profile:cpu-2core"))
    f = gsvc.run(sc).frames
    assert _kbps_per_second(f)[4:].mean() < 320  # it starts at 800 and settles under the link's 300
    assert (f["target_kbps"].iloc[-30:] < 400).all()


def test_diffusion_codec_turns_its_rate_knobs_down_for_a_low_target():
    def run(rate_control, **codec):
        sc = Scenario(name="d", seed=1, video=dict(seconds=6, fps=15, motion_px=2),
                      codec=dict(name="cvsc", **codec), channel=dict(model="constant", rate_mbps=1.0),
                      link=dict(rate_control=rate_control), receiver=dict(latency=profile(), decode="timing-only"))
        return gsvc.run(sc).frames
    free, capped = run("off"), run("gcc", bitrate_kbps=12)
    free_kbps = _kbps_per_second(free)[3:].mean()
    assert free_kbps > 20 and free["target_kbps"].isna().all()          # no bitrate given: its tuned stream
    assert _kbps_per_second(capped)[3:].mean() < 0.8 * free_kbps
    # without link rate control a given bitrate is a ceiling its rate ladder turns the stream down to, as far as
    # its rungs go (this clip's label maps, about 15 kbit/s, are not coarsened)
    ceiling = run("off", bitrate_kbps=12)
    assert (ceiling["target_kbps"] == 12).all() and _kbps_per_second(ceiling)[3:].mean() < 0.6 * free_kbps


def _ladder_run(ladder, target_kbps, frames, kbps_of):
    levels = []
    for _ in range(frames):
        ladder.spec_for(target_kbps)
        ladder.observe(int(kbps_of(ladder.rungs[ladder.level]) * 1e3 / 8 / ladder.fps))
        levels.append(ladder.level)
    return levels


def _true_kbps(spec):
    """A stream whose rate goes as 1/step (the ladder's model says step^-0.8), 48 kbit/s at step 8."""
    if spec.lowres == "all":
        return 48.0 * 8 / spec.lowres_quant
    return {15: 4.0, 30: 3.0, 60: 2.5}[spec.gop]


def test_rate_ladder_jumps_down_to_the_richest_rung_that_fits_and_climbs_back():
    spec = CodecSpec(name="cvsc", lowres="all", lowres_quant=8, gop=15)
    ladder = RateLadder(spec, fps=15)
    quants = [r.lowres_quant for r in ladder.rungs if r.lowres == "all"]
    assert quants == [8, 10, 11, 13, 16, 19, 23, 27, 32, 38, 45, 54, 64]  # a quarter of an octave a rung, to 8 x
    assert ladder.rungs[len(quants)].lowres == "anchors" and ladder.rungs[-1].gop == 60
    levels = _ladder_run(ladder, 20.0, 120, _true_kbps)
    fits = quants.index(23)  # the richest rung under 20 kbit/s (19: 20.2 kbit/s)
    assert levels.index(fits) <= 60  # within four seconds: one jump past it, steps back a rung a second
    assert set(levels[60:]) == {fits}  # and it stays
    coarse = RateLadder(spec, fps=15, rungs_per_octave=1)
    assert [r.lowres_quant for r in coarse.rungs[:4]] == [8, 16, 32, 64]
    settled = _ladder_run(coarse, 20.0, 120, _true_kbps)[-1]
    assert _true_kbps(coarse.rungs[settled]) < 0.75 * _true_kbps(ladder.rungs[fits])  # 12 against 16.7
    levels = _ladder_run(ladder, 60.0, 200, _true_kbps)
    assert levels[-1] == 0
    levels = _ladder_run(ladder, 2.0, 150, _true_kbps)  # under every quantiser rung: the structural ones
    assert ladder.rungs[levels[-1]].gop == 60


def test_rate_ladder_moves_down_within_its_first_second_when_that_second_is_spent_already():
    ladder = RateLadder(CodecSpec(name="cvsc", lowres="all", lowres_quant=8, gop=15), fps=15)
    levels = _ladder_run(ladder, 8.0, 90, _true_kbps)  # 48 kbit/s: a second's 8 kbit gone in 3 frames
    assert levels[:3] == [0, 0, 0] and levels[3] > 0
    quants = [r.lowres_quant for r in ladder.rungs]
    assert set(levels[60:]) == {quants.index(54)}  # the richest rung under 8 kbit/s (45: 8.5)


def test_rate_ladder_coarsens_the_anchor_quantiser_with_the_deltas_one():
    spec = CodecSpec(name="cvsc", lowres="all", lowres_quant=32, anchor_lowres_quant=12, gop=15)
    rungs = RateLadder(spec, fps=15).rungs
    assert [(r.lowres_quant, r.anchor_lowres_quant) for r in rungs[:9:4]] == [(32, 12), (64, 24), (128, 48)]
    assert all(a.anchor_lowres_quant <= b.anchor_lowres_quant for a, b in zip(rungs, rungs[1:]))


@pytest.mark.parametrize("codec,match", [(dict(name="h265"), "link.rate_control"),
                                         (dict(name="full", lowres="off"), "link.rate_control")])
def test_rate_control_without_a_knob_is_refused_naming_the_field(codec, match):
    with pytest.raises((SpecError, ValueError), match=match):
        Scenario(codec=codec, link=dict(rate_control="gcc"))


def test_unknown_rate_control_is_refused_naming_the_field():
    with pytest.raises(SpecError, match="link.rate_control"):
        Scenario(link=dict(rate_control="bbr"))
