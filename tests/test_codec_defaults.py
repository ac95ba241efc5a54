"""A codec's own defaults (``spec_defaults``): the tuned low-res stream of cvsc, lowres and reuse (chained)
and anchor_residual's own (predicted from the anchor, in short groups), the tuned strength of the codecs
that refine a delta from a start made to agree with its low-res frame (cvsc, reuse, anchor_residual), the
tuned share of the generated detail of cvsc and reuse, the three-step anchor schedule of cvsc, reuse and
anchor_residual."""
import pytest

from gsvc.codecs.anchor_residual import TUNED_AR_STREAM
from gsvc.codecs.cvsc import TUNED_ANCHOR_STEPS, TUNED_CHAINED, TUNED_DETAIL, TUNED_LOWRES, TUNED_STRENGTH
from gsvc.codecs.reuse import TUNED_REUSE_DETAIL
from gsvc.codecs.spec import CodecSpec
from gsvc.scenarios import Scenario
from gsvc.scenarios.grid import expand
from gsvc.spec import SpecError

SHARED = {f: CodecSpec.model_fields[f].default for f in TUNED_CHAINED}


def _lowres_fields(spec) -> dict:
    return {f: getattr(spec, f) for f in TUNED_CHAINED}


def test_cvsc_lowres_and_anchor_residual_take_the_tuned_stream_and_the_others_the_shared_defaults():
    assert SHARED != TUNED_CHAINED and set(TUNED_LOWRES) < set(TUNED_CHAINED)
    assert _lowres_fields(CodecSpec(name="cvsc")) == TUNED_CHAINED
    assert _lowres_fields(CodecSpec(name="lowres")) == TUNED_CHAINED  # the same stream, shown without generation
    assert _lowres_fields(CodecSpec(name="reuse")) == TUNED_CHAINED  # the same stream, another start
    # its residual is the anchor-predicted stream (it cannot chain)
    ar = CodecSpec(name="anchor_residual")
    own = {**TUNED_AR_STREAM, "lowres_reference": "anchor", "lowres_backprojection": SHARED["lowres_backprojection"]}
    assert _lowres_fields(ar) | {"gop": ar.gop} == own and ar.gop < CodecSpec.model_fields["gop"].default
    for name in ("full", "oneshot", "content_motion"):
        assert _lowres_fields(CodecSpec(name=name)) == SHARED


def test_cvsc_reuse_and_anchor_residual_alone_refine_deltas_at_the_tuned_strength():
    assert CodecSpec(name="cvsc").strength == TUNED_STRENGTH < CodecSpec.model_fields["strength"].default
    assert CodecSpec(name="reuse").strength == TUNED_STRENGTH
    assert CodecSpec(name="anchor_residual").strength == TUNED_STRENGTH
    for name in ("content_motion", "lowres", "full"):
        assert CodecSpec(name=name).strength == CodecSpec.model_fields["strength"].default
    assert CodecSpec(name="cvsc", strength=0.3).strength == 0.3


def test_cvsc_and_reuse_alone_show_the_tuned_share_of_their_generated_detail():
    assert CodecSpec(name="cvsc").detail_scale == TUNED_DETAIL < CodecSpec.model_fields["detail_scale"].default == 1
    # reuse's deltas start from a noisier sample (its anchor's last cached one): less of it is shown
    assert CodecSpec(name="reuse").detail_scale == TUNED_REUSE_DETAIL < TUNED_DETAIL
    for name in ("anchor_residual", "content_motion", "full", "oneshot"):
        assert CodecSpec(name=name).detail_scale == 1  # the published methods show what they sample
    assert CodecSpec(name="cvsc", detail_scale=1).detail_scale == 1
    assert CodecSpec(name="cvsc").labelled_detail_scale == CodecSpec(name="reuse").labelled_detail_scale == 1
    assert CodecSpec(name="full").labelled_detail_scale is None  # None: the frame's detail_scale
    # a share given alone is every frame's; both given, each its own
    assert CodecSpec(name="cvsc", detail_scale=0).labelled_detail_scale is None
    both = CodecSpec(name="cvsc", detail_scale=0, labelled_detail_scale=0.5)
    assert (both.detail_scale, both.labelled_detail_scale) == (0, 0.5)


def test_anchors_take_the_tuned_schedule_unless_steps_or_a_model_folder_are_given(tmp_path):
    cvsc = CodecSpec(name="cvsc")
    assert cvsc.anchor_steps == TUNED_ANCHOR_STEPS < cvsc.steps
    for name in ("reuse", "anchor_residual"):
        assert CodecSpec(name=name).anchor_steps == TUNED_ANCHOR_STEPS
    for name in ("full", "content_motion"):  # content_motion's content: its module says why
        assert CodecSpec(name=name).anchor_steps is None
    assert CodecSpec(name="cvsc", anchor_steps=7).anchor_steps == 7
    # a schedule given alone is the anchors' too (None: steps), both given each its own
    assert CodecSpec(name="cvsc", steps=20).anchor_steps is None
    assert CodecSpec(name="cvsc", steps=20, anchor_steps=4).anchor_steps == 4
    # tuned with the shipped model: a latent model's anchors run its whole schedule
    assert CodecSpec(name="cvsc", model=str(tmp_path)).anchor_steps is None
    assert CodecSpec(name="cvsc", weights=str(tmp_path / "w.safetensors")).anchor_steps == TUNED_ANCHOR_STEPS


def test_a_value_the_user_gives_wins_over_the_codec_s_own():
    spec = CodecSpec(name="cvsc", lowres_factor=4, lowres_quant=12)
    assert (spec.lowres_factor, spec.lowres_quant) == (4, 12)
    assert spec.anchor_lowres_quant == TUNED_CHAINED["anchor_lowres_quant"]


def test_switching_codec_name_takes_the_new_codec_s_defaults_and_keeps_what_the_user_set():
    cvsc = Scenario(codec=dict(name="cvsc", steps=6))
    full = cvsc.updated({"codec.name": "full"})
    assert _lowres_fields(full.codec) == SHARED and full.codec.steps == 6
    back = full.updated({"codec.name": "cvsc"})
    assert back.spec_hash() == cvsc.spec_hash()  # the same scenario however it was reached
    pinned = Scenario(codec=dict(name="cvsc", lowres_quant=22)).updated({"codec.name": "lowres"})
    assert pinned.codec.lowres_quant == 22 and pinned.codec.lowres_factor == TUNED_CHAINED["lowres_factor"]


def test_a_sweep_over_codec_name_gives_each_point_its_codec_s_defaults():
    base = Scenario(codec=dict(name="h264"), video=dict(seconds=0.2))
    points = {p.params["codec.name"]: p.scenario for p in expand(base, {"codec.name": ["cvsc", "full"]}, 1)}
    assert _lowres_fields(points["cvsc"].codec) == TUNED_CHAINED
    assert points["cvsc"].spec_hash() == base.updated({"codec.name": "cvsc"}).spec_hash()
    assert _lowres_fields(points["full"].codec) == SHARED


def test_a_section_given_whole_replaces_it_with_its_defaults_but_what_is_given():
    preset = Scenario(codec=dict(name="cvsc", steps=10, strength=0.3, gop=15), channel=dict(model="tdl-c", snr_db=5))
    own = preset.updated({"codec.steps": 4, "codec": {"name": "reuse"}})     # the section first, whatever the order
    assert own.codec.steps == 4 and own.codec.strength == Scenario(codec=dict(name="reuse")).codec.strength
    assert own.codec.gop == CodecSpec().gop and own.channel.snr_db == 5      # other sections untouched
    assert preset.updated({"codec": {"name": "cvsc"}}).spec_hash() == Scenario(
        channel=dict(model="tdl-c", snr_db=5), codec=dict(name="cvsc")).spec_hash()
    with pytest.raises(SpecError, match="codec='h264' replaces the whole section"):
        preset.updated({"codec": "h264"})


def test_a_scenario_read_back_from_its_json_dump_changes_codec_as_the_original_does():
    """A dump lists every field, so cvsc's own defaults read back as given: changing codec.name to h264 then
    clashed (``lowres_reference='best'`` is cvsc's), and a synthetic base swept to cvsc kept the shared
    low-res stream instead of cvsc's tuned one. Read back with ``from_dump`` they follow the codec again."""
    import json
    for base in (Scenario(codec=dict(name="cvsc", steps=10, strength=0.3), channel=dict(model="tdl-c", snr_db=5)),
                 Scenario(codec=dict(name="synthetic", bitrate_kbps=500), video=dict(seconds=0.2))):
        doc = json.loads(json.dumps(base.model_dump(mode="json")))
        back = Scenario.from_dump(doc)
        assert back.spec_hash() == base.spec_hash()
        for name in ("h264", "lowres", "cvsc", "reuse"):
            assert back.updated({"codec.name": name}).spec_hash() == base.updated({"codec.name": name}).spec_hash()
        with pytest.raises(SpecError, match="lowres_reference"):  # what a plain Scenario(**dump) did to cvsc
            Scenario(**json.loads(json.dumps(base.updated({"codec.name": "cvsc"}).model_dump(mode="json")))).updated(
                {"codec.name": "h264"})
    assert _lowres_fields(Scenario.from_dump(doc).updated({"codec.name": "cvsc"}).codec) == TUNED_CHAINED
