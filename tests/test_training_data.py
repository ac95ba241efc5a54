"""Training data made by code: the mixture, its windows and the conditions each example gets."""
import numpy as np

from gsvc.codecs.train import FAMILIES, TrainConfig, make_batch, make_clip, make_pool

CFG = TrainConfig(batch=12, sides_px=(64, 128), p_sides=(0.5, 0.5), clip_frames=4)


def test_every_family_gives_windows_of_the_crop_size_and_only_procedural_has_labels():
    for i, family in enumerate(FAMILIES):
        rgb, labels, side = make_clip(CFG, 10 + i, family=family)
        assert rgb.shape == (4, 64, 64, 3) and rgb.dtype == np.uint8 and side in (64, 128)
        assert (labels is not None) == (family == "procedural")
        assert rgb.std() > 5  # not blank


def test_pool_and_batches_are_deterministic_for_their_seeds():
    a, b = make_pool(CFG, 0, 3, balanced=True), make_pool(CFG, 0, 3, balanced=True)
    assert all(np.array_equal(x["rgb"], y["rgb"]) for x, y in zip(a, b))
    ba, bb = (make_batch(a, CFG, np.random.default_rng(5)) for _ in range(2))
    assert np.array_equal(ba[0], bb[0])
    tgt, labels, refs, masks, lowres, structure = ba
    assert tgt.shape == (12, 64, 64, 3) and len(labels) == len(refs) == len(lowres) == len(structure) == 12
    for lr in lowres:
        assert lr is None or 64 % lr.shape[0] == 0 and lr.shape[0] in (8, 16, 32)
    for r, m in zip(refs, masks):
        assert (r is None) == (m is None)
    assert any(x is not None for x in lowres) and any(x is None for x in refs)
