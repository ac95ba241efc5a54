"""Which codec a scenario runs, and its settings."""
from __future__ import annotations

from pydantic import field_validator

from ..spec import Spec, bounded

__all__ = ["CodecSpec"]


class CodecSpec(Spec):
    """Codec name and settings. Fields a codec does not use are ignored by it.

    ``steps``: sampler steps of a diffusion codec. ``gop``: frames per group (anchor
    period). ``bitrate_kbps``: target rate of rate-controlled codecs.
    """

    spec_path = "codec"
    name: str = "synthetic"
    steps: int = bounded(4, 1, 1000, "steps")
    gop: int = bounded(15, 1, 10_000, "frames")
    bitrate_kbps: float = bounded(64.0, 1.0, 1_000_000.0, "kbit/s")
    anchor_ratio: float = bounded(4.0, 1.0, 100.0, "", "anchor size / delta size (synthetic codec)")

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from .registry import codec_names
        if v not in codec_names():
            raise ValueError(f"names no codec; known: {', '.join(codec_names())}")
        return v
