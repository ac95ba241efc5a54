"""Grid keys that changed nothing: a sweep over a field its scenario never reads.

A sweep over ``channel.snr_db`` under ``channel.model="umi"`` (whose SNR comes from geometry) or over a
field a codec ignores runs every point and draws a flat curve that looks like a finding. This finds such
keys after the fact, from the results alone, so it never refuses a sweep that would have moved something;
a key that is read but never binds in the sweep (a ceiling never reached) is named too, and is as flat.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["inert_keys", "inert_note"]


def inert_keys(summary: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """The grid ``keys`` (summary columns) that take two or more values and whose points, at every
    combination of the other keys and the seed, have identical numeric summaries (NaN equal to NaN).
    The run's ``spec_hash`` and the keys themselves are not compared."""
    compared = [c for c in summary.columns
                if c not in keys and c not in ("seed", "replicate") and pd.api.types.is_numeric_dtype(summary[c])]
    out = []
    for key in keys:
        if summary[key].nunique(dropna=False) < 2 or not compared:
            continue
        others = [k for k in keys if k != key] + [c for c in ("seed",) if c in summary]
        groups = [g for _, g in summary.groupby(others, dropna=False)] if others else [summary]
        if all(_identical(g[compared].to_numpy(float)) for g in groups):
            out.append(key)
    return out


def _identical(values: np.ndarray) -> bool:
    first = values[0]
    return bool(np.all((values == first) | (np.isnan(values) & np.isnan(first))))


def inert_note(summary: pd.DataFrame, keys: Sequence[str]) -> str | None:
    """A sentence naming the inert keys (None if there are none)."""
    inert = inert_keys(summary, keys)
    if not inert:
        return None
    return (f"{', '.join(inert)} changed nothing: at every value of the other grid keys and seed its points gave "
            "identical results: the scenario does not read it (e.g. channel.snr_db under channel.model='umi', "
            "whose SNR comes from geometry, or a codec field the codec ignores), or none of its values binds here "
            "(a ceiling never reached).")
