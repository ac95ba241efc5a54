"""Simulated time: decode-time profiles, the latency models the receiver calls, calibration and estimates.

* :mod:`~gsvc.timing.protocol`: :class:`LatencyModel`, the one interface the simulator times through.
* :mod:`~gsvc.timing.profile`: :class:`LatencyProfile` (a table with provenance) and the shipped profiles.
* :mod:`~gsvc.timing.latency`: :class:`ProfileLatency`, :class:`MeasuredLatency`, :func:`make_latency_model`.
* :mod:`~gsvc.timing.calibrate` (``gsvc calibrate``), :mod:`~gsvc.timing.flops` and
  :mod:`~gsvc.timing.roofline` (``gsvc calibrate --roofline GPU``), :mod:`~gsvc.timing.classic_decode`:
  where a profile's numbers come from.
"""
from .custom import latency_model_names, register_latency_model
from .latency import MeasuredLatency, ProfileLatency, make_latency_model
from .profile import LatencyProfile, ServiceJitter, list_profiles, load_profile, profile_of
from .protocol import LatencyModel

__all__ = ["LatencyModel", "LatencyProfile", "ServiceJitter", "ProfileLatency", "MeasuredLatency",
           "make_latency_model", "load_profile", "list_profiles", "profile_of", "register_latency_model",
           "latency_model_names"]


def __getattr__(name: str):
    if name == "JitterSpec":
        from . import profile
        return profile.JitterSpec  # warns: renamed ServiceJitter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
