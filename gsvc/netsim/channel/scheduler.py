"""Schedulers of a shared carrier (downlink or uplink): who gets each PRB group in each slot.

Two callers, one set of rules:

- :func:`allocate_slot` is the traffic-aware cell (``cell.traffic="queue"``,
  :mod:`gsvc.netsim.carrier`): called in the event loop, slot by slot, among the UEs whose queues
  hold data, each limited to the PRBs its queue needs (work-conserving).
- :class:`Scheduler` is the full-buffer cell (``cell.traffic="full-buffer"``): every UE is taken to
  have data in every slot and the shares are drawn before the event loop, so an idle UE's PRBs are
  not handed to the others (each stream's delay is that of a saturated cell's share: an upper bound).

The rules:

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
- ``"pf-delay"`` (in the loop only): PF times the delay-budget factor of the UE's head of line
  (:func:`delay_budget_factor`, the weight of 5G-LENA's QoS scheduler), so frames near
  ``cell.pdb_ms`` go first.
- ``"dedicated"``: every UE has every group in every slot (a carrier of its own). Not a rule: the
  cell's way of saying its carrier is not shared.

Each rule is one :class:`SchedulingRule` in a registry (:func:`register_rule`): a ``priority`` of
every UE on every group (higher goes first) or none (the UEs take turns, as round-robin), and
optionally a ``hol_weight`` (the rule weighs a UE by its head of line, so it runs in the loop only).
A rule of one's own is registered before the scenario is made and named in ``cell.scheduler``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...registry import Registry

__all__ = ["Scheduler", "SchedulingRule", "achievable_rate", "allocate_slot", "delay_budget_factor",
           "register_rule", "rule_names", "scheduling_rule", "SHARED_NOT", "RULES"]

#: the ``cell.scheduler`` that shares nothing: every UE on a carrier of its own
SHARED_NOT = "dedicated"


@dataclass(frozen=True)
class SchedulingRule:
    """How a shared carrier's PRB groups go to its UEs (module docstring).

    Attributes:
        name: the ``cell.scheduler`` that selects it.
        summary: one line for documentation and error messages.
        priority: ``(rate [U, G] float64, avg [U] float64, weight [U] float64 or None) -> [U, G]``: the
            metric a group goes to the highest of (``rate``: achievable rate on each group from the
            reported SINR, :func:`achievable_rate`; ``avg``: the PF average rate; ``weight``: the
            ``hol_weight`` of each UE's head of line, None for a rule without one). None: the UEs take
            turns (group ``g`` of slot ``t`` to UE ``(t G + g) mod U``).
        hol_weight: ``(pdb_s, hol_s) -> float``: the weight of a UE whose oldest queued data waited
            ``hol_s`` against the cell's budget ``pdb_s``; a rule with one needs ``cell.traffic="queue"``.
    """

    name: str
    summary: str
    priority: Callable | None = None
    hol_weight: Callable | None = None


#: every scheduling rule, by name
RULES: Registry[SchedulingRule] = Registry("cell.scheduler", "scheduling rule",
                                          "gsvc.netsim.channel.scheduler.register_rule")


def register_rule(rule: SchedulingRule, *, replace: bool = False) -> SchedulingRule:
    """Make ``rule`` available as ``cell.scheduler=rule.name`` (a name taken is refused unless ``replace``)."""
    if not isinstance(rule, SchedulingRule):
        raise TypeError(f"register_rule: give a SchedulingRule, not {type(rule).__name__}")
    if rule.name == SHARED_NOT:
        raise ValueError(f"register_rule: {rule.name!r} cannot name a rule ({SHARED_NOT!r} means no sharing)")
    if rule.hol_weight is not None and rule.priority is None:
        raise ValueError(f"register_rule: rule {rule.name!r} has a hol_weight but no priority to weigh")
    return RULES.add(rule.name, rule, replace=replace)


def rule_names() -> list[str]:
    """Every registered scheduling rule, built-ins first."""
    return RULES.names()


def scheduling_rule(name: str) -> SchedulingRule:
    """The rule registered as ``name`` (ValueError naming the known ones if none)."""
    return RULES.entry(name)


def achievable_rate(group_prbs: np.ndarray, sinr: np.ndarray) -> np.ndarray:
    """``group_prbs * log2(1 + sinr)``, float64: the rate a scheduler weighs a UE by on each group
    (``sinr``: ``[..., G]`` linear, the SINR the UE reported)."""
    return group_prbs * np.log2(1.0 + sinr.astype(np.float64))


class Scheduler:
    """Allocates the PRB groups of consecutive chunks of slots (state carries across chunks).

    Args:
        kind: ``"dedicated"`` or a registered rule without a ``hol_weight`` (``"pf"``, ``"max-rate"``,
            ``"round-robin"`` ...).
        group_prbs: ``[G]`` int, PRBs in each group.
        num_ue: UEs sharing the carrier.
        csi_delay_slots: slots between an SINR and the scheduling decision that uses it (>= 1).
        beta: PF discount factor.
    """

    def __init__(self, kind: str, group_prbs, num_ue: int, csi_delay_slots: int, beta: float = 0.98):
        self.rule = None if kind == SHARED_NOT else scheduling_rule(kind)
        if self.rule is not None and self.rule.hol_weight is not None:
            raise ValueError(f"cell.scheduler={kind!r} weighs queues: it runs only with cell.traffic='queue'")
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
        if self.rule is None:
            out = np.broadcast_to(self.sizes.astype(np.int16), (t_len, u_len, g_len)).copy()
        elif self.rule.priority is None:
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
        rate = achievable_rate(self.sizes, sinr)                                             # [T, U, G]
        if self._history is None:  # before any report: the first slot's own channel
            self._history = np.repeat(rate[:1], self.delay, axis=0)
        seen = np.concatenate([self._history, rate], axis=0)                               # [delay + T, U, G]
        out = np.zeros((t_len, u_len, g_len), np.int16)
        beta, avg, last = self.beta, self.avg, self.last_rate
        groups = np.arange(g_len)
        sizes = self.sizes.astype(np.int16)
        priority = self.rule.priority
        for i in range(t_len):
            avg = beta * avg + (1.0 - beta) * last
            r = seen[i]                                                                    # [U, G] reported
            owner = np.argmax(priority(r, avg, None), axis=0)                              # [G]
            out[i, owner, groups] = sizes
            last = np.bincount(owner, weights=r[owner, groups], minlength=u_len)
        self.avg, self.last_rate = avg, last
        self._history = seen[-self.delay:]
        return out


#: smallest PDB - HOL of the delay-budget factor, s: 5G-LENA gives a head-of-line delay at or past the budget a
#: denominator of 0.1 ms (cttc-lena/nr ``model/nr-mac-scheduler-ue-info-qos.h``, ``CalculateDelayBudgetFactor``)
PDB_FLOOR_S = 1e-4


def delay_budget_factor(pdb_s: float, hol_s: float) -> float:
    """``PDB / max(PDB - HOL, 0.1 ms)``: the weight 5G-LENA's QoS scheduler gives a delay-critical flow
    (``nr-mac-scheduler-ue-info-qos.h``, ``CalculateDlWeight`` x ``CalculateDelayBudgetFactor``); 1 for
    a fresh head of line, growing without bound as it nears the budget."""
    return pdb_s / max(pdb_s - hol_s, PDB_FLOOR_S)


def allocate_slot(kind: "str | SchedulingRule", t: int, group_prbs: np.ndarray, rate: np.ndarray, avg: np.ndarray,
                  need_prbs: list[int], weight: np.ndarray | None = None) -> np.ndarray:
    """One slot's PRB groups among the UEs that have data (the traffic-aware cell, :mod:`gsvc.netsim.carrier`).

    Every group goes to a UE that still needs PRBs: ``need_prbs[a]`` is how many PRBs would carry
    UE ``a``'s queue (or its retransmission); a UE whose need is met gets no more, so a group no
    active UE needs stays empty (not counted as used). Among those that need it:

    - a rule with a ``priority`` (``"pf"``: the highest ``rate / avg``, the full-buffer rule of
      :class:`Scheduler` over the active UEs only; ``"pf-delay"``: the same times ``weight``;
      ``"max-rate"``: the highest ``rate``): pairs are taken best first over all (UE, group) pairs, so
      with needs that never run out every group goes to its own best UE, as in :class:`Scheduler`.
    - a rule without one (``"round-robin"``): group ``g`` goes to the ``(t G + g) mod A``-th active UE,
      or the next one in turn that still needs PRBs.

    Args:
        kind: the rule, or its name (:func:`scheduling_rule`; the event loop passes the rule it
            resolved once, rather than a name to look up every slot).
        t: slot index.
        group_prbs: ``[G]`` int, PRBs per group.
        rate: ``[A, G]`` float64, achievable rate of each active UE on each group (reported SINR).
        avg: ``[A]`` float64, PF average rate of each active UE.
        need_prbs: ``[A]`` PRBs each active UE can use.
        weight: ``[A]`` the rule's ``hol_weight`` of each active UE (None for a rule without one).

    Returns:
        ``[A, G]`` int64: PRBs of each group given to each active UE.
    """
    a_len, g_len = rate.shape
    out = np.zeros((a_len, g_len), np.int64)
    need = list(need_prbs)
    sizes = group_prbs.tolist()
    rule = kind if isinstance(kind, SchedulingRule) else scheduling_rule(kind)
    if rule.priority is None:
        for g in range(g_len):
            start = (t * g_len + g) % a_len
            for k in range(a_len):
                a = (start + k) % a_len
                if need[a] > 0:
                    out[a, g] = sizes[g]
                    need[a] -= sizes[g]
                    break
        return out
    metric = rule.priority(rate, avg, weight)
    free = [True] * g_len
    left_groups, left_ues = g_len, sum(1 for x in need if x > 0)
    for flat in np.argsort(-metric, axis=None, kind="stable").tolist():
        a, g = divmod(flat, g_len)
        if free[g] and need[a] > 0:
            out[a, g] = sizes[g]
            free[g] = False
            need[a] -= sizes[g]
            left_groups -= 1
            left_ues -= need[a] <= 0
            if not left_groups or not left_ues:
                break
    return out


def _pf(rate, avg, weight):
    return rate / avg[:, None]


def _pf_delay(rate, avg, weight):
    return rate / avg[:, None] * weight[:, None]


def _max_rate(rate, avg, weight):
    return rate


for _rule in (
    SchedulingRule("pf", "proportional fair (Sionna's PFSchedulerSUMIMO rule)", priority=_pf),
    SchedulingRule("pf-delay", "proportional fair times 5G-LENA's delay-budget factor of the head of line",
                   priority=_pf_delay, hol_weight=delay_budget_factor),
    SchedulingRule("max-rate", "the highest achievable rate (most throughput, least fairness)", priority=_max_rate),
    SchedulingRule("round-robin", "every UE every group equally often, whatever its channel"),
):
    register_rule(_rule)
del _rule
