"""The ``gsvc`` command: demo, run, calibrate."""
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


def _run_and_write(sc, out: Path) -> None:
    from .analysis.plots import frame_timeline, latency_cdf
    from .scenarios import run

    result = run(sc, progress=_progress(sc.name))
    result.save(out)
    latency_cdf(result.frames, out / "latency_cdf.png", by="stream" if sc.streams <= 8 else None, title=sc.name)
    frame_timeline(result.frames, out / "timeline.png", title=f"{sc.name}: stream 0")
    click.echo(f"\n{sc.name}  ({'timing-only' if result.meta['timing_only'] else 'quality scored'}; "
               f"latency model {result.meta['latency_model']}; wall {result.meta['wall_s']:.1f} s)")
    click.echo(_summary_table(result.summary))
    click.echo(f"wrote {out}/: frames.parquet summary.json scenario.json meta.json latency_cdf.png timeline.png")


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
    _run_and_write(sc, out)


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


@main.command()
@click.option("--name", default="cpu-2core", show_default=True, help="profile name")
@click.option("--device", default="cpu", show_default=True, help="torch device: cpu or cuda[:N]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="JSON path (default: ./NAME.json)")
@click.option("--resolution", "resolutions", type=int, multiple=True, default=(32, 64, 128), show_default=True)
@click.option("--batch", "batches", type=int, multiple=True, default=(1, 2, 4, 8), show_default=True)
def calibrate(name: str, device: str, out: Path | None, resolutions, batches) -> None:
    """Measure denoiser cost on this device and write a latency profile."""
    from .codecs.calibrate import calibrate as run_calibration, write_profile
    click.echo(f"calibrating the shared denoiser on {device}")
    prof = run_calibration(name, device, resolutions, batches)
    path = write_profile(prof, out or Path(f"{name}.json"))
    click.echo(f"wrote {path}: " + json.dumps({"device": prof.device, "per_frame_ms": prof.per_frame_ms}))


if __name__ == "__main__":
    main()
