"""Adaptive control vs fixed steps: cut detection, quality after cuts, deadline misses, work, freezes.

Every reference-based codec (cvsc, reuse, anchor_residual, content_motion) runs twice
through the whole simulated pipeline on the same clips, channel and receiver:
``codec.control="off"`` (the codec's fixed steps) and ``"adaptive"``. Clips:

* ``scene-cut-stress``: the preset of that name (procedural, camera pan/zoom/shake at
  6 px/frame, cuts at 2, 5, 7.5 s plus random ones at 0.5 Hz, vehicles at 4 px/frame,
  TDL-C at 15 dB);
* ``large-motion``: the same link with a camera panning at 12 px/frame and vehicles at
  6 px/frame, no cuts.

Decode time comes from the calibrated ``profile:cpu-2core`` (29.1 ms per denoiser
evaluation at 64 px); the playout deadline is fixed: capture + ``--deadline-ms`` (plus,
for content_motion, the group it buffers before sending: (gop - 1) frame intervals).
With 10-step anchors (291 ms) a 100 ms deadline is one the fixed-step codecs miss.

Columns: ``miss %`` late frames / frames; ``evals`` denoiser evaluations per frame;
``freezes`` WebRTC-rule freezes; ``PSNR`` mean over every frame slot as the viewer saw it;
``c+0``, ``c+1``, ``c+2`` mean PSNR in the first, second and third frame of each new shot;
``steady`` mean PSNR of frames at least 5 frames after the last cut; ``d(c+2)`` mean over cuts
of PSNR 2 frames after the cut minus the steady state of that shot (its frames from 5 after
the cut to the next cut); ``rec<=2`` share of cuts where that difference is above -1 dB;
``cuts/found/false``
true cuts, cuts flagged in the log's ``cut_detected``, false alarms, and their ``F1`` (frames
whose data was lost left out).

    python benchmarks/bench_control.py [--seconds 10] [--deadline-ms 100] [--codecs cvsc,reuse] [--quick]

The last recorded output is in ``benchmarks/results/bench_control.txt``.
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
        # load shedding off: the comparison is the codec's own plan against the controller's,
        # with every frame decoded (shedding would turn the codec's misses into skips)
        "receiver": dict(gpus=1, policy="edf", latency="profile:cpu-2core", decode="real", shed="off"),
    })


def cut_scores(f) -> tuple[int, int, int, float]:
    """(true cuts, found, false alarms, F1) from the log; frames whose data was lost are left out."""
    seen = f[f["status"] != "lost"]
    truth, found = seen["scene_cut"].to_numpy(bool), seen["cut_detected"].to_numpy(bool)
    tp, fp, fn = int(np.sum(truth & found)), int(np.sum(~truth & found)), int(np.sum(truth & ~found))
    return tp + fn, tp, fp, 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def quality_after_cuts(f) -> dict:
    """PSNR in the first frames of each shot against the steady state of that shot.

    A shot's steady state is its mean PSNR from 5 frames after its cut to the next cut (the
    run's mean over all such frames when the shot is shorter than 8 frames).
    """
    psnr = f["psnr_db"].to_numpy()
    cuts = [int(c) for c in np.flatnonzero(f["scene_cut"].to_numpy(bool))]
    starts = [0] + cuts
    ends = cuts + [len(f)]
    calm = np.concatenate([psnr[a + STEADY_AFTER_FRAMES:b] for a, b in zip(starts, ends)])
    steady = float(np.mean(calm))
    after, gap = [], []
    for c, end in zip(cuts, ends[1:]):
        if c + 3 > len(f):
            continue
        tail = psnr[c + STEADY_AFTER_FRAMES:end]
        shot_steady = float(np.mean(tail)) if len(tail) >= 3 else steady
        after.append(psnr[c:c + 3])
        gap.append(psnr[c + 2] - shot_steady)
    after = np.array(after).reshape(-1, 3)  # [cuts, 3] dB
    out = {"steady": steady, "cuts": len(after),
           "gap": float(np.mean(gap)) if gap else float("nan"),
           "rec": float(np.mean(np.array(gap) >= -1.0)) if gap else float("nan")}
    out.update({f"c+{k}": float(np.mean(after[:, k])) if len(after) else float("nan") for k in range(3)})
    out["cut3"] = float(np.mean(after)) if len(after) else float("nan")
    return out


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
    shipped = default_weights_path()
    shown = a.weights or "the shipped weights"
    if a.weights is None:
        if not shipped.exists():
            raise SystemExit(f"no shipped weights at {shipped}; train them (gsvc train) or pass --weights")
        a.weights = str(shipped)
    print(f"weights: {shown}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores; latency profile:cpu-2core; deadline {a.deadline_ms:g} ms after capture "
          f"(+ group buffering for content_motion); steps={a.steps}, gop={a.gop}, {a.seconds:g} s clips, 64 px, 15 fps")

    n_cuts, p, r, f1 = detector_f1(range(100, 106), a.seconds)
    print(f"\nsender cut detector alone, 6 other scene-cut-stress clips: {n_cuts} cuts, precision {p:.3f}, "
          f"recall {r:.3f}, F1 {f1:.3f} (target F1 >= 0.95)")

    head = (f"{'codec':<16}{'control':<9}{'miss %':>7}{'evals':>6}{'freezes':>8}{'lost':>5}{'anchors':>8}"
            f"{'kbps':>6}{'PSNR':>6}{'c+0':>6}{'c+1':>6}{'c+2':>6}{'steady':>7}{'d(c+2)':>7}{'rec<=2':>7}"
            f"{'cuts/found/false':>17}{'F1':>6}{'wall s':>7}")
    verdicts = []
    for clip in a.clips.split(","):
        print(f"\n== {clip} ==\n{head}")
        for name in a.codecs.split(","):
            res = {}
            for control in ("off", "adaptive"):
                res[control] = m = one_run(scenario(clip, name, control, a))
                n_true, tp, fp, f1 = m["prf"]
                det = f"{n_true}/{tp}/{fp}" if control == "adaptive" else "-"
                print(f"{name:<16}{control:<9}{100 * m['miss']:>7.1f}{m['evals']:>6.2f}{m['freezes']:>8d}"
                      f"{m['lost']:>5d}{m['anchors']:>8d}{m['kbps']:>6.1f}{m['psnr']:>6.2f}{fmt(m['c+0'], '6.2f')}"
                      f"{fmt(m['c+1'], '6.2f')}{fmt(m['c+2'], '6.2f')}{m['steady']:>7.2f}{fmt(m['gap'], '+7.2f')}"
                      f"{fmt(m['rec'], '7.2f')}{det:>17}{fmt(f1 if control == 'adaptive' and n_true else None, '6.2f')}"
                      f"{m['wall_s']:>7.0f}")
            plans = ", ".join(f"{k} {v}" for k, v in res["adaptive"]["plans"].most_common())
            print(f"{'':<16}adaptive plans: {plans}")
            off, on = res["off"], res["adaptive"]
            target = ("fixed misses < 10%: no target" if off["miss"] < 0.10
                      else "target <= 1%: " + ("met" if on["miss"] <= 0.01 else "MISSED"))
            verdicts.append(f"{clip:<17}{name:<16} misses {100 * off['miss']:5.1f}% -> {100 * on['miss']:4.1f}% ({target})"
                            + (f"; first 3 frames of a shot {off['cut3']:.2f} -> {on['cut3']:.2f} dB; 2 frames after "
                               f"a cut {on['gap']:+.2f} dB from the shot's steady state on average, within 1 dB for "
                               f"{fmt(on['rec'], '.0%')} of cuts (target: within 1 dB)" if on["cuts"] else ""))
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
