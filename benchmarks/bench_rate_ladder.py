"""How closely a diffusion codec follows a rate-control target: the rate ladder's rungs.

A semantic codec has no rate controller of its own; under ``link.rate_control`` its encoder follows
a ladder of settings (:mod:`gsvc.codecs.ratelevels`): the low-res quantiser coarsened a quarter of
an octave a rung (x 2^(1/4), about 13 % fewer bits each), then structural rungs. Its peer, measured
in the same run, is the same ladder with a rung per octave (steps x2, x4, x8; gsvc's ladder had the
first two), which leaves much of a target unused: a stream just over a target falls to about 57 %
of it (2^-0.8).

Each row: a dev-set clip (:mod:`gsvc.video.devset`) through ``gsvc.run`` with GCC rate control
(``link.rate_control="gcc"``) on an ideal 20 Mbit/s link, so the target is the cap
``codec.bitrate_kbps``; the codec at its defaults (cvsc: 24 kbit/s over the dev set without rate
control); real decoding, every frame on time (fixed 1 s playout). Printed per target: the rate sent
(after the first second) and its share of the target, the share of one-second windows more than 10 %
over the target, PSNR / SSIM / LPIPS of the frames shown, each ladder's, and the fine ladder's PSNR
gain over the coarse one.

    python benchmarks/bench_rate_ladder.py [--codec cvsc] [--targets 8,12,16,20] [--clips grace_hopper,minduka]
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pandas as pd

import gsvc
from gsvc.codecs import ratelevels

from bench_devset import machine, scenario  # noqa: E402  (run from benchmarks/)

FPS = 15


def run(clip: str, codec: str, target_kbps: float | None, seconds: float) -> pd.DataFrame:
    """The frames of one run (``target_kbps`` None: no rate control, the codec's own rate): bench_devset's
    scenario of the clip with GCC, a 1 s playout delay and LPIPS alone."""
    a = SimpleNamespace(seconds=seconds, side=64, delay_ms=1000.0, weights=None)
    sc = scenario(clip, dict(name=codec, **({} if target_kbps is None else {"bitrate_kbps": target_kbps})), a)
    return gsvc.run(sc.updated({"link.rate_control": "off" if target_kbps is None else "gcc",
                                "metrics": ["lpips"]})).frames


def summary(frames: pd.DataFrame, target_kbps: float | None) -> dict:
    settled = frames[frames["frame"] >= FPS]
    per_s = settled.groupby(settled["frame"] // FPS)["bytes"].sum() * 8 / 1e3
    kbps = float(per_s.mean())
    return {"kbps": kbps, "use": kbps / target_kbps if target_kbps else np.nan,
            "over": float((per_s > 1.1 * target_kbps).mean()) if target_kbps else np.nan,
            "psnr_db": frames["psnr_db"].mean(), "ssim": frames["ssim"].mean(), "lpips": frames["lpips"].mean(),
            "on_time": float((frames["status"] == "ok").mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codec", default="cvsc")
    ap.add_argument("--targets", default="8,12,16,20", help="kbit/s")
    ap.add_argument("--clips", default="grace_hopper,minduka,jacksboro_relief")
    ap.add_argument("--seconds", type=float, default=8.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for clip in a.clips.split(","):
        rows.append({"clip": clip, "target": None, "ladder": "none", **summary(run(clip, a.codec, None, a.seconds), None)})
        for target in (float(t) for t in a.targets.split(",")):
            for name, per_octave in (("octave", 1), ("quarter", ratelevels.RUNGS_PER_OCTAVE)):
                fine = ratelevels.RUNGS_PER_OCTAVE
                ratelevels.RUNGS_PER_OCTAVE = per_octave
                try:
                    f = run(clip, a.codec, target, a.seconds)
                finally:
                    ratelevels.RUNGS_PER_OCTAVE = fine
                rows.append({"clip": clip, "target": target, "ladder": name, **summary(f, target)})
    t = pd.DataFrame(rows)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    print(f"# {stamp}, python benchmarks/bench_rate_ladder.py --codec {a.codec} --targets {a.targets} "
          f"--clips {a.clips} --seconds {a.seconds:g} ({time.perf_counter() - t0:.0f} s)")
    print(machine())
    print(f"{a.codec} at its defaults, GCC on an ideal 20 Mbit/s link (target = codec.bitrate_kbps), 64 px, "
          f"{FPS} fps, {a.seconds:g} s a clip; kbit/s from the second second on")
    print(f"\n{'clip':<18}{'target':>7}{'ladder':>9}{'kbit/s':>8}{'use':>6}{'over':>6}{'PSNR dB':>9}{'SSIM':>7}"
          f"{'LPIPS':>7}{'on time':>8}")
    for r in t.itertuples(index=False):
        tgt = "-" if r.target is None or np.isnan(r.target) else f"{r.target:g}"
        use = "-" if np.isnan(r.use) else f"{r.use:.2f}"
        over = "-" if np.isnan(r.over) else f"{r.over:.2f}"
        print(f"{r.clip:<18}{tgt:>7}{r.ladder:>9}{r.kbps:>8.1f}{use:>6}{over:>6}{r.psnr_db:>9.2f}{r.ssim:>7.3f}"
              f"{r.lpips:>7.3f}{r.on_time:>8.2f}")
    print("\nmean over clips: quarter-octave rungs against octave rungs (the peer, same run)")
    print(f"{'target':>7}{'use octave':>12}{'use quarter':>13}{'ratio':>7}{'dPSNR dB':>10}{'dSSIM':>8}{'dLPIPS':>8}")
    ruled = t[t["ladder"] != "none"]
    for target, g in ruled.groupby("target"):
        o, q = g[g["ladder"] == "octave"].mean(numeric_only=True), g[g["ladder"] == "quarter"].mean(numeric_only=True)
        print(f"{target:>7g}{o['use']:>12.2f}{q['use']:>13.2f}{q['use'] / o['use']:>7.2f}"
              f"{q['psnr_db'] - o['psnr_db']:>+10.2f}{q['ssim'] - o['ssim']:>+8.3f}{q['lpips'] - o['lpips']:>+8.3f}")


if __name__ == "__main__":
    main()
