"""Which points of a sweep share work, and the order one worker runs them in.

Points whose scenarios differ only in the radio (the ``channel``, ``link`` and ``cell``
sections) capture the same frames, and wherever their links delivered the frames whole,
their encoders and decoders see the same inputs in the same states: the codec cache
(:mod:`gsvc.codecs.cache`) serves those calls from the first point that made them. A
*chain* is such a group, run one point after another on one worker, so that the
entries a point needs are in that worker's memory (and in the store's ``cache/``
folder for the other workers). Points of different seeds or codec settings never share
a call, so they go to different chains.

Within a chain the points run from the outside of the radio grid inwards: first the
point with the largest radio values (the highest SNR, the widest band: usually the fewest
losses), whose calls every other point shares up to its first loss; then the point at the
other end (the lowest SNR: the most losses, so the most calls of its own); then the rest,
alternating between the two ends towards the middle. Which calls miss does not depend on
the order (each distinct call runs once, wherever it falls), but when each point's cost
falls does: the points that compute most run early, and the middle of the grid, whose
calls the points on either side have mostly made already, runs last in small cheap
steps, which an idle worker can take over from the end of a chain without leaving the
other with one long point to finish alone. The order only changes when an entry exists,
never what a point computes.
"""
from __future__ import annotations

import hashlib
import json

from .grid import SweepPoint

__all__ = ["RADIO_SECTIONS", "share_key", "chains", "outside_in"]

#: scenario sections that change only how frames travel, not what is captured and coded
RADIO_SECTIONS = ("channel", "link", "cell")


def share_key(point: SweepPoint) -> str:
    """Points with the same key differ only in their radio sections (and name)."""
    dump = point.scenario.model_dump(mode="json")
    for section in (*RADIO_SECTIONS, "name"):
        dump.pop(section, None)
    return hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()


def _cleanest_first(point: SweepPoint) -> tuple:
    """Sort key: larger radio grid values first (numbers only; other values in grid order)."""
    out = []
    for key, value in point.params.items():
        if key.split(".")[0] in RADIO_SECTIONS and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(-value)
    return tuple(out)


def outside_in(ordered: list) -> list:
    """``ordered`` from both ends towards the middle: first, last, second, second to last, ..."""
    out, lo, hi = [], 0, len(ordered) - 1
    while lo <= hi:
        out.append(ordered[lo])
        if hi != lo:
            out.append(ordered[hi])
        lo, hi = lo + 1, hi - 1
    return out


def chains(points: list[SweepPoint]) -> list[list[SweepPoint]]:
    """``points`` grouped into chains (see the module docstring), longest chain first."""
    groups: dict[str, list[SweepPoint]] = {}
    for p in points:
        groups.setdefault(share_key(p), []).append(p)
    out = [outside_in(sorted(g, key=_cleanest_first)) for g in groups.values()]
    return sorted(out, key=len, reverse=True)
