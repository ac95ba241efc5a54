"""How long a decode takes in simulated time: the :class:`~gsvc.timing.protocol.LatencyModel` implementations.

The receiver asks a latency model for the service time of each decode
batch. Two kinds exist:

* :class:`ProfileLatency` (``"profile:NAME"`` or an inline :class:`LatencyProfile`):
  ``overhead_ms + per_frame_ms * b + evals * eval_ms(resolution, b) + vae + jitter`` for a
  batch of ``b`` frames whose plans need at most ``evals`` denoiser evaluations.
  ``eval_ms`` is interpolated from a calibrated table (``gsvc calibrate``), a published one
  (``sd15-a100`` ...) or a roofline estimate (``gsvc calibrate --roofline GPU``). A profile with
  ``vae_decode_ms`` adds that per frame of a batch that runs the denoiser (a latent model decodes
  each image once), and ``vae_encode_ms`` per image-to-latent encode the batch's plans count
  (``DecodePlan.vae_encodes``: a reference or anchor taken back to model space);
  ``receiver.controlnet="on"`` multiplies every evaluation by the profile's ``controlnet_factor``;
  ``receiver.timed_as_px`` serves the profile's times at that side for every frame
  (:meth:`LatencyProfile.timed_as`). Deterministic for the run's seed.
* :class:`MeasuredLatency` (``"measured"``): the wall-clock time of the real decode on
  this host times ``scale``. Not reproducible across hosts or runs, by nature.

Timing-only runs use a profile and skip the decode (the run says so).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..spec import SpecError
from .custom import custom_name, latency_entry
from .profile import LatencyProfile, controlnet_problem, profile_of, timed_as_problem, upper_quantile_ms
from .protocol import LatencyModel

__all__ = ["ProfileLatency", "MeasuredLatency", "make_latency_model"]


class ProfileLatency:
    """Service times from a :class:`LatencyProfile`, with jitter drawn from the run's generator."""

    kind = "profile"
    learns = False

    #: jitter draws taken from the generator at a time (a block draw gives the same numbers as
    #: one call per decode, at a tenth of the cost per number)
    JITTER_BLOCK = 1024

    def __init__(self, profile: LatencyProfile, rng: np.random.Generator, controlnet: str = "off"):
        problem = controlnet_problem(profile, controlnet)
        if problem:
            raise SpecError([problem])
        self.profile = profile
        self.rng = rng
        self.controlnet = controlnet
        #: factor on every evaluation: the profile's ControlNet overhead when asked for, else 1
        self.eval_factor = profile.controlnet_factor if controlnet == "on" else 1.0
        self._eval_ms: dict[tuple[int, int], float] = {}  # (resolution, batch) -> ms; the table lookup is hot
        self._jitter: list[float] = []  # drawn, not yet used, in reverse order (pop() takes the next)
        self._base_ms: dict[tuple, float] = {}  # (evals, batch, resolution, classic, vae_encodes) -> ms before jitter
        self._tail_ms: dict[float, float] = {}  # risk -> ms

    def _eval_time_ms(self, resolution: int, batch: int) -> float:
        key = (resolution, batch)
        if key not in self._eval_ms:
            self._eval_ms[key] = self.profile.eval_time_ms(resolution, batch) * self.eval_factor
        return self._eval_ms[key]

    def _denoise_ms(self, evals: int, batch: int, resolution: int, vae_encodes: int) -> float:
        """Per-frame work, the evaluations, (when any ran) one VAE decode per frame and the plans'
        VAE encodes, ms."""
        p = self.profile
        vae = p.vae_decode_time_ms(resolution) * batch if evals > 0 else 0.0
        if vae_encodes:
            vae += p.vae_encode_time_ms(resolution) * vae_encodes
        return p.overhead_ms + p.per_frame_ms * batch + evals * self._eval_time_ms(resolution, batch) + vae

    def decode_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                  measured_ms: float | None = None, vae_encodes: int = 0) -> float:
        key = (evals, batch, resolution, classic, vae_encodes)
        base = self._base_ms.get(key)
        if base is None:  # the same few keys recur every decode: the profile arithmetic is done once each
            p = self.profile
            if classic:
                base = p.overhead_ms + p.classic_ms * batch
            else:
                base = self._denoise_ms(evals, batch, resolution, vae_encodes)
            self._base_ms[key] = base
        if not self._jitter:
            self._jitter = self.profile.jitter.sample(self.rng, self.JITTER_BLOCK)[::-1].tolist()
        return max(0.0, base + self._jitter.pop())

    def encode_ms(self, measured_ms: float | None = None) -> float:
        return self.profile.encode_ms

    def observe(self, evals: int, service_ms: float) -> None:
        """A profile's times do not learn."""

    def expected_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                    vae_encodes: int = 0) -> float:
        """Mean service time (jitter at its mean) for planning, ms."""
        p = self.profile
        mean_jitter = p.jitter.mean()
        if classic:
            return max(0.0, p.overhead_ms + p.classic_ms * batch + mean_jitter)
        return max(0.0, self._denoise_ms(evals, batch, resolution, vae_encodes) + mean_jitter)

    def tail_ms(self, risk: float) -> float:
        """How far above :meth:`expected_ms` a service time lands with probability at most ``risk``, ms:
        the profile's jitter tail (:meth:`~gsvc.timing.profile.ServiceJitter.tail_ms`)."""
        tail = self._tail_ms.get(risk)
        if tail is None:
            tail = self._tail_ms[risk] = self.profile.jitter.tail_ms(risk)
        return tail


class MeasuredLatency:
    """Service time = wall-clock time of the real decode here x ``scale``."""

    kind = "measured"
    learns = True
    profile = None

    #: how many of the latest deviations from the expected time :meth:`tail_ms` is taken from
    TAIL_WINDOW = 256

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self._per_eval_ms: float | None = None
        self._deviations_ms: deque[float] = deque(maxlen=self.TAIL_WINDOW)

    def decode_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                  measured_ms: float | None = None, vae_encodes: int = 0) -> float:
        if measured_ms is None:
            raise ValueError("receiver.latency='measured' needs real decodes; a timing-only run needs a profile")
        return measured_ms * self.scale

    def encode_ms(self, measured_ms: float | None = None) -> float:
        return 0.0 if measured_ms is None else measured_ms * self.scale

    def observe(self, evals: int, service_ms: float) -> None:
        """Learn ms per evaluation from finished decodes (for planning), and how far decodes land from it."""
        if evals > 0:
            if self._per_eval_ms is not None:
                self._deviations_ms.append(service_ms - evals * self._per_eval_ms)
            self._per_eval_ms = service_ms / evals if self._per_eval_ms is None else \
                0.9 * self._per_eval_ms + 0.1 * service_ms / evals

    def expected_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                    vae_encodes: int = 0) -> float:
        """Mean service time for planning: the running ms per evaluation seen so far (0 before any;
        0 for a classic decode, which is not learned)."""
        return evals * (self._per_eval_ms or 0.0)

    def tail_ms(self, risk: float) -> float:
        """How far above :meth:`expected_ms` a decode landed with frequency at most ``risk`` among the
        latest :attr:`TAIL_WINDOW` decodes, ms (:func:`~gsvc.timing.profile.upper_quantile_ms`; 0 before any)."""
        return max(0.0, upper_quantile_ms(self._deviations_ms, risk))


def make_latency_model(latency: str | LatencyProfile, scale: float, rng: np.random.Generator,
                       controlnet: str = "off", *, frame_px: int | None = None,
                       timed_as_px: int | None = None) -> LatencyModel:
    """Build the model named by ``receiver.latency``: ``"measured"``, ``"profile:NAME"``, ``"model:NAME"``
    (:mod:`gsvc.timing.custom`; called with ``rng`` and ``frame_px``) or an inline profile.

    ``controlnet`` (``receiver.controlnet``): ``"on"`` applies the profile's ``controlnet_factor``;
    a measured latency times whatever model really runs, so it only accepts ``"off"``.
    ``timed_as_px`` (``receiver.timed_as_px``): serve the profile's times at that side for the run's
    ``frame_px`` frames (:meth:`LatencyProfile.timed_as`); a measured latency refuses it.
    """
    if latency == "measured":
        problem = controlnet_problem(None, controlnet) or timed_as_problem(None, timed_as_px)
        if problem:
            raise SpecError([problem])
        return MeasuredLatency(scale)
    name = custom_name(latency)
    if name is not None:
        problem = controlnet_problem(None, controlnet, latency) or timed_as_problem(None, timed_as_px, latency)
        if problem:
            raise SpecError([problem])
        model = latency_entry(name).factory(rng, frame_px)
        if not isinstance(model, LatencyModel):
            raise TypeError(f"receiver.latency={latency!r}: the factory returned a {type(model).__name__}, which "
                            "lacks the LatencyModel protocol (gsvc.timing.protocol)")
        return model
    if isinstance(latency, LatencyProfile) or latency.startswith("profile:"):
        profile = profile_of(latency)
        if timed_as_px is not None:
            if frame_px is None:
                raise ValueError("make_latency_model: timed_as_px needs frame_px (the run's video.resolution)")
            profile = profile.timed_as(frame_px, timed_as_px)
        return ProfileLatency(profile, rng, controlnet)
    raise SpecError([f"receiver.latency={latency!r} is not 'measured', 'profile:NAME', 'model:NAME' or an "
                     "inline profile"])
