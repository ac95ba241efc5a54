"""``xr``: the 3GPP XR / cloud-gaming video traffic model of TR 38.838, as a codec.

3GPP TR 38.838 V17.0.0 (2021-12), clause 5.1.1 (single-stream video model, Table 5.1.1.1-1), the
traffic every RAN1 XR capacity study uses:

- one frame (PDU set) every ``1 / F`` s, ``F = video.fps`` (60 by default for this codec);
- frame size: truncated Gaussian, mean ``R / F / 8`` bytes (``R = codec.bitrate_kbps``), standard
  deviation 10.5 % of the mean, truncated to [50 %, 150 %] of the mean (:data:`SIZE_STD_RATIO`,
  :data:`SIZE_RANGE`);
- arrival jitter: truncated Gaussian, mean 0, standard deviation 2 ms, range [-4, 4] ms
  (:data:`JITTER_STD_MS`, :data:`JITTER_BOUND_MS`).

Both draws truncate by resampling (the truncated law, not a clip to the bounds). The jitter is
relative to a nominal periodic time; gsvc puts that time :data:`JITTER_BOUND_MS` after the
encoder finishes, so a frame never reaches the radio before it was captured: the air delay, the
PDB test and the spacing of arrivals are the TR's, and end-to-end latency carries the 4 ms offset.
(One open implementation, 5G-LENA's ``traffic-generator-3gpp-generic-video.cc``, hands the
standard deviations to ns-3's ``NormalRandomVariable`` as *variances*; the tests here check the
moments.)

The payload is random bytes of that size; the decoder plans a classic (non-diffusion) decode, so
a latency profile times the receiver, and there is no image: runs with ``xr`` are timing-only and
report no quality.
"""
from __future__ import annotations

import random
from typing import Sequence

import numpy as np

from .base import DecodePlan, Decoded, EncodedFrame, Feedback

__all__ = ["XrCodec", "SIZE_STD_RATIO", "SIZE_RANGE", "JITTER_STD_MS", "JITTER_BOUND_MS", "DEFAULT_FPS"]

#: frame-size standard deviation over its mean (TR 38.838 Table 5.1.1.1-1)
SIZE_STD_RATIO = 0.105
#: frame-size truncation, fractions of the mean (TR 38.838 Table 5.1.1.1-1)
SIZE_RANGE = (0.5, 1.5)
#: arrival-jitter standard deviation, ms (TR 38.838 clause 5.1.1)
JITTER_STD_MS = 2.0
#: arrival jitter lies in [-JITTER_BOUND_MS, JITTER_BOUND_MS] ms (TR 38.838 clause 5.1.1)
JITTER_BOUND_MS = 4.0
#: frame rate of the TR's XR and cloud-gaming cases, the codec's default ``video.fps``
DEFAULT_FPS = 60


def truncated_normal(rng: np.random.Generator, mean: float, std: float, low: float, high: float, n: int) -> np.ndarray:
    """``n`` draws of a Gaussian ``(mean, std)`` conditioned on ``[low, high]`` (rejection: resample
    the draws that fall outside, so the law inside is the Gaussian's own)."""
    out = rng.normal(mean, std, n)
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < low) | (out > high)
    return out


class XrCodec:
    name = "xr"
    group_frames = 1
    uses_pixels = False
    makes_images = False
    capabilities = frozenset({"rate"})
    #: frames/s a scenario captures at unless its video.fps is given (read by Scenario)
    default_fps = DEFAULT_FPS

    def __init__(self, codec_spec, video_spec):
        self.spec, self.fps = codec_spec, video_spec.fps
        self.mean_bytes = self.mean_frame_bytes(codec_spec.rate_kbps)

    def mean_frame_bytes(self, kbps: float) -> float:
        """Mean frame size ``R / F / 8`` at ``kbps``, bytes."""
        return kbps * 1e3 / 8 / self.fps

    def encoder(self, stream_seed: int) -> "_Encoder":
        return _Encoder(self, np.random.default_rng(stream_seed))

    def decoder(self, stream_seed: int) -> "_Decoder":
        return _Decoder()


class _Encoder:
    """Draws each frame's size and arrival jitter from the stream's own generator, in blocks."""

    _BLOCK = 256

    def __init__(self, codec: XrCodec, rng: np.random.Generator):
        self.codec, self.rng = codec, rng
        self.mean_bytes = codec.mean_bytes
        self._randbytes = random.Random(int(rng.integers(2**63))).randbytes
        self._size_ratio: list[float] = []
        self._jitter_ms: list[float] = []

    def set_target_kbps(self, kbps: float) -> None:
        """Rate control: the mean frame size for ``kbps`` from the next frame on."""
        self.mean_bytes = self.codec.mean_frame_bytes(kbps)

    def _next(self) -> tuple[float, float]:
        if not self._size_ratio:
            lo, hi = SIZE_RANGE
            self._size_ratio = truncated_normal(self.rng, 1.0, SIZE_STD_RATIO, lo, hi, self._BLOCK)[::-1].tolist()
            self._jitter_ms = truncated_normal(self.rng, 0.0, JITTER_STD_MS, -JITTER_BOUND_MS, JITTER_BOUND_MS,
                                               self._BLOCK)[::-1].tolist()
        return self._size_ratio.pop(), self._jitter_ms.pop()

    def encode(self, frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]:
        ratio, jitter_ms = self._next()
        n = max(1, int(round(ratio * self.mean_bytes)))
        return [EncodedFrame(frame.index, "anchor", {"payload": self._randbytes(n)},
                             meta={"ready_offset_ms": JITTER_BOUND_MS + jitter_ms})]


class _Decoder:
    """Every complete frame is decoded on its own (a classic decode); an incomplete one is concealed."""

    def __init__(self):
        self._classic, self._conceal = DecodePlan("classic"), DecodePlan("conceal")

    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan:
        return self._classic if complete else self._conceal

    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        return Decoded(None, 0, 0, anchor=True)
