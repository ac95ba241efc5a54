"""Channel traces for the link: what each slot can carry, when it arrives, what is lost."""
from __future__ import annotations

from ..trace import ChannelTrace, constant_rate_trace
from .spec import ChannelSpec, LinkSpec

__all__ = ["ChannelSpec", "LinkSpec", "ChannelTrace", "draw_trace"]


def draw_trace(channel: ChannelSpec, link: LinkSpec, seed: int) -> ChannelTrace:
    """Draw the whole per-slot trace for one stream, before the event loop.

    Deterministic for ``(channel, link, seed)``. The core-network delay is added to
    every delivery time.
    """
    if channel.model == "ideal":
        return constant_rate_trace(channel.rate_mbps, slot_s=link.slot_s, duration_s=link.trace_s,
                                   delay_s=link.core_delay_ms / 1e3)
    raise ValueError(f"channel.model={channel.model!r} is not implemented")
