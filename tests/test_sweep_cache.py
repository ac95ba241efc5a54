"""Sweeps with the codec cache: the same tables as without it, chains of radio-only points, resuming."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

import gsvc
from gsvc.cli import main
from gsvc.codecs.model import Denoiser, save_denoiser
from gsvc.scenarios import Scenario
from gsvc.scenarios import store as storemod
from gsvc.scenarios.chains import chains, outside_in
from gsvc.scenarios.grid import expand
from test_codec_cache import TINY, one_thread  # noqa: F401 - the fixture applies here too

GRID = {"channel.loss_rate": [0.0, 0.05, 0.1], "channel.rate_mbps": [1.0, 2.0]}


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return str(save_denoiser(Denoiser.fresh(TINY, seed=1), tmp_path_factory.mktemp("w") / "denoiser.safetensors"))


def base(weights) -> Scenario:
    """cvsc under adaptive control and GCC rate control over a link that loses slots (tiny clip)."""
    return Scenario(name="lossy", seed=5, video=dict(seconds=0.8, fps=15, motion_px=2),
                    codec=dict(name="cvsc", steps=4, gop=6, weights=weights, control="adaptive"),
                    channel=dict(model="constant", rate_mbps=2.0),
                    link=dict(rate_control="gcc", trace_s=2.0), jitter=dict(mode="fixed", delay_ms=250),
                    receiver=dict(latency="profile:cpu-2core"))


def tables(res):
    return res.frames.drop(columns="spec_hash"), res.summary.drop(columns="spec_hash")


def assert_same_results(a, b):
    for x, y in zip(tables(a), tables(b)):
        pd.testing.assert_frame_equal(x, y)


# --- results -----------------------------------------------------------------------------------
def test_a_lossy_adaptive_rate_controlled_sweep_gives_the_same_tables_with_and_without_the_cache(
        tiny_weights, tmp_path):
    off = gsvc.sweep(base(tiny_weights), GRID, executor="serial", out=tmp_path / "off", cache="off",
                     progress=False)
    on = gsvc.sweep(base(tiny_weights), GRID, executor="serial", out=tmp_path / "on", progress=False)
    assert_same_results(on, off)
    assert (on.frames["packets_lost"] > 0).any()
    counts = on.cache_counts()
    assert 0 < counts["decode_hits"] < counts["decodes"] == len(on.frames[on.frames["decode_start_ms"].notna()])
    assert off.cache_counts() == {"decodes": 0, "decode_hits": 0, "encodes": 0, "encode_hits": 0}
    assert any((on.path / "cache").rglob("*.entry"))
    # a second sweep over the same store's cache (new points, same frames) is served from disk
    again = gsvc.sweep(base(tiny_weights), {**GRID, "channel.rate_mbps": [1.5]}, executor="serial",
                       out=tmp_path / "on", progress=False)
    assert again.cache.query("`channel.rate_mbps` == 1.5")["decode_hits"].sum() > 0


def test_points_differing_only_in_the_radio_share_a_chain_cleanest_link_first(tiny_weights):
    points = expand(base(tiny_weights), {**GRID, "codec.steps": [2, 4]}, seeds=2)
    got = chains(points)
    assert len(got) == 4 and all(len(c) == 6 for c in got)  # codec.steps x seeds
    for chain in got:
        assert len({(p.scenario.codec.steps, p.seed) for p in chain}) == 1
        assert chain[0].params["channel.loss_rate"] == 0.1 and chain[0].params["channel.rate_mbps"] == 2.0
        radio = [(p.params["channel.loss_rate"], p.params["channel.rate_mbps"]) for p in chain]
        ranked = sorted(radio, reverse=True)
        assert radio[1] == ranked[-1]  # the other end of the grid second
        assert radio[-1] == ranked[len(ranked) // 2]  # the middle of the grid last


def test_outside_in_takes_both_ends_towards_the_middle():
    assert outside_in([]) == []
    assert outside_in([1]) == [1]
    assert outside_in([1, 2, 3, 4, 5]) == [1, 5, 2, 4, 3]
    assert outside_in(list(range(6))) == [0, 5, 1, 4, 2, 3]


def test_a_killed_sweep_resumed_with_its_cache_equals_an_uninterrupted_one(tiny_weights, tmp_path, monkeypatch):
    whole = gsvc.sweep(base(tiny_weights), GRID, executor="serial", out=tmp_path / "whole", cache="off",
                       progress=False)
    write, written = storemod.SweepStore.write_point, []

    def killed_after_two(self, *args):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(args[0])
        write(self, *args)
    monkeypatch.setattr(storemod.SweepStore, "write_point", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        gsvc.sweep(base(tiny_weights), GRID, executor="serial", out=tmp_path / "s", progress=False)
    monkeypatch.setattr(storemod.SweepStore, "write_point", write)
    entries = sorted((tmp_path / "s" / "cache").rglob("*.entry"))
    assert len(entries) > 0
    entries[0].write_bytes(entries[0].read_bytes()[:100])           # a kill in mid-write of one entry
    (entries[1].parent / ".half.tmp").write_bytes(b"torn")          # and a writer's temporary file
    resumed = gsvc.sweep(base(tiny_weights), GRID, executor="serial", out=tmp_path / "s", progress=False)
    assert resumed.complete and resumed.cache["decode_hits"].sum() > 0
    assert_same_results(resumed, whole)


def test_cache_options_are_checked_naming_the_argument(tiny_weights):
    with pytest.raises(ValueError, match="cache='sometimes'"):
        gsvc.sweep(base(tiny_weights), cache="sometimes")
    with pytest.raises(ValueError, match="cache_disk_mb=-5"):
        gsvc.sweep(base(tiny_weights), cache_disk_mb=-5)


# --- the command line ----------------------------------------------------------------------------
def _scenario_file(tmp_path, weights) -> str:
    path = tmp_path / "base.py"
    path.write_text("from gsvc.scenarios import Scenario\n"
                    f"scenario = Scenario(**{base(weights).model_dump(mode='json')!r})\n")
    return str(path)


def test_sweep_command_reports_cache_hits_and_cache_clear_empties_the_store_cache(tiny_weights, tmp_path):
    runner = CliRunner()
    args = ["sweep", _scenario_file(tmp_path, tiny_weights), "--grid", "channel.loss_rate=0,0.1",
            "--executor", "serial", "--no-report", "--out", str(tmp_path / "s")]
    out = runner.invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "codec cache:" in out.output and "decodes" in out.output and "served from the cache" in out.output
    assert (tmp_path / "s" / "cache").exists()
    cleared = runner.invoke(main, ["cache", "clear", str(tmp_path / "s")])
    assert cleared.exit_code == 0 and "cleared" in cleared.output
    assert not (tmp_path / "s" / "cache").exists() and (tmp_path / "s" / "sweep.json").exists()
    plain = runner.invoke(main, args[:-2] + ["--out", str(tmp_path / "t"), "--no-cache"])
    assert plain.exit_code == 0 and "codec cache: not used" in plain.output
    assert not (tmp_path / "t" / "cache").exists()


def test_cache_clear_refuses_a_folder_that_is_not_a_store(tmp_path):
    out = CliRunner().invoke(main, ["cache", "clear", str(tmp_path)])
    assert out.exit_code == 2 and "not a sweep store" in out.output


# --- several workers, a real kill --------------------------------------------------------------------
@pytest.mark.slow
def test_two_local_workers_and_dask_with_the_cache_give_the_tables_of_one_without(tiny_weights, tmp_path):
    off = gsvc.sweep(base(tiny_weights), GRID, seeds=2, executor="local", workers=2, out=tmp_path / "off",
                     cache="off", progress=False)
    for executor in ("local", "dask"):
        on = gsvc.sweep(base(tiny_weights), GRID, seeds=2, executor=executor, workers=2,
                        out=tmp_path / executor, progress=False)
        assert_same_results(on, off)
        assert on.cache_counts()["decode_hits"] > 0


@pytest.mark.slow
def test_a_sweep_process_killed_mid_run_resumes_to_the_uninterrupted_tables(tiny_weights, tmp_path):
    grid = ["--grid", "channel.loss_rate=0,0.02,0.05,0.1", "--grid", "channel.rate_mbps=1,2"]
    cmd = [sys.executable, "-m", "gsvc.cli", "sweep", _scenario_file(tmp_path, tiny_weights), *grid,
           "--executor", "local", "--workers", "2", "--no-report"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "s")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    points = tmp_path / "s" / "points"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(points.glob("*.parquet")) if points.exists() else []) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < len(list(points.glob("*.parquet"))) < 8
    subprocess.run([*cmd, "--out", str(tmp_path / "s")], env=env, check=True, capture_output=True)
    subprocess.run([*cmd, "--out", str(tmp_path / "whole"), "--no-cache"], env=env, check=True, capture_output=True)
    assert_same_results(gsvc.load_results(tmp_path / "s"), gsvc.load_results(tmp_path / "whole"))
