"""Bursty (Gilbert-Elliott) loss on rate-based links, and NACK retransmission."""
from __future__ import annotations

import numpy as np
import pytest

import gsvc
from gsvc.netsim.channel import ChannelSpec, LinkSpec, draw_trace
from gsvc.netsim.channel.recorded import gilbert_elliott
from gsvc.netsim.link import Link
from gsvc.netsim.trace import ChannelTrace
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError


def _runs(lost: np.ndarray) -> np.ndarray:
    d = np.diff(np.concatenate(([0], lost.astype(int), [0])))
    return np.flatnonzero(d == -1) - np.flatnonzero(d == 1)


@pytest.mark.parametrize("loss,burst", [(0.05, 3.0), (0.2, 1.0), (0.1, 12.0)])
def test_gilbert_elliott_has_the_mean_loss_and_burst_length_asked_for(loss, burst):
    lost = gilbert_elliott(200_000, loss, burst, np.random.default_rng(3))
    assert lost.mean() == pytest.approx(loss, rel=0.08)
    assert _runs(lost).mean() == pytest.approx(burst, rel=0.08)


def test_bursty_trace_loses_in_runs_where_bernoulli_does_not():
    link = LinkSpec(trace_s=20.0)
    ge = draw_trace(ChannelSpec(model="constant", rate_mbps=1, loss_rate=0.05, loss_model="gilbert-elliott",
                                loss_burst_slots=5), link, 1)
    iid = draw_trace(ChannelSpec(model="constant", rate_mbps=1, loss_rate=0.05), link, 1)
    assert ge.lost.mean() == pytest.approx(0.05, rel=0.15) and iid.lost.mean() == pytest.approx(0.05, rel=0.15)
    assert _runs(ge.lost).mean() > 4.0 > 1.2 > _runs(iid.lost).mean()
    again = draw_trace(ChannelSpec(model="constant", rate_mbps=1, loss_rate=0.05, loss_model="gilbert-elliott",
                                   loss_burst_slots=5), link, 1)
    np.testing.assert_array_equal(ge.lost, again.lost)


@pytest.mark.parametrize("rate_mbps", [0.05, 1.0, 8.0])
def test_loss_rate_is_the_packet_loss_rate_whatever_the_links_rate(rate_mbps):
    """A 1200 B packet spans 384 slots of 0.5 ms at 50 kbit/s, 20 at 1 Mbit/s, 3 at 8 Mbit/s; a packet is
    lost when the slot carrying its last bit is, so 10 % of packets are lost at every rate (lost if any
    slot it spans was, 10 % per slot lost every packet at 50 kbit/s, 88 % at 1 Mbit/s, 27 % at 8)."""
    trace = draw_trace(ChannelSpec(model="constant", rate_mbps=rate_mbps, loss_rate=0.1), LinkSpec(trace_s=10.0), 1)
    assert trace.loss_unit == "packet"
    link, lost, t = Link(trace), [], 0.0
    for _ in range(2000):
        burst = link.send((1200,), t)
        lost.append(burst.lost[0])
        t = burst.tx_done_s
    assert np.mean(lost) == pytest.approx(0.1, abs=0.025)  # 2000 draws: 0.0067 standard deviation
    radio = Link(ChannelTrace(trace.slot_s, trace.tb_bits, trace.deliver_s, trace.lost))  # transport blocks
    if rate_mbps < 1.0:
        assert all(radio.send((1200,), 0.0).lost)


@pytest.mark.parametrize("fields,name", [
    (dict(model="constant", loss_rate=0.05, loss_model="gilbert-elliott", loss_burst_slots=0.5), "loss_burst_slots"),
    (dict(model="constant", loss_rate=1.0), "loss_rate"),
    (dict(model="constant", loss_rate=0.9, loss_model="gilbert-elliott", loss_burst_slots=2), "loss_burst_slots"),
    (dict(model="tdl-c", loss_model="gilbert-elliott"), "loss_model"),
    (dict(model="constant", loss_rate=0.05, loss_burst_slots=3), "loss_burst_slots"),
])
def test_bad_loss_settings_are_refused_naming_the_field(fields, name):
    with pytest.raises((SpecError, ValueError), match=f"channel.{name}"):
        Scenario(channel=fields)


def _h264_over_bursty_loss(nack: str, feedback_delay_ms: float) -> Scenario:
    return Scenario(name="n", seed=1, video=dict(seconds=6, fps=15, resolution=32), codec=dict(name="h264"),
                    channel=dict(model="constant", rate_mbps=1.0, loss_rate=0.05, loss_model="gilbert-elliott",
                                 loss_burst_slots=3),
                    link=dict(nack=nack, feedback_delay_ms=feedback_delay_ms), jitter=dict(mode="fixed", delay_ms=150),
                    receiver=dict(latency="profile:cpu-2core"))


def test_nack_recovers_lost_packets_when_the_round_trip_fits_the_playout_delay():
    off = gsvc.run(_h264_over_bursty_loss("off", 10.0)).frames
    on = gsvc.run(_h264_over_bursty_loss("on", 10.0)).frames
    lost_off, lost_on = (off["status"] == "lost").mean(), (on["status"] == "lost").mean()
    assert lost_off > 0.05 and lost_on <= 0.5 * lost_off
    assert on["packets_retx"].sum() >= off["packets_lost"].sum() * 0.5
    assert (off["packets_retx"] == 0).all()
    retx = on["packets_retx"] > 0
    # a retransmitted frame arrives later than it would have, but before its playout time
    assert (on.loc[retx & (on["packets_lost"] == 0), "arrive_ms"] <= on.loc[retx & (on["packets_lost"] == 0),
                                                                           "playout_ms"]).all()


def test_nack_does_nothing_when_the_round_trip_exceeds_the_playout_delay():
    off = gsvc.run(_h264_over_bursty_loss("off", 200.0)).frames
    on = gsvc.run(_h264_over_bursty_loss("on", 200.0)).frames
    assert on["packets_retx"].sum() == 0
    np.testing.assert_array_equal(off["status"].to_numpy(), on["status"].to_numpy())
