"""``synthetic``: a timing-only stand-in codec for network-scale studies.

It does not look at pixels and produces no images. Each frame is a payload of
random bytes whose size follows the target bitrate (anchors ``anchor_ratio`` times
larger than deltas, one anchor per ``gop`` frames and after every reported loss),
and each decode plans ``steps`` denoiser evaluations so that a latency profile gives
its service time. Use it for large timing sweeps; runs with it report no quality.
"""
from __future__ import annotations

import random
from typing import Sequence

import numpy as np

from .base import DecodePlan, Decoded, EncodedFrame, Feedback, answers

__all__ = ["SyntheticCodec"]


class SyntheticCodec:
    name = "synthetic"
    group_frames = 1
    uses_pixels = False
    makes_images = False
    capabilities = frozenset({"rate"})

    def __init__(self, codec_spec, video_spec):
        self.spec, self.fps = codec_spec, video_spec.fps
        self.delta_bytes, self.anchor_bytes = self.sizes(codec_spec.rate_kbps)

    def sizes(self, kbps: float) -> tuple[int, int]:
        """Bytes of a delta and of an anchor at ``kbps`` (one anchor per ``gop`` frames)."""
        per_frame_bytes = kbps * 1e3 / 8 / self.fps
        g, r = self.spec.gop, self.spec.anchor_ratio
        delta = max(1, int(round(per_frame_bytes * g / (g - 1 + r))))
        return delta, max(1, int(round(delta * r)))

    def encoder(self, stream_seed: int) -> "_Encoder":
        return _Encoder(self, np.random.default_rng(stream_seed))

    def decoder(self, stream_seed: int) -> "_Decoder":
        return _Decoder(self.spec.steps)


class _Encoder:
    def __init__(self, codec: SyntheticCodec, rng: np.random.Generator):
        self.codec, self.since_anchor = codec, None
        self.delta_bytes, self.anchor_bytes = codec.delta_bytes, codec.anchor_bytes
        self.last_index = -1
        self.last_anchor = -1  # index of the last anchor sent
        # Random.randbytes (own instance, seeded from the stream's generator) costs a tenth of
        # Generator.bytes per call, which matters at ~1e5 frames per wall second
        self._randbytes = random.Random(int(rng.integers(2**63))).randbytes

    def set_target_kbps(self, kbps: float) -> None:
        """Rate control: payload sizes for ``kbps`` from the next frame on."""
        self.delta_bytes, self.anchor_bytes = self.codec.sizes(kbps)

    def encode(self, frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]:
        c = self.codec
        anchor = self.since_anchor is None or self.since_anchor + 1 >= c.spec.gop or answers(feedback, self.last_anchor)
        self.since_anchor = 0 if anchor else self.since_anchor + 1
        if anchor:
            self.last_anchor = frame.index
        n = self.anchor_bytes if anchor else self.delta_bytes
        kind = "anchor" if anchor else "delta"
        refs = () if anchor else (self.last_index,)  # the last frame encoded (the sender may drop some)
        self.last_index = frame.index
        return [EncodedFrame(frame.index, kind, {"payload": self._randbytes(n)}, refs, frame.scene_cut)]


class _Decoder:
    """Each delta needs the frame before it (as in a classic P-chain)."""

    def __init__(self, steps: int):
        self.steps = steps
        # plans are immutable and the same for every frame: built once, not once per frame
        self._generate, self._conceal = DecodePlan("generate", steps, steps), DecodePlan("conceal")
        self.broken = False  # load shedding dropped the chain; deltas wait for an anchor

    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan:
        if self.broken:
            if ef.kind == "delta" or not complete:
                return self._conceal
            self.broken = False
        return self._generate if complete else self._conceal

    def shed(self, ef: EncodedFrame, plan: DecodePlan, budget_ms: float, arrived_late: bool) -> str | None:
        """Load shedding, as the classic codecs do it: a late frame is decoded if it arrived late
        or can start before its deadline (the next delta needs it); one the receiver held past
        its deadline makes the chain drop and an anchor be asked for. Concealments are skipped."""
        if plan.path != "conceal" and (budget_ms >= 0 or arrived_late):
            return None
        if plan.path != "conceal":
            self.broken = True
        return "resync" if self.broken else "late"

    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        return Decoded(None, plan.steps, plan.unet_evals, anchor=ef.kind == "anchor")
