"""Channel-trace generation speed: slots per second of a TDL-C trace at 10 MHz / 30 kHz.

Target: a 10-minute trace (1.2 M slots of 0.5 ms) in at most 20 s, i.e. 60 000
slots/s. The one-off costs (importing Sionna, building the PHY-abstraction tables)
are timed apart from the trace itself. Rows after the first show how the cost
moves with bandwidth, receive antennas and model.

Multi-user rows: a shared cell of 10 UEs for 10 s at 30 kHz SCS (20 000 slots each), 20 MHz,
drawn together (Sionna drop and system-level channel of 21 sectors, per-UE per-PRB-group SINR
with full-buffer interference, PF scheduling, per-UE EESM/OLLA/HARQ); target at most 20 s for
all ten traces, drop included.

    python benchmarks/bench_channel.py [--minutes 10] [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

TARGET_SLOTS_PER_S = 1_200_000 / 20.0
#: 10 UEs x 20 000 slots of a shared cell with interference (issue target)
TARGET_CELL_S = 20.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="trace length of the main row")
    ap.add_argument("--quick", action="store_true", help="main row only")
    args = ap.parse_args()
    os.environ["GSVC_CACHE_DIR"] = "off"

    t0 = time.perf_counter()
    import torch
    import sionna.phy  # noqa: F401  (timed: the import alone takes seconds)
    import_s = time.perf_counter() - t0

    from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace
    from gsvc.netsim.channel.phy import phy_tables

    link = LinkSpec(bandwidth_mhz=10, scs_khz=30, trace_s=args.minutes * 60)
    t0 = time.perf_counter()
    phy_tables(24, link.pdsch_symbols, link.dmrs_re_per_prb, link.mcs_table, link.bler_target)
    tables_s = time.perf_counter() - t0

    rows = [("tdl-c", dict(model="tdl-c", snr_db=15, speed_kmh=3), link)]
    if not args.quick:
        minute = LinkSpec(bandwidth_mhz=10, scs_khz=30, trace_s=60.0)
        rows += [
            ("tdl-c 2 rx ant", dict(model="tdl-c", snr_db=15, speed_kmh=3, num_rx_ant=2), minute),
            ("tdl-c 100 MHz", dict(model="tdl-c", snr_db=15, speed_kmh=3),
             LinkSpec(bandwidth_mhz=100, scs_khz=30, trace_s=60.0)),
            ("cdl-c", dict(model="cdl-c", snr_db=15, speed_kmh=3), minute),
            ("uma", dict(model="uma", distance_m=300, speed_kmh=30), minute),
            ("awgn", dict(model="awgn", snr_db=15), minute),
        ]
    print(f"# bench_channel: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"# one-off: import sionna {import_s:.2f} s, PHY tables (10 MHz) {tables_s:.2f} s")
    print(f"{'case':<16} {'slots':>10} {'seconds':>8} {'slots/s':>10} {'target':>8} {'ratio':>6} {'goodput':>8}")
    for name, ch, ln in rows:
        channel = ChannelSpec(**ch)
        draw_trace(channel, ln.model_copy(update={"trace_s": 0.5}), 0, cache=False)   # tables for this setup
        t0 = time.perf_counter()
        tr = draw_trace(channel, ln, 1, cache=False)
        sec = time.perf_counter() - t0
        rate = tr.num_slots / sec
        print(f"{name:<16} {tr.num_slots:>10d} {sec:>8.2f} {rate:>10.0f} {TARGET_SLOTS_PER_S:>8.0f} "
              f"{rate / TARGET_SLOTS_PER_S:>6.2f} {tr.goodput_mbps:>7.1f}M")
    if not args.quick:
        _cell_rows()


def _cell_rows() -> None:
    from gsvc.netsim.channel import CellSpec, ChannelSpec, LinkSpec, draw_traces
    from gsvc.netsim.channel.cell import cell_stats

    link = LinkSpec(bandwidth_mhz=20, scs_khz=30, trace_s=10.0)
    rows = [("umi pf interf", dict(model="umi", speed_kmh=3), dict(scheduler="pf", interference="full-buffer")),
            ("uma pf interf", dict(model="uma", speed_kmh=3), dict(scheduler="pf", interference="full-buffer")),
            ("tdl-c rr", dict(model="tdl-c", snr_db=15, speed_kmh=3), dict(scheduler="round-robin"))]
    print(f"\n{'cell (20 MHz)':<16} {'UEs':>4} {'slots/UE':>9} {'seconds':>8} {'target s':>9} {'ratio':>6} "
          f"{'cell Mbit/s':>11} {'Jain':>5} {'SINR dB':>8}")
    for name, ch, cell in rows:
        seeds = list(range(10))
        t0 = time.perf_counter()
        traces = draw_traces(ChannelSpec(**ch), link, CellSpec(**cell), seeds, 7, cache=False)
        sec = time.perf_counter() - t0
        stats, _ = cell_stats(traces)
        print(f"{name:<16} {len(traces):>4d} {traces[0].num_slots:>9d} {sec:>8.2f} {TARGET_CELL_S:>9.0f} "
              f"{sec / TARGET_CELL_S:>6.2f} {stats['throughput_mbps']:>11.1f} {stats['jain_index']:>5.2f} "
              f"{stats['sinr_db_mean']:>8.1f}")


if __name__ == "__main__":
    main()
