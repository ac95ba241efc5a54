"""Link adaptation and HARQ of one UE, slot by slot, inside the event loop (a traffic-aware cell).

The rules are those of :class:`.harq.HarqOlla` (OLLA as ``sionna.sys.OuterLoopLinkAdaptation``,
HARQ with chase combining, reports ``rtt`` slots late), applied only in the slots in which the
UE is scheduled: a UE with an empty queue sends nothing, so its offset moves only on its own
ACKs and NACKs. :class:`.harq.HarqOlla` keeps its per-chunk loop for pre-drawn (full-buffer)
traces, where it runs for every slot of a trace; here the carrier asks one slot at a time.

What is added for traffic that comes and goes: a UE that was idle for longer than a HARQ round
trip gets a fresh channel report before its next transmission (the periodic CSI a gNB has from
every connected UE, :meth:`UeMac.refresh_csi`), so its MCS follows the channel, not the SINR of
its last burst.
"""
from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import deque

import numpy as np

from .harq import OLLA_OFFSET_MAX_DB, OLLA_OFFSET_MIN_DB
from .phy import PhyTables

__all__ = ["UeMac", "TransportBlock"]

#: ``last_report_slot`` of a UE that has never reported
_NEVER = -10**9


class TransportBlock:
    """One transport block of a UE: what it carries and how its HARQ process stands.

    ``packets``: the queue entries whose bits it carries (each entry counts the blocks it waits
    for); ``prbs``: PRBs of its first transmission (a retransmission asks for as many); ``shared``: its
    first transmission shared PRBs with other UEs (MU-MIMO), so its ACK moves the MU offset.
    """

    __slots__ = ("first_slot", "mcs_i", "acc_lin", "tx_count", "bits", "prbs", "packets", "oldest_s", "shared")

    def __init__(self, first_slot: int, mcs_i: int, bits: int, prbs: int, packets: list, oldest_s: float,
                 shared: bool = False):
        self.first_slot, self.mcs_i, self.bits, self.prbs = first_slot, mcs_i, bits, prbs
        self.acc_lin, self.tx_count = 0.0, 0
        self.packets, self.oldest_s = packets, oldest_s
        self.shared = shared


class UeMac:
    """OLLA + HARQ state of one UE in a cell scheduled in the loop.

    Args:
        tables: PHY tables of the carrier (PDSCH or PUSCH).
        tbs_table: ``[M, num_prb + 1]`` int, TB bits per MCS and PRB count.
        rtt_slots: HARQ round trip and report delay, slots (>= 1).
        max_retx: retransmissions before a TB is lost.
        chase: soft-combine retransmissions.
        mcs_index: fixed MCS or ``None`` for OLLA.
        bler_target, step_db: OLLA target and up-step.
        initial_sinr_db: prior effective SINR; it only picks the MCS at which the first
            channel report is read (:meth:`stale`).
    """

    def __init__(self, tables: PhyTables, tbs_table: np.ndarray, rtt_slots: int, max_retx: int, chase: bool,
                 mcs_index: int | None, bler_target: float, step_db: float, initial_sinr_db: float):
        self.tables = tables
        lo, step, npts = tables.snr_grid_db
        self._lo, self._inv, self._top = lo, 1.0 / step, npts - 1
        self._tbler = tables.tbler.tolist()
        self._illa = tables.illa.tolist()
        self.tbs = tbs_table.tolist()                        # [M][n_prb + 1]
        self.rtt = max(1, int(rtt_slots))
        self.max_tx = int(max_retx) + 1
        self.chase = chase
        self.fixed = None if mcs_index is None else int(np.searchsorted(tables.mcs, mcs_index))
        self.up = float(step_db)
        self.down = float(step_db) * bler_target / (1.0 - bler_target)
        self.max_tb_bits = self.tbs[-1 if self.fixed is None else self.fixed][-1]   # on every PRB
        self.offset = 0.0
        self.mu_offset = 0.0                                 # MU-MIMO's own OLLA offset, on top of ``offset``
        self.last_db = float(initial_sinr_db)
        self.last_report_slot = _NEVER                       # slot of the newest report used
        self._reports: deque = deque()                       # (slot, sinr_eff_db, ack 1/0/-1, shared)
        self._due: list = []                                 # heap of (due_slot, seq, TransportBlock)
        self._seq = 0

    # --- reports and link adaptation ---------------------------------------------------------
    def feedback(self, t: int) -> None:
        """Apply the HARQ-ACKs and SINR reports of slots up to ``t - rtt`` (they have arrived)."""
        reports, edge = self._reports, t - self.rtt
        while reports and reports[0][0] <= edge:
            slot, g, ack, shared = reports.popleft()
            self.last_db, self.last_report_slot = g, slot
            if ack < 0:
                continue
            if shared:
                self.mu_offset = (max(self.mu_offset - self.down, OLLA_OFFSET_MIN_DB) if ack
                                  else min(self.mu_offset + self.up, OLLA_OFFSET_MAX_DB))
            elif ack == 1:
                self.offset = max(self.offset - self.down, OLLA_OFFSET_MIN_DB)
            else:
                self.offset = min(self.offset + self.up, OLLA_OFFSET_MAX_DB)

    def stale(self, t: int) -> bool:
        """The newest report (after :meth:`feedback`) is older than two round trips, or the UE has never sent one:
        the UE has been idle, or has data for the first time. A connected UE reports its channel before it has data
        (periodic CSI), so its first MCS follows the channel, not ``initial_sinr_db``: that estimate (geometry SINR
        plus the receive array's gain) was up to 7 dB above a cell-edge UE's effective SINR under interference,
        and its first frame was lost after every retransmission."""
        return self.last_report_slot < t - 2 * self.rtt

    def refresh_csi(self, slot: int, sinr_eff_db_row) -> None:
        """A channel report of ``slot`` (``sinr_eff_db_row``: ``[M]`` EESM over the whole carrier):
        the newest SINR OLLA starts from; the offset stays."""
        self.last_db = float(sinr_eff_db_row[self.mcs()])
        self.last_report_slot = slot

    def mcs(self, shift_db: float = 0.0, shared: bool = False) -> int:
        """Index into ``tables.mcs`` of a new TB's MCS (OLLA or the fixed one); ``shift_db``: how far the
        scheduler expects this allocation's SINR to differ from the reported one (MU-MIMO's power split and
        zero-forcing loss); ``shared``: the TB shares PRBs with other UEs, so the MU offset applies too (it
        learns, from the ACKs of shared TBs alone, how far the scheduler's MU estimate errs: layers that leak
        when the channel it precoded with has aged)."""
        if self.fixed is not None:
            return self.fixed
        j = round((self.last_db + shift_db - self.offset - (self.mu_offset if shared else 0.0) - self._lo)
                  * self._inv)
        return self._illa[0 if j < 0 else (self._top if j > self._top else j)]

    def prbs_for(self, mcs_i: int, bits: int, max_prb: int) -> int:
        """Fewest PRBs whose TB at ``mcs_i`` carries ``bits`` (``max_prb`` if none does)."""
        row = self.tbs[mcs_i]
        n = bisect_left(row, bits)
        return n if n <= max_prb else max_prb

    # --- HARQ ---------------------------------------------------------------------------------
    def retx_due(self, t: int) -> TransportBlock | None:
        """The oldest retransmission due by slot ``t`` (not removed)."""
        return self._due[0][2] if self._due and self._due[0][0] <= t else None

    def next_due_slot(self) -> int | None:
        return self._due[0][0] if self._due else None

    @property
    def pending(self) -> int:
        return len(self._due)

    def transmit(self, t: int, tb: TransportBlock, g_db: float, uniform: float,
                 report_db: float | None = None) -> bool | None:
        """Send ``tb`` (new, or the retransmission :meth:`retx_due` gave) in slot ``t`` with effective
        SINR ``g_db`` at its MCS; returns True (decoded), False (lost: HARQ gave up) or None
        (failed, retransmission scheduled ``rtt`` slots later). ``report_db``: the channel state the UE
        reports for this slot where it differs from ``g_db`` (a UE sharing PRBs reports its single-user
        SINR, as its CSI does; the MU loss is the scheduler's to estimate)."""
        if tb.tx_count:                                      # a retransmission leaves the due list
            heapq.heappop(self._due)
        tb.tx_count += 1
        k = tb.mcs_i
        if self.chase:
            tb.acc_lin += 10.0 ** (g_db / 10.0)
            gc = g_db if tb.tx_count == 1 else 10.0 * math.log10(tb.acc_lin)
        else:
            gc = g_db
        j = round((gc - self._lo) * self._inv)
        p = self._tbler[k][0 if j < 0 else (self._top if j > self._top else j)]
        ok = uniform >= p
        ack = (1 if ok else 0) if tb.tx_count == 1 else -1
        self._reports.append((t, g_db if report_db is None else report_db, ack, tb.shared))
        if ok:
            return True
        if tb.tx_count >= self.max_tx:
            return False
        self._seq += 1
        heapq.heappush(self._due, (t + self.rtt, self._seq, tb))
        return None
