"""Codec names -> factories. Concrete codecs register here; the simulator looks them up."""
from __future__ import annotations

from typing import Callable

from .base import Codec

__all__ = ["register", "codec_names", "make_codec", "makes_images"]

_FACTORIES: dict[str, Callable] = {}


def register(name: str):
    """Class decorator: ``@register("cvsc")`` makes the codec available as ``codec.name="cvsc"``.

    The factory is called as ``factory(codec_spec, video_spec)``.
    """
    def deco(factory):
        _FACTORIES[name] = factory
        return factory
    return deco


def _load_builtin() -> None:
    from . import (anchor_residual, classic, content_motion, cvsc, full, lowres_only, oneshot, reuse,  # noqa: F401
                   synthetic, xr)  # (each registers itself)


def codec_names() -> list[str]:
    _load_builtin()
    return sorted(_FACTORIES)


def make_codec(codec_spec, video_spec) -> Codec:
    _load_builtin()
    return _FACTORIES[codec_spec.name](codec_spec, video_spec)


def makes_images(name: str) -> bool:
    """Whether codec ``name`` decodes to images (False for traffic models such as ``xr``); unknown: True
    (the codec spec names the unknown codec)."""
    _load_builtin()
    factory = _FACTORIES.get(name)
    return bool(getattr(factory, "makes_images", True)) if factory is not None else True
