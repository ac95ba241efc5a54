"""Through a capacity drop: H.264 with and without rate control, and what the viewer saw.

The link follows the bundled throughput trace ``capacity-drop`` (2 Mbit/s, 0.3 Mbit/s from
10 s to 15 s, then 2 Mbit/s again). The same H.264 stream runs with ``link.rate_control``
off and with ``"gcc"``; the script prints the p95 latency, the late frames and the sending
rate per second of each, and saves both runs with their side-by-side video and key-moment
strip (``video.mp4``, ``strip.png``) and an HTML report.

    python examples/congestion.py [--out gsvc-out/congestion] [--seconds 30] [--resolution 128]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import gsvc
from gsvc.analysis import write_report
from gsvc.scenarios import Scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("gsvc-out/congestion"))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--kbps", type=float, default=1500.0, help="codec.bitrate_kbps: the start and the ceiling")
    a = ap.parse_args()
    base = Scenario(name="congestion", seed=1, video=dict(seconds=a.seconds, fps=30, resolution=a.resolution),
                    codec=dict(name="h264", bitrate_kbps=a.kbps),
                    channel=dict(model="mahimahi", trace_file="bundled:capacity-drop"),
                    jitter=dict(mode="fixed", delay_ms=150), receiver=dict(latency="profile:cpu-2core"))
    print(f"{'rate_control':<13}{'p95 ms':>9}{'late':>6}  kbit/s sent per second")
    for rc in ("off", "gcc"):
        res = gsvc.run(base.updated({"link.rate_control": rc, "name": f"congestion-{rc}"}), pictures=True)
        f, s = res.frames, res.summary
        per_s = f.groupby((f["capture_ms"] // 1000).astype(int))["bytes"].sum() * 8 / 1e3
        print(f"{rc:<13}{s['latency_ms_p95']:>9.1f}{s['late']:>6}  " + " ".join(f"{v:.0f}" for v in per_s))
        d = res.save(a.out / rc)
        print(f"{'':<13}report: {write_report(d)}")


if __name__ == "__main__":
    main()
