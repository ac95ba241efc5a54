"""Decode-time profiles: what one denoiser evaluation, a VAE pass and a classic decode cost, with provenance.

A :class:`LatencyProfile` is data (a calibrated, published or roofline table and where each number
comes from); the shipped ones live in ``gsvc/timing/profiles/*.json``. The models that turn a profile
into service times are in :mod:`gsvc.timing.latency`.
"""
from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from ..spec import Spec, SpecError, bounded

__all__ = ["ServiceJitter", "upper_quantile_ms", "LatencyProfile", "load_profile", "list_profiles", "profile_of",
           "controlnet_problem", "timed_as_problem", "nearest_px"]


def __getattr__(name: str):
    if name == "JitterSpec":
        import warnings
        warnings.warn("JitterSpec was renamed ServiceJitter (the variation of service times, not the jitter buffer)",
                      DeprecationWarning, stacklevel=2)
        return ServiceJitter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ServiceJitter(Spec):
    """Random variation added to every service (decode or encode) time, ms; not the jitter *buffer*
    (:class:`gsvc.netsim.receiverspec.JitterBufferSpec`, ``Scenario.jitter``).

    ``fixed``: always ``mean_ms``; ``exponential``: mean ``mean_ms``; ``lognormal``: mean
    ``mean_ms`` and log-std ``sigma``; ``empirical``: resampled from ``samples_ms``.
    """

    dist: Literal["fixed", "exponential", "lognormal", "empirical"] = "fixed"
    mean_ms: float = bounded(0.0, 0.0, 60_000.0, "ms")
    sigma: float = bounded(0.25, 0.0, 5.0, "", "log-std of the lognormal")
    samples_ms: tuple[float, ...] = ()

    def sample(self, rng: np.random.Generator, size: int | None = None):
        """One draw, ms (``size`` None), or ``[size]`` float64 draws: the same numbers in the same order."""
        if self.dist == "fixed" or self.mean_ms == 0.0 and self.dist != "empirical":
            return self.mean_ms if size is None else np.full(size, self.mean_ms)
        if self.dist == "exponential":
            out = rng.exponential(self.mean_ms, size)
        elif self.dist == "lognormal":
            mu = np.log(self.mean_ms) - 0.5 * self.sigma**2
            out = rng.lognormal(mu, self.sigma, size)
        else:
            if not self.samples_ms:
                raise ValueError("receiver.latency.jitter.samples_ms is empty; the empirical jitter needs samples")
            out = np.asarray(self.samples_ms, float)[rng.integers(len(self.samples_ms), size=size)]
        return float(out) if size is None else out

    def mean(self) -> float:
        """The mean of the draws, ms (what a plan's expected service time includes)."""
        if self.dist == "empirical":
            return float(np.mean(self.samples_ms)) if self.samples_ms else 0.0
        return self.mean_ms

    def tail_ms(self, risk: float) -> float:
        """How far above :meth:`mean` a draw lands with probability at most ``risk`` (in (0, 1)), ms, >= 0.

        The ``1 - risk`` quantile less the mean: ``fixed`` 0; ``exponential`` ``-mean_ms * ln(risk) -
        mean_ms``; ``lognormal`` ``exp(mu + sigma * z) - mean_ms`` with ``z`` the standard normal's
        ``1 - risk`` quantile; ``empirical`` :func:`upper_quantile_ms` of the samples less their mean.
        A deadline planner keeps this much of a frame's budget free so that at most ``risk`` of its
        plans finish late.
        """
        if not 0.0 < risk < 1.0:
            raise ValueError(f"risk={risk!r}: a probability in (0, 1)")
        if self.dist == "empirical":
            return max(0.0, upper_quantile_ms(self.samples_ms, risk) - self.mean())
        if self.dist == "fixed" or self.mean_ms == 0.0:
            return 0.0
        if self.dist == "exponential":
            return max(0.0, -self.mean_ms * math.log(risk) - self.mean_ms)
        mu = math.log(self.mean_ms) - 0.5 * self.sigma**2
        return max(0.0, math.exp(mu + self.sigma * NormalDist().inv_cdf(1.0 - risk)) - self.mean_ms)


def upper_quantile_ms(samples_ms, risk: float) -> float:
    """The smallest of ``samples_ms`` with at most ``risk`` of them above it, ms (0 without samples). With 40
    samples and ``risk=0.01`` it is the largest: 40 draws cannot show a 1 % tail."""
    if len(samples_ms) == 0:
        return 0.0
    s = np.sort(np.asarray(samples_ms, float))
    k = max(1, math.ceil(len(s) * (1.0 - risk) - 1e-9))  # 1-based rank: (n - k) / n <= risk
    return float(s[k - 1])


def nearest_px(table_px, resolution: int) -> int:
    """The side (px) among ``table_px`` (ints or JSON string keys) nearest ``resolution`` in log
    scale, the smaller on a tie: the entry a profile's times at ``resolution`` are scaled from."""
    return min((int(r) for r in table_px), key=lambda r: (abs(np.log(r / resolution)), r))


class LatencyProfile(Spec):
    """A calibrated, published or estimated decode-time profile with its provenance.

    ``eval_ms[resolution][batch]`` is the time of one denoiser evaluation for ``batch`` frames at
    ``resolution`` px (JSON keys are strings). Missing batch sizes are interpolated linearly;
    missing resolutions scale with pixel count from the nearest (so a profile published at 512 px
    gives a quarter of its time at 256 px). ``vae_decode_ms[resolution]`` / ``vae_encode_ms[resolution]``
    (per frame, same resolution rule) are 0 when absent.

    ``kind``: ``measured`` (``gsvc calibrate`` on this kind of device), ``published`` (numbers read
    from public benchmarks) or ``roofline`` (FLOPs and bytes against a datasheet);
    ``sources[field path]`` (e.g. ``"eval_ms.512.1"``, ``"vae_decode_ms.512"``, ``"controlnet_factor"``):
    where that number comes from (repository, file, commit or paper; raw quote; derivation).
    ``controlnet_factor``: factor on every evaluation when the receiver runs a ControlNet beside
    the UNet (``receiver.controlnet="on"``); None when the profile does not know it.
    """

    name: str = "inline"
    device: str = "unspecified"
    created: str = ""
    model: str = ""
    kind: Literal["measured", "published", "roofline"] = "measured"
    versions: dict[str, str] = Field(default_factory=dict)
    eval_ms: dict[str, dict[str, float]] = Field(default_factory=lambda: {"64": {"1": 0.0}})
    overhead_ms: float = bounded(0.0, 0.0, 60_000.0, "ms", "fixed cost per decode batch")
    per_frame_ms: float = bounded(0.0, 0.0, 60_000.0, "ms", "cost per frame in a batch outside the denoiser")
    encode_ms: float = bounded(0.0, 0.0, 60_000.0, "ms", "sender encode time per frame")
    classic_ms: float = bounded(1.0, 0.0, 60_000.0, "ms", "decode time of a classic (non-diffusion) frame")
    vae_decode_ms: dict[str, float] = Field(default_factory=dict)
    vae_encode_ms: dict[str, float] = Field(default_factory=dict)
    controlnet_factor: float | None = None
    jitter: ServiceJitter = ServiceJitter()
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("controlnet_factor")
    @classmethod
    def _factor_at_least_one(cls, v):
        if v is not None and not (1.0 <= v <= 10.0):
            raise ValueError(f"controlnet_factor={v} is outside [1, 10] (a ControlNet adds work to each evaluation)")
        return v

    @staticmethod
    def _scaled(table: dict[str, float], resolution: int) -> float:
        if not table:
            return 0.0
        near = nearest_px(table, resolution)
        return float(table[str(near)]) * (resolution / near) ** 2

    def vae_decode_time_ms(self, resolution: int) -> float:
        """Milliseconds to decode one frame from model space to pixels at ``resolution`` px (0 if none)."""
        return self._scaled(self.vae_decode_ms, resolution)

    def vae_encode_time_ms(self, resolution: int) -> float:
        """Milliseconds to encode one image at ``resolution`` px to model space (0 if none)."""
        return self._scaled(self.vae_encode_ms, resolution)

    def timed_as(self, frame_px: int, timing_px: int) -> "LatencyProfile":
        """This profile's times at ``timing_px`` served for frames of ``frame_px``.

        For a receiver whose model runs at ``timing_px`` (SD-1.5 at 512 px) simulated with frames a
        smaller model makes (the shipped one at 64 px): every decode of a ``frame_px`` frame then
        takes what one ``timing_px`` frame takes. The sources and notes say so.
        """
        near = nearest_px(self.eval_ms, timing_px)
        batches = sorted(int(b) for b in self.eval_ms[str(near)])
        eval_ms = {str(frame_px): {str(b): self.eval_time_ms(timing_px, b) for b in batches}}
        sources = {k: v for k, v in self.sources.items() if not k.startswith(("eval_ms.", "vae_"))}
        for b in batches:
            sources[f"eval_ms.{frame_px}.{b}"] = (f"= {self.name}'s time at {timing_px} px, batch {b} (served for "
                                                  f"{frame_px} px frames); " + self.sources.get(f"eval_ms.{near}.{b}", ""))
        extra = {}
        for field in ("vae_decode_ms", "vae_encode_ms"):
            if getattr(self, field):
                ms = self._scaled(getattr(self, field), timing_px)
                extra[field] = {str(frame_px): ms}
                key = nearest_px(getattr(self, field), timing_px)
                sources[f"{field}.{frame_px}"] = (f"= {self.name}'s {field} at {timing_px} px; "
                                                  + self.sources.get(f"{field}.{key}", ""))
        return self.model_copy(update=dict(
            name=f"{self.name}@{timing_px}px-for-{frame_px}px", eval_ms=eval_ms, sources=sources, **extra,
            notes=f"{self.notes} Times of {timing_px} px frames served for {frame_px} px frames (timed_as)."))

    def eval_time_ms(self, resolution: int, batch: int) -> float:
        """Milliseconds of one denoiser evaluation for ``batch`` frames at ``resolution`` px."""
        near = nearest_px(self.eval_ms, resolution)
        table = sorted((int(b), float(ms)) for b, ms in self.eval_ms[str(near)].items())
        bs = np.array([b for b, _ in table], float)
        ms = np.array([m for _, m in table], float)
        if len(bs) == 1:
            t = ms[0] * batch / bs[0]
        elif batch > bs[-1]:  # extrapolate with the slope of the last two points
            t = ms[-1] + (batch - bs[-1]) * (ms[-1] - ms[-2]) / (bs[-1] - bs[-2])
        else:
            t = float(np.interp(batch, bs, ms))
        return t * (resolution / near) ** 2


def list_profiles() -> list[str]:
    """Names of the profiles shipped with gsvc."""
    root = resources.files("gsvc.timing") / "profiles"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def load_profile(name_or_path: str) -> LatencyProfile:
    """Load a shipped profile by name (``cpu-2core``) or a JSON file by path."""
    path = Path(name_or_path)
    if not path.suffix == ".json":
        path = Path(str(resources.files("gsvc.timing") / "profiles" / f"{name_or_path}.json"))
    if not path.exists():
        raise SpecError([f"receiver.latency='profile:{name_or_path}' names no profile; "
                         f"shipped: {', '.join(list_profiles()) or 'none'} (or give a path to a JSON file; "
                         "`gsvc calibrate` writes one)"])
    return LatencyProfile(**json.loads(path.read_text()))


def profile_of(latency: str | LatencyProfile) -> LatencyProfile | None:
    """The profile ``receiver.latency`` names (``"profile:NAME"`` or inline), None for ``"measured"`` and
    a registered model (``"model:NAME"``, :mod:`gsvc.timing.custom`)."""
    if isinstance(latency, LatencyProfile):
        return latency
    return load_profile(latency[len("profile:"):]) if latency.startswith("profile:") else None


def controlnet_problem(profile: LatencyProfile | None, controlnet: str, latency="measured") -> str | None:
    """Why ``receiver.controlnet`` cannot time ``profile`` (None: ``latency`` is no profile), or None if it can."""
    if controlnet not in ("off", "on"):
        return f"receiver.controlnet={controlnet!r} is not 'off' or 'on'"
    if controlnet == "off":
        return None
    if profile is None:
        return (f"receiver.controlnet='on' scales a profile's evaluations; receiver.latency={latency!r} is not "
                "a profile (give a profile, or controlnet='off')")
    if profile.controlnet_factor is None:
        with_factor = ", ".join(n for n in list_profiles() if load_profile(n).controlnet_factor) or "none"
        return (f"receiver.controlnet='on' needs a profile with a controlnet_factor; profile {profile.name!r} "
                f"has none (shipped profiles with one: {with_factor})")
    return None


def timed_as_problem(profile: LatencyProfile | None, timed_as_px: int | None, latency="measured") -> str | None:
    """Why ``receiver.timed_as_px`` cannot apply (None: ``latency`` is no profile), or None if it can."""
    if timed_as_px is not None and profile is None:
        return (f"receiver.timed_as_px serves a profile's times at another side; receiver.latency={latency!r} is "
                "not a profile (give a profile, or leave timed_as_px unset)")
    return None
