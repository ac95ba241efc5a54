"""Deadline-aware choice of a decode plan at the receiver.

Each frame gets a *ladder* of plans, best first and cheaper down the ladder:

* a delta frame: refine with the steps its confidence wants (:func:`wanted_strength`),
  then with one step fewer at a time down to one step (``<path>-short``), then ``warp``
  (show the reference moved to the frame: no denoiser), then ``repeat`` (the last image);
* an anchor: generate with its full schedule, then shorter schedules (``generate-short``),
  then ``lowres`` (the transmitted low-res frame upsampled) if there is one, then ``repeat``. An
  anchor whose own frame is refined after the generation (``DecodePlan.refine_steps``,
  ``content_motion``) keeps the refinement while the schedule shortens, and gives it up only when
  one generation step and it do not fit: on the dev set (``content_motion`` adaptive, shipped model)
  content frames sampled in 3 steps instead of 10 change the whole set by +0.03 dB and +0.0025
  LPIPS, the refinement of each group's first frame by +0.21 dB and -0.003 LPIPS.

:class:`DeadlinePlanner` takes the first plan whose expected service time plus a
safety margin fits the time left to the frame's playout deadline; when none fits it
takes the cheapest one (of rungs the latency model times alike, the better: a delta that does
not fit even one step is shown warped, not repeated, an anchor from its low-res frame). The
budget passed by the receiver is measured at service start, so the time the frame already
waited in the GPU queue is taken off it. The margin
is the larger of a fixed one (``codec.deadline_margin_ms``) and the latency model's service-time
tail at ``codec.deadline_risk`` (how far above its expected time a decode lands with that
probability: a profile's jitter, :meth:`gsvc.timing.profile.ServiceJitter.tail_ms`), so that a
profile with rare long decodes (``cpu-2core``: two of its 40 jitter samples at +18 and +22 ms) is
planned for them.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from ..base import DecodePlan

__all__ = ["DeadlinePlanner", "wanted_strength", "short_name", "FALLBACK_PATHS"]

#: paths that run no denoiser and exist only as fallbacks
FALLBACK_PATHS = ("warp", "lowres", "repeat")


def wanted_strength(nominal: float, confidence: float, trust_confidence: float) -> float:
    """Noise strength (fraction of the schedule) a delta frame should start from.

    At or above ``trust_confidence`` the codec's own ``nominal`` strength; below it the
    strength rises linearly to 1 (pure noise, the whole schedule) at confidence 0:
    ``nominal + (1 - nominal) * (trust - confidence) / trust``. NaN confidence: nominal.
    """
    if not confidence < trust_confidence or trust_confidence <= 0:
        return nominal
    return nominal + (1.0 - nominal) * (trust_confidence - confidence) / trust_confidence


def short_name(path: str) -> str:
    """Name of a plan with fewer steps than wanted: ``refine`` -> ``refine-short``."""
    return path if path.endswith("-short") else f"{path}-short"


class DeadlinePlanner:
    """Pick the best plan of a ladder that fits the budget.

    Args:
        margin_ms: kept free of the budget at least, ms (``codec.deadline_margin_ms``).
        risk: the probability of a late decode a plan may run (``codec.deadline_risk``): with the
            latency model's tail (:meth:`set_service_tail`) the margin is at least the time by
            which a decode exceeds its expected time with that probability.
    """

    def __init__(self, margin_ms: float = 8.0, risk: float = 0.01):
        self.margin_ms = margin_ms
        self.risk = risk
        self.cost_ms: Callable[[int], float] | None = None
        self.tail_ms: Callable[[float], float] | None = None

    def set_cost_model(self, fn: Callable[[int], float]) -> None:
        """``fn(unet_evals) -> expected service time, ms`` (from the receiver's latency model)."""
        self.cost_ms = fn

    def set_service_tail(self, fn: Callable[[float], float]) -> None:
        """``fn(risk) -> ms`` a decode exceeds its expected time by with probability at most ``risk``."""
        self.tail_ms = fn

    def margin(self) -> float:
        """The time kept free of a frame's budget now, ms."""
        if self.tail_ms is None:
            return self.margin_ms
        return max(self.margin_ms, self.tail_ms(self.risk))

    def choose(self, ladder: Sequence[DecodePlan], budget_ms: float | None) -> DecodePlan:
        """First plan of ``ladder`` that fits ``budget_ms``; if none does, the cheapest, and of plans the
        latency model times alike (``warp`` and ``repeat``, ``lowres`` and ``repeat``: no evaluation) the
        first, the better one: a later rung that is no faster only loses quality.

        Without a budget or a cost model the first (best) plan is taken.
        """
        if budget_ms is None or self.cost_ms is None or math.isnan(budget_ms):
            return ladder[0]
        free_ms = budget_ms - self.margin()
        for plan in ladder:
            if self.cost_ms(plan.unet_evals) <= free_ms:
                return plan
        return min(ladder, key=lambda plan: self.cost_ms(plan.unet_evals))  # the first of equally cheap ones
