"""Ready scenarios to copy and change.

::

    from gsvc.scenarios import presets
    sc = presets.get_preset("pedestrian-urban").updated({"channel.snr_db": 5})

The single-stream presets run the ``cvsc`` diffusion codec for real on the shipped
denoiser (quality is scored), with decode times from the calibrated CPU profile
``cpu-2core``; swap ``codec.name`` to compare codecs. ``edge-server-multiuser``
decodes timing-only with the ``synthetic`` codec: ten streams of real decodes on a
CPU host take minutes, and its question is queueing, not pixels.
The ``cvsc`` presets set its published settings (10 steps, strength 0.3, groups of 15), which
the ``cpu-2core`` receiver cannot keep up with unless the adaptive controller trades steps
for time. Swapping ``codec.name`` keeps those values (a value given in a scenario wins over the
new codec's tuned defaults); to compare codecs at their own defaults, replace the section:
``sc.updated({"codec": {"name": "reuse", "control": "adaptive"}})``.
Channel numbers follow 3GPP TR 38.901 (TDL profiles, Table 7.7.3-1 delay
spreads) and TS 38.101 numerologies.
"""
from __future__ import annotations

from typing import Callable

from .scenario import Scenario

__all__ = ["demo_scenario", "PRESETS", "get_preset", "list_presets"]

_TIMING = dict(latency="profile:cpu-2core", decode="timing-only")
_REAL = dict(latency="profile:cpu-2core", decode="real")
_CVSC = dict(name="cvsc", steps=10, strength=0.3, gop=15)


def demo_scenario() -> Scenario:
    """What ``gsvc demo`` runs: one 10 s, 15 fps street scene coded by ``cvsc`` under gsvc's
    adaptive controller (the shipped diffusion denoiser really runs) over a Sionna TDL-C link at
    10 dB, 10 MHz; decode times from the calibrated CPU profile; quality scored.

    The controller is on because on the ``cpu-2core`` profile cvsc's own 3.5 evaluations per
    frame (29 ms each at 64 px) take longer than the 67 ms frame interval: alone, every frame
    of a 3 s run is late and latency grows without bound; adaptive, none is (measured over the 10 s:
    0 % misses, 26.2 dB, 1.0 evaluation per frame, 91 ms median latency)."""
    return Scenario(
        name="demo", seed=7, streams=1,
        video=dict(seconds=10, fps=15, resolution=64, motion_px=2),
        codec={**_CVSC, "control": "adaptive"},
        channel=dict(model="tdl-c", snr_db=10, speed_kmh=3, carrier_ghz=3.5),
        link=dict(bandwidth_mhz=10, scs_khz=30),
        jitter=dict(mode="adaptive"),
        receiver=dict(gpus=1, policy="edf", **_REAL),
    )


def pedestrian_urban() -> Scenario:
    """A walking user in a city street: TDL-C (urban NLoS), 3 km/h, 10 dB, 10 MHz at 3.5 GHz."""
    return Scenario(
        name="pedestrian-urban", seed=1,
        video=dict(seconds=10, fps=15, resolution=64, camera="pan", motion_px=2),
        codec=_CVSC,
        channel=dict(model="tdl-c", snr_db=10, speed_kmh=3, carrier_ghz=3.5, delay_spread_ns=100),
        link=dict(bandwidth_mhz=10, scs_khz=30),
        receiver=dict(gpus=1, policy="edf", **_REAL),
    )


def vehicular_highway() -> Scenario:
    """A car on a highway: TDL-D (LoS, Rician) at 120 km/h, so the fading decorrelates within
    a few slots (Doppler about 390 Hz at 3.5 GHz); 15 dB, 20 MHz."""
    return Scenario(
        name="vehicular-highway", seed=2,
        video=dict(seconds=10, fps=15, resolution=64, camera="pan", motion_px=6),
        codec=_CVSC,
        channel=dict(model="tdl-d", snr_db=15, speed_kmh=120, carrier_ghz=3.5, delay_spread_ns=30),
        link=dict(bandwidth_mhz=20, scs_khz=30),
        receiver=dict(gpus=1, policy="edf", **_REAL),
    )


def cell_edge() -> Scenario:
    """A user at the cell edge: TDL-C at 0 dB mean SNR, walking, 5 MHz, where link adaptation has to pick low MCS."""
    return Scenario(
        name="cell-edge", seed=3,
        video=dict(seconds=10, fps=15, resolution=64),
        codec=_CVSC,
        channel=dict(model="tdl-c", snr_db=0, speed_kmh=3, carrier_ghz=3.5, delay_spread_ns=300),
        link=dict(bandwidth_mhz=5, scs_khz=15),
        receiver=dict(gpus=1, policy="edf", **_REAL),
    )


def scene_cut_stress() -> Scenario:
    """Hard content: a camera that pans, zooms or shakes at 6 px/frame (drawn per scene) and a scene
    cut every 2 s on average plus three fixed ones, so anchors are frequent; pedestrian TDL-C at 15 dB."""
    return Scenario(
        name="scene-cut-stress", seed=4,
        video=dict(seconds=10, fps=15, resolution=64, camera="mixed", motion_px=6, cut_rate_hz=0.5,
                   cuts_s=[2.0, 5.0, 7.5], object_speed_px=4),
        codec=_CVSC,
        channel=dict(model="tdl-c", snr_db=15, speed_kmh=3, carrier_ghz=3.5),
        link=dict(bandwidth_mhz=10, scs_khz=30),
        receiver=dict(gpus=1, policy="edf", **_REAL),
    )


def edge_server_multiuser() -> Scenario:
    """Ten cameras in one UMi cell sending uplink to an edge server with 4 GPUs: a 20 MHz carrier
    scheduled in the run by queue-aware proportional fair, UEs at 23 dBm with TS 38.213 open-loop
    power control, buffer status every 5 ms and a 2 ms scheduling request, interference from one
    UE of each of the other 20 sectors of a one-ring layout (Sionna TR 38.901 system-level
    channel); 10 fps streams decoded earliest-deadline-first, one denoising step per frame."""
    # With the cpu-2core profile a 1-step decode takes about 29 ms (eval_ms at 64 px), so ten 10 fps
    # streams load the 4 GPUs to about 75 %. Batching (receiver.max_batch) is off: in that profile a
    # batch of 2 costs 1.5x a single frame (42.6 vs 29.1 ms); load a GPU profile
    # (receiver.latency="profile:NAME") to study it.
    return Scenario(
        name="edge-server-multiuser", seed=5, streams=10,
        video=dict(seconds=10, fps=10, resolution=64),
        codec=dict(name="synthetic", steps=1, bitrate_kbps=64),
        channel=dict(model="umi", speed_kmh=3, carrier_ghz=3.5),
        link=dict(bandwidth_mhz=20, scs_khz=30, direction="uplink"),
        cell=dict(scheduler="pf", interference="full-buffer", traffic="queue", bsr_period_ms=5.0, sr_delay_ms=2.0),
        receiver=dict(gpus=4, policy="edf", max_batch=1, **_TIMING),
    )


#: preset name -> builder (each call returns a new, validated Scenario)
PRESETS: dict[str, Callable[[], Scenario]] = {
    "pedestrian-urban": pedestrian_urban,
    "vehicular-highway": vehicular_highway,
    "cell-edge": cell_edge,
    "scene-cut-stress": scene_cut_stress,
    "edge-server-multiuser": edge_server_multiuser,
}


def get_preset(name: str) -> Scenario:
    """The preset called ``name`` (see :func:`list_presets`)."""
    if name not in PRESETS:
        raise KeyError(f"no preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name]()


def list_presets() -> dict[str, str]:
    """Preset name -> its one-line description."""
    return {name: " ".join((build.__doc__ or "").split()) for name, build in PRESETS.items()}
