"""Rate knobs of the diffusion codecs, for sender rate control (``link.rate_control``).

A semantic codec has no rate controller of its own: its rate follows from what it sends.
:class:`RateLadder` turns a target bitrate into settings, from the scenario's own (the
richest) down a fixed ladder:

1. the low-res frame's quantiser steps (deltas' and anchors') coarsened by a quarter of an octave
   per rung (x 2^(1/4), about 13 % fewer bits each, :data:`RATE_EXPONENT`), to 8 x (at most 255
   levels);
2. the low-res frame on anchors only (where it was sent with every frame);
3. the anchor period doubled, then doubled again.

It measures the rate of the rung in use over its last second of frames (or anchor period, where that
is longer: every window holds the rung's anchors) and moves down while that rate is above the target
(before a full window, as soon as the bits sent in it already are), straight to the richest quantiser
rung the rate and the coder's rate exponent predict at 0.9 of the target or under (the structural
rungs, whose rate no model predicts, one at a time). With a full window under 0.9 of the target it
moves up one rung when the richer rung's rate (predicted from this one's on the quantiser rungs, else
as measured there in the last two seconds) is under 0.9 of the target too, or unknown (a probe).
Between quantiser rungs the window carries over, rescaled by the model, so the ladder follows the
content frame by frame; a rung settles where its rate is between about 0.78 and 1 times the target.
"""
from __future__ import annotations

from collections import deque

__all__ = ["RateLadder", "LadderRateControl", "RATE_EXPONENT", "RUNGS_PER_OCTAVE"]

#: largest quantiser step of the low-res coder (``gsvc.codecs.lowres.encode_lowres``)
MAX_QUANT = 255
#: quantiser rungs per doubling of the step
RUNGS_PER_OCTAVE = 4
#: doublings of the quantiser step before the ladder turns to the structural rungs
QUANT_OCTAVES = 3
#: the low-res stream's rate against its quantiser step, rate ~ step^-RATE_EXPONENT: the least-squares
#: slope of log rate on log step over the ``lowres whole-anch`` ladder of
#: ``benchmarks/results/bench_devset_rd.txt`` (delta steps 80 / 64 / 48 / 32 / 20 with anchors at half
#: of them: 10.0 / 11.9 / 14.9 / 20.6 / 29.6 kbit/s over the dev set), 0.78; per clip over this ladder's
#: first octaves (cvsc's stream, 8 s of grace_hopper / minduka / jacksboro_relief) 0.73 / 0.67 / 0.87
RATE_EXPONENT = 0.8
#: seconds a rung's measured rate is trusted after the ladder left it; older, the rung is probed again
MEASURE_EXPIRY_S = 2.0


class RateLadder:
    """Settings (``CodecSpec``) for a target rate; ``fps`` frames per second of the stream;
    ``rungs_per_octave`` quantiser rungs per doubling of the step (None: :data:`RUNGS_PER_OCTAVE`; 1: steps
    x2, x4 and x8 only)."""

    def __init__(self, spec, fps: float, rungs_per_octave: int | None = None):
        self.fps = fps
        self.rungs, self.quant = _ladder(spec, rungs_per_octave or RUNGS_PER_OCTAVE)
        self.level = 0
        self.measured_kbps: list[float | None] = [None] * len(self.rungs)
        self._measured_frame = [0] * len(self.rungs)  # the frame each rung was last measured at
        self._frames = 0
        self._window: deque[float] = deque()

    def spec_for(self, target_kbps: float):
        """The settings to encode the next frame with."""
        n = self.window_frames()
        full = len(self._window) >= n
        rate = self.measured_kbps[self.level]
        # before a full window, move once the bits sent in it exceed the target over the whole window
        over = rate is not None and (rate if full else sum(self._window) / n) > target_kbps
        if over and self.level + 1 < len(self.rungs):
            self._move_to(self._down_to(0.9 * target_kbps, rate))
        elif full and self.level > 0 and rate < 0.9 * target_kbps:  # a richer rung costs more than this one
            richer = self.expected_kbps(self.level - 1)
            if richer is None or richer < 0.9 * target_kbps:
                self._move_to(self.level - 1)
        return self.rungs[self.level]

    def expected_kbps(self, level: int, now_kbps: float | None = None) -> float | None:
        """The rate rung ``level`` is expected to give: predicted from the current rung's rate
        (``now_kbps``, else as measured) when both are quantiser rungs, else as last measured there
        (None: never measured, or more than :data:`MEASURE_EXPIRY_S` ago, when the content may have
        changed it)."""
        now = self.measured_kbps[self.level] if now_kbps is None else now_kbps
        if now is not None and self.quant[level] is not None and self.quant[self.level] is not None:
            return now * (self.quant[self.level] / self.quant[level]) ** RATE_EXPONENT
        if self._frames - self._measured_frame[level] > MEASURE_EXPIRY_S * self.fps:
            return None
        return self.measured_kbps[level]

    def window_frames(self) -> int:
        """Frames the current rung's rate is measured over, and held at least: a second, or an anchor
        period where that is longer, so each window holds the anchors the rung sends."""
        return max(round(self.fps), self.rungs[self.level].gop)

    def observe(self, nbytes: int) -> None:
        """One frame of ``nbytes`` was sent with the current settings."""
        self._window.append(nbytes * 8 * self.fps / 1e3)
        if len(self._window) > self.window_frames():
            self._window.popleft()
        self.measured_kbps[self.level] = sum(self._window) / len(self._window)
        self._frames += 1
        self._measured_frame[self.level] = self._frames

    def _down_to(self, target_kbps: float, now_kbps: float) -> int:
        """The rung to step down to from the current one, which sends ``now_kbps``, over ``target_kbps``:
        the first leaner one expected to fit, or the first whose rate is unknown, or the last."""
        for level in range(self.level + 1, len(self.rungs)):
            expected = self.expected_kbps(level, now_kbps)
            if expected is None or expected <= target_kbps:
                return level
        return len(self.rungs) - 1

    def _move_to(self, level: int) -> None:
        """Use rung ``level`` from the next frame on. Between quantiser rungs the window's frames carry
        over, rescaled by the rate model, so the next decision need not wait a window; onto or off a
        structural rung the window starts empty."""
        old, self.level = self.level, level
        if self.quant[old] is None or self.quant[level] is None:
            self._window.clear()
            return
        scale = (self.quant[old] / self.quant[level]) ** RATE_EXPONENT
        self._window = deque(kbps * scale for kbps in self._window)
        self.measured_kbps[level] = sum(self._window) / len(self._window)


class LadderRateControl:
    """``set_target_kbps`` for an encoder whose settings are ``self.spec`` and whose condition coder
    ``self.cond`` reads the same spec: it follows the :class:`RateLadder` rung for the target. The
    encoder reports each frame it sends with ``self.ladder.observe(nbytes)`` once ``self.ladder`` is set."""

    ladder: RateLadder | None = None  # made by the first set_target_kbps

    def set_target_kbps(self, kbps: float) -> None:
        if self.ladder is None:
            self.ladder = RateLadder(self.spec, self.codec.video.fps)
        self.spec = self.cond.spec = self.ladder.spec_for(kbps)


def _ladder(spec, rungs_per_octave: int) -> tuple[list, list[float | None]]:
    """The rungs (``CodecSpec``, richest first) and each one's delta quantiser step relative to the
    spec's (None: a structural rung, whose rate the step does not predict)."""
    rungs, quant = [spec], [1.0 if spec.lowres != "off" else None]

    def add(scale=None, **changes):
        nxt = rungs[-1].model_copy(update=changes)
        if nxt != rungs[-1]:
            rungs.append(nxt)
            quant.append(scale)

    if spec.lowres != "off":
        for k in range(1, QUANT_OCTAVES * rungs_per_octave + 1):
            scale = 2.0 ** (k / rungs_per_octave)
            q = min(MAX_QUANT, round(spec.lowres_quant * scale))
            add(q / spec.lowres_quant, lowres_quant=q,
                anchor_lowres_quant=None if spec.anchor_lowres_quant is None
                else min(MAX_QUANT, round(spec.anchor_lowres_quant * scale)))
        if spec.lowres == "all":
            add(lowres="anchors")
    add(gop=spec.gop * 2)
    add(gop=spec.gop * 4)
    return rungs, quant
