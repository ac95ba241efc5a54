"""Codec names -> codec classes, each with what it can do; the simulator and the validation look here.

A codec class declares itself once, in its own module, with class attributes:

* ``name``: the ``codec.name`` that selects it;
* ``capabilities``: a subset of :data:`CAPABILITIES` (validation reads these, never name lists);
* ``makes_images``, ``group_frames``, ``uses_pixels``: the :class:`~gsvc.codecs.base.Codec` protocol;
* optionally ``default_fps``: the capture rate a scenario takes when its ``video.fps`` is not given;
* optionally ``spec_defaults``: ``{field: value}`` of :class:`~gsvc.codecs.spec.CodecSpec` fields whose
  default for this codec differs from the shared one (its tuned operating point); a value the
  user gives wins, and switching ``codec.name`` with :meth:`Scenario.updated` takes the new codec's;
* optionally ``spec_problem(spec) -> str | None`` (a classmethod): why this codec cannot run with
  ``spec`` (a :class:`~gsvc.codecs.spec.CodecSpec`), checked when the spec is made, and
  ``rate_problem(spec) -> str | None``: why ``link.rate_control`` has nothing to steer with ``spec``.

The built-in codecs are listed in :mod:`gsvc.codecs.catalog`; a codec of one's own is added with
:func:`register` (``register(MyCodec)``, or ``@register`` on the class) before the scenario is made.
The class is called as ``cls(codec_spec, video_spec)``.
"""
from __future__ import annotations

from typing import Callable

from ..registry import Registry

__all__ = ["CAPABILITIES", "CODECS", "register", "codec_names", "codec_class", "make_codec", "makes_images", "has",
           "names_with", "problem_of", "spec_defaults"]

#: what a codec may declare it can do, and what each lets validation allow
CAPABILITIES = {
    "diffusion": "runs the denoiser back-end of codec.model (the model must exist and serve the video's side)",
    "lowres": "sends the low-res frame of gsvc.codecs.lowres (its factor must divide the frame)",
    "reference": "decodes deltas from a reference, so codec.control='adaptive' can adapt it",
    "lowres_chain": "can predict each delta's low-res frame from the previous frame's (codec.lowres_reference)",
    "rate": "its rate can change while it runs, so link.rate_control can steer it",
    "rate_ceiling": "its rate follows its settings, which its encoder's set_target_kbps coarsens to a target: a given "
                    "codec.bitrate_kbps caps its rate without link.rate_control too",
}

#: every codec class, by name (the built-ins added on first use)
CODECS: Registry[type] = Registry("codec.name", "codec", "gsvc.codecs.registry.register")


def register(cls: type | None = None, *, replace: bool = False):
    """Make codec class ``cls`` available as ``codec.name=cls.name`` (usable as ``@register``).

    ``cls.capabilities`` must be a subset of :data:`CAPABILITIES`; a name already taken is refused
    unless ``replace``.
    """
    def add(c: type) -> type:
        name = getattr(c, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"register: {c.__name__} has no name (a class attribute: the codec.name that selects it)")
        unknown = set(getattr(c, "capabilities", ())) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"register: {name!r} declares unknown capabilities {sorted(unknown)}; "
                             f"known: {', '.join(CAPABILITIES)}")
        _load_builtin()
        if name in CODECS and CODECS[name] is not c and not replace:
            raise ValueError(f"register: codec.name={name!r} is taken by {CODECS[name].__qualname__}; "
                             "choose another name or pass replace=True")
        CODECS.add(name, c, replace=True)
        return c
    return add if cls is None else add(cls)


def _load_builtin() -> None:
    """Add the built-ins of :mod:`.catalog` to :data:`CODECS` (once per registry object: a copy a test
    swaps in gets them too)."""
    if not getattr(CODECS, "builtin_loaded", False):
        CODECS.builtin_loaded = True
        from .catalog import BUILTIN
        for c in BUILTIN:
            CODECS.setdefault(c.name, c)


def codec_names() -> list[str]:
    _load_builtin()
    return sorted(CODECS)


def codec_class(name: str) -> type:
    """The class registered as ``name`` (ValueError naming the known ones if none)."""
    _load_builtin()
    return CODECS.entry(name)


def make_codec(codec_spec, video_spec):
    return codec_class(codec_spec.name)(codec_spec, video_spec)


def has(name: str, capability: str) -> bool:
    """Whether codec ``name`` declares ``capability`` (one of :data:`CAPABILITIES`)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"{capability!r} is not a codec capability; known: {', '.join(CAPABILITIES)}")
    return capability in getattr(codec_class(name), "capabilities", ())


def names_with(capability: str) -> list[str]:
    """The registered codecs that declare ``capability``, sorted."""
    return [n for n in codec_names() if has(n, capability)]


def makes_images(name: str) -> bool:
    """Whether codec ``name`` decodes to images (False for traffic models such as ``xr``); unknown: True
    (the codec spec names the unknown codec)."""
    _load_builtin()
    c = CODECS.get(name)
    return bool(getattr(c, "makes_images", True)) if c is not None else True


def problem_of(name: str, hook: str, spec) -> str | None:
    """What codec ``name``'s optional check ``hook`` (``spec_problem`` or ``rate_problem``) says of ``spec``."""
    check: Callable | None = getattr(codec_class(name), hook, None)
    return None if check is None else check(spec)


def spec_defaults(name: str) -> dict:
    """The ``CodecSpec`` fields codec ``name`` defaults differently (``{}`` for an unknown name)."""
    if name not in codec_names():
        return {}
    return dict(getattr(codec_class(name), "spec_defaults", {}) or {})
