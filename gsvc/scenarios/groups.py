"""Groups of streams with their own codec and content, sharing one scenario's cell and receiver.

``Scenario.streams`` is either a count (every stream alike) or a list of groups::

    streams=[{"count": 5, "name": "h264", "codec": {"name": "h264", "bitrate_kbps": 800}},
             {"count": 5, "codec": {"name": "cvsc"}}]

Each group is ``count`` streams whose scenario is the base scenario with the group's overrides:
``codec`` (any field) and ``video`` (content: ``source``, ``motion_px`` ... ). What the streams
share cannot differ between groups: the radio (``channel``, ``link``, ``cell``; a UE's place in a
shared cell is ``cell.ue_distances_m``, one per stream in group order), the receiver, the jitter
buffer rule and the frame timing (``video.fps``, ``video.seconds``, ``video.resolution``: the
per-frame log and the GPU timing are per run). Streams are numbered group after group.
"""
from __future__ import annotations

from typing import Any

from ..spec import SpecError

__all__ = ["GROUP_KEYS", "FIXED_VIDEO", "check_groups", "group_overrides", "group_name", "prefix_errors"]

#: what a group may give, besides its ``count`` and ``name``
GROUP_KEYS = ("codec", "video")
#: video fields every group must share (one frame clock and one receiver timing per run)
FIXED_VIDEO = ("fps", "seconds", "resolution")


def group_name(group: dict, i: int) -> str:
    """A group's name: its ``name``, else its codec's name, else ``group<i>``."""
    return str(group.get("name") or group.get("codec", {}).get("name") or f"group{i}")


def check_groups(groups) -> list[str]:
    """Problems with the shape of ``streams`` groups (each names ``streams[i].field``); [] if none."""
    errors = []
    if not groups:
        return ["streams=[] has no group; give a count of streams or at least one group"]
    names = []
    for i, g in enumerate(groups):
        p = f"streams[{i}]"
        if not isinstance(g, dict):
            errors.append(f"{p}={g!r} is not a group (a dict with 'count' and overrides)")
            continue
        unknown = [k for k in g if k not in ("count", "name") + GROUP_KEYS]
        if unknown:
            errors.append(f"{p} has {unknown}; a group gives 'count', 'name' and overrides of "
                          f"{', '.join(GROUP_KEYS)} (the radio, receiver and jitter buffer are shared)")
        count = g.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
            errors.append(f"{p}.count={count!r} is not a number of streams; give an integer in [1, 10000]")
        for key in GROUP_KEYS:
            if key in g and not isinstance(g[key], dict):
                errors.append(f"{p}.{key}={g[key]!r} is not a dict of {key}.* overrides")
        fixed = [k for k in FIXED_VIDEO if k in g.get("video", {}) or {}]
        if fixed:
            errors.append(f"{p}.video sets {fixed}; the frame clock and resolution are shared by every stream "
                          "of a run: set them in the base scenario's video")
        names.append(group_name(g, i))
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        errors.append(f"streams: groups {dup} share a name; give each a distinct 'name'")
    return errors


def group_overrides(group: dict) -> dict[str, Any]:
    """A group's overrides as dotted paths (``codec.name`` ...), for ``Scenario.updated``."""
    return {f"{key}.{field}": value for key in GROUP_KEYS for field, value in (group.get(key) or {}).items()}


def prefix_errors(err: SpecError, i: int) -> SpecError:
    """``err`` of group ``i``'s scenario, each line naming ``streams[i].``."""
    return SpecError([f"streams[{i}].{line}" for line in err.lines])
