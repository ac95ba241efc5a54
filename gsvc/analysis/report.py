"""A self-contained HTML report of a sweep store or a saved run.

Figures are embedded as base64 PNG, tables as HTML; the file references nothing
outside itself, so it can be mailed or archived alone. ``gsvc report DIR`` calls
:func:`write_report`.
"""
from __future__ import annotations

import base64
import html
import io
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd

from .._version import __version__
from ..scenarios import RunResult, load_run
from ..scenarios.store import SweepResults, is_sweep_store
from .capacity import capacity
from .inert import inert_note
from .plots import frame_timeline, gpu_queue_timeline, latency_cdf
from .rd import bd_rate, rd_curves
from .stats import KEY_METRICS, aggregate, ci_table
from .sweep_plots import METRIC_LABELS, pareto_frontier, satisfied_users, sweep_curves

__all__ = ["write_report", "render_report"]

#: largest MP4 embedded in a report (bigger ones stay beside it as video.mp4)
_MAX_VIDEO_BYTES = 20 * 2**20

#: packages whose versions the report lists (distribution names)
PACKAGES = ("numpy", "pandas", "pyarrow", "simpy", "torch", "sionna-no-rt", "diffusers", "matplotlib",
            "dask", "distributed", "pydantic")
#: most lines drawn in one sweep figure; further grid keys are fixed at a middle value
_MAX_LINES = 8
_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}figure{margin:1.5em 0}img{max-width:100%}
figcaption{font-size:13px;color:#555}.note{background:#fff6dd;padding:.5em 1em;border-left:4px solid #e8b400}"""


class _Doc:
    """Accumulates HTML sections; every text goes through ``html.escape``."""

    def __init__(self, title: str):
        self.title, self.parts = title, []

    def h(self, level: int, text: str) -> None:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f"<p{f' class={cls!r}' if cls else ''}>{html.escape(text)}</p>")

    def pre(self, text: str) -> None:
        self.parts.append(f"<pre>{html.escape(text)}</pre>")

    def table(self, df: pd.DataFrame, summary: str | None = None) -> None:
        body = df.to_html(index=False, na_rep="n/a", float_format=lambda v: f"{v:.4g}", border=0)
        self.parts.append(f"<details><summary>{html.escape(summary)}</summary>{body}</details>" if summary else body)

    def image(self, png: bytes, caption: str) -> None:
        data = base64.b64encode(png).decode("ascii")
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def video(self, mp4: bytes, caption: str) -> None:
        data = base64.b64encode(mp4).decode("ascii")
        self.parts.append(f'<figure><video controls muted loop src="data:video/mp4;base64,{data}"></video>'
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def figure(self, draw: Callable[[io.BytesIO], object], caption: str) -> None:
        buf = io.BytesIO()
        draw(buf)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def html(self) -> str:
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>\n"
                + "\n".join(self.parts) + "\n</body></html>\n")


def _versions(meta: dict | None) -> pd.DataFrame:
    rows = [("gsvc", __version__), ("python", platform.python_version()), ("platform", platform.platform())]
    for name in PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    if meta:
        rows.append(("latency model", str(meta.get("latency_model"))))
        prof = meta.get("latency_profile") or {}
        if prof:
            rows.append(("latency profile measured on", f"{prof.get('device')} ({prof.get('created')})"))
    return pd.DataFrame(rows, columns=["component", "version"])


def _split_keys(res: SweepResults, x: str, keys: list[str]) -> tuple[list[str], dict]:
    """Grid keys drawn as separate lines (``by``, codec first) and those fixed at a middle value."""
    others = sorted((k for k in keys if k != x), key=lambda k: k != "codec.name")
    by, where, lines = [], {}, 1
    for k in others:
        values = res.grid[k]
        if lines * len(values) <= _MAX_LINES:
            by.append(k)
            lines *= len(values)
        else:
            where[k] = sorted(values, key=lambda v: (isinstance(v, str), v))[len(values) // 2]
    return by, where


def _sweep_report(res: SweepResults, doc: _Doc) -> None:
    s = res.summary
    keys = [k for k in res.keys if k != "seed"]
    doc.p(f"Store {res.path}: {len(res)} of {len(res.points)} points finished; grid "
          f"{', '.join(f'{k} = {v}' for k, v in res.grid.items()) or '(none)'}; {res.seeds} seed(s) per point.")
    if res.missing:
        doc.p(f"{len(res.missing)} points have not finished; rerun the sweep to complete them.", "note")
    inert = inert_note(s, keys)
    if inert:
        doc.p(inert, "note")
    counts = res.cache_counts()
    if counts["decodes"] or counts["encodes"]:
        doc.p(f"Codec cache: {counts['decode_hits']} of {counts['decodes']} decodes and {counts['encode_hits']} of "
              f"{counts['encodes']} encodes were served from the cache (a hit is the same result by construction: "
              "its key hashes every input of the call).")
    if s.empty:
        doc.p("No point has finished yet.", "note")
        return
    timed = int(s["timing_only"].sum())
    if timed:
        doc.p(f"{'Every run is' if timed == len(s) else f'{timed} of {len(s)} runs are'} timing-only: the decoder did "
              f"not run, so no quality (PSNR, SSIM) was measured there.", "note")
    agg = aggregate(s, keys)
    doc.h(2, "Figures")
    cdf_by = "codec.name" if "codec.name" in keys else next((k for k in keys if len(res.grid[k]) <= _MAX_LINES), None)
    doc.figure(lambda f: latency_cdf(res.frames, f, by=cdf_by, title="Latency CDF, all seeds"),
               f"Capture-to-display latency of every shown frame{f', per {cdf_by}' if cdf_by else ''}.")
    for x in keys:
        if len(res.grid[x]) > 1 and all(isinstance(v, (int, float)) for v in res.grid[x]):
            by, where = _split_keys(res, x, keys)
            metrics = ("latency_ms_p95", "stall_ratio", "psnr_db_mean")
            doc.figure(lambda f, x=x, by=by, where=where: sweep_curves(agg, f, x=x, by=by, metrics=metrics,
                                                                        where=where),
                       f"{METRIC_LABELS.get(x, x)} sweep: mean over seeds with 95% Student-t confidence band.")
    quality, better = ("psnr_db_mean", True) if not s["psnr_db_mean"].isna().all() else ("stall_ratio", False)
    doc.figure(lambda f: pareto_frontier(agg, f, quality=quality, higher_is_better=better,
                                         by="codec.name" if "codec.name" in keys else None),
               "Latency-quality trade-off of every grid point (mean over seeds) and its Pareto front"
               + ("" if better else "; quality was not measured, so the freeze ratio stands in for it") + ".")
    _rd_section(doc, s, keys)
    _capacity_section(doc, res, s, keys)
    worst = s.loc[s["latency_ms_p95"].fillna(-1).idxmax()]
    point = res.run(worst["spec_hash"])
    name = ", ".join(f"{k}={worst[k]}" for k in keys) or "the base scenario"
    _run_figures(doc, point, f" at the point with the highest p95 latency ({name}, seed {worst['seed']})")
    doc.h(2, "Summary per grid point")
    doc.p("Mean ± half-width of the 95% Student-t confidence interval over seeds (n/a: not measured or one seed).")
    doc.table(ci_table(agg, keys))
    doc.table(s, summary=f"Every run ({len(s)} rows)")
    _scenario_and_versions(doc, res.definition["base"], point.meta,
                           "Base scenario; each point sets the grid keys above and its seed.")


def _capacity_section(doc: _Doc, res: SweepResults, s, keys: list[str]) -> None:
    """Satisfied users against users and the capacity table, when the sweep varies ``streams`` (or a
    group's ``streams.<group>.count``)."""
    users = next((k for k in keys if k == "streams" or k.startswith("streams.") and k.endswith(".count")), None)
    if users is None or len(res.grid[users]) < 2 or "viewer_satisfied_fraction" not in s.columns:
        return
    y = res.base.capacity.satisfied_ratio
    doc.h(2, "Capacity")
    by, where = _split_keys(res, users, keys)
    agg = aggregate(s, keys, metrics=("radio_satisfied_fraction", "viewer_satisfied_fraction"))
    doc.figure(lambda f: satisfied_users(agg, f, by=by, threshold=y, where=where, x=users),
               f"Users satisfied against users (mean over seeds, 95% band); dashed: Y = {y:.0%}. Radio: at least "
               f"{res.base.capacity.on_time_ratio:.0%} of frames within cell.pdb_ms = {res.base.cell.pdb_ms:g} ms "
               "over the air (3GPP TR 38.838); viewer: shown on time and meeting the quality floors.")
    doc.p("Capacity: the largest number of users with at least Y satisfied (every smaller number passing too); "
          "binding: what the unsatisfied users failed on first one step beyond it (radio, gpu, codec or quality).")
    doc.table(capacity(res, by=users))


#: the qualities a sweep's BD-rate tables are given for, where measured
_BD_METRICS = ("psnr_db", "ssim", "lpips", "dists")


def _rd_section(doc: _Doc, s, keys: list[str]) -> None:
    """RD curves and BD-rates when the sweep varies the codec and each codec's rate, with quality measured."""
    if "codec.name" not in keys or s["psnr_db_mean"].isna().all() or s["codec.name"].nunique() < 2:
        return
    if not (s.groupby("codec.name")["bitrate_kbps"].nunique() >= 2).all():
        return
    names = set(s["codec.name"])
    anchors = [a for a in ("h264", "lowres") if a in names] or [str(sorted(names)[0])]
    metrics = [m for m in _BD_METRICS if f"{m}_mean" in s and not s[f"{m}_mean"].isna().all()]
    try:
        deltas = {a: {m: bd_rate(s, anchor=a, metric=m, keys=keys) for m in metrics} for a in anchors}
    except ImportError as e:
        doc.p(f"BD-rate not computed: {e}", "note")
        return
    doc.figure(lambda f: rd_curves(s, f, metric="psnr_db", anchor=anchors[0], keys=keys),
               f"Rate vs PSNR per codec (mean over seeds), BD-rate against {anchors[0]} (PCHIP, JVET CTC).")
    for anchor, d in deltas.items():
        table = pd.DataFrame({"codec": list(d["psnr_db"]),
                              **{f"BD-rate {m.split('_')[0].upper()} (%)": [d[m][c] for c in d["psnr_db"]]
                                 for m in metrics}})
        why = " (the same low-res stream shown without generation: what each codec's generation saves)" \
            if anchor == "lowres" else ""
        doc.table(table, summary=f"Bjontegaard-delta rate against {anchor}{why}; negative: fewer bits for the "
                                 "same quality")


def _run_figures(doc: _Doc, run: RunResult, where: str = "") -> None:
    """The per-frame timeline and the receiver load of one run."""
    doc.figure(lambda f: frame_timeline(run.frames, f), f"Per-frame stages of the first 60 frames of stream 0{where}.")
    doc.figure(lambda f: gpu_queue_timeline(run.frames, f, gpus=run.scenario.receiver.gpus),
               f"Receiver queue length and GPU utilisation over time{where}.")


def _scenario_and_versions(doc: _Doc, scenario_json: dict, meta: dict, note: str = "") -> None:
    doc.h(2, "Scenario")
    if note:
        doc.p(note)
    doc.pre(json.dumps(scenario_json, indent=2))
    doc.h(2, "Versions")
    doc.table(_versions(meta))


def _run_report(res: RunResult, doc: _Doc) -> None:
    if res.meta.get("timing_only"):
        doc.p("Timing-only run: the decoder did not run, so no quality (PSNR, SSIM) was measured.", "note")
    doc.h(2, "Figures")
    by = "stream" if 1 < res.scenario.num_streams <= _MAX_LINES else None
    doc.figure(lambda f: latency_cdf(res.frames, f, by=by), "Capture-to-display latency of every shown frame.")
    _run_figures(doc, res)
    pics = res.pictures
    if pics is not None:
        doc.h(2, "What the viewer saw")
        if pics.strip_png:
            doc.image(pics.strip_png, "Stream 0 at its key moments (first slots, scene cuts, lowest PSNR, longest "
                                      "freeze): original | its own decode (black: not decoded by its slot) | on screen.")
        path = pics.videos.get(0)
        if path and Path(path).exists() and Path(path).stat().st_size <= _MAX_VIDEO_BYTES:
            doc.video(Path(path).read_bytes(), "Stream 0, every slot: original | decode | on screen (H.264).")
    doc.h(2, "Summary")
    shown = ("frames", "shown", "late", "lost", *KEY_METRICS)
    doc.table(pd.DataFrame([(k, res.summary[k]) for k in shown if k in res.summary], columns=["metric", "value"]))
    _scenario_and_versions(doc, res.scenario.model_dump(mode="json"), res.meta)


def render_report(source: str | Path | SweepResults | RunResult, title: str | None = None) -> str:
    """The report's HTML for a sweep store or run folder (or their loaded results)."""
    if isinstance(source, (str, Path)):
        source = SweepResults(source) if is_sweep_store(source) else load_run(source)
    name = source.base.name if isinstance(source, SweepResults) else source.scenario.name
    doc = _Doc(title or f"gsvc report: {name}")
    doc.h(1, doc.title)
    doc.p(f"Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by gsvc {__version__}.")
    (_sweep_report if isinstance(source, SweepResults) else _run_report)(source, doc)
    return doc.html()


def write_report(source: str | Path | SweepResults | RunResult, path: str | Path | None = None,
                 title: str | None = None) -> Path:
    """Write the report to ``path`` (default: ``report.html`` in the source folder) and return the path."""
    if path is None:
        if isinstance(source, RunResult):
            raise ValueError("give path= to write the report of a RunResult")
        path = Path(source.path if isinstance(source, SweepResults) else source) / "report.html"
    path = Path(path)
    text = render_report(source, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
