"""Codec table on held-out procedural clips: rate, denoiser work, decode time here, quality.

Each codec encodes and decodes every frame of the same clips (seeds from 2 000 000,
never used in training) in order, with all data delivered; decode time is the
wall-clock time on this machine. Rows for H.264/H.265 run at the bitrate that the
semantic codecs reach, so the quality comparison is at equal rate.

    python benchmarks/bench_codecs.py [--clips 3] [--seconds 2] [--quick]
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
    print(f"{'codec':<44}" + "".join(f"{c:>34}" for c in stress))
    table = {n: [] for n in names}
    for label, extra in stress.items():
        video = VideoSpec(seconds=a.seconds, fps=15, resolution=64, **extra)
        clips = [open_source(video, HELD_OUT_SEED0 + 100 + k).read_all() for k in range(a.clips)]
        for (name, kw), n in zip([r for r in rows if r[0] != "full" or r[1].get("steps") != 50], names):
            r = run_codec(CodecSpec(name=name, weights=a.weights, **kw), video, clips)
            table[n].append(f"{r['psnr']:.2f} / {r['evals']:.2f}")
    for n, cells in table.items():
        print(f"{n:<44}" + "".join(f"{c:>34}" for c in cells))


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
            ("cvsc", dict(steps=10, strength=0.3, gop=15)), ("cvsc", dict(steps=10, strength=0.5, gop=15)),
            ("reuse", dict(steps=10, strength=0.3, gop=15)), ("anchor_residual", dict(steps=10, strength=0.3, gop=15)),
            ("content_motion", dict(steps=10, gop=8))]
    if a.quick:
        rows = [("full", dict(steps=10)), ("oneshot", {}), ("cvsc", dict(steps=10, strength=0.3, gop=15))]
    results = []
    for name, kw in rows:
        label = name + "".join(f" {k}={v}" for k, v in kw.items())
        results.append((label, run_codec(CodecSpec(name=name, weights=a.weights, **kw), video, clips)))
    semantic_kbps = float(np.mean([r["kbps"] for _, r in results]))
    for name in ("h264", "h265"):
        if name in codec_names():
            results.append((f"{name} @ {semantic_kbps:.0f} kbps",
                            run_codec(CodecSpec(name=name, bitrate_kbps=semantic_kbps, gop=15), video, clips)))
    print(f"\n{'codec':<44}{'kbps':>8}{'evals/frame':>13}{'ms/frame':>10}{'PSNR dB':>9}{'SSIM':>8}")
    for label, r in results:
        print(f"{label:<44}{r['kbps']:>8.1f}{r['evals']:>13.2f}{r['ms']:>10.1f}{r['psnr']:>9.2f}{r['ssim']:>8.3f}")
    stress_table(a, rows)
    by = dict(results)
    if "full steps=50" in by and "cvsc steps=10 strength=0.3 gop=15" in by:
        c, f = by["cvsc steps=10 strength=0.3 gop=15"], by["full steps=50"]
        print(f"\ncvsc vs full-50: {f['evals'] / c['evals']:.1f}x fewer evaluations, "
              f"PSNR {c['psnr'] - f['psnr']:+.2f} dB (target: >= 10x fewer at no PSNR loss)")


if __name__ == "__main__":
    main()
