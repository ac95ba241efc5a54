"""Which codec a scenario runs, and its settings."""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from ..spec import Spec, bounded

__all__ = ["CodecSpec"]


class CodecSpec(Spec):
    """Codec name and settings. Fields a codec does not use are ignored by it.

    ``steps``: length of a diffusion codec's sampling schedule (``full`` runs all of it
    from noise; ``cvsc`` runs the last ``ceil(strength * steps)`` of it from the warped
    reference; ``anchor_steps`` is used for anchors). ``gop``: frames per group (anchor
    period). ``bitrate_kbps``: target rate of rate-controlled codecs. ``thumbnail``: send
    an 8x8 thumbnail with no frame, with anchors, or with every frame. ``label_factor``:
    downsampling of the transmitted label map. ``weights``: path of denoiser weights
    (None: the shipped ones).
    """

    spec_path = "codec"
    name: str = "synthetic"
    steps: int = bounded(10, 1, 1000, "steps")
    gop: int = bounded(15, 1, 10_000, "frames")
    bitrate_kbps: float = bounded(64.0, 1.0, 1_000_000.0, "kbit/s")
    anchor_ratio: float = bounded(4.0, 1.0, 100.0, "", "anchor size / delta size (synthetic codec)")
    strength: float = bounded(0.3, 0.01, 1.0, "", "noise strength a reference is taken to before refinement")
    anchor_steps: int | None = bounded(None, 1, 1000, "steps", "schedule length for anchors (None: steps)")
    thumbnail: Literal["off", "anchors", "all"] = "anchors"
    sampler: Literal["ddim", "dpm"] = "ddim"
    label_factor: Literal[1, 2, 4] = 1
    weights: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from .registry import codec_names
        if v not in codec_names():
            raise ValueError(f"names no codec; known: {', '.join(codec_names())}")
        return v
