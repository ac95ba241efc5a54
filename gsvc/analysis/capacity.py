"""How many users a cell and its edge server serve: the 3GPP capacity rule over a sweep of users.

3GPP's XR capacity (TR 38.838 V17.0.0, evaluation methodology) is the largest number of UEs per
cell at which at least Y = 90 % of them are satisfied. :func:`capacity` reads it off a sweep over
the number of users (``streams``), for each kind of satisfaction
(:mod:`gsvc.netsim.satisfaction`: ``radio``, the 3GPP rule; ``viewer``, on screen in time and
good enough) and each combination of the other grid keys (codec, GPUs, bandwidth ...):

- ``capacity``: the largest tested number of users at which the mean satisfied fraction over seeds
  is at least Y, with every smaller tested number passing too (the first crossing: a lucky pass
  beyond a failure does not count); 0 when even the smallest fails.
- ``fraction_at`` / ``ci_low_at`` / ``ci_high_at``: the satisfied fraction at ``capacity`` (mean
  and 95 % Student-t interval over seeds, clipped to [0, 1]); ``users_above``, ``fraction_above``,
  ``ci_*_above``: the same at the next tested number (NaN when the largest tested number still
  passes: capacity is then at least that).
- ``binding``: which resource ran out at ``users_above``: for the viewer, what most unsatisfied
  viewers failed on (``radio``, ``gpu``, ``codec`` or ``quality``, the most frequent over its seeds,
  :mod:`gsvc.netsim.satisfaction`); for the radio kind, always ``radio``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .stats import mean_ci

__all__ = ["capacity", "KINDS"]

#: the satisfaction kinds, each a summary column ``<kind>_satisfied_fraction``
KINDS = ("radio", "viewer")


def capacity(results, by: str = "streams", kinds: Sequence[str] = KINDS, threshold: float | None = None,
             confidence: float = 0.95, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """The capacity of every combination of the other grid keys, one row per combination and kind.

    Args:
        results: a :class:`~gsvc.scenarios.store.SweepResults` (or its ``summary`` table: grid key
            columns plus ``<kind>_satisfied_fraction`` and ``binding``).
        by: the column that counts users (``streams``, or a group's count).
        kinds: satisfaction kinds to report (:data:`KINDS`).
        threshold: Y; default the sweep's ``capacity.satisfied_ratio`` (0.9 for a bare table).
        confidence: of the intervals over seeds.
        keys: the grid-key columns of a bare table (default: ``streams`` and the dotted scenario paths
            among its columns); e.g. a ``codec`` label added to the summaries of several sweeps.

    Returns:
        Columns: the other grid keys, ``kind``, ``capacity``, ``fraction_at``, ``ci_low_at``,
        ``ci_high_at``, ``users_above``, ``fraction_above``, ``ci_low_above``, ``ci_high_above``,
        ``binding``, ``seeds`` (replications at each point, the fewest).
    """
    summary, keys, y = _table(results, threshold, keys)
    if by not in summary.columns:
        raise ValueError(f"capacity(by={by!r}): the sweep has no such column; sweep the number of users "
                         f"(e.g. grid {{'streams': [2, 4, 8]}}); columns: {', '.join(keys) or '(none)'}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"capacity(kinds={list(kinds)!r}): {bad} not in {list(KINDS)}")
    others = [k for k in keys if k != by]
    rows = []
    for key, g in (summary.groupby(others, sort=False, dropna=False) if others else [((), summary)]):
        key = key if isinstance(key, tuple) else (key,)
        for kind in kinds:
            rows.append({**dict(zip(others, key)), "kind": kind, **_crossing(g, by, kind, y, confidence)})
    return pd.DataFrame(rows)


def _table(results, threshold: float | None, keys: Sequence[str] | None) -> tuple[pd.DataFrame, list[str], float]:
    """``(summary, grid keys, Y)`` of a SweepResults or a bare summary table."""
    if isinstance(results, pd.DataFrame):
        if keys is None:
            keys = [c for c in results.columns if c == "streams" or "." in c and "/" not in c]
        return results, list(keys), 0.9 if threshold is None else float(threshold)
    y = results.base.capacity.satisfied_ratio if threshold is None else float(threshold)
    return results.summary, [k for k in results.keys if k != "seed"], y


#: a side of the crossing that was not tested
_UNTESTED = {"users": np.nan, "n": 0, "mean": np.nan, "lo": np.nan, "hi": np.nan, "binding": None}


def _crossing(g: pd.DataFrame, by: str, kind: str, y: float, confidence: float) -> dict:
    column = f"{kind}_satisfied_fraction"
    if column not in g.columns:
        raise ValueError(f"the sweep's summary has no {column}; rerun it with this version of gsvc")
    points = []
    for users, part in g.groupby(by, sort=True):
        n, mean, _, lo, hi = mean_ci(part[column].to_numpy(dtype=float), confidence)
        lo, hi = (min(max(v, 0.0), 1.0) if np.isfinite(v) else v for v in (lo, hi))   # a fraction's interval
        points.append({"users": users, "n": n, "mean": mean, "lo": lo, "hi": hi, "binding": part.get("binding")})
    at, above = {**_UNTESTED, "users": 0}, _UNTESTED
    for p in points:
        if not (p["mean"] >= y):                # NaN (nothing measured) fails too
            above = p
            break
        at = p
    binding = np.nan
    if above is not _UNTESTED:
        binding = "radio" if kind == "radio" else _most_frequent_failure(above["binding"])
    return {"capacity": at["users"], "fraction_at": at["mean"], "ci_low_at": at["lo"], "ci_high_at": at["hi"],
            "users_above": above["users"], "fraction_above": above["mean"], "ci_low_above": above["lo"],
            "ci_high_above": above["hi"], "binding": binding, "seeds": min(p["n"] for p in points)}


def _most_frequent_failure(bindings: pd.Series | None):
    """The most frequent ``binding`` over a point's seeds (the 3GPP rule judges the air alone, so the
    radio kind never asks); NaN when none failed or the table has no ``binding``."""
    if bindings is None:
        return np.nan
    failed = bindings[bindings.notna() & (bindings != "none")]
    return failed.value_counts().index[0] if len(failed) else np.nan
