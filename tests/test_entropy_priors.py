"""Where the arithmetic coders' models start: counted priors, the shipped tables, their derivation."""
import numpy as np
import pytest

from gsvc.codecs import entropy_priors
from gsvc.codecs.derive_priors import derive, module_text, prior_clip
from gsvc.codecs.entropy import (FLAT, FLAT_LABELS, LabelPriors, Priors, Tally, decode_blocks, decode_label_map,
                                 decode_residuals, encode_blocks, encode_label_map, encode_residuals)
from gsvc.codecs.lowres import encode_lowres, predict_lowres
from gsvc.codecs.motion import encode_motion, estimate_motion


def _sparse(seed, n=36):
    rng = np.random.default_rng(seed)
    vals = np.where(rng.random((n, 16)) < 0.15, rng.integers(-3, 4, (n, 16)), 0)
    vals[rng.random(n) < 0.5] = 0
    own = np.arange(n)
    kw = dict(contexts=np.minimum(np.arange(16), 2), block_class=np.zeros(n, int),
              left=np.where(own % 6, own - 1, -1), up=np.where(own >= 6, own - 6, -1))
    return vals, kw


def test_priors_counted_on_some_sections_shorten_others_of_their_kind_and_round_trip():
    tally = Tally()
    for seed in range(20):
        vals, kw = _sparse(seed)
        tally.blocks(vals, **kw)
    priors = tally.priors(flags=True)
    flat_bytes = prior_bytes = 0
    for seed in range(100, 110):
        vals, kw = _sparse(seed)
        data = encode_blocks(vals, **kw, priors=priors)
        assert np.array_equal(decode_blocks(data, size=16, **kw, priors=priors), vals)
        flat_bytes += len(encode_blocks(vals, **kw))
        prior_bytes += len(data)
    assert prior_bytes < 0.9 * flat_bytes
    vals, kw = _sparse(200)
    try:  # read with other priors: other values, or more bytes than there are
        wrong = decode_blocks(encode_blocks(vals, **kw, priors=priors), size=16, **kw)
    except ValueError:
        wrong = None
    assert wrong is None or not np.array_equal(wrong, vals)


def test_residual_priors_cover_only_the_contexts_counted_and_the_rest_start_flat():
    tally = Tally()
    tally.residuals(np.r_[np.zeros(50, int), np.ones(50, int)], np.zeros(100, int))
    priors = tally.priors(flags=False)
    assert priors.flags == () and len(priors.values) == 1
    assert priors.values[0][1] > 1024 > priors.values[0][0]  # after a zero a zero is likely, after a one a one
    vals, ctx = np.array([0, 0, 5, -7, 0, 3]), np.array([0, 0, 1, 1, 0, 1])
    data = encode_residuals(vals, ctx, priors)
    assert np.array_equal(decode_residuals(data, 6, ctx, priors), vals)


@pytest.mark.parametrize("field, priors", [("flags", dict(flags=(1024,) * 47)),
                                           ("values", dict(values=((1024,) * 34,))),
                                           ("[1, 2047]", dict(values=((0,) * 40,)))])
def test_malformed_priors_are_refused_by_name(field, priors):
    with pytest.raises(ValueError, match=field.replace("[", r"\[")):
        Priors(**priors)


def _sections(clip):
    """A clip's anchor, then each later frame's motion from it and low-res delta (cvsc's defaults)."""
    anchor, anchor_lr = encode_lowres(clip[0], 2, 5)
    out = [anchor]
    for rgb in clip[1:]:
        motion = estimate_motion(clip[0], rgb, 32)
        out += [encode_motion(motion), encode_lowres(rgb, 2, 20, predict_lowres(anchor_lr, motion, 64))[0]]
    return out


def _sizes(clips):
    """Bytes of the clips' motion, delta and anchor sections, summed."""
    secs = [_sections(clip) for clip in clips]
    return [sum(len(b) for s in secs for b in s[part]) for part in (slice(1, None, 2), slice(2, None, 2), slice(0, 1))]


def test_the_shipped_tables_shorten_sections_of_content_they_were_not_counted_on(monkeypatch):
    clips = [prior_clip(i).clip(0, 12).rgb for i in range(995, 999)]  # past the derivation's 24, every family
    motion, deltas, anchors = _sizes(clips)
    for name in ("LOWRES_INTRA", "LOWRES_INTER", "MOTION"):
        monkeypatch.setattr(entropy_priors, name, FLAT)
    flat_motion, flat_deltas, flat_anchors = _sizes(clips)
    assert motion < 0.95 * flat_motion and deltas < 0.95 * flat_deltas and anchors < 0.99 * flat_anchors


def test_the_shipped_label_and_edge_tables_shorten_maps_they_were_not_counted_on():
    from gsvc.codecs.structure import edge_map
    clip = prior_clip(996).clip(0, 12)  # a procedural clip past the derivation's 24
    maps = {"LABELS": list(clip.labels), "EDGES": [edge_map(rgb) for rgb in clip.rgb]}
    for name, frames in maps.items():
        pairs = [(frames[0], None)] + [(m, frames[0]) for m in frames[1:]]
        shipped = getattr(entropy_priors, name)
        sizes = [sum(len(encode_label_map(m, p, priors)) for m, p in pairs) for priors in (shipped, FLAT_LABELS)]
        assert sizes[0] < 0.95 * sizes[1], name
        m, p = pairs[3]
        assert np.array_equal(decode_label_map(encode_label_map(m, p, shipped), m.shape, p, shipped), m)


def test_label_priors_are_counted_from_maps_and_malformed_ones_refused():
    tally = Tally()
    tally.label_map(np.zeros((8, 8), np.uint8))  # one class: every pixel hits its first prediction
    priors = tally.label_priors()
    assert priors.hit[7] > 1900 and priors.hit[:7] == (1024,) * 7 and priors.alt == (1024,) * 8  # all agree: 7
    with pytest.raises(ValueError, match="LabelPriors.alt"):
        LabelPriors(alt=(1024,) * 7)
    with pytest.raises(ValueError, match=r"\[1, 2047\]"):
        LabelPriors(tree=(0,) * 16)


def test_derivation_writes_a_module_that_holds_the_tables_it_counted():
    tables = derive(clips=2)
    scope = {}
    exec(module_text(tables, clips=2).replace("from .entropy", "from gsvc.codecs.entropy"), scope)
    assert {name: scope[name] for name in tables} == tables
    assert len(tables["LOWRES_INTER"].flags) == 48 and tables["MOTION"].flags == ()
    assert isinstance(tables["LABELS"], LabelPriors) and tables["LABELS"].hit != (1024,) * 16
    assert tables["EDGES"].hit != tables["LABELS"].hit


@pytest.mark.slow
def test_the_shipped_tables_are_what_their_derivation_makes():
    tables = derive()
    assert tables == {name: getattr(entropy_priors, name) for name in tables}
