"""A traffic-aware cell end to end: 20 UEs x 10 s through ``gsvc.run``, scheduled in the loop.

One UMi cell at 3.5 GHz, 20 MHz / 30 kHz (20 000 slots of 0.5 ms), PF, full-buffer interference
from the 20 other sectors of a 1-ring layout, mixed traffic (5 H.264-rate streams of 1.2 Mbit/s
and 15 semantic-rate streams of 60 kbit/s, the synthetic codec's sizes), timing-only decode.
Target: at most 15 s end to end (Sionna drop, SINR, scheduling in the loop, receiver), printed
beside the same scenario with ``cell.traffic="full-buffer"`` (the pre-drawn shares) and the
ratio. Imports are timed apart (Sionna alone takes seconds to import). Memory: peak RSS after
each row.

``--mu`` adds the queue cell with an 8-element sector beamforming one layer to each UE, and with up
to 4 UEs per PRB group (``cell.mu_mimo_ues``, zero-forcing MU-MIMO paired slot by slot): the cost of
pairing is the ratio of the last row's wall time to the one before (target: at most 2), its gain the
change in delay and utilisation.

    python benchmarks/bench_cell.py [--seconds 10] [--ues 20] [--mu]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time

TARGET_S = 15.0
#: MU-MIMO pairing's wall time over the same 8-element cell's without it
MU_TARGET_RATIO = 2.0


def scenario(seconds: float, ues: int, traffic: str, direction: str = "downlink", bs_tx_antennas: int = 1,
             mu_mimo_ues: int = 1):
    from gsvc import Scenario
    heavy = max(1, ues // 4)
    return Scenario(
        name=f"cell-{traffic}", seed=4, video=dict(seconds=seconds, fps=15, resolution=64),
        streams=[{"count": heavy, "name": "h264-rate", "codec": {"name": "synthetic", "bitrate_kbps": 1200}},
                 {"count": ues - heavy, "name": "semantic-rate", "codec": {"name": "synthetic", "bitrate_kbps": 60}}],
        channel=dict(model="umi", speed_kmh=3), link=dict(bandwidth_mhz=20, scs_khz=30, trace_s=seconds,
                                                          direction=direction),
        cell=dict(scheduler="pf", interference="full-buffer", traffic=traffic, bs_tx_antennas=bs_tx_antennas,
                  mu_mimo_ues=mu_mimo_ues),
        receiver=dict(latency="profile:cpu-2core", decode="timing-only", gpus=8))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--ues", type=int, default=20)
    ap.add_argument("--mu", action="store_true", help="add the 8-element sector without and with MU-MIMO")
    args = ap.parse_args()
    os.environ["GSVC_CACHE_DIR"] = "off"
    t0 = time.perf_counter()
    import sionna.phy  # noqa: F401
    import gsvc
    import_s = time.perf_counter() - t0
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}; "
          f"imports {import_s:.1f} s (not counted)")
    print(f"{args.ues} UEs x {args.seconds:g} s, UMi 20 MHz / 30 kHz, PF, full-buffer interference, mixed traffic")
    print("| traffic | seconds | target | ratio to target | p95 latency ms | air delay p99 ms | PRB utilization "
          "| UEs per PRB | cell Mbit/s | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    walls = {}
    rows = [("queue", 1, 1), ("full-buffer", 1, 1)] + ([("queue", 8, 1), ("queue", 8, 4)] if args.mu else [])
    for traffic, elements, mu in rows:
        label = traffic if elements == 1 else f"{traffic}, {elements} elements" + (f", MU {mu}" if mu > 1 else "")
        t = time.perf_counter()
        res = gsvc.run(scenario(args.seconds, args.ues, traffic, bs_tx_antennas=elements, mu_mimo_ues=mu))
        walls[label] = wall = time.perf_counter() - t
        s = res.summary
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        target = f"{TARGET_S:g} | {wall / TARGET_S:.2f}" if elements == 1 else "- | -"   # the one-element cell's
        print(f"| {label} | {wall:.1f} | {target} | {s['latency_ms_p95']:.0f} | "
              f"{s['air_delay_ms_p99'] or float('nan'):.1f} | {s['prb_utilization']:.3f} | "
              f"{s.get('ues_per_prb_mean', float('nan')):.2f} | {s['throughput_mbps']:.1f} | {rss:.0f} |")
    print(f"queue / full-buffer wall time: {walls['queue'] / walls['full-buffer']:.2f}")
    if args.mu:
        ratio = walls["queue, 8 elements, MU 4"] / walls["queue, 8 elements"]
        print(f"MU-MIMO pairing / the same 8-element cell without it, wall time: {ratio:.2f} "
              f"(target <= {MU_TARGET_RATIO:g}: {ratio / MU_TARGET_RATIO:.2f} of it)")


if __name__ == "__main__":
    main()
