"""Pictures of what the viewer saw: side-by-side MP4, key-moment strip, both in the report."""
from __future__ import annotations

import shutil
import subprocess

import av
import numpy as np
import pytest

import gsvc
from gsvc.analysis import render_report, write_report
from gsvc.scenarios import Scenario


def _lossy(seconds=2.0):
    return Scenario(name="p", seed=2, video=dict(seconds=seconds, fps=15, resolution=32, cuts_s=[1.0]),
                    codec=dict(name="h264", bitrate_kbps=48), channel=dict(model="constant", rate_mbps=0.3, loss_rate=0.1),
                    jitter=dict(mode="fixed", delay_ms=120), receiver=dict(latency="profile:cpu-2core"))


def test_saved_run_has_a_side_by_side_video_of_every_slot_and_a_strip(tmp_path):
    res = gsvc.run(_lossy(), pictures=True)
    d = res.save(tmp_path / "run")
    with av.open(str(d / "video.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 30 and frames[0].shape == (32, 96, 3)  # original | decode | on screen
    assert (d / "strip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = gsvc.load_results(d)
    assert loaded.pictures is not None and loaded.pictures.strip_png == res.pictures.strip_png
    page = render_report(d)
    assert "What the viewer saw" in page and "data:video/mp4;base64," in page and page.count("data:image/png") >= 3


def test_the_strip_keeps_first_slots_the_cut_the_worst_slot_and_the_longest_freeze():
    from gsvc.netsim.pictures import PictureRecorder
    rec = PictureRecorder(0, 15, strip=True)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    shown = [0, 1, 2, 3, 3, 3, 3, 7, 8, 9, 10, 10, 12, 13, 14, 15, 16, 17, 18, 19]
    for n in range(20):
        on_screen = frames[shown[n]] if n != 9 else np.zeros_like(frames[0])  # slot 9 is the worst
        rec.slot(n, frames[n], frames[n], on_screen, shown[n], scene_cut=n == 12)
    labels = sorted(rec.moments)
    assert {"slot 0", "slot 1", "slot 2", "scene cut at slot 12"} <= set(labels)
    assert any(k.startswith("lowest PSNR") and k.endswith("slot 9") for k in labels)
    assert any(k.startswith("longest freeze (4 slots) from slot 3") for k in labels)
    assert rec.strip_png()[:4] == b"\x89PNG"
    rec.close()


def test_no_pictures_are_kept_unless_asked_for():
    assert gsvc.run(_lossy(1.5)).pictures is None


@pytest.mark.slow
def test_report_with_pictures_renders_in_headless_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium package is not installed")
    res = gsvc.run(_lossy(), pictures=True)
    page = write_report(res.save(tmp_path / "run"))
    shot = tmp_path / "shot.png"
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                           "--window-size=1200,3000", page.as_uri()], check=True, timeout=120, capture_output=True,
                          text=True)
    img = av.open(str(shot)).decode(video=0).__next__().to_ndarray(format="rgb24")
    assert img.shape[0] == 3000 and img.std() > 10  # the page rendered content, not a blank page
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console  # the page logged nothing to the console: no script or resource errors
