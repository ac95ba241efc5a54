"""PHY abstraction tables from Sionna: TB size, EESM and BLER per MCS for one link setup.

:class:`PhyTables` holds, for every MCS of the chosen PDSCH (downlink) or PUSCH (uplink,
``is_pusch=True``) MCS table that Sionna has BLER data for:

- the transport-block size (TS 38.214 Sec. 5.1.3.2, via
  ``sionna.phy.nr.utils.calculate_tb_size``) for the whole carrier in one slot;
- the EESM beta (``sionna.sys.EESM``'s shipped beta table);
- the TBLER on Sionna's SINR grid (``sionna.sys.PHYAbstraction``'s interpolated
  BLER tables, ``TBLER = 1 - (1 - BLER)^num_code_blocks``), and
- the inner-loop MCS choice (``sionna.sys.InnerLoopLinkAdaptation``'s rule: the
  highest MCS whose TBLER <= target, else the lowest) on that grid.

PUSCH here is CP-OFDM (no transform precoding), so TS 38.214 Sec. 6.1.4.1 reads the PDSCH MCS
tables (Table 5.1.3.1-1/-2) and Sec. 6.1.4.2 the same TB-size rule: modulation, code rate and TB
size per MCS equal the PDSCH ones (``sionna.phy.nr.utils.decode_mcs_index(is_pusch=True)`` with
``transform_precoding=False`` returns them). What differs is Sionna's BLER table (its PUSCH link
simulations, category 0) and the MCS it covers (:data:`PUSCH_MCS_RANGE`).

Lookups quantise SINR to the grid exactly as ``PHYAbstraction.get_bler`` does
(round to the nearest grid point, clamp to the edges). Below the grid (-5 dB)
Sionna's tables read BLER = 1 for every MCS.

:func:`effective_sinr_db` computes EESM for all MCS at once; it equals
``sionna.sys.EESM`` (same betas, same clamping to [-30, 30] dB) and weights
PRB groups by their size.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from .numerology import MCS_RANGE, PUSCH_MCS_RANGE

__all__ = ["PhyTables", "phy_tables", "tb_size_bits", "tb_size_table", "effective_sinr_db",
           "effective_sinr_alloc_db", "mcs_range", "PDSCH_CATEGORY", "PUSCH_CATEGORY", "PUSCH_MCS_RANGE"]

#: Sionna's MCS category of the PDSCH tables (``mcs_category`` of ``PHYAbstraction.get_bler`` and
#: ``sionna.phy.nr.utils.MCSDecoderNR``: 0 = PUSCH, 1 = PDSCH)
PDSCH_CATEGORY = 1
#: Sionna's MCS category of the PUSCH tables
PUSCH_CATEGORY = 0
#: EESM output range of sionna.sys.EESM (sinr_eff_min_db, sinr_eff_max_db), dB
EESM_MIN_DB, EESM_MAX_DB = -30.0, 30.0
#: rows per block of the EESM computation
_EESM_BLOCK = 2048


@dataclass(frozen=True)
class PhyTables:
    """Per-MCS link tables (see module docstring).

    Attributes:
        mcs: ``[M]`` int, MCS indices with BLER data, ascending.
        tbs_bits: ``[M]`` int, transport-block size (information bits) per slot.
        beta: ``[M]`` float32, EESM beta.
        snr_grid_db: ``(min_db, step_db, num_points)`` of the BLER grid.
        tbler: ``[M, num_points]`` float64, TBLER at each grid SINR.
        illa: ``[num_points]`` int, index into ``mcs`` chosen by ILLA at each grid SINR.
    """

    mcs: np.ndarray
    tbs_bits: np.ndarray
    beta: np.ndarray
    snr_grid_db: tuple
    tbler: np.ndarray
    illa: np.ndarray


def mcs_range(mcs_table: int, is_pusch: bool = False) -> tuple[int, int]:
    """``(lowest, highest)`` MCS index of ``mcs_table`` that Sionna has a BLER table for (PDSCH:
    ``spec.MCS_RANGE``; PUSCH: :data:`PUSCH_MCS_RANGE`)."""
    return (PUSCH_MCS_RANGE if is_pusch else MCS_RANGE)[mcs_table]


def tb_size_bits(mcs: int, num_prb: int, num_symbols: int, dmrs_re_per_prb: int, mcs_table: int = 1, *,
                 is_pusch: bool = False) -> int:
    """TS 38.214 Sec. 5.1.3.2 (PDSCH) / 6.1.4.2 (PUSCH) transport-block size of one codeword (one layer)."""
    from sionna.phy.nr.utils import calculate_tb_size, decode_mcs_index

    qm, rate = decode_mcs_index(mcs, table_index=mcs_table, is_pusch=bool(is_pusch))
    tbs, *_ = calculate_tb_size(qm, rate, num_prbs=num_prb, num_ofdm_symbols=num_symbols,
                                num_dmrs_per_prb=dmrs_re_per_prb, return_cw_length=False, device="cpu")
    return int(tbs)


@functools.lru_cache(maxsize=4)
def _phy_abstraction(mcs_table: int, is_pusch: bool):
    """Sionna's PHYAbstraction with only the BLER table in use loaded (interpolating all takes seconds)."""
    import os

    import sionna.sys
    from sionna.sys import PHYAbstraction

    name = f"{'PUSCH' if is_pusch else 'PDSCH'}_table{mcs_table}.json"
    path = os.path.join(os.path.dirname(sionna.sys.__file__), "bler_tables", name)
    return PHYAbstraction(load_bler_tables_from=[path], precision="single", device="cpu")


def phy_tables(num_prb: int, num_symbols: int, dmrs_re_per_prb: int, mcs_table: int,
               bler_target: float, *, is_pusch: bool = False) -> PhyTables:
    """Build the tables with Sionna (a fraction of a second; cached per process).

    ``is_pusch``: Sionna's PUSCH BLER tables and MCS range (the uplink) instead of the PDSCH ones.
    """
    # one cache entry per distinct argument set, however the caller spells it (positional or keyword)
    return _phy_tables(int(num_prb), int(num_symbols), int(dmrs_re_per_prb), int(mcs_table), float(bler_target),
                       bool(is_pusch))


@functools.lru_cache(maxsize=32)
def _phy_tables(num_prb: int, num_symbols: int, dmrs_re_per_prb: int, mcs_table: int, bler_target: float,
                is_pusch: bool) -> PhyTables:
    from sionna.phy.nr.utils import calculate_tb_size, decode_mcs_index
    from sionna.sys import EESM

    lo_mcs, hi_mcs = mcs_range(mcs_table, is_pusch)
    category = PUSCH_CATEGORY if is_pusch else PDSCH_CATEGORY
    mcs = np.arange(lo_mcs, hi_mcs + 1)
    mcs_t = torch.from_numpy(mcs).to(torch.int32)
    qm, rate = decode_mcs_index(mcs_t, table_index=mcs_table, is_pusch=is_pusch, device="cpu")
    tbs, cb_size, num_cb, *_ = calculate_tb_size(qm, rate, num_prbs=num_prb, num_ofdm_symbols=num_symbols,
                                                 num_dmrs_per_prb=dmrs_re_per_prb, return_cw_length=False,
                                                 device="cpu")
    pa = _phy_abstraction(mcs_table, is_pusch)
    lo, hi, step = pa.snr_db_interp_min_max_delta
    grid_db = np.arange(lo, hi, step)                                  # as PHYAbstraction builds it
    n = len(grid_db)
    m = len(mcs)
    snr_lin = torch.from_numpy(10.0 ** (grid_db / 10.0)).float()[None, :].expand(m, n)
    bler = pa.get_bler(mcs_t[:, None].expand(m, n), mcs_table, category,
                       cb_size[:, None].expand(m, n), snr_lin).double().numpy()
    if not np.all(np.isfinite(bler)):
        raise RuntimeError(f"Sionna has no BLER table for some {'PUSCH' if is_pusch else 'PDSCH'} MCS "
                           f"{lo_mcs}..{hi_mcs} of table {mcs_table}")
    tbler = 1.0 - (1.0 - bler) ** num_cb.double().numpy()[:, None]
    ok = tbler <= bler_target                                          # [M, n]
    highest = np.where(ok.any(axis=0), m - 1 - np.argmax(ok[::-1], axis=0), 0)
    beta = EESM(precision="single", device="cpu").beta_tensor[mcs_table - 1, lo_mcs:hi_mcs + 1].numpy()
    return PhyTables(mcs=mcs, tbs_bits=tbs.numpy().astype(np.int64), beta=beta.astype(np.float32),
                     snr_grid_db=(float(lo), float(step), n), tbler=tbler, illa=highest.astype(np.int64))


def effective_sinr_db(sinr: np.ndarray, beta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """EESM effective SINR for every MCS at once.

    ``sinr_eff = -beta * ln(sum_k w_k * exp(-sinr_k / beta))``, clamped to
    [-30, 30] dB like ``sionna.sys.EESM``. The minimum SINR of each slot is factored
    out first (log-sum-exp), so large SINRs do not underflow.

    Args:
        sinr: ``[num_slots, num_groups]`` float32, linear SINR per PRB group (> 0).
        beta: ``[num_mcs]`` float32, EESM beta per MCS.
        weights: ``[num_groups]`` float32, share of the PRBs in each group (sums to 1).

    Returns:
        ``sinr_eff_db: [num_slots, num_mcs]`` float32, dB.
    """
    sinr = np.asarray(sinr, np.float32)
    beta = np.asarray(beta, np.float32)
    weights = np.asarray(weights, np.float32)
    out = np.empty((sinr.shape[0], beta.shape[0]), np.float32)
    neg_inv_beta = (np.float32(-1.0) / beta)[None, :, None]            # [1, M, 1]
    lo, hi = np.float32(10.0 ** (EESM_MIN_DB / 10.0)), np.float32(10.0 ** (EESM_MAX_DB / 10.0))
    # speed trick: single-threaded NumPy on blocks whose [rows, M, G] temporary stays in cache
    # (many small multi-threaded torch ops stall on thread barriers when other processes share
    # the cores); in-place exp, and the weighted sum over groups as a matrix-vector product
    for a in range(0, sinr.shape[0], _EESM_BLOCK):
        s = sinr[a:a + _EESM_BLOCK]
        s_min = s.min(axis=1, keepdims=True)                           # [B, 1]
        x = (s - s_min)[:, None, :] * neg_inv_beta                     # [B, M, G]
        np.exp(x, out=x)
        eff = s_min - beta[None, :] * np.log(x @ weights)              # [B, M]
        np.clip(eff, lo, hi, out=eff)
        out[a:a + _EESM_BLOCK] = np.float32(10.0) * np.log10(eff)
    return out


def effective_sinr_alloc_db(sinr: np.ndarray, beta: np.ndarray, prbs: np.ndarray) -> np.ndarray:
    """EESM over each slot's own allocation: :func:`effective_sinr_db` with per-slot group weights.

    Args:
        sinr: ``[num_slots, num_groups]`` float32, linear SINR per PRB group (> 0).
        beta: ``[num_mcs]`` float32, EESM beta per MCS.
        prbs: ``[num_slots, num_groups]``, PRBs of each group allocated in the slot (0: not allocated).

    Returns:
        ``sinr_eff_db: [num_slots, num_mcs]`` float32, dB; ``EESM_MIN_DB`` in slots with no allocation.
    """
    sinr = np.asarray(sinr, np.float32)
    beta = np.asarray(beta, np.float32)
    w = np.asarray(prbs, np.float32)
    total = w.sum(axis=1, keepdims=True)
    w = w / np.maximum(total, 1.0)                                      # [T, G] shares of the allocation
    out = np.full((sinr.shape[0], beta.shape[0]), EESM_MIN_DB, np.float32)
    neg_inv_beta = (np.float32(-1.0) / beta)[None, :, None]
    lo, hi = np.float32(10.0 ** (EESM_MIN_DB / 10.0)), np.float32(10.0 ** (EESM_MAX_DB / 10.0))
    for a in range(0, sinr.shape[0], _EESM_BLOCK):
        s, wb = sinr[a:a + _EESM_BLOCK], w[a:a + _EESM_BLOCK]
        used = wb > 0
        rows = used.any(axis=1)
        s_min = np.where(used, s, np.inf).min(axis=1, keepdims=True)   # over the allocated groups only
        s_min = np.where(rows[:, None], s_min, 1.0)
        x = (s - s_min)[:, None, :] * neg_inv_beta                     # [B, M, G]
        np.exp(np.minimum(x, 0.0), out=x)                              # unallocated groups weigh 0 anyway
        eff = s_min - beta[None, :] * np.log(np.maximum(np.einsum("bmg,bg->bm", x, wb), 1e-30))
        np.clip(eff, lo, hi, out=eff)
        blk = out[a:a + _EESM_BLOCK]
        blk[rows] = np.float32(10.0) * np.log10(eff[rows])
    return out


def tb_size_table(max_prb: int, num_symbols: int, dmrs_re_per_prb: int, mcs_table: int, *,
                  is_pusch: bool = False) -> np.ndarray:
    """``[num_mcs, max_prb + 1]`` int64: TS 38.214 TB size of each tabulated MCS on ``n`` PRBs
    (column 0 = no allocation = 0 bits), via ``sionna.phy.nr.utils.calculate_tb_size``; ``is_pusch``: the
    MCS of :data:`PUSCH_MCS_RANGE` (rows match ``phy_tables(..., is_pusch=True).mcs``)."""
    return _tb_size_table(int(max_prb), int(num_symbols), int(dmrs_re_per_prb), int(mcs_table), bool(is_pusch))


@functools.lru_cache(maxsize=8)
def _tb_size_table(max_prb: int, num_symbols: int, dmrs_re_per_prb: int, mcs_table: int,
                   is_pusch: bool) -> np.ndarray:
    from sionna.phy.nr.utils import calculate_tb_size, decode_mcs_index

    lo_mcs, hi_mcs = mcs_range(mcs_table, is_pusch)
    mcs_t = torch.arange(lo_mcs, hi_mcs + 1, dtype=torch.int32)
    qm, rate = decode_mcs_index(mcs_t, table_index=mcs_table, is_pusch=is_pusch, device="cpu")
    m, n = len(mcs_t), torch.arange(1, max_prb + 1, dtype=torch.int32)
    tbs, *_ = calculate_tb_size(qm[:, None].expand(-1, max_prb), rate[:, None].expand(-1, max_prb),
                                num_prbs=n[None, :].expand(m, -1), num_ofdm_symbols=num_symbols,
                                num_dmrs_per_prb=dmrs_re_per_prb, return_cw_length=False, device="cpu")
    out = np.zeros((m, max_prb + 1), np.int64)
    out[:, 1:] = tbs.numpy()
    return out
