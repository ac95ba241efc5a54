"""Training data made by code: the mixture, its windows and the conditions each example gets."""
from dataclasses import replace

import numpy as np
import pytest

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


def test_a_training_device_is_checked_before_any_work():
    import torch

    from gsvc.codecs.train import train_device
    assert train_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="--device 'tpu'"):
        train_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            train_device("cuda")


@pytest.mark.slow
def test_two_steps_of_training_write_weights_a_card_and_resume(tmp_path):
    from gsvc.codecs.model import Denoiser, default_weights_path
    from gsvc.codecs.train import train
    cfg = TrainConfig(steps=2, batch=2, pool_clips=3, clip_frames=4, max_gap=2, checkpoint_every=1,
                      sides_px=(64,), p_sides=(1.0,), init_weights=str(default_weights_path()))
    weights = train(tmp_path, cfg, log=lambda m: None, device="cpu")
    den = Denoiser.load(weights)
    assert den.cfg.residual_lowres and (tmp_path / "MODEL_CARD.md").exists()
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "Initialised from `denoiser.safetensors`" in card and "Resumed" not in card
    lines = []
    train(tmp_path, replace(cfg, max_minutes=99.0), log=lines.append)  # a larger budget; the steps are done
    assert any("resumed at step 2" in m for m in lines)
    assert "Resumed from its checkpoint at step 2" in (tmp_path / "MODEL_CARD.md").read_text()
