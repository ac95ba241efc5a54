"""Cost of the quality metrics: ms per frame of each metric at 64, 128 and 256 px, here.

Each metric scores 30 frames of a procedural pan against a blurred copy, as a run does
(batches of 16 for the per-frame metrics, one sequence for VMAF); the first call at each
size (model load, cache) is not timed. The reference is the decode of a ``cvsc`` frame at
64 px with the shipped denoiser at its defaults, measured in the same run.
Target: LPIPS + VMAF per frame cost less than that decode.

    python benchmarks/bench_metrics.py
"""
from __future__ import annotations

import platform
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from gsvc.metrics import METRICS
from gsvc.metrics.vmaf import VmafWriter
from gsvc.video import VideoSpec, open_source
from gsvc.video.quality import to_uint8

FRAMES = 30


def clip(px: int) -> tuple[np.ndarray, np.ndarray]:
    v = VideoSpec(seconds=FRAMES / 15, fps=15, resolution=px, motion_px=2)
    ref = np.stack([to_uint8(f.rgb) for f in open_source(v, 1)])
    test = np.clip(gaussian_filter(ref.astype(np.float32), (0, 1.2, 1.2, 0)), 0, 255).round().astype(np.uint8)
    return ref, test


def per_frame_ms(name: str, ref: np.ndarray, test: np.ndarray) -> float:
    m = METRICS[name]
    if m.sequence:
        t0 = time.perf_counter()
        w = VmafWriter()
        for k in range(len(ref)):
            w.add(k, ref[k], test[k])
        w.close()
        return (time.perf_counter() - t0) * 1e3 / len(ref)
    args = lambda a, b: (a[:-1], a[1:], b[:-1], b[1:]) if m.temporal else (a, b)  # noqa: E731
    m.fn(*args(ref[:2], test[:2]))  # warm-up: weights, caches
    t0 = time.perf_counter()
    for s in range(0, len(ref), 16):
        m.fn(*args(ref[s:s + 17] if m.temporal else ref[s:s + 16], test[s:s + 17] if m.temporal else test[s:s + 16]))
    return (time.perf_counter() - t0) * 1e3 / len(ref)


def cvsc_decode_ms() -> float:
    """Median wall time of decoding one cvsc frame at 64 px with the shipped weights (defaults)."""
    from gsvc.codecs.registry import make_codec
    from gsvc.codecs.spec import CodecSpec
    video = VideoSpec(seconds=2, fps=15, resolution=64, motion_px=2)
    codec = make_codec(CodecSpec(name="cvsc"), video)
    enc, dec = codec.encoder(0), codec.decoder(0)
    times = []
    for f in open_source(video, 2):
        for ef in enc.encode(f, ()):
            plan = dec.plan(ef, True, None)
            t0 = time.perf_counter()
            dec.decode(ef, plan)
            times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times[1:]))


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    names = ["psnr", "ssim", "lpips", "dists", "vmaf", "flicker"]
    print(f"\nms per frame ({FRAMES} frames, batches of 16; vmaf over the sequence)")
    print(f"{'px':>5}" + "".join(f"{n:>10}" for n in names))
    rows = {}
    for px in (64, 128, 256):
        ref, test = clip(px)
        rows[px] = {n: per_frame_ms(n, ref, test) for n in names}
        print(f"{px:>5}" + "".join(f"{rows[px][n]:>10.2f}" for n in names))
    decode = cvsc_decode_ms()
    both = rows[64]["lpips"] + rows[64]["vmaf"]
    print(f"\ncvsc decode at 64 px (shipped denoiser, defaults): {decode:.1f} ms per frame")
    print(f"LPIPS + VMAF at 64 px: {both:.2f} ms per frame = {both / decode:.2f}x the decode "
          f"(target < 1: {'met' if both < decode else 'MISSED'})")


if __name__ == "__main__":
    main()
