"""The receiver half of the controller: read the control section, plan to the deadline, ask for anchors.

Receiver-driven anchor refresh: a decoder asks the sender for an anchor (through the
feedback path, so the request takes the scenario's uplink delay) when a delta's
confidence is below ``min_confidence``, when its reference is broken (a lost anchor, or
an anchor that could only be repeated), or when an anchor could only be shown from its
low-res frame. It asks once and then waits: the next anchor that arrives, complete or not,
answers the request. After two low-res anchors in a row it stops asking for that reason
(the budget does not allow a generated anchor; more anchors would only cost bytes) until
an anchor is generated again.
"""
from __future__ import annotations

import dataclasses
import math

from ..base import DecodePlan, Decoded, EncodedFrame
from ..sampler import start_index
from .confidence import ControlInfo, decode_control
from .planner import DeadlinePlanner, short_name, wanted_strength

__all__ = ["ReceiverControl"]

_UNKNOWN = ControlInfo(confidence=float("nan"))


class ReceiverControl:
    """Per-stream receiver state of the controller (built from a :class:`~gsvc.codecs.spec.CodecSpec`)."""

    def __init__(self, spec):
        self.planner = DeadlinePlanner(spec.deadline_margin_ms, spec.deadline_risk)
        self.trust_confidence = spec.trust_confidence
        self.min_confidence = spec.min_confidence
        self.request_pending = False
        self.lowres_anchors = 0  # consecutive anchors shown from their low-res frame
        self._seen: tuple[int, ControlInfo] = (-1, _UNKNOWN)

    def set_cost_model(self, fn) -> None:
        self.planner.set_cost_model(fn)

    def set_service_tail(self, fn) -> None:
        self.planner.set_service_tail(fn)

    # --- planning ---------------------------------------------------------------
    def arrived(self, ef: EncodedFrame, complete: bool) -> ControlInfo:
        """Read the control section of a frame reaching the decoder (unknown when incomplete or corrupt)."""
        info = _UNKNOWN
        if complete:
            try:
                info = decode_control(ef.sections["control"])
            except (KeyError, ValueError):
                pass
        if ef.kind == "anchor":
            self.request_pending = False  # this anchor answers any earlier request
        self._seen = (ef.frame, info)
        return info

    def plan(self, dec, ef: EncodedFrame, info: ControlInfo, budget_ms: float | None) -> DecodePlan:
        return self.planner.choose(self.ladder(dec, ef, info), budget_ms)

    def ladder(self, dec, ef: EncodedFrame, info: ControlInfo) -> list[DecodePlan]:
        """Plans for this frame, best first (see :mod:`gsvc.codecs.control.planner`)."""
        nominal = dec.plan_frame(ef, None)
        if nominal.path in ("conceal", "repeat"):
            return [nominal]
        if ef.kind == "anchor":
            n, k = nominal.steps, nominal.refine_steps
            rungs = [nominal] + [DecodePlan(short_name(nominal.path), g, g + k, refine_steps=k)
                                 for g in range(n - 1, 0, -1)]
            if k:  # then without the frame's own refinement, from a schedule cheaper than one step and it
                rungs += [DecodePlan(nominal.path if g == n else short_name(nominal.path), g, g)
                          for g in range(min(n, k), 0, -1)]
            if "lowres" in ef.sections:
                rungs.append(DecodePlan("lowres"))
            return rungs + [DecodePlan("repeat")]
        base = dec.refine_plan(ef, nominal)
        if base is None:  # nothing to refine with: show the warp (content_motion sent no conditions for it)
            return [nominal, DecodePlan("repeat")]
        n = dec.schedule_steps()
        k_want = max(base.steps, n - start_index(n, wanted_strength(base.strength, info.confidence,
                                                                    self.trust_confidence)))
        rungs = [base if k == base.steps and k == k_want else
                 DecodePlan(base.path if k == k_want else short_name(base.path), k, k, strength=k / n)
                 for k in range(k_want, 0, -1)]
        return rungs + [DecodePlan("warp"), DecodePlan("repeat")]

    # --- after decoding ---------------------------------------------------------
    def annotate(self, ef: EncodedFrame, plan: DecodePlan, out: Decoded) -> Decoded:
        """Add the control facts to a decode result and decide whether to ask for an anchor."""
        frame, info = self._seen
        if frame != ef.frame:
            info = _UNKNOWN
        if ef.kind == "anchor":
            degraded = (out.path or plan.path) == "lowres"
            self.lowres_anchors = self.lowres_anchors + 1 if degraded else 0
        degraded_anchor = ef.kind == "anchor" and self.lowres_anchors == 1
        low = ef.kind == "delta" and info.confidence < self.min_confidence and not math.isnan(info.confidence)
        request = (out.request_anchor or degraded_anchor or low) and not self.request_pending
        self.request_pending = self.request_pending or request
        return dataclasses.replace(out, request_anchor=request, cut_detected=info.cut, confidence=info.confidence)
