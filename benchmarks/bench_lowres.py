"""Why the low-res frame has a coder of its own: it against H.264 / H.265 of the same low-res stream.

The diffusion codecs send the frame at ``1/k`` of its side next to (or instead of) semantics.
Two ways to code that stream were measured on the same frames:

* gsvc's own coder (:mod:`gsvc.codecs.lowres`): 4x4 DCT, one quantiser step, anchors intra,
  deltas predicted from the anchor's low-res frame moved by the transmitted motion (the
  motion's bytes are not counted here: the diffusion codecs send them anyway);
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
from gsvc.codecs.lowres import downsample, encode_lowres, predict_lowres
from gsvc.codecs.motion import decode_motion, encode_motion, estimate_motion
from gsvc.codecs.spec import CodecSpec
from gsvc.video.quality import psnr_db, to_uint8

from bench_codecs import dev_clip, procedural_clips  # noqa: E402  (run from benchmarks/)

GOP = 15


def own(frames, factor: int, quant: int) -> tuple[float, float]:
    """Mean bytes per frame and PSNR dB of gsvc's low-res coder, an anchor every GOP frames."""
    nbytes, ps, anchor, anchor_rgb = 0, [], None, None
    side = frames[0].rgb.shape[0]
    for i, f in enumerate(frames):
        rgb = np.asarray(f.rgb, np.float32)
        if i % GOP == 0:
            data, recon = encode_lowres(rgb, factor, quant)
            anchor, anchor_rgb = recon, rgb
        else:
            m = decode_motion(encode_motion(estimate_motion(anchor_rgb, rgb)))
            data, recon = encode_lowres(rgb, factor, quant, predict_lowres(anchor, m, side))
        nbytes += len(data)
        ps.append(psnr_db(to_uint8(downsample(rgb, factor))[None], to_uint8(recon)[None])[0])
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
          f"own coder: anchor every {GOP} frames, deltas predicted from the moved anchor")
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
            for quant in (4, 8, 16, 32):
                b, p = own(frames, factor, quant)
                cells = []
                for n, pts in ladders.items():
                    pts = sorted(pts)
                    x = [q[0] for q in pts]
                    if b < x[0]:
                        cells.append(f"{n} <min ({x[0]:.0f} B)")
                    else:
                        cells.append(f"{n} at same bytes {np.interp(b, x, [q[1] for q in pts]):.1f}")
                print(f"  own q={quant:<3} {b:.0f} B / {p:.1f}   " + "; ".join(cells))


if __name__ == "__main__":
    main()
