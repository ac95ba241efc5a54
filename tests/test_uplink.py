"""The uplink: Sionna's uplink channel, open-loop power control, PUSCH tables, other sectors' UEs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gsvc.netsim.channel import CellSpec, ChannelSpec, LinkSpec
from gsvc.netsim.channel import multicell
from gsvc.netsim.channel import numerology as nr
from gsvc.netsim.channel.cell import _Geometric
from gsvc.netsim.channel.linklevel import draw_link_level
from gsvc.netsim.channel.phy import PUSCH_MCS_RANGE, phy_tables, tb_size_table
from gsvc.netsim.channel.uplink import UplinkGeometric

UL = LinkSpec(bandwidth_mhz=20, scs_khz=30, direction="uplink")
DL = LinkSpec(bandwidth_mhz=20, scs_khz=30)
N_PRB = nr.num_prb(20, 30, "FR1")                                   # 51


def _freqs_hz():
    centres, _ = nr.prb_groups(N_PRB)
    return (np.asarray(centres) - N_PRB / 2.0) * 12 * 30e3


@pytest.fixture(scope="module")
def macro():
    """A UMa UE near the site and one at the sector edge, no shadowing: uplink and downlink of one seed."""
    ch = ChannelSpec(model="uma", speed_kmh=3, los="nlos", shadowing="off")
    cell = CellSpec(scheduler="pf", ue_distances_m=(50.0, 280.0), indoor_probability=0.0)
    return UplinkGeometric(ch, UL, cell, 2, N_PRB, 4), _Geometric(ch, DL, cell, 2, N_PRB, 4), cell


@pytest.fixture(scope="module")
def micro():
    """Two UMi UEs without and with the other sectors' uplink interference (the same drop)."""
    ch = ChannelSpec(model="umi", speed_kmh=3, los="nlos")
    cell = dict(scheduler="pf", ue_distances_m=(20.0, 90.0), indoor_probability=0.0)
    return (UplinkGeometric(ch, UL, CellSpec(**cell), 2, N_PRB, 8),
            UplinkGeometric(ch, UL, CellSpec(interference="full-buffer", **cell), 2, N_PRB, 8))


def test_uplink_sums_of_sinusoids_equal_sionnas_uplink_channel_at_any_time():
    gen = torch.Generator().manual_seed(5)
    with multicell.sionna_generator(gen):
        ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, bs_vloc = multicell._candidates(
            "umi", 1, 4, 200.0, 10.0, None, 30 / 3.6, 0.5, None, gen, others=2)
        ch = multicell._channel_model("umi", 3.5e9, 2, "uplink")
        ch.set_topology(ut_loc, bs_loc, ut_o, bs_o, ut_v, indoor, None, bs_vloc)
        state = gen.get_state()
        coupling, (gains, omegas, delays, scale) = multicell._uplink_links(ch, True)
        gen.set_state(state)                       # Sionna's own uplink call draws the same rays and phases
        fs_hz = 1 / 0.35
        h, tau = ch(3, fs_hz)                                                  # [1, B, R, U, 1, P, T]
    t = np.arange(3) / fs_hz
    h = h[0, 0, :, :, 0].to(torch.complex128).numpy()                          # [R, U, P, T] into sector 0
    ours = (gains[0][..., None] * np.exp(1j * omegas[0][:, :, None, :, None] * t)).sum(-2)   # [U, P, R, T]
    ours = (ours * scale[0][:, None, None, None]).transpose(2, 0, 1, 3)
    # 30 km/h over 0.7 s: the moving transmitter's Doppler turns each ray by hundreds of radians
    assert np.abs(ours - h).max() <= 1e-4 * np.abs(h).max()
    np.testing.assert_array_equal(delays[0], tau[0, 0].double().numpy())
    # the coupling gain into sector 0 is the mean power of that channel
    power = (np.abs(gains[0]) ** 2).sum(axis=(1, 3)).mean(axis=1) * scale[0] ** 2
    np.testing.assert_allclose(power, coupling[:, 0], rtol=1e-6)


def test_cell_edge_ue_is_power_limited_and_its_uplink_falls_below_its_downlink(macro):
    ul, dl, cell = macro
    f = _freqs_hz()
    sinr_ul = ul.sinr(f, 0, UL.slot_s, 40).mean(axis=(0, 2))                     # [U] open-loop PSD
    sinr_dl = dl.sinr(f, 0, DL.slot_s, 40).mean(axis=(0, 2))
    near, edge = 0, 1
    assert ul.drop.distance_m[edge] == pytest.approx(280.0, rel=1e-6)
    backoff_db = ul.psd_backoff_db(edge, N_PRB)
    assert backoff_db > 3.0                                        # the whole carrier needs more than 23 dBm
    assert ul.tx_power_dbm(edge, N_PRB) == pytest.approx(cell.ue_power_dbm)
    edge_ul_db = 10 * math.log10(sinr_ul[edge]) - backoff_db
    assert edge_ul_db < 10 * math.log10(sinr_dl[edge]) - 10.0
    assert ul.psd_backoff_db(near, N_PRB) == 0.0                   # the near UE reaches its open-loop PSD
    print(f"UMa 280 m: UL {edge_ul_db:.1f} dB on {N_PRB} PRBs (backoff {backoff_db:.1f} dB), "
          f"DL {10 * math.log10(sinr_dl[edge]):.1f} dB; 50 m: UL {10 * math.log10(sinr_ul[near]):.1f} dB, "
          f"DL {10 * math.log10(sinr_dl[near]):.1f} dB")


def test_power_control_never_exceeds_the_ue_power_and_is_sionnas(macro):
    from sionna.sys import open_loop_uplink_power_control
    ul, _, cell = macro
    n = np.arange(1, N_PRB + 1)
    for u in range(2):
        ours = np.array([ul.tx_power_dbm(u, int(k)) for k in n])
        pl = torch.full((len(n),), 10 ** (ul.pathloss_db[u] / 10), dtype=torch.float64)
        w = open_loop_uplink_power_control(pl, torch.from_numpy(12 * n), alpha=cell.alpha, p0_dbm=cell.p0_dbm,
                                           ut_max_power_dbm=cell.ue_power_dbm, precision="double").numpy()
        assert (ours <= cell.ue_power_dbm).all()
        np.testing.assert_allclose(ours, 10 * np.log10(w) + 30, atol=1e-9)
    assert ul.tx_power_dbm(0, 0) == -math.inf                     # no PRBs, nothing sent
    # PL is the coupling loss to the serving sector (what the UE's RSRP sees)
    np.testing.assert_allclose(ul.pathloss_db, -ul.drop.coupling_gain_db[:, 0])


def test_backoff_grows_with_the_prbs_of_a_far_ue_and_is_zero_for_a_near_ue_on_few_prbs(macro):
    ul, _, cell = macro
    far = [ul.psd_backoff_db(1, n) for n in range(1, N_PRB + 1)]
    assert np.all(np.diff(far) >= 0) and far[-1] > 0
    # once capped, twice the PRBs halve the PSD: 3 dB more backoff
    assert ul.psd_backoff_db(1, 50) - ul.psd_backoff_db(1, 25) == pytest.approx(10 * math.log10(2), abs=1e-9)
    assert far[0] == 0.0 or ul.psd_dbm[1] > cell.ue_power_dbm    # one PRB is enough unless even it is capped
    assert [ul.psd_backoff_db(0, n) for n in (1, 2, 4)] == [0.0, 0.0, 0.0]


def test_backoff_refuses_a_prb_count_outside_the_carrier(macro):
    ul, _, _ = macro
    with pytest.raises(ValueError, match=f"n_prb={N_PRB + 1}.*0..{N_PRB}"):
        ul.psd_backoff_db(0, N_PRB + 1)
    with pytest.raises(ValueError, match="u=5"):
        ul.tx_power_dbm(5, 1)


def test_pusch_tables_load_and_differ_from_pdsch():
    pdsch = phy_tables(N_PRB, 12, 12, 1, 0.1)
    pusch = phy_tables(N_PRB, 12, 12, 1, 0.1, is_pusch=True)
    assert pdsch is phy_tables(N_PRB, 12, 12, 1, 0.1, is_pusch=False)        # one cache entry per setup
    assert list(pusch.mcs) == list(range(3, 28)) and pdsch.mcs[-1] == 28
    assert not np.array_equal(pusch.tbler, pdsch.tbler[:len(pusch.mcs)])      # Sionna's PUSCH link curves
    assert not np.array_equal(pusch.illa, np.minimum(pdsch.illa, len(pusch.mcs) - 1))
    # CP-OFDM PUSCH reads the PDSCH MCS table and TB-size rule (TS 38.214 Sec. 6.1.4)
    np.testing.assert_array_equal(pusch.tbs_bits, pdsch.tbs_bits[:len(pusch.mcs)])
    tbs = tb_size_table(N_PRB, 12, 12, 2, is_pusch=True)
    lo, hi = PUSCH_MCS_RANGE[2]
    assert tbs.shape == (hi - lo + 1, N_PRB + 1) and (tbs[:, 0] == 0).all()
    assert list(phy_tables(N_PRB, 12, 12, 2, 0.1, is_pusch=True).mcs) == list(range(lo, hi + 1))


def test_a_dedicated_uplink_uses_pusch_tables_and_the_ues_power():
    fast = LinkSpec(bandwidth_mhz=20, trace_s=0.1, direction="uplink")
    good = draw_link_level(ChannelSpec(model="awgn", snr_db=35), fast, 1)
    assert good.info["mcs"].max() == PUSCH_MCS_RANGE[1][1]             # PDSCH would reach MCS 28
    far = ChannelSpec(model="uma", distance_m=400, los="nlos", shadowing="off")
    up = draw_link_level(far, fast, 1)
    down = draw_link_level(far, LinkSpec(bandwidth_mhz=20, trace_s=0.1), 1)
    assert up.meta["ue_tx_power_dbm"] == pytest.approx(23.0) and up.meta["power_limited_share"] == 1.0
    assert up.meta["mean_snr_db"] < down.meta["mean_snr_db"] - 10
    weak = draw_link_level(far, fast, 1, cell=CellSpec(ue_power_dbm=10.0))
    assert weak.meta["mean_snr_db"] == pytest.approx(up.meta["mean_snr_db"] - 13.0)


def test_interference_lowers_the_uplink_sinr(micro):
    clean, loud = micro
    f = _freqs_hz()
    a, b = clean.sinr(f, 0, UL.slot_s, 60), loud.sinr(f, 0, UL.slot_s, 60)
    np.testing.assert_array_equal(clean.drop.coupling_gain_db, loud.drop.coupling_gain_db)   # one drop
    assert (b <= a * (1 + 1e-5)).all()
    assert 10 * np.log10(a.mean() / b.mean()) > 1.0
    assert loud.geometry_sinr_db.max() < clean.geometry_sinr_db.max()
    assert loud.initial_sinr_db(0, 1) == pytest.approx(loud.geometry_sinr_db[0])  # one receive element


def test_interferers_are_other_sectors_ues_each_counted_to_its_best_server(micro):
    _, loud = micro
    itf = loud.drop.interferers
    assert len(itf.links) == loud.drop.meta["interferers"] > 0
    assert (itf.sector != 0).all() and (np.bincount(itf.sector) <= multicell.INTERFERERS_PER_SECTOR).all()
    np.testing.assert_array_equal(multicell.best_server(itf.coupling_gain_db), itf.sector)


def test_interference_draw_is_deterministic_and_chunk_independent(micro):
    _, loud = micro
    f = _freqs_hz()
    g = len(f)
    whole = loud.sinr(f, 0, UL.slot_s, 100)
    parts = np.concatenate([loud.sinr(f, 0, UL.slot_s, 50), loud.sinr(f, 50, UL.slot_s, 50)])
    np.testing.assert_allclose(parts, whole, rtol=1e-4)      # the fading differs only in float32 rounding
    k = loud.active_interferers(0, 100, g)
    np.testing.assert_array_equal(np.concatenate([loud.active_interferers(0, 37, g),
                                                  loud.active_interferers(37, 63, g)]), k)
    np.testing.assert_array_equal(loud.sinr(f, 0, UL.slot_s, 100), whole)          # same call, same result
    # every kept UE of a sector gets PRB groups, and who transmits changes from slot to slot
    assert len(np.unique(k)) == len(loud.drop.interferers.links)
    assert (k[1:] != k[:-1]).mean() > 0.2


def test_a_power_limited_ue_gets_no_more_prbs_than_its_headroom_and_its_frames_arrive(monkeypatch):
    """The edge-server-multiuser preset's two cell-edge UEs (geometry SINR about -1.5 dB) were given as
    many PRBs as MCS 0 needed for a frame, up to 10 dB of power backoff below the SINR their MCS was
    chosen for, and lost every transmission: 85-100 % of their frames. Capped at the PRBs their power
    fills at the open-loop PSD, they lose at most a frame now and then."""
    import gsvc
    from gsvc.netsim import carrier as carrier_module
    from gsvc.scenarios.presets import get_preset
    seen = {}
    real_slot = carrier_module.SharedCarrier._slot

    def slot(self, t):
        seen["cap"], seen["backoff"] = self.prb_cap, self.backoff
        return real_slot(self, t)
    monkeypatch.setattr(carrier_module.SharedCarrier, "_slot", slot)
    frames = gsvc.run(get_preset("edge-server-multiuser").updated({"video.seconds": 2})).frames
    cap, backoff = seen["cap"], seen["backoff"]
    assert min(cap) < backoff.shape[1] - 1  # some UE is power-limited
    assert all(backoff[u, cap[u]] <= 1e-9 or cap[u] == 1 for u in range(len(cap)))
    lost = frames.groupby("stream")["status"].apply(lambda s: (s == "lost").mean())
    assert lost.max() <= 0.1, lost.to_dict()


def test_an_uplink_streams_sinr_is_at_the_power_its_ue_can_send():
    """A deep-indoor UE at 250 m in UMa cannot reach the open-loop PSD even on one PRB. Its stream reported
    the SINR at that target (about +2 dB) while it lost most of its frames; the SINR is now at the power it
    sends, ``psd_backoff_db`` lower, and the open-loop figure is kept beside it."""
    import gsvc
    from gsvc.scenarios import Scenario
    sc = Scenario(name="ul", seed=3, video=dict(seconds=1, fps=15, resolution=64),
                  codec=dict(name="synthetic", bitrate_kbps=200), receiver=dict(decode="timing-only"), streams=2,
                  channel=dict(model="uma", carrier_ghz=3.5, speed_kmh=3),
                  link=dict(direction="uplink", bandwidth_mhz=10, scs_khz=30),
                  cell=dict(scheduler="pf", traffic="queue", interference="full-buffer", ue_distances_m=(50, 250),
                            indoor_probability=1.0))
    backoffs = []
    for traffic in ("queue", "full-buffer"):  # scheduled in the run, or pre-drawn shares: the same definition
        r = gsvc.run(sc.updated({"cell.traffic": traffic}))
        near, far = r.meta["streams"]
        for s in (near, far):
            assert s["sinr_db_mean"] == pytest.approx(s["open_loop_sinr_db_mean"] - s["psd_backoff_db"])
        assert near["psd_backoff_db"] == 0.0 and far["psd_backoff_db"] > 3.0
        assert r.summary["sinr_db_mean"] == pytest.approx((near["sinr_db_mean"] + far["sinr_db_mean"]) / 2)
        backoffs.append(far["psd_backoff_db"])
    assert backoffs[0] == pytest.approx(backoffs[1])
    down = gsvc.run(sc.updated({"link.direction": "downlink"})).meta["streams"]
    assert all("psd_backoff_db" not in s for s in down)  # the downlink has no power cap


def test_the_sector_combines_num_rx_ant_receive_antennas_on_the_uplink():
    """``channel.num_rx_ant`` is the receiving end's antennas, as on a dedicated uplink: the sector's on a shared
    uplink (it was fixed at one element, and the field silently not read). Same drop, 4 elements with MRC:
    about 6 dB more SINR with and without the other sectors' UEs, the geometry per antenna unchanged."""
    cell = dict(scheduler="pf", ue_distances_m=(20.0, 90.0), indoor_probability=0.0)
    gains = []
    for interference in ("off", "full-buffer"):
        one, four = (UplinkGeometric(ChannelSpec(model="umi", speed_kmh=3, los="nlos", num_rx_ant=r), UL,
                                     CellSpec(interference=interference, **cell), 2, N_PRB, 8) for r in (1, 4))
        np.testing.assert_allclose(four.geometry_sinr_db, one.geometry_sinr_db, atol=1e-9)
        assert four.drop.links[0][0].gain.shape[0] == 4 and one.drop.links[0][0].gain.shape[0] == 1
        s1, s4 = (np.mean(g.sinr(_freqs_hz(), 0, 5e-4, 400), axis=(0, 2)) for g in (one, four))   # [U] linear
        gains.append(10 * np.log10(s4 / s1))
        assert four.initial_sinr_db(0, 4) == pytest.approx(one.initial_sinr_db(0, 1) + 10 * math.log10(4))
    gains = np.concatenate(gains)
    assert (gains > 4.0).all() and (gains < 8.5).all(), gains
