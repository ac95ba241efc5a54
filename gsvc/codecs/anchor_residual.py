"""``anchor_residual``: WVSC-D. One anchor per group of ``codec.gop`` frames; every other
frame sends, instead of motion, a quantised low-resolution residual against the anchor
(16x16, 4 bits, arithmetic-coded) and its conditions coded against the anchor's, unmoved
(labels; the low-res frame and structure map when ``codec.lowres`` / ``codec.structure`` is
``"all"``). The receiver
generates the anchor from a *base noise* shared by the whole group; a frame starts
from the anchor reconstruction plus its upsampled residual, noised to
``codec.strength`` with the base noise mixed with a little per-frame residual noise
(``sqrt(1 - l^2) * base + l * own``, l = 0.3), so the anchor's structure is kept and
each frame's changes are restored in the last ``ceil(strength * steps)`` steps. With a latent
back-end the base noise is a latent shared by the group, and a delta's start (anchor +
residual) is VAE-encoded."""
from __future__ import annotations

import struct

import numpy as np
from scipy.ndimage import zoom as nd_zoom

from .base import DecodePlan, EncodedFrame
from .control.confidence import reference_confidence
from .conditions import parse_conditions
from .diffusion import DiffusionCodec, DiffusionDecoder, DiffusionEncoder, frame_generator
from .entropy import checksum, decode_residuals, encode_residuals
from .sampler import sample, start_index

RESIDUAL_PX = 16      # side of the transmitted residual
RESIDUAL_LEVELS = 15  # 4-bit symmetric quantiser over [-RANGE, RANGE]
RESIDUAL_RANGE = 0.5
OWN_NOISE = 0.3


def encode_residual(cur: np.ndarray, anchor: np.ndarray) -> bytes:
    """``[H, W, 3]`` frames -> bytes of their block-mean difference at ``RESIDUAL_PX``."""
    h = cur.shape[0]
    f = h // RESIDUAL_PX
    diff = (cur - anchor)[:f * RESIDUAL_PX, :f * RESIDUAL_PX].reshape(RESIDUAL_PX, f, RESIDUAL_PX, f, 3).mean((1, 3))
    half = RESIDUAL_LEVELS // 2
    q = np.clip(np.round(diff / RESIDUAL_RANGE * half), -half, half).astype(np.int8)
    return struct.pack("<BH", RESIDUAL_PX, checksum(q)) + encode_residuals(q)


def decode_residual(data: bytes, side_px: int) -> np.ndarray:
    if len(data) < 3 or data[0] == 0:
        raise ValueError("residual section too short")
    n, crc = struct.unpack("<BH", data[:3])
    half = RESIDUAL_LEVELS // 2
    q = decode_residuals(data[3:], n * n * 3)
    if np.abs(q).max() > half or checksum(q.astype(np.int8)) != crc:
        raise ValueError("residual section corrupt (checksum mismatch)")
    small = q.reshape(n, n, 3).astype(np.float32) / half * RESIDUAL_RANGE
    return nd_zoom(small, (side_px / n, side_px / n, 1), order=1, mode="nearest", grid_mode=True)


class AnchorResidualEncoder(DiffusionEncoder):
    def _delta(self, frame, rgb, change):
        self.since_anchor += 1
        rbytes = encode_residual(rgb, self.ref_rgb)
        sections = {"residual": rbytes, **self.cond.delta(frame, rgb, None)}
        distance = float(np.sqrt(np.mean((rgb - self.ref_rgb) ** 2)))
        refs, meta = (frame.index - self.since_anchor,), {"distance_rms": distance}
        if change is None:
            return EncodedFrame(frame.index, "delta", sections, refs, frame.scene_cut, meta=meta)
        predicted = np.clip(self.ref_rgb + decode_residual(rbytes, rgb.shape[0]), 0, 1)
        conf = reference_confidence(predicted, self.cond.anchor_parts.labels, rgb, frame.labels)
        if self.control.drifted(conf):
            return self._anchor(frame, rgb, change, drift=True)
        sections["control"] = self.control.delta_section(change, conf)
        return EncodedFrame(frame.index, "delta", sections, refs, False, meta=meta)


class AnchorResidualDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        n = self.spec.steps
        if ef.kind == "anchor":
            return DecodePlan("generate", n, n)
        k = n - start_index(n, self.spec.strength)
        return DecodePlan("residual", k, k, strength=self.spec.strength)

    def _parse(self, ef):
        if ef.kind == "anchor":
            return super()._parse(ef)
        side = self.codec.video.resolution
        out = parse_conditions(ef.sections, self.ref_parts, None, side)
        out["ref"] = np.clip(self.ref_image + decode_residual(ef.sections["residual"], side), 0, 1).astype(np.float32)
        return out

    def vae_encodes_needed(self, ef, plan) -> int:
        return int(ef.kind == "delta")  # the anchor + residual image is taken into latent space

    def _noise(self, ef, shape):
        """Group base noise mixed with this frame's own noise."""
        import torch
        base = torch.randn(shape, generator=frame_generator(self.seed, self.ref_frame if ef.kind == "delta" else ef.frame))
        if ef.kind == "anchor":
            return base
        own = torch.randn(shape, generator=frame_generator(self.seed, ef.frame))
        return (1 - OWN_NOISE**2) ** 0.5 * base + OWN_NOISE * own

    def generate(self, ef, plan, parsed):
        import torch
        den = self.codec.denoiser
        n = plan.steps if ef.kind == "anchor" else self.spec.steps  # anchors: fewer under adaptive control
        ref = parsed.get("ref")
        side = self.codec.video.resolution
        cond = self.condition(parsed, ref)
        noise = self._noise(ef, (1, *den.latent_shape(side)))              # the group's base noise (+ own)
        sched = den.make_scheduler(self.spec.sampler)
        sched.set_timesteps(n)
        if ef.kind == "anchor":
            start = (0, noise * sched.init_noise_sigma)
        else:
            i0 = start_index(n, plan.strength)
            start = (i0, sched.add_noise(den.to_model(ref[None]), noise, sched.timesteps[i0:i0 + 1]))
        res = sample(den, cond, n, cached=start, generator=torch.Generator().manual_seed(0), sampler=self.spec.sampler)
        self.last_x = res.x0
        return den.to_image(res.x0)[0]


class AnchorResidualCodec(DiffusionCodec):
    name = "anchor_residual"
    capabilities = DiffusionCodec.capabilities | {"reference"}
    decoder_cls = AnchorResidualDecoder

    def encoder(self, stream_seed):
        return AnchorResidualEncoder(self)
