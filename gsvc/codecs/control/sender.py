"""The sender half of the controller: cut detection, the control section, and when to send an anchor.

Anchor-refresh policy at the sender (on top of the codec's own period ``codec.gop``):

* a detected cut always starts a new anchor;
* drift: a delta whose reference explains less than ``1 - drift_limit`` of it is sent as
  an anchor instead;
* feedback: an ``anchor_request`` about frame ``f`` is served unless an anchor newer than
  ``f`` has already been sent (it will arrive first and answers the request); a ``loss``
  report matters only when the lost frame is the current anchor (deltas refer to the
  anchor, never to each other, so a lost delta breaks nothing).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...video import estimate_labels
from ..base import Feedback
from .confidence import ControlInfo, encode_control
from .detect import SceneChange, SceneChangeDetector

__all__ = ["SenderControl"]


class SenderControl:
    """Per-stream sender state of the controller (built from a :class:`~gsvc.codecs.spec.CodecSpec`)."""

    def __init__(self, spec):
        self.detector = SceneChangeDetector(spec.cut_threshold, spec.large_motion_px)
        self.drift_limit = spec.drift_limit
        self.anchor_frame = -1  # index of the last anchor sent

    def observe(self, rgb: np.ndarray, labels: np.ndarray | None) -> SceneChange:
        """Detection for a newly captured frame against the previous one (call once per frame, in order).

        A source without labels is analysed with the colour-class estimate of
        :func:`gsvc.video.estimate_labels`: it serves the detector only and is never sent.
        """
        return self.detector.observe(rgb, estimate_labels(rgb) if labels is None else labels)

    def feedback_wants_anchor(self, feedback: Sequence[Feedback]) -> bool:
        return any(f.kind == "anchor_request" and f.frame >= self.anchor_frame
                   or f.kind == "loss" and f.frame == self.anchor_frame for f in feedback)

    def drifted(self, confidence: float) -> bool:
        """The reference explains too little of the frame: refresh the anchor."""
        return 1.0 - confidence > self.drift_limit

    def anchor_section(self, frame_index: int, change: SceneChange, drift: bool = False) -> bytes:
        """The control section of an anchor (records that an anchor was sent).

        At a detected cut the confidence sent is 0: the previous reference belongs to another shot.
        """
        self.anchor_frame = frame_index
        conf = 0.0 if change.cut else change.confidence
        return encode_control(ControlInfo(change.cut, change.large_motion, drift, conf))

    @staticmethod
    def delta_section(change: SceneChange, confidence: float) -> bytes:
        """The control section of a delta whose reference explains ``confidence`` of it."""
        return encode_control(ControlInfo(False, change.large_motion, False, confidence))
