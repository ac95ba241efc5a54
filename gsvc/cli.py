"""The ``gsvc`` command: demo, run, sweep, report, presets, calibrate."""
from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import click

from .spec import SpecError

__all__ = ["main"]


def _fail(msg: str) -> None:
    click.echo(f"error: {msg}", err=True)
    sys.exit(2)


def _progress(desc: str):
    from tqdm import tqdm
    bar = tqdm(total=100, desc=desc, unit="%", leave=True, file=sys.stderr,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")

    def update(frac: float) -> None:
        bar.n = int(round(frac * 100))
        bar.refresh()
        if frac >= 1:
            bar.close()
    return update


def _summary_table(summary: dict) -> str:
    width = max(len(k) for k in summary)
    rows = []
    for k, v in summary.items():
        text = "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
        rows.append(f"  {k:<{width}}  {text}")
    return "\n".join(rows)


def _run_and_write(sc, out: Path, pictures: bool = False) -> None:
    from .analysis.plots import frame_timeline, latency_cdf
    from .scenarios import run

    result = run(sc, progress=_progress(sc.name), pictures=pictures and not sc.timing_only)
    result.save(out)
    latency_cdf(result.frames, out / "latency_cdf.png", by="stream" if sc.streams <= 8 else None, title=sc.name)
    frame_timeline(result.frames, out / "timeline.png", title=f"{sc.name}: stream 0")
    click.echo(f"\n{sc.name}  ({'timing-only' if result.meta['timing_only'] else 'quality scored'}; "
               f"latency model {result.meta['latency_model']}; wall {result.meta['wall_s']:.1f} s)")
    click.echo(_summary_table(result.summary))
    extra = " video.mp4 strip.png" if result.pictures is not None else ""
    click.echo(f"wrote {out}/: frames.parquet summary.json scenario.json meta.json latency_cdf.png timeline.png{extra}")


@click.group()
@click.version_option(package_name="gsvc")
def main() -> None:
    """gsvc: real-time diffusion-based semantic video communication over simulated wireless links."""


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("gsvc-out/demo"), show_default=True)
@click.option("--seconds", type=float, default=None, help="override video.seconds")
def demo(out: Path, seconds: float | None) -> None:
    """Run the default scenario end to end and write its log, summary and plots."""
    from .scenarios.presets import demo_scenario
    try:
        sc = demo_scenario()
        if seconds is not None:
            sc = sc.updated({"video.seconds": seconds})
    except SpecError as err:
        _fail("; ".join(err.lines))
    _run_and_write(sc, out, pictures=True)


@main.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("gsvc-out"), show_default=True)
def run_cmd(file: Path, out: Path) -> None:
    """Run the ``scenario`` (or list ``scenarios``) defined in a Python FILE."""
    from .scenarios import Scenario
    try:
        ns = runpy.run_path(str(file))
    except SpecError as err:
        _fail("; ".join(err.lines))
    found = ns.get("scenarios", [ns["scenario"]] if "scenario" in ns else None)
    if not found:
        _fail(f"{file} defines neither `scenario` nor `scenarios`")
    for sc in found:
        if not isinstance(sc, Scenario):
            _fail(f"{file}: expected Scenario objects, got {type(sc).__name__}")
        _run_and_write(sc, out / sc.name)


def _base_scenario(base: str):
    """A preset by name, or the ``scenario`` defined in a Python file."""
    from .scenarios import Scenario
    from .scenarios.presets import PRESETS, get_preset
    if base in PRESETS:
        return get_preset(base)
    path = Path(base)
    if not path.is_file():
        _fail(f"{base!r} is neither a preset ({', '.join(PRESETS)}) nor a Python file")
    ns = runpy.run_path(str(path))
    sc = ns.get("scenario")
    if not isinstance(sc, Scenario):
        _fail(f"{base} must define `scenario`, a Scenario: the base of the sweep")
    return sc


@main.command("sweep")
@click.argument("base")
@click.option("--grid", "grid_args", multiple=True, metavar="KEY=VALUES",
              help="a sweep key and its values: channel.snr_db=0:20:5 (stop included) or link.bandwidth_mhz=5,10,20")
@click.option("--set", "set_args", multiple=True, metavar="KEY=VALUE", help="change the base first: video.seconds=2")
@click.option("--seeds", type=int, default=1, show_default=True, help="replications per grid point")
@click.option("--executor", type=click.Choice(["local", "dask", "serial"]), default="local", show_default=True)
@click.option("--workers", type=int, default=None, help="worker processes (default: CPU count)")
@click.option("--address", default=None, help="Dask scheduler address (with --executor dask)")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="result store (default: gsvc-out/sweep-<base name>); finished points are reused")
@click.option("--report/--no-report", default=True, show_default=True, help="write OUT/report.html")
def sweep_cmd(base: str, grid_args, set_args, seeds: int, executor: str, workers, address, out, report: bool) -> None:
    """Sweep BASE (a preset name or a FILE.py defining `scenario`) over a grid into a result store."""
    import pandas as pd

    from .analysis import aggregate, ci_table, write_report
    from .scenarios.grid import parse_assignment
    from .scenarios.sweep import SweepError, sweep
    try:
        sc = _base_scenario(base)
        changes = {}
        for text in set_args:
            key, values = parse_assignment(text)
            if len(values) != 1:
                _fail(f"--set {text}: give one value")
            changes[key] = values[0]
        sc = sc.updated(changes) if changes else sc
        grid = dict(parse_assignment(text) for text in grid_args)
        out = out or Path("gsvc-out") / f"sweep-{sc.name}"
        res = sweep(sc, grid=grid, seeds=seeds, executor=executor, workers=workers, address=address, out=out)
    except SpecError as err:
        _fail("; ".join(err.lines))
    except (SweepError, ValueError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished points are in {out}/; run the same command again to resume", err=True)
        sys.exit(130)
    keys = [k for k in res.keys if k != "seed"]
    metrics = ["latency_ms_p95", "stall_ratio", "deadline_miss_rate", "psnr_db_mean"]
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        click.echo(ci_table(aggregate(res.summary, keys, metrics), keys).to_string(index=False))
    click.echo(f"{len(res)} points in {res.path}/ (mean ± 95% CI over {seeds} seed(s))")
    if report:
        click.echo(f"wrote {write_report(res)}")


@main.command("report")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="HTML path (default: DIRECTORY/report.html)")
def report_cmd(directory: Path, out: Path | None) -> None:
    """Write a self-contained HTML report of a sweep store or a saved run."""
    from .analysis import write_report
    try:
        click.echo(f"wrote {write_report(directory, out)}")
    except FileNotFoundError as err:
        _fail(str(err))


@main.command("presets")
@click.argument("name", required=False)
def presets_cmd(name: str | None) -> None:
    """List the presets, or print preset NAME as JSON."""
    from .scenarios.presets import get_preset, list_presets
    if name is None:
        items = list_presets()
        width = max(map(len, items))
        for key, text in items.items():
            click.echo(f"{key:<{width}}  {text}")
        return
    try:
        click.echo(json.dumps(get_preset(name).model_dump(mode="json"), indent=2))
    except KeyError as err:
        _fail(err.args[0])


@main.command()
@click.option("--name", default="cpu-2core", show_default=True, help="profile name")
@click.option("--device", default="cpu", show_default=True, help="torch device: cpu or cuda[:N]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="JSON path (default: ./NAME.json)")
@click.option("--resolution", "resolutions", type=int, multiple=True, default=(64, 128, 256), show_default=True)
@click.option("--batch", "batches", type=int, multiple=True, default=(1, 2, 4, 8), show_default=True)
@click.option("--model", type=click.Choice(["gsvc", "sd15"]), default="gsvc", show_default=True,
              help="gsvc: the shared denoiser; sd15: an SD-1.5-shaped UNet (production-size receiver)")
@click.option("--repeats", type=int, default=5, show_default=True)
def calibrate(name: str, device: str, out: Path | None, resolutions, batches, model: str, repeats: int) -> None:
    """Measure decode costs on this device and write a latency profile."""
    from .codecs.calibrate import calibrate as run_calibration, write_profile
    click.echo(f"calibrating the {model} denoiser on {device}")
    prof = run_calibration(name, device, resolutions, batches, repeats=repeats, model=model)
    path = write_profile(prof, out or Path(f"{name}.json"))
    click.echo(f"wrote {path}: " + json.dumps({"device": prof.device, "per_frame_ms": prof.per_frame_ms}))


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train(args) -> None:
    """Train the shared denoiser: gsvc train OUT_DIR [--steps N] [--minutes M] [--fresh] (--help for all)."""
    from .codecs.train import main as train_main
    train_main(list(args))


if __name__ == "__main__":
    main()
