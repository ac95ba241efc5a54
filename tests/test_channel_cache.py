"""The trace cache: disk files written atomically, reloaded identically, keyed by everything that matters."""
import os

import numpy as np
import pytest

from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace
from gsvc.netsim.channel import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GSVC_CACHE_DIR", str(tmp_path))
    cache.clear_memory()
    yield tmp_path
    cache.clear_memory()


SPECS = (ChannelSpec(model="tdl-c", snr_db=10), LinkSpec(trace_s=0.5))


def test_trace_is_written_once_and_read_back_identically(cache_dir):
    first = draw_trace(*SPECS, 3)
    files = os.listdir(cache_dir)
    assert len(files) == 1 and files[0].endswith(".npz")
    cache.clear_memory()
    again = draw_trace(*SPECS, 3)
    for name in ("tb_bits", "deliver_s", "lost"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert set(first.info) == set(again.info) and first.meta == again.meta
    assert np.array_equal(first.info["sinr_db"], again.info["sinr_db"])


def test_memory_cache_returns_the_same_read_only_trace(cache_dir):
    a = draw_trace(*SPECS, 3)
    assert draw_trace(*SPECS, 3) is a
    with pytest.raises(ValueError):
        a.tb_bits[0] = 0


def test_key_changes_with_specs_and_seed():
    c, l = (s.model_dump() for s in SPECS)
    base = cache.trace_key(c, l, 3)
    assert base == cache.trace_key(c, l, 3)
    assert base != cache.trace_key(c, l, 4)
    assert base != cache.trace_key({**c, "snr_db": 11.0}, l, 3)
    assert base != cache.trace_key(c, {**l, "harq_rtt_ms": 4.0}, 3)


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GSVC_CACHE_DIR", "off")
    cache.clear_memory()
    draw_trace(*SPECS, 3)
    assert cache.cache_dir() is None and os.listdir(tmp_path) == []


def test_unreadable_cache_file_is_redrawn(cache_dir):
    draw_trace(*SPECS, 3)
    (path,) = list(cache_dir.iterdir())
    path.write_bytes(b"not a zip file")
    cache.clear_memory()
    tr = draw_trace(*SPECS, 3)
    assert tr.num_slots == 1000 and cache.load_trace(str(path)).num_slots == 1000


def test_a_packet_loss_trace_keeps_its_loss_unit_through_the_disk(tmp_path):
    from gsvc.netsim.channel.recorded import constant_trace
    trace = constant_trace(ChannelSpec(model="constant", rate_mbps=1.0, loss_rate=0.1), LinkSpec(trace_s=0.5), 3)
    assert trace.loss_unit == "packet"
    path = str(tmp_path / "t.npz")
    cache.save_trace(path, trace)
    back = cache.load_trace(path)
    assert back.loss_unit == "packet" and np.array_equal(back.lost, trace.lost)
