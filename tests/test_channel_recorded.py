"""Rate-given links: Mahimahi traces and constant-rate links."""
import numpy as np
import pytest

from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace


@pytest.fixture
def mm_file(tmp_path):
    path = tmp_path / "link.trace"
    path.write_text("1\n1\n3\n5\n")          # two packets at 1 ms, one at 3 ms, one at 5 ms; period 5 ms
    return str(path)


def test_mahimahi_lines_become_1500_byte_opportunities_in_1ms_slots(mm_file):
    tr = draw_trace(ChannelSpec(model="mahimahi", trace_file=mm_file), LinkSpec(core_delay_ms=2.0), 0)
    assert tr.slot_s == 1e-3
    assert tr.tb_bits.tolist() == [2 * 12000, 0, 12000, 0, 12000]
    assert tr.deliver_s == pytest.approx((np.arange(5) + 1) * 1e-3 + 2e-3)
    assert not tr.lost.any()
    assert tr.goodput_mbps == pytest.approx(4 * 12000 / 5e-3 / 1e6)


def test_mahimahi_timestamp_zero_is_the_end_of_the_period(tmp_path):
    path = tmp_path / "zero.trace"
    path.write_text("0\n2\n4\n")
    tr = draw_trace(ChannelSpec(model="mahimahi", trace_file=str(path)), LinkSpec(), 0)
    assert tr.tb_bits.tolist() == [0, 12000, 0, 24000]


def test_mahimahi_loss_rate_drops_some_opportunities(tmp_path):
    path = tmp_path / "busy.trace"
    path.write_text("\n".join(str(t) for t in range(1, 2001)) + "\n")
    tr = draw_trace(ChannelSpec(model="mahimahi", trace_file=str(path), loss_rate=0.2), LinkSpec(), 3)
    assert 0.15 < tr.lost.mean() < 0.25


@pytest.mark.parametrize("text, problem", [("1\nx\n", "line 2"), ("5\n3\n", "decreases"), ("", "no positive"),
                                           ("0\n", "no positive")])
def test_bad_mahimahi_file_names_the_field_and_line(tmp_path, text, problem):
    path = tmp_path / "bad.trace"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"channel\.trace_file=.*{problem}"):
        draw_trace(ChannelSpec(model="mahimahi", trace_file=str(path)), LinkSpec(), 0)


def test_missing_mahimahi_file_names_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"channel\.trace_file=.*does not exist"):
        draw_trace(ChannelSpec(model="mahimahi", trace_file=str(tmp_path / "nope")), LinkSpec(), 0)


def test_constant_link_carries_its_rate_and_loses_a_share():
    tr = draw_trace(ChannelSpec(model="constant", rate_mbps=8.0), LinkSpec(trace_s=2.0, core_delay_ms=3.0), 0)
    assert tr.goodput_mbps == pytest.approx(8.0)
    assert tr.deliver_s[0] == pytest.approx(tr.slot_s + 3e-3)
    lossy = draw_trace(ChannelSpec(model="constant", rate_mbps=8.0, loss_rate=0.1), LinkSpec(trace_s=2.0), 1)
    assert lossy.goodput_mbps == pytest.approx(8.0 * 0.9, rel=0.05)
