"""Memory against run length: peak RSS of real-decode runs of growing simulated length.

Each run is a fresh process (peak RSS is per process): one stream over an ideal link,
the procedural street scene, the shipped cpu-2core latency profile, PSNR/SSIM scored
on what was shown. Rows:

* ``h264`` at 256 px for 3, 6 and 12 simulated minutes (its decode is cheap, so long
  spans are affordable);
* ``cvsc`` (the shipped denoiser really runs) under the adaptive controller at 64 px
  for shorter spans.

Target: peak RSS of the longest span within 1.3x of the shortest, and under 2 GB at
256 px. The log itself grows (one row per frame, a few hundred bytes), nothing else
should.

    python benchmarks/bench_memory.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time


def child(codec: str, resolution: int, minutes: float) -> None:
    import gsvc
    from gsvc.scenarios import Scenario

    extra = {"control": "adaptive"} if codec != "h264" else {}
    sc = Scenario(name="mem", seed=1, video=dict(seconds=minutes * 60, fps=15, resolution=resolution),
                  codec=dict(name=codec, **extra), channel=dict(model="ideal", rate_mbps=50),
                  jitter=dict(mode="fixed", delay_ms=200), receiver=dict(latency="profile:cpu-2core"))
    t0 = time.perf_counter()
    res = gsvc.run(sc)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "frames": len(res.frames),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "psnr_db_mean": res.summary["psnr_db_mean"]}))


def measure(codec: str, resolution: int, minutes: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", codec, str(resolution), str(minutes)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short spans (smoke run)")
    ap.add_argument("--child", nargs=3, metavar=("CODEC", "PX", "MINUTES"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], int(a.child[1]), float(a.child[2]))
        return
    plans = [("h264", 256, (0.25, 0.5, 1.0) if a.quick else (3.0, 6.0, 12.0)),
             ("cvsc", 64, (0.1, 0.2) if a.quick else (0.5, 1.0, 2.0))]
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"{'codec':<8}{'px':>5}{'sim min':>9}{'frames':>8}{'wall s':>9}{'peak RSS MB':>13}{'vs shortest':>13}"
          f"{'PSNR dB':>9}")
    verdicts = []
    for codec, px, spans in plans:
        first = None
        for minutes in spans:
            m = measure(codec, px, minutes)
            first = first or m["peak_rss_mb"]
            ratio = m["peak_rss_mb"] / first
            print(f"{codec:<8}{px:>5}{minutes:>9g}{m['frames']:>8}{m['wall_s']:>9.1f}{m['peak_rss_mb']:>13.0f}"
                  f"{ratio:>12.2f}x{m['psnr_db_mean']:>9.2f}", flush=True)
        verdicts.append(f"{codec} {px} px: longest/shortest {ratio:.2f}x (target <= 1.3x: "
                        f"{'met' if ratio <= 1.3 else 'MISSED'})"
                        + (f", peak {m['peak_rss_mb']:.0f} MB (target < 2048 MB: "
                           f"{'met' if m['peak_rss_mb'] < 2048 else 'MISSED'})" if px == 256 else ""))
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
