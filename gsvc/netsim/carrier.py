"""The shared carrier of a traffic-aware cell: scheduling, link adaptation and HARQ inside the run.

One object owns the carrier, as a SimPy resource owns its queue: each stream's sender puts
packets into its UE's queue (:meth:`CarrierPort.transmit`, the same call as
:meth:`gsvc.netsim.link.Link.transmit`), and gets one callback per burst once every packet of it
has arrived or is known lost. The channel (SINR of every UE on every PRB group in every slot) was
drawn before the run (:func:`gsvc.netsim.channel.cell.draw_cell_channel`); what depends on the
traffic happens here, slot by slot:

1. The UEs that have data the scheduler can see (or a HARQ retransmission due) are *active*.
   Downlink: the gNB sees its own queues. Uplink with ``cell.bsr_period_ms > 0``: it sees what the
   UE last reported (below).
2. :func:`~gsvc.netsim.channel.scheduler.allocate_slot` splits the PRB groups among the active UEs
   (``pf``, ``pf-delay``, ``max-rate``, ``round-robin``), each getting no more than its queue needs;
   PF averages move only in slots in which the UE is active (an idle UE keeps its average, so it
   is not favoured for having been idle). Work-conserving: a lone active UE can take every group;
   a group no active UE needs stays empty.
3. Each scheduled UE sends one transport block: its due retransmission, or a new TB at the MCS
   OLLA picks on the PRBs it got (TS 38.214 size), filled from its queue in order (the rest is
   padding). On the uplink a power-limited UE is given no more PRBs than its maximum power fills
   at the open-loop power spectral density (its power headroom); more would lower the SINR below
   the one its MCS was chosen for (two cell-edge UEs of the ``edge-server-multiuser`` preset lost
   every frame that way). EESM over its own allocation, the TBLER of Sionna's tables, the UE's own decoding
   draw for the slot (:class:`~gsvc.netsim.channel.mac.UeMac`).
4. A decoded TB delivers its bits at the end of the slot plus ``link.core_delay_ms``; a packet
   arrives when every TB carrying its bits has; it is lost if any of them was.

With ``cell.mu_mimo_ues`` > 1 (MU-MIMO: downlink of a beamforming sector, or uplink into the sector's
receive elements, :mod:`gsvc.netsim.channel.mumimo`), between steps 2 and 3 UEs with more data than their PRBs
carry join other UEs' groups where the scheduler's summed metric grows; a UE on shared groups decodes at its
zero-forced SINR (uplink: each at its own power, power-capped as in step 3) and takes an MCS lowered by the
sector's MU-loss estimate and its own MU OLLA offset.

Slots in which no UE can be scheduled cost nothing: the carrier sleeps until the next put, the
next retransmission due or the next moment a queued packet becomes ready (one SimPy event per
busy slot, none per idle one).

Uplink buffer status (``link.direction="uplink"``, ``cell.bsr_period_ms > 0``): the scheduler's
view of a UE's buffer is what the UE reported minus what it has been granted since. A UE
reports (a) every ``bsr_period_ms`` while it holds data (periodic BSR, TS 38.321 Sec. 5.4.5) and (b)
when data reaches a buffer the scheduler thinks empty: a scheduling request, after which the
report reaches the scheduler ``cell.sr_delay_ms`` later (SR period, grant and the BSR in it, in
one delay). Not modelled: logical channel groups and BSR quantisation tables, the SR's own
PUCCH resources, grant-free/configured grants, padding BSRs, and BSR MAC CE overhead.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Callable

import numpy as np

from .channel.cell import power_cap_prbs
from .channel.mac import TransportBlock, UeMac
from .channel.mumimo import layer_sinr, pair_groups
from .channel.phy import effective_sinr_alloc_db
from .channel.scheduler import achievable_rate, allocate_slot, scheduling_rule
from .link import Burst

__all__ = ["SharedCarrier", "CarrierPort"]

#: slots of decoding draws generated at a time per UE
_DRAW_CHUNK = 4096
_EPS = 1e-9


class _Burst:
    """The packets of one :meth:`CarrierPort.transmit` call, until every one has arrived or been lost."""

    __slots__ = ("arrive", "lost", "left", "tx_start_s", "tx_done_s", "on_burst")

    def __init__(self, n: int, on_burst: Callable):
        self.arrive, self.lost = [0.0] * n, [False] * n
        self.left, self.tx_start_s, self.tx_done_s, self.on_burst = n, math.inf, 0.0, on_burst


class _Packet:
    """One packet in a UE's queue: bits not yet in a TB, TBs it waits for, its fate so far."""

    __slots__ = ("burst", "idx", "ready_s", "bits", "waiting", "arrive_s", "lost")

    def __init__(self, burst: _Burst, idx: int, ready_s: float, bits: int):
        self.burst, self.idx, self.ready_s, self.bits = burst, idx, ready_s, bits
        self.waiting, self.arrive_s, self.lost = 0, 0.0, False


class _Ue:
    """Queue, buffer-status view and scheduler state of one UE."""

    __slots__ = ("queue", "mac", "avg", "last_rate", "draws", "draw0", "rng", "view_bits", "sr_at_s",
                 "zero_since_s", "bsr_k", "prb_slots", "shared_prb_slots", "bits_delivered", "tx_db_sum", "tx_count")

    def __init__(self, mac: UeMac, rng: np.random.Generator):
        self.queue: deque[_Packet] = deque()
        self.mac, self.rng = mac, rng
        self.avg, self.last_rate = 1.0, 0.0                  # PF T(u), Sionna's initial value, and R(u)
        self.draws, self.draw0 = [], 0                       # decoding draws of slots draw0 ..
        self.view_bits, self.sr_at_s, self.zero_since_s, self.bsr_k = 0, None, 0.0, -1
        self.prb_slots, self.shared_prb_slots, self.bits_delivered = 0, 0, 0
        self.tx_db_sum, self.tx_count = 0.0, 0                 # effective SINR of its transmissions, dB


class CarrierPort:
    """One UE's way onto the carrier: the :class:`~gsvc.netsim.link.Link` interface of a shared cell."""

    def __init__(self, carrier: "SharedCarrier", ue: int):
        self.carrier, self.ue = carrier, ue

    def transmit(self, packet_bytes, ready_s, on_burst: Callable[[Burst], None]) -> None:
        """Queue packets (sizes in bytes, in order) ready at ``ready_s`` (one time, or one per packet);
        ``on_burst(burst)`` is called once all of them have arrived or are known lost."""
        self.carrier.put(self.ue, packet_bytes, ready_s, on_burst)


class SharedCarrier:
    """The carrier of one cell, scheduled slot by slot among the UEs with data (module docstring).

    Args:
        env: the SimPy environment.
        radio: the channel drawn before the run (:class:`~gsvc.netsim.channel.cell.CellChannel`).
        link: the link spec (numerology, HARQ, OLLA, core delay, direction).
        cell: the cell spec (scheduler, PF discount, PDB, buffer status reporting).
    """

    def __init__(self, env, radio, link, cell):
        from .channel.linklevel import _streams
        self.env, self.radio = env, radio
        self.slot_s = radio.slot_s
        self.n_slots = radio.num_slots
        self.core_s = link.core_delay_ms / 1e3
        self.rule = scheduling_rule(cell.scheduler)
        self.beta = cell.pf_beta
        self.pdb_s = cell.pdb_ms / 1e3
        self.rtt = link.harq_rtt_slots
        uplink = link.direction == "uplink"
        self.bsr_s = cell.bsr_period_ms / 1e3 if uplink else 0.0
        self.sr_s = cell.sr_delay_ms / 1e3
        self.max_prb = radio.num_prb
        self.sizes = radio.group_prbs
        self.beta_mcs = radio.tables.beta
        self.backoff = radio.backoff_db if uplink and np.any(radio.backoff_db) else None
        self.mu_max = cell.mu_mimo_ues if radio.beam_h is not None else 1
        self.uplink = uplink                                  # MU-MIMO: a ZF receiver, not ZF precoders
        self.csi_lag_slots = round(cell.csi_delay_ms / 1e3 / self.slot_s)  # how old the channel MU precodes with
        # a power-limited UE gets no more PRBs than its maximum power fills at the open-loop PSD (the power
        # headroom it reports, TS 38.321 Sec. 5.4.6): more would spread its power thinner than the SINR the
        # MCS was chosen for, and at the cell edge fail every transmission and retransmission
        self.prb_cap = None if self.backoff is None else power_cap_prbs(self.backoff)
        fixed = None if link.mcs == "olla" else int(link.mcs)
        self.ues = [_Ue(UeMac(radio.tables, radio.tbs, self.rtt, link.harq_max_retx, link.harq_combining == "chase",
                              fixed, link.bler_target, link.olla_step_db, float(radio.initial_sinr_db[u])),
                        _streams(radio.seeds[u])[2])
                    for u in range(radio.num_ue)]
        self.ports = [CarrierPort(self, u) for u in range(radio.num_ue)]
        self._busy: set[int] = set()                          # UEs with queued packets or pending HARQ
        self._wake = None
        self.prb_slots_used = 0
        self.last_busy_slot = -1
        env.process(self._run())

    # --- the way in ---------------------------------------------------------------------------
    def put(self, u: int, packet_bytes, ready_s, on_burst: Callable[[Burst], None]) -> None:
        n = len(packet_bytes)
        burst = _Burst(n, on_burst)
        times = ready_s if isinstance(ready_s, (list, tuple)) else [ready_s] * n
        q = self.ues[u].queue
        for i, (size, r) in enumerate(zip(packet_bytes, times)):
            q.append(_Packet(burst, i, float(r), int(size) * 8))
        self._busy.add(u)
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    # --- the loop -----------------------------------------------------------------------------
    def _run(self):
        env, slot = self.env, self.slot_s
        t = 0
        while True:
            t = max(t, math.ceil(env.now / slot - _EPS))
            nxt = self._next_slot(t)
            if nxt is None or nxt * slot > env.now + _EPS:
                self._wake = env.event()
                if nxt is not None:
                    wake = self._wake
                    env.timeout(nxt * slot - env.now).callbacks.append(
                        lambda _e, w=wake: None if w.triggered else w.succeed())
                yield self._wake
                self._wake = None
                continue
            self._slot(t)
            t += 1

    def _eligible_bits(self, ue: _Ue, ts: float, cap: int) -> int:
        """Bits at the head of the queue ready by ``ts`` (head-of-line order), counted up to ``cap``."""
        bits = 0
        for p in ue.queue:
            if p.ready_s > ts + _EPS or bits >= cap:
                break
            bits += p.bits
        return bits

    def _visible_bits(self, ue: _Ue, ts: float, cap: int) -> int:
        """Bits the scheduler knows UE ``ue`` holds at ``ts`` (updates its buffer-status view)."""
        have = self._eligible_bits(ue, ts, cap)
        if not self.bsr_s:
            return have
        k = math.floor(ts / self.bsr_s + _EPS)
        if k > ue.bsr_k and have:                             # a periodic report since the last look
            ue.bsr_k, ue.view_bits, ue.sr_at_s = k, have, None
        elif ue.view_bits <= 0 and have:
            if ue.sr_at_s is None:
                ue.sr_at_s = self._sr_due_s(ue)
            if ts + _EPS >= ue.sr_at_s:
                ue.view_bits, ue.sr_at_s = have, None
        return min(have, max(ue.view_bits, 0))

    def _sr_due_s(self, ue: _Ue) -> float:
        """When a scheduling request for UE ``ue``'s head-of-line data makes it visible: ``cell.sr_delay_ms``
        after the data was ready or the scheduler's view of the buffer ran out, whichever was later."""
        return max(ue.queue[0].ready_s, ue.zero_since_s) + self.sr_s

    def _next_slot(self, t: int) -> int | None:
        """First slot >= ``t`` in which some UE may be scheduled, as far as is known now."""
        slot, best = self.slot_s, None
        for u in self._busy:
            ue = self.ues[u]
            cands = []
            due = ue.mac.next_due_slot()
            if due is not None:
                cands.append(due)
            if ue.queue:
                ready = math.ceil(ue.queue[0].ready_s / slot - _EPS)
                if self.bsr_s and ue.view_bits <= 0:         # invisible until a report reaches the scheduler
                    sr = ue.sr_at_s if ue.sr_at_s is not None else self._sr_due_s(ue)
                    k = math.floor(t * slot / self.bsr_s + _EPS)
                    periodic = t if k > ue.bsr_k else math.ceil((k + 1) * self.bsr_s / slot - _EPS)
                    ready = max(ready, min(math.ceil(sr / slot - _EPS), periodic))
                cands.append(ready)
            if cands:
                c = max(t, min(cands))
                best = c if best is None or c < best else best
        return best

    def _draw(self, ue: _Ue, t: int) -> float:
        """UE ``ue``'s decoding draw of slot ``t`` (its own stream, indexed by slot as a trace's is)."""
        while t >= ue.draw0 + len(ue.draws):
            ue.draw0 += len(ue.draws)
            ue.draws = ue.rng.random(_DRAW_CHUNK).tolist()
        return ue.draws[t - ue.draw0]

    def _slot(self, t: int) -> None:
        """Schedule, transmit and decode slot ``t`` (module docstring, steps 1-4)."""
        slot, radio = self.slot_s, self.radio
        ts = t * slot
        j = t % self.n_slots
        rep = (t - self.rtt) % self.n_slots if t >= self.rtt else 0
        max_prb = self.max_prb
        active, needs, retx, bits_of, hol = [], [], [], [], []
        for u in sorted(self._busy):
            ue = self.ues[u]
            mac = ue.mac
            mac.feedback(t)
            tb = mac.retx_due(t)
            if tb is not None:
                active.append(u)
                needs.append(tb.prbs)
                retx.append(tb)
                bits_of.append(tb.bits)
                hol.append(ts - tb.oldest_s)
                continue
            bits = self._visible_bits(ue, ts, mac.max_tb_bits)
            if bits <= 0:
                continue
            if mac.stale(t):                                  # back from idle: the channel as reported now
                row = effective_sinr_alloc_db(radio.sinr[rep, u][None], self.beta_mcs,
                                              self.sizes[None])[0]
                mac.refresh_csi(t - self.rtt, row)
            active.append(u)
            needs.append(mac.prbs_for(mac.mcs(), bits, max_prb if self.prb_cap is None else self.prb_cap[u]))
            retx.append(None)
            bits_of.append(bits)
            hol.append(ts - ue.queue[0].ready_s)
        if not active:
            self._settle()
            return
        idx = np.asarray(active)
        for u in active:                                      # PF averages move only while active
            ue = self.ues[u]
            ue.avg = self.beta * ue.avg + (1.0 - self.beta) * ue.last_rate
        avg = np.array([self.ues[u].avg for u in active])
        hol_weight = self.rule.hol_weight
        weight = None if hol_weight is None else np.array([hol_weight(self.pdb_s, h) for h in hol])
        rate = achievable_rate(self.sizes, radio.sinr[rep, idx])                         # [A, G]
        alloc = allocate_slot(self.rule, t, self.sizes, rate, avg, needs, weight)       # [A, G] PRBs
        sets = None
        if self.mu_max > 1 and len(active) > 1:
            known = (t - self.csi_lag_slots) % self.n_slots if t >= self.csi_lag_slots else 0
            sets = self._pair(known, rep, idx, alloc, needs, retx, avg, weight, rate)
        prbs = alloc.sum(axis=1)
        given = (alloc > 0)
        for a, u in enumerate(active):
            self.ues[u].last_rate = float((rate[a] * given[a]).sum())
        sched = np.flatnonzero(prbs)
        if not len(sched):
            self._settle()
            return
        sinr = radio.sinr[j, idx[sched]]                                                 # [S, G]
        cap = None
        if self.backoff is not None:                                                    # uplink power cap
            cap = (10.0 ** (-self.backoff[idx[sched], prbs[sched]] / 10.0))[:, None].astype(np.float32)
            sinr = sinr * cap
        shift_db = report_db = shared = None
        if sets:
            sinr, shift_db, report_db, shared = self._mu_rows(j, known, rep, idx, sched, alloc, sets, sinr, cap)
        eff = effective_sinr_alloc_db(sinr, self.beta_mcs, alloc[sched])                 # [S, M] dB
        end_s = (t + 1) * slot
        deliver_s = end_s + self.core_s
        self.prb_slots_used += int(self.sizes[given.any(axis=0)].sum())
        self.last_busy_slot = t
        for row, a in enumerate(sched.tolist()):
            u = active[a]
            ue = self.ues[u]
            n = int(prbs[a])
            ue.prb_slots += n
            tb = retx[a]
            if tb is None:
                on_shared = shared is not None and bool(shared[row])
                k = ue.mac.mcs()
                if on_shared:
                    k = ue.mac.mcs(float(shift_db[row, k]), shared=True)
                tb = self._fill(ue, t, k, ue.mac.tbs[k][n], n, end_s, ts, on_shared)
            g_db = float(eff[row, tb.mcs_i])
            ue.tx_db_sum += g_db
            ue.tx_count += 1
            ok = ue.mac.transmit(t, tb, g_db, self._draw(ue, t),
                                 None if report_db is None else float(report_db[row, tb.mcs_i]))
            if ok is not None:
                self._resolve(ue, tb, ok, deliver_s)
        self._settle()

    # --- MU-MIMO (cell.mu_mimo_ues > 1) -------------------------------------------------------
    def _pair(self, known: int, rep: int, idx: np.ndarray, alloc: np.ndarray, needs: list, retx: list,
              avg: np.ndarray, weight, rate: np.ndarray) -> dict:
        """Let UEs with more data join other UEs' groups (:func:`~.channel.mumimo.pair_groups`, on the channel
        the sector knows: its own to each UE as of slot ``known``, ``cell.csi_delay_ms`` before (the run's
        first slots know slot 0's, and where the trace repeats the known channel is the end of the trace's),
        and the interference each UE reported at slot ``rep``); ``alloc`` and ``rate`` (``[A, G]``) are updated
        in place (a member's rate at its estimated MU SINR). Returns ``{K: (groups [N], members [N, K],
        estimated SINR [N, K])}`` of the groups carrying ``K`` > 1 UEs."""
        radio = self.radio
        owner = np.where(alloc.any(axis=0), alloc.argmax(axis=0), -1)
        new_tb = np.array([tb is None for tb in retx])
        shareable = (owner >= 0) & new_tb[np.maximum(owner, 0)]
        left = np.asarray(needs) - alloc.sum(axis=1)
        backoff_db = np.array([self.ues[u].mac.mu_offset for u in idx.tolist()])
        members, est = pair_groups(radio.beam_h[known, idx], radio.beam_den[rep, idx], owner, shareable, new_tb,
                                   np.where(new_tb, left, 0), self.sizes, avg, weight, self.rule.priority,
                                   radio.snr_scale, self.mu_max, backoff_db, self.uplink)
        count = (members >= 0).sum(axis=1)
        sets = {}
        for k in np.unique(count[count > 1]).tolist():
            gs = np.flatnonzero(count == k)
            mem = members[gs, :k]
            alloc[mem, gs[:, None]] = self.sizes[gs][:, None]
            rate[mem, gs[:, None]] = self.sizes[gs][:, None] * np.log2(1.0 + est[gs, :k])
            sets[k] = (gs, mem, est[gs, :k])
            for a, n in zip(mem.ravel().tolist(), np.repeat(self.sizes[gs], k).tolist()):
                self.ues[int(idx[a])].shared_prb_slots += n
        return sets

    def _mu_rows(self, j: int, known: int, rep: int, idx: np.ndarray, sched: np.ndarray, alloc: np.ndarray,
                 sets: dict, sinr: np.ndarray, cap: np.ndarray | None = None):
        """The scheduled UEs' SINR rows (``[S, G]``) with each shared group at its MU SINR now (downlink:
        precoders from the channel of slot ``known``, channels of slot ``j``; uplink: the ZF receiver of slot
        ``j``'s channels, each row times its power cap ``cap`` ``[S, 1]``); two ``[S, M]`` dB tables by row and
        MCS index:
        how far the sector's estimate of the row's effective SINR falls below its single-user one (MCS choice),
        and the single-user effective SINR the UE reports (its channel state, for OLLA); and which rows share a
        group (``[S]`` bool: their TBs take the MU offset)."""
        radio = self.radio
        row_of = np.full(alloc.shape[0], -1)
        row_of[sched] = np.arange(len(sched))
        su_now = sinr
        sinr = sinr.copy()
        h_known = radio.beam_h[known, idx[sched]]
        su_est = radio.snr_scale * (h_known.real ** 2 + h_known.imag ** 2).sum(-1) / radio.beam_den[rep, idx[sched]]
        mu_est = su_est.copy()
        shared = np.zeros(len(sched), bool)
        for gs, mem, est in sets.values():
            ue = idx[mem]                                                                    # [N, K]
            rows = row_of[mem]
            now = layer_sinr(radio.beam_h[j, ue, gs[:, None]].astype(np.complex128),
                             radio.beam_h[known, ue, gs[:, None]],
                             radio.beam_den[j, ue, gs[:, None]], radio.snr_scale, self.uplink)   # [N, K]
            if cap is not None:                                              # the uplink's power cap, per row
                now = now * cap[rows, 0]
            sinr[rows, gs[:, None]] = np.maximum(now, 1e-12)
            mu_est[rows, gs[:, None]] = est
            shared[rows.ravel()] = True
        mine = alloc[sched]
        shift_db = (effective_sinr_alloc_db(mu_est, self.beta_mcs, mine)
                    - effective_sinr_alloc_db(su_est, self.beta_mcs, mine))
        return sinr, shift_db, effective_sinr_alloc_db(su_now, self.beta_mcs, mine), shared

    def _fill(self, ue: _Ue, t: int, k: int, capacity: int, n_prb: int, end_s: float, ts: float,
              shared: bool = False) -> TransportBlock:
        """A new TB of ``capacity`` bits at MCS index ``k``, filled from the head of the UE's queue (``shared``:
        on PRBs shared with other UEs)."""
        left, packets, oldest = capacity, [], math.inf
        q = ue.queue
        while left > 0 and q and q[0].ready_s <= ts + _EPS:
            p = q[0]
            take = p.bits if p.bits <= left else left
            p.bits -= take
            left -= take
            p.waiting += 1
            packets.append(p)
            oldest = min(oldest, p.ready_s)
            b = p.burst
            if b.tx_start_s > ts:
                b.tx_start_s = ts
            if p.bits == 0:
                q.popleft()
                if end_s > b.tx_done_s:
                    b.tx_done_s = end_s
        carried = capacity - left
        if self.bsr_s:
            ue.view_bits -= carried
            if ue.view_bits <= 0:
                ue.zero_since_s = end_s
        return TransportBlock(t, k, carried, n_prb, packets, oldest, shared)

    def _resolve(self, ue: _Ue, tb: TransportBlock, ok: bool, deliver_s: float) -> None:
        """TB ``tb`` was decoded (``ok``) or lost for good: its packets learn their fate."""
        if ok:
            ue.bits_delivered += tb.bits
        for p in tb.packets:
            p.waiting -= 1
            if deliver_s > p.arrive_s:
                p.arrive_s = deliver_s
            if not ok:
                p.lost = True
            if p.waiting == 0 and p.bits == 0:
                b = p.burst
                b.arrive[p.idx], b.lost[p.idx] = p.arrive_s, p.lost
                b.left -= 1
                if b.left == 0:
                    lost = sum(b.lost)
                    b.on_burst(tuple.__new__(Burst, (b.tx_start_s, b.tx_done_s, tuple(b.arrive), tuple(b.lost),
                                                     max(b.arrive), lost)))

    def _settle(self) -> None:
        """Drop UEs with nothing queued and no HARQ pending from the busy set."""
        for u in [u for u in self._busy if not self.ues[u].queue and not self.ues[u].mac.pending]:
            self._busy.discard(u)

    # --- what the run reports -----------------------------------------------------------------
    def stats(self, span_s: float) -> dict:
        """PRB shares, goodputs and the cell's PRB utilization over ``span_s`` (at least until the
        last busy slot), the mean number of UEs on a used PRB (above 1 only with MU-MIMO), each UE's share of
        its PRBs that it shared with other UEs, and the mean (in dB) of the effective SINR of each UE's
        transmissions: EESM over the PRBs it was given at their MCS, at the zero-forced SINR where shared (what
        its transport blocks saw, against the wideband channel ``sinr_db_mean`` describes)."""
        span_s = max(span_s, (self.last_busy_slot + 1) * self.slot_s)
        prb_slots = self.max_prb * span_s / self.slot_s
        used = sum(ue.prb_slots for ue in self.ues)
        return {"prb_utilization": self.prb_slots_used / prb_slots if prb_slots else float("nan"),
                "ues_per_prb_mean": used / self.prb_slots_used if self.prb_slots_used else float("nan"),
                "prb_share": [ue.prb_slots / prb_slots for ue in self.ues],
                "shared_prb_fraction": [ue.shared_prb_slots / ue.prb_slots if ue.prb_slots else 0.0 for ue in self.ues],
                "scheduled_sinr_db_mean": [ue.tx_db_sum / ue.tx_count if ue.tx_count else float("nan")
                                           for ue in self.ues],
                "goodput_mbps": [ue.bits_delivered / span_s / 1e6 for ue in self.ues],
                "span_s": span_s}
