"""`gsvc sweep`: a preset or file as base, --grid/--set text, a store and a report; one-line errors."""
import subprocess
import sys

from click.testing import CliRunner

import gsvc
from gsvc.cli import main

BASE = """
from gsvc.scenarios import Scenario
scenario = Scenario(name="cli", video=dict(seconds=1), channel=dict(model="ideal", rate_mbps=5),
                    receiver=dict(decode="timing-only"))
"""


def test_sweep_file_over_a_grid_writes_store_table_and_report(tmp_path):
    f = tmp_path / "base.py"
    f.write_text(BASE)
    out = tmp_path / "store"
    res = CliRunner().invoke(main, ["sweep", str(f), "--grid", "channel.rate_mbps=0.1,5", "--grid", "codec.steps=2:4:2",
                                    "--seeds", "2", "--executor", "serial", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "latency_ms_p95" in res.output and "8 points" in res.output
    loaded = gsvc.load_results(out)
    assert len(loaded.summary) == 8 and loaded.keys == ["channel.rate_mbps", "codec.steps"]
    assert (out / "report.html").stat().st_size > 0


def test_sweep_a_preset_with_its_base_changed_by_set(tmp_path):
    out = tmp_path / "store"
    res = CliRunner().invoke(main, ["sweep", "cell-edge", "--set", "channel.model=ideal", "--set", "video.seconds=1",
                                    "--grid", "codec.steps=1,2", "--executor", "serial", "--no-report",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    loaded = gsvc.load_results(out)
    assert loaded.base.name == "cell-edge" and loaded.base.channel.model == "ideal"
    assert not (out / "report.html").exists()


def test_bad_grid_on_the_command_line_is_one_line_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gsvc.cli", "sweep", "cell-edge", "--grid", "channel.snr_db=0:20",
                           "--out", str(tmp_path / "s")], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: grid channel.snr_db='0:20' is not a range start:stop:step of numbers (stop included), "
        "e.g. 0:20:5; or give a list such as 5,10,20"]
    unknown = CliRunner().invoke(main, ["sweep", "cell-edge", "--grid", "chanel.snr_db=1,2"])
    assert unknown.exit_code == 2 and "did you mean channel.snr_db" in unknown.output


def test_base_that_is_neither_preset_nor_file_is_refused():
    res = CliRunner().invoke(main, ["sweep", "no-such-thing"])
    assert res.exit_code == 2 and "neither a preset" in res.output and "cell-edge" in res.output
