"""Capacity: the 3GPP XR traffic model, satisfied users (radio and viewer) and users per cell and GPU."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import gsvc
from gsvc import Scenario
from gsvc.analysis import capacity, render_report
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.codecs.xr import JITTER_BOUND_MS, JITTER_STD_MS, SIZE_STD_RATIO
from gsvc.netsim.satisfaction import CapacitySpec, satisfaction, satisfaction_summary
from gsvc.spec import SpecError
from gsvc.video.frame import Frame
from gsvc.video.spec import VideoSpec

_EMPTY = np.zeros((0, 0, 3), np.float32)


def _xr_frames(n: int, kbps: float = 30_000, fps: float = 60):
    codec = make_codec(CodecSpec(name="xr", bitrate_kbps=kbps), VideoSpec(fps=fps))
    enc = codec.encoder(7)
    efs = [enc.encode(Frame(i, i / fps, _EMPTY), [])[0] for i in range(n)]
    return codec, np.array([ef.nbytes for ef in efs], float), np.array([ef.meta["ready_offset_ms"] for ef in efs])


def test_xr_frame_sizes_follow_the_truncated_gaussian_of_tr_38838():
    codec, sizes, _ = _xr_frames(10_000)
    mean = 30_000e3 / 8 / 60
    assert codec.mean_bytes == pytest.approx(mean)
    assert sizes.mean() == pytest.approx(mean, rel=0.01)
    assert sizes.std() == pytest.approx(SIZE_STD_RATIO * mean, rel=0.05)   # a std passed as variance fails this
    assert sizes.min() >= 0.5 * mean - 1 and sizes.max() <= 1.5 * mean + 1


def test_xr_arrival_jitter_has_the_moments_of_its_truncated_law():
    _, _, offsets = _xr_frames(10_000)
    jitter = offsets - JITTER_BOUND_MS                                    # the nominal time sits 4 ms on
    bound = JITTER_BOUND_MS / JITTER_STD_MS
    law = stats.truncnorm(-bound, bound, loc=0.0, scale=JITTER_STD_MS)
    assert abs(jitter.mean()) < 0.05
    assert jitter.std() == pytest.approx(law.std(), rel=0.05)             # 1.76 ms: 2 ms cut at +-2 sigma
    assert jitter.min() >= -JITTER_BOUND_MS and jitter.max() <= JITTER_BOUND_MS


def test_xr_streams_reach_the_radio_with_their_jitter_and_run_at_60_fps():
    sc = Scenario(name="xr", seed=1, codec=dict(name="xr", bitrate_kbps=2000), video=dict(seconds=1, resolution=64),
                  channel=dict(model="ideal"), link=dict(bandwidth_mhz=20),
                  receiver=dict(latency="profile:sd15-a100", decode="timing-only"))
    assert sc.video.fps == 60
    f = gsvc.run(sc).frames
    held_ms = f["encode_done_ms"] - f["capture_ms"]                       # the profile's constant encode + jitter
    assert len(f) == 60 and f["status"].eq("ok").all()
    spread = held_ms.max() - held_ms.min()
    assert 3.0 < spread <= 2 * JITTER_BOUND_MS + 1e-6                      # the jitter, within its range


def _frames(stream: int, n: int, air_ms, status="ok", psnr=30.0, held_ms=2.0, queue_ms=5.0) -> pd.DataFrame:
    """A stream's log: the sender holds each frame ``held_ms``, the receiver ``queue_ms`` + a 20 ms decode."""
    return pd.DataFrame({"stream": stream, "bytes": 1000, "air_delay_ms": air_ms, "status": status,
                         "psnr_db": psnr, "skip_reason": "", "capture_ms": 0.0, "encode_done_ms": held_ms,
                         "queue_wait_ms": queue_ms, "decode_start_ms": 100.0, "decode_done_ms": 120.0},
                        index=range(n))


def test_a_stream_is_radio_satisfied_with_99_percent_of_frames_within_the_budget():
    air = np.full(100, 5.0)
    one_late, two_late = air.copy(), air.copy()
    one_late[3] = np.nan                                                  # lost: never within budget
    two_late[[3, 4]] = [np.nan, 12.0]
    status = np.array(["ok"] * 100, object)
    status[[3, 4]] = ["lost", "late"]
    f = pd.concat([_frames(0, 100, one_late), _frames(1, 100, two_late, status=status)], ignore_index=True)
    rows = satisfaction(f, pdb_ms=10.0, spec=CapacitySpec())
    assert rows[0]["radio_satisfied"] and rows[0]["radio_on_time"] == pytest.approx(0.99)
    assert not rows[1]["radio_satisfied"] and rows[1]["fails"] == "radio"


def test_a_viewer_failure_names_the_gpu_the_codec_or_quality():
    late = np.array(["ok"] * 95 + ["late"] * 5)
    shed = np.array(["ok"] * 90 + ["skipped"] * 10)
    f = pd.concat([_frames(0, 100, 5.0, status=late), _frames(1, 100, 5.0, psnr=25.0),
                   _frames(2, 100, 5.0, psnr=31.0), _frames(3, 100, 5.0, status=shed, held_ms=900.0, queue_ms=0.0)],
                  ignore_index=True)
    rows = satisfaction(f, pdb_ms=10.0, spec=CapacitySpec(min_psnr_db=28.0))
    assert [r["fails"] for r in rows] == ["gpu", "quality", None, "codec"]   # 3: a group codec holds its frames
    rows = rows[:3]
    assert all(r["radio_satisfied"] for r in rows)
    s = satisfaction_summary(rows)
    assert s["viewer_satisfied_fraction"] == pytest.approx(1 / 3) and s["radio_satisfied_fraction"] == 1.0
    assert s["binding"] == "gpu"                                          # a tie goes to the first in the order


def _table(fractions: dict, seeds: int = 3, codec: str = "x", binding: str = "radio") -> pd.DataFrame:
    rows = []
    for users, frac in fractions.items():
        for k in range(seeds):
            rows.append({"codec.name": codec, "streams": users, "replicate": k,
                         "radio_satisfied_fraction": frac + 0.01 * (k - 1), "viewer_satisfied_fraction": frac,
                         "binding": binding if frac < 0.9 else "none"})
    return pd.DataFrame(rows)


def test_capacity_is_the_first_crossing_of_the_satisfied_fraction_with_its_interval():
    t = pd.concat([_table({2: 1.0, 4: 0.95, 6: 0.85, 8: 0.95, 10: 0.5}, codec="a"),
                   _table({2: 1.0, 4: 1.0, 6: 1.0}, codec="b", binding="gpu"),
                   _table({2: 0.8, 4: 0.5}, codec="c", binding="gpu")], ignore_index=True)
    out = capacity(t).set_index(["codec.name", "kind"])
    a = out.loc[("a", "viewer")]
    assert a["capacity"] == 4 and a["users_above"] == 6                  # the pass at 8 beyond a failure: not counted
    assert a["fraction_at"] == pytest.approx(0.95) and a["fraction_above"] == pytest.approx(0.85)
    assert a["binding"] == "radio"
    r = out.loc[("a", "radio")]
    assert r["ci_low_at"] < r["fraction_at"] < r["ci_high_at"]            # seeds spread it: a real interval
    assert out.loc[("b", "viewer")]["capacity"] == 6 and np.isnan(out.loc[("b", "viewer")]["users_above"])
    assert out.loc[("c", "viewer")]["capacity"] == 0 and out.loc[("c", "viewer")]["binding"] == "gpu"


def test_capacity_refuses_a_sweep_without_users():
    with pytest.raises(ValueError, match="streams"):
        capacity(_table({2: 1.0}).drop(columns="streams"))


def test_capacity_floors_need_their_metric_and_images():
    with pytest.raises(SpecError, match="capacity.max_lpips"):
        Scenario(capacity=dict(max_lpips=0.2))
    with pytest.raises(SpecError, match=r"capacity.min_psnr_db.*timing-only"):
        Scenario(capacity=dict(min_psnr_db=30), receiver=dict(decode="timing-only"))
    with pytest.raises(SpecError, match=r"metrics \['lpips'\].*'xr' makes none"):
        Scenario(codec=dict(name="xr", bitrate_kbps=30_000), metrics=["lpips"])
    with pytest.raises(SpecError, match="cell.pdb_ms"):
        Scenario(cell=dict(pdb_ms=0))
    with pytest.raises(SpecError, match="capacity.satisfied_ratio"):
        Scenario(capacity=dict(satisfied_ratio=1.5))


def test_a_run_says_who_is_satisfied_per_stream_per_group_and_what_binds():
    sc = Scenario(name="mix", seed=2, video=dict(seconds=1, fps=10, resolution=64),
                  streams=[{"count": 2, "name": "big", "codec": {"name": "synthetic", "bitrate_kbps": 8000}},
                           {"count": 2, "name": "small", "codec": {"name": "synthetic", "bitrate_kbps": 50}}],
                  channel=dict(model="tdl-c", snr_db=10), link=dict(bandwidth_mhz=5, scs_khz=15, trace_s=1),
                  cell=dict(scheduler="pf", pdb_ms=30),
                  receiver=dict(latency="profile:sd15-a100", decode="timing-only", gpus=4))
    res = gsvc.run(sc)
    rows = res.meta["streams"]
    assert [r["radio_satisfied"] for r in rows] == [False, False, True, True]   # 8 Mbit/s cannot fit 5 MHz
    assert res.summary["big/radio_satisfied_fraction"] == 0.0 and res.summary["small/radio_satisfied_fraction"] == 1.0
    assert res.summary["radio_satisfied_fraction"] == 0.5 and res.summary["binding"] == "radio"


def _cell(**kw) -> Scenario:
    """A 20 MHz TDL-C cell at 15 dB serving 4 Mbit/s streams at 256 px / 15 fps, each decode 4 evaluations
    timed by the SD-1.5 A100 profile (about 23 ms: one GPU keeps up with 3 streams)."""
    return Scenario(name="cap", seed=3, codec=dict(name="synthetic", bitrate_kbps=4000, steps=4, anchor_ratio=1.0),
                    video=dict(seconds=1, resolution=256, fps=15),
                    channel=dict(model="tdl-c", snr_db=15, speed_kmh=3), link=dict(bandwidth_mhz=20, scs_khz=30, trace_s=1),
                    cell=dict(scheduler="pf", pdb_ms=30),
                    receiver=dict(latency="profile:sd15-a100", decode="timing-only", gpus=1)).updated(kw)


def test_capacity_scales_with_gpus_until_the_radio_binds(tmp_path):
    res = gsvc.sweep(_cell(), {"streams": [3, 5, 6, 10, 12, 16], "receiver.gpus": [1, 2, 8]}, executor="serial",
                     out=tmp_path / "s", progress=False)
    cap = capacity(res).set_index(["receiver.gpus", "kind"])
    viewer = {k: cap.loc[(k, "viewer")] for k in (1, 2, 8)}
    assert [viewer[k]["capacity"] for k in (1, 2, 8)] == [3, 6, 12]          # 1 GPU: 3 streams of 23 ms per 67 ms
    assert viewer[1]["binding"] == "gpu" and viewer[2]["binding"] == "gpu" and viewer[8]["binding"] == "radio"
    s = res.summary.set_index(["streams", "receiver.gpus"])
    at_capacity, saturated = s.loc[(12, 8)], s.loc[(16, 8)]
    assert saturated["prb_utilization"] > 0.99
    assert at_capacity["prb_utilization"] > 0.7                               # the radio binds when nearly full
    assert 12 * 4.0 <= saturated["throughput_mbps"]                            # users x rate within the cell's capacity
    assert cap.loc[(1, "radio")]["capacity"] == cap.loc[(8, "radio")]["capacity"]   # GPUs do not move the air
    page = render_report(res)
    assert "Capacity" in page and "users_above" in page and "Users satisfied against users" in page


@pytest.mark.slow
def test_more_bandwidth_never_lowers_capacity_and_a_higher_rate_never_raises_it(tmp_path):
    # 120 frames a stream and two drops: one unlucky HARQ failure in a 30-frame run flips a user
    base = Scenario(name="xr", seed=3, codec=dict(name="xr", bitrate_kbps=5000), video=dict(seconds=2, resolution=64),
                    channel=dict(model="tdl-c", snr_db=15, speed_kmh=3), link=dict(bandwidth_mhz=10, scs_khz=30,
                                                                                    trace_s=2),
                    cell=dict(scheduler="pf", pdb_ms=10), receiver=dict(latency="profile:sd15-a100",
                                                                        decode="timing-only"))
    res = gsvc.sweep(base, {"streams": [1, 2, 3, 4, 5, 6], "link.bandwidth_mhz": [10, 20],
                            "codec.bitrate_kbps": [5000, 8000]}, seeds=2, executor="serial", out=tmp_path / "s",
                     progress=False)
    cap = capacity(res).set_index(["link.bandwidth_mhz", "codec.bitrate_kbps", "kind"])["capacity"]
    for kind in ("radio", "viewer"):
        for rate in (5000, 8000):
            assert cap[(20, rate, kind)] >= cap[(10, rate, kind)]
        for bw in (10, 20):
            assert cap[(bw, 8000, kind)] <= cap[(bw, 5000, kind)]
    assert cap[(20, 5000, "viewer")] > cap[(10, 5000, "viewer")]              # not all equal: the test can fail


def test_uplink_cameras_are_judged_by_the_same_rule():
    def run(kbps):
        sc = Scenario(name="up", seed=4, streams=2, codec=dict(name="xr", bitrate_kbps=kbps),
                      video=dict(seconds=0.5, resolution=64), channel=dict(model="umi", speed_kmh=3),
                      link=dict(bandwidth_mhz=20, trace_s=0.5, direction="uplink"), cell=dict(scheduler="pf", pdb_ms=30),
                      receiver=dict(latency="profile:sd15-a100", decode="timing-only"))
        return gsvc.run(sc).summary
    light, heavy = run(500), run(60_000)                                   # 60 Mbit/s each: no uplink carries it
    assert light["radio_satisfied_fraction"] == 1.0 and light["binding"] == "none"
    assert heavy["radio_satisfied_fraction"] == 0.0 and heavy["binding"] == "radio"


def test_a_sweep_over_one_groups_count_varies_that_group_alone(tmp_path):
    base = Scenario(name="mix", seed=2, video=dict(seconds=0.5, fps=10, resolution=64),
                    streams=[{"count": 2, "name": "big", "codec": {"name": "synthetic", "bitrate_kbps": 3000}},
                             {"count": 2, "name": "small", "codec": {"name": "synthetic", "bitrate_kbps": 50}}],
                    channel=dict(model="tdl-c", snr_db=10), link=dict(bandwidth_mhz=5, scs_khz=15, trace_s=0.5),
                    cell=dict(scheduler="pf"), receiver=dict(latency="profile:sd15-a100", decode="timing-only", gpus=4))
    assert base.get("streams.small.codec.bitrate_kbps") == 50 and base.get("streams.big.count") == 2
    res = gsvc.sweep(base, {"streams.big.count": [1, 3]}, executor="serial", out=tmp_path / "s", progress=False)
    s = res.summary.set_index("streams.big.count")
    assert list(s["big/streams"]) == [1, 3] and list(s["small/streams"]) == [2, 2]
    assert set(capacity(res, by="streams.big.count")["kind"]) == {"radio", "viewer"}
    assert "Capacity" in render_report(res)
    with pytest.raises(SpecError, match="streams.huge.count is not a scenario field"):
        base.updated({"streams.huge.count": 3})
