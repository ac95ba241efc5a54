"""Least-squares refinement of the codecs' motion (gsvc.codecs.motion.refine_motion)."""
import numpy as np
import pytest

from gsvc.codecs import motion as M
from gsvc.video.stills import synthetic_image


def _psnr_covered(pred: np.ndarray, cur: np.ndarray, m: M.MotionField) -> float:
    cov = M.covered(m, cur.shape[0])[..., None]
    return float(10 * np.log10(cov.sum() * 3 / np.sum(cov * (pred - cur) ** 2)))


def _zoomed_pan(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, M.MotionField]:
    """A 64 px frame and the next one under a known pan + zoom (the true field, a fine grid)."""
    ref = synthetic_image(kind, seed, 64, 64).astype(np.float32)
    yy, xx = np.mgrid[0:16, 0:16] * 4.0 + 2.0
    zoom = 0.04  # 4 % per frame: the edges move by 1.3 px relative to the centre
    blocks = np.stack([(xx - 32) * zoom, (yy - 32) * zoom], -1).astype(np.float32)
    truth = M.MotionField((1.3, -0.7), blocks)
    return ref, M.warp(ref, truth), truth


@pytest.mark.parametrize("kind, seed", [("dead_leaves", 3), ("fractal", 5)])
def test_refinement_predicts_a_zooming_pan_better_than_phase_correlation_alone(kind, seed, monkeypatch):
    ref, cur, _ = _zoomed_pan(kind, seed)
    monkeypatch.setattr(M, "REFINE_STEPS", 0)
    coarse = M.estimate_motion(ref, cur)
    monkeypatch.setattr(M, "REFINE_STEPS", 8)
    fine = M.estimate_motion(ref, cur)
    gain_db = _psnr_covered(M.warp(ref, fine), cur, fine) - _psnr_covered(M.warp(ref, coarse), cur, coarse)
    assert gain_db > 1.0
    # what is sent is still quarter-pel and round-trips through the bytes
    sent = M.decode_motion(M.encode_motion(fine))
    assert sent.global_px == fine.global_px and np.array_equal(sent.blocks_px, fine.blocks_px)
    assert np.array_equal(fine.blocks_px * 4, np.round(fine.blocks_px * 4))


def test_refinement_finds_a_subpixel_pan_and_leaves_a_still_frame_alone():
    ref = synthetic_image("dead_leaves", 7, 64, 64).astype(np.float32)
    shift = M.MotionField((0.75, -1.25), np.zeros((1, 1, 2), np.float32))
    m = M.estimate_motion(ref, M.warp(ref, shift))
    dense = m.dense_px(64)[16:-16, 16:-16]
    assert np.abs(dense - np.array([0.75, -1.25])).max() <= 0.25 + 1e-6
    still = M.estimate_motion(ref, ref)
    assert still.global_px == (0.0, 0.0) and not np.any(still.blocks_px)


def test_refinement_keeps_block_vectors_within_their_limit_on_unrelated_frames():
    a = synthetic_image("dead_leaves", 1, 64, 64).astype(np.float32)
    b = synthetic_image("fractal", 2, 64, 64).astype(np.float32)  # a cut: nothing to find
    m = M.refine_motion(a, b, M.MotionField((0.0, 0.0), np.zeros((7, 7, 2), np.float32)), limit_px=8.0)
    assert np.all(np.isfinite(m.blocks_px)) and np.abs(m.blocks_px).max() <= 16.0


def test_a_deltas_motion_grid_follows_codec_motion_block_px():
    from gsvc.codecs.registry import make_codec
    from gsvc.codecs.spec import CodecSpec
    from gsvc.video import VideoSpec, devset

    def grid(side: int, **kw) -> tuple[int, int]:
        video = VideoSpec(seconds=1, fps=15, resolution=side, labels="none")
        enc = make_codec(CodecSpec(name="lowres", lowres_reference="anchor", **kw), video).encoder(0)
        efs = [enc.encode(f, [])[0] for f in devset.dev_source("dead_leaves", side).clip(0, 3).frames()]
        return M.decode_motion(efs[-1].sections["motion"]).blocks_px.shape[:2]

    assert M.motion_block_px(None, 64) == 32 and M.motion_block_px(None, 256) == 128 and M.motion_block_px(12, 64) == 12
    assert grid(64) == (3, 3) and grid(32) == (3, 3)  # half the side: the same grid at any size
    assert grid(64, motion_block_px=16) == (7, 7)
    assert grid(64, motion_block_px=64) == (1, 1)


def test_motion_blocks_larger_than_the_frame_are_refused_before_the_run():
    from gsvc.scenarios import Scenario
    from gsvc.spec import SpecError
    Scenario(codec=dict(name="cvsc", motion_block_px=64), video=dict(resolution=64))
    with pytest.raises(SpecError, match=r"codec.motion_block_px=128 .*video.resolution=64"):
        Scenario(codec=dict(name="cvsc", motion_block_px=128), video=dict(resolution=64))
    with pytest.raises(SpecError, match="motion_block_px"):
        Scenario(codec=dict(name="cvsc", motion_block_px=2))
