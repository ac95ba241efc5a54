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
