"""PHY abstraction: TS 38.214 TB sizes, EESM and OLLA agree with Sionna's blocks."""
import json
import os

import numpy as np
import pytest
import torch

from gsvc.netsim.channel.harq import HarqOlla
from gsvc.netsim.channel.phy import effective_sinr_db, phy_tables, tb_size_bits
from gsvc.netsim.channel.linkspec import MCS_RANGE


# Hand-computed with TS 38.214 Sec. 5.1.3.2 (MCS table 5.1.3.1-1, 24 DMRS REs per PRB):
#  MCS 9  (Qm 2, R 679/1024), 24 PRB, 12 sym: N_RE 2880, N_info 3819.4 <= 3824 -> N'_info 3808 -> Table 5.1.3.2-1: 3824
#  MCS 27 (Qm 6, R 910/1024), 52 PRB, 12 sym: N_info 33271.5 -> N'_info 32768, C 4 -> 32*ceil(32792/32)-24 = 32776
#  MCS 28 (Qm 6, R 948/1024), 52 PRB, 12 sym: N_info 34661.25 -> N'_info 34816, C 5 -> 40*871-24 = 34816
#  MCS 0  (Qm 2, R 120/1024),  1 PRB, 12 sym: N_info 28.1 -> N'_info 24 -> 24
#  MCS 16 (Qm 4, R 658/1024), 106 PRB, 13 sym, 12 DMRS: N_RE 15264, N_info 39233.25 -> N'_info 38912, C 5
#         -> 40*ceil(38936/40)-24 = 38936
@pytest.mark.parametrize("mcs, prb, sym, dmrs, tbs", [
    (9, 24, 12, 24, 3824), (27, 52, 12, 24, 32776), (28, 52, 12, 24, 34816), (0, 1, 12, 24, 24),
    (16, 106, 13, 12, 38936)])
def test_tb_size_matches_hand_computed_ts_38_214_values(mcs, prb, sym, dmrs, tbs):
    assert tb_size_bits(mcs, prb, sym, dmrs) == tbs


def test_mcs_ranges_are_those_with_sionna_bler_tables():
    import sionna.sys
    folder = os.path.join(os.path.dirname(sionna.sys.__file__), "bler_tables")
    for table, (lo, hi) in MCS_RANGE.items():
        with open(os.path.join(folder, f"PDSCH_table{table}.json")) as fh:
            d = json.load(fh)
        mcs = sorted(int(m) for m in d["category"]["1"]["index"][str(table)]["MCS"])
        assert (mcs[0], mcs[-1]) == (lo, hi) and len(mcs) == hi - lo + 1


@pytest.fixture(scope="module")
def tables():
    return phy_tables(24, 12, 12, 1, 0.1)


def test_tbler_falls_with_sinr_and_rises_with_mcs(tables):
    assert np.all(np.diff(tables.tbler, axis=1) <= 1e-9)        # along SINR
    assert tables.tbler[-1, 150] >= tables.tbler[0, 150]         # at 10 dB
    assert np.all(np.diff(tables.illa) >= 0)                    # ILLA never picks lower MCS at higher SINR
    assert np.all(np.diff(tables.tbs_bits) >= 0)


def test_eesm_equals_sionna_eesm(tables):
    from sionna.sys import EESM
    gen = torch.Generator().manual_seed(0)
    sinr = torch.rand(200, 12, generator=gen) * 100 + 0.05
    ours = effective_sinr_db(sinr.numpy(), tables.beta, np.full(12, 1 / 12, np.float32))
    m = len(tables.mcs)
    ref = EESM(precision="single", device="cpu")(sinr[:, None, :, None, None].expand(200, 1, 12, m, 1),
                                                  torch.from_numpy(tables.mcs).expand(200, m), mcs_table_index=1)
    assert np.allclose(ours, 10 * np.log10(ref.numpy()), atol=1e-3)


def test_eesm_does_not_underflow_at_high_sinr(tables):
    sinr = np.array([[1e4, 2e4]], np.float32)                     # 40-43 dB: exp(-x/beta) underflows in float32
    eff = effective_sinr_db(sinr, tables.beta, np.array([0.5, 0.5], np.float32))
    assert np.allclose(eff, 30.0)                                # Sionna's clamp, not NaN


def test_olla_chooses_the_same_mcs_as_sionna_olla(tables):
    from sionna.sys import OuterLoopLinkAdaptation, PHYAbstraction
    rng = np.random.default_rng(1)
    n = 120
    sinr_db = (12 + 4 * np.sin(np.arange(n) / 7) + rng.normal(0, 1, n)).astype(np.float32)
    eff = np.repeat(sinr_db[:, None], len(tables.mcs), axis=1)    # same SINR report whatever the MCS
    # the first MCS follows the channel report of the slot the UE first sends in (a connected UE's CSI), not the
    # prior given here: Sionna's OLLA starts from that report (its sinr_eff_init is linear)
    ours = HarqOlla(tables, n, 5e-4, 0.0, rtt_slots=1, max_retx=0, chase=True, mcs_index=None,
                    bler_target=0.1, step_db=1.0, initial_sinr_db=10.0)
    ours.step_chunk(eff, rng.random(n))
    got = ours.arrays()
    olla = OuterLoopLinkAdaptation(PHYAbstraction(precision="single", device="cpu"), num_ut=1, bler_target=0.1,
                                   delta_up=1.0, sinr_eff_init=10 ** (float(sinr_db[0]) / 10), precision="single",
                                   device="cpu")
    num_re = torch.tensor([24 * 132], dtype=torch.int32)
    harq, fb_sinr = torch.tensor([-1]), None
    ref = []
    for t in range(n):
        ref.append(int(olla(num_re, harq, fb_sinr, mcs_table_index=1, mcs_category=1)))
        harq = torch.tensor([0 if got["lost"][t] else 1])
        fb_sinr = torch.tensor([10 ** (float(sinr_db[t]) / 10)])
    assert got["mcs"].tolist() == ref
