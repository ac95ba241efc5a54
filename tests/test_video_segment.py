"""The heuristic label extractor, and the docstring examples of gsvc.video."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import gsvc.video.segment as segment
from gsvc.video import CLASS_RGB, NUM_CLASSES, VideoSpec, estimate_labels, procedural_clip


@pytest.fixture(scope="module")
def clip():
    return procedural_clip(VideoSpec(seconds=2.0, fps=10, resolution=64, cuts_s=[0.5, 1.0, 1.5]), seed=21)


def test_estimated_labels_recover_most_pixels_of_procedural_scenes(clip):
    est = estimate_labels(clip.rgb)
    assert est.shape == clip.labels.shape and est.dtype == np.uint8
    assert (est == clip.labels).mean() > 0.75


def test_estimation_works_on_one_frame_and_is_pointless_on_noise(clip):
    one = estimate_labels(clip.rgb[3])
    assert np.array_equal(one, estimate_labels(clip.rgb[3:4])[0])
    noise = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    assert (estimate_labels(noise) == clip.labels[3]).mean() < 0.5


def test_reference_colours_segment_to_their_own_class():
    # a frame of flat bands in the reference colours: a band of class k stays class k (sky and
    # ground bands sit where the position prior expects them)
    order = [0, 2, 1, 6, 7, 8, 9, 4, 3, 5]  # sky at the top, road and sidewalk at the bottom
    bands = np.repeat(np.array(order), 64 // len(order) + 1)[:64]
    rgb = np.broadcast_to(CLASS_RGB[bands][:, None, :], (64, 64, 3))
    got = estimate_labels(rgb, smoothing=0.0)
    assert np.array_equal(got, np.broadcast_to(bands[:, None], (64, 64)))
    assert got.max() < NUM_CLASSES


def test_docstring_says_it_is_a_heuristic_and_not_a_learned_segmenter():
    doc = segment.__doc__
    assert "heuristic" in doc and "not a learned segmenter" in doc and "no weights" in doc


@pytest.mark.parametrize("module", ["gsvc.video.procedural", "gsvc.video.arrays", "gsvc.video.open"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
