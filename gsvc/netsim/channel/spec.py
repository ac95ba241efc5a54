"""Specs of the radio channel and of the link that serves it."""
from __future__ import annotations

from typing import Literal

from ...spec import Spec, bounded

__all__ = ["ChannelSpec", "LinkSpec"]


class ChannelSpec(Spec):
    """The propagation channel of each stream's downlink.

    ``model="ideal"`` is an error-free link of constant rate ``rate_mbps`` (no fading);
    the fading models are drawn with Sionna by :func:`gsvc.netsim.channel.draw_trace`.
    """

    spec_path = "channel"
    model: Literal["ideal"] = "ideal"
    snr_db: float = bounded(10.0, -30.0, 60.0, "dB", "mean SNR at the receiver")
    speed_kmh: float = bounded(3.0, 0.0, 500.0, "km/h", "UE speed (Doppler)")
    carrier_ghz: float = bounded(3.5, 0.5, 100.0, "GHz", "carrier frequency")
    rate_mbps: float = bounded(20.0, 0.01, 10_000.0, "Mbit/s", "rate of the ideal link")


class LinkSpec(Spec):
    """Numerology, HARQ and the fixed parts of the path between sender and receiver."""

    spec_path = "link"
    bandwidth_mhz: float = bounded(10.0, 1.0, 400.0, "MHz", "channel bandwidth")
    scs_khz: Literal[15, 30, 60, 120] = 30
    harq_max_retx: int = bounded(3, 0, 8, "", "HARQ retransmissions before a transport block is lost")
    harq_rtt_ms: float = bounded(2.0, 0.0, 50.0, "ms", "time from a failed transmission to its retransmission")
    bler_target: float = bounded(0.1, 0.001, 0.5, "", "first-transmission BLER that link adaptation aims for")
    mtu_bytes: int = bounded(1200, 64, 9000, "bytes", "largest packet payload")
    core_delay_ms: float = bounded(5.0, 0.0, 1000.0, "ms", "one-way delay from the base station to the receiver")
    uplink_delay_ms: float = bounded(10.0, 0.0, 1000.0, "ms", "one-way delay of feedback from receiver to sender")
    trace_s: float = bounded(10.0, 0.1, 3600.0, "s", "length of the channel trace drawn (it repeats after)")

    @property
    def slot_s(self) -> float:
        """Slot duration from the numerology: 1 ms / 2^mu with SCS = 15 kHz * 2^mu."""
        return 1e-3 * 15.0 / self.scs_khz
