"""Codec table on held-out procedural clips: rate, denoiser work, decode time here, quality.

Each codec encodes and decodes every frame of the same clips (seeds from 2 000 000,
never used in training) in order, with all data delivered; decode time is the
wall-clock time on this machine.

Equal-rate comparison: H.264 and H.265 are run over a ladder of target rates on the
same clips, and their PSNR/SSIM are interpolated (linearly in log-rate) at the rate
each semantic codec actually used. A semantic codec below the lowest rate the
classic encoder reached is marked ``<min`` (the classic codec cannot go that low at
this size: its rate control bottoms out at QP 51).

    python benchmarks/bench_codecs.py [--clips 3] [--seconds 2] [--quick] [--weights PATH]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from gsvc.codecs.registry import codec_names, make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.video import VideoSpec, open_source
from gsvc.video.quality import psnr_db, ssim, to_uint8

HELD_OUT_SEED0 = 2_000_000
#: target rates of the classic codecs' rate-quality ladder, kbit/s
LADDER_KBPS = (4, 6, 8, 12, 16, 24, 32, 48, 64, 96)


def at_rate(ladder: list[dict], kbps: float) -> dict | None:
    """PSNR/SSIM of a classic codec at ``kbps``: linear in log-rate between the ladder's
    achieved points (None below its lowest achieved rate; its best point above the top)."""
    pts = sorted(ladder, key=lambda r: r["kbps"])
    if kbps < pts[0]["kbps"]:
        return None
    if kbps >= pts[-1]["kbps"]:
        return pts[-1]
    x = np.log([p["kbps"] for p in pts])
    return {k: float(np.interp(np.log(kbps), x, [p[k] for p in pts])) for k in ("psnr", "ssim")}


def run_codec(spec: CodecSpec, video: VideoSpec, clips: list) -> dict:
    codec = make_codec(spec, video)
    nbytes, evals, ms, ps, ss = 0, 0, 0.0, [], []
    n = 0
    for k, frames in enumerate(clips):
        enc, dec = codec.encoder(k), codec.decoder(k)
        for f in frames:
            for ef in enc.encode(f, []):
                t0 = time.perf_counter()
                d = dec.decode(ef, dec.plan(ef, True, None))
                ms += (time.perf_counter() - t0) * 1e3
                nbytes += ef.nbytes
                evals += d.unet_evals
                ref = to_uint8(frames[ef.frame].rgb)[None]
                img = to_uint8(d.image)[None]
                ps.append(float(psnr_db(ref, img)[0]))
                ss.append(float(ssim(ref, img)[0]))
                n += 1
    seconds = n / video.fps
    return {"kbps": nbytes * 8 / 1e3 / seconds, "evals": evals / n, "ms": ms / n,
            "psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}


def stress_clips(seconds: float) -> dict:
    return {
        "smooth (pan 1 px/frame)": dict(camera="pan", motion_px=1.0),
        "scene cut mid-clip": dict(camera="pan", motion_px=1.0, cuts_s=[round(seconds / 2, 2)]),
        "large motion (shake 8 px/frame)": dict(camera="shake", motion_px=8.0),
    }


def stress_table(a, rows) -> None:
    """PSNR and evaluations per frame of each codec on smooth, cut and large-motion clips."""
    print(f"\nStress clips ({a.clips} held-out clips x {a.seconds:g} s each): PSNR dB / evaluations per frame")
    names = [n + "".join(f" {k}={v}" for k, v in kw.items()) for n, kw in rows if n != "full" or kw.get("steps") != 50]
    stress = stress_clips(a.seconds)
    print(f"{'codec':<50}" + "".join(f"{c:>34}" for c in stress))
    table = {n: [] for n in names}
    for label, extra in stress.items():
        video = VideoSpec(seconds=a.seconds, fps=15, resolution=64, **extra)
        clips = [open_source(video, HELD_OUT_SEED0 + 100 + k).read_all() for k in range(a.clips)]
        for (name, kw), n in zip([r for r in rows if r[0] != "full" or r[1].get("steps") != 50], names):
            r = run_codec(CodecSpec(name=name, weights=a.weights, **kw), video, clips)
            table[n].append(f"{r['psnr']:.2f} / {r['evals']:.2f}")
    for n, cells in table.items():
        print(f"{n:<50}" + "".join(f"{c:>34}" for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true", help="one short clip, fewer rows")
    ap.add_argument("--weights", default=None, help="denoiser weights (default: the shipped ones)")
    a = ap.parse_args()
    if a.quick:
        a.clips, a.seconds = 1, 0.6
    video = VideoSpec(seconds=a.seconds, fps=15, resolution=64, motion_px=2, camera="pan")
    clips = [open_source(video, HELD_OUT_SEED0 + k).read_all() for k in range(a.clips)]
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {a.clips} held-out clips x {a.seconds:g} s, 64x64, 15 fps")
    rows = [("full", dict(steps=50)), ("full", dict(steps=10)), ("oneshot", {}),
            ("cvsc", dict(steps=10, strength=0.3, gop=15)),
            ("cvsc", dict(steps=10, strength=0.3, gop=15, thumbnail="all")),
            ("cvsc", dict(steps=10, strength=0.4, gop=15, thumbnail="all")),
            ("cvsc", dict(steps=10, strength=0.5, gop=15, thumbnail="all")),
            ("reuse", dict(steps=10, strength=0.3, gop=15)), ("anchor_residual", dict(steps=10, strength=0.3, gop=15)),
            ("content_motion", dict(steps=10, gop=8))]
    if a.quick:
        rows = [("full", dict(steps=10)), ("oneshot", {}), ("cvsc", dict(steps=10, strength=0.3, gop=15))]
    results = []
    for name, kw in rows:
        label = name + "".join(f" {k}={v}" for k, v in kw.items())
        results.append((label, run_codec(CodecSpec(name=name, weights=a.weights, **kw), video, clips)))
    ladders = {name: [run_codec(CodecSpec(name=name, bitrate_kbps=kb, gop=15), video, clips) for kb in LADDER_KBPS]
               for name in ("h264", "h265") if name in codec_names()}
    print(f"\n{'codec':<50}{'kbps':>7}{'evals/frame':>12}{'ms/frame':>10}{'PSNR dB':>9}{'SSIM':>7}"
          + "".join(f"{'dSSIM ' + n:>12}{'dPSNR ' + n:>12}" for n in ladders))
    for label, r in results:
        cells = ""
        for lad in ladders.values():
            at = at_rate(lad, r["kbps"])
            cells += (f"{r['ssim'] - at['ssim']:>+12.3f}{r['psnr'] - at['psnr']:>+12.2f}" if at
                      else f"{'<min':>12}{'<min':>12}")
        print(f"{label:<50}{r['kbps']:>7.1f}{r['evals']:>12.2f}{r['ms']:>10.1f}{r['psnr']:>9.2f}{r['ssim']:>7.3f}"
              + cells)
    for name, lad in ladders.items():
        print(f"{name} ladder (target -> kbps / PSNR / SSIM): " + ", ".join(
            f"{kb:g} -> {r['kbps']:.1f} / {r['psnr']:.2f} / {r['ssim']:.3f}" for kb, r in zip(LADDER_KBPS, lad)))
    print("dSSIM/dPSNR: the row's SSIM/PSNR minus the classic codec's at the same kbps (interpolated in log-rate).")
    stress_table(a, rows)
    print()
    by = dict(results)
    if "full steps=50" in by:
        f = by["full steps=50"]
        for label, c in results:
            if label.startswith("cvsc"):
                print(f"{label} vs full steps=50: {f['evals'] / c['evals']:.1f}x fewer evaluations, "
                      f"PSNR {c['psnr'] - f['psnr']:+.2f} dB (target: <= 5 evaluations at no PSNR loss)")


if __name__ == "__main__":
    main()
