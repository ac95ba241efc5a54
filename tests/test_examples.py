"""Every script in examples/ runs, at a tiny size."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's gsvc, whatever is installed
    return subprocess.run([sys.executable, str(REPO / "examples" / name), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_snr_bandwidth_sweep_example_writes_a_store_and_report_for_two_codecs(tmp_path):
    out = tmp_path / "sweep"
    proc = run_example("snr_bandwidth_sweep.py", "--out", str(out), "--seconds", "1", "--snr", "0,10",
                       "--bandwidth", "5", "--codecs", "full,cvsc", "--seeds", "1", "--executor", "serial")
    assert proc.returncode == 0, proc.stderr
    assert "report:" in proc.stdout and (out / "report.html").stat().st_size > 10_000
    import gsvc
    res = gsvc.load_results(out)
    assert res.complete and sorted(res.summary["codec.name"].unique()) == ["cvsc", "full"]
    assert len(res.summary) == 4


def test_congestion_example_saves_both_runs_with_pictures_and_reports(tmp_path):
    out = tmp_path / "congestion"
    proc = run_example("congestion.py", "--out", str(out), "--seconds", "12", "--resolution", "32", "--kbps", "600")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("report:") == 2
    for rc in ("off", "gcc"):
        assert (out / rc / "video.mp4").exists() and (out / rc / "strip.png").exists()
        assert (out / rc / "report.html").stat().st_size > 10_000


def test_every_example_is_covered_by_a_test():
    tested = {"snr_bandwidth_sweep.py", "congestion.py", "cell_users.py", "sd15_cvsc_rtx4090.py", "cell_mixed.py",
              "cell_capacity.py"}
    assert {p.name for p in (REPO / "examples").glob("*.py")} <= tested


def test_cell_users_example_sweeps_users_and_plots_the_cell(tmp_path):
    out = tmp_path / "cell"
    proc = run_example("cell_users.py", "--out", str(out), "--users", "1,3", "--seconds", "1", "--seeds", "1",
                       "--executor", "serial")
    assert proc.returncode == 0, proc.stderr
    assert (out / "users.png").stat().st_size > 10_000 and (out / "throughput_vs_distance.png").stat().st_size > 10_000
    import gsvc
    res = gsvc.load_results(out)
    s = res.summary.set_index(["streams", "cell.scheduler"])
    # uplink cameras in a cell scheduled in the run: the PRB-slots the traffic used, and its air delay
    for sched in ("pf", "round-robin"):
        assert 0 < s.loc[(3, sched), "prb_utilization"] <= 1 and s.loc[(3, sched), "throughput_mbps"] > 0
        assert s.loc[(3, sched), "air_delay_ms_p99"] > s.loc[(1, sched), "air_delay_ms_p99"] * 0.5


def test_sd15_cvsc_rtx4090_example_prints_steps_against_the_deadline_and_says_what_is_published():
    proc = run_example("sd15_cvsc_rtx4090.py", "--seconds", "1", "--steps", "2,12")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [r[0] for r in rows] == ["2", "12"]
    p95 = [float(r[2]) for r in rows]
    assert p95[1] > p95[0]  # more steps take longer on the published 4090 timing
    assert "published" in proc.stdout and "shipped model" in proc.stdout


def test_cell_mixed_example_prints_both_groups_under_both_traffic_models():
    proc = run_example("cell_mixed.py", "--users", "1", "--seconds", "1", "--bandwidth", "5")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| queue") or line.startswith("| full")]
    assert len(rows) == 4 and {r.split("|")[2].strip() for r in rows} == {"h264", "cvsc"}


def test_cell_capacity_example_prints_capacity_per_kind_and_codec(tmp_path):
    proc = run_example("cell_capacity.py", "--quick", "--executor", "serial", "--out", str(tmp_path / "c"))
    out = proc.stdout
    assert "## 1. XR" in out and "## 2." in out
    for word in ("radio", "viewer", "capacity", "binding", "h264", "cvsc"):
        assert word in out
    assert (tmp_path / "c" / "xr.png").exists() and (tmp_path / "c" / "semantic.png").exists()
    assert (tmp_path / "c" / "xr.html").exists()


def test_cell_capacity_example_sends_cameras_up_to_the_edge_server(tmp_path):
    """Question 4: the cameras send on the uplink, into 4 sector elements pairing up to 2 per PRB group."""
    proc = run_example("cell_capacity.py", "--part", "uplink", "--quick", "--rx-antennas", "4", "--mu-mimo-ues", "2",
                       "--executor", "serial", "--out", str(tmp_path / "u"))
    assert proc.returncode == 0, proc.stderr
    assert "## 4. Cameras up a 5 MHz uplink into 4 sector elements, up to 2 per PRB group" in proc.stdout
    import gsvc
    res = gsvc.load_results(tmp_path / "u" / "h264-uplink")
    assert (res.summary["ues_per_prb_mean"] >= 1.0).all() and res.summary["ues_per_prb_mean"].max() > 1.0
    assert res.base.link.direction == "uplink" and res.base.channel.num_rx_ant == 4 and res.base.cell.mu_mimo_ues == 2
    assert (tmp_path / "u" / "uplink.png").exists()


def test_cell_capacity_example_with_a_quality_floor_judges_viewers_on_psnr_too(tmp_path):
    """Question 3 decodes for real: the summary has PSNR, and with a floor no frame can meet (60 dB)
    no viewer is satisfied and quality is what binds."""
    proc = run_example("cell_capacity.py", "--part", "quality", "--quick", "--floor-db", "60", "--executor", "serial",
                       "--out", str(tmp_path / "q"))
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["h264"], ["cvsc"])]
    psnr = [float(r[2]) for r in rows if len(r) == 8]
    assert len(psnr) == 4 and all(15.0 < p < 60.0 for p in psnr)
    assert all(r[-1] == "quality" for r in rows if len(r) == 8 and r[-2] == "0.00" and r[-3] == "1.00")
    assert (tmp_path / "q" / "quality.png").exists()
