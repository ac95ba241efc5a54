"""Array, file, image-sequence and photo sources, and joining clips."""
from __future__ import annotations

import numpy as np
import pytest

from gsvc.video import (VideoSpec, concat, from_array, mean_flow_px, open_source, photo_source, procedural_clip,
                        read_frames, write_image, write_images, write_video)


@pytest.fixture(scope="module")
def street() -> np.ndarray:
    """A short labelled procedural clip ``[10, 32, 32, 3]`` float32 to write and read back."""
    return procedural_clip(VideoSpec(seconds=1.0, fps=10, resolution=32), seed=1).rgb


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 'photo' to move over: one wide procedural street frame, ``[96, 160, 3]`` uint8."""
    from gsvc.video.world import Lighting, render_world

    world = render_world(160, 77, np.random.default_rng(0), Lighting())
    return np.round(world.rgb * 255).astype(np.uint8)


def test_array_source_plays_frames_with_labels_cuts_and_motion():
    rgb = np.random.default_rng(0).random((6, 32, 32, 3), dtype=np.float32)
    labels = np.zeros((6, 32, 32), np.uint8)
    src = from_array(rgb, fps=12, labels=labels, cut_frames=[2, 5], motion_px=np.ones((6, 2)))
    frames = src.read_all()
    assert [f.scene_cut for f in frames] == [False, False, True, False, False, True]
    assert [f.scene_id for f in frames] == [0, 0, 1, 1, 1, 2]
    assert np.array_equal(frames[3].rgb, rgb[3]) and frames[4].time_s == pytest.approx(4 / 12)
    assert frames[1].motion_px == (1.0, 1.0) and frames[0].labels.dtype == np.uint8


def test_array_source_accepts_uint8_and_copies_its_input():
    rgb = np.full((2, 32, 32, 3), 255, np.uint8)
    src = from_array(rgb, fps=10)
    rgb[:] = 0
    assert src.frame(1).rgb.dtype == np.float32 and src.frame(1).rgb.min() == 1.0


def test_concatenated_clips_are_cut_at_every_join():
    a = from_array(np.zeros((3, 32, 32, 3), np.float32), fps=10, cut_frames=[1])
    b = open_source(VideoSpec(seconds=0.4, fps=10, resolution=32, cuts_s=[0.2]), seed=0)
    c = from_array(np.ones((2, 32, 32, 3), np.float32), fps=10)
    joined = concat([a, b, c])
    frames = joined.read_all()
    assert len(joined) == 9
    assert [i for i, f in enumerate(frames) if f.scene_cut] == [1, 3, 5, 7]
    assert [f.scene_id for f in frames] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert np.array_equal(frames[4].rgb, b.frame(1).rgb)
    assert frames[4].labels is None  # labels are kept only where every part has them


def test_concat_refuses_parts_of_different_resolution():
    a = from_array(np.zeros((2, 32, 32, 3), np.float32), fps=10)
    b = from_array(np.zeros((2, 48, 48, 3), np.float32), fps=10)
    with pytest.raises(ValueError, match=r"sources\[1\]\.resolution=48"):
        concat([a, b])


def test_a_video_written_losslessly_reads_back_identically(tmp_path, street):
    path = write_video(tmp_path / "clip.mkv", street, fps=10)
    frames, fps = read_frames(path)
    assert fps == 10.0 and frames.shape == (10, 32, 32, 3)
    assert np.array_equal(frames, np.round(street * 255).astype(np.uint8))
    src = open_source(VideoSpec(source="file", path=str(path), seconds=1.0, fps=10, resolution=32), seed=0)
    got = np.stack([f.rgb for f in src])
    assert np.abs(got - street).max() <= 0.5 / 255 + 1e-6


def test_a_lossy_h264_round_trip_keeps_the_picture(tmp_path, street):
    path = write_video(tmp_path / "clip.mp4", street, fps=10, codec="libx264", options={"crf": "12"})
    frames, _ = read_frames(path)
    mse = np.mean((frames / 255.0 - street) ** 2)
    assert 0 < mse and 10 * np.log10(1 / mse) > 24  # 4:2:0 chroma alone costs ~26 dB on these sharp colours


def test_an_image_sequence_round_trips_from_a_directory_or_a_pattern(tmp_path, street):
    write_images(tmp_path / "seq", street[:4])
    for path in (tmp_path / "seq", str(tmp_path / "seq" / "frame_*.png")):
        frames, fps = read_frames(path)
        assert fps is None and np.array_equal(frames, np.round(street[:4] * 255).astype(np.uint8))


def test_file_source_plays_at_the_spec_frame_rate_and_fits_the_resolution(tmp_path):
    rgb = np.zeros((30, 48, 64, 3), np.uint8)
    rgb[:, :, :, 0] = np.arange(30)[:, None, None] * 8  # red channel counts frames
    path = write_video(tmp_path / "wide30.mkv", rgb, fps=30)
    src = open_source(VideoSpec(source="file", path=str(path), seconds=2.0, fps=10, resolution=32), seed=0)
    assert len(src) == 10  # the material is 1 s long
    reds = [round(f.rgb[16, 16, 0] * 255 / 8) for f in src]
    assert reds == list(range(0, 30, 3))
    assert src.frame(0).rgb.shape == (32, 32, 3)


def test_several_files_play_in_turn_with_a_cut_at_each_join(tmp_path, street):
    a = write_video(tmp_path / "a.mkv", street[:4], fps=10)
    b = write_video(tmp_path / "b.mkv", street[4:], fps=10)
    src = open_source(VideoSpec(source="file", path=[str(a), str(b)], seconds=1.0, fps=10, resolution=32,
                                cuts_s=[0.8]), seed=0)
    frames = src.read_all()
    assert [i for i, f in enumerate(frames) if f.scene_cut] == [4, 8]


def test_unlabelled_files_get_no_labels_unless_the_estimate_is_asked_for(tmp_path, street):
    path = str(write_video(tmp_path / "clip.mkv", street, fps=10))
    spec = VideoSpec(source="file", path=path, seconds=1.0, fps=10, resolution=32)
    auto = open_source(spec, seed=0)
    est = open_source(spec.model_copy(update={"labels": "estimate"}), 0)
    none = open_source(spec.model_copy(update={"labels": "none"}), 0)
    assert auto.frame(0).labels is None and none.frame(0).labels is None
    assert est.frame(0).labels.shape == (32, 32)


def test_array_source_reads_npz_with_labels(tmp_path):
    clip = procedural_clip(VideoSpec(seconds=0.5, fps=10, resolution=64), seed=2)
    np.savez(tmp_path / "clip.npz", rgb=clip.rgb, labels=clip.labels)
    src = open_source(VideoSpec(source="array", path=str(tmp_path / "clip.npz"), seconds=0.5, fps=10,
                                resolution=32), seed=0)
    f = src.frame(2)
    assert f.rgb.shape == (32, 32, 3) and np.array_equal(f.labels, clip.labels[2, 1::2, 1::2])


def test_photo_source_pans_over_a_still_at_the_requested_speed(photo):
    for motion in (1.0, 3.0):
        spec = VideoSpec(seconds=1.0, fps=10, resolution=64, camera="pan", motion_px=motion, pan_angle_deg=0.0)
        src = photo_source(photo, spec, seed=1)
        frames = np.stack([f.rgb for f in src])
        assert mean_flow_px(frames) == pytest.approx(motion, rel=0.25)
        assert src.frame(1).labels is None and abs(src.frame(1).motion_px[0]) == pytest.approx(motion, rel=1e-4)


def test_photo_source_reads_an_image_file_and_gives_same_frames_for_same_seed(tmp_path, photo):
    path = str(write_image(tmp_path / "street.png", photo))
    spec = VideoSpec(source="photo", path=path, seconds=0.5, fps=10, resolution=32, camera="zoom")
    a, b = open_source(spec, seed=3), open_source(spec, seed=3)
    assert np.array_equal(a.frame(4).rgb, b.frame(4).rgb)
    assert a.frame(4).labels is None  # a photo has no true labels


def test_several_photos_split_the_clip_into_scenes(photo):
    spec = VideoSpec(seconds=1.2, fps=10, resolution=32)  # source and path are not read by photo_source
    src = photo_source([photo, photo[:, ::-1], photo[::-1]], spec, seed=0)
    assert [f.index for f in src if f.scene_cut] == [4, 8]
