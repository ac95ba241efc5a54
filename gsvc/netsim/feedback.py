"""The feedback path from receiver to sender (loss reports, anchor requests, receiver reports).

A message sent at ``t`` reaches the sender at ``t + uplink_delay_s``; the encoder
reads what has arrived when it encodes the next frame. No event is needed: the
sender polls at capture time.
"""
from __future__ import annotations

from collections import deque

from ..codecs.base import Feedback

__all__ = ["FeedbackPath"]


class FeedbackPath:
    """Per-stream queue of feedback messages ordered by arrival time."""

    def __init__(self, uplink_delay_s: float):
        self.delay_s = uplink_delay_s
        self._pending: deque[tuple[float, Feedback]] = deque()

    def send(self, now_s: float, kind: str, frame: int) -> None:
        self.post(now_s, Feedback(kind, frame, now_s))

    def post(self, now_s: float, message) -> None:
        """Send any message (e.g. a receiver report) at ``now_s``; it arrives ``uplink_delay_s`` later."""
        self._pending.append((now_s + self.delay_s, message))

    def arrived(self, now_s: float) -> list:
        """Messages that have reached the sender by ``now_s`` (each returned once)."""
        if not self._pending or self._pending[0][0] > now_s + 1e-12:
            return []  # the common case, kept cheap: it runs once per captured frame
        out = []
        # sends happen in time order and the delay is constant, so arrivals are ordered too
        while self._pending and self._pending[0][0] <= now_s + 1e-12:
            out.append(self._pending.popleft()[1])
        return out
