"""LPIPS and DISTS in plain torch from packaged weights, checked against the published calibration values."""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import gsvc
from gsvc.metrics.dists import dists
from gsvc.metrics.lpips import lpips, restricted_load
from gsvc.scenarios import Scenario

WHEEL = Path(__file__).parents[1] / ".cache" / "wheels" / "pyiqa-0.1.16-py3-none-any.whl"
# official LPIPS (alex, v0.1) on pyiqa's calibration pairs: chaofengc/IQA-PyTorch
# ResultsCalibra/calibration_summary.csv (commit 065c2b73), row "lpips"
PUBLISHED = {"I03": 0.7237, "I04": 0.2572, "I06": 0.0508, "I08": 0.0520, "I19": 0.4253}
# official DISTS on the same pairs, same file, row "dists"
PUBLISHED_DISTS = {"I03": 0.4742, "I04": 0.1424, "I06": 0.0683, "I08": 0.0287, "I19": 0.3123}


def _pair(name: str):
    if not WHEEL.exists():
        pytest.skip(f"{WHEEL} is missing; `make test` downloads it")
    with zipfile.ZipFile(WHEEL) as z:
        return tuple(iio.imread(io.BytesIO(z.read(f"ResultsCalibra/{d}/{name}.bmp"))) for d in ("ref_dir", "dist_dir"))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_lpips_matches_the_published_calibration_values(name):
    ref, dist = _pair(name)
    assert lpips(ref[None], dist[None])[0] == pytest.approx(PUBLISHED[name], abs=2e-4)


def test_the_differentiable_lpips_is_the_metric_and_its_gradient_moves_an_image_towards_its_reference():
    import torch

    from gsvc.metrics.lpips import lpips_torch
    from gsvc.metrics.weights import images_nchw
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    test = np.clip(ref.astype(int) + rng.integers(-40, 41, ref.shape), 0, 255).astype(np.uint8)
    x = images_nchw(test, "cpu").requires_grad_(True)
    d = lpips_torch(images_nchw(ref, "cpu"), x)
    assert d.detach().double().numpy() == pytest.approx(lpips(ref, test), abs=1e-6)
    d.sum().backward()
    with torch.no_grad():
        stepped = (x - 0.02 * x.grad / x.grad.abs().max()).clamp(0, 1)
        assert (lpips_torch(images_nchw(ref, "cpu"), stepped) < d).all()


@pytest.mark.parametrize("name", sorted(PUBLISHED_DISTS))
def test_dists_matches_the_published_calibration_values(name):
    ref, dist = _pair(name)
    assert dists(ref[None], dist[None])[0] == pytest.approx(PUBLISHED_DISTS[name], abs=1e-3)


def test_dists_is_zero_for_identical_images_and_grows_with_blur():
    from scipy.ndimage import gaussian_filter
    ref, _ = _pair("I06")
    ref = ref[:128, :128]
    soft = np.clip(gaussian_filter(ref.astype(np.float32), (1, 1, 0)), 0, 255).astype(np.uint8)
    softer = np.clip(gaussian_filter(ref.astype(np.float32), (3, 3, 0)), 0, 255).astype(np.uint8)
    d = dists(np.stack([ref, ref, ref]), np.stack([ref, soft, softer]))
    assert abs(d[0]) < 1e-5 and d[0] < d[1] < d[2]


def test_lpips_is_zero_for_identical_images_and_batches_give_the_same_numbers():
    ref, dist = _pair("I04")
    ref, dist = ref[:128, :128], dist[:128, :128]
    assert lpips(ref[None], ref[None])[0] == pytest.approx(0.0, abs=1e-6)
    one = [lpips(a[None], b[None])[0] for a, b in ((ref, dist), (dist, ref))]
    both = lpips(np.stack([ref, dist]), np.stack([dist, ref]))
    np.testing.assert_allclose(both, one, rtol=1e-6)


def test_the_unpickler_refuses_anything_but_arrays(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(pickle.dumps({"x": np.zeros(3), "f": print}))
    with pytest.raises(pickle.UnpicklingError, match="builtins"):
        restricted_load(bad)
    good = tmp_path / "good.ckpt"
    good.write_bytes(pickle.dumps({"x": np.arange(3.0)}))
    np.testing.assert_array_equal(restricted_load(good)["x"], np.arange(3.0))


def test_a_run_scores_lpips_of_what_was_shown():
    sc = Scenario(name="l", video=dict(seconds=1, fps=15, resolution=64), codec=dict(name="h264", bitrate_kbps=16),
                  metrics=["lpips"], receiver=dict(latency="profile:cpu-2core"))
    r = gsvc.run(sc)
    assert r.frames["lpips"].between(0, 1).all()
    assert r.summary["lpips_mean"] == pytest.approx(r.frames["lpips"].mean())
    # more bits, closer to the original
    better = gsvc.run(sc.updated({"codec.bitrate_kbps": 256}))
    assert better.summary["lpips_mean"] < r.summary["lpips_mean"]
