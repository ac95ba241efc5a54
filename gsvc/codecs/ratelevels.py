"""Rate knobs of the diffusion codecs, for sender rate control (``link.rate_control``).

A semantic codec has no rate controller of its own: its rate follows from what it sends.
:class:`RateLadder` turns a target bitrate into settings, from the scenario's own (the
richest) down a fixed ladder, one rung at a time:

1. the low-res frame's quantiser steps (deltas' and anchors') doubled, then doubled again (at most
   255 levels);
2. the low-res frame on anchors only (where it was sent with every frame);
3. the anchor period doubled, then doubled again.

It measures the rate each rung gives (an exponential average over about one second of
frames) and steps down while the measured rate is above the target, up when the richer
rung's measured rate fits under 0.9 of the target; at most one step per second, so each
measurement has time to settle.
"""
from __future__ import annotations

__all__ = ["RateLadder", "LadderRateControl"]

#: largest quantiser step of the low-res coder (``gsvc.codecs.lowres.encode_lowres``)
MAX_QUANT = 255


class RateLadder:
    """Settings (``CodecSpec``) for a target rate; ``fps`` frames per second of the stream."""

    def __init__(self, spec, fps: float):
        self.fps = fps
        self.rungs = _ladder(spec)
        self.level = 0
        self.measured_kbps: list[float | None] = [None] * len(self.rungs)
        self._frames_at_level = 0

    def spec_for(self, target_kbps: float):
        """The settings to encode the next frame with."""
        hold = self._frames_at_level < self.fps  # one second on a rung before the next step
        rate = self.measured_kbps[self.level]
        if not hold and rate is not None:
            if rate > target_kbps and self.level + 1 < len(self.rungs):
                self._step(+1)
            elif self.level > 0 and (self.measured_kbps[self.level - 1] or 0.0) < 0.9 * target_kbps:
                self._step(-1)
        return self.rungs[self.level]

    def observe(self, nbytes: int) -> None:
        """One frame of ``nbytes`` was sent with the current settings."""
        kbps = nbytes * 8 * self.fps / 1e3
        old = self.measured_kbps[self.level]
        alpha = 1.0 / self.fps
        self.measured_kbps[self.level] = kbps if old is None else (1 - alpha) * old + alpha * kbps
        self._frames_at_level += 1

    def _step(self, direction: int) -> None:
        self.level += direction
        self._frames_at_level = 0


class LadderRateControl:
    """``set_target_kbps`` for an encoder whose settings are ``self.spec`` and whose condition coder
    ``self.cond`` reads the same spec: it follows the :class:`RateLadder` rung for the target. The
    encoder reports each frame it sends with ``self.ladder.observe(nbytes)`` once ``self.ladder`` is set."""

    ladder: RateLadder | None = None  # made by the first set_target_kbps

    def set_target_kbps(self, kbps: float) -> None:
        if self.ladder is None:
            self.ladder = RateLadder(self.spec, self.codec.video.fps)
        self.spec = self.cond.spec = self.ladder.spec_for(kbps)


def _ladder(spec) -> list:
    rungs = [spec]

    def add(**changes):
        nxt = rungs[-1].model_copy(update=changes)
        if nxt != rungs[-1]:
            rungs.append(nxt)

    if spec.lowres != "off":
        for scale in (2, 4):
            add(lowres_quant=min(MAX_QUANT, spec.lowres_quant * scale),
                anchor_lowres_quant=None if spec.anchor_lowres_quant is None
                else min(MAX_QUANT, spec.anchor_lowres_quant * scale))
        if spec.lowres == "all":
            add(lowres="anchors")
    add(gop=spec.gop * 2)
    add(gop=spec.gop * 4)
    return rungs
