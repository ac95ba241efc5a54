"""Bad input is rejected before anything runs, with the field path and allowed range."""
import pytest

from gsvc import SpecError
from gsvc.scenarios import Scenario

CASES = [
    ({"seed": -1}, "seed"),
    ({"streams": 0}, r"streams=0.*\[1, 10000\]"),
    ({"video": {"fps": 0}}, r"video\.fps"),
    ({"video": {"fps": float("nan")}}, r"video\.fps=nan is not a finite number"),
    ({"video": {"seconds": -5}}, r"video\.seconds"),
    ({"video": {"resolution": 16}}, r"video\.resolution=16.*\[32, 1024\]"),
    ({"video": {"resolution": 2048}}, r"video\.resolution=2048"),
    ({"codec": {"name": "cvsc"}, "video": {"resolution": 512}},
     r"video\.resolution=512 is not served by the shipped denoiser; it serves 64, .*256 px"),
    ({"codec": {"name": "nope"}}, r"codec\.name='nope'.*known"),
    ({"codec": {"steps": 0}}, r"codec\.steps"),
    ({"codec": {"gop": 0}}, r"codec\.gop"),
    ({"codec": {"bitrate_kbps": 0}}, r"codec\.bitrate_kbps"),
    ({"channel": {"snr_db": float("nan")}}, r"channel\.snr_db=nan is not a finite number; give a value in \[-30, 60\] dB"),
    ({"channel": {"snr_db": 99}}, r"channel\.snr_db=99"),
    ({"channel": {"speed_kmh": -3}}, r"channel\.speed_kmh=-3"),
    ({"channel": {"model": "moon"}}, r"channel\.model"),
    ({"channel": {"rate_mbps": 0}}, r"channel\.rate_mbps"),
    ({"link": {"bandwidth_mhz": 0.5}}, r"link\.bandwidth_mhz"),
    ({"link": {"scs_khz": 17}}, r"link\.scs_khz"),
    ({"link": {"harq_max_retx": -1}}, r"link\.harq_max_retx"),
    ({"link": {"bler_target": 0.9}}, r"link\.bler_target"),
    ({"link": {"mtu_bytes": 10}}, r"link\.mtu_bytes"),
    ({"link": {"feedback_delay_ms": -1}}, r"link\.feedback_delay_ms"),
    ({"jitter": {"mode": "magic"}}, r"jitter\.mode"),
    ({"jitter": {"delay_ms": -10}}, r"jitter\.delay_ms"),
    ({"jitter": {"late": "maybe"}}, r"jitter\.late"),
    ({"receiver": {"gpus": 0}}, r"receiver\.gpus=0.*\[1, 1024\]"),
    ({"receiver": {"policy": "random"}}, r"receiver\.policy"),
    ({"receiver": {"max_batch": 0}}, r"receiver\.max_batch"),
    ({"receiver": {"max_wait_ms": -1}}, r"receiver\.max_wait_ms"),
    ({"receiver": {"latency": "sometimes"}}, r"receiver\.latency"),
    ({"receiver": {"latency": "profile:nope"}}, r"receiver\.latency='profile:nope' names no profile; shipped: cpu-2core"),
    ({"receiver": {"decode": "timing-only", "latency": "measured"}}, r"receiver\.latency='measured' \(wall-clock time\) cannot time it"),
    ({"colour": "blue"}, r"colour is not a known field"),
    ({"link": {"bandwith_mhz": 10}}, r"link\.bandwith_mhz is not a known field; did you mean bandwidth_mhz\? known fields: .*bler_target"),
]


@pytest.mark.parametrize("bad,match", CASES, ids=[m.split("\\")[0].split("=")[0] + str(i) for i, (_, m) in enumerate(CASES)])
def test_invalid_field_is_rejected_naming_the_field(bad, match):
    with pytest.raises(SpecError, match=match):
        Scenario(**bad)


def test_error_lists_every_bad_field_at_once():
    with pytest.raises(SpecError) as err:
        Scenario(streams=0, video={"fps": -1})
    assert len(err.value.lines) == 2


def test_updated_rejects_unknown_dotted_path_listing_valid_ones():
    with pytest.raises(SpecError, match=r"channel\.snr is not a scenario field; did you mean channel\.snr_db"):
        Scenario().updated({"channel.snr": 3})


def test_an_unknown_field_names_the_nearest_and_its_own_sections_fields():
    with pytest.raises(SpecError) as err:
        Scenario().updated({"codec.stepz": 3, "chanel.snr_db": 1, "zzz": 1})
    typo, section, nothing = err.value.lines
    assert typo.startswith("codec.stepz is not a scenario field; did you mean codec.steps")
    fields = typo.split("codec fields: ")[1].split(", ")
    assert "codec.weights" in fields and all(f.startswith("codec.") for f in fields)  # its section's, not all
    assert "did you mean channel.snr_db" in section and "known: " in section
    assert "did you mean" not in nothing and "channel, codec" in nothing  # the sections, for a name like none
    with pytest.raises(SpecError, match=r"codec\.stepz is not a known field; did you mean steps\?"):
        Scenario(codec=dict(stepz=3))
