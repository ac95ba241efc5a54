"""The result store: point files, the index, load_results, and surviving a kill."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import timing_scenario

import gsvc
from gsvc.scenarios.store import SweepStore

REPO = Path(__file__).resolve().parents[1]
GRID = {"channel.rate_mbps": [0.2, 20], "codec.steps": [2, 4]}


@pytest.fixture
def store_dir(tmp_path):
    gsvc.sweep(timing_scenario(video=dict(seconds=2)), GRID, seeds=2, executor="serial", out=tmp_path / "s",
               progress=False)
    return tmp_path / "s"


def test_store_holds_one_parquet_file_per_point_an_index_and_the_sweep(store_dir):
    files = sorted(p.name for p in (store_dir / "points").iterdir())
    definition = json.loads((store_dir / "sweep.json").read_text())
    assert files == sorted(f"{p['spec_hash']}.parquet" for p in definition["points"])
    assert len(files) == 8
    lines = (store_dir / "index.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["spec_hash"] + ".parquet" for line in lines) == files


def test_load_results_gives_one_summary_row_per_point_with_grid_values_and_seed(store_dir):
    res = gsvc.load_results(store_dir)
    assert isinstance(res, gsvc.SweepResults) and res.complete
    s = res.summary
    assert len(s) == 8
    assert list(s.columns[:5]) == ["channel.rate_mbps", "codec.steps", "replicate", "seed", "spec_hash"]
    assert set(s["replicate"]) == {0, 1} and s["seed"].nunique() == 2
    assert s["psnr_db_mean"].isna().all() and s["timing_only"].all()  # timing-only: quality not measured
    f = res.frames
    assert len(f) == s["frames"].sum()
    assert {"channel.rate_mbps", "codec.steps", "seed", "latency_ms", "status"} <= set(f.columns)


def test_a_point_file_reloads_as_the_run_that_made_it(store_dir):
    res = gsvc.load_results(store_dir)
    row = res.summary.iloc[3]
    point = res.run(row["spec_hash"])
    again = gsvc.run(point.scenario)
    pd.testing.assert_frame_equal(point.frames, again.frames)
    assert point.summary == again.summary
    assert point.scenario.codec.steps == row["codec.steps"] and point.scenario.seed == row["seed"]


def test_load_results_of_a_saved_run_is_still_that_run(tmp_path):
    run = gsvc.run(timing_scenario(video=dict(seconds=1)))
    run.save(tmp_path / "r")
    assert isinstance(gsvc.load_results(tmp_path / "r"), gsvc.RunResult)


def test_a_lost_or_torn_index_is_rebuilt_from_the_point_files(store_dir):
    index = store_dir / "index.jsonl"
    lines = index.read_text().splitlines()
    index.write_text("\n".join(lines[:3]) + '\n{"spec_hash": "torn')  # a kill in mid-line
    res = gsvc.load_results(store_dir)
    assert res.complete and len(res.summary) == 8
    index.unlink()
    assert len(gsvc.load_results(store_dir).summary) == 8
    assert len(index.read_text().splitlines()) == 8  # restored for the next reader


def test_temporary_files_of_an_unfinished_write_are_not_points(store_dir):
    (store_dir / "points" / ".abc.parquet.x1.tmp").write_bytes(b"half a file")
    assert len(SweepStore(store_dir).finished()) == 8
    assert len(gsvc.load_results(store_dir).summary) == 8


def test_a_store_with_missing_points_reports_them(store_dir):
    res = gsvc.load_results(store_dir)
    for h in res.summary["spec_hash"][:3]:
        os.unlink(store_dir / "points" / f"{h}.parquet")
    partial = gsvc.load_results(store_dir)
    assert len(partial.summary) == 5 and len(partial.missing) == 3 and not partial.complete


_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import gsvc
from helpers import timing_scenario
if __name__ == "__main__":
    base = timing_scenario(video=dict(seconds=40), streams=4)
    gsvc.sweep(base, {grid!r}, seeds=2, executor="local", workers=1, out=sys.argv[1], progress=False)
"""


def test_a_killed_sweep_resumes_and_ends_with_every_point_exactly_once(tmp_path):
    grid = {"codec.steps": [2, 4], "channel.rate_mbps": [0.5, 20]}
    base = timing_scenario(video=dict(seconds=40), streams=4)
    script = tmp_path / "sweep.py"
    script.write_text(_KILL_SCRIPT.format(tests=str(REPO / "tests"), grid=grid))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(SweepStore(out).finished()) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker, as a kill -9 of the job would
    proc.wait()
    proc.stderr.close()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.parquet")}
    assert 3 <= len(before) < 8

    resumed = gsvc.sweep(base, grid, seeds=2, executor="serial", out=out, progress=False)
    whole = gsvc.sweep(base, grid, seeds=2, executor="serial", out=tmp_path / "whole", progress=False)

    assert all((out / "points" / name).stat().st_mtime_ns == t for name, t in before.items())  # not rerun
    hashes = [json.loads(line)["spec_hash"] for line in (out / "index.jsonl").read_text().splitlines()]
    assert sorted(hashes) == sorted(whole.summary["spec_hash"])  # each point indexed exactly once
    assert len(resumed.summary) == 8 and resumed.summary["spec_hash"].is_unique
    pd.testing.assert_frame_equal(resumed.summary, whole.summary)
    pd.testing.assert_frame_equal(resumed.frames, whole.frames)
