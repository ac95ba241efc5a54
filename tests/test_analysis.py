"""Analysis of result tables: confidence intervals, Pareto front, receiver load over time, plots."""
import io

import numpy as np
import pandas as pd
import pytest
from helpers import timing_scenario

import gsvc
from gsvc.analysis import (aggregate, bandwidth_sweep, ci_table, frame_timeline, gpu_queue_timeline,
                           gpu_utilization, latency_cdf, mean_ci, pareto_frontier, pareto_mask, queue_length,
                           snr_sweep, sweep_curves)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sweep_result(tmp_path_factory):
    """SNR x bandwidth x steps over an AWGN link, two seeds, timing-only (no quality)."""
    base = timing_scenario(video=dict(seconds=2), codec=dict(bitrate_kbps=2000),
                           channel=dict(model="awgn", rate_mbps=20))
    grid = {"channel.snr_db": [0, 20], "link.bandwidth_mhz": [5, 10], "codec.steps": [2, 4]}
    return gsvc.sweep(base, grid, seeds=2, executor="serial", out=tmp_path_factory.mktemp("sw") / "s",
                      progress=False)


@pytest.fixture(scope="module")
def agg(sweep_result):
    return aggregate(sweep_result.summary, sweep_result.keys)


# --- statistics -------------------------------------------------------------------------
def test_mean_ci_is_the_student_t_interval():
    n, mean, std, lo, hi = mean_ci([1, 2, 3, 4, 5])
    assert (n, mean) == (5, 3.0)
    assert std == pytest.approx(1.5811, abs=1e-4)
    assert (hi - lo) / 2 == pytest.approx(2.7764 * 1.5811 / np.sqrt(5), abs=1e-3)  # t_{0.975, 4} = 2.7764


def test_equal_replications_have_an_interval_of_exactly_zero():
    # two seeds' stall ratios as a sweep measured them: the same 323.3 ms of 1 s, summed in another order, which
    # the table printed as "0.3233 ± 7.2e-16"
    same = [0.32333333333333336, 0.32333333333333325]
    n, mean, std, lo, hi = mean_ci(same)
    assert std == 0.0 and lo == hi == mean
    assert mean_ci([0.3233, 0.3234])[2] > 0  # a real difference in the fourth digit stays
    agg = aggregate(pd.DataFrame({"snr": [0, 0], "stall_ratio": same}), ["snr"], ["stall_ratio"])
    assert ci_table(agg, ["snr"])["stall_ratio"].iloc[0] == "0.3233 ± 0"


def test_mean_ci_of_one_or_no_measurement_has_no_interval():
    assert mean_ci([7.0])[:2] == (1, 7.0) and np.isnan(mean_ci([7.0])[3])
    n, mean, *_ = mean_ci([None, float("nan")])  # not measured (timing-only quality)
    assert n == 0 and np.isnan(mean)


def test_aggregate_gives_one_row_per_grid_point_and_metric_over_seeds(sweep_result, agg):
    p95 = agg[agg["metric"] == "latency_ms_p95"]
    assert len(p95) == 8 and (p95["n"] == 2).all()
    assert (p95["ci_low"] <= p95["mean"]).all() and (p95["mean"] <= p95["ci_high"]).all()
    psnr = agg[agg["metric"] == "psnr_db_mean"]
    assert (psnr["n"] == 0).all() and psnr["mean"].isna().all()
    table = ci_table(agg, sweep_result.keys)
    assert len(table) == 8 and (table["psnr_db_mean"] == "n/a").all()
    assert table["latency_ms_p95"].str.contains("±").all()


def test_pareto_front_keeps_only_points_nothing_beats():
    latency = np.array([10, 20, 30, 25, 15, np.nan])
    quality = np.array([20, 30, 35, 28, 19, 50])
    assert pareto_mask(latency, quality).tolist() == [True, True, True, False, False, False]


# --- receiver load over time ---------------------------------------------------------------
def _frames(arrive, start, done, gpu):
    return pd.DataFrame({"arrive_ms": arrive, "decode_start_ms": start, "decode_done_ms": done, "gpu": gpu,
                         "capture_ms": np.zeros(len(arrive))})


def test_queue_length_counts_frames_between_arrival_and_decode_start():
    f = _frames([0.0, 10, 20, 25, np.nan], [5.0, 30, 30, 25, np.nan], [30.0, 40, 50, 35, np.nan], [0, 0, 1, 1, -1])
    t, n = queue_length(f)
    assert dict(zip(t[1:], n[1:])) == {0: 1, 5: 0, 10: 1, 20: 2, 25: 2, 30: 0}
    assert n.min() == 0  # a frame that starts as it arrives never makes the queue dip


def test_gpu_utilization_is_busy_time_over_pool_time_per_bin():
    # GPU 0 busy 0-50 ms; GPU 1 busy 0-100 ms; two rows of one batch count once
    f = _frames([0.0, 0, 0], [0.0, 0, 0], [50.0, 100, 100], [0, 1, 1])
    starts, util = gpu_utilization(f, bin_ms=50, gpus=2)
    assert starts.tolist() == [0, 50] and util.tolist() == [1.0, 0.5]


# --- every plot writes a PNG --------------------------------------------------------------------
def _plots(res, agg, snr_agg):
    point = res.run(res.summary["spec_hash"][0])
    return {
        "latency_cdf": lambda p: latency_cdf(res.frames, p, by="codec.steps"),
        "frame_timeline": lambda p: frame_timeline(point.frames, p),
        "gpu_queue_timeline": lambda p: gpu_queue_timeline(point.frames, p, gpus=1),
        "snr_sweep": lambda p: snr_sweep(snr_agg, p, by="codec.steps"),
        "bandwidth_sweep": lambda p: bandwidth_sweep(agg, p, by=["codec.steps", "channel.snr_db"]),
        "sweep_curves": lambda p: sweep_curves(agg, p, x="codec.steps", by="channel.snr_db",
                                               where={"link.bandwidth_mhz": 10}),
        "pareto_frontier": lambda p: pareto_frontier(agg, p, quality="stall_ratio", higher_is_better=False,
                                                     by="codec.steps"),
        "pareto_without_quality": lambda p: pareto_frontier(agg, p),
    }


@pytest.mark.parametrize("name", ["latency_cdf", "frame_timeline", "gpu_queue_timeline", "snr_sweep",
                                  "bandwidth_sweep", "sweep_curves", "pareto_frontier", "pareto_without_quality"])
def test_every_plot_writes_a_non_empty_png(sweep_result, agg, tmp_path, name):
    snr_agg = agg[agg["link.bandwidth_mhz"] == 5].drop(columns="link.bandwidth_mhz")
    draw = _plots(sweep_result, agg, snr_agg)[name]
    path = draw(tmp_path / "sub" / f"{name}.png")
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5000
    buf = io.BytesIO()
    draw(buf)
    assert buf.getvalue()[:8] == PNG  # also into a file object (the report embeds them)


def test_sweep_curves_refuse_to_mix_points_of_an_unfixed_grid_key(agg, tmp_path):
    with pytest.raises(ValueError, match="link.bandwidth_mhz"):
        sweep_curves(agg, tmp_path / "x.png", x="channel.snr_db", by="codec.steps")


def test_inert_keys_finds_a_grid_key_that_changed_nothing_and_only_that():
    from gsvc.analysis import inert_keys, inert_note
    rows = []
    for snr in (0, 10):
        for bw in (5, 10):
            for seed in (1, 2):
                latency = 100.0 / bw + seed                            # bandwidth moves it, SNR does not
                rows.append({"channel.snr_db": snr, "link.bandwidth_mhz": bw, "seed": seed, "spec_hash": f"{snr}{bw}",
                             "latency_ms_mean": latency, "psnr_db_mean": float("nan")})
    s = pd.DataFrame(rows)
    keys = ["channel.snr_db", "link.bandwidth_mhz"]
    assert inert_keys(s, keys) == ["channel.snr_db"]
    assert inert_note(s, keys).startswith("channel.snr_db changed nothing")
    s.loc[(s["channel.snr_db"] == 10) & (s["link.bandwidth_mhz"] == 10) & (s["seed"] == 2), "latency_ms_mean"] += 1
    assert inert_keys(s, keys) == [] and inert_note(s, keys) is None    # one point it moved: not inert
