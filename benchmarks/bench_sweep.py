"""Sweep throughput: points per minute with 1 and 2 workers, local process pool and Dask.

Each point is CPU-bound: a timing-only run of ``--streams`` streams for ``--seconds``
of video over an ideal link (pure-Python SimPy work, a few seconds each), and all
points cost the same (they differ only in seed). Wall time is that of the whole
``gsvc.sweep`` call, worker start-up included, into a fresh store. The speed-up is
2-worker over 1-worker points per minute of the same executor; the target is
>= 1.7x on a 2-core machine. The tables of the four sweeps must be identical.

The first rows ("bare processes") run the same points in 1 and 2 spawned
processes with no sweep machinery at all: the speed-up the machine itself offers
at that moment. When other work holds a core, it falls well below 2x, and the
sweep's speed-ups should be read against it ("ratio_to_machine") as well as
against the target.

    python benchmarks/bench_sweep.py [--points 12] [--streams 8] [--seconds 300] [--quick]

Other processes on the machine slow the 2-worker runs most; the load average
before and after is printed so a contended measurement can be recognised.

The codec cache row (``--part cache``) sweeps ``channel.snr_db`` 0:20:4 x
``link.bandwidth_mhz`` 5,10 x 2 seeds of the ``pedestrian-urban`` preset (cvsc at 64 px,
10 s, real decoding on the shipped model, TDL-C at 3 km/h) with 2 local workers, once with
``cache="off"`` and once with the cache into a fresh store (cold: nothing cached before),
in the same process. The channel traces of every point are drawn (and cached) before
either sweep is timed, so both read them from the trace cache. The frames tables must be
identical; the target is >= 4x less wall time with the cache. The two sweeps alternate
``--repeat-cache`` times (default 2: on, off, on, off, each into a fresh store and fresh
worker processes); every run is printed and the speed-up is the fastest off run over the
fastest on run, as ``timeit`` takes the minimum: on a shared 2-core machine a run can only
be slowed by other work, and one run of each spread by about 0.2x around 4x. Before the first
timed run an untimed one-second sweep of the same preset on the same pool warms the machine up
(Python byte-code compiled, torch, diffusers and the weights read from disk): in a fresh checkout
the first run otherwise pays for that alone (measured: 69.3 s against 55.9 s for the second cache-on
run, 3.28x against 4.19x run by run). It prints the share of
decodes (and encodes) the cache served per SNR, the bound the grid itself sets (every
distinct decode, one whose decoder state or bytes no other point shares, runs once even with
a perfect cache: points past a loss or a changed rate diverge) and the largest resident
memory of any worker process. ``--executor-cache dask`` runs the same row on a local Dask cluster of 2
workers; ``--resolution-cache 256`` at 256 px (with ``--seconds-cache`` short: on this CPU a
256 px point costs minutes), where the row's question is the memory bound (<= 2 GB per
worker: each worker's cache holds at most ``cache_memory_mb``, 512 MB by default; give
``--latency-cache profile:sd15-a100`` so that the receiver keeps up and every frame is decoded).

    python benchmarks/bench_sweep.py --part cache [--seconds-cache 10] [--executor-cache local|dask]
                                                  [--resolution-cache 64] [--repeat-cache 2]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import tempfile
import time

import pandas as pd

import gsvc
from gsvc.scenarios import Scenario

TARGET_SPEEDUP = 1.7
TARGET_CACHE_SPEEDUP = 4.0
CACHE_GRID = {"channel.snr_db": "0:20:4", "link.bandwidth_mhz": "5,10"}


def point_scenario(streams: int, seconds: float) -> Scenario:
    return Scenario(name="bench-sweep", seed=11, streams=streams,
                    video=dict(seconds=seconds, fps=15), codec=dict(name="synthetic", steps=4),
                    channel=dict(model="ideal", rate_mbps=50), link=dict(trace_s=60),
                    receiver=dict(gpus=2, policy="edf", latency="profile:cpu-2core", decode="timing-only"))


def timed_sweep(base: Scenario, points: int, executor: str, workers: int) -> tuple[float, pd.DataFrame]:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        t0 = time.perf_counter()
        res = gsvc.sweep(base, seeds=points, executor=executor, workers=workers, out=out, progress=False)
        wall_s = time.perf_counter() - t0
        return wall_s, res.summary


def _run_share(base: Scenario, seeds: list[int]) -> None:
    for seed in seeds:
        gsvc.run(base.model_copy(update={"seed": seed}))


def timed_bare(base: Scenario, points: int, procs: int) -> float:
    """Wall time of the same points split over ``procs`` spawned processes with no store, queue or
    results: what the machine itself gives right now (the reference for the sweep's overhead)."""
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    workers = [ctx.Process(target=_run_share, args=(base, list(range(i, points, procs)))) for i in range(procs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - t0


def cache_scenario(seconds: float, resolution: int = 64, latency: str | None = None) -> Scenario:
    from gsvc.scenarios.presets import get_preset
    changes = {"video.seconds": seconds, "link.trace_s": seconds, "video.resolution": resolution}
    return get_preset("pedestrian-urban").updated({**changes, **({"receiver.latency": latency} if latency else {})})


def draw_all_traces(base: Scenario, grid: dict, seeds: int) -> None:
    """Draw (into the trace cache) the channel of every point, as ``gsvc.run`` would."""
    from gsvc.netsim.channel import draw_traces
    from gsvc.scenarios.grid import expand
    from gsvc.scenarios.run import derive_seed
    for p in expand(base, grid, seeds):
        sc = p.scenario
        draw_traces(sc.channel, sc.link, sc.cell, [derive_seed(sc.seed, "trace", s) for s in range(sc.num_streams)],
                    derive_seed(sc.seed, "cell"))


def _worker_rss_mb() -> float:
    """Largest resident memory of any finished worker process of this process's sweeps, MB (Linux
    ``ru_maxrss`` of the children, which covers a Dask nanny's worker once both have exited)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cache_row(seconds: float, workers: int, executor: str = "local", resolution: int = 64,
              latency: str | None = None, repeat: int = 2) -> None:
    """Codec cache on vs off on an SNR x bandwidth x seeds sweep with real decoding (see the module docstring)."""
    base = cache_scenario(seconds, resolution, latency)
    t0 = time.perf_counter()
    draw_all_traces(base, CACHE_GRID, 2)
    print(f"\ncodec cache: {base.name} (cvsc {base.video.resolution} px, {seconds:g} s, real decoding), grid "
          f"{CACHE_GRID} x 2 seeds, {workers} {executor} workers; traces drawn beforehand in "
          f"{time.perf_counter() - t0:.1f} s")
    load_before = os.getloadavg()[0]
    walls: dict[str, list[float]] = {"on": [], "off": []}
    results, rows = {}, []
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        t0 = time.perf_counter()
        warm = base.updated({"video.seconds": 1.0, "link.trace_s": 1.0})
        gsvc.sweep(warm, seeds=workers, executor=executor, workers=workers, out=os.path.join(tmp, "warm-up"),
                   progress=False, cache="off")
        print(f"warm-up (untimed): a 1 s sweep of {workers} points on the same pool, {time.perf_counter() - t0:.1f} s")
        for run_no in range(repeat):
            for mode in ("on", "off"):
                t0 = time.perf_counter()
                res = gsvc.sweep(base, CACHE_GRID, seeds=2, executor=executor, workers=workers,
                                 out=os.path.join(tmp, f"{mode}{run_no}"), progress=False,
                                 cache="disk" if mode == "on" else "off")
                wall_s = time.perf_counter() - t0
                walls[mode].append(wall_s)
                rows.append({"run": run_no + 1, "cache": mode, "points": len(res.summary), "wall_s": round(wall_s, 1),
                             "points_per_min": round(len(res.summary) / wall_s * 60, 1)})
                if mode == "on":
                    rss_mb = _worker_rss_mb()
                    disk_mb = sum(f.stat().st_size for f in res.path.joinpath("cache").rglob("*.entry")) / 2**20
                res.frames  # read before the folder goes
                res.summary
                results.setdefault(mode, []).append(res)
    on, off = results["on"][0], results["off"][0]
    same_frames = all(r.frames.drop(columns="spec_hash").equals(off.frames.drop(columns="spec_hash"))
                      for r in results["on"] + results["off"])
    same_summary = all(r.summary.drop(columns="spec_hash").equals(off.summary.drop(columns="spec_hash"))
                       for r in results["on"] + results["off"])
    speedup = min(walls["off"]) / min(walls["on"])
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"speed-up with the cache (fastest off / fastest on of {repeat} runs each): {speedup:.2f}x (target >= "
          f"{TARGET_CACHE_SPEEDUP:g}x: {'met' if speedup >= TARGET_CACHE_SPEEDUP else 'NOT met'}); run by run "
          f"{', '.join(f'{f / n:.2f}x' for f, n in zip(walls['off'], walls['on']))}; identical frames tables "
          f"(every run): {'yes' if same_frames else 'NO'}; identical summaries: {'yes' if same_summary else 'NO'}")
    t = on.cache
    per = t.groupby("channel.snr_db")[["decodes", "decode_hits", "encodes", "encode_hits"]].sum()
    per["decode_hit_rate"] = (per["decode_hits"] / per["decodes"]).round(3)
    per["encode_hit_rate"] = (per["encode_hits"] / per["encodes"]).round(3)
    lost = off.frames.groupby("channel.snr_db")["packets_lost"].apply(lambda x: round(float((x > 0).mean()), 3))
    per["frames_with_loss"] = lost
    print(per.reset_index().to_string(index=False))
    c = on.cache_counts()
    print(f"all points: {c['decode_hits']} of {c['decodes']} decodes ({c['decode_hits'] / c['decodes']:.1%}) and "
          f"{c['encode_hits']} of {c['encodes']} encodes served from the cache; cache on disk {disk_mb:.1f} MB; "
          f"largest worker resident memory {rss_mb:.0f} MB")
    misses = c["decodes"] - c["decode_hits"]
    print(f"bound: {misses} distinct decodes must run even with a perfect cache, so on decoding alone no cache "
          f"can make this grid more than {c['decodes'] / max(misses, 1):.2f}x faster (the encodes, scoring and "
          f"simulation of every point lower that further)")
    print(f"load average before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=12)
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=300.0, help="video seconds per point")
    ap.add_argument("--quick", action="store_true", help="4 points of a quarter the size")
    ap.add_argument("--part", choices=["all", "throughput", "cache"], default="all",
                    help="the throughput rows, the codec cache row, or both")
    ap.add_argument("--seconds-cache", type=float, default=10.0, help="video seconds per point of the cache row")
    ap.add_argument("--executor-cache", choices=["local", "dask"], default="local", help="executor of the cache row")
    ap.add_argument("--resolution-cache", type=int, default=64, help="video side of the cache row, px")
    ap.add_argument("--latency-cache", default=None,
                    help="receiver.latency of the cache row (default: the preset's cpu-2core, which sheds most "
                         "256 px frames; profile:sd15-a100 keeps up, so every frame is decoded)")
    ap.add_argument("--repeat-cache", type=int, default=2,
                    help="runs of each cache mode (alternating; the speed-up is fastest over fastest)")
    args = ap.parse_args()
    if args.repeat_cache < 1:
        ap.error(f"--repeat-cache={args.repeat_cache} must be >= 1")
    if args.part == "cache":
        cache_row(args.seconds_cache, 2, args.executor_cache, args.resolution_cache, args.latency_cache,
                  args.repeat_cache)
        return
    points, seconds = (4, args.seconds / 4) if args.quick else (args.points, args.seconds)
    base = point_scenario(args.streams, seconds)

    t0 = time.perf_counter()
    gsvc.run(base)
    point_s = time.perf_counter() - t0
    load_before = os.getloadavg()
    print(f"gsvc {gsvc.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}")
    print(f"{points} points, each {args.streams} streams x {seconds:g} s timing-only "
          f"({point_s:.2f} s in this process); load average before: {load_before[0]:.2f}")

    rows, tables, machine = [], [], None
    for executor in ("bare processes", "local", "dask"):
        ppm = {}
        for workers in (1, 2):
            if executor == "bare processes":
                wall_s = timed_bare(base, points, workers)
            else:
                wall_s, summary = timed_sweep(base, points, executor, workers)
                tables.append(summary)
            ppm[workers] = points / wall_s * 60
            speedup = ppm[workers] / ppm[1]
            machine = speedup if executor == "bare processes" and workers == 2 else machine
            two = workers == 2
            rows.append({"executor": executor, "workers": workers, "wall_s": round(wall_s, 1),
                         "points_per_min": round(ppm[workers], 1), "speed_up": round(speedup, 2),
                         "ratio_to_1.7x_target": round(speedup / TARGET_SPEEDUP, 2) if two else None,
                         "ratio_to_machine": round(speedup / machine, 2) if two and machine else None})
    load_after = os.getloadavg()
    print(pd.DataFrame(rows).to_string(index=False))
    same = all(t.equals(tables[0]) for t in tables[1:])
    print(f"identical summaries from all four sweeps: {'yes' if same else 'NO'}")
    print(f"load average after: {load_after[0]:.2f} (above ~{os.cpu_count()} means other work shared the CPUs)")
    if args.part == "all":
        cache_row(args.seconds_cache / (4 if args.quick else 1), 2)


if __name__ == "__main__":
    main()
