"""Shared machinery for validated, frozen specs.

Every part of a scenario (video, codec, channel, link, jitter, receiver) is a
:class:`Spec`: a frozen pydantic model that rejects unknown fields, NaN and
infinity. Numeric fields are declared with :func:`bounded`, which records the
allowed range and unit so that an error can name both::

    channel.snr_db=nan is not a finite number; give a value in [-30, 60] dB

:func:`format_errors` turns a pydantic ``ValidationError`` into such lines and
:class:`SpecError` carries them; ``gsvc run`` prints them without a traceback.
"""
from __future__ import annotations

import difflib
import math
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Spec", "SpecError", "bounded", "format_errors", "unknown_field"]


class SpecError(ValueError):
    """A scenario or part of one is invalid; ``str(err)`` lists every bad field, one per line."""

    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


class Spec(BaseModel):
    """Base of every spec: frozen, no unknown fields, no NaN/inf."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True)
    #: where this spec sits in a Scenario ("channel", "link" ...); prefixes error paths
    spec_path: ClassVar[str] = ""

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise SpecError(format_errors(err, type(self), self.spec_path)) from None


def bounded(default: Any, lo: float, hi: float, unit: str = "", description: str = "", **kw: Any) -> Any:
    """A numeric field with an inclusive range ``[lo, hi]`` and a unit (used in error messages)."""
    return Field(default, ge=lo, le=hi, description=description,
                 json_schema_extra={"unit": unit, "range": [lo, hi]}, **kw)


def _range_of(model: type[BaseModel] | None, loc: tuple) -> tuple[list | None, str]:
    """Walk ``loc`` through nested spec classes to the field's declared range and unit."""
    field = None
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            continue  # list indices and union tags: stay on the current field
        field = model.model_fields[part]
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    if field is None or not isinstance(field.json_schema_extra, dict):
        return None, ""
    extra = field.json_schema_extra
    return extra.get("range"), str(extra.get("unit", ""))


def _fmt_num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _did_you_mean(name: str, choices) -> str:
    """``"did you mean a or b? "`` for the choices nearest ``name`` (difflib's ratio of at least 0.6), or ``""``."""
    near = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(near)}? " if near else ""


def unknown_field(key: str, valid) -> str:
    """The error line for ``key``, not among the dotted paths ``valid``: the nearest names first, then the
    fields of its own section (the sections where its section is unknown), not a list of every path."""
    valid = sorted(valid)
    section = key.rpartition(".")[0]
    siblings = [v for v in valid if v.rpartition(".")[0] == section and v != section] if section else []
    listed = siblings or [v for v in valid if "." not in v] or valid
    where = f"{section} fields" if siblings else "known"
    return f"{key} is not a scenario field; {_did_you_mean(key, valid)}{where}: {', '.join(listed)}"


def format_errors(err: ValidationError, model: type[BaseModel] | None = None, prefix: str = "") -> list[str]:
    """One line per error: ``path=value problem; give a value in [lo, hi] unit``."""
    lines = []
    for e in err.errors():
        loc = tuple(e.get("loc", ()))
        path = ".".join(str(p) for p in (prefix.split(".") if prefix else []) + list(loc))
        value = e.get("input")
        rng, unit = _range_of(model, loc)
        etype = e.get("type", "")
        inner = (e.get("ctx") or {}).get("error")
        if isinstance(inner, SpecError):  # a nested spec already named its fields with full paths
            lines.extend(inner.lines)
            continue
        if etype == "extra_forbidden":
            allowed = sorted(_fields_at(model, loc[:-1]))
            lines.append(f"{path} is not a known field; {_did_you_mean(str(loc[-1]), allowed)}"
                         f"known fields: {', '.join(allowed)}")
            continue
        if etype == "missing":
            lines.append(f"{path} is required")
            continue
        if isinstance(value, float) and not math.isfinite(value):
            problem = "is not a finite number"
        else:
            problem = e.get("msg", "is invalid").replace("Value error, ", "")
            problem = problem[0].lower() + problem[1:] if problem else problem
        if isinstance(value, dict):  # a cross-field check: its message names the fields itself
            text = problem if (path + ".") in problem or not path else f"{path}: {problem}"
        else:
            text = f"{path}={value!r} {problem}"
        if rng is not None:
            text += f"; give a value in [{_fmt_num(rng[0])}, {_fmt_num(rng[1])}]" + (f" {unit}" if unit else "")
        lines.append(text)
    return lines


def _fields_at(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return []
        ann = model.model_fields[part].annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return list(model.model_fields) if model is not None else []
