"""How many users can one UMi cell and an edge server serve in real time?

    python examples/cell_users.py                        # 1..10 users x pf/round-robin, 10 s, 3 seeds
    python examples/cell_users.py --users 1,4 --seconds 1 --seeds 1   # a quick look

Every user is a camera of the ``edge-server-multiuser`` preset sending 10 fps video uplink at a
fixed bitrate; all share one 20 MHz UMi carrier (Sionna TR 38.901 system-level channel, one-ring
hexagonal layout, interference from the other 20 sectors) scheduled in the run, among the UEs
with data, by the chosen scheduler, and one edge server decodes every stream. Decoding is timing-only (the calibrated CPU profile), so the answer
is about delay, not pixels. Writes the sweep store, a latency-against-users plot and, for the
largest cell, each user's throughput against its distance to the site.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import gsvc
from gsvc.analysis import aggregate, cell_throughput, ci_table, users_sweep
from gsvc.scenarios.presets import get_preset


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gsvc-out/cell-users", help="result store and figure folder")
    ap.add_argument("--users", default="1,2,4,6,8,10", help="streams values (one UE each)")
    ap.add_argument("--schedulers", default="pf,round-robin", help="cell.scheduler values")
    ap.add_argument("--kbps", type=float, default=1500.0, help="per-user bitrate (kbit/s)")
    ap.add_argument("--seconds", type=float, default=10.0, help="video length (s)")
    ap.add_argument("--seeds", type=int, default=3, help="replications (drops) per grid point")
    ap.add_argument("--executor", choices=["local", "dask", "serial"], default="local")
    args = ap.parse_args(argv)

    base = get_preset("edge-server-multiuser").updated({
        "video.seconds": args.seconds, "link.trace_s": max(args.seconds, 0.1), "codec.bitrate_kbps": args.kbps})
    grid = {"streams": args.users, "cell.scheduler": args.schedulers}
    res = gsvc.sweep(base, grid, seeds=args.seeds, executor=args.executor, out=args.out)
    metrics = ["latency_ms_p95", "deadline_miss_rate", "air_delay_ms_p99", "prb_utilization", "throughput_mbps",
               "sinr_db_mean"]
    agg = aggregate(res.summary, res.keys, metrics)
    print(ci_table(agg, res.keys).to_string(index=False))
    out = Path(args.out)
    print(f"latency vs users: {users_sweep(agg, out / 'users.png', by=['cell.scheduler'])}")
    largest = base.updated({"streams": max(int(u) for u in args.users.split(","))})
    run = gsvc.run(largest)
    print(f"per-UE throughput: {cell_throughput(run.meta['streams'], out / 'throughput_vs_distance.png')}")


if __name__ == "__main__":
    main()
