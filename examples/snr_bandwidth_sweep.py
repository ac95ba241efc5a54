"""Sweep SNR x bandwidth for two codecs on the pedestrian-urban preset and write the HTML report.

    python examples/snr_bandwidth_sweep.py                       # 0-20 dB x 5/10/20 MHz x full/cvsc, 3 seeds
    python examples/snr_bandwidth_sweep.py --seconds 1 --snr 0,10 --bandwidth 5,10 --seeds 1   # a quick look

Decoding is timing-only: the encoders of ``full`` and ``cvsc`` run for real (real
bytes over the link) and each decode takes the time of the calibrated CPU
profile, but the denoiser does not run, so the report has no PSNR/SSIM. Pass
``--decode real`` once trained weights are installed (``gsvc train``) to score
quality too.

Rerunning with the same ``--out`` resumes: finished points are not run again.
"""
from __future__ import annotations

import argparse

import gsvc
from gsvc.analysis import aggregate, ci_table, write_report
from gsvc.scenarios.presets import get_preset


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gsvc-out/snr-bandwidth", help="result store and report folder")
    ap.add_argument("--snr", default="0:20:5", help="channel.snr_db values (dB)")
    ap.add_argument("--bandwidth", default="5,10,20", help="link.bandwidth_mhz values (MHz)")
    ap.add_argument("--codecs", default="full,cvsc", help="codec.name values")
    ap.add_argument("--seconds", type=float, default=10.0, help="video length (s)")
    ap.add_argument("--seeds", type=int, default=3, help="replications per grid point")
    ap.add_argument("--decode", choices=["timing-only", "real"], default="timing-only")
    ap.add_argument("--executor", choices=["local", "dask", "serial"], default="local")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)

    # the channel trace covers the whole clip, so it never repeats within it
    base = get_preset("pedestrian-urban").updated({
        "video.seconds": args.seconds, "link.trace_s": max(args.seconds, 0.1), "receiver.decode": args.decode})
    grid = {"channel.snr_db": args.snr, "link.bandwidth_mhz": args.bandwidth, "codec.name": args.codecs}
    res = gsvc.sweep(base, grid, seeds=args.seeds, executor=args.executor, workers=args.workers, out=args.out)

    agg = aggregate(res.summary, res.keys, ["latency_ms_p95", "stall_ratio", "deadline_miss_rate", "bitrate_kbps"])
    print(ci_table(agg, res.keys).to_string(index=False))
    print(f"report: {write_report(res)}")


if __name__ == "__main__":
    main()
