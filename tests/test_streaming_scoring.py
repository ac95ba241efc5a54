"""Quality is scored as each frame slot is displayed, and equals scoring everything at the end."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import gsvc
from gsvc.timing import LatencyProfile
from gsvc.metrics import StreamScorer
from gsvc.netsim.display import Screen, viewer_index
from gsvc.scenarios import Scenario
from gsvc.scenarios.run import derive_seed
from gsvc.video import open_source
from gsvc.video.quality import psnr_db, ssim, to_uint8

run_module = importlib.import_module("gsvc.scenarios.run")  # the package re-exports run() over it


class _RecordingCodec:
    """Wraps a real codec and keeps every decoded image, as the end-of-run scorer used to."""

    def __init__(self, inner, images: dict):
        self.inner, self.images = inner, images
        for k in ("name", "group_frames", "uses_pixels", "makes_images"):
            setattr(self, k, getattr(inner, k))

    def encoder(self, seed):
        return self.inner.encoder(seed)

    def decoder(self, seed):
        dec, images = self.inner.decoder(seed), self.images
        stream = len({s for s, _ in images} | {None}) - 1  # decoders are made in stream order

        class _Dec:
            def plan(self, ef, complete, budget_ms):
                return dec.plan(ef, complete, budget_ms)

            def decode(self, ef, plan):
                out = dec.decode(ef, plan)
                images[(stream, ef.frame)] = out.image
                return out

        images[(stream, -1)] = None
        return _Dec()


def _slow_h264(late: str, streams: int = 1, classic_ms: float = 45.0) -> Scenario:
    # a classic decode of 45 ms + exponential jitter (mean 30 ms) at 15 fps: the receiver falls
    # behind now and then, long enough for freezes; 30 % of the packets lost
    prof = LatencyProfile(name="slow", classic_ms=classic_ms, jitter=dict(dist="exponential", mean_ms=30.0))
    return Scenario(name="s", seed=5, streams=streams, video=dict(seconds=3, fps=15, resolution=32),
                    codec=dict(name="h264", bitrate_kbps=48),
                    channel=dict(model="constant", rate_mbps=0.3, loss_rate=0.3),
                    jitter=dict(mode="adaptive", late=late, max_change_ms_per_s=3000, delay_ms=60),
                    receiver=dict(latency=prof))


@pytest.mark.parametrize("late", ["show", "drop"])
def test_streaming_scores_equal_end_of_run_scores_with_loss_freezes_and_late_frames(monkeypatch, late):
    sc = _slow_h264(late, streams=2)
    images: dict = {}
    real = run_module.make_codec
    monkeypatch.setattr(run_module, "make_codec", lambda *a: _RecordingCodec(real(*a), images))
    res = gsvc.run(sc)
    f = res.frames
    assert {"ok", "late", "lost"} <= set(f["status"]), f["status"].value_counts()
    assert res.summary["freeze_count"] > 0
    for s in range(sc.streams):
        g = f[f["stream"] == s]
        viewer = viewer_index(g["display_ms"].to_numpy(), g["playout_ms"].to_numpy())
        ref = np.stack([to_uint8(fr.rgb) for fr in open_source(sc.video, derive_seed(sc.seed, "video", s))])
        grey = np.full_like(ref[0], 128)
        seen = np.stack([to_uint8(images[(s, v)]) if v >= 0 and images.get((s, v)) is not None else grey
                         for v in viewer])
        assert (viewer[1:] != np.arange(1, len(viewer))).any()  # some slot shows another frame
        np.testing.assert_array_equal(g["psnr_db"].to_numpy(), psnr_db(ref, seen))
        np.testing.assert_array_equal(g["ssim"].to_numpy(), ssim(ref, seen))


def test_screen_shows_last_displayed_frame_and_holds_only_what_is_in_flight():
    # frame n decodes 30 ms after capture, every 5th one 120 ms (late), playout = capture + 50 ms
    n, interval = 200, 40.0
    cols = {"playout_ms": np.full(n, np.nan), "psnr_db": np.full(n, np.nan), "ssim": np.full(n, np.nan)}
    screen = Screen(cols, 0, n, "show", StreamScorer(cols, batch_frames=4))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    events = []
    for k in range(n):
        events.append((k * interval, 0, k))  # capture, then release at capture
        events.append((k * interval + (120.0 if k % 5 == 4 else 30.0), 1, k))
    held = 0
    display = np.full(n, np.nan)
    for t, kind, k in sorted(events):
        if kind == 0:
            screen.captured(k, t, frames[k])
            cols["playout_ms"][k] = t + 50.0
            screen.released(k)
        else:
            screen.advance(t)
            screen.decoded(k, t, frames[k])
            display[k] = max(t, cols["playout_ms"][k])
        held = max(held, len(screen._images) + len(screen._originals))
    screen.finish()
    viewer = viewer_index(display, cols["playout_ms"])
    seen = frames[viewer]
    assert (viewer != np.arange(n)).sum() == n // 5  # each late slot shows the frame before
    np.testing.assert_array_equal(cols["psnr_db"], psnr_db(frames, seen))
    assert held <= 8  # a few frames in flight, not the run
    assert not screen._images or len(screen._images) <= 2


def test_long_run_memory_stays_flat_with_images():
    # 10x longer run, same peak of images held (counted through the screen's own bookkeeping)
    sc = Scenario(name="m", video=dict(seconds=2, fps=15, resolution=32), codec=dict(name="h264"),
                  channel=dict(model="ideal"), receiver=dict(latency=LatencyProfile(name="c", classic_ms=30.0)))
    peaks = []
    for seconds in (2, 20):
        seen: list[int] = []
        orig = Screen.advance

        def advance(self, now_ms, _o=orig, _s=seen):
            _o(self, now_ms)
            _s.append(len(self._images) + len(self._originals))
        Screen.advance = advance
        try:
            gsvc.run(sc.updated({"video.seconds": seconds}))
        finally:
            Screen.advance = orig
        peaks.append(max(seen))
    assert peaks[1] == peaks[0] <= 4, peaks
