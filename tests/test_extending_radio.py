"""A channel model and a scheduling rule of one's own plug in from one file and run through gsvc.run."""
import numpy as np
import pandas as pd
import pytest

import gsvc
from gsvc.netsim.channel import draw_trace, models, scheduler
from gsvc.netsim.channel.models import ChannelModel
from gsvc.netsim.channel.scheduler import SchedulingRule
from gsvc.netsim.trace import constant_rate_trace
from gsvc.scenarios import Scenario
from gsvc.spec import SpecError

LOSS_DB = 20.0


def _awgn_behind_a_wall(channel, link, n_prb, num_slots, gen, rng, cell):
    """A flat channel ``LOSS_DB`` below ``channel.snr_db`` (a fading draw: no realisation, one mean SNR)."""
    return None, channel.snr_db - LOSS_DB, {"wall_db": LOSS_DB}


def _half_rate(channel, link, seed):
    """A rate model: the ideal link at half of ``channel.rate_mbps``."""
    return constant_rate_trace(channel.rate_mbps / 2, slot_s=link.slot_s, duration_s=link.trace_s,
                               delay_s=link.core_delay_ms / 1e3)


def _first_in_line(rate, avg, weight):
    """Static priority: the lowest-numbered UE with data takes every group it can use."""
    return np.broadcast_to(-np.arange(rate.shape[0], dtype=float)[:, None], rate.shape)


@pytest.fixture
def radio(monkeypatch):
    monkeypatch.setattr(models, "REGISTRY", models.REGISTRY.copy())     # undone after the test
    monkeypatch.setattr(scheduler, "RULES", scheduler.RULES.copy())
    models.register(ChannelModel("wall", "AWGN 20 dB below channel.snr_db", fading=_awgn_behind_a_wall))
    models.register(ChannelModel("half-ideal", "the ideal link at half rate", trace=_half_rate))
    scheduler.register_rule(SchedulingRule("first-in-line", "static priority by stream", priority=_first_in_line))


def _frames(**kw) -> pd.DataFrame:
    base = dict(video=dict(seconds=1.0), seed=3, codec=dict(name="synthetic", bitrate_kbps=3000),
                receiver=dict(latency="profile:sd15-a100"), link=dict(bandwidth_mhz=5, trace_s=1.0))
    return gsvc.run(Scenario(**{**base, **kw})).frames


def test_a_registered_fading_model_runs_through_the_whole_link(radio):
    """The registered model's SNR is what the PHY abstraction, OLLA and HARQ see: 'wall' at 25 dB is
    AWGN at 5 dB frame for frame, and not AWGN at 25 dB."""
    wall = _frames(channel=dict(model="wall", snr_db=25.0))
    same = _frames(channel=dict(model="awgn", snr_db=25.0 - LOSS_DB))
    clear = _frames(channel=dict(model="awgn", snr_db=25.0))
    pd.testing.assert_frame_equal(wall, same)
    assert wall.air_delay_ms.mean() > 1.5 * clear.air_delay_ms.mean()


def test_a_registered_rate_model_runs_through_gsvc_run(radio):
    half = _frames(channel=dict(model="half-ideal", rate_mbps=8.0))
    pd.testing.assert_frame_equal(half, _frames(channel=dict(model="ideal", rate_mbps=4.0)))


def test_a_registered_rule_schedules_a_shared_cell_in_the_loop(radio):
    """Static priority serves stream 0 first: its frames cross the air fastest, the last stream's slowest,
    and the rule runs on a registered channel model's per-UE channels."""
    f = _frames(streams=3, channel=dict(model="wall", snr_db=25.0), cell=dict(scheduler="first-in-line"))
    air = f.groupby("stream").air_delay_ms.mean()
    assert air[0] < air[1] < air[2]
    fair = _frames(streams=3, channel=dict(model="wall", snr_db=25.0), cell=dict(scheduler="round-robin"))
    assert air[0] < fair.groupby("stream").air_delay_ms.mean()[0]


def test_registered_models_are_held_to_what_they_declare(radio):
    with pytest.raises(SpecError, match=r"channel.loss_rate=0.1 is read only by channel.model 'constant' or "
                                        r"'mahimahi'; with channel.model='wall' losses come from HARQ"):
        Scenario(channel=dict(model="wall", loss_rate=0.1))
    with pytest.raises(SpecError, match="needs a link-level channel.model"):
        Scenario(channel=dict(model="half-ideal"), link=dict(direction="uplink"))
    with pytest.raises(SpecError, match=r"channel.model='nope' names no channel model; known: .*wall, half-ideal"):
        Scenario(channel=dict(model="nope"))
    with pytest.raises(SpecError, match=r"cell.scheduler='nope' names no scheduling rule; known: pf, .*first-in-line "
                                        r"\(add one with gsvc.netsim.channel.scheduler.register_rule\); or 'dedicated'"):
        Scenario(cell=dict(scheduler="nope"))
    with pytest.raises(SpecError, match=r"cell.scheduler='pf-delay' weighs each UE's queue, so it needs "
                                        r"cell.traffic='queue'"):
        Scenario(cell=dict(scheduler="pf-delay", traffic="full-buffer"), channel=dict(model="tdl-c"))


def test_a_registered_model_is_not_disk_cached(radio, tmp_path, monkeypatch):
    """Its code is not in the cache key (gsvc's and the libraries' versions are), so its traces never
    go to disk; a built-in's do."""
    from gsvc.netsim.channel import cache
    monkeypatch.setenv("GSVC_CACHE_DIR", str(tmp_path))
    link = gsvc.netsim.channel.LinkSpec(trace_s=0.1)
    draw_trace(gsvc.netsim.channel.ChannelSpec(model="wall"), link, 1)
    assert not list(tmp_path.rglob("*.npz"))
    draw_trace(gsvc.netsim.channel.ChannelSpec(model="awgn"), link, 1)
    assert list(tmp_path.rglob("*.npz")), f"the built-in awgn trace was not cached in {cache.cache_dir()}"


def test_registering_a_bad_model_or_rule_is_refused(radio):
    with pytest.raises(ValueError, match="taken"):
        models.register(ChannelModel("wall", "again", fading=_awgn_behind_a_wall))
    with pytest.raises(ValueError, match="exactly one of trace"):
        models.register(ChannelModel("both", "x", trace=_half_rate, fading=_awgn_behind_a_wall))
    with pytest.raises(ValueError, match="Sionna's multi-cell code knows only umi, uma, rma"):
        models.register(ChannelModel("city", "x", fading=_awgn_behind_a_wall, system_level=True))
    with pytest.raises(ValueError, match="not optional ChannelSpec fields"):
        models.register(ChannelModel("x", "x", fading=_awgn_behind_a_wall, reads=frozenset({"snr_db"})))
    with pytest.raises(ValueError, match="'dedicated' means no sharing"):
        scheduler.register_rule(SchedulingRule("dedicated", "x", priority=_first_in_line))
    with pytest.raises(ValueError, match="hol_weight but no priority"):
        scheduler.register_rule(SchedulingRule("y", "x", hol_weight=lambda pdb, hol: 1.0))
