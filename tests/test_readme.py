"""The README's Python example and its sweep run as written."""
import re
import shlex
from pathlib import Path


def test_readme_python_example_runs(tmp_path, monkeypatch):
    text = (Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "gsvc-out" / "walk" / "frames.parquet").exists()


def _readme_commands(prefix: str) -> list[list[str]]:
    """The README's shell commands starting with ``prefix`` (continuation lines joined), as argv lists."""
    text = (Path(__file__).parents[1] / "README.md").read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for cmd in block.replace("\\\n", " ").splitlines():
            cmd = cmd.split("#")[0].strip()
            if cmd.startswith(prefix):
                out.append(shlex.split(cmd)[1:])
    return out


def test_readme_sweep_runs_as_written_and_shows_snr_and_bandwidth_moving_latency(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import gsvc
    from gsvc.cli import main

    monkeypatch.chdir(tmp_path)
    (sweep,) = [c for c in _readme_commands("gsvc sweep") if "channel.snr_db=0:20:10" in c]
    res = CliRunner().invoke(main, sweep)
    assert res.exit_code == 0, res.output
    assert "latency_ms_mean" in res.output
    (report,) = _readme_commands("gsvc report")
    assert CliRunner().invoke(main, report).exit_code == 0
    out = sweep[sweep.index("--out") + 1]
    s = gsvc.load_results(out).summary.groupby(["channel.snr_db", "link.bandwidth_mhz"])
    lat, air, miss = s["latency_ms_mean"].mean(), s["air_delay_ms_p99"].mean(), s["deadline_miss_rate"].mean()
    for bw in (5.0, 10.0):  # more SNR: less delay on the air and end to end
        assert air[(0.0, bw)] > air[(10.0, bw)] > air[(20.0, bw)]
        assert lat[(0.0, bw)] > lat[(10.0, bw)] > lat[(20.0, bw)]
    for snr in (0.0, 10.0, 20.0):  # more bandwidth: less delay on the air
        assert air[(snr, 5.0)] > air[(snr, 10.0)]
    assert miss[(0.0, 5.0)] > 0.5 > 0.1 > miss[(20.0, 10.0)]  # the 5 MHz link at 0 dB cannot carry the stream
    assert (tmp_path / out / "report.html").exists()


def test_readme_rate_sweep_draws_every_codecs_rate_quality_curve(tmp_path, monkeypatch):
    """The README's codecs x rates sweep (1 s of video instead of 6): each codec follows the rates it is given,
    the diffusion codec and lowres through their rate ladder, and the report carries the BD-rate tables."""
    from click.testing import CliRunner

    import gsvc
    from gsvc.cli import main

    monkeypatch.chdir(tmp_path)
    (sweep,) = [c for c in _readme_commands("gsvc sweep") if "codec.bitrate_kbps=8,12,16,24,32" in c]
    res = CliRunner().invoke(main, sweep + ["--set", "video.seconds=1", "--executor", "serial"])
    assert res.exit_code == 0, res.output
    out = sweep[sweep.index("--out") + 1]
    s = gsvc.load_results(out).summary
    for name, g in s.groupby("codec.name"):
        kbps = g.sort_values("codec.bitrate_kbps")["bitrate_kbps"].to_numpy()
        assert kbps[0] < 0.6 * kbps[-1], name                  # 8 kbit/s asked: well under the 32 kbit/s point
    assert CliRunner().invoke(main, ["report", out]).exit_code == 0
    assert "Bjontegaard-delta rate against lowres" in next(Path(out).glob("*.html")).read_text()


def test_readme_tables_have_one_line_per_row():
    """A table row broken over several lines renders as a cut-off row and a stray paragraph: every line that
    starts a row with '|' must end it with '|'."""
    lines = (Path(__file__).parents[1] / "README.md").read_text().splitlines()
    bad = [i + 1 for i, line in enumerate(lines) if line.startswith("|") and not line.rstrip().endswith("|")]
    assert not bad, f"README.md lines {bad} start a table row that does not end on the same line"
