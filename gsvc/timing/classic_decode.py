"""How long a classic (H.264/H.265) decode takes on this host: the ``classic_ms`` of a profile."""
from __future__ import annotations

import time

import numpy as np

__all__ = ["measure_decode_ms"]


def measure_decode_ms(name: str, resolution: int, frames: int = 60, bitrate_kbps: float = 64.0,
                      fps: float = 15.0) -> float:
    """Median wall time of one ``decode`` call here, ms, over ``frames`` procedural frames.

    Encodes the clip first (keyframe on the first frame), then times the decoder alone,
    including the conversion to RGB that ``decode`` returns.
    """
    from ..codecs.registry import make_codec
    from ..codecs.spec import CodecSpec
    from ..video import VideoSpec, open_source

    video = VideoSpec(seconds=frames / fps, fps=fps, resolution=resolution)
    codec = make_codec(CodecSpec(name=name, bitrate_kbps=bitrate_kbps), video)
    enc, dec = codec.encoder(0), codec.decoder(0)
    encoded = [ef for f in open_source(video, seed=0) for ef in enc.encode(f, ())]
    times_ms = []
    for ef in encoded:
        plan = dec.plan(ef, True, None)
        t0 = time.perf_counter()
        dec.decode(ef, plan)
        times_ms.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times_ms))
