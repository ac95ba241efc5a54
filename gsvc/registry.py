"""The one shape of gsvc's registries: names -> entries of one kind, in the order they were added.

Codecs (``codec.name``), metrics (``metrics``), channel models (``channel.model``), scheduling rules
(``cell.scheduler``) and latency models (``receiver.latency="model:NAME"``) are each one
:class:`Registry`: each entry declares itself once, where it is defined; a spec validates a name with
:meth:`Registry.problem` (which names the known entries and how to add one) and code that runs it
looks it up with :meth:`Registry.entry`. A registry is a ``dict``, so ``name in REG`` and ``REG[name]``
work as for one.
"""
from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(dict, Generic[T]):
    """Entries of one kind by name.

    Args:
        setting: the scenario setting that names an entry (``"channel.model"``), for messages.
        what: what an entry is (``"channel model"``), for messages.
        how: the call that adds one (``"gsvc.netsim.channel.models.register"``), for messages.
        prefix: what the setting writes before a name (``"model:"`` in ``receiver.latency``).
    """

    def __init__(self, setting: str, what: str, how: str, prefix: str = ""):
        super().__init__()
        self.setting, self.what, self.how, self.prefix = setting, what, how, prefix

    def add(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` as ``name``; a name taken by another entry is refused unless ``replace``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.how}: a {self.what} needs a name (the {self.setting} that selects it)")
        if name in self and self[name] != entry and not replace:
            raise ValueError(f"{self.how}: {self.setting}={self.prefix + name!r} is taken; choose another name or pass "
                             "replace=True")
        self[name] = entry
        return entry

    def names(self) -> list[str]:
        """Every entry's name, in the order added (built-ins first)."""
        return list(self)

    def problem(self, name: str) -> str | None:
        """Why ``name`` selects nothing (for a spec's validator, which puts ``setting=name`` before it), or None."""
        if name in self:
            return None
        known = ", ".join(self.prefix + n for n in self) or "none yet"
        return f"names no {self.what}; known: {known} (add one with {self.how})"

    def entry(self, name: str) -> T:
        """The entry ``name`` selects; a ValueError naming the known ones if none."""
        if name not in self:
            raise ValueError(f"{self.setting}={self.prefix + name!r} {self.problem(name)}")
        return self[name]

    def copy(self) -> "Registry[T]":
        """A registry with the same entries (a test registers into it and puts the original back)."""
        out = Registry(self.setting, self.what, self.how, self.prefix)
        out.update(self)
        return out
