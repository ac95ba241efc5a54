"""5G NR numerology: carrier bandwidth -> PRBs, slot length, resource elements.

Pure tables and arithmetic (no torch, no Sionna), shared by the specs and the
trace generator.

Sources:
- TS 38.101-1 (FR1) Table 5.3.2-1 and TS 38.101-2 (FR2-1) Table 5.3.2-1:
  maximum transmission bandwidth configuration N_RB per channel bandwidth and SCS.
- TS 38.104 Table 5.1-1 / TS 38.101-1 Table 5.1-1: frequency ranges
  FR1 = 410 MHz - 7.125 GHz, FR2-1 = 24.25 - 52.6 GHz.
- TS 38.211 Sec. 4.3.2: 14 OFDM symbols per slot (normal CP), slot = 1 ms / 2^mu.
- TS 38.214 Table 5.1.2.2.1-1: nominal RBG size P (configuration 1).
"""
from __future__ import annotations

__all__ = ["MCS_RANGE", "PUSCH_MCS_RANGE", "FR1_NRB", "FR2_NRB", "FR1_MAX_GHZ", "FR2_MIN_GHZ", "FR2_MAX_GHZ", "SYMBOLS_PER_SLOT",
           "frequency_range", "nrb_table", "num_prb", "valid_bandwidths_mhz", "rbg_size_prb",
           "prb_groups", "slot_s"]

#: TS 38.101-1 Table 5.3.2-1: {scs_khz: {bandwidth_mhz: N_RB}} (FR1)
FR1_NRB: dict[int, dict[int, int]] = {
    15: {3: 15, 5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 35: 188, 40: 216, 45: 242, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 35: 92, 40: 106, 45: 119, 50: 133,
         60: 162, 70: 189, 80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 35: 44, 40: 51, 45: 58, 50: 65,
         60: 79, 70: 93, 80: 107, 90: 121, 100: 135},
}
#: TS 38.101-2 Table 5.3.2-1: {scs_khz: {bandwidth_mhz: N_RB}} (FR2-1)
FR2_NRB: dict[int, dict[int, int]] = {
    60: {50: 66, 100: 132, 200: 264},
    120: {50: 32, 100: 66, 200: 132, 400: 264},
}
#: upper edge of FR1, GHz (TS 38.101-1 Table 5.1-1)
FR1_MAX_GHZ = 7.125
#: FR2-1 edges, GHz (TS 38.101-2 Table 5.1-1)
FR2_MIN_GHZ = 24.25
FR2_MAX_GHZ = 52.6
#: OFDM symbols per slot with normal cyclic prefix (TS 38.211 Sec. 4.3.2)
SYMBOLS_PER_SLOT = 14

#: PDSCH MCS indices with a BLER table in sionna-no-rt 2.x (sionna/sys/bler_tables/PDSCH_table{1,2}.json);
#: the EESM beta table covers MCS tables 1 and 2 only.
MCS_RANGE = {1: (3, 28), 2: (2, 27)}
#: PUSCH MCS indices with a BLER table in sionna-no-rt 2.x (sionna/sys/bler_tables/PUSCH_table{1,2}.json:
#: table 1 MCS 3..27, table 2 MCS 9..27), narrower than the PDSCH ones (``spec.MCS_RANGE``: 3..28, 2..27)
PUSCH_MCS_RANGE = {1: (3, 27), 2: (9, 27)}


def frequency_range(carrier_ghz: float) -> str | None:
    """``"FR1"``, ``"FR2"`` or ``None`` (no NR frequency range holds the carrier)."""
    if carrier_ghz <= FR1_MAX_GHZ:
        return "FR1"
    if FR2_MIN_GHZ <= carrier_ghz <= FR2_MAX_GHZ:
        return "FR2"
    return None


def nrb_table(fr: str) -> tuple[str, dict[int, dict[int, int]]]:
    """(name of the table, the table) for ``fr`` in {"FR1", "FR2"}."""
    if fr == "FR1":
        return "TS 38.101-1 Table 5.3.2-1", FR1_NRB
    return "TS 38.101-2 Table 5.3.2-1", FR2_NRB


def valid_bandwidths_mhz(scs_khz: int, fr: str) -> list[int]:
    """Channel bandwidths (MHz) that ``fr``'s table lists for ``scs_khz``."""
    return sorted(nrb_table(fr)[1].get(scs_khz, {}))


def num_prb(bandwidth_mhz: float, scs_khz: int, fr: str | None = None) -> int | None:
    """N_RB for the pair, from the FR1 table, else the FR2 table (or only ``fr``'s); ``None`` if absent."""
    if float(bandwidth_mhz) != int(bandwidth_mhz):
        return None
    bw = int(bandwidth_mhz)
    for name in ([fr] if fr else ["FR1", "FR2"]):
        n = nrb_table(name)[1].get(scs_khz, {}).get(bw)
        if n is not None:
            return n
    return None


def slot_s(scs_khz: int) -> float:
    """Slot duration, s: 1 ms / 2^mu with SCS = 15 kHz * 2^mu (TS 38.211 Sec. 4.3.2)."""
    return 1e-3 * 15.0 / scs_khz


def rbg_size_prb(n_prb: int) -> int:
    """Nominal RBG size P, PRBs (TS 38.214 Table 5.1.2.2.1-1, configuration 1)."""
    if n_prb <= 36:
        return 2
    if n_prb <= 72:
        return 4
    if n_prb <= 144:
        return 8
    return 16


def prb_groups(n_prb: int) -> tuple[list[float], list[int]]:
    """PRB groups (RBGs) at which the channel is sampled in frequency.

    Returns ``(centre_prb, size_prb)``: the centre of each group in PRB units from the
    carrier's lowest PRB edge (float), and the number of PRBs in it (the last group
    may be smaller, TS 38.214 Sec. 5.1.2.2.1).
    """
    p = rbg_size_prb(n_prb)
    centres, sizes = [], []
    start = 0
    while start < n_prb:
        size = min(p, n_prb - start)
        centres.append(start + size / 2.0)
        sizes.append(size)
        start += size
    return centres, sizes
