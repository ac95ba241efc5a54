"""Whole simulator over fading links: a worse radio link shows up as higher frame latency."""
import pytest

import gsvc
from helpers import timing_scenario


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    monkeypatch.setenv("GSVC_CACHE_DIR", "off")


def _run(channel: dict, link: dict):
    sc = timing_scenario(channel={"model": "tdl-c", "speed_kmh": 3, **channel}, link={"trace_s": 5.0, **link},
                         codec=dict(name="synthetic", steps=4, bitrate_kbps=1500))
    frames = gsvc.run(sc).frames
    network_ms = (frames["arrive_ms"] - frames["capture_ms"]).mean()
    return float(frames["latency_ms"].median()), float(network_ms)


def test_lower_snr_gives_higher_latency():
    good, bad = _run({"snr_db": 20}, {}), _run({"snr_db": 3}, {})
    assert bad[0] > good[0] and bad[1] > good[1]


def test_narrower_bandwidth_gives_higher_latency():
    wide, narrow = _run({"snr_db": 10}, {"bandwidth_mhz": 20}), _run({"snr_db": 10}, {"bandwidth_mhz": 5})
    assert narrow[0] > wide[0] and narrow[1] > wide[1]
