"""Link adaptation (OLLA) and HARQ over precomputed per-slot effective SINRs.

Model (one UE, the whole carrier every slot, one HARQ entity, full buffer):

- Every slot carries exactly one transport block (TB): a pending retransmission
  if one is due, else a new TB. A slot that carries a retransmission carries no
  new data (``tb_bits = 0``).
- A new TB in slot ``t`` uses MCS ``m``: fixed (``link.mcs``) or chosen by outer-loop
  link adaptation, the rule of ``sionna.sys.OuterLoopLinkAdaptation``: the highest
  MCS whose TBLER at ``sinr_last_db - offset`` is <= ``bler_target``, where
  ``sinr_last_db`` is the latest reported effective SINR and ``offset`` moves up by
  ``olla_step_db`` on a NACK and down by ``olla_step_db * bler_target / (1 -
  bler_target)`` on an ACK, clamped to [-20, 20] dB. Only first transmissions
  update the offset, so the long-run first-transmission BLER meets the target.
- Feedback delay: the HARQ-ACK and the effective-SINR report of slot ``t`` reach
  the scheduler for slot ``t + n_rtt``, with ``n_rtt = ceil(harq_rtt_ms / slot)``.
- First transmission: a connected UE has reported its channel (periodic CSI) before
  it has data, so the first new TB's MCS follows the effective SINR of the slot it is
  sent in (at the MCS ``initial_sinr_db`` would choose), not that prior: the geometry
  SINR plus the receive array's gain was up to 7 dB above a cell-edge UE's effective
  SINR under interference, and its first TBs were lost after every retransmission.
- Success: a TB sent with effective SINR ``g`` (EESM at its MCS) is decoded with
  probability ``1 - TBLER(m, g)`` (Sionna's PHY abstraction tables).
- A failed TB is retransmitted ``n_rtt`` slots later (or in the next slot not
  already holding a retransmission) with the same MCS and size. With
  ``harq_combining="chase"`` the receiver soft-combines all copies; the combined
  effective SINR is the sum of the copies' linear effective SINRs (chase
  combining of identical copies adds their SINRs). After ``harq_max_retx``
  failed retransmissions the TB is lost.
- Delivery: a TB is delivered at the end of the slot of its successful copy plus
  the core-network delay; a lost TB's ``deliver_s`` is the end of its last copy
  plus that delay.

The recursion is a per-slot Python loop over plain floats and lists (the only
sequential part of trace generation, about 1 us per slot); the inputs arrive in
chunks so that the effective SINR table never has to exist for the whole trace.
"""
from __future__ import annotations

import math

import numpy as np

from .phy import PhyTables

__all__ = ["HarqOlla", "OLLA_OFFSET_MIN_DB", "OLLA_OFFSET_MAX_DB"]

#: offset clamp of sionna.sys.OuterLoopLinkAdaptation (offset_min, offset_max), dB
OLLA_OFFSET_MIN_DB, OLLA_OFFSET_MAX_DB = -20.0, 20.0


class HarqOlla:
    """The link-adaptation + HARQ state machine of one trace (see module docstring).

    Args:
        tables: PHY tables of the link.
        num_new_slots: slots that may start new TBs (the trace length); later slots
            only finish pending retransmissions.
        slot_s: slot duration, s.
        core_delay_s: added to every delivery, s.
        rtt_slots: ``n_rtt`` (>= 1).
        max_retx: retransmissions before a TB is lost.
        chase: soft-combine retransmissions.
        mcs_index: fixed MCS (an entry of ``tables.mcs``) or ``None`` for OLLA.
        bler_target, step_db: OLLA target and up-step.
        initial_sinr_db: prior effective SINR; it only picks the MCS at which the first
            transmission's channel report is read (module docstring).
    """

    def __init__(self, tables: PhyTables, num_new_slots: int, slot_s: float, core_delay_s: float,
                 rtt_slots: int, max_retx: int, chase: bool, mcs_index: int | None,
                 bler_target: float, step_db: float, initial_sinr_db: float) -> None:
        self.tables = tables
        self.n = num_new_slots
        self.slot_s = slot_s
        self.core_s = core_delay_s
        self.rtt = max(1, int(rtt_slots))
        self.max_retx = int(max_retx)
        self.chase = chase
        self.fixed = None if mcs_index is None else int(np.searchsorted(tables.mcs, mcs_index))
        if self.fixed is not None and tables.mcs[self.fixed] != mcs_index:
            raise ValueError(f"MCS {mcs_index} has no BLER table")
        self.up = float(step_db)
        self.down = float(step_db) * bler_target / (1.0 - bler_target)
        self.offset = 0.0
        self.last_db = float(initial_sinr_db)
        self.reported = False                     # no channel report read yet
        self.due: dict[int, list] = {}            # slot -> [first_slot, mcs_i, acc_lin, tx_count]
        self.t = 0
        n = num_new_slots
        self.tb_bits = [0] * n
        self.deliver_s = [0.0] * n
        self.lost = [False] * n
        self.mcs_i = [-1] * n
        self.tx_count = [0] * n
        self.retx = [False] * n
        self.sinr_eff_db = [0.0] * n
        self._report: dict[int, tuple] = {}       # slot -> (sinr_eff_db, first-tx ack or -1)
        self._whole = None                        # [M, 2] TB bits on no PRBs / on the whole carrier

    @property
    def pending(self) -> int:
        """TBs still waiting for a retransmission."""
        return len(self.due)

    def step_chunk(self, sinr_eff_db: np.ndarray, uniform: np.ndarray) -> None:
        """Run the next ``len(uniform)`` slots (the UE has the whole carrier in every slot).

        Args:
            sinr_eff_db: ``[chunk, M]`` float32, EESM effective SINR (dB) per slot and MCS.
            uniform: ``[chunk]`` float64 in [0, 1), the slot's decoding draw.
        """
        if self._whole is None:
            self._whole = np.stack([np.zeros_like(self.tables.tbs_bits), self.tables.tbs_bits], axis=1)
        self.step_chunk_shared(sinr_eff_db, uniform, np.ones(len(uniform), np.int64), self._whole)

    def step_chunk_shared(self, sinr_eff_db: np.ndarray, uniform: np.ndarray, prbs: np.ndarray,
                          tbs_table: np.ndarray) -> None:
        """Run the next slots of a UE that shares the carrier (:mod:`.cell`).

        The UE transmits only in slots where it was given PRBs: a new TB's size is that of its MCS
        on ``prbs[t]`` PRBs (the index into ``tbs_table``), and a retransmission due in a slot
        without PRBs waits for the UE's next allocation (it is decoded at its MCS's BLER on the
        effective SINR of the PRBs it then gets; NR lets a retransmission take other resources).
        :meth:`step_chunk` is the case of one UE with the whole carrier in every slot.

        Args:
            sinr_eff_db: ``[chunk, M]`` float32, EESM effective SINR (dB) over the slot's allocation.
            uniform: ``[chunk]`` float64 in [0, 1), the slot's decoding draw.
            prbs: ``[chunk]`` int, PRBs allocated to the UE in each slot (0: not scheduled).
            tbs_table: ``[M, num_prb + 1]`` int, TB bits per MCS and PRB count.
        """
        tb_table = self.tables
        lo, step, npts = tb_table.snr_grid_db
        inv, top = 1.0 / step, npts - 1
        tbler, illa = tb_table.tbler.tolist(), tb_table.illa.tolist()
        tbs = tbs_table.tolist()
        m = sinr_eff_db.shape[1]
        flat, u, alloc = sinr_eff_db.ravel().tolist(), uniform.tolist(), prbs.tolist()  # speed trick: plain lists
        due, report = self.due, self._report
        rtt, n, slot, core, max_tx = self.rtt, self.n, self.slot_s, self.core_s, self.max_retx + 1
        fixed, chase, up, down = self.fixed, self.chase, self.up, self.down
        offset, last_db, reported = self.offset, self.last_db, self.reported
        out_bits, out_del, out_lost = self.tb_bits, self.deliver_s, self.lost
        out_mcs, out_tx, out_retx, out_eff = self.mcs_i, self.tx_count, self.retx, self.sinr_eff_db
        log10 = math.log10
        t = self.t
        for i in range(len(u)):
            fb = report.pop(t - rtt, None)
            if fb is not None:
                last_db = fb[0]
                if fb[1] == 1:
                    offset = max(offset - down, OLLA_OFFSET_MIN_DB)
                elif fb[1] == 0:
                    offset = min(offset + up, OLLA_OFFSET_MAX_DB)
            tb = due.pop(t, None)
            if alloc[i] == 0:                                    # not scheduled: nothing is sent
                if tb is not None:
                    s = t + 1
                    while s in due:
                        s += 1
                    due[s] = tb
                if t < n:
                    out_del[t] = (t + 1) * slot + core
                t += 1
                continue
            base = i * m
            end_s = (t + 1) * slot + core
            if tb is not None:                                   # retransmission
                k = tb[1]
                g = flat[base + k]
                if chase:
                    tb[2] += 10.0 ** (g / 10.0)
                    gc = 10.0 * log10(tb[2])
                else:
                    gc = g
                j = round((gc - lo) * inv)
                p = tbler[k][0 if j < 0 else (top if j > top else j)]
                tb[3] += 1
                first = tb[0]
                if u[i] >= p or tb[3] >= max_tx:
                    out_del[first] = end_s
                    out_tx[first] = tb[3]
                    out_lost[first] = u[i] < p
                else:
                    s = t + rtt
                    while s in due:
                        s += 1
                    due[s] = tb
                report[t] = (g, -1)
                if t < n:
                    out_retx[t] = True
                    out_del[t] = end_s
                    out_mcs[t] = k
                    out_eff[t] = g
            elif t < n:                                          # new transport block
                if fixed is None:
                    if not reported:                             # the CSI a connected UE reported
                        j = round((last_db - offset - lo) * inv)
                        last_db = flat[base + illa[0 if j < 0 else (top if j > top else j)]]
                        reported = True
                    j = round((last_db - offset - lo) * inv)
                    k = illa[0 if j < 0 else (top if j > top else j)]
                else:
                    k = fixed
                g = flat[base + k]
                j = round((g - lo) * inv)
                p = tbler[k][0 if j < 0 else (top if j > top else j)]
                out_bits[t] = tbs[k][alloc[i]]
                out_mcs[t] = k
                out_eff[t] = g
                out_del[t] = end_s
                if u[i] >= p:
                    out_tx[t] = 1
                    report[t] = (g, 1)
                else:
                    report[t] = (g, 0)
                    if max_tx == 1:
                        out_tx[t] = 1
                        out_lost[t] = True
                    else:
                        s = t + rtt
                        while s in due:
                            s += 1
                        due[s] = [t, k, 10.0 ** (g / 10.0), 1]
            t += 1
        self.t, self.offset, self.last_db, self.reported = t, offset, last_db, reported

    def give_up_pending(self) -> None:
        """Mark TBs still waiting (the trace's channel ran out) as lost at the current time."""
        end_s = self.t * self.slot_s + self.core_s
        for tb in self.due.values():
            self.deliver_s[tb[0]] = max(end_s, (tb[0] + 1) * self.slot_s + self.core_s)
            self.tx_count[tb[0]] = tb[3]
            self.lost[tb[0]] = True
        self.due.clear()

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-slot results of the first ``num_new_slots`` slots.

        ``tb_bits`` int64, ``deliver_s`` float64, ``lost`` bool, ``mcs`` int16 (MCS
        index, -1 if idle), ``tx_count`` int8 (transmissions the slot's new TB needed,
        0 if none), ``retx`` bool (slot busy with a retransmission), ``sinr_eff_db``
        float32 (EESM SINR of the slot's transmission).
        """
        mcs_i = np.asarray(self.mcs_i, np.int64)
        mcs = np.where(mcs_i >= 0, self.tables.mcs[np.clip(mcs_i, 0, None)], -1).astype(np.int16)
        return {
            "tb_bits": np.asarray(self.tb_bits, np.int64),
            "deliver_s": np.asarray(self.deliver_s, np.float64),
            "lost": np.asarray(self.lost, bool),
            "mcs": mcs,
            "tx_count": np.asarray(self.tx_count, np.int8),
            "retx": np.asarray(self.retx, bool),
            "sinr_eff_db": np.asarray(self.sinr_eff_db, np.float32),
        }
