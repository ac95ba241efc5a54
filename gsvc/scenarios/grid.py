"""Sweep grids: parse values, check keys, expand a base scenario into validated points.

A grid maps dotted scenario paths to the values they take::

    {"channel.snr_db": [0, 5, 10], "link.bandwidth_mhz": "5,10,20", "codec.steps": "2:8:2"}

A value list may be written as text, as on the command line: ``"5,10,20"`` (a
list; numbers become ints or floats, anything else stays a string) or
``"0:20:5"`` (``start:stop:step``, stop included: 0, 5, 10, 15, 20); a value whose part before
the first ``:`` is not a number is one string (``"profile:sd15-a100"``).

Points are the cartesian product of the grid times ``seeds`` replications.
Replication 0 keeps the point's own seed; replication ``k > 0`` uses
``derive_seed(seed, "replicate", k)``, the same for every grid point (common
random numbers, so differences between points are not drowned by seed noise).
"""
from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Mapping

from ..spec import SpecError, unknown_field
from .run import derive_seed
from .scenario import Scenario

__all__ = ["parse_values", "parse_assignment", "normalize_grid", "replicate_seed", "SweepPoint", "expand"]

#: most error lines shown for one grid (the rest are counted)
_MAX_ERROR_LINES = 12


def _parse_scalar(token: str) -> Any:
    """``"5"`` -> 5, ``"2.5"`` -> 2.5, anything else -> the stripped string."""
    token = token.strip()
    for kind in (int, float):
        try:
            return kind(token)
        except ValueError:
            pass
    return token


def _parse_range(key: str, text: str) -> list:
    parts = [p.strip() for p in text.split(":")]
    nums = [_parse_scalar(p) for p in parts]
    if len(parts) != 3 or not all(isinstance(n, numbers.Real) and math.isfinite(n) for n in nums):
        raise SpecError([f"grid {key}={text!r} is not a range start:stop:step of numbers (stop included), "
                         f"e.g. 0:20:5; or give a list such as 5,10,20"])
    start, stop, step = nums
    if step == 0 or (stop - start) * step < 0:
        raise SpecError([f"grid {key}={text!r}: step {step} never goes from {start} to {stop}"])
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 100_000:
        raise SpecError([f"grid {key}={text!r} has {count} values; give a larger step"])
    if all(isinstance(n, int) for n in nums):
        return [start + k * step for k in range(count)]
    return [round(start + k * step, 12) for k in range(count)]  # round away float drift (0.1 * 3)


def parse_values(key: str, text: str) -> list:
    """Values of one grid key written as text: ``"0:20:5"``, ``"5,10,20"``, ``"full,cvsc"`` or one value."""
    text = text.strip()
    if not text:
        raise SpecError([f"grid {key} has no values; give a list such as 5,10,20 or a range such as 0:20:5"])
    if ":" in text and "," not in text and not isinstance(_parse_scalar(text.split(":")[0]), str):
        return _parse_range(key, text)  # a value whose first part is no number is a name: profile:sd15-a100
    tokens = text.split(",")
    if any(not t.strip() for t in tokens):
        raise SpecError([f"grid {key}={text!r} has an empty entry; give a list such as 5,10,20"])
    return [_parse_scalar(t) for t in tokens]


def parse_assignment(text: str) -> tuple[str, list]:
    """``"channel.snr_db=0:20:5"`` -> ``("channel.snr_db", [0, 5, 10, 15, 20])`` (command-line form)."""
    key, sep, values = text.partition("=")
    if not sep or not key.strip():
        raise SpecError([f"{text!r} is not KEY=VALUES, e.g. channel.snr_db=0:20:5 or link.bandwidth_mhz=5,10,20"])
    return key.strip(), parse_values(key.strip(), values)


def _plain(value: Any) -> Any:
    """NumPy scalars -> Python scalars, so values hash, compare and serialise like the user's literals."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (list, dict, str)) else value


def normalize_grid(grid: Mapping[str, Any] | None) -> dict[str, list]:
    """Grid with every value a non-empty list of distinct plain values (text parsed, scalars wrapped)."""
    out: dict[str, list] = {}
    errors: list[str] = []
    for key, values in (grid or {}).items():
        try:
            if isinstance(values, str):
                values = parse_values(key, values)
            elif isinstance(values, (list, tuple, range)) or hasattr(values, "tolist"):
                values = [_plain(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
            else:
                values = [_plain(values)]
        except SpecError as err:
            errors += err.lines
            continue
        if not values:
            errors.append(f"grid {key} is an empty list; give at least one value")
            continue
        seen = [repr(v) for v in values]
        dups = sorted({s for s in seen if seen.count(s) > 1})
        if dups:
            errors.append(f"grid {key} repeats {', '.join(dups)}; each value may appear once")
            continue
        out[key] = values
    if errors:
        raise SpecError(errors)
    return out


def replicate_seed(seed: int, replicate: int) -> int:
    """Seed of replication ``replicate`` of a point whose own seed is ``seed`` (replication 0 keeps it)."""
    return seed if replicate == 0 else derive_seed(seed, "replicate", replicate)


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: the grid values it sets, its replication index and its validated scenario."""

    params: dict
    replicate: int
    scenario: Scenario

    @cached_property
    def spec_hash(self) -> str:
        return self.scenario.spec_hash()

    @property
    def seed(self) -> int:
        return self.scenario.seed


def _check_keys(base: Scenario, grid: Mapping[str, Any]) -> None:
    valid = base.field_paths() + base.group_paths()
    bad = [k for k in grid if k not in valid]
    if bad:
        raise SpecError([f"grid key {unknown_field(k, valid)}" for k in bad])


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= _MAX_ERROR_LINES:
        return lines
    return lines[:_MAX_ERROR_LINES] + [f"... and {len(lines) - _MAX_ERROR_LINES} more invalid grid points"]


def expand(base: Scenario, grid: Mapping[str, Any] | None = None, seeds: int = 1) -> list[SweepPoint]:
    """Every point of the sweep, each scenario validated; raises :class:`SpecError` before anything runs.

    Errors name the grid key and value: first each value on its own against ``base``,
    then every combination (cross-field rules such as bandwidth against numerology).
    """
    if not isinstance(base, Scenario):
        raise TypeError(f"a sweep needs a Scenario as its base, got {type(base).__name__}")
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or seeds < 1:
        raise SpecError([f"seeds={seeds!r} is not a number of replications; give an integer >= 1"])
    _check_keys(base, grid or {})
    grid = normalize_grid(grid)
    errors = []
    for key, values in grid.items():
        for v in values:
            try:
                base.updated({key: v})
            except SpecError as err:
                errors += [f"grid {key}={v!r}: {line}" for line in err.lines]
    if errors:
        raise SpecError(_capped(errors))
    keys = list(grid)
    points: list[SweepPoint] = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, combo))
        try:
            sc = base.updated(params) if params else base
        except SpecError as err:
            errors += [f"grid point {params}: {line}" for line in err.lines]
            continue
        points += [SweepPoint(params, r, sc.model_copy(update={"seed": replicate_seed(sc.seed, r)}))
                   for r in range(int(seeds))]
    if errors:
        raise SpecError(_capped(errors))
    return points


def grid_values(points: Iterable[SweepPoint], key: str) -> list:
    """The distinct values ``key`` takes over ``points``, in grid order."""
    out = []
    for p in points:
        if p.params[key] not in out:
            out.append(p.params[key])
    return out
