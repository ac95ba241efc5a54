"""Packetisation of an encoded frame into MTU-sized packets."""
from __future__ import annotations

__all__ = ["packetise", "HEADER_BYTES"]

#: IPv4 (20) + UDP (8) + RTP (12) header bytes carried by every packet (RFC 791, 768, 3550)
HEADER_BYTES = 40


def packetise(payload_bytes: int, mtu_bytes: int, header_bytes: int = HEADER_BYTES) -> list[int]:
    """Sizes on the wire (bytes) of the packets that carry ``payload_bytes``, in order.

    Payload is split into chunks of at most ``mtu_bytes - header_bytes``; every packet
    also carries the header. An empty payload still needs one packet (a frame marker).
    """
    room = mtu_bytes - header_bytes
    if room <= 0:
        raise ValueError(f"link.mtu_bytes={mtu_bytes} leaves no room after {header_bytes} header bytes")
    if 0 <= payload_bytes <= room:
        return [payload_bytes + header_bytes]  # the common case of a small frame, kept cheap
    full, rest = divmod(max(payload_bytes, 0), room)
    sizes = [room + header_bytes] * full
    if rest or full == 0:
        sizes.append(rest + header_bytes)
    return sizes
