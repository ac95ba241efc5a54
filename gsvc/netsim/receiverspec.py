"""Specs of the receiver side: jitter buffer and GPU pool."""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from ..timing.custom import custom_name, latency_entry
from ..timing.profile import LatencyProfile, controlnet_problem, load_profile, profile_of, timed_as_problem
from ..spec import Spec, bounded

__all__ = ["JitterBufferSpec", "ReceiverSpec"]


class JitterBufferSpec(Spec):
    """When each frame is due on screen (its playout time).

    ``fixed``: playout = capture + ``delay_ms``.
    ``adaptive`` (WebRTC-style): target = p95 network delay + p95 receiver delay (queue
    wait + decode) over the last ``window_frames`` frames + ``render_delay_ms``, the network
    term raised to cover the largest recent frame at the fitted delay per byte (libwebrtc's
    jitter estimator's frame-size term; :mod:`gsvc.netsim.jitter`); the delay
    in use starts at ``delay_ms`` and moves toward the target by at most
    ``max_change_ms_per_s`` per second of video, so playout times never jump, except that a
    frame decoded late raises it at once by its lateness, up to the target (libwebrtc's
    ``VCMTiming``). A frame shed because its decode alone, started when it was released, would end
    after its playout time counts as decoded at release + its expected decode time, as libwebrtc
    counts every frame's decode time: a delay too short for the decoder grows to fit it, where a
    receiver that shed every frame would never learn a decode time and show nothing. The delay never
    exceeds ``max_delay_ms`` (libwebrtc's maximum playout delay, 10 s by default; a start above it
    starts at it): a latency ceiling under which the adaptive controller fits its plans.
    """

    spec_path = "jitter"
    mode: Literal["fixed", "adaptive"] = "adaptive"
    delay_ms: float = bounded(150.0, 0.0, 10_000.0, "ms", "fixed delay, or the adaptive start")
    render_delay_ms: float = bounded(10.0, 0.0, 1000.0, "ms")
    window_frames: int = bounded(60, 2, 10_000, "frames")
    max_change_ms_per_s: float = bounded(100.0, 0.0, 10_000.0, "ms/s")
    max_delay_ms: float = bounded(10_000.0, 0.0, 60_000.0, "ms",
                                  "adaptive: the playout delay's ceiling (a start above it starts at it)")
    late: Literal["show", "drop"] = "show"


class ReceiverSpec(Spec):
    """The shared pool of GPU servers that decodes every stream.

    ``policy``: ``fifo`` (in order of release) or ``edf`` (earliest playout deadline).
    A batch holds at most one frame per stream (frame n needs frame n-1) and up to
    ``max_batch`` frames; a free GPU waits up to ``max_wait_ms`` for a batch to fill.
    ``latency``: ``"profile:NAME"``, ``"measured"``, ``"model:NAME"`` (a latency model of one's own,
    :func:`gsvc.timing.register_latency_model`) or an inline :class:`LatencyProfile`.
    ``decode="timing-only"`` skips the model and reports no quality.
    ``shed="on"``: a frame that would finish decoding after its playout deadline is not
    decoded unless the codec says a later frame needs it (it is then ``skipped``, with the
    reason in ``skip_reason``); a needed frame already past its deadline is skipped too and
    an anchor is asked for, since that costs less than catching up. ``"off"``: every frame
    is decoded, however late.
    ``controlnet``: ``"on"`` times every evaluation as a UNet plus a ControlNet (the profile's
    ``controlnet_factor``, e.g. 1.38 on an RTX 4090 for SD-1.5); ``"off"`` (default): the UNet
    alone. It changes only the simulated time, never the images.
    ``timed_as_px``: time every decode as the profile's decode of a ``timed_as_px`` frame (e.g. 512
    with ``latency="profile:sd15-rtx4090"``: the shipped model's 64 px frames decoded as fast as
    SD-1.5 decodes 512 px ones on that GPU); None (default): the profile's time at the video's own
    side. Only the simulated time changes; the run's meta records the profile as served.
    """

    spec_path = "receiver"
    gpus: int = bounded(1, 1, 1024, "GPUs")
    policy: Literal["fifo", "edf"] = "edf"
    max_batch: int = bounded(1, 1, 256, "frames")
    max_wait_ms: float = bounded(0.0, 0.0, 1000.0, "ms")
    latency: str | LatencyProfile = "profile:cpu-2core"
    latency_scale: float = bounded(1.0, 1e-6, 1e6, "", "factor on measured wall-clock times")
    decode: Literal["real", "timing-only"] = "real"
    shed: Literal["on", "off"] = "on"
    controlnet: Literal["off", "on"] = "off"
    timed_as_px: int | None = bounded(None, 16, 4096, "px", "side whose profile times serve every frame (None: the video's)")

    @field_validator("latency")
    @classmethod
    def _known_latency(cls, v):
        if isinstance(v, str):
            if v.startswith("profile:"):
                load_profile(v[len("profile:"):])  # a missing profile is an error now, not mid-run
            elif custom_name(v) is not None:
                latency_entry(custom_name(v))
            elif v != "measured":
                raise ValueError("is not 'measured', 'profile:NAME', 'model:NAME' (a registered latency model) "
                                 "or an inline profile")
        return v

    @model_validator(mode="after")
    def _profile_options_need_a_profile(self):
        profile = profile_of(self.latency)
        problem = controlnet_problem(profile, self.controlnet, self.latency) or \
            timed_as_problem(profile, self.timed_as_px, self.latency)
        if problem:
            raise ValueError(problem)
        return self
