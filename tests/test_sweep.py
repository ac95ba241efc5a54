"""Sweeps: grid text, up-front validation, seeds, executors agreeing, resuming, failures."""
import pandas as pd
import pytest
from helpers import timing_scenario

import gsvc
from gsvc import SpecError
from gsvc.scenarios import sweep as sweepmod
from gsvc.scenarios.grid import expand, parse_assignment, parse_values

GRID = {"channel.rate_mbps": [0.2, 20], "codec.steps": [2, 4]}


def base():
    return timing_scenario(video=dict(seconds=2))


# --- grid text -----------------------------------------------------------------------
def test_range_text_includes_its_stop_value():
    assert parse_values("channel.snr_db", "0:20:5") == [0, 5, 10, 15, 20]
    assert parse_values("channel.snr_db", "0:1:0.25") == [0, 0.25, 0.5, 0.75, 1.0]
    assert parse_values("channel.snr_db", "20:0:-10") == [20, 10, 0]


def test_list_text_keeps_numbers_as_numbers_and_names_as_strings():
    assert parse_values("link.bandwidth_mhz", "5,10,20") == [5, 10, 20]
    assert parse_values("codec.name", "full, cvsc") == ["full", "cvsc"]
    assert parse_assignment("channel.snr_db=2.5") == ("channel.snr_db", [2.5])


@pytest.mark.parametrize("text, words", [
    ("0:b", "start:stop:step"), ("0:20", "start:stop:step"), ("0:20:0", "step 0"), ("0:20:-5", "never goes"),
    ("", "no values"), ("5,,10", "empty entry")])
def test_malformed_grid_text_is_rejected_naming_the_key(text, words):
    with pytest.raises(SpecError, match="channel.snr_db") as err:
        parse_values("channel.snr_db", text)
    assert words in str(err.value)


# --- validation before anything runs ---------------------------------------------------
def test_unknown_grid_key_lists_the_valid_keys_and_runs_nothing(tmp_path):
    with pytest.raises(SpecError) as err:
        gsvc.sweep(base(), grid={"channel.snr": [1, 2]}, out=tmp_path / "s", progress=False)
    assert "grid key channel.snr is not a scenario field; did you mean channel.snr_db" in str(err.value)
    assert "channel fields: " in str(err.value) and "channel.speed_kmh" in str(err.value)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("grid, words", [
    ({"channel.snr_db": "0:20"}, "channel.snr_db='0:20' is not a range"),
    ({"channel.snr_db": "a:b"}, "channel.snr_db='a:b' input should be a valid number"),
    ({"channel.snr_db": []}, "grid channel.snr_db is an empty list"),
    ({"channel.snr_db": [5, 5]}, "grid channel.snr_db repeats 5"),
    ({"channel.snr_db": [0, 100]}, "grid channel.snr_db=100: channel.snr_db=100"),
    ({"codec.steps": ["many"]}, "grid codec.steps='many'"),
    ({"receiver.policy": ["lifo"]}, "receiver.policy='lifo'"),
])
def test_bad_grid_values_are_rejected_before_any_point_runs(tmp_path, grid, words):
    with pytest.raises(SpecError) as err:
        gsvc.sweep(base(), grid={"codec.steps": [2, 4], **grid}, out=tmp_path / "s", progress=False)
    assert words in str(err.value)
    assert not (tmp_path / "s").exists()


def test_invalid_combination_of_valid_values_names_the_grid_point():
    grid = {"link.scs_khz": [15, 60], "link.bandwidth_mhz": [5, 100]}  # each fine alone, not every pair
    with pytest.raises(SpecError) as err:
        expand(base(), grid)
    text = str(err.value)
    assert "grid point {'link.scs_khz': 15, 'link.bandwidth_mhz': 100}" in text
    assert "grid point {'link.scs_khz': 60, 'link.bandwidth_mhz': 5}" in text
    assert "'link.scs_khz': 15, 'link.bandwidth_mhz': 5}" not in text


def test_seeds_must_be_a_positive_count_and_not_clash_with_a_seed_grid():
    with pytest.raises(SpecError, match="seeds=0"):
        expand(base(), {}, seeds=0)
    with pytest.raises(SpecError, match="grid seed and seeds=2"):
        gsvc.sweep(base(), grid={"seed": [1, 2]}, seeds=2, progress=False)


# --- points and seeds --------------------------------------------------------------------
def test_points_are_the_grid_product_times_seeds_with_shared_replicate_seeds():
    pts = expand(base(), GRID, seeds=3)
    assert len(pts) == 2 * 2 * 3
    assert len({p.spec_hash for p in pts}) == len(pts)
    seeds_by_point = {}
    for p in pts:
        seeds_by_point.setdefault(tuple(p.params.values()), []).append(p.seed)
    first, *others = seeds_by_point.values()
    assert first[0] == base().seed and len(set(first)) == 3
    assert all(o == first for o in others)  # common random numbers across grid points
    assert [p.seed for p in expand(base(), GRID, seeds=3)] == [p.seed for p in pts]


def test_a_one_point_sweep_equals_a_plain_run(tmp_path):
    res = gsvc.sweep(base(), out=tmp_path / "s", executor="serial", progress=False)
    run = gsvc.run(base())
    assert res.summary.loc[0, "latency_ms_p95"] == run.summary["latency_ms_p95"]
    pd.testing.assert_frame_equal(res.run(res.summary.loc[0, "spec_hash"]).frames, run.frames)


# --- executors ----------------------------------------------------------------------------
def test_local_process_pool_gives_the_same_tables_as_running_in_process(tmp_path):
    serial = gsvc.sweep(base(), GRID, seeds=2, executor="serial", out=tmp_path / "a", progress=False)
    pool = gsvc.sweep(base(), GRID, seeds=2, executor="local", workers=2, out=tmp_path / "b", progress=False)
    assert len(pool.summary) == 8
    pd.testing.assert_frame_equal(pool.summary, serial.summary)
    pd.testing.assert_frame_equal(pool.frames, serial.frames)


def test_two_worker_dask_cluster_gives_the_same_summaries_as_the_local_pool(tmp_path):
    grid = {"channel.rate_mbps": [0.2, 20]}
    local = gsvc.sweep(base(), grid, seeds=2, executor="local", workers=2, out=tmp_path / "a", progress=False)
    dask = gsvc.sweep(base(), grid, seeds=2, executor="dask", workers=2, out=tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(dask.summary, local.summary)



def _malloc_trim_threshold():
    import os
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_a_local_dask_cluster_keeps_glibc_s_own_malloc_thresholds(monkeypatch):
    """Dask's nanny would give each worker MALLOC_TRIM_THRESHOLD_=65536, which turns glibc's dynamic mmap
    threshold off and made a decoding point 1.5x slower; the sweep's own cluster leaves it unset (and
    does not leave it in this process's environment either)."""
    from gsvc.scenarios.sweep import _Dask
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    ex = _Dask(1, None)
    try:
        assert ex.client.submit(_malloc_trim_threshold, pure=False).result() is None
    finally:
        ex.close(cancel=True)
    assert _malloc_trim_threshold() is None

def test_sweep_runs_on_a_running_dask_scheduler_given_by_address(tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = {"codec.steps": [2, 4]}
    serial = gsvc.sweep(base(), grid, executor="serial", out=tmp_path / "a", progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        remote = gsvc.sweep(base(), grid, executor="dask", address=c.scheduler_address, out=tmp_path / "b",
                            progress=False)
    pd.testing.assert_frame_equal(remote.summary, serial.summary)


def test_unknown_executor_and_stray_address_are_refused():
    with pytest.raises(ValueError, match="executor='threads'"):
        gsvc.sweep(base(), executor="threads")
    with pytest.raises(ValueError, match="use it with executor='dask'"):
        gsvc.sweep(base(), address="tcp://127.0.0.1:8786")


# --- resuming and failures -------------------------------------------------------------------
def test_rerunning_a_sweep_skips_finished_points_and_runs_only_new_ones(tmp_path, monkeypatch):
    gsvc.sweep(base(), GRID, out=tmp_path / "s", executor="serial", progress=False)
    ran = []
    real_run = sweepmod.run
    monkeypatch.setattr(sweepmod, "run", lambda sc, **kw: ran.append(sc) or real_run(sc, **kw))
    again = gsvc.sweep(base(), GRID, out=tmp_path / "s", executor="serial", progress=False)
    assert ran == [] and len(again.summary) == 4
    wider = {**GRID, "codec.steps": [2, 4, 6]}
    res = gsvc.sweep(base(), wider, out=tmp_path / "s", executor="serial", progress=False)
    assert sorted(sc.codec.steps for sc in ran) == [6, 6]
    assert len(res.summary) == 6 and res.complete


def test_a_failing_point_stops_the_sweep_but_keeps_finished_points(tmp_path, monkeypatch):
    real_run = sweepmod.run

    def flaky(sc, **kw):
        if sc.codec.steps == 3:
            raise RuntimeError("decoder exploded")
        return real_run(sc, **kw)
    monkeypatch.setattr(sweepmod, "run", flaky)
    grid = {"codec.steps": [2, 3, 4]}
    with pytest.raises(sweepmod.SweepError, match="decoder exploded") as err:
        gsvc.sweep(base(), grid, out=tmp_path / "s", executor="serial", progress=False)
    assert "{'codec.steps': 3}" in str(err.value) and "1 points not started" in str(err.value)
    partial = gsvc.load_results(tmp_path / "s")
    assert list(partial.summary["codec.steps"]) == [2] and len(partial.missing) == 2
    monkeypatch.setattr(sweepmod, "run", real_run)
    assert list(gsvc.sweep(base(), grid, out=tmp_path / "s", executor="serial",
                           progress=False).summary["codec.steps"]) == [2, 3, 4]


def test_progress_bar_counts_points_and_shows_an_eta(tmp_path, capsys):
    gsvc.sweep(base(), {"codec.steps": [2, 4]}, out=tmp_path / "s", executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "point" in err and "<" in err  # tqdm's [elapsed<remaining]



def test_a_set_value_with_a_colon_after_a_name_is_one_string():
    from gsvc.scenarios.grid import parse_assignment
    assert parse_assignment("receiver.latency=profile:sd15-a100") == ("receiver.latency", ["profile:sd15-a100"])
    assert parse_assignment("channel.snr_db=0:20:10") == ("channel.snr_db", [0, 10, 20])
