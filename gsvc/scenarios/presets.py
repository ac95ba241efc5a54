"""Ready scenarios to copy and change."""
from __future__ import annotations

from .scenario import Scenario

__all__ = ["demo_scenario"]


def demo_scenario() -> Scenario:
    """What ``gsvc demo`` runs: one 10 s, 15 fps stream through the whole pipeline.

    The synthetic codec stands in for the diffusion codecs (timing-only: sizes from
    the bitrate, decode time from the calibrated CPU profile of the shared denoiser).
    """
    return Scenario(
        name="demo", seed=7, streams=1,
        video=dict(seconds=10, fps=15, resolution=64),
        codec=dict(name="synthetic", steps=4, bitrate_kbps=64),
        link=dict(bandwidth_mhz=10, scs_khz=30),
        jitter=dict(mode="adaptive"),
        receiver=dict(gpus=1, policy="edf", latency="profile:cpu-2core", decode="timing-only"),
    )
