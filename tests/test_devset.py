"""The dev set: camera paths at stated speeds with hard cuts over matplotlib's sample pictures."""
import subprocess
import sys

import numpy as np
import pytest

import gsvc
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.video import VideoSpec, devset, open_source
from gsvc.video.camera import mean_radius_px
from gsvc.video.sample_pictures import SAMPLE_PICTURES, sample_picture


def _steps_px(frames, shot) -> list[float]:
    """Camera displacement per frame of ``shot`` after its first, px (zoom: over the smaller frame)."""
    out = []
    for f in frames[shot.first_frame + 1:shot.first_frame + shot.num_frames]:
        zoom = max(f.zoom, 1 / f.zoom) - 1
        out.append(mean_radius_px(64) * zoom if shot.camera == "zoom" else float(np.hypot(*f.motion_px)))
    return out


def test_every_dev_clip_has_every_speed_once_with_a_hard_cut_before_each_new_shot():
    shake: dict[float, list[float]] = {}
    for name in devset.CLIP_NAMES:
        src = devset.dev_source(name, resolution=64, fps=15, num_frames=30)
        frames = src.read_all()
        assert sorted(s.speed_px for s in src.shots) == sorted(devset.SPEEDS_PX)
        starts = [s.first_frame for s in src.shots]
        assert [f.index for f in frames if f.scene_cut] == starts[1:]
        assert len({f.scene_id for f in frames}) == devset.SHOTS_PER_CLIP
        for s in src.shots:
            steps = _steps_px(frames, s)
            assert s.motion_px == s.speed_px and max(steps) <= s.motion_px * 1.01  # shorter only where it turns
            if s.camera == "shake":  # a shake turns back into its small box often
                shake.setdefault(s.speed_px, []).extend(steps)
            else:
                assert max(steps) == pytest.approx(s.motion_px, rel=0.01)
    for speed, steps in shake.items():
        assert np.median(steps) == pytest.approx(speed, rel=0.01)


def test_across_the_set_every_speed_meets_every_camera():
    pairs = {(s.speed_px, s.camera) for n in devset.CLIP_NAMES for s in devset.shots(n, 60)}
    assert pairs == {(v, c) for v in devset.SPEEDS_PX for c in devset.CAMERAS}


def test_dev_clips_are_deterministic_and_do_not_depend_on_the_run_seed():
    spec = VideoSpec(source="devset", path="grace_hopper", seconds=1, resolution=32)
    a, b = open_source(spec, 0).clip().rgb, open_source(spec, 12345).clip().rgb
    np.testing.assert_array_equal(a, b)
    other = open_source(spec.model_copy(update={"path": "mri"}), 0).clip().rgb
    assert not np.array_equal(a, other)


def test_sample_pictures_are_rgb_pictures_read_only_from_matplotlib_sample_data():
    # every file opened while the pictures are read (a Python audit hook sees each open) lies in
    # matplotlib's sample data, and no package with images of its own is imported
    code = """
import os, sys
import matplotlib, matplotlib.cbook
opened = []
def seen(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.append(os.fsdecode(args[0]))
sys.addaudithook(seen)
from gsvc.video.sample_pictures import SAMPLE_PICTURES, sample_picture
from gsvc.video import devset
for n in SAMPLE_PICTURES:
    sample_picture(n)
devset.dev_source("dead_leaves", 32, 15, 10).clip()
sample = os.path.dirname(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
data = [p for p in opened if p.lower().endswith((".png", ".jpg", ".jpeg", ".npz", ".npy", ".gz", ".tif", ".bmp"))]
print(sorted({os.path.basename(p) for p in data}))
print(all(os.path.dirname(os.path.abspath(p)) == sample for p in data))
print(sorted(m for m in ("skimage", "sklearn", "imageio", "cv2", "PIL.ImageShow") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == str(sorted(["grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png",
                                 "jacksboro_fault_dem.npz", "topobathy.npz", "s1045.ima.gz"]))
    assert out[1] == "True" and out[2] == "[]"
    for n in SAMPLE_PICTURES:
        p = sample_picture(n)
        assert p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.float32 and 0 <= p.min() < p.max() <= 1
        assert min(p.shape[:2]) >= 64 and p.std() > 0.1


def test_a_scenario_plays_a_dev_clip_by_name_and_refuses_what_the_shots_fix():
    sc = Scenario(video=dict(source="devset", path="minduka", seconds=1, resolution=32), codec=dict(name="h264"),
                  channel=dict(model="ideal", rate_mbps=20), receiver=dict(latency="profile:cpu-2core"))
    f = gsvc.run(sc).frames
    assert f["scene_cut"].sum() == devset.SHOTS_PER_CLIP - 1 and f["psnr_db"].notna().all()
    with pytest.raises(SpecError, match="video.path"):
        VideoSpec(source="devset", path="lena")
    with pytest.raises(SpecError, match="cuts_s"):
        VideoSpec(source="devset", path="mri", cuts_s=[0.5])
    with pytest.raises(SpecError, match="video.seconds"):
        VideoSpec(source="devset", path="mri", seconds=0.5)
