"""MU-MIMO, downlink and uplink: zero-forcing, pairing, and what it does to a loaded cell."""
import numpy as np
import pytest

import gsvc
from gsvc.netsim.channel import CellSpec, ChannelSpec, LinkSpec
from gsvc.netsim.channel.mumimo import mu_sinr, pair_groups, zf_precoders, zf_receive_sinr
from gsvc.netsim.channel.scheduler import scheduling_rule
from gsvc.spec import SpecError
from helpers import group_freqs_hz

PF = scheduling_rule("pf").priority


def _random_rows(rng, k: int, t: int) -> np.ndarray:
    return (rng.normal(size=(k, t)) + 1j * rng.normal(size=(k, t))) / np.sqrt(2)


def test_zero_forcing_leaves_each_ue_its_orthogonal_part_at_a_share_of_the_power():
    """With the channel known exactly, no layer leaks into another and UE k keeps 1 / [(H H^H)^-1]_kk of its gain
    at 1/K of the power; with the channel changed since, the layers leak and every SINR falls."""
    rng = np.random.default_rng(0)
    h = _random_rows(rng, 3, 8)
    den = np.array([1.0, 2.0, 1.5])
    w = zf_precoders(h)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0), 1.0)
    cross = np.abs(h @ w) ** 2
    assert np.abs(cross - np.diag(np.diag(cross))).max() < 1e-9 * cross.max()
    expected = 100.0 / 3 / np.real(np.diag(np.linalg.inv(h @ h.conj().T))) / den
    np.testing.assert_allclose(mu_sinr(h, w, den, 100.0), expected, rtol=1e-6)
    single = 100.0 * np.sum(np.abs(h) ** 2, axis=1) / den
    assert (mu_sinr(h, w, den, 100.0) < single / 3).all()        # the orthogonal part is smaller than the whole
    moved = h + 0.3 * _random_rows(rng, 3, 8)                      # the channel the UEs see now
    assert (mu_sinr(moved, w, den, 100.0) < mu_sinr(moved, zf_precoders(moved), den, 100.0)).all()


def test_pairing_joins_orthogonal_ues_as_far_as_their_data_needs_and_never_a_parallel_one():
    """UE 1 is orthogonal to the owner and needs one group's PRBs: it joins one group, the best first. UE 2's
    channel is nearly parallel to the owner's: sharing would lower the summed PF metric, so it never joins.
    A group carrying a retransmission is not shared."""
    h = np.zeros((3, 3, 4), complex)
    h[0, :, 0] = 1.0
    h[1, :, 1] = [0.5, 1.0, 0.8]
    h[2, :, 0], h[2, :, 1] = 1.0, 0.05
    den = np.ones((3, 3))
    owner = np.zeros(3, np.int64)
    members, sinr = pair_groups(h, den, owner, np.ones(3, bool), np.array([False, True, True]),
                                np.array([0, 4, 12]), np.array([4, 4, 4]), np.ones(3), None, PF, 100.0, 3)
    assert members[:, 1].tolist() == [-1, 1, -1]                    # UE 1 on its best group only
    assert (members[:, 2] == -1).all() and 2 not in members
    assert sinr[1, 0] == pytest.approx(50.0) and sinr[1, 1] == pytest.approx(50.0)   # half the power each
    held, _ = pair_groups(h, den, owner, np.array([True, False, True]), np.array([False, True, True]),
                          np.array([0, 12, 12]), np.array([4, 4, 4]), np.ones(3), None, PF, 100.0, 2)
    assert held[1, 1] == -1 and held[0, 1] == 1 and held[2, 1] == 1
    alone, _ = pair_groups(h, den, owner, np.ones(3, bool), np.array([False, True, True]),
                           np.array([0, 12, 12]), np.array([4, 4, 4]), np.ones(3), None, PF, 100.0, 1)
    assert (alone[:, 0] == 0).all() and alone.shape == (3, 1)


def test_the_beams_mu_mimo_reads_are_the_channel_the_single_user_sinr_comes_from():
    """``sinr_and_beams``: with ideal knowledge, S ||u^H H||^2 / D is the single-user SINR exactly; the SINR
    itself is the same as :meth:`sinr` gives with and without old channel knowledge."""
    from gsvc.netsim.channel.cell import _Geometric
    link = LinkSpec(bandwidth_mhz=10, scs_khz=30)
    n_prb = 24
    freqs = group_freqs_hz(n_prb)
    ch = ChannelSpec(model="umi", speed_kmh=30, num_rx_ant=2)
    for delay_ms in (0.0, 5.0):
        g = _Geometric(ch, link, CellSpec(scheduler="pf", interference="full-buffer", bs_tx_antennas=4,
                                          csi_delay_ms=delay_ms, ue_distances_m=(40.0, 150.0)), 2, n_prb, 5)
        sinr, h, den = g.sinr_and_beams(freqs, 0, 5e-4, 20)
        np.testing.assert_array_equal(sinr, g.sinr(freqs, 0, 5e-4, 20))
        assert h.shape == (20, 2, len(freqs), 4) and den.shape == sinr.shape and (den >= 1.0).all()
        if delay_ms == 0.0:
            np.testing.assert_allclose(g.snr_scale * (np.abs(h) ** 2).sum(-1) / den, sinr, rtol=2e-5)


def _loaded_cell(**cell) -> gsvc.Scenario:
    return gsvc.Scenario(name="mu", seed=1, streams=8, video=dict(seconds=0.6, fps=30, resolution=64),
                         codec=dict(name="synthetic", bitrate_kbps=4000), channel=dict(model="umi", speed_kmh=3),
                         link=dict(bandwidth_mhz=10, trace_s=0.6),
                         cell=dict(scheduler="pf", interference="full-buffer", bs_tx_antennas=8, **cell),
                         receiver=dict(latency="profile:sd15-a100", decode="timing-only"))


def test_mu_mimo_carries_a_cell_single_user_beamforming_cannot():
    """Eight UEs of 4 Mbit/s on 10 MHz with an 8-element sector: one UE per PRB group saturates the carrier
    (every PRB used, 30.1 Mbit/s carried, frames 83 ms in the air on average); up to four zero-forced UEs per
    group carry more on fewer PRBs at a sixth of the delay (measured 34.9 Mbit/s, 78 % of the PRBs, 2.2 UEs per
    used PRB, 13 ms)."""
    (su, su_rows), (mu, rows) = ((r.summary, r.meta["streams"]) for r in (gsvc.run(_loaded_cell(mu_mimo_ues=k))
                                                                            for k in (1, 4)))
    assert su["ues_per_prb_mean"] == 1.0 and mu["ues_per_prb_mean"] > 1.5
    wide, alone, shared_db = (np.array([r[key] for r in rr]) for key, rr in (
        ("sinr_db_mean", su_rows), ("scheduled_sinr_db_mean", su_rows), ("scheduled_sinr_db_mean", rows)))
    assert alone.mean() > wide.mean()            # PF gives each UE its better groups (measured +1.2 dB)
    assert (alone - shared_db).mean() > 3.0      # a shared group splits the power and costs ZF loss (measured 7.1 dB)
    shared = np.array([r["shared_prb_fraction"] for r in rows])
    assert ((shared >= 0) & (shared <= 1)).all() and shared.mean() > 0.5
    assert mu["air_delay_ms_mean"] < 0.4 * su["air_delay_ms_mean"]
    assert mu["throughput_mbps"] >= su["throughput_mbps"]
    assert mu["prb_utilization"] < su["prb_utilization"]


@pytest.mark.parametrize("changes, why", [
    ({"cell.mu_mimo_ues": 2}, "bs_tx_antennas >= 2"),
    ({"cell.bs_tx_antennas": 2, "cell.mu_mimo_ues": 4}, "bs_tx_antennas >= 4"),
    ({"cell.bs_tx_antennas": 4, "cell.mu_mimo_ues": 2, "cell.traffic": "full-buffer"}, "traffic='queue'"),
    ({"cell.bs_tx_antennas": 4, "cell.mu_mimo_ues": 2, "cell.scheduler": "round-robin"}, "has none"),
    ({"cell.bs_tx_antennas": 16, "cell.mu_mimo_ues": 4, "link.bandwidth_mhz": 100, "link.trace_s": 3600},
     "GiB; give link.trace_s <= "),
    ({"link.direction": "uplink", "channel.num_rx_ant": 2, "cell.mu_mimo_ues": 4}, "channel.num_rx_ant >= 4"),
    ({"link.direction": "uplink", "channel.num_rx_ant": 4, "cell.mu_mimo_ues": 2, "cell.scheduler": "dedicated"},
     "a shared cell"),
])
def test_mu_mimo_is_refused_where_it_cannot_be_read(changes, why):
    base = gsvc.Scenario(streams=2, channel=dict(model="umi"), cell=dict(scheduler="pf"))
    with pytest.raises(SpecError, match=r"cell\.mu_mimo_ues.*" + why.replace("(", r"\(")):
        base.updated(changes)


def test_mu_mimo_backs_off_pairing_when_the_known_channel_has_aged():
    """At 30 km/h a channel known 20 ms late no longer separates the layers: shared transmissions fail, the UEs'
    MU offsets rise (OLLA on shared TBs alone), their MU SINR estimates fall, and pairing nearly stops, so
    MU-MIMO carries about what one UE per group does (measured 17.0 against 17.4 Mbit/s, 1.06 UEs per PRB).
    Pairing that trusted the aged channel was erratic: 20.7 Mbit/s at 2 UEs per PRB here, 9.6 at 3 UEs per PRB
    and a first-transmission BLER of 0.24 over 1 s of the same cell."""
    aged = {"channel.speed_kmh": 30}
    su, mu = (gsvc.run(_loaded_cell(mu_mimo_ues=k, csi_delay_ms=20).updated(aged)).summary for k in (1, 4))
    assert mu["ues_per_prb_mean"] < 1.2
    assert mu["throughput_mbps"] > 0.9 * su["throughput_mbps"]


def test_kept_cell_channels_are_bounded_by_their_mu_mimo_arrays(monkeypatch):
    """A sweep keeps its last cell channels in memory; with MU-MIMO each holds every UE's channel per element,
    so the kept ones are bounded by size as one run's is: over the bound only the newest stays."""
    from gsvc.netsim.channel import cell as cell_mod
    monkeypatch.setattr(cell_mod, "_CHANNELS", type(cell_mod._CHANNELS)())
    sc = gsvc.Scenario(streams=2, channel=dict(model="umi"), link=dict(bandwidth_mhz=5, trace_s=0.1),
                       cell=dict(scheduler="pf", bs_tx_antennas=2, mu_mimo_ues=2))
    first = cell_mod.draw_cell_channel(sc.channel, sc.link, sc.cell, [1, 2], 7)
    assert first.beam_h.shape[1:] == (2, len(first.group_prbs), 2) and len(cell_mod._CHANNELS) == 1
    cell_mod.draw_cell_channel(sc.channel, sc.link, sc.cell, [1, 2], 8)
    assert len(cell_mod._CHANNELS) == 2                                        # small: both kept
    monkeypatch.setattr(cell_mod, "MU_CHANNEL_MAX_GIB", first.beam_h.nbytes * 1.5 / 2 ** 30)
    cell_mod.draw_cell_channel(sc.channel, sc.link, sc.cell, [1, 2], 9)
    assert len(cell_mod._CHANNELS) == 1


def test_an_uplink_zero_forcing_receiver_keeps_each_ue_its_own_power_and_its_orthogonal_part():
    """Uplink MU-MIMO: UE k gets 1 / (D_k [(G^H G)^-1]_kk), the SINR of the ZF combiner v_k = G (G^H G)^-1 e_k
    spelled out; no power split (orthogonal UEs keep their single-user SINR, where the downlink halves it), one
    UE alone is its single-user SINR, and a near-parallel pair is worth almost nothing."""
    rng = np.random.default_rng(1)
    h = _random_rows(rng, 3, 8) * np.sqrt([[100.0], [30.0], [10.0]])         # each UE's power over noise
    den = np.array([1.0, 2.0, 1.5])
    g = h.T
    v = g @ np.linalg.inv(g.conj().T @ g)                                       # [R, K] ZF combiners
    spelled = np.abs(np.sum(v.conj() * g, axis=0)) ** 2 / (den * np.sum(np.abs(v) ** 2, axis=0))
    np.testing.assert_allclose(zf_receive_sinr(h, den), spelled, rtol=1e-6)       # the loading: 5e-8
    single = np.sum(np.abs(h) ** 2, axis=1) / den
    np.testing.assert_allclose(zf_receive_sinr(h[:1], den[:1]), single[:1], rtol=1e-8)
    assert (zf_receive_sinr(h, den) < single).all()
    ortho = np.zeros((2, 4), complex)
    ortho[0, 0], ortho[1, 1] = 10.0, 5.0
    np.testing.assert_allclose(zf_receive_sinr(ortho, np.ones(2)), [100.0, 25.0], rtol=1e-6)
    parallel = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.001, 0.0, 0.0]]) * 10
    assert (zf_receive_sinr(parallel, np.ones(2)) < 1e-3 * 200).all()


def test_the_uplink_beams_are_the_channel_its_single_user_sinr_comes_from():
    """``UplinkGeometric.sinr_and_beams``: each UE's channel scaled to its open-loop PSD over noise, so
    ||h||^2 / D is its single-user (MRC) SINR; the SINR is the one :meth:`sinr` gives."""
    from gsvc.netsim.channel.uplink import UplinkGeometric
    link = LinkSpec(bandwidth_mhz=10, scs_khz=30, direction="uplink")
    n_prb = 24
    freqs = group_freqs_hz(n_prb)
    g = UplinkGeometric(ChannelSpec(model="umi", speed_kmh=3, num_rx_ant=4), link,
                        CellSpec(scheduler="pf", interference="full-buffer"), 3, n_prb, 5)
    sinr, h, den = g.sinr_and_beams(freqs, 0, 5e-4, 20)
    np.testing.assert_array_equal(sinr, g.sinr(freqs, 0, 5e-4, 20))
    assert h.shape == (20, 3, len(freqs), 4) and den.shape == sinr.shape and (den >= 1.0).all()
    np.testing.assert_allclose(g.snr_scale * (np.abs(h) ** 2).sum(-1) / den, sinr, rtol=2e-5)


def test_uplink_mu_mimo_carries_cameras_one_ue_per_group_cannot():
    """Eight cameras of 2 Mbit/s sending on 10 MHz into an 8-element sector: one UE per PRB group fills the
    carrier (measured 97 % of PRB-slots, 67 ms mean air delay); two UEs per group, each at its own power and
    separated by the sector's ZF receiver, carry the load on fewer PRBs (measured 22 ms, 1.5 UEs per used PRB,
    68 % of PRB-slots)."""
    base = gsvc.Scenario(name="ul", seed=3, streams=8, video=dict(seconds=1, fps=15, resolution=64),
                         codec=dict(name="synthetic", bitrate_kbps=2000, steps=1),
                         channel=dict(model="umi", speed_kmh=3, num_rx_ant=8),
                         link=dict(bandwidth_mhz=10, trace_s=1, direction="uplink"),
                         cell=dict(scheduler="pf", interference="full-buffer"),
                         receiver=dict(latency="profile:cpu-2core", decode="timing-only"))
    su, mu = (gsvc.run(base.updated({"cell.mu_mimo_ues": k})) for k in (1, 2))
    assert su.summary["ues_per_prb_mean"] == 1.0 and mu.summary["ues_per_prb_mean"] > 1.3
    assert mu.summary["air_delay_ms_mean"] < 0.5 * su.summary["air_delay_ms_mean"]
    assert mu.summary["prb_utilization"] < su.summary["prb_utilization"]
    assert np.mean([r["shared_prb_fraction"] for r in mu.meta["streams"]]) > 0.4


def test_an_uplink_sector_receives_on_a_panel_of_up_to_64_elements():
    """``cell.bs_rows``, ``cell.bs_polarization`` shape the uplink sector's ``channel.num_rx_ant`` receive elements
    (above 8 only there): a 2 x 8 x 2 panel of 32 separates four cameras per PRB group."""
    sc = gsvc.Scenario(name="ul", seed=3, streams=6, video=dict(seconds=0.4, fps=15, resolution=64),
                       codec=dict(name="synthetic", bitrate_kbps=2000, steps=1),
                       channel=dict(model="umi", speed_kmh=3, num_rx_ant=32),
                       link=dict(bandwidth_mhz=5, trace_s=0.4, direction="uplink"),
                       cell=dict(scheduler="pf", interference="full-buffer", bs_rows=2, bs_polarization="dual",
                                 mu_mimo_ues=4),
                       receiver=dict(latency="profile:cpu-2core", decode="timing-only"))
    res = gsvc.run(sc)
    assert res.meta["cell"]["bs_antenna"].endswith("32 element(s), panel 2 x 8 x 2 (rows x columns x polarisations)")
    assert res.summary["ues_per_prb_mean"] > 1.5
