"""Why the low-res frame has a coder of its own: it against H.264 / H.265 of the same low-res stream.

The diffusion codecs send the frame at ``1/k`` of its side next to (or instead of) semantics.
Two ways to code that stream were measured on the same frames:

* gsvc's own coder (:mod:`gsvc.codecs.lowres`, as the ``lowres`` codec's encoder runs it): 4x4 DCT,
  one quantiser step, anchors intra, deltas predicted from the anchor's low-res frame moved by the
  transmitted motion (``own``; the motion's bytes are not counted here: the diffusion codecs send
  them anyway), or per delta from that or the previous frame's low-res frame moved by a coarse
  step motion, whichever costs less (``own best``, ``codec.lowres_reference="best"``, the step
  motion's bytes counted);
* libx264 / libx265 through PyAV on the low-res frames themselves, with gsvc's real-time
  settings (:mod:`gsvc.codecs.classic`: zero latency, 1 s VBV, one keyframe), over a ladder of rates.

Printed: bytes per frame and PSNR of the decoded low-res frame against the original low-res
frame, per factor, for the dev clip (camera over ``grace_hopper.jpg``) and a procedural clip;
and, for the own coder, the H.264 PSNR interpolated at its rate.

    python benchmarks/bench_lowres.py [--seconds 3]
"""
from __future__ import annotations

import argparse
import platform
from types import SimpleNamespace

import av
import numpy as np

from gsvc.codecs.classic import H264Codec, H265Codec
from gsvc.codecs.lowres import downsample
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.video import VideoSpec
from gsvc.video.quality import psnr_db, to_uint8

from bench_codecs import dev_clip, procedural_clips  # noqa: E402  (run from benchmarks/)

GOP = 15


def own(frames, factor: int, quant: int, reference: str = "anchor") -> tuple[float, float]:
    """Mean bytes per frame (low-res and step sections) and PSNR dB of gsvc's low-res coder, an anchor
    every GOP frames, deltas predicted as ``codec.lowres_reference`` says."""
    spec = CodecSpec(name="lowres", gop=GOP, lowres_factor=factor, anchor_lowres_factor=factor, lowres_quant=quant,
                     anchor_lowres_quant=quant, lowres_reference=reference)
    enc = make_codec(spec, VideoSpec(resolution=frames[0].rgb.shape[0], fps=15, labels="none")).encoder(0)
    nbytes, ps = 0, []
    for f in frames:
        (ef,) = enc.encode(f, [])
        recon = enc.cond.anchor_parts.lowres if ef.kind == "anchor" else enc.cond.delta_lowres
        nbytes += len(ef.sections["lowres"]) + len(ef.sections.get("step", b""))
        ps.append(psnr_db(to_uint8(downsample(np.asarray(f.rgb, np.float32), factor))[None], to_uint8(recon)[None])[0])
    return nbytes / len(frames), float(np.mean(ps))


def classic(cls, frames, factor: int, kbps: float) -> tuple[float, float]:
    small = [downsample(np.asarray(f.rgb, np.float32), factor) for f in frames]
    n = small[0].shape[0]
    codec = cls(CodecSpec(name=cls.name, bitrate_kbps=kbps), SimpleNamespace(resolution=n, fps=15))
    enc, dec = codec.encoder(0), codec.decoder(0)
    nbytes, ps = 0, []
    for i, s in enumerate(small):
        (ef,) = enc.encode(SimpleNamespace(rgb=s, index=i, scene_cut=False), [])
        out = dec.decode(ef, dec.plan(ef, True, None))
        nbytes += ef.nbytes
        ps.append(psnr_db(to_uint8(s)[None], to_uint8(out.image)[None])[0])
    return nbytes / len(frames), float(np.mean(ps))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}; 64 px frames, 15 fps, {a.seconds:g} s; "
          f"own coder: anchor every {GOP} frames, deltas predicted from the moved anchor (own) or, whichever "
          f"costs less, from it or the previous frame (own best)")
    clips = {"dev (grace_hopper)": dev_clip(64, a.seconds), "procedural": procedural_clips(64, a.seconds, 1)[0]}
    for name, frames in clips.items():
        for factor in (2, 4, 8):
            print(f"\n{name}, factor {factor} ({64 // factor}x{64 // factor} px): bytes/frame and PSNR dB")
            ladders = {}
            for cls in (H264Codec, H265Codec):
                try:
                    pts = [classic(cls, frames, factor, kb) for kb in (2, 4, 8, 16, 32, 64)]
                except av.FFmpegError as e:  # x265 opens no picture this small
                    print(f"  {cls.name:<6} cannot code {64 // factor}x{64 // factor} px frames ({type(e).__name__})")
                    continue
                ladders[cls.name] = pts
                print(f"  {cls.name:<6} " + ", ".join(f"{b:.0f} B / {p:.1f}" for b, p in pts))
            for quant, reference in ((q, r) for r in ("anchor", "best") for q in (4, 8, 16, 32)):
                b, p = own(frames, factor, quant, reference)
                cells = []
                for n, pts in ladders.items():
                    pts = sorted(pts)
                    x = [q[0] for q in pts]
                    if b < x[0]:
                        cells.append(f"{n} <min ({x[0]:.0f} B)")
                    else:
                        cells.append(f"{n} at same bytes {np.interp(b, x, [q[1] for q in pts]):.1f}")
                label = "own" if reference == "anchor" else "own best"
                print(f"  {label:<8} q={quant:<3} {b:.0f} B / {p:.1f}   " + "; ".join(cells))


if __name__ == "__main__":
    main()
