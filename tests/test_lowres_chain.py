"""``codec.lowres_reference="previous"``: deltas' low-res frames chained as P frames (both ends in step)."""
import numpy as np
import pandas as pd
import pytest

import gsvc
from gsvc.codecs.cache import CodecCache
from gsvc.codecs.lowres_chain import LowresChain
from gsvc.codecs.motion import MotionField
from gsvc.codecs.registry import make_codec, names_with
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError
from gsvc.codecs.lowres import downsample
from gsvc.video import VideoSpec, devset, open_source

VIDEO = VideoSpec(seconds=1, fps=15, resolution=64, labels="none", motion_px=2.0)


def coded(reference: str, frames, video: VideoSpec = VIDEO, **kw):
    """The codec and every encoded frame, each with the low-res frame the sender kept for it in ``meta``."""
    c = make_codec(CodecSpec(name="lowres", lowres_reference=reference, **kw), video)
    enc = c.encoder(0)
    out = []
    for f in frames:
        out += enc.encode(f, [])
        out[-1].meta["sent_lowres"] = enc.cond.delta_lowres if out[-1].kind == "delta" else None
    return c, out


def dev_frames(clip: str, start: int, stop: int):
    return devset.dev_source(clip).clip(start, stop).frames()


def lowres_psnr_db(efs, frames) -> float:
    return float(np.mean([psnr_db(ef.meta["sent_lowres"], downsample(np.asarray(f.rgb, np.float32), 2))
                          for ef, f in zip(efs, frames) if ef.kind == "delta"]))


def psnr_db(a, b) -> float:
    return float(10 * np.log10(1 / np.mean((a - b) ** 2)))


def delta_bits(efs) -> int:
    return 8 * sum(len(ef.sections["lowres"]) + len(ef.sections.get("step", b"")) for ef in efs if ef.kind == "delta")


@pytest.mark.parametrize("reference", ["previous", "best"])
def test_both_ends_keep_the_same_chain(reference):
    frames = dev_frames("dead_leaves", 0, 24)  # a slow pan, then a zoom
    c, efs = coded(reference, frames, gop=24)
    dec = c.decoder(0)
    for ef in efs:
        if ef.kind == "delta":  # the receiver decodes the low-res frame the sender predicted the next one from
            assert np.array_equal(dec._parse(ef)["lowres"], ef.meta["sent_lowres"])
        assert dec.decode(ef, dec.plan(ef, True, None)).path != "conceal"
    chained = ["step" in ef.sections for ef in efs[1:]]
    assert [len(ef.refs) == 2 for ef in efs[1:]] == chained  # a step section, and the frame it follows
    assert all(ef.refs[1] == ef.frame - 1 for ef in efs if len(ef.refs) == 2)
    assert not chained[0]  # the first delta follows its anchor
    if reference == "previous":
        assert all(chained[1:])
    else:  # the sender chose per frame: both kinds occur
        assert any(chained) and not all(chained[1:])


def test_on_fast_motion_chaining_spends_fewer_bits_for_the_same_fidelity():
    frames = dev_frames("dead_leaves", 36, 48)  # 8 px/frame pan: the anchor soon covers little of the frame
    out = {ref: coded(ref, frames, gop=12)[1] for ref in ("anchor", "previous", "best")}
    bits = {ref: delta_bits(efs) for ref, efs in out.items()}
    fidelity = {ref: lowres_psnr_db(efs, frames) for ref, efs in out.items()}
    assert bits["previous"] < 0.8 * bits["anchor"] and fidelity["previous"] > fidelity["anchor"] - 0.5
    assert bits["best"] < 0.9 * bits["anchor"] and fidelity["best"] > fidelity["anchor"] - 0.5


def test_a_lost_delta_breaks_the_chain_until_an_anchor_and_asks_for_one():
    frames = open_source(VIDEO, 3).read_all()[:6]
    for reference, then in (("anchor", "classic"), ("previous", "conceal")):
        c, efs = coded(reference, frames, gop=6)
        dec = c.decoder(0)
        paths = []
        for ef in efs:
            plan = dec.plan(ef, ef.frame != 2, None)  # frame 2 arrives incomplete
            d = dec.decode(ef, plan)
            paths.append(plan.path)
        assert paths[2] == "conceal" and paths[3:] == [then] * 3
        assert d.request_anchor == (reference == "previous")


def test_a_late_chained_delta_is_skipped_and_its_low_res_frame_continues_the_chain():
    frames = dev_frames("dead_leaves", 36, 42)  # fast pan: every delta after the first is chained
    c, efs = coded("previous", frames, gop=6)
    dec, shown = c.decoder(0), {}
    for ef in efs:
        plan = dec.plan(ef, True, None)
        if ef.frame in (2, 3):  # two late deltas in a row
            assert dec.shed(ef, plan, budget_ms=-5.0, arrived_late=True) == "late"
            assert not dec.chain.skipped and dec.chain.frame == ef.frame  # the chain a full decode leaves
            assert np.array_equal(dec.chain.chain.lowres, ef.meta["sent_lowres"])
            continue
        shown[ef.frame] = dec.decode(ef, plan)
        if ef.kind == "delta":
            assert np.array_equal(dec.chain.chain.lowres, ef.meta["sent_lowres"])  # in step with the sender
    assert all(d.path is None and not d.request_anchor for d in shown.values())


def test_a_late_delta_that_could_only_be_concealed_breaks_the_chain():
    frames = dev_frames("dead_leaves", 36, 40)
    c, efs = coded("previous", frames, gop=4)
    dec = c.decoder(0)
    dec.decode(efs[0], dec.plan(efs[0], True, None))
    plan = dec.plan(efs[1], False, None)
    assert plan.path == "conceal" and dec.shed(efs[1], plan, budget_ms=-5.0, arrived_late=True) == "late"
    plan = dec.plan(efs[2], True, None)
    assert plan.path == "conceal" and dec.decode(efs[2], plan).request_anchor


def test_the_chain_object_predicts_from_its_frame_moved_on():
    low = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    chain = LowresChain(low)
    assert np.array_equal(chain.predicted(None, 64, 2), low)
    assert not np.array_equal(chain.predicted(MotionField((2.0, 0.0), np.zeros((1, 1, 2), np.float32)), 64, 2), low)


def test_codecs_that_cannot_chain_and_streams_without_low_res_deltas_are_refused():
    assert set(names_with("lowres_chain")) == {"cvsc", "lowres", "reuse"}
    Scenario(codec=dict(name="reuse", lowres_reference="best"))
    with pytest.raises(SpecError, match="lowres_reference"):
        Scenario(codec=dict(name="content_motion", lowres_reference="previous"))
    with pytest.raises(SpecError, match="codec.lowres='all'"):
        Scenario(codec=dict(name="cvsc", lowres="anchors", lowres_reference="previous"))
    # cvsc's own default ("best") stands where it does not apply; nothing is chained
    assert Scenario(codec=dict(name="cvsc", lowres="anchors")).codec.lowres_reference == "best"
    with pytest.raises(SpecError, match="lowres_reference"):
        Scenario(codec=dict(name="cvsc", lowres_reference="last"))


def _lossy(codec: dict) -> Scenario:
    return Scenario(name="t", seed=3, streams=2, video=dict(seconds=1, fps=10, resolution=64),
                    codec=dict(lowres_reference="previous", **codec),
                    channel=dict(model="constant", rate_mbps=1.0, loss_rate=0.3))


@pytest.mark.parametrize("codec,shed", [(dict(name="lowres"), False),
                                        (dict(name="cvsc", steps=2, control="adaptive"), False),
                                        (dict(name="cvsc", steps=4), True)])
def test_chained_runs_decide_the_same_without_the_model_and_with_the_cache(codec, shed):
    sc = _lossy(codec)
    if shed:  # a 120 ms buffer: a 4-step anchor makes the deltas behind it late
        sc = sc.updated({"jitter.mode": "fixed", "jitter.delay_ms": 120})
    real = gsvc.run(sc).frames
    timed = gsvc.run(sc.updated({"receiver.decode": "timing-only"})).frames
    assert (real["plan"] == "conceal").any() and (real["skip_reason"] == "late").any() == shed
    for col in ["plan", "steps", "unet_evals", "skip_reason", "decode_start_ms", "display_ms", "latency_ms"]:
        assert timed[col].equals(real[col]), col
    cache = CodecCache()
    gsvc.run(sc.updated({"seed": 4}), cache=cache)
    pd.testing.assert_frame_equal(gsvc.run(sc, cache=cache).frames, real)
