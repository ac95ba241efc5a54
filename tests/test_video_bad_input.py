"""Bad specs and bad frames fail early with an error that names the field."""
from __future__ import annotations

import numpy as np
import pytest

from gsvc.spec import SpecError
from gsvc.video import VideoSpec, concat, from_array, open_source, photo_source, read_frames, write_video


def frames(t=3, side=32, dtype=np.float32):
    return np.zeros((t, side, side, 3), dtype)


@pytest.mark.parametrize("fields, match", [
    ({"resolution": 16}, r"video\.resolution=16 .*\[32, 1024\] px"),
    ({"resolution": 2048}, r"video\.resolution=2048"),
    ({"fps": float("nan")}, r"video\.fps=nan is not a finite number"),
    ({"seconds": 0}, r"video\.seconds=0"),
    ({"motion_px": -1}, r"video\.motion_px=-1"),
    ({"camera": "dolly"}, r"video\.camera='dolly'"),
    ({"source": "webcam"}, r"video\.source='webcam'"),
    ({"cut_rate_hz": 50}, r"video\.cut_rate_hz=50"),
    ({"pan_angle_deg": 400}, r"video\.pan_angle_deg=400"),
    ({"colour": "red"}, r"video\.colour is not a known field"),
    ({"cuts_s": [float("nan")]}, r"video\.cuts_s\.0"),
])
def test_bad_field_values_are_named_with_their_range(fields, match):
    with pytest.raises(SpecError, match=match):
        VideoSpec(**fields)


def test_cuts_outside_the_clip_name_the_field_and_the_clip_length():
    with pytest.raises(SpecError, match=r"video\.cuts_s=\[12\.0\].*video\.seconds=10"):
        VideoSpec(seconds=10, cuts_s=[12.0])
    with pytest.raises(SpecError, match=r"video\.cuts_s"):
        VideoSpec(seconds=10, cuts_s=[0.0])


def test_two_cuts_on_one_frame_are_refused():
    with pytest.raises(SpecError, match=r"video\.cuts_s=\[1\.0, 0\.95\] puts two cuts on the same frame"):
        VideoSpec(seconds=10, fps=10, cuts_s=[1.0, 0.95])


def test_file_sources_need_a_path_and_procedural_ones_refuse_one():
    with pytest.raises(SpecError, match=r"video\.path=None must be given when video\.source='file'"):
        VideoSpec(source="file")
    with pytest.raises(SpecError, match=r"video\.path='x\.mp4' is only read by"):
        VideoSpec(path="x.mp4")
    with pytest.raises(SpecError, match=r"video\.cut_rate_hz=1 only applies"):
        VideoSpec(source="file", path="x.mp4", cut_rate_hz=1.0)


@pytest.mark.parametrize("rgb, match", [
    (frames(t=0), r"rgb has shape \(0, 32, 32, 3\): 0 frames"),
    (np.zeros((32, 32, 3), np.float32), r"rgb has shape \(32, 32, 3\); expected \[T, H, W, 3\]"),
    (np.zeros((2, 32, 32, 4), np.float32), r"rgb has shape \(2, 32, 32, 4\)"),
    (frames(dtype=np.int32), r"rgb has dtype int32"),
    (frames() + 2.0, r"rgb has values in \[2, 2\]; expected floats in \[0, 1\]"),
    (np.zeros((2, 32, 40, 3), np.float32), r"rgb frames are 32x40 .*square"),
    (frames(side=16), r"rgb frames are 16x16; resolution must be in \[32, 256\]"),
])
def test_bad_frame_arrays_are_refused(rgb, match):
    with pytest.raises(ValueError, match=match):
        from_array(rgb, fps=10)


def test_nan_pixels_are_refused_with_their_position():
    rgb = frames()
    rgb[1, 4, 5, 2] = np.nan
    with pytest.raises(ValueError, match=r"rgb contains NaN or infinite values \(first at index \(1, 4, 5, 2\)\)"):
        from_array(rgb, fps=10)


def test_bad_labels_cuts_and_fps_are_refused():
    with pytest.raises(ValueError, match=r"labels has shape \(3, 32\)"):
        from_array(frames(), fps=10, labels=np.zeros((3, 32), np.uint8))
    with pytest.raises(ValueError, match=r"labels has ids in \[99, 99\]; class ids must be in \[0, 9\]"):
        from_array(frames(), fps=10, labels=np.full((3, 32, 32), 99, np.uint8))
    with pytest.raises(ValueError, match=r"cut_frames=\[0\]"):
        from_array(frames(), fps=10, cut_frames=[0])
    with pytest.raises(ValueError, match=r"fps=0"):
        from_array(frames(), fps=0)


def test_an_unreadable_file_names_the_path_field(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(ValueError, match=r"video\.path='.*junk\.mp4' could not be read"):
        open_source(VideoSpec(source="file", path=str(junk)), seed=0)
    ok = write_video(tmp_path / "ok.mkv", frames(), fps=10)
    with pytest.raises(ValueError, match=r"video\.path\[1\]='.*missing\.mkv' could not be read.*no such file"):
        open_source(VideoSpec(source="file", path=[str(ok), str(tmp_path / "missing.mkv")]), seed=0)


def test_an_empty_image_directory_holds_no_frames(tmp_path):
    with pytest.raises(ValueError, match=r"video\.path=.* holds no frames"):
        open_source(VideoSpec(source="file", path=str(tmp_path)), seed=0)


def test_an_array_file_with_nan_pixels_names_the_path(tmp_path):
    rgb = frames()
    rgb[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "clip.npy", rgb)
    with pytest.raises(ValueError, match=r"video\.path='.*clip\.npy' contains NaN"):
        open_source(VideoSpec(source="array", path=str(tmp_path / "clip.npy")), seed=0)


def test_a_bad_seed_is_refused():
    with pytest.raises(ValueError, match=r"seed=-1 is not a non-negative integer"):
        open_source(VideoSpec(), seed=-1)
    with pytest.raises(ValueError, match=r"seed=1\.5"):
        open_source(VideoSpec(), seed=1.5)


def test_a_tiny_photo_is_refused():
    with pytest.raises(ValueError, match=r"image is 4x4 px"):
        photo_source(np.zeros((4, 4, 3), np.uint8), VideoSpec(), seed=0)


def test_reading_a_missing_file_directly_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"path='.*nope\.mkv' could not be read"):
        read_frames(tmp_path / "nope.mkv")


def test_concat_of_nothing_is_refused():
    with pytest.raises(ValueError, match="sources is empty"):
        concat([])
