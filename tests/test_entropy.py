"""Arithmetic-coded sections: exact round trips, fewer bytes than zlib, damage detected."""
import zlib

import numpy as np
import pytest

from gsvc.codecs import entropy_priors
from gsvc.codecs.diffusion import fill_uncovered
from gsvc.codecs.entropy import (decode_blocks, decode_label_map, decode_residuals, encode_blocks, encode_label_map,
                                 encode_residuals)
from gsvc.codecs.motion import MotionField, covered, decode_motion, encode_motion, estimate_motion, warp_labels
from gsvc.codecs.lowres import decode_lowres, encode_lowres, predict_lowres, quantize_lowres
from gsvc.codecs.semantic import decode_labels, encode_labels, label_header
from gsvc.codecs.structure import decode_structure, edge_map, encode_structure
from gsvc.video import VideoSpec, procedural_clip


@pytest.fixture(scope="module")
def clip():
    return procedural_clip(VideoSpec(seconds=0.6, fps=15, resolution=64, motion_px=2, camera="pan"), 5)


def test_label_maps_round_trip_and_beat_zlib_intra_and_inter(clip):
    lab0, lab2 = clip.labels[0], clip.labels[2]
    intra = encode_label_map(lab0)
    assert np.array_equal(decode_label_map(intra, lab0.shape), lab0)
    assert len(intra) < 0.9 * len(zlib.compress(lab0.tobytes(), 9))
    pred = warp_labels(lab0, estimate_motion(clip.rgb[0], clip.rgb[2]))
    inter = encode_label_map(lab2, pred)
    assert np.array_equal(decode_label_map(inter, lab2.shape, pred), lab2)
    assert len(inter) < 0.8 * len(zlib.compress((lab2 ^ pred).tobytes(), 9))
    assert len(inter) < len(intra)


def test_a_delta_s_labels_go_intra_when_the_prediction_costs_more(clip):
    lab = clip.labels[4]
    shifted = np.roll(lab, 3, axis=0)   # a prediction that misses every boundary row
    intra, best = encode_labels(lab), encode_labels(lab, shifted)
    priors = entropy_priors.LABELS
    assert len(encode_label_map(lab, shifted, priors)) > len(encode_label_map(lab, None, priors))  # the case
    assert label_header(best)[0] == "intra" and len(best) == len(intra)     # sent intra
    assert np.array_equal(decode_labels(best, shifted), lab)                # and decodes as a delta's section
    good = encode_labels(lab, lab)
    assert label_header(good)[0] == "inter" and len(good) < len(intra)      # a good prediction stays inter


def test_random_label_maps_with_every_class_round_trip():
    lab = np.random.default_rng(0).integers(0, 16, (17, 23)).astype(np.uint8)
    assert np.array_equal(decode_label_map(encode_label_map(lab), lab.shape), lab)
    with pytest.raises(ValueError, match="< 16"):
        encode_label_map(lab + 16)


def test_training_lowres_frames_equal_what_the_receiver_decodes(clip):
    for rgb, factor, quant in zip(clip.rgb[:4], (2, 4, 8, 4), (3, 8, 16, 30)):
        assert np.array_equal(quantize_lowres(rgb, factor, quant), decode_lowres(encode_lowres(rgb, factor, quant)[0]))


def test_intra_dc_prediction_inverts_and_follows_an_edge_the_previous_block_would_not():
    from gsvc.codecs.lowres import _dc_prediction, _undo_dc_prediction

    rng = np.random.default_rng(3)
    for side in (1, 2, 5, 16):
        dc = rng.integers(-300, 300, (side, side))
        assert np.array_equal(_undo_dc_prediction(dc.ravel() - _dc_prediction(dc), side), dc.ravel())
    edge = np.where(np.arange(8) < 3, 10, 50)[None, :].repeat(8, 0)  # a vertical edge through every row
    median = edge.ravel() - _dc_prediction(edge)
    previous = np.diff(np.r_[0, edge.ravel()])
    assert np.count_nonzero(median) == 2 and np.count_nonzero(previous) == 16


def test_residuals_round_trip_including_extremes():
    vals = np.r_[np.random.default_rng(1).integers(-6, 7, 300), [0, 32767, -32767, 1, -1, 0, 0, 255]]
    assert np.array_equal(decode_residuals(encode_residuals(vals), len(vals)), vals)
    assert len(encode_residuals(np.zeros(192, int))) < 8


def test_residual_contexts_keep_separate_statistics_and_round_trip():
    rng = np.random.default_rng(2)
    vals = np.r_[rng.integers(-40, 41, 100), rng.integers(-1, 2, 400)]
    ctx = np.r_[np.zeros(100, int), np.ones(400, int)]
    data = encode_residuals(vals, ctx)
    assert np.array_equal(decode_residuals(data, len(vals), ctx), vals)
    assert len(data) < len(encode_residuals(vals))  # two statistics code cheaper than one mixed
    with pytest.raises(ValueError, match="contexts"):
        encode_residuals(vals, ctx[:10])


def _sparse_blocks(seed: int) -> tuple[np.ndarray, dict]:
    """Two 6x6 planes of 16-value blocks, four in five all zero (a low-res delta's residual), and how
    they neighbour each other."""
    rng = np.random.default_rng(seed)
    vals = rng.integers(-3, 4, (72, 16)) * (rng.random((72, 1)) < 0.2) * (rng.random((72, 16)) < 0.4)
    own = np.arange(36)
    left = np.r_[np.where(own % 6, own - 1, -1), np.where(own % 6, own + 35, -1)]
    up = np.r_[np.where(own >= 6, own - 6, -1), np.where(own >= 6, own + 30, -1)]
    ctx = np.minimum(np.arange(16), 2)
    return vals, dict(contexts=ctx, block_class=np.repeat([0, 1], 36), left=left, up=up)


def test_blocks_round_trip_and_code_all_zero_blocks_cheaper_than_every_zero():
    vals, kw = _sparse_blocks(3)
    data = encode_blocks(vals, **kw)
    assert np.array_equal(decode_blocks(data, size=16, **kw), vals)
    flat_ctx = np.tile(kw["contexts"], len(vals))
    assert len(data) < 0.9 * len(encode_residuals(vals.ravel(), flat_ctx))
    assert len(encode_blocks(np.zeros((72, 16), int), **kw)) <= 5  # the flags, and the coder's one-byte flush
    with pytest.raises(ValueError, match="truncated"):
        decode_blocks(data[: len(data) // 2], size=16, **kw)
    with pytest.raises(ValueError, match="72 blocks"):
        encode_blocks(vals, **{**kw, "left": kw["left"][:10]})


@pytest.mark.parametrize("section", ["labels", "inter labels", "lowres", "inter lowres", "structure",
                                     "inter structure", "motion"])
def test_damaged_sections_raise_instead_of_decoding_wrong(clip, section):
    m = estimate_motion(clip.rgb[0], clip.rgb[3])
    pred = warp_labels(clip.labels[0], m)
    anchor_lowres = encode_lowres(clip.rgb[0], 4, 8)[1]
    pred_lowres = predict_lowres(anchor_lowres, m, 64)
    edges, pred_edges = edge_map(clip.rgb[3]), warp_labels(edge_map(clip.rgb[0]), m)
    data, decode = {
        "labels": (encode_labels(clip.labels[3]), decode_labels),
        "inter labels": (encode_labels(clip.labels[3], pred), lambda b: decode_labels(b, pred)),
        "lowres": (encode_lowres(clip.rgb[3], 4, 8)[0], decode_lowres),
        "inter lowres": (encode_lowres(clip.rgb[3], 4, 8, pred_lowres)[0], lambda b: decode_lowres(b, pred_lowres)),
        "structure": (encode_structure(edges), decode_structure),
        "inter structure": (encode_structure(edges, pred_edges), lambda b: decode_structure(b, pred_edges)),
        "motion": (encode_motion(m), decode_motion),
    }[section]
    intact = decode(data)
    damaged = [data[: len(data) // 2], data[:7]]
    damaged += [data[:i] + bytes([data[i] ^ (1 << (i % 8))]) + data[i + 1:] for i in range(len(data))]
    raised = 0
    for bad in damaged:
        try:
            out = decode(bad)
        except ValueError:
            raised += 1
            continue
        # a change the coder never reads (e.g. in its final flush bytes) may decode: but never to something else
        got = (out.global_px, out.blocks_px.tolist()) if section == "motion" else out.tolist()
        want = (intact.global_px, intact.blocks_px.tolist()) if section == "motion" else intact.tolist()
        assert got == want
    assert raised >= len(damaged) - 4


def test_covered_marks_what_a_pan_uncovers_and_the_lowres_frame_fills_it():
    mask = covered(MotionField((5.0, 0.0), np.zeros((1, 1, 2), np.float32)), 64)
    assert mask[:, :59].min() == 1 and mask[:, 59:].max() == 0
    assert covered(MotionField((0.0, -3.0), np.zeros((4, 4, 2), np.float32)), 64)[:3].max() == 0
    ref = np.zeros((64, 64, 3), np.float32)
    thumb = np.full((8, 8, 3), 0.75, np.float32)
    out = fill_uncovered(ref, mask, thumb)
    assert np.allclose(out[:, 59:], 0.75) and np.all(out[:, :59] == 0)
    assert fill_uncovered(ref, mask, None) is ref


def test_the_shortest_flush_decodes_every_stream_within_a_byte_of_its_information(monkeypatch):
    import math

    from gsvc.codecs import entropy

    class Metered(entropy.RangeEncoder):  # adds up -log2 P(bit) under the adaptive models as they code
        made: list = []

        def __init__(self):
            super().__init__()
            self.bits = 0.0
            Metered.made.append(self)

        def bit(self, probs, i, bit):
            p0 = probs[i] / 2048
            self.bits -= math.log2(p0 if bit == 0 else 1 - p0)
            super().bit(probs, i, bit)

    monkeypatch.setattr(entropy, "RangeEncoder", Metered)
    rng = np.random.default_rng(7)
    assert encode_residuals(np.zeros(0, int)) == b""
    for trial in range(200):
        n = int(rng.integers(1, 120))
        vals = np.clip(np.round(rng.laplace(0, [0.2, 2, 40, 4000][trial % 4], n)), -32767, 32767).astype(int)
        data = encode_residuals(vals)
        assert np.array_equal(decode_residuals(data, n), vals)
        assert len(data) <= Metered.made[-1].bits / 8 + 1.5  # LZMA's own flush would add 4 bytes
    data = encode_residuals(rng.integers(-50, 50, 400))
    with pytest.raises(ValueError, match="truncated"):
        decode_residuals(data[:-6], 400)


def test_the_zeros_after_a_block_s_last_value_cost_nothing():
    rng = np.random.default_rng(3)
    head = np.where(rng.random((40, 4)) < 0.6, rng.integers(-4, 5, (40, 4)), 0)
    head[:, 0] += 1 - np.abs(head[:, 0]).clip(max=1)  # every block coded
    kw = dict(block_class=np.zeros(40, int), left=-np.ones(40, int), up=-np.ones(40, int))
    short, long_ = np.pad(head, ((0, 0), (0, 1))), np.pad(head, ((0, 0), (0, 28)))  # 5 and 32 values a block
    data = encode_blocks(long_, contexts=np.minimum(np.arange(32), 2), **kw, last_flags=True)
    assert np.array_equal(decode_blocks(data, contexts=np.minimum(np.arange(32), 2), size=32, **kw, last_flags=True),
                          long_)
    assert len(data) == len(encode_blocks(short, contexts=np.minimum(np.arange(5), 2), **kw, last_flags=True))
    assert len(encode_blocks(long_, contexts=np.minimum(np.arange(32), 2), **kw)) > len(data)  # without: they cost
    ends = np.zeros((3, 16), int)
    ends[0, 15], ends[1, 0], ends[2, [0, 15]] = -2, 5, (1, 7)  # last at either end
    kw3 = dict(contexts=np.minimum(np.arange(16), 2), block_class=np.zeros(3, int), left=-np.ones(3, int),
               up=-np.ones(3, int))
    assert np.array_equal(decode_blocks(encode_blocks(ends, **kw3, last_flags=True), size=16, **kw3, last_flags=True),
                          ends)


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_label_sections_carry_mode_side_and_factor_in_four_bytes(clip, factor):
    lab = clip.labels[2]
    data = encode_labels(lab, clip.labels[1], factor=factor)
    mode, side, got = label_header(data)
    assert (side, got) == (64 // factor, factor) and mode in ("intra", "inter")
    assert np.array_equal(decode_labels(data, clip.labels[1]), np.repeat(np.repeat(lab[factor // 2::factor,
                                                                                     factor // 2::factor], factor, 0),
                                                                          factor, 1))
    with pytest.raises(ValueError, match="factor"):
        encode_labels(lab, factor=3)
    bad = bytes([data[0], data[1] | 0x60]) + data[2:]  # factor code 3
    with pytest.raises(ValueError, match="bad header"):
        decode_labels(bad, clip.labels[1])
