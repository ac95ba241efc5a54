"""Whole traces from draw_trace: capacity, link adaptation, HARQ, mobility, determinism."""
import math
import subprocess
import sys

import numpy as np
import pytest

from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch):
    monkeypatch.setenv("GSVC_CACHE_DIR", "off")


def _trace(seconds=2.0, seed=1, link=None, **channel):
    return draw_trace(ChannelSpec(**channel), LinkSpec(trace_s=seconds, **(link or {})), seed, cache=False)


@pytest.mark.parametrize("snr_db", [-20, -5, 0, 5, 10, 15, 20, 30])
def test_awgn_goodput_never_beats_shannon(snr_db):
    tr = _trace(model="awgn", snr_db=snr_db)
    assert tr.goodput_mbps <= 10.0 * math.log2(1 + 10 ** (snr_db / 10))


@pytest.mark.parametrize("snr_db", [10, 12.5, 15, 17.5, 20])
def test_awgn_goodput_with_olla_reaches_40_percent_of_shannon(snr_db):
    tr = _trace(model="awgn", snr_db=snr_db)
    assert tr.goodput_mbps >= 0.4 * 10.0 * math.log2(1 + 10 ** (snr_db / 10))


def test_goodput_grows_with_snr_and_bandwidth():
    g = [_trace(model="tdl-c", snr_db=s).goodput_mbps for s in (0, 10, 20)]
    assert g[0] < g[1] < g[2]
    wide = _trace(model="tdl-c", snr_db=10, link=dict(bandwidth_mhz=20)).goodput_mbps
    assert wide > 1.6 * g[1]


@pytest.mark.parametrize("model, target", [("tdl-c", 0.1), ("tdl-a", 0.05), ("cdl-b", 0.2)])
def test_olla_meets_first_transmission_bler_target(model, target):
    tr = _trace(20.0, model=model, snr_db=12, speed_kmh=30, link=dict(bler_target=target))
    assert abs(tr.meta["first_tx_bler"] - target) <= 0.03


def test_retransmissions_take_slots_and_add_rtt_multiples():
    link = dict(harq_max_retx=3, harq_rtt_ms=2.0, core_delay_ms=5.0, mcs=16)
    tr = _trace(5.0, model="tdl-c", snr_db=8, speed_kmh=3, link=link)
    retx, tx = tr.info["retx"], tr.info["tx_count"]
    assert retx.any() and np.all(tr.tb_bits[retx] == 0) and np.all(tx[retx] == 0)
    new = ~retx
    assert np.all(tr.tb_bits[new] > 0) and np.all((tx[new] >= 1) & (tx[new] <= 4))
    extra_s = tr.deliver_s[new] - (np.flatnonzero(new) + 1) * tr.slot_s - 5e-3
    rtt_s = 4 * tr.slot_s                                   # 2 ms at 0.5-ms slots
    assert np.all(extra_s >= (tx[new] - 1) * rtt_s - 1e-9)
    assert np.median(extra_s[tx[new] == 2]) == pytest.approx(rtt_s)
    assert np.all(tr.lost[new] <= (tx[new] == 4))           # only blocks that used every copy are lost


def test_fewer_retransmissions_lose_more_and_none_means_no_retx_slots():
    kw = dict(model="tdl-c", snr_db=5, speed_kmh=3)
    lost = [_trace(4.0, link=dict(harq_max_retx=r, mcs=12), **kw).lost.mean() for r in (0, 1, 3)]
    assert lost[0] > lost[1] > lost[2]
    tr = _trace(4.0, link=dict(harq_max_retx=0, mcs=12), **kw)
    assert not tr.info["retx"].any()


def test_chase_combining_loses_fewer_blocks_than_plain_retransmission():
    kw = dict(model="rayleigh", snr_db=6, speed_kmh=3)
    chase = _trace(4.0, link=dict(mcs=14, harq_max_retx=2), **kw)
    plain = _trace(4.0, link=dict(mcs=14, harq_max_retx=2, harq_combining="none"), **kw)
    assert chase.lost.mean() < plain.lost.mean()


def _coherence_lag(tr) -> int:
    p = 10.0 ** (tr.info["sinr_db"].astype(np.float64) / 10)
    p = p - p.mean()
    n = len(p) // 2
    acf = np.correlate(p, p[:n], "valid") / np.dot(p[:n], p[:n])
    return int(np.argmax(acf < 0.5))


def test_faster_ue_gives_shorter_coherence_time_in_a_tdl_trace():
    slow = _coherence_lag(_trace(10.0, model="tdl-c", speed_kmh=3, snr_db=10))
    fast = _coherence_lag(_trace(10.0, model="tdl-c", speed_kmh=60, snr_db=10))
    assert 0 < fast < slow / 5


def test_umi_mean_snr_falls_with_distance():
    near = _trace(model="umi", distance_m=50, los="nlos", shadowing="off")
    far = _trace(model="umi", distance_m=500, los="nlos", shadowing="off")
    assert far.meta["mean_snr_db"] < near.meta["mean_snr_db"] - 20
    assert far.goodput_mbps < near.goodput_mbps
    assert far.meta["small_scale"] == "tdl-a" and not far.meta["los"]


def test_uma_shadowing_varies_the_mean_snr_along_the_path():
    tr = _trace(4.0, model="uma", distance_m=300, speed_kmh=60, los="los")
    snr = tr.info["snr_db"]
    assert snr.std() > 0.1 and tr.meta["los"] and tr.meta["small_scale"] == "tdl-d"


def test_same_seed_same_trace_other_seed_other_trace():
    a, b = _trace(model="tdl-c", seed=4), _trace(model="tdl-c", seed=4)
    c = _trace(model="tdl-c", seed=5)
    assert np.array_equal(a.tb_bits, b.tb_bits) and np.array_equal(a.deliver_s, b.deliver_s)
    assert not np.array_equal(a.info["sinr_db"], c.info["sinr_db"])


_DIGEST = """
import hashlib, numpy as np, torch
torch.set_num_threads({threads})
from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace
tr = draw_trace(ChannelSpec(model="cdl-c", snr_db=12, speed_kmh=30), LinkSpec(trace_s=1.0), 9, cache=False)
h = hashlib.sha256()
for a in (tr.tb_bits, tr.deliver_s, tr.lost, tr.info["sinr_db"]):
    h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


def test_trace_does_not_depend_on_the_torch_thread_count():
    import torch
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _trace(1.0, model="cdl-c", snr_db=12, speed_kmh=30, seed=9)
    finally:
        torch.set_num_threads(before)
    default = _trace(1.0, model="cdl-c", snr_db=12, speed_kmh=30, seed=9)
    assert np.array_equal(one.info["sinr_db"], default.info["sinr_db"])
    assert np.array_equal(one.deliver_s, default.deliver_s)


@pytest.mark.slow
def test_trace_is_identical_in_another_process_with_other_thread_count():
    here = _trace(1.0, model="cdl-c", snr_db=12, speed_kmh=30, seed=9)
    import hashlib
    h = hashlib.sha256()
    for a in (here.tb_bits, here.deliver_s, here.lost, here.info["sinr_db"]):
        h.update(np.ascontiguousarray(a).tobytes())
    out = subprocess.run([sys.executable, "-c", _DIGEST.format(threads=1)], capture_output=True, text=True,
                         check=True, env={**__import__("os").environ, "GSVC_CACHE_DIR": "off"})
    assert out.stdout.strip() == h.hexdigest()
