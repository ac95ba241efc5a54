"""Downlink schedulers of a shared carrier: who gets each PRB group in each slot.

Every UE is taken to have data in every slot (full buffer): the traces are drawn before the
event loop, so the scheduler cannot see the video queues. A UE's share is therefore what a
saturated cell gives it; a traffic-aware scheduler would hand an idle UE's PRBs to the others
(the cell's capacity is an upper bound on what the streams can use, and each stream's delay is
that of its share).

- ``"pf"``: proportional fair, the rule of ``sionna.sys.PFSchedulerSUMIMO`` (Jalali et al. 2000):
  each PRB group goes to the UE with the highest achievable rate on it over its beta-discounted
  past rate, ``T_t(u) = beta T_{t-1}(u) + (1 - beta) R_{t-1}(u)`` (starting at 1, as Sionna's). The
  achievable rate of UE ``u`` on group ``g`` is ``prbs_g * log2(1 + sinr)`` with the SINR the UE
  reported ``csi_delay_slots`` earlier (the same delay as its HARQ-ACK and OLLA reports); ``R`` is
  the achievable rate of what it was given.
- ``"round-robin"``: group ``g`` of slot ``t`` goes to UE ``(t * G + g) mod U``: every UE gets every
  group equally often, whatever its channel.
- ``"max-rate"``: each group goes to the UE with the highest achievable rate on it (the greedy
  reference PF is compared with: most throughput, least fairness).
- ``"dedicated"``: every UE has every group in every slot (a carrier of its own).
"""
from __future__ import annotations

import numpy as np

__all__ = ["Scheduler"]


class Scheduler:
    """Allocates the PRB groups of consecutive chunks of slots (state carries across chunks).

    Args:
        kind: ``"pf"``, ``"max-rate"``, ``"round-robin"`` or ``"dedicated"``.
        group_prbs: ``[G]`` int, PRBs in each group.
        num_ue: UEs sharing the carrier.
        csi_delay_slots: slots between an SINR and the scheduling decision that uses it (>= 1).
        beta: PF discount factor.
    """

    def __init__(self, kind: str, group_prbs, num_ue: int, csi_delay_slots: int, beta: float = 0.98):
        if kind not in ("pf", "max-rate", "round-robin", "dedicated"):
            raise ValueError(f"cell.scheduler={kind!r} is not 'pf', 'max-rate', 'round-robin' or 'dedicated'")
        self.kind = kind
        self.sizes = np.asarray(group_prbs, np.int64)
        self.num_ue = int(num_ue)
        self.delay = max(1, int(csi_delay_slots))
        self.beta = float(beta)
        self.avg = np.ones(self.num_ue)                    # T(u), Sionna's initial value
        self.last_rate = np.zeros(self.num_ue)             # R(u) of the previous slot
        self.t = 0
        self._history = None                               # [delay, U, G] last SINRs, for the CSI delay

    def allocate(self, sinr: np.ndarray) -> np.ndarray:
        """PRBs of each group given to each UE in each slot of the chunk.

        Args:
            sinr: ``[T, U, G]`` float32, linear SINR of every UE on every group in the chunk's slots.

        Returns:
            ``prbs: [T, U, G]`` int16, ``group_prbs[g]`` where UE ``u`` has group ``g``, else 0.
        """
        t_len, u_len, g_len = sinr.shape
        if self.kind == "dedicated":
            out = np.broadcast_to(self.sizes.astype(np.int16), (t_len, u_len, g_len)).copy()
        elif self.kind == "round-robin":
            slots = self.t + np.arange(t_len)
            owner = (slots[:, None] * g_len + np.arange(g_len)[None, :]) % u_len          # [T, G]
            out = np.where(owner[:, None, :] == np.arange(u_len)[None, :, None], self.sizes[None, None, :], 0)
            out = out.astype(np.int16)
        else:
            out = self._by_rate(sinr)
        self.t += t_len
        return out

    def _by_rate(self, sinr: np.ndarray) -> np.ndarray:
        t_len, u_len, g_len = sinr.shape
        rate = self.sizes[None, None, :] * np.log2(1.0 + sinr.astype(np.float64))        # [T, U, G]
        if self._history is None:  # before any report: the first slot's own channel
            self._history = np.repeat(rate[:1], self.delay, axis=0)
        seen = np.concatenate([self._history, rate], axis=0)                               # [delay + T, U, G]
        out = np.zeros((t_len, u_len, g_len), np.int16)
        beta, avg, last = self.beta, self.avg, self.last_rate
        groups = np.arange(g_len)
        sizes = self.sizes.astype(np.int16)
        pf = self.kind == "pf"
        for i in range(t_len):
            avg = beta * avg + (1.0 - beta) * last
            r = seen[i]                                                                    # [U, G] reported
            owner = np.argmax(r / avg[:, None] if pf else r, axis=0)                       # [G]
            out[i, owner, groups] = sizes
            last = np.bincount(owner, weights=r[owner, groups], minlength=u_len)
        self.avg, self.last_rate = avg, last
        self._history = seen[-self.delay:]
        return out
