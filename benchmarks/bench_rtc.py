"""Real-time behaviour under congestion, loss and overload: rate control, NACK, load shedding.

Tables:

1. **Capacity drop.** H.264 (128 px, 30 fps, ceiling 1.5 Mbit/s, fixed 150 ms playout delay)
   over the bundled throughput trace ``capacity-drop`` (2 Mbit/s, 0.3 Mbit/s from 10 s to
   15 s, 2 Mbit/s again) and over a steady 2 Mbit/s link, with ``link.rate_control`` off,
   ``gcc`` and ``throughput``. Targets: with gcc, p95 latency within 2x of the steady link
   and the sending rate back to 80 % of its pre-drop rate within 3 s after the drop; off
   builds a queue of seconds.
2. **Bursty loss.** H.264 (32 px, 15 fps) over 1 Mbit/s with Gilbert-Elliott loss (5 % mean,
   bursts of 3 slots), NACK off/on, with an uplink delay whose round trip fits the 150 ms
   playout delay (10 ms) and one whose does not (200 ms). Target: NACK halves the lost-frame
   ratio when the RTT fits, changes nothing when it does not.
3. **Overload.** The receiver overloads of the issue: 10 streams of a 100-step codec
   (``full``, 0.5 ms per evaluation) and 200 streams of a 4-step codec (``synthetic``, 2 ms
   per evaluation) on one GPU for 4 s, 150 ms playout delay, ``receiver.shed`` off/on.
   Target: with shedding, p95 latency at most the playout delay plus one decode.

    python benchmarks/bench_rtc.py [--quick]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import gsvc
from gsvc.timing import LatencyProfile
from gsvc.scenarios import Scenario

DROP_START_S, DROP_END_S = 10, 15


def _per_second_kbps(f) -> np.ndarray:
    sec = (f["capture_ms"] // 1000).astype(int)
    return (f.groupby(sec)["bytes"].sum() * 8 / 1e3).to_numpy()


def capacity_drop(seconds: float) -> None:
    print(f"\n1. Capacity drop: h264 128 px, 30 fps, ceiling 1500 kbit/s, fixed 150 ms playout, {seconds:g} s")
    print(f"{'rate_control':<13}{'link':<10}{'p95 ms':>8}{'vs steady':>10}{'late %':>8}{'kbps pre':>9}"
          f"{'kbps drop':>10}{'kbps post':>10}{'max net ms':>11}{'recover s':>10}{'wall s':>7}")
    verdicts = []
    for rc in ("off", "gcc", "throughput"):
        p95 = {}
        for link in ("steady", "drop"):
            channel = (dict(model="mahimahi", trace_file="bundled:capacity-drop") if link == "drop"
                       else dict(model="constant", rate_mbps=2.0))
            sc = Scenario(name="drop", seed=1, video=dict(seconds=seconds, fps=30, resolution=128),
                          codec=dict(name="h264", bitrate_kbps=1500), channel=channel, link=dict(rate_control=rc),
                          jitter=dict(mode="fixed", delay_ms=150), receiver=dict(latency="profile:cpu-2core"))
            t0 = time.perf_counter()
            res = gsvc.run(sc)
            wall = time.perf_counter() - t0
            f, s = res.frames, res.summary
            p95[link] = s["latency_ms_p95"]
            rate = _per_second_kbps(f)
            pre = rate[5:DROP_START_S].mean()
            after = rate[DROP_END_S:]
            ok = np.flatnonzero(after >= 0.8 * pre)
            recover = f"{ok[0] + 1:d}" if len(ok) else "never"
            net = (f["arrive_ms"] - f["capture_ms"]).max()
            print(f"{rc:<13}{link:<10}{p95[link]:>8.1f}{p95[link] / p95['steady']:>9.2f}x"
                  f"{100 * s['late'] / s['frames']:>8.1f}{pre:>9.0f}{rate[DROP_START_S:DROP_END_S].mean():>10.0f}"
                  f"{after[:5].mean():>10.0f}{net:>11.0f}{recover if link == 'drop' else '-':>10}{wall:>7.1f}")
            if rc == "gcc" and link == "drop":
                ratio = p95["drop"] / p95["steady"]
                verdicts.append(f"gcc: p95 {ratio:.2f}x the steady link (target <= 2x: {'met' if ratio <= 2 else 'MISSED'}), "
                                f"rate back to 80 % in {recover} s (target <= 3 s: "
                                f"{'met' if len(ok) and ok[0] + 1 <= 3 else 'MISSED'})")
            if rc == "off" and link == "drop":
                verdicts.append(f"off: p95 {p95['drop']:.0f} ms, largest network delay {net:.0f} ms")
    print("  " + "\n  ".join(verdicts))


def bursty_loss(seconds: float) -> None:
    print(f"\n2. Bursty loss: h264 32 px, 15 fps, 1 Mbit/s, Gilbert-Elliott 5 % mean, bursts of 3 slots, {seconds:g} s")
    print(f"{'uplink ms':>10}{'nack':>6}{'lost frames %':>15}{'packets lost':>14}{'retx':>6}{'p95 ms':>8}{'PSNR dB':>9}")
    verdicts = []
    for uplink in (10.0, 200.0):
        lost = {}
        for nack in ("off", "on"):
            sc = Scenario(name="ge", seed=1, video=dict(seconds=seconds, fps=15, resolution=32), codec=dict(name="h264"),
                          channel=dict(model="constant", rate_mbps=1.0, loss_rate=0.05, loss_model="gilbert-elliott",
                                       loss_burst_slots=3),
                          link=dict(nack=nack, feedback_delay_ms=uplink), jitter=dict(mode="fixed", delay_ms=150),
                          receiver=dict(latency="profile:cpu-2core"))
            res = gsvc.run(sc)
            f, s = res.frames, res.summary
            lost[nack] = (f["status"] == "lost").mean()
            print(f"{uplink:>10.0f}{nack:>6}{100 * lost[nack]:>15.1f}{int(f['packets_lost'].sum()):>14}"
                  f"{int(f['packets_retx'].sum()):>6}{s['latency_ms_p95']:>8.1f}{s['psnr_db_mean']:>9.2f}")
        ratio = lost["on"] / lost["off"] if lost["off"] else float("nan")
        want = "<= 0.5" if uplink == 10.0 else "== 1"
        met = ratio <= 0.5 if uplink == 10.0 else ratio == 1.0
        verdicts.append(f"uplink {uplink:.0f} ms: lost frames with NACK / without = {ratio:.2f} "
                        f"(target {want}: {'met' if met else 'MISSED'})")
    print("  " + "\n  ".join(verdicts))


def overload() -> None:
    print("\n3. Overload: one GPU, 4 s at 15 fps, fixed 150 ms playout delay")
    print(f"{'case':<28}{'shed':>5}{'shown':>7}{'late':>7}{'skipped':>9}{'p95 ms':>10}{'bound ms':>10}{'wall s':>8}")
    verdicts = []
    for name, streams, steps, eval_ms in (("full", 10, 100, 0.5), ("synthetic", 200, 4, 2.0)):
        bound = 150.0 + steps * eval_ms
        for shed in ("off", "on"):
            sc = Scenario(name="ov", seed=1, streams=streams, video=dict(seconds=4, fps=15),
                          codec=dict(name=name, steps=steps), channel=dict(model="ideal"),
                          jitter=dict(mode="fixed", delay_ms=150),
                          receiver=dict(latency=LatencyProfile(name="ov", eval_ms={"64": {"1": eval_ms}}),
                                        decode="timing-only", shed=shed))
            t0 = time.perf_counter()
            s = gsvc.run(sc).summary
            wall = time.perf_counter() - t0
            case = f"{streams} x {name} ({steps} steps)"
            print(f"{case:<28}{shed:>5}{s['shown']:>7}{s['late']:>7}{s['skipped']:>9}{s['latency_ms_p95']:>10.1f}"
                  f"{bound:>10.1f}{wall:>8.1f}")
            if shed == "on":
                verdicts.append(f"{case}: p95 {s['latency_ms_p95']:.1f} ms with shedding "
                                f"(target <= {bound:.0f} ms: {'met' if s['latency_ms_p95'] <= bound + 1e-6 else 'MISSED'})")
    print("  " + "\n  ".join(verdicts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs (smoke)")
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    capacity_drop(20.0 if a.quick else 30.0)
    bursty_loss(4.0 if a.quick else 20.0)
    overload()


if __name__ == "__main__":
    main()
