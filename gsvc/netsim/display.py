"""The display: what the viewer saw, and when, for every frame slot.

A decoded frame is displayed

* at its playout time if it was decoded by then (``ok``, or ``lost`` if the data was
  incomplete and a concealment was shown);
* when its decode finishes if that is after playout (``late``, with ``late="show"``),
  or never (``late="drop"``); the previous image stays on screen meanwhile;
* never if it was planned as ``skip`` (``skipped``, or ``lost`` if its data was incomplete).

The image a frame's slot is scored on is whatever was on screen at its playout time:
the frame itself if it was on time, else the frame last displayed before it (the
later frame number where two were displayed at the same time), mid-grey before
anything was shown.

Status, display time and latency of every row are filled once after the event loop,
vectorised (:func:`resolve_display`). The images, though, are scored while the run
goes (:class:`Screen`), so that a run holds only the images still in flight.
"""
from __future__ import annotations

from bisect import bisect_right, insort

import numpy as np

from ..video.quality import to_uint8

__all__ = ["resolve_display", "shown_at_ms", "on_time", "viewer_index", "Screen", "ON_TIME_TOLERANCE_MS"]

#: a decode this close after its playout time still counts as on time (float rounding of s -> ms)
ON_TIME_TOLERANCE_MS = 1e-9


def on_time(done_ms, playout_ms):
    """Whether a decode that finished at ``done_ms`` made its playout time (floats or arrays)."""
    return done_ms <= playout_ms + ON_TIME_TOLERANCE_MS


def shown_at_ms(done_ms, playout_ms, late_show: bool):
    """When a decoded frame is displayed, ms: at its playout time if decoded by then, else when its
    decode finishes (``late_show``) or never (NaN). Floats or arrays; the one display rule that both
    the end-of-run columns (:func:`resolve_display`) and the live screen (:class:`Screen`) apply."""
    return np.where(on_time(done_ms, playout_ms), playout_ms, done_ms if late_show else np.nan)


def resolve_display(cols: dict, sl: slice, late_policy: str, incomplete: np.ndarray) -> None:
    """Fill status, display_ms and latency_ms of one stream's rows (``cols``: numpy columns)."""
    playout = cols["playout_ms"][sl]
    done = cols["decode_done_ms"][sl]
    skipped = cols["plan"][sl] == "skip"
    status = np.where(on_time(done, playout), "ok", "late").astype(object)
    status[skipped] = "skipped"
    status[incomplete] = "lost"  # whether concealed or shed, its data did not arrive
    display = shown_at_ms(done, playout, late_policy == "show")
    display[skipped | np.isnan(done)] = np.nan
    cols["status"][sl] = status
    cols["display_ms"][sl] = display
    cols["latency_ms"][sl] = display - cols["capture_ms"][sl]


def viewer_index(display_ms: np.ndarray, playout_ms: np.ndarray) -> np.ndarray:
    """For each slot of one stream, the frame on screen at its playout time (-1: nothing yet).

    ``display_ms``, ``playout_ms``: ``[frames]`` float, NaN where never displayed. The
    end-of-run form of what :class:`Screen` resolves as the run goes.
    """
    shown = np.flatnonzero(~np.isnan(display_ms))
    order = np.argsort(display_ms[shown], kind="stable")
    shown, times = shown[order], display_ms[shown][order]
    if len(shown) == 0:
        return np.full(len(playout_ms), -1)
    pos = np.searchsorted(times, playout_ms, side="right") - 1
    return np.where(pos >= 0, shown[np.maximum(pos, 0)], -1)


class Screen:
    """One stream's screen, resolved slot by slot while the run goes; each slot is scored once final.

    Slot ``n`` is final once the clock has passed its playout time ``p_n`` (by more than
    :data:`ON_TIME_TOLERANCE_MS`): a frame still undecoded then will be displayed no
    earlier than its decode (late) or than its playout, which is at least its decode time
    minus the tolerance (on time), so after ``p_n`` either way. Slots are scored in frame
    order, which is the order in which the jitter buffer releases them.

    Holds the originals of the slots not yet scored and the decoded images some later
    slot may still show: those displayed after the earliest playout time still to be
    looked up, plus the last one displayed before it.

    ``cols``: the per-frame log (reads ``playout_ms``); ``row0``: log row of frame 0;
    ``scorer``: a :class:`~gsvc.metrics.StreamScorer`.
    """

    def __init__(self, cols, row0: int, frames: int, late_policy: str, scorer, stream: int = 0, recorder=None):
        self.playout_ms = cols["playout_ms"]
        self.scene_cut = cols["scene_cut"] if recorder is not None else None
        self.row0, self.frames, self.scorer, self.stream = row0, frames, scorer, stream
        self.recorder = recorder  # a PictureRecorder (gsvc.netsim.pictures), or None
        self.late_show = late_policy == "show"
        self._originals: dict[int, np.ndarray] = {}  # frame -> [H, W, 3] uint8, until its slot is scored
        self._capture_ms: dict[int, float] = {}
        self._shown: list[tuple[float, int]] = []  # (display_ms, frame), sorted
        self._images: dict[int, np.ndarray | None] = {}  # frame in _shown -> uint8 image (None: no image)
        self._next = 0  # first slot not yet scored
        self._released = 0  # frames released so far (in frame order)
        self._grey: np.ndarray | None = None

    def captured(self, frame: int, capture_ms: float, rgb: np.ndarray) -> None:
        self._originals[frame] = to_uint8(rgb)
        self._capture_ms[frame] = capture_ms

    def released(self, frame: int) -> None:
        """Frame ``frame`` left the jitter buffer; its playout time is in the log."""
        self._released = frame + 1

    def decoded(self, frame: int, done_ms: float, image) -> None:
        """Frame ``frame`` finished decoding at ``done_ms`` (``image``: ``[H, W, 3]`` or None).
        Frames the receiver shed are never decoded, so never reach here."""
        shown_ms = float(shown_at_ms(done_ms, self.playout_ms[self.row0 + frame], self.late_show))
        if np.isnan(shown_ms):  # late and dropped
            return
        insort(self._shown, (shown_ms, frame))
        self._images[frame] = None if image is None else to_uint8(image)

    def advance(self, now_ms: float) -> None:
        """Score every slot that is final at ``now_ms``: every event before ``now_ms`` has happened."""
        while self._next < self._released and self.playout_ms[self.row0 + self._next] < now_ms - ON_TIME_TOLERANCE_MS:
            self._score(self._next)
        self._forget(now_ms)

    def finish(self) -> None:
        """The run is over: score the remaining slots."""
        while self._next < self.frames:
            self._score(self._next)
        self.scorer.flush()

    def _score(self, n: int) -> None:
        p = float(self.playout_ms[self.row0 + n])
        k = bisect_right(self._shown, (np.inf if np.isnan(p) else p, np.inf)) - 1
        ref = self._originals.pop(n)
        self._capture_ms.pop(n, None)
        seen = self._images[self._shown[k][1]] if k >= 0 else None
        if seen is None:
            if self._grey is None:
                self._grey = np.full_like(ref, 128)
            seen = self._grey
        self.scorer.add(self.row0 + n, ref, seen, self.stream)
        if self.recorder is not None:
            self.recorder.slot(n, ref, self._images.get(n), seen, self._shown[k][1] if k >= 0 else -1,
                               bool(self.scene_cut[self.row0 + n]))
        self._next = n + 1

    def _forget(self, now_ms: float) -> None:
        """Drop displayed images that no slot still to be scored can show."""
        # the earliest playout time any unscored slot can have: released ones have theirs in the
        # log; later ones play out no earlier than they were captured (the jitter delay is >= 0)
        lookups = [self.playout_ms[self.row0 + n] for n in range(self._next, self._released)]
        lookups.append(self._capture_ms.get(self._released, now_ms))
        k = bisect_right(self._shown, (min(lookups), np.inf)) - 1
        if k > 0:
            for _, frame in self._shown[:k]:
                del self._images[frame]
            del self._shown[:k]
