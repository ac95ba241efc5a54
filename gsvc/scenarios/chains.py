"""Which points of a sweep share work, and the order one worker runs them in.

Points whose scenarios differ only in the radio (the ``channel``, ``link`` and ``cell``
sections) capture the same frames, and wherever their links delivered the frames whole,
their encoders and decoders see the same inputs in the same states: the codec cache
(:mod:`gsvc.codecs.cache`) serves those calls from the first point that made them. A
*chain* is such a group, run one point after another on one worker, so that the
entries a point needs are in that worker's memory (and in the store's ``cache/``
folder for the other workers). Points of different seeds or codec settings never share
a call, so they go to different chains.

Within a chain the points run with the largest radio values first (the highest SNR,
the widest band, the fastest link: usually the fewest losses), so the calls a lossless
link makes, which the lossy points share up to their first loss, are made first.
The order only changes how soon an entry exists, never what a point computes.
"""
from __future__ import annotations

import hashlib
import json

from .grid import SweepPoint

__all__ = ["RADIO_SECTIONS", "share_key", "chains"]

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


def chains(points: list[SweepPoint]) -> list[list[SweepPoint]]:
    """``points`` grouped into chains (see the module docstring), longest chain first."""
    groups: dict[str, list[SweepPoint]] = {}
    for p in points:
        groups.setdefault(share_key(p), []).append(p)
    out = [sorted(g, key=_cleanest_first) for g in groups.values()]
    return sorted(out, key=len, reverse=True)
