"""The ``gsvc`` command: demo, run, sweep, cache, report, presets, calibrate."""
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
    """A progress callback whose bar appears at its first call (an error found before the run starts prints
    on a line of its own)."""
    from tqdm import tqdm
    bars = []

    def update(frac: float) -> None:
        if not bars:
            bars.append(tqdm(total=100, desc=desc, unit="%", leave=True, file=sys.stderr,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"))
        bar = bars[0]
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

    try:
        result = run(sc, progress=_progress(sc.name), pictures=pictures and not sc.timing_only)
    except SpecError as err:  # found when the run opens its inputs (an unreadable video.path)
        _fail("; ".join(err.lines))
    result.save(out)
    latency_cdf(result.frames, out / "latency_cdf.png", by="stream" if sc.num_streams <= 8 else None, title=sc.name)
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
@click.argument("source")
@click.option("--set", "set_args", multiple=True, metavar="KEY=VALUE", help="change every scenario first: video.seconds=2")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gsvc-out"), show_default=True)
def run_cmd(source: str, set_args, out: Path) -> None:
    """Run SOURCE: a preset name, a FILE.py defining ``scenario`` (or a list ``scenarios``), or a FILE.json
    holding one scenario (a run's ``scenario.json``, or ``gsvc presets NAME``'s output) or a list of them.
    Each run is written to OUT/<scenario name>/."""
    try:
        found = [_with_settings(sc, set_args) for sc in _scenarios_of(source, many=True)]
    except SpecError as err:
        _fail("; ".join(err.lines))
    for sc in found:
        _run_and_write(sc, out / sc.name)


def _with_settings(sc, set_args):
    """``sc`` with the ``--set KEY=VALUE`` changes applied (one value each)."""
    from .scenarios.grid import parse_assignment
    changes = {}
    for text in set_args:
        key, values = parse_assignment(text)
        if len(values) != 1:
            _fail(f"--set {text}: give one value")
        changes[key] = values[0]
    return sc.updated(changes) if changes else sc


def _scenarios_of(source: str, many: bool) -> list:
    """The scenarios SOURCE names: a preset, a Python file (``scenario``, or with ``many`` a list ``scenarios``)
    or a JSON file (one scenario's fields, or with ``many`` a list of them)."""
    from .scenarios import Scenario
    from .scenarios.presets import PRESETS, get_preset
    if source in PRESETS:
        return [get_preset(source)]
    path = Path(source)
    if not path.is_file():
        _fail(f"{source!r} is neither a preset ({', '.join(PRESETS)}) nor a file (.py or .json)")
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            _fail(f"{path}: not a JSON file ({err})")
        docs = doc if isinstance(doc, list) and many else [doc]
        if not docs or not all(isinstance(d, dict) for d in docs):
            _fail(f"{path}: expected a scenario's fields (a JSON object){' or a list of them' if many else ''}")
        return [Scenario.from_dump(d) for d in docs]
    ns = runpy.run_path(str(path))
    if many and "scenarios" in ns:
        found = ns["scenarios"]
    else:
        found = [ns["scenario"]] if "scenario" in ns else None
    if not found:
        _fail(f"{path} defines {'neither `scenario` nor `scenarios`' if many else 'no `scenario`'}")
    for sc in found:
        if not isinstance(sc, Scenario):
            _fail(f"{path}: expected Scenario objects, got {type(sc).__name__}")
    return list(found)


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
@click.option("--no-cache", "no_cache", is_flag=True,
              help="decode and encode every frame of every point (no codec cache; the results are the same)")
@click.option("--cache-disk-mb", type=float, default=4096.0, show_default=True,
              help="bound of the codec cache kept in OUT/cache/")
def sweep_cmd(base: str, grid_args, set_args, seeds: int, executor: str, workers, address, out, report: bool,
              no_cache: bool, cache_disk_mb: float) -> None:
    """Sweep BASE (a preset name, a FILE.py defining `scenario` or a FILE.json of one scenario) over a grid
    into a result store."""
    import pandas as pd

    from .analysis import aggregate, ci_table, inert_note, write_report
    from .scenarios.grid import parse_assignment
    from .scenarios.sweep import SweepError, sweep
    try:
        sc = _with_settings(_scenarios_of(base, many=False)[0], set_args)
        grid = dict(parse_assignment(text) for text in grid_args)
        out = out or Path("gsvc-out") / f"sweep-{sc.name}"
        res = sweep(sc, grid=grid, seeds=seeds, executor=executor, workers=workers, address=address, out=out,
                    cache="off" if no_cache else "auto", cache_disk_mb=cache_disk_mb)
    except SpecError as err:
        _fail("; ".join(err.lines))
    except (SweepError, ValueError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished points are in {out}/; run the same command again to resume", err=True)
        sys.exit(130)
    keys = [k for k in res.keys if k != "seed"]
    metrics = ["latency_ms_mean", "latency_ms_p95", "stall_ratio", "deadline_miss_rate", "psnr_db_mean"]
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        click.echo(ci_table(aggregate(res.summary, keys, metrics), keys).to_string(index=False))
    click.echo(f"{len(res)} points in {res.path}/ (mean ± 95% CI over {seeds} seed(s))")
    click.echo(_cache_line(res.cache_counts()))
    inert = inert_note(res.summary, keys)
    if inert:
        click.echo(f"note: {inert}")
    if report:
        click.echo(f"wrote {write_report(res)}")


def _cache_line(counts: dict) -> str:
    """What the codec cache served in a sweep, in words."""
    n, hits = counts["decodes"], counts["decode_hits"]
    if not n and not counts["encodes"]:
        return "codec cache: not used"
    share = f" ({100 * hits / n:.0f} %)" if n else ""
    return (f"codec cache: {hits} of {n} decodes{share} and {counts['encode_hits']} of {counts['encodes']} "
            "encodes served from the cache")


@main.group("cache")
def cache_cmd() -> None:
    """The codec cache kept in a sweep store (DIR/cache/)."""


@cache_cmd.command("clear")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def cache_clear(directory: Path) -> None:
    """Delete the codec cache of the sweep store DIRECTORY (its results stay)."""
    from .codecs.cache import CodecCache
    from .scenarios.store import SweepStore, is_sweep_store
    folder = SweepStore(directory).cache_dir
    if not is_sweep_store(directory) and not folder.exists():
        _fail(f"{directory} is not a sweep store (no sweep.json) and holds no cache/ folder")
    cache = CodecCache(folder)
    freed = cache.disk_usage()
    cache.clear()
    click.echo(f"cleared {folder}/ ({freed / 2**20:.1f} MB)")


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
@click.option("--name", default=None, help="profile name (default: cpu-2core; with --roofline: sd15-GPU-roofline)")
@click.option("--device", default="cpu", show_default=True, help="torch device: cpu or cuda[:N]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="JSON path (default: ./NAME.json; with --flops: ./flops-MODEL.json)")
@click.option("--resolution", "resolutions", type=int, multiple=True, default=None,
              help="image sides, px (default 64 128 256; 512 with --roofline and an SD-1.5 model)")
@click.option("--batch", "batches", type=int, multiple=True, default=None,
              help="frames per evaluation (default 1 2 4 8; 1 4 16 with --roofline)")
@click.option("--model", default=None,
              help="gsvc (= shipped, the default; sd15 with --roofline): the shared denoiser; sd15: an SD-1.5-shaped "
                   "UNet (production-size receiver); "
                   "with --flops/--roofline also sd15-vae-decode, sd15-vae-encode, sd15-controlnet or the path of a "
                   "diffusers pipeline folder")
@click.option("--repeats", type=int, default=5, show_default=True)
@click.option("--weights", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="time the gsvc denoiser in the architecture of these weights (default: the shipped ones)")
@click.option("--flops", is_flag=True, help="count FLOPs and bytes moved per evaluation instead of timing (no GPU needed)")
@click.option("--roofline", "gpu", default=None, metavar="GPU",
              help="write a roofline-estimated profile for GPU (a100, h100, h200, rtx4090, rtx3090, l4, t4, orin-agx)")
def calibrate(name, device, out, resolutions, batches, model, repeats, weights, flops, gpu) -> None:
    """Measure decode costs on this device and write a latency profile (or count FLOPs, or estimate a GPU)."""
    from .timing.calibrate import calibrate as run_calibration, write_profile
    if flops or gpu:
        _count_or_estimate(name, out, resolutions, batches, model or ("sd15" if gpu else "gsvc"), flops, gpu)
        return
    model = model or "gsvc"
    if model not in ("gsvc", "shipped", "sd15"):
        _fail(f"--model={model!r}: timing runs the gsvc (shipped) or sd15 model; other models need --flops or --roofline")
    model = "gsvc" if model == "shipped" else model
    name = name or "cpu-2core"
    click.echo(f"calibrating the {model} denoiser on {device}")
    prof = run_calibration(name, device, resolutions or (64, 128, 256), batches or (1, 2, 4, 8), repeats=repeats,
                           model=model, weights=weights)
    path = write_profile(prof, out or Path(f"{name}.json"))
    click.echo(f"wrote {path}: " + json.dumps({"device": prof.device, "per_frame_ms": prof.per_frame_ms}))


def _count_or_estimate(name, out, resolutions, batches, model, flops, gpu) -> None:
    """``--flops``: a table of counts (and a JSON of them); ``--roofline GPU``: a roofline profile."""
    from .timing.calibrate import write_profile
    from .timing.flops import MODELS, count_model
    from .timing.roofline import GPUS, roofline_profile
    model = "shipped" if model == "gsvc" else model
    if model not in MODELS and not Path(model).is_dir():
        _fail(f"--model={model!r} is not one of {', '.join(MODELS)} or a diffusers pipeline folder")
    if gpu is not None and gpu.lower() not in GPUS:
        _fail(f"--roofline {gpu!r} is not a known GPU; valid: {', '.join(GPUS)}")
    resolutions = resolutions or ((64, 128, 256) if model == "shipped" else (512,))
    batches = batches or ((1, 4, 16) if gpu else (1, 2, 4, 8))
    try:
        if flops:
            rows = []
            click.echo(f"{'model':<16}{'px':>6}{'batch':>6}{'TFLOP':>11}{'GB moved':>10}{'FLOP/B':>8}{'params M':>10}")
            for res in resolutions:
                for b in batches:
                    c = count_model(model, b, res)
                    rows.append(c.to_dict())
                    click.echo(f"{Path(str(model)).name:<16}{res:>6}{b:>6}{c.tflop:>11.4f}{c.gbytes:>10.3f}"
                               f"{c.intensity_flop_per_byte:>8.1f}{c.params / 1e6:>10.2f}")
            if not gpu:
                p = out or Path(f"flops-{Path(str(model)).name}.json")
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(json.dumps({"bytes_model": "every op reads its tensor inputs and writes its outputs once "
                                                        "at 2 bytes per element (fp16); views move nothing",
                                         "counts": rows}, indent=2) + "\n")
                click.echo(f"wrote {p}")
        if gpu:
            prof = roofline_profile(gpu, model, resolutions, batches,
                                    name=name or f"{Path(str(model)).name}-{gpu.lower()}-roofline",
                                    log=click.echo)
            path = write_profile(prof, out or Path(f"{prof.name}.json"))
            click.echo(f"wrote {path}: {prof.device}; eval_ms {json.dumps(prof.eval_ms)}")
    except ValueError as err:
        _fail(str(err))


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train(args) -> None:
    """Train the shared denoiser: gsvc train OUT_DIR [--steps N] [--minutes M] [--fresh] (--help for all)."""
    from .codecs.train import main as train_main
    train_main(list(args))


if __name__ == "__main__":
    main()
