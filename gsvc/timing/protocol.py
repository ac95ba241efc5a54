"""The interface the receiver times decodes through: :class:`LatencyModel`.

The simulator (``gsvc.netsim``) depends on this protocol only; which model answers (a profile, the
host's wall clock, a user's own) is chosen by ``receiver.latency`` when the run is built.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .profile import LatencyProfile

__all__ = ["LatencyModel"]


@runtime_checkable
class LatencyModel(Protocol):
    """Service times of the GPU receiver and the sender's encoder, in simulated ms.

    ``kind``: ``"profile"`` or ``"measured"`` (recorded in the run's meta); ``profile``: the
    :class:`~gsvc.timing.profile.LatencyProfile` the times come from, None when they are measured.

    Optional: ``tail_ms(risk) -> ms``, how far above :meth:`expected_ms` a decode lands with
    probability at most ``risk``. A model that has it lets adaptive control keep that much of each
    frame's budget free (``codec.deadline_risk``); both built-in models have it.
    """

    kind: str
    profile: "LatencyProfile | None"

    def decode_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                  measured_ms: float | None = None, vae_encodes: int = 0) -> float:
        """Service time of one decode batch, ms: ``batch`` frames of ``resolution`` px whose plans need
        at most ``evals`` denoiser evaluations and ``vae_encodes`` image-to-latent encodes in all;
        ``classic``: every frame is a classic (H.264/H.265) decode; ``measured_ms``: the wall time
        the real decode took here (None in a timing-only run)."""
        ...

    def encode_ms(self, measured_ms: float | None = None) -> float:
        """The sender's encode time of one frame, ms (``measured_ms``: its wall time here, if known)."""
        ...

    def expected_ms(self, evals: int, batch: int, resolution: int, classic: bool = False,
                    vae_encodes: int = 0) -> float:
        """The mean of :meth:`decode_ms` for planning (shedding, a codec's step budget), ms."""
        ...

    def observe(self, evals: int, service_ms: float) -> None:
        """A finished decode's evaluations and service time; a model that learns updates
        :meth:`expected_ms` from it, a fixed one ignores it (``learns`` is False)."""
        ...

    @property
    def learns(self) -> bool:
        """Whether :meth:`expected_ms` changes as decodes finish (the receiver then asks it every time)."""
        ...
