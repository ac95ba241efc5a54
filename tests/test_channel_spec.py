"""Channel and link specs: numerology tables and errors that name the bad field."""
import math

import pytest

from gsvc.netsim.channel import ChannelSpec, LinkSpec, validate_pair
from gsvc.netsim.channel import numerology as nr
from gsvc.spec import SpecError


@pytest.mark.parametrize("bw, scs, fr, n_prb", [
    (10, 30, "FR1", 24), (20, 15, "FR1", 106), (100, 30, "FR1", 273), (5, 15, "FR1", 25),
    (40, 60, "FR1", 51), (100, 120, "FR2", 66), (400, 120, "FR2", 264), (50, 60, "FR2", 66)])
def test_prb_count_follows_ts_38_101_tables(bw, scs, fr, n_prb):
    assert nr.num_prb(bw, scs, fr) == n_prb


def test_slot_length_halves_with_each_numerology_step():
    assert [LinkSpec(scs_khz=s, bandwidth_mhz=b).slot_s for s, b in [(15, 10), (30, 10), (60, 10)]] == \
        pytest.approx([1e-3, 0.5e-3, 0.25e-3])


def test_prb_groups_cover_the_carrier_in_rbgs():
    centres, sizes = nr.prb_groups(273)
    assert sum(sizes) == 273 and max(sizes) == 16 and len(centres) == math.ceil(273 / 16)
    assert nr.prb_groups(24)[1] == [2] * 12


def test_data_res_per_prb_subtract_dmrs_and_cap_at_156():
    assert LinkSpec(pdsch_symbols=12, dmrs_re_per_prb=12).re_per_prb == 132
    assert LinkSpec(pdsch_symbols=14, dmrs_re_per_prb=0).re_per_prb == 156


def test_bandwidth_not_in_table_lists_the_valid_ones():
    with pytest.raises(SpecError, match=r"link.bandwidth_mhz=7 with link.scs_khz=30 is not in "
                                        r"TS 38.101-1 Table 5.3.2-1; valid: 5, 10, 15, 20"):
        LinkSpec(bandwidth_mhz=7, scs_khz=30)


def test_fr2_only_numerology_names_the_fr2_table():
    with pytest.raises(SpecError, match=r"link.bandwidth_mhz=10 with link.scs_khz=120 is not in TS 38.101-2"):
        LinkSpec(bandwidth_mhz=10, scs_khz=120)


@pytest.mark.parametrize("kwargs, field", [
    (dict(speed_kmh=-1), "channel.speed_kmh"), (dict(snr_db=float("nan")), "channel.snr_db"),
    (dict(model="tdl-x"), "channel.model"), (dict(delay_spread_ns=0), "channel.delay_spread_ns"),
    (dict(num_rx_ant=65), "channel.num_rx_ant"), (dict(distance_m=5), "channel.distance_m"),
    (dict(model="mahimahi"), "channel.trace_file"), (dict(trace_file="x.trace"), "channel.trace_file"),
    (dict(model="tdl-c", loss_rate=0.1), "channel.loss_rate"), (dict(shadowing=True), "channel.shadowing")])
def test_bad_channel_input_names_the_field(kwargs, field):
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        ChannelSpec(**kwargs)


@pytest.mark.parametrize("kwargs, field", [
    (dict(mcs=1), "link.mcs"), (dict(mcs=28, mcs_table=2), "link.mcs"), (dict(mcs="illa"), "link.mcs"),
    (dict(mcs=True), "link.mcs"), (dict(harq_max_retx=9), "link.harq_max_retx"),
    (dict(bler_target=0.9), "link.bler_target"), (dict(scs_khz=45), "link.scs_khz"),
    (dict(pdsch_symbols=2, dmrs_re_per_prb=24), "link.dmrs_re_per_prb")])
def test_bad_link_input_names_the_field(kwargs, field):
    with pytest.raises(SpecError, match=field.replace(".", r"\.")):
        LinkSpec(**kwargs)


def test_fixed_mcs_accepts_tabulated_indices():
    assert LinkSpec(mcs=28).mcs == 28 and LinkSpec(mcs=2, mcs_table=2).mcs == 2


def test_carrier_between_fr1_and_fr2_is_rejected_for_fading_models():
    with pytest.raises(SpecError, match=r"channel\.carrier_ghz=10 is in no NR frequency range"):
        validate_pair(ChannelSpec(model="tdl-c", carrier_ghz=10), LinkSpec())
    validate_pair(ChannelSpec(model="ideal", carrier_ghz=10), LinkSpec())   # no numerology needed


def test_fr2_carrier_needs_an_fr2_numerology():
    with pytest.raises(SpecError, match=r"link\.bandwidth_mhz=10 with link\.scs_khz=30 is not in TS 38\.101-2.*"
                                        r"FR2 allows link\.scs_khz 60, 120"):
        validate_pair(ChannelSpec(model="uma", carrier_ghz=28), LinkSpec())
    with pytest.raises(SpecError, match=r"valid with link\.scs_khz=60: 50, 100, 200 MHz"):
        validate_pair(ChannelSpec(model="uma", carrier_ghz=28), LinkSpec(scs_khz=60, bandwidth_mhz=10))
    validate_pair(ChannelSpec(model="cdl-a", carrier_ghz=28), LinkSpec(scs_khz=120, bandwidth_mhz=100))


def test_fr1_only_bandwidth_is_rejected_at_an_fr2_carrier_but_fine_at_fr1():
    link = LinkSpec(scs_khz=60, bandwidth_mhz=20)
    validate_pair(ChannelSpec(model="tdl-a", carrier_ghz=3.5), link)
    with pytest.raises(SpecError, match=r"link\.bandwidth_mhz=20"):
        validate_pair(ChannelSpec(model="tdl-a", carrier_ghz=39), link)
