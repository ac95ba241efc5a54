"""H.264 and semantic (cvsc) users sharing one cell: who pays for whose bits?

    python examples/cell_mixed.py                     # 4 + 4 users, 20 MHz UMi downlink, 4 s
    python examples/cell_mixed.py --users 2 --seconds 1 --bandwidth 5   # a quick look

Half the streams are H.264 at a fixed bitrate, half are cvsc under the adaptive controller (the
shipped denoiser really runs and its frames are scored); every UE is dropped in one UMi sector
(Sionna TR 38.901 system-level channel, interference from the other 20 sectors) and the carrier
is scheduled in the run by queue-aware PF (``cell.traffic="queue"``), so a semantic stream's few
bits leave room for its neighbours. One edge server (cpu-2core profile, 2 GPUs) decodes all.
Prints, per group, the rate, the radio's share, the air delay and what the viewer got, and the
same cell with ``cell.traffic="full-buffer"`` (each UE held to its share of a saturated carrier).
"""
from __future__ import annotations

import argparse

import gsvc


def scenario(users: int, seconds: float, bandwidth_mhz: float, traffic: str) -> gsvc.Scenario:
    return gsvc.Scenario(
        name=f"cell-mixed-{traffic}", seed=11, video=dict(seconds=seconds, fps=10, resolution=64, motion_px=2),
        streams=[{"count": users, "name": "h264", "codec": {"name": "h264", "bitrate_kbps": 1500}},
                 {"count": users, "name": "cvsc", "codec": {"name": "cvsc", "steps": 4, "control": "adaptive"}}],
        channel=dict(model="umi", speed_kmh=3), link=dict(bandwidth_mhz=bandwidth_mhz, trace_s=seconds),
        cell=dict(scheduler="pf", interference="full-buffer", traffic=traffic),
        jitter=dict(mode="fixed", delay_ms=200),
        receiver=dict(latency="profile:cpu-2core", gpus=2))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=4, help="users per group")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--bandwidth", type=float, default=20.0, help="carrier bandwidth, MHz")
    args = ap.parse_args(argv)
    keys = ("streams", "bitrate_kbps", "throughput_mbps", "air_delay_ms_mean", "air_delay_ms_p99",
            "latency_ms_p95", "deadline_miss_rate", "psnr_db_mean")
    print("| traffic | group | " + " | ".join(keys) + " | cell PRB utilization |")
    print("|" + " --- |" * (len(keys) + 3))
    for traffic in ("queue", "full-buffer"):
        res = gsvc.run(scenario(args.users, args.seconds, args.bandwidth, traffic))
        s = res.summary
        for group in ("h264", "cvsc"):
            cells = [f"{s[f'{group}/{k}']:.3g}" if s[f"{group}/{k}"] is not None else "-" for k in keys]
            print(f"| {traffic} | {group} | " + " | ".join(cells) + f" | {s['prb_utilization']:.2f} |")


if __name__ == "__main__":
    main()
