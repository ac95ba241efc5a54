"""Codec tables at 64, 128 and 256 px: rate, denoiser work, decode time here, quality,
against H.264 and H.265 at the same rate, on real content and on held-out procedural clips.

Clips (all frames encoded and decoded in order, all data delivered; decode time is the
wall-clock time on this machine):

* ``dev``: the one real-content development clip, a camera path over ``grace_hopper.jpg``
  from matplotlib's sample data (camera ``mixed``, 1.5 px/frame at 64 px and in proportion
  above, two hard cuts to new viewpoints). It was never used for training.
* ``procedural``: held-out procedural street clips (seeds from 2 000 000, never used in training).

No-generation reference: beside every row of cvsc, reuse, full and oneshot the ``lowres`` codec sending
the same low-res and motion stream (:data:`LOWRES_KEYS` as the row's codec resolves them, every frame
intra for full and oneshot), shown without generation; anchor_residual (no motion) and content_motion
(its own groups) send streams ``lowres`` does not, so they have none. The ``low`` columns are the row
minus that reference (PSNR, SSIM: higher is better; LPIPS, DISTS: lower is better), i.e. what the
denoiser adds to the stream (and what a label or edge map it sends on top costs: the rates differ by
those); the reference row itself is printed once, where it is first needed, with the settings in which
it differs from ``lowres``'s defaults. The BD-rate tables give every
codec against H.264, H.265 and ``lowres``.

Equal-rate comparison: H.264 and H.265 (the real-time settings of :mod:`gsvc.codecs.classic`)
are run over a ladder of target rates on the same clips, and their PSNR/SSIM are
interpolated (linearly in log-rate) at the rate each row actually used. A row below the
lowest rate the classic encoder reached is compared with that lowest point and marked
``*`` (the classic codec cannot go lower at this size: its rate control bottoms out at QP 51).

Also printed: the classic baselines before and after the real-time settings (VBV of 3 frame
intervals and a keyframe every 15 frames, as gsvc 0.1 ran them, against a 1 s VBV and
keyframes only at the start), and the stress clips (cut, large motion) at 64 px.

    python benchmarks/bench_codecs.py [--sides 64,128,256] [--clips 2] [--seconds 3] [--quick] [--weights PATH]
"""
from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
import torch

from gsvc.codecs import classic
from gsvc.codecs.registry import codec_class, make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.video import VideoSpec, open_source, photo_source
from gsvc.metrics.dists import dists
from gsvc.metrics.lpips import lpips
from gsvc.metrics.vmaf import VmafWriter
from gsvc.video.quality import psnr_db, ssim, to_uint8

HELD_OUT_SEED0 = 2_000_000
#: perceptual columns of every row (LPIPS, DISTS: lower is better; VMAF: higher)
PERCEPTUAL = ("lpips", "dists", "vmaf")
#: low-res quantiser steps of the semantic codecs' rate ladder for BD-rate
BD_QUANTS = (4, 8, 16, 32)
#: target rates of the classic codecs' rate-quality ladder, kbit/s (scaled by (side/64)^1.5 above 64 px)
LADDER_KBPS = (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
CLASSIC = ("h264", "h265")
#: the settings a diffusion row shares with its no-generation reference (``lowres``): the whole low-res and
#: motion stream, as the row's codec resolves them (its own defaults included)
LOWRES_KEYS = ("lowres", "lowres_factor", "anchor_lowres_factor", "lowres_quant", "anchor_lowres_quant",
               "lowres_reference", "lowres_backprojection", "motion_block_px", "gop", "control")
#: the diffusion codecs whose stream ``lowres`` sends for the same settings: cvsc and reuse (anchors and
#: motion-predicted deltas), full and oneshot (every frame intra: ``gop=1``). anchor_residual sends no motion
#: and content_motion its own groups, so they have no no-generation row
SAME_STREAM = ("cvsc", "reuse", "full", "oneshot")
#: quality columns of the gain over the reference: (metric, sign of "better")
GAIN = (("psnr", 1), ("ssim", 1), ("lpips", -1), ("dists", -1))


def dev_photo() -> np.ndarray:
    import matplotlib.cbook as cbook
    import matplotlib.image as mpimg
    return mpimg.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def dev_clip(side: int, seconds: float) -> list:
    """The real-content dev clip at ``side`` px."""
    spec = VideoSpec(seconds=seconds, fps=15, resolution=side, camera="mixed", motion_px=1.5 * side / 64,
                     cuts_s=[round(seconds / 3, 2), round(2 * seconds / 3, 2)])
    return photo_source(dev_photo(), spec, seed=0).read_all()


def procedural_clips(side: int, seconds: float, n: int, seed0: int = HELD_OUT_SEED0, **extra) -> list[list]:
    video = VideoSpec(seconds=seconds, fps=15, resolution=side, motion_px=2 * side / 64, camera="pan", **extra)
    return [open_source(video, seed0 + k).read_all() for k in range(n)]


def at_rate(ladder: list[dict], kbps: float) -> tuple[dict, bool]:
    """PSNR/SSIM of a classic codec at ``kbps``: linear in log-rate between the ladder's achieved
    points; below its lowest point that point and True (the classic codec cannot go that low)."""
    pts = sorted(ladder, key=lambda r: r["kbps"])
    if kbps < pts[0]["kbps"]:
        return pts[0], True
    if kbps >= pts[-1]["kbps"]:
        return pts[-1], False
    x = np.log([p["kbps"] for p in pts])
    return {k: float(np.interp(np.log(kbps), x, [p[k] for p in pts])) for k in ("psnr", "ssim")}, False


def run_codec(spec: CodecSpec, side: int, clips: list[list], perceptual: tuple[str, ...] = ()) -> dict:
    """Rate, work, decode time and quality of ``spec`` over ``clips``; ``perceptual``: also these of
    ``lpips``, ``dists``, ``vmaf`` (VMAF over each clip as a sequence)."""
    video = VideoSpec(seconds=len(clips[0]) / 15, fps=15, resolution=side)
    codec = make_codec(spec, video)
    nbytes, evals, ms, ps, ss, n = 0, 0, 0.0, [], [], 0
    extra: dict[str, list[float]] = {m: [] for m in perceptual}
    for k, frames in enumerate(clips):
        enc, dec = codec.encoder(k), codec.decoder(k)
        efs = [ef for f in frames for ef in enc.encode(f, [])]
        efs += enc.flush() if hasattr(enc, "flush") else []
        refs, imgs = [], []
        for ef in efs:
            t0 = time.perf_counter()
            d = dec.decode(ef, dec.plan(ef, True, None))
            ms += (time.perf_counter() - t0) * 1e3
            nbytes += ef.nbytes
            evals += d.unet_evals
            ref, img = to_uint8(frames[ef.frame].rgb)[None], to_uint8(d.image)[None]
            ps.append(float(psnr_db(ref, img)[0]))
            ss.append(float(ssim(ref, img)[0]))
            refs.append(ref[0])
            imgs.append(img[0])
            n += 1
        for m in perceptual:
            extra[m] += perceptual_scores(m, np.stack(refs), np.stack(imgs)).tolist()
    out = {"kbps": nbytes * 8 / 1e3 / (n / 15), "evals": evals / n, "ms": ms / n,
           "psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}
    out.update({m: float(np.mean(v)) for m, v in extra.items()})
    return out


def perceptual_scores(metric: str, ref: np.ndarray, img: np.ndarray) -> np.ndarray:
    """Per-frame ``metric`` of one clip in decode order (``[T, H, W, 3]`` uint8 each)."""
    if metric == "vmaf":
        w = VmafWriter()
        for k in range(len(ref)):
            w.add(k, ref[k], img[k])
        return w.close()[1]
    fn = {"lpips": lpips, "dists": dists}[metric]
    return np.concatenate([fn(ref[s:s + 16], img[s:s + 16]) for s in range(0, len(ref), 16)])


def label(name: str, kw: dict) -> str:
    return name + "".join(f" {k}={v}" for k, v in kw.items())


def rows_for(side: int, quick: bool, has_labels: bool) -> list[tuple[str, dict]]:
    rows = [("cvsc", {}), ("oneshot", {}), ("content_motion", {})]
    if quick:
        return rows
    if side == 64:
        rows += [("full", {}), ("cvsc", dict(lowres_factor=4)), ("cvsc", dict(lowres_factor=8)),
                 ("cvsc", dict(lowres_quant=16)), ("cvsc", dict(lowres="anchors")),
                 ("cvsc", dict(structure="all")), ("cvsc", dict(strength=0.5)), ("cvsc", dict(lowres_backprojection=0)),
                 ("reuse", {}), ("anchor_residual", {}), ("content_motion", dict(lowres_factor=2))]
        if has_labels:
            rows += [("cvsc", dict(lowres="off")), ("full", dict(lowres="off"))]
    elif side == 128:
        rows += [("cvsc", dict(lowres_factor=8)), ("reuse", {}), ("anchor_residual", {})]
    return rows


def ladder_kbps(side: int) -> list[float]:
    return [round(k * (side / 64) ** 1.5, 1) for k in LADDER_KBPS]


def quality_table(title: str, side: int, clips: list[list], rows, weights, bd: bool = False) -> None:
    print(f"\n== {title}, {side}x{side} px, {len(clips)} clip(s) x {len(clips[0]) / 15:g} s, 15 fps ==")
    ladders = {n: [run_codec(CodecSpec(name=n, bitrate_kbps=kb), side, clips, ("lpips", "dists", "vmaf"))
                   for kb in ladder_kbps(side)] for n in CLASSIC}
    print(f"{'codec':<44}{'kbps':>7}{'evals/fr':>9}{'ms/fr':>8}{'PSNR dB':>9}{'SSIM':>7}{'LPIPS':>7}{'DISTS':>7}"
          f"{'VMAF':>7}" + "".join(f"{'dPSNR ' + n:>12}{'dSSIM ' + n:>12}" for n in CLASSIC)
          + "".join(f"{'d' + m.upper() + ' low':>12}" for m, _ in GAIN))
    references: dict[tuple, dict | None] = {}
    for name, kw in rows:
        try:
            r = run_codec(CodecSpec(name=name, weights=weights, **kw), side, clips, PERCEPTUAL)
        except ValueError as e:  # e.g. labels only on a source without labels
            print(f"{label(name, kw):<44}  (not applicable: {e})")
            continue
        ref = no_generation_reference(name, kw, side, clips, references)
        print(row_line(label(name, kw), r, ladders, ref))
    for n, lad in ladders.items():
        print(f"{n} ladder (target -> kbps / PSNR / SSIM / LPIPS / VMAF): " + ", ".join(
            f"{kb:g} -> {r['kbps']:.1f} / {r['psnr']:.2f} / {r['ssim']:.3f} / {r['lpips']:.3f} / {r['vmaf']:.1f}"
            for kb, r in zip(ladder_kbps(side), lad)))
    if bd:
        bd_table(side, clips, ladders, weights)


def row_line(text: str, r: dict, ladders: dict, ref: dict | None) -> str:
    """One table row: the codec's own columns, its difference to the classic codecs at its rate and to
    its no-generation reference ``ref`` (blank without one)."""
    cells = ""
    for n in CLASSIC:
        at, below = at_rate(ladders[n], r["kbps"])
        mark = "*" if below else " "
        cells += f"{r['psnr'] - at['psnr']:>+11.2f}{mark}{r['ssim'] - at['ssim']:>+11.3f}{mark}"
    if ref is not None:
        cells += "".join(f"{r[m] - ref[m]:>+12.{2 if m == 'psnr' else 3}f}" for m, _ in GAIN)
    return own_columns(text, r) + cells


def own_columns(text: str, r: dict) -> str:
    return (f"{text:<44}{r['kbps']:>7.1f}{r['evals']:>9.2f}{r['ms']:>8.1f}{r['psnr']:>9.2f}"
            f"{r['ssim']:>7.3f}{r['lpips']:>7.3f}{r['dists']:>7.3f}{r['vmaf']:>7.1f}")


def no_generation_stream(name: str, kw: dict | None = None) -> dict | None:
    """The settings of a ``lowres`` codec that sends the low-res and motion stream of diffusion row
    ``name, kw`` (only those differing from lowres's own defaults, so that lowres resolves the rest as the
    row's codec did; ``gop=1`` for an intra-only codec), or None for a codec not in :data:`SAME_STREAM`
    or one that sends no low-res frame."""
    kw = kw or {}
    if name not in SAME_STREAM or kw.get("lowres") == "off":
        return None
    spec, own = CodecSpec(name=name, **kw), CodecSpec(name="lowres")
    ref_kw = {k: getattr(spec, k) for k in LOWRES_KEYS}
    if codec_class(name).intra_only:
        ref_kw["gop"] = 1
    return {k: v for k, v in ref_kw.items() if getattr(own, k) != v}


def no_generation_reference(name: str, kw: dict, side: int, clips: list[list], cache: dict) -> dict | None:
    """The ``lowres`` codec sending the stream of diffusion row ``name, kw`` (:func:`no_generation_stream`;
    None where there is none); printed as a row of its own the first time it is run, labelled with the
    settings where they differ from lowres's defaults."""
    shown = no_generation_stream(name, kw)
    if shown is None:
        return None
    key = tuple(sorted(shown.items()))
    if key not in cache:
        cache[key] = run_codec(CodecSpec(name="lowres", **shown), side, clips, PERCEPTUAL)
        text = f"lowres intra ({name}'s)" if shown.get("gop") == 1 else label("lowres", shown)
        print(own_columns(text + " (no generation)", cache[key]))
    return cache[key]


#: codecs run over the low-res quantiser ladder for BD-rate, and the anchors they are compared with
BD_CODECS = ("cvsc", "content_motion", "lowres")
BD_ANCHORS = CLASSIC + ("lowres",)


def bd_table(side: int, clips: list[list], ladders: dict, weights) -> None:
    """BD-rate (PCHIP) of cvsc, content_motion and lowres over their low-res quantiser ladder against
    H.264, H.265 and lowres (the same stream without generation: what generation saves)."""
    from gsvc.analysis.rd import bd_rate
    import pandas as pd
    rows = []
    for n, lad in ladders.items():
        rows += [{"codec.name": n, "point": k, "seed": 0, "bitrate_kbps": r["kbps"], **_bd_metrics(r)}
                 for k, r in enumerate(lad)]
    for name in BD_CODECS:
        for q in BD_QUANTS:
            r = run_codec(CodecSpec(name=name, weights=weights, lowres_quant=q), side, clips,
                          ("lpips", "dists", "vmaf"))
            rows.append({"codec.name": name, "point": q, "seed": 0, "bitrate_kbps": r["kbps"], **_bd_metrics(r)})
    s = pd.DataFrame(rows)
    print(f"BD-rate % (PCHIP) over codec.lowres_quant in {BD_QUANTS}; negative: fewer bits than the anchor "
          "for the same quality (LPIPS, DISTS: for the same distance); ~: the quality ranges overlap by less "
          "than 75 %; n/a: fewer than two points")
    print(f"{'anchor':<10}{'codec':<16}" + "".join(f"{m:>10}" for m in _BD))
    for a in BD_ANCHORS:
        for name in BD_CODECS:
            if name == a:
                continue
            cells = ""
            for m in _BD:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    v = bd_rate(s[s["codec.name"].isin([name, a])], anchor=a, metric=m, keys=["point"]).get(name)
                low = "~" if any("overlap" in str(w.message) for w in caught) else " "
                cells += f"{v:>+9.1f}{low}" if v is not None and np.isfinite(v) else f"{'n/a':>10}"
            print(f"{a:<10}{name:<16}" + cells)


_BD = ("psnr", "ssim", "vmaf", "lpips", "dists")


def _bd_metrics(r: dict) -> dict:
    return {f"{m}_mean": r[m] for m in _BD}


def classic_before_after(clips: dict[str, list[list]]) -> None:
    """gsvc 0.1's classic settings (VBV of 3 frame intervals, keyframe every 15 frames) against the
    real-time ones (1 s VBV, keyframe at the start only), at 64 px."""
    print("\n== classic baselines before / after the real-time settings, 64 px: kbps / PSNR / SSIM "
          "(and the first keyframe: bytes / PSNR) ==")
    print(f"{'clip':<12}{'codec':<6}{'target':>7}  {'before':>40}  {'after':>40}")
    saved = classic.VBV_S
    for clip_name, cl in clips.items():
        for n in CLASSIC:
            for kb in (16, 32, 64):
                cells = []
                for vbv_s, key_s in ((3 / 15, 1.0), (saved, CodecSpec().keyframe_s)):
                    classic.VBV_S = vbv_s
                    r = run_codec(CodecSpec(name=n, bitrate_kbps=kb, keyframe_s=key_s), 64, cl)
                    codec = make_codec(CodecSpec(name=n, bitrate_kbps=kb, keyframe_s=key_s),
                                       VideoSpec(seconds=1, fps=15, resolution=64))
                    ef = codec.encoder(0).encode(cl[0][0], [])[0]
                    img = codec.decoder(0).decode(ef, codec.decoder(0).plan(ef, True, None)).image
                    first = float(psnr_db(to_uint8(cl[0][0].rgb)[None], to_uint8(img)[None])[0])
                    cells.append(f"{r['kbps']:.1f} / {r['psnr']:.2f} / {r['ssim']:.3f} ({ef.nbytes} B/{first:.1f})")
                classic.VBV_S = saved
                print(f"{clip_name:<12}{n:<6}{kb:>7}  {cells[0]:>40}  {cells[1]:>40}")


def stress_table(a, weights) -> None:
    """PSNR and evaluations per frame on smooth, cut and large-motion procedural clips, 64 px."""
    stress = {"smooth (pan 1 px/frame)": dict(camera="pan", motion_px=1.0),
              "scene cut mid-clip": dict(camera="pan", motion_px=1.0, cuts_s=[round(a.seconds / 2, 2)]),
              "large motion (shake 8 px/frame)": dict(camera="shake", motion_px=8.0)}
    rows = [("lowres", {}), ("lowres", dict(control="adaptive")), ("full", {}), ("oneshot", {}), ("cvsc", {}),
            ("cvsc", dict(control="adaptive")), ("reuse", {}), ("anchor_residual", {}), ("content_motion", {})]
    print(f"\n== stress clips, 64 px ({a.clips} held-out clips x {a.seconds:g} s each): PSNR dB / evaluations per frame ==")
    print(f"{'codec':<34}" + "".join(f"{c:>34}" for c in stress))
    for name, kw in rows:
        cells = []
        for extra in stress.values():
            video = VideoSpec(seconds=a.seconds, fps=15, resolution=64, **extra)
            clips = [open_source(video, HELD_OUT_SEED0 + 100 + k).read_all() for k in range(a.clips)]
            r = run_codec(CodecSpec(name=name, weights=weights, **kw), 64, clips)
            cells.append(f"{r['psnr']:.2f} / {r['evals']:.2f}")
        print(f"{label(name, kw):<34}" + "".join(f"{c:>34}" for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sides", default="64,128,256")
    ap.add_argument("--clips", type=int, default=2, help="held-out procedural clips per table")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--quick", action="store_true", help="64 px, short clips, three rows")
    ap.add_argument("--weights", default=None, help="denoiser weights (default: the shipped ones)")
    a = ap.parse_args()
    sides = [int(s) for s in a.sides.split(",")]
    if a.quick:
        sides, a.clips, a.seconds = [64], 1, 1.0
    d = CodecSpec()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads. Defaults: steps={d.steps} strength={d.strength} gop={d.gop} "
          f"semantic={d.semantic} lowres={d.lowres} lowres_factor={d.lowres_factor} lowres_quant={d.lowres_quant} "
          f"structure={d.structure}; classic keyframe_s={d.keyframe_s}, VBV {classic.VBV_S:g} s")
    t0 = time.perf_counter()
    for side in sides:
        bd = side == 64  # BD-rate ladders at 64 px (each costs eight more semantic-codec runs)
        quality_table("dev clip: camera over grace_hopper.jpg (real content, no labels)", side,
                      [dev_clip(side, a.seconds)], rows_for(side, a.quick, False), a.weights, bd)
        quality_table("held-out procedural clips (true labels)", side, procedural_clips(side, a.seconds, a.clips),
                      rows_for(side, a.quick, True), a.weights, bd)
    print("dPSNR/dSSIM: the row minus the classic codec at the same kbps (interpolated in log-rate); "
          "* = the row's rate is below the lowest the classic codec reached, compared with that lowest point. "
          "d<metric> low: the row minus its no-generation reference (the lowres row of the same low-res settings; "
          "LPIPS, DISTS: negative is better).")
    if not a.quick:
        classic_before_after({"dev": [dev_clip(64, a.seconds)], "procedural": procedural_clips(64, a.seconds, a.clips)})
        stress_table(a, a.weights)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
