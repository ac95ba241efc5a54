"""SD-1.5 CVSC at 512 px on an RTX 4090 over a 5G TDL-C link: how many steps fit a 100 ms deadline?

What is real and what is a published profile:

* real: the sender (cvsc: motion, labels, low-res frame, arithmetic-coded bytes), the 5G link
  (Sionna TDL-C fading, OLLA, HARQ at 10 dB SNR, 10 MHz), the jitter buffer (fixed 100 ms
  playout), the GPU queue, and the images: the shipped 1.7 M-parameter pixel-space denoiser
  runs every evaluation on this CPU at ``--resolution`` px (64 by default; it serves 64-256
  px), and what it makes is scored (PSNR).
* published: the decode TIME. Every decode takes what SD-1.5 takes at 512x512 on an RTX 4090
  per the shipped ``sd15-rtx4090`` profile (diffusers' torch.compile benchmark: 11.2 ms per
  UNet evaluation at batch 1, plus a VAE decode per image derived from an A100 measurement),
  served for the smaller frames (``receiver.timed_as_px=512``). So the latency columns are
  those of an SD-1.5 receiver on a 4090; the quality column is the shipped model's at its own
  resolution, not SD-1.5's.

``codec.steps`` is swept; a cvsc delta frame runs the last ``ceil(0.3 * steps)`` of them from
the motion-warped reference, an anchor (every 15 frames) runs all of them. Two limits meet: a
frame must be on screen 100 ms after capture, and at 15 fps one GPU must finish a frame every
66.7 ms or its queue grows; the VAE decode per frame (47 ms in the profile, derived rather than
published for a 4090; see its ``sources``) takes most of that.

    python examples/sd15_cvsc_rtx4090.py [--seconds 4] [--steps 2,4,6,8,10,12,16,20] [--resolution 64]
"""
from __future__ import annotations

import argparse

import gsvc
from gsvc.timing import load_profile
from gsvc.scenarios.presets import get_preset

DEADLINE_MS = 100.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--steps", default="2,4,6,8,10,12,16,20", help="codec.steps values")
    ap.add_argument("--resolution", type=int, default=64, help="px of the frames the shipped model makes")
    ap.add_argument("--gpu-profile", default="sd15-rtx4090", help="published profile that times the decodes")
    a = ap.parse_args()

    base = get_preset("pedestrian-urban").updated({
        "name": "sd15-cvsc-rtx4090", "video.seconds": a.seconds, "video.resolution": a.resolution,
        "link.trace_s": max(a.seconds, 0.1), "codec.name": "cvsc", "jitter.mode": "fixed",
        "jitter.delay_ms": DEADLINE_MS, "receiver.latency": f"profile:{a.gpu_profile}",
        "receiver.timed_as_px": 512, "receiver.decode": "real"})
    profile = load_profile(a.gpu_profile).timed_as(a.resolution, 512)  # what the receiver is timed with
    print(f"timing: {profile.device}, {profile.eval_time_ms(a.resolution, 1):.1f} ms per evaluation + "
          f"{profile.vae_decode_time_ms(a.resolution):.1f} ms VAE decode per frame (derived) (SD-1.5 at 512 px, "
          f"published profile {a.gpu_profile}); images: the shipped model at {a.resolution} px on this CPU")
    print(f"channel {base.channel.model} at {base.channel.snr_db:.0f} dB, {base.link.bandwidth_mhz:.0f} MHz; "
          f"playout {DEADLINE_MS:.0f} ms after capture\n")
    print(f"{'steps':>5} {'evals/frame':>11} {'p95 ms':>8} {'miss rate':>9} {'skipped':>8} {'on time':>8} "
          f"{'PSNR dB':>8}  fits")
    for steps in (int(s) for s in a.steps.split(",")):
        s = gsvc.run(base.updated({"codec.steps": steps})).summary
        on_time = s["shown"] / s["frames"]
        psnr = "n/a" if s["psnr_db_mean"] is None else f"{s['psnr_db_mean']:.2f}"
        print(f"{steps:>5} {s['unet_evals_per_frame']:>11.2f} {s['latency_ms_p95']:>8.1f} "
              f"{s['deadline_miss_rate']:>9.3f} {s['skipped'] / s['frames']:>8.3f} {on_time:>8.3f} {psnr:>8}  "
              f"{'yes' if on_time >= 0.95 else 'no'}")
    print("\nmiss rate: frames shown after their playout; skipped: frames the receiver did not decode because they "
          "would have been late (receiver.shed='on'; the previous picture stays on screen); fits: at least 95 % of "
          "frames decoded and shown on time.\nLatency = SD-1.5 on an RTX 4090 (published profile); PSNR = the "
          "shipped model's frames at their own resolution, not SD-1.5's.")


if __name__ == "__main__":
    main()
