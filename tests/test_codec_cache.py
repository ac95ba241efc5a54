"""The codec cache: a hit is the same result, a damaged entry is recomputed, the disk stays bounded."""
import multiprocessing
import os

import numpy as np
import pandas as pd
import pytest

import gsvc
from gsvc.codecs.cache import CodecCache, Entry, Uncacheable
from gsvc.codecs.cache.reads import tracked
from gsvc.codecs.cache.state import Walker, build, fingerprint, restore, snapshot
from gsvc.codecs.cache.store import entry_path
from gsvc.codecs.denoiser import DenoiserConfig
from gsvc.codecs.model import Denoiser, save_denoiser
from gsvc.codecs.motion import ZERO_MOTION
from gsvc.codecs.registry import make_codec
from gsvc.codecs.spec import CodecSpec
from gsvc.netsim.pictures import PictureRecorder
from gsvc.scenarios import Scenario
from gsvc.video import VideoSpec

TINY = DenoiserConfig(block_out_channels=(8, 16, 16), norm_num_groups=4, attention_at_lowest=False)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Decode with one torch thread: a tiny model on two threads of a shared 2-core machine spends its time
    waiting for the other thread (the thread count is part of every cache key, so the tests stay honest)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return str(save_denoiser(Denoiser.fresh(TINY, seed=1), tmp_path_factory.mktemp("w") / "denoiser.safetensors"))


def lossy(weights, loss_rate: float, **codec) -> Scenario:
    """cvsc under adaptive control and GCC rate control over a link that loses packets."""
    return Scenario(name="lossy", seed=5, video=dict(seconds=1.0, fps=15, motion_px=2),
                    codec=dict(name="cvsc", steps=4, gop=6, weights=weights, control="adaptive", **codec),
                    channel=dict(model="constant", rate_mbps=2.0, loss_rate=loss_rate),
                    link=dict(rate_control="gcc", trace_s=2.0), jitter=dict(mode="fixed", delay_ms=250),
                    receiver=dict(latency="profile:cpu-2core"))


def entry(key_bytes: int = 1000) -> Entry:
    return Entry({"out": {"$a": 0}, "state": {}, "removed": [], "post": "x"},
                 [np.arange(key_bytes // 8, dtype=np.float64)])


# --- a hit is the same result ------------------------------------------------------------------
def test_a_rerun_served_from_the_cache_gives_identical_frames_summary_and_pictures(tiny_weights, monkeypatch):
    shown = []  # the side-by-side panels each run hands its MP4 writer (libx264's own output varies run to run)
    write = PictureRecorder._write
    monkeypatch.setattr(PictureRecorder, "_write", lambda self, panels: shown[-1].append(panels.copy())
                        or write(self, panels))

    def run(**kw):
        shown.append([])
        return gsvc.run(sc, pictures=True, **kw)
    sc = lossy(tiny_weights, 0.2)
    plain = run()
    cache = CodecCache()
    first = run(cache=cache)
    again = run(cache=cache)
    assert again.meta["cache"]["decode_hits"] == again.meta["cache"]["decodes"] > 0
    assert again.meta["cache"]["encode_hits"] == again.meta["cache"]["encodes"] == 15
    for res, panels in ((first, shown[1]), (again, shown[2])):
        pd.testing.assert_frame_equal(res.frames, plain.frames)
        assert res.summary == plain.summary
        assert res.pictures.strip_png == plain.pictures.strip_png
        assert len(panels) == len(shown[0]) == 15
        assert all(np.array_equal(a, b) for a, b in zip(panels, shown[0]))
    assert plain.meta["cache"] is None


def test_points_whose_links_lose_different_frames_share_only_what_is_the_same(tiny_weights):
    cache, partial = CodecCache(), 0
    for loss_rate in (0.0, 0.1, 0.2, 0.3):  # one sweep's points, sharing one cache
        sc = lossy(tiny_weights, loss_rate)
        cached, reference = gsvc.run(sc, cache=cache), gsvc.run(sc)
        pd.testing.assert_frame_equal(cached.frames, reference.frames)
        assert cached.summary == reference.summary
        c = cached.meta["cache"]
        if loss_rate == 0:
            assert c["decode_hits"] == 0
        else:
            assert (cached.frames["packets_lost"] > 0).any()  # the decoder state diverges from the clean point's
            partial += 0 < c["decode_hits"] < c["decodes"]
    assert partial >= 1


def test_a_different_model_or_spec_never_shares_an_entry_the_caller_s_thread_count_does(tiny_weights, tmp_path):
    """Other weights or codec settings never hit; a caller with another torch thread count does, with the
    same frames, because gsvc.run decodes with one intra-op thread whatever the caller set."""
    import torch
    cache = CodecCache()
    sc = lossy(tiny_weights, 0.0).updated({"video.seconds": 0.2})
    first = gsvc.run(sc, cache=cache)
    other_weights = str(save_denoiser(Denoiser.fresh(TINY, seed=2), tmp_path / "other.safetensors"))
    assert gsvc.run(sc.updated({"codec.weights": other_weights}), cache=cache).meta["cache"]["decode_hits"] == 0
    assert gsvc.run(sc.updated({"codec.strength": 0.5}), cache=cache).meta["cache"]["decode_hits"] == 0
    assert gsvc.run(sc, cache=cache).meta["cache"]["decode_hits"] == 3
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        again = gsvc.run(sc, cache=cache)
    finally:
        torch.set_num_threads(threads)
    assert again.meta["cache"]["decode_hits"] == 3
    pd.testing.assert_frame_equal(again.frames, first.frames)


def test_a_coder_whose_state_cannot_be_saved_runs_uncached_with_the_same_result():
    sc = Scenario(video=dict(seconds=0.5, fps=15), codec=dict(name="h264", bitrate_kbps=300),
                  channel=dict(model="constant", rate_mbps=5, loss_rate=0.1),
                  receiver=dict(latency="profile:cpu-2core"))
    cached = gsvc.run(sc, cache=CodecCache())
    pd.testing.assert_frame_equal(cached.frames, gsvc.run(sc).frames)
    assert cached.meta["cache"]["uncacheable"] >= 1 and cached.meta["cache"]["decode_hits"] == 0


def test_runs_timed_by_the_wall_clock_do_not_use_the_cache(tiny_weights):
    sc = lossy(tiny_weights, 0.0).updated({"receiver.latency": "measured", "video.seconds": 0.2})
    assert gsvc.run(sc, cache=CodecCache()).meta["cache"] is None


# --- the state of a coder -----------------------------------------------------------------------
def test_a_decoders_state_restored_into_a_fresh_decoder_has_the_same_digest(tiny_weights):
    codec = make_codec(CodecSpec(name="cvsc", weights=tiny_weights, steps=2, control="adaptive"),
                       VideoSpec(seconds=0.4, fps=15))
    enc, dec = codec.encoder(1), codec.decoder(1)
    dec.set_cost_model(lambda evals: 2.0)  # as the receiver does before any decode
    from gsvc.video import open_source
    for f in open_source(VideoSpec(seconds=0.2, fps=15), 3):
        for ef in enc.encode(f, []):
            dec.decode(ef, dec.plan(ef, True, None))
    saved = snapshot(dec, keep=True)
    fresh = codec.decoder(1)
    fresh.set_cost_model(lambda evals: 1.0)
    restore(fresh, saved.trees, [], saved.arrays)
    assert snapshot(fresh).digest == saved.digest
    assert fresh.last_motion is not ZERO_MOTION and fresh.control.planner.cost_ms(3) == 1.0  # wiring kept
    assert np.array_equal(fresh.ref_image, dec.ref_image) and fresh.ref_image is not dec.ref_image


def test_module_constants_come_back_as_themselves_and_numbers_keep_their_type():
    w = Walker(keep=True)
    tree = w.tree({"m": ZERO_MOTION, "x": np.float32(1.5), "n": float("nan"), "t": (1, b"ab")})
    out = build(tree, w.arrays)
    assert out["m"] is ZERO_MOTION and isinstance(out["x"], np.float32) and np.isnan(out["n"])
    assert out["t"] == (1, b"ab")


def test_state_that_is_not_plain_data_is_named_in_the_refusal():
    class Holder:
        pass
    h = Holder()
    h.rng = np.random.default_rng(0)
    with pytest.raises(Uncacheable, match="rng"):
        snapshot(h)


def test_fingerprints_tell_apart_what_a_decode_could_tell_apart():
    assert fingerprint(0.0) != fingerprint(-0.0) != fingerprint(0)
    assert fingerprint(np.zeros(2, np.float32)) != fingerprint(np.zeros(2, np.float64))
    assert fingerprint({"a": b"x"}) == fingerprint({"a": b"x"}) != fingerprint({"a": b"y"})


# --- damaged entries, concurrent writers, size bounds -----------------------------------------------
@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "other-key"])
def test_a_damaged_entry_on_disk_is_a_miss_and_is_deleted(tmp_path, damage):
    key = "ab" + "0" * 62
    CodecCache(tmp_path).put(key, entry())
    path = entry_path(tmp_path, key)
    data = path.read_bytes()
    if damage == "flip":
        data = data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    else:
        other = "ab" + "1" * 62
        CodecCache(tmp_path).put(other, entry())
        data = entry_path(tmp_path, other).read_bytes()
    path.write_bytes(data)
    fresh = CodecCache(tmp_path)
    assert fresh.get(key) is None and fresh.corrupt == 1 and not path.exists()


def test_damaged_entries_are_recomputed_and_the_run_is_unchanged(tiny_weights, tmp_path):
    sc = lossy(tiny_weights, 0.1)
    reference = gsvc.run(sc, cache=CodecCache(tmp_path))
    files = sorted(tmp_path.rglob("*.entry"))
    assert files
    for i, f in enumerate(files):
        data = f.read_bytes()
        f.write_bytes(data[: len(data) - 7] if i % 2 else data[:200] + b"\0" + data[201:])
    cache = CodecCache(tmp_path)
    again = gsvc.run(sc, cache=cache)
    pd.testing.assert_frame_equal(again.frames, reference.frames)
    assert again.summary == reference.summary
    assert again.meta["cache"]["decode_hits"] == again.meta["cache"]["encode_hits"] == 0
    assert 0 < cache.corrupt <= len(files)  # (a damaged index of a call hides that call's entries unread)
    third = gsvc.run(sc, cache=CodecCache(tmp_path))  # the recomputed entries were written again
    assert third.meta["cache"]["decode_hits"] == third.meta["cache"]["decodes"]


def _write_many(folder: str, key: str, n: int) -> None:
    cache = CodecCache(folder, memory_mb=0)
    for _ in range(n):
        cache.put(key, entry(200_000))
        got = cache.get(key)
        assert got is not None and np.array_equal(got.arrays[0], entry(200_000).arrays[0])


def test_two_processes_writing_the_same_entry_leave_one_valid_entry(tmp_path):
    key = "cd" + "2" * 62
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), key, 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert files == [entry_path(tmp_path, key)]
    assert CodecCache(tmp_path).get(key) is not None


def test_the_disk_cache_stays_under_its_bound_and_keeps_the_newest(tmp_path):
    cache = CodecCache(tmp_path, memory_mb=0, disk_mb=1.0)
    keys = [f"{i:02x}" + "3" * 62 for i in range(40)]
    for k in keys:
        cache.put(k, entry(100_000))  # ~100 kB each: 4 MB written in all
        assert cache.disk_usage() <= 2**20
    assert cache.get(keys[-1]) is not None and cache.get(keys[0]) is None


def test_the_memory_cache_stays_under_its_bound():
    cache = CodecCache(memory_mb=0.5)
    for i in range(30):
        cache.put(f"{i:064x}", entry(100_000))
        assert cache.memory_held_bytes <= 0.5 * 2**20
    assert cache.get(f"{29:064x}") is not None and cache.get(f"{0:064x}") is None


def test_stale_temporary_files_of_a_killed_writer_are_swept(tmp_path):
    cache = CodecCache(tmp_path, disk_mb=1.0)
    cache.put("ee" + "4" * 62, entry())
    stale = tmp_path / "ee" / ".eeeeee.abc.tmp"
    stale.write_bytes(b"half an entry")
    os.utime(stale, (0, 0))
    assert cache.disk_usage() > 0 and not stale.exists()


def test_sizes_that_are_not_sizes_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="memory_mb=-1"):
        CodecCache(memory_mb=-1)
    with pytest.raises(ValueError, match="disk_mb='big'"):
        CodecCache(disk_mb="big")


def test_a_call_is_keyed_on_the_attributes_it_read_before_writing_them():
    class Coder:
        def __init__(self):
            self.step, self.total, self.shown = 2, 0, None

        def add(self, x):
            self.shown = x                       # written first: its old value does not matter
            self.total = self.total + self.step * x
            return getattr(self, "bonus", 0) + self.total

    c = Coder()
    out, access = tracked(c, lambda: c.add(3))
    assert out == 6 and type(c) is Coder
    assert {"step", "total", "bonus"} <= access.reads and "shown" not in access.reads
    assert access.writes == {"shown", "total"} and not access.everything
    _, whole = tracked(c, lambda: dict(vars(c)))
    assert whole.everything


def test_the_module_example_runs(monkeypatch, tmp_path):
    import re

    import gsvc.codecs.cache as module
    monkeypatch.chdir(tmp_path)
    for block in re.findall(r"::\n\n((?:    .*\n|\n)+)", module.__doc__):
        exec(compile("\n".join(line[4:] for line in block.splitlines()), module.__name__, "exec"), {})
