"""The jitter buffer of one stream: puts frames back in order and sets their playout time.

Timing assumptions:

* Frames leave the buffer for the decoder in frame order, as soon as they and all
  earlier frames have arrived (complete or known incomplete): decoding early leaves
  the most time before the deadline, and frame n may need frame n-1.
* A frame's playout time is ``capture + D``. With ``mode="fixed"`` D is constant.
  With ``mode="adaptive"`` D follows a WebRTC-style target: a network term, the
  95th percentile of the recent network delays (arrival - capture) with a term for
  the largest recent frame (below), plus a receiver term, the 95th percentile of the
  recent receiver delays (release -> decode done) with a term for the costliest recent
  frame (below), plus a render delay; D moves
  toward the target by at most ``max_change_ms_per_s`` per second of video, and a
  frame decoded after its playout time raises D at once by its lateness plus the
  render delay, up to the target (libwebrtc ``VCMTiming::UpdateCurrentDelay(render_time,
  actual_decode_time)``, modules/video_coding/timing/timing.cc): a stream whose frames
  all come late by the same amount (a codec that holds a group of frames back before it
  sends them, a slower decoder) is caught up with after its first late frame, not after
  seconds of frames shown late. ``max_delay_ms`` caps the delay.
* The frame-size term: a large frame (a key frame, a diffusion codec's anchor) takes longer
  on the link, so on a slow link its delay sits above the percentile of a window in which
  such frames are fewer than 5 %, and every one of them would come late. libwebrtc's jitter
  estimator (modules/video_coding/timing/jitter_estimator.cc) models the delay as
  ``slope * frame size + noise`` (a Kalman filter on the deltas of frame delay against frame
  size) and adds ``slope * (max frame size - mean frame size)`` to its noise term, its max frame
  size decaying by ``psi = 0.9999`` a frame (``max = max(psi * max, size)``), so a key frame is
  remembered for minutes, not for a window. Here the slope is the least-squares fit of network
  delay on frame size (s/byte, at least 0) with every frame's weight decaying by the same
  ``psi`` a frame (:data:`SIZE_MEMORY_PSI`), the network term is the 95th percentile over the
  window of the delays with the size's share taken out, ``d - slope * size``, plus
  ``slope * (the decayed largest size)``: the delay a frame of the largest recent size would have
  at that percentile. Key frames further apart than the window (H.264 every 6 s, a 4 s window)
  are still covered; with delays that do not grow with size the slope is 0 and the term is the
  plain percentile. The slope's memory is as long as libwebrtc's max frame size: after the link's
  rate changes, the fit follows as new large frames outweigh the old (the percentile of the
  window takes the change in the small frames' delays at once). Frames the sender dropped never
  reached the link and add no sample.
* The cost term: at the receiver a diffusion codec's anchor takes several times the denoiser
  evaluations of the frames between (10 against 1-3 for cvsc's published settings), and at one
  anchor in 15 or 30 frames its delay sits at or above the window's 95th percentile, so on a
  fast GPU every anchor came late, by a fixed ~20 ms (libwebrtc's decode-time percentile has the
  same blind spot; its key frames are minutes apart and decode little slower). The receiver term
  is the same estimator as the network's, with the frame's denoiser evaluations in place of its
  bytes: the percentile of ``d - slope * evals`` plus ``slope * (the decayed largest evals)``.
  A codec whose frames all cost alike (classic decodes, zero evaluations) gets the plain
  percentile, and so does one whose plans are fitted to the playout budget
  (``codec.control="adaptive"``, ``cost_term=False``): its costs follow the delay, so a term for
  its costliest frame raised the delay each time the controller used the room it was given (on
  the ``pedestrian-urban`` preset, ``cpu-2core``, cvsc adaptive at its own defaults: 63 -> 140 ms
  median latency for 0.43 -> 1.40 evaluations a frame), spending the latency the controller exists
  to save.
"""
from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["JitterBuffer", "SizeAwareDelay", "SIZE_MEMORY_PSI"]


#: per-frame decay of the largest frame size libwebrtc's jitter estimator keeps (``psi_``, 0.9999, in
#: modules/video_coding/timing/jitter_estimator.cc); here also the decay of the size fit's weights
SIZE_MEMORY_PSI = 0.9999


class SizeAwareDelay:
    """The network and the receiver terms of the playout target (module docstring).

    ``add(delay_s, size)`` records a frame's delay (s) and size: bytes on the link for the network
    term, denoiser evaluations for the receiver term. ``value(default)`` is the ``q``-quantile of
    ``delay - slope * size`` over the last ``window`` frames plus ``slope * max_size`` (s), with
    ``slope`` the least-squares fit of delay on size over every frame seen, weights decaying by
    ``psi`` a frame, clamped at 0, and ``max_size`` the largest size, decaying by ``psi`` a frame;
    ``default`` while the window is empty.
    """

    def __init__(self, window: int, q: float = 0.95, psi: float = SIZE_MEMORY_PSI):
        self.window, self.q, self.psi = window, q, psi
        self._delay: deque[float] = deque(maxlen=window)
        self._size: deque[float] = deque(maxlen=window)
        self._value: float | None = None
        # exponentially weighted means and co-moments of (size, delay), updated West-style (no cancellation)
        self._w = self._mean_s = self._mean_d = self._c_ss = self._c_sd = 0.0
        self.max_size = 0.0

    def add(self, delay_s: float, size: float) -> None:
        size, psi = float(size), self.psi
        self._delay.append(delay_s)
        self._size.append(size)
        self._value = None
        self.max_size = max(psi * self.max_size, size)
        self._w = psi * self._w + 1.0
        ds = size - self._mean_s
        dd = delay_s - self._mean_d
        self._mean_s += ds / self._w
        self._mean_d += dd / self._w
        self._c_ss = psi * self._c_ss + ds * (size - self._mean_s)
        self._c_sd = psi * self._c_sd + dd * (size - self._mean_s)

    def slope_s_per_unit(self) -> float:
        """Weighted least-squares slope of delay on size (s per byte or evaluation), at least 0; 0 while sizes
        have not varied."""
        if self._c_ss <= 1e-12 * self._w * max(self._mean_s ** 2, 1.0):
            return 0.0
        return max(self._c_sd / self._c_ss, 0.0)

    def value(self, default: float) -> float:
        if not self._delay:
            return default
        if self._value is None:
            slope = self.slope_s_per_unit()
            d = np.asarray(self._delay)
            if slope > 0.0:
                d = d - slope * np.asarray(self._size)
            r = np.sort(d)[int(self.q * (len(d) - 1))]
            self._value = float(r + slope * self.max_size) if slope > 0.0 else float(r)
        return self._value


class JitterBuffer:
    """Reorders arrivals of one stream and releases them with a playout time (all times in s)."""

    def __init__(self, spec, fps: float, release, cost_term: bool = True):
        self.spec = spec
        self.cost_term = cost_term  # the receiver term regresses on evaluations (module docstring)
        self.release = release  # release(item) hands a frame to the receiver
        self.adaptive = spec.mode == "adaptive"
        self.max_delay_s = spec.max_delay_ms / 1e3
        self.delay_s = min(spec.delay_ms / 1e3, self.max_delay_s) if self.adaptive else spec.delay_ms / 1e3
        self.max_step_s = spec.max_change_ms_per_s / 1e3 / fps
        self.render_s = spec.render_delay_ms / 1e3
        self.net = SizeAwareDelay(spec.window_frames)
        self.rx = SizeAwareDelay(spec.window_frames)
        self.next_frame = 0
        self._held: dict[int, tuple] = {}

    def note_decoded(self, release_s: float, done_s: float, playout_s: float, evals: int = 0) -> None:
        """The receiver reports a finished frame: released at ``release_s``, decoded by ``done_s``, due at
        ``playout_s`` (s), after ``evals`` denoiser evaluations. Its receiver delay joins the window; if it came
        late, the delay in use rises by its lateness plus the render delay, never past the target."""
        if not self.adaptive:
            return
        self.rx.add(done_s - release_s, evals if self.cost_term else 0)
        if done_s > playout_s:
            late_s = done_s - playout_s + self.render_s
            self.delay_s = max(self.delay_s, min(self.delay_s + late_s, self._target_s()))

    def _target_s(self) -> float:
        return min(self.net.value(self.delay_s) + self.rx.value(0.0) + self.render_s, self.max_delay_s)

    def arrive(self, now_s: float, frame: int, capture_s: float, payload, nbytes: int = 0) -> None:
        """Frame ``frame`` (captured at ``capture_s``) has arrived, complete or not, having carried ``nbytes``
        over the link. ``payload=None``: the sender dropped it; nothing crossed the link, so no delay sample."""
        if self.adaptive and payload is not None:
            self.net.add(now_s - capture_s, nbytes)
        if frame == self.next_frame and not self._held:  # in order, nothing waiting: the common case
            self.next_frame += 1
            self.release(frame, capture_s + self._playout_delay_s(), payload)
            return
        self._held[frame] = (capture_s, payload)
        while self.next_frame in self._held:
            cap, pl = self._held.pop(self.next_frame)
            self.release(self.next_frame, cap + self._playout_delay_s(), pl)
            self.next_frame += 1

    def _playout_delay_s(self) -> float:
        if self.adaptive:
            step = min(max(self._target_s() - self.delay_s, -self.max_step_s), self.max_step_s)
            self.delay_s += step
        return self.delay_s
