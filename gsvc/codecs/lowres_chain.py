"""Chained low-res frames (``codec.lowres_reference`` ``"previous"`` or ``"best"``): P frames of the low-res stream.

A delta's low-res frame is coded against a prediction: the anchor's low-res frame moved by the
delta's motion from the anchor, or (chained) the previous frame's low-res frame, as decoded,
moved by the motion from that frame (the delta's ``step`` section, blocks of
:func:`gsvc.codecs.motion.motion_block_px`). A chained delta names the frame it follows as its
second reference (``EncodedFrame.refs == (anchor, previous)``), so the receiver can tell when it
lacks it: :class:`ReceiverChain` keeps that frame and its low-res frame, including those of
deltas the receiver skipped because they were late (a real decoder decodes their low-res frames
at once, so its chain is the one a full decode leaves; timing-only runs keep the frame numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .lowres import decode_lowres, lowres_side, predict_lowres
from .motion import MotionField, decode_motion

__all__ = ["LowresChain", "ReceiverChain", "decode_delta_lowres"]


@dataclass(frozen=True)
class LowresChain:
    """The last low-res frame of a group as decoded ``[n, n, 3]`` float32: what the next delta's low-res
    frame is predicted from when it is chained."""

    lowres: np.ndarray

    def predicted(self, step: MotionField | None, side_px: int, factor: int) -> np.ndarray:
        """The chained frame moved by ``step`` (the motion from its frame to the next; None: unmoved)
        at ``side_px / factor`` px."""
        return predict_lowres(self.lowres, step, side_px, factor)


def decode_delta_lowres(data: bytes, anchor_lowres: np.ndarray | None, motion: MotionField | None, side_px: int,
                        chain: LowresChain | None = None, step: MotionField | None = None) -> np.ndarray:
    """A delta's low-res frame ``[n, n, 3]`` from its section ``data``: predicted from ``chain`` moved by
    ``step`` when the delta is chained (``step`` given), else from the anchor's low-res frame moved by
    ``motion``. ValueError on malformed data, a wrong size or a step without a chain."""
    n = lowres_side(data)
    if not 0 < n <= side_px or side_px % n:
        raise ValueError("low-res frame has the wrong size")
    if step is not None:
        if chain is None:
            raise ValueError("low-res frame predicted from a previous frame the receiver does not have")
        return decode_lowres(data, chain.predicted(step, side_px, side_px // n))
    pred = None if anchor_lowres is None else predict_lowres(anchor_lowres, motion, side_px, side_px // n)
    return decode_lowres(data, pred)


@dataclass
class ReceiverChain:
    """The receiver's chain: the frame a chained delta must follow (``frame``, -1: none) and the low-res
    frame it is predicted from, with the low-res sections of skipped deltas not yet decoded."""

    frame: int = -1
    chain: LowresChain | None = None
    skipped: list = field(default_factory=list)  # EncodedFrame of late deltas since ``chain``

    def follows(self, ef) -> bool:
        """Whether ``ef`` can be decoded as far as the chain goes (it is not chained, or follows ``frame``)."""
        return len(ef.refs) < 2 or ef.refs[1] == self.frame

    def decoded(self, ef, lowres: np.ndarray | None) -> None:
        """``ef`` was reconstructed with low-res frame ``lowres`` (None: it carried none)."""
        if lowres is not None:
            self.chain, self.skipped = LowresChain(lowres), []
        elif ef.kind == "anchor":
            self.chain, self.skipped = None, []
        self.frame = ef.frame

    def advanced(self, ef) -> None:
        """Timing-only: ``ef`` was decoded (the low-res frames are not; only the frame numbers count)."""
        self.frame, self.skipped = ef.frame, []

    def skip(self, ef) -> None:
        """``ef``, decodable, was skipped: its low-res frame is decoded by :meth:`current`."""
        self.skipped.append(ef)
        self.frame = ef.frame

    def lost(self) -> None:
        """A delta could not be decoded: no chained delta after it can be until the next anchor."""
        self.frame, self.skipped = -1, []

    def current(self, anchor_lowres: np.ndarray | None, side_px: int) -> LowresChain | None:
        """The low-res frame the next chained delta is predicted from, decoding those of skipped deltas
        first. ValueError or KeyError if a skipped delta's sections do not parse."""
        for ef in self.skipped:
            s = ef.sections
            if "lowres" not in s:
                continue
            step = decode_motion(s["step"]) if "step" in s else None
            motion = None if step is not None else decode_motion(s["motion"])
            self.chain = LowresChain(decode_delta_lowres(s["lowres"], anchor_lowres, motion, side_px, self.chain, step))
        self.skipped = []
        return self.chain
