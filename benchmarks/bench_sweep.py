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
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import tempfile
import time

import pandas as pd

import gsvc
from gsvc.scenarios import Scenario

TARGET_SPEEDUP = 1.7


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=12)
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=300.0, help="video seconds per point")
    ap.add_argument("--quick", action="store_true", help="4 points of a quarter the size")
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
