"""Presets: five named starting points that validate, list themselves, and run."""
import pytest
from click.testing import CliRunner

import gsvc
from gsvc.cli import main
from gsvc.scenarios import presets

NAMES = ["pedestrian-urban", "vehicular-highway", "cell-edge", "scene-cut-stress", "edge-server-multiuser"]


def test_the_five_presets_are_listed_with_one_line_descriptions():
    listed = presets.list_presets()
    assert list(listed) == NAMES
    assert all(text and "\n" not in text for text in listed.values())


@pytest.mark.parametrize("name", NAMES)
def test_each_preset_is_a_valid_scenario_named_after_itself(name):
    sc = presets.get_preset(name)
    assert isinstance(sc, gsvc.Scenario) and sc.name == name
    assert sc.updated({"channel.snr_db": 5}).channel.snr_db == 5  # a starting point to change


def test_presets_say_what_they_model():
    assert presets.get_preset("pedestrian-urban").channel.model.startswith("tdl")
    assert presets.get_preset("pedestrian-urban").channel.speed_kmh <= 5
    assert presets.get_preset("vehicular-highway").channel.speed_kmh >= 100
    assert presets.get_preset("cell-edge").channel.snr_db <= 0
    stress = presets.get_preset("scene-cut-stress").video
    assert stress.cut_rate_hz > 0 and stress.motion_px >= 5
    edge = presets.get_preset("edge-server-multiuser")
    assert edge.streams > 2 * edge.receiver.gpus


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match="cell-edge"):
        presets.get_preset("rooftop")


def test_presets_command_lists_names_and_prints_one_as_json():
    res = CliRunner().invoke(main, ["presets"])
    assert res.exit_code == 0 and all(n in res.output for n in NAMES)
    one = CliRunner().invoke(main, ["presets", "cell-edge"])
    assert one.exit_code == 0 and '"model": "tdl-c"' in one.output
    bad = CliRunner().invoke(main, ["presets", "rooftop"])
    assert bad.exit_code == 2 and "no preset 'rooftop'" in bad.output


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_preset_runs_end_to_end(name):
    res = gsvc.run(presets.get_preset(name))
    s = res.summary
    assert s["shown"] + s["late"] + s["lost"] + s["skipped"] == s["frames"] > 0
