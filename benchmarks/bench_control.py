"""Adaptive control vs fixed steps: cut detection, quality after cuts, deadline misses, work, freezes.

Every reference-based codec (cvsc, reuse, anchor_residual, content_motion) runs twice
through the whole simulated pipeline on the same clips, channel and receiver:
``codec.control="off"`` (the codec's fixed steps) and ``"adaptive"``. Clips:

* ``scene-cut-stress``: the preset of that name (procedural, camera pan/zoom/shake at
  6 px/frame, cuts at 2, 5, 7.5 s plus random ones at 0.5 Hz, vehicles at 4 px/frame,
  TDL-C at 15 dB);
* ``large-motion``: the same link with a camera panning at 12 px/frame and vehicles at
  6 px/frame, no cuts.

Decode time comes from the calibrated ``profile:cpu-2core`` (14.1 ms per denoiser
evaluation at 64 px); the playout deadline is fixed: capture + ``--deadline-ms`` (plus,
for content_motion, the group it buffers before sending: (gop - 1) frame intervals).
With 10-step anchors (141 ms) a 100 ms deadline is one the fixed-step codecs miss.

Columns: ``miss %`` late frames / frames; ``evals`` denoiser evaluations per frame;
``freezes`` WebRTC-rule freezes; ``PSNR`` mean over every frame slot as the viewer saw it;
``cut+0..2`` mean PSNR in the first three frames of each new shot; ``steady`` mean PSNR
of frames at least 5 frames after the last cut; ``rec<=2`` share of cuts after which PSNR is
back within 1 dB of steady by the third frame of the new shot; ``P/R/F1`` cut detection
from the log's ``cut_detected`` against the true cuts (frames whose data was lost excluded).

    python benchmarks/bench_control.py [--seconds 10] [--deadline-ms 100] [--codecs cvsc,reuse] [--quick]
"""
from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import numpy as np
import torch

import gsvc
from gsvc.codecs.control import SceneChangeDetector
from gsvc.codecs.model import default_weights_path
from gsvc.scenarios import presets
from gsvc.video import VideoSpec, procedural_clip

CODECS = ["cvsc", "reuse", "anchor_residual", "content_motion"]
STEADY_AFTER_FRAMES = 5


def stress_video(seconds: float) -> dict:
    """The scene-cut-stress preset's video, cut to ``seconds`` (fixed cuts past the end dropped)."""
    video = presets.get_preset("scene-cut-stress").video.model_dump()
    cut_s = [c for c in video["cuts_s"] if c < seconds - 1 / video["fps"]]
    return video | {"seconds": seconds, "cuts_s": cut_s}


def scenario(clip: str, name: str, control: str, a) -> gsvc.Scenario:
    sc = presets.get_preset("scene-cut-stress")
    video = stress_video(a.seconds)
    if clip == "large-motion":
        video.update(camera="pan", motion_px=12.0, object_speed_px=6.0, cut_rate_hz=0.0, cuts_s=[])
    buffer_ms = (a.gop - 1) * 1000 / video["fps"] if name == "content_motion" else 0.0
    return gsvc.Scenario(**sc.model_dump() | {
        "name": f"{clip}-{name}-{control}", "video": video,
        "codec": dict(name=name, steps=a.steps, gop=a.gop, strength=0.3, weights=a.weights, control=control),
        "jitter": dict(mode="fixed", delay_ms=a.deadline_ms + buffer_ms),
        "receiver": dict(gpus=1, policy="edf", latency="profile:cpu-2core", decode="real"),
    })


def cut_scores(f) -> tuple[float, float, float]:
    seen = f[f["status"] != "lost"]
    truth, found = seen["scene_cut"].to_numpy(bool), seen["cut_detected"].to_numpy(bool)
    tp, fp, fn = int(np.sum(truth & found)), int(np.sum(~truth & found)), int(np.sum(truth & ~found))
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return p, r, 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def quality_after_cuts(f) -> dict:
    psnr = f["psnr_db"].to_numpy()
    cuts = np.flatnonzero(f["scene_cut"].to_numpy(bool))
    since = np.full(len(f), 10**9)
    last = 0
    for k in range(len(f)):
        last = k if k in set(cuts) else last
        since[k] = k - last
    steady = float(np.mean(psnr[since >= STEADY_AFTER_FRAMES]))
    after = [psnr[c:c + 3] for c in cuts if c + 3 <= len(f)]
    recovered = [bool(np.any(w >= steady - 1.0)) for w in after]
    return {"steady": steady, "cut3": float(np.mean(np.concatenate(after))) if after else float("nan"),
            "rec": float(np.mean(recovered)) if recovered else float("nan"), "cuts": len(after)}


def one_run(sc) -> dict:
    t0 = time.perf_counter()
    r = gsvc.run(sc)
    f, s = r.frames, r.summary
    out = {"miss": s["deadline_miss_rate"], "evals": s["unet_evals_per_frame"], "freezes": s["freeze_count"],
           "psnr": s["psnr_db_mean"], "lost": s["lost"], "kbps": s["bitrate_kbps"],
           "anchors": int((f["kind"] == "anchor").sum()), "wall_s": time.perf_counter() - t0,
           "plans": Counter(f["plan"]), "prf": cut_scores(f)}
    out.update(quality_after_cuts(f))
    return out


def detector_f1(seeds: range, seconds: float) -> tuple[int, float, float, float]:
    """Sender-side detector alone on scene-cut-stress video with other seeds (no decode)."""
    tp = fp = fn = 0
    for seed in seeds:
        clip = procedural_clip(VideoSpec(**stress_video(seconds)), seed)
        det = SceneChangeDetector()
        found = np.array([det.observe(clip.rgb[k], clip.labels[k]).cut for k in range(len(clip))])
        tp += int(np.sum(found & clip.scene_cut))
        fp += int(np.sum(found & ~clip.scene_cut))
        fn += int(np.sum(~found & clip.scene_cut))
    return tp + fn, tp / max(tp + fp, 1), tp / max(tp + fn, 1), 2 * tp / max(2 * tp + fp + fn, 1)


def fmt(x, spec: str) -> str:
    """``format(x, spec)``, or a dash as wide as ``spec`` says when there is no value."""
    if x is None or isinstance(x, float) and np.isnan(x):
        width = int(spec.split(".")[0] or 0)
        return "-".rjust(width)
    return format(x, spec)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--deadline-ms", type=float, default=100.0)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--gop", type=int, default=15)
    ap.add_argument("--codecs", default=",".join(CODECS))
    ap.add_argument("--clips", default="scene-cut-stress,large-motion")
    ap.add_argument("--weights", default=None, help="denoiser weights (default: the shipped ones)")
    ap.add_argument("--quick", action="store_true", help="3 s clips, cvsc only")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.codecs = 3.0, "cvsc"
    shipped = default_weights_path(64)
    if a.weights is None:
        if not shipped.exists():
            raise SystemExit(f"no shipped weights at {shipped}; train them (gsvc train) or pass --weights")
        a.weights = str(shipped)
    print(f"weights: {a.weights}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores; latency profile:cpu-2core; deadline {a.deadline_ms:g} ms after capture "
          f"(+ group buffering for content_motion); steps={a.steps}, gop={a.gop}, {a.seconds:g} s clips, 64 px, 15 fps")

    n_cuts, p, r, f1 = detector_f1(range(100, 106), a.seconds)
    print(f"\nsender cut detector alone, 6 other scene-cut-stress clips: {n_cuts} cuts, precision {p:.3f}, "
          f"recall {r:.3f}, F1 {f1:.3f} (target F1 >= 0.95)")

    head = (f"{'codec':<16}{'control':<10}{'miss %':>7}{'evals':>7}{'freezes':>8}{'lost':>5}{'anchors':>8}"
            f"{'kbps':>7}{'PSNR':>7}{'cut+0..2':>9}{'steady':>7}{'rec<=2':>7}{'P':>6}{'R':>6}{'F1':>6}{'wall s':>7}")
    verdicts = []
    for clip in a.clips.split(","):
        print(f"\n== {clip} ==\n{head}")
        for name in a.codecs.split(","):
            res = {}
            for control in ("off", "adaptive"):
                res[control] = m = one_run(scenario(clip, name, control, a))
                pp, rr, ff = m["prf"] if control == "adaptive" else (float("nan"),) * 3
                print(f"{name:<16}{control:<10}{100 * m['miss']:>7.1f}{m['evals']:>7.2f}{m['freezes']:>8d}"
                      f"{m['lost']:>5d}{m['anchors']:>8d}{m['kbps']:>7.1f}{m['psnr']:>7.2f}{fmt(m['cut3'], '9.2f')}"
                      f"{m['steady']:>7.2f}{fmt(m['rec'], '7.2f')}{fmt(pp, '6.2f')}{fmt(rr, '6.2f')}{fmt(ff, '6.2f')}"
                      f"{m['wall_s']:>7.0f}")
            plans = ", ".join(f"{k} {v}" for k, v in res["adaptive"]["plans"].most_common())
            print(f"{'':<16}adaptive plans: {plans}")
            off, on = res["off"], res["adaptive"]
            verdicts.append(f"{clip:<17}{name:<16} misses {100 * off['miss']:5.1f}% -> {100 * on['miss']:4.1f}% "
                            f"(target <= 1% where fixed >= 10%: "
                            f"{'met' if on['miss'] <= 0.01 else 'MISSED' if off['miss'] >= 0.10 else 'fixed < 10%'})"
                            + (f"; cut+0..2 {off['cut3']:.2f} -> {on['cut3']:.2f} dB, recovered within 2 frames "
                               f"{fmt(on['rec'], '.0%')} (target 100%)" if on["cuts"] else ""))
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
