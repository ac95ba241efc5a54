"""The dev set, per clip and per motion speed: what each codec shows through the whole pipeline.

Every clip of :mod:`gsvc.video.devset` (camera paths at 0.5-8 px/frame with a hard cut between
each two of five shots, over every picture in matplotlib's sample data and over gsvc's dead-leaves
and procedural content) runs through ``gsvc.run`` with every frame on time: an ideal 20 Mbit/s
link, the calibrated ``profile:cpu-2core`` receiver, no load shedding and a fixed playout delay of
``--delay-ms`` (10 s: on that profile a cvsc delta takes about 87 ms, longer than the 67 ms frame
interval, so the receiver's backlog grows over a clip, by about 2.5 s over 4 s), so the quality
columns are the codecs' own, not the network's or the receiver's; the ``on time`` column shows it.
Codecs, at their defaults but where a row says otherwise:

* ``h264`` at two target rates (the classic reference),
* ``lowres`` (cvsc's low-res and motion stream shown without generation),
* ``cvsc`` and ``cvsc`` with ``control="adaptive"``,
* ``lowres`` with ``control="adaptive"`` (the same stream with the controller's anchors at cuts),
* both adaptive with whole anchors (``whole-anch``: ``anchor_lowres_factor=1``, an intra frame
  shown as sent, deltas at step 32), the best low-res stream measured on this set.

``cvsc`` and ``lowres`` run at their own defaults (:data:`gsvc.codecs.cvsc.TUNED_CHAINED`: deltas at
half the side, step 18, anchors at step 5, each delta predicted from its anchor's or the previous
frame's low-res frame, whichever costs less; tuned on this set); ``cvsc`` shows half of its generated
detail where the low-res frame alone conditions a frame and all of it where a label map does
(:data:`gsvc.codecs.cvsc.TUNED_SHOWN`), and the ``sampled`` rows (``--rows``) all of it everywhere.

Columns: kbit/s (the bytes sent for those frames), PSNR dB, SSIM, LPIPS, DISTS (lower is better),
denoiser evaluations per frame, on-time share; every value a mean over the frames of the group.
Groups: each clip, each nominal speed (px/frame at 64 px, the shots of that speed over all
clips), and the whole set. Then each generative row minus its no-generation row (the same stream
shown without a denoiser: ``lowres`` of the same control for cvsc and reuse, ``lowres intra`` for full
and oneshot) on the whole set and per speed (the gain of generation), and each row's worst shot
(lowest shot-mean PSNR over every shot of every clip).

``--rows`` picks rows by name, from these and the other published methods at their defaults
(``reuse``, ``anchor_residual``, ``content_motion``, each also adaptive, ``full``, ``oneshot``)
with ``lowres intra`` (every frame intra at full's and oneshot's stream, no generation) and ``cvsc
sampled`` / ``cvsc adaptive sampled`` (``detail_scale=1``: the frames as sampled); ``--rows all``
runs every one. ``full`` runs on the receiver profile of an H200 (:data:`ROW_LATENCY`: on this host's
it cannot keep up within the longest playout delay); every other row on this host's. A generative
row is compared with its no-generation row only when both run. ``--weights`` runs the generative
rows with other denoiser weights (a training run's) against the same no-generation rows.

    python benchmarks/bench_devset.py [--seconds 4] [--side 64] [--clips grace_hopper,mri] [--delay-ms 1500]
                                      [--rows lowres,cvsc,reuse] [--weights OUT/denoiser.safetensors]

The last recorded output is in ``benchmarks/results/bench_devset.txt``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
import torch

import gsvc
from bench_codecs import no_generation_stream
from gsvc.codecs.registry import has
from gsvc.video import devset

#: anchors sent whole (an intra frame, no generation, step 16) with deltas at half the side, step 32,
#: chained as cvsc's defaults chain them: the best operating point of the low-res stream measured on this
#: set (lowres adaptive, with half-side motion blocks and the cubic low-res predictor: 29.08 dB / SSIM 0.886
#: / LPIPS 0.030 at 25.4 kbit/s; deltas at step 40 28.74 / 0.879 / 0.033 at 24.5; the half-side anchors of
#: the defaults 28.89 / 0.890 / 0.047 at 25.6. Before those, step 40: 28.48 / 0.871 at 28.7)
WHOLE_ANCHORS = dict(anchor_lowres_factor=1, anchor_lowres_quant=16, lowres_quant=32)
#: (row name, codec settings)
ROWS = [
    ("h264 12 kbit/s", dict(name="h264", bitrate_kbps=12)),
    ("h264 24 kbit/s", dict(name="h264", bitrate_kbps=24)),
    ("lowres", dict(name="lowres")),
    ("cvsc", dict(name="cvsc")),
    ("lowres adaptive", dict(name="lowres", control="adaptive")),
    ("cvsc adaptive", dict(name="cvsc", control="adaptive")),
    ("lowres whole-anch", dict(name="lowres", control="adaptive", **WHOLE_ANCHORS)),
    ("cvsc whole-anch", dict(name="cvsc", control="adaptive", **WHOLE_ANCHORS)),
]
#: the other published methods, at their defaults (``--rows``), and the intra-only no-generation row
#: of full's and oneshot's stream
OTHER_ROWS = [
    ("reuse", dict(name="reuse")),
    ("anchor_residual", dict(name="anchor_residual")),
    ("content_motion", dict(name="content_motion")),
    ("content_motion adaptive", dict(name="content_motion", control="adaptive")),
    ("reuse adaptive", dict(name="reuse", control="adaptive")),
    ("anchor_residual adaptive", dict(name="anchor_residual", control="adaptive")),
    ("full", dict(name="full")),
    ("oneshot", dict(name="oneshot")),
    ("lowres intra", dict(name="lowres", **no_generation_stream("full"))),  # full's and oneshot's stream
    ("cvsc sampled", dict(name="cvsc", detail_scale=1.0)),  # every generated detail shown, as sampled
    ("cvsc adaptive sampled", dict(name="cvsc", control="adaptive", detail_scale=1.0)),
]
#: generative row -> the no-generation row it is compared with (the same low-res stream)
GAIN_OVER = {"cvsc": "lowres", "cvsc adaptive": "lowres adaptive", "cvsc whole-anch": "lowres whole-anch",
             "reuse": "lowres", "reuse adaptive": "lowres adaptive", "full": "lowres intra", "oneshot": "lowres intra",
             "cvsc sampled": "lowres", "cvsc adaptive sampled": "lowres adaptive"}
METRICS = ("psnr_db", "ssim", "lpips", "dists")


#: receiver latency of every row but these: the calibrated profile of this 2-core host
LATENCY = "profile:cpu-2core"
#: rows whose decode cannot keep up on that profile within the longest fixed playout delay (10 s): ``full``
#: runs 10 evaluations on every frame, about 0.5 s a frame there, so a third of a 4 s clip came late; on the
#: measured H200 profile of the same model (``gsvc/timing/profiles/h200-gsvc.json``, 4.3 ms an evaluation at
#: 64 px) every frame is on time. Its quality columns do not depend on the profile, only the on-time share
ROW_LATENCY = {"full": "profile:h200-gsvc"}


def scenario(clip: str, codec: dict, a, latency: str = LATENCY) -> gsvc.Scenario:
    return gsvc.Scenario(
        name=f"devset-{clip}", seed=0,
        video=dict(source="devset", path=clip, seconds=a.seconds, fps=15, resolution=a.side),
        codec={**codec, **({"weights": a.weights} if a.weights and has(codec["name"], "diffusion") else {})},
        channel=dict(model="ideal", rate_mbps=20),
        jitter=dict(mode="fixed", delay_ms=a.delay_ms),
        receiver=dict(gpus=1, latency=latency, decode="real", shed="off"),
        metrics=["lpips", "dists"])


def run_all(a) -> pd.DataFrame:
    """One row per frame of every clip and codec row: the log's columns plus clip, row and speed."""
    out = []
    for clip in a.clips:
        for row, codec in a.rows:
            t0 = time.perf_counter()
            res = gsvc.run(scenario(clip, codec, a, ROW_LATENCY.get(row, LATENCY)))
            f = res.frames.copy()
            f["clip"], f["row"] = clip, row
            src = devset.dev_source(clip, a.side, 15, len(f))
            f["speed_px"] = src.speeds_px()
            f["shot"] = np.concatenate([np.full(s.num_frames, j) for j, s in enumerate(src.shots)])
            f["wall_s"] = time.perf_counter() - t0
            out.append(f)
    return pd.concat(out, ignore_index=True)


def summarise(g: pd.DataFrame) -> dict:
    n = len(g)
    return {"kbps": g["bytes"].sum() * 8 * 15 / 1e3 / n, **{m: g[m].mean() for m in METRICS},
            "evals": g["unet_evals"].mean(), "on_time": (g["status"] == "ok").mean()}


def table(frames: pd.DataFrame, by: str, title: str) -> pd.DataFrame:
    rows = []
    for key, g in frames.groupby([by, "row"], sort=False):
        rows.append({by: key[0], "row": key[1], **summarise(g)})
    t = pd.DataFrame(rows)
    print(f"\n== {title} ==")
    w = max(18, max(len(r) for r in t["row"]) + 1)
    print(f"{by:<18}{'codec':<{w}}{'kbit/s':>8}{'PSNR dB':>9}{'SSIM':>7}{'LPIPS':>7}{'DISTS':>7}{'evals/fr':>9}"
          f"{'on time':>8}")
    for r in t.itertuples(index=False):
        d = r._asdict()
        print(f"{str(d[by]):<18}{d['row']:<{w}}{d['kbps']:>8.1f}{d['psnr_db']:>9.2f}{d['ssim']:>7.3f}"
              f"{d['lpips']:>7.3f}{d['dists']:>7.3f}{d['evals']:>9.2f}{d['on_time']:>8.2f}")
    return t


def worst_shots(frames: pd.DataFrame) -> None:
    """Per codec row, the shot (of every clip) with the lowest mean PSNR: where a codec breaks."""
    print("\n== worst shot per codec row (lowest shot-mean PSNR over every shot of every clip) ==")
    w = max(18, max(len(r) for r in frames["row"].unique()) + 1)
    print(f"{'codec':<{w}}{'clip':<18}{'shot':>5}{'speed':>7}{'PSNR dB':>9}{'SSIM':>7}")
    shot_means = frames.groupby(["row", "clip", "shot"], sort=False).agg(
        psnr_db=("psnr_db", "mean"), ssim=("ssim", "mean"), speed_px=("speed_px", "first")).reset_index()
    for row, g in shot_means.groupby("row", sort=False):
        worst = g.loc[g["psnr_db"].idxmin()]
        print(f"{row:<{w}}{worst['clip']:<18}{int(worst['shot']):>5}{worst['speed_px']:>7g}{worst['psnr_db']:>9.2f}"
              f"{worst['ssim']:>7.3f}")


def gains(frames: pd.DataFrame) -> None:
    print("\n== gain of generation: generative row minus the no-generation row (same stream, same control; "
          "dkbit/s: the label map a generative codec adds where a clip has labels, the procedural one only) ==")
    print(f"{'group':<18}{'codec':<34}{'dkbit/s':>8}{'dPSNR':>8}{'dSSIM':>8}{'dLPIPS':>8}{'dDISTS':>8}")
    groups = [("all", frames)] + [(f"{s:g} px/frame", g) for s, g in frames.groupby("speed_px")]
    for name, g in groups:
        for gen, ref in GAIN_OVER.items():
            if not (g["row"] == gen).any() or not (g["row"] == ref).any():
                continue
            x, y = summarise(g[g["row"] == gen]), summarise(g[g["row"] == ref])
            print(f"{name:<18}{gen + ' - ' + ref:<34}{x['kbps'] - y['kbps']:>+8.1f}{x['psnr_db'] - y['psnr_db']:>+8.2f}"
                  f"{x['ssim'] - y['ssim']:>+8.3f}{x['lpips'] - y['lpips']:>+8.3f}{x['dists'] - y['dists']:>+8.3f}")


def machine() -> str:
    """The host, its threads and GPU, and the gsvc and torch versions: the first line of a recorded result."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"machine: {platform.machine()} CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
            f"{gpu}; gsvc {gsvc.__version__}, torch {torch.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each clip (five shots)")
    ap.add_argument("--side", type=int, default=64)
    ap.add_argument("--clips", default=",".join(devset.CLIP_NAMES))
    ap.add_argument("--delay-ms", type=float, default=10_000.0, help="fixed playout delay (every frame on time)")
    ap.add_argument("--rows", default=",".join(r for r, _ in ROWS),
                    help=f"rows to run, by name, or 'all' (from: {', '.join(r for r, _ in ROWS + OTHER_ROWS)})")
    ap.add_argument("--weights", default=None,
                    help="denoiser weights for the generative rows (default: the shipped ones), e.g. a training "
                         "run's")
    a = ap.parse_args()
    a.clips = a.clips.split(",")
    known = dict(ROWS + OTHER_ROWS)
    names = list(known) if a.rows == "all" else a.rows.split(",")
    unknown = [n for n in names if n not in known]
    if unknown:
        ap.error(f"--rows: {', '.join(unknown)} not among {', '.join(known)}")
    a.rows = [(n, known[n]) for n in names]
    n = int(round(a.seconds * 15))
    print(f"{machine()}. Dev set: {len(a.clips)} clips x {n} frames ({a.seconds:g} s at 15 fps, "
          f"{a.side} px, 5 shots of {n // 5}), speeds {devset.SPEEDS_PX} px/frame at 64 px; ideal link, fixed "
          f"playout delay {a.delay_ms:g} ms, profile:cpu-2core, no shedding.")
    t0 = time.perf_counter()
    frames = run_all(a)
    table(frames, "clip", "per clip")
    table(frames, "speed_px", "per speed (px/frame at 64 px, shots of that speed over every clip)")
    table(frames.assign(set="all"), "set", "whole dev set")
    gains(frames)
    worst_shots(frames)
    on_time = (frames["status"] == "ok").mean()
    print(f"\nframes on time: {on_time:.3f} of {len(frames)}; total {time.perf_counter() - t0:.0f} s")
    if on_time < 1:
        print("NOT EVERY FRAME WAS ON TIME: the quality columns include late frames; raise --delay-ms")


if __name__ == "__main__":
    main()
