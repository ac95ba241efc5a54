"""The gsvc command: demo, run FILE.py, and one-line errors for bad scenarios."""
import json
import subprocess
import sys

from click.testing import CliRunner

from gsvc.cli import main


def test_demo_writes_log_summary_and_plots(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo"), "--seconds", "1"])
    assert res.exit_code == 0, res.output
    for name in ("frames.parquet", "summary.json", "scenario.json", "meta.json", "latency_cdf.png", "timeline.png"):
        assert (tmp_path / "demo" / name).stat().st_size > 0
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["frames"] == 15 and summary["psnr_db_mean"] > 15  # the real denoiser ran and was scored
    assert "latency_ms_p95" in res.output


def test_run_file_runs_every_scenario(tmp_path):
    f = tmp_path / "two.py"
    f.write_text(
        "from gsvc.scenarios import Scenario\n"
        "base = dict(video=dict(seconds=1), receiver=dict(decode='timing-only'))\n"
        "scenarios = [Scenario(name='a', **base), Scenario(name='b', streams=2, **base)]\n")
    res = CliRunner().invoke(main, ["run", str(f), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "a" / "frames.parquet").exists()
    assert (tmp_path / "out" / "b" / "frames.parquet").exists()


def test_bad_scenario_file_prints_one_line_without_traceback(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text("from gsvc.scenarios import Scenario\nscenario = Scenario(channel=dict(snr_db=float('nan')))\n")
    proc = subprocess.run([sys.executable, "-m", "gsvc.cli", "run", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["error: channel.snr_db=nan is not a finite number; give a value in [-30, 60] dB"]


def test_a_runs_scenario_json_runs_again_to_the_same_frames(tmp_path):
    """``gsvc run DIR/scenario.json`` reruns a written run: same scenario, same seed, same per-frame log. ``--set``
    changes it first, and a bad value in the JSON names its field."""
    import pandas as pd
    f = tmp_path / "one.py"
    f.write_text("from gsvc.scenarios import Scenario\n"
                 "scenario = Scenario(name='w', video=dict(seconds=1), codec=dict(name='h264'),\n"
                 "                    channel=dict(model='awgn', snr_db=8))\n")
    first = CliRunner().invoke(main, ["run", str(f), "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, ["run", str(tmp_path / "a" / "w" / "scenario.json"), "--out", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "w" / "frames.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "w" / "frames.parquet"))
    short = CliRunner().invoke(main, ["run", str(tmp_path / "a" / "w" / "scenario.json"), "--set", "video.fps=10",
                                      "--out", str(tmp_path / "c")])
    assert short.exit_code == 0, short.output
    assert len(pd.read_parquet(tmp_path / "c" / "w" / "frames.parquet")) == 10  # 1 s at 10 fps, not 15

    doc = json.loads((tmp_path / "a" / "w" / "scenario.json").read_text())
    doc["channel"]["snr_db"] = 99
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = subprocess.run([sys.executable, "-m", "gsvc.cli", "run", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "channel.snr_db" in proc.stderr and "[-30, 60]" in proc.stderr
    (tmp_path / "broken.json").write_text("{")
    proc = subprocess.run([sys.executable, "-m", "gsvc.cli", "run", str(tmp_path / "broken.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not a JSON file" in proc.stderr


def test_an_unreadable_video_is_named_before_the_channel_is_drawn(tmp_path, monkeypatch):
    import importlib
    run_module = importlib.import_module("gsvc.scenarios.run")  # the module; gsvc.scenarios.run is the function

    def no_channel(*args, **kwargs):
        raise AssertionError("the channel was drawn before the video was opened")
    monkeypatch.setattr(run_module, "draw_traces", no_channel)
    missing = tmp_path / "nope.mp4"
    res = CliRunner().invoke(main, ["run", "pedestrian-urban", "--set", "video.source=file",
                                    "--set", f"video.path={missing}", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: video.path=") and "nope.mp4" in res.output and "Traceback" not in res.output
