"""Write a file so that a reader sees either the old file or the whole new one, never half of it.

The bytes go to a temporary file with a unique name in the same folder (so two writers of
the same path never share one), which is then renamed over the target with ``os.replace``
(atomic on one file system). The temporary name is ``.<name>.<random>.tmp``: hidden, and
ending in ``.tmp`` so that folder scans can tell it from a finished file and clear one a
killed writer left behind. On any error the temporary file is removed and the error raised.

The finished file gets the permissions a plain ``open(path, "w")`` would give it
(``0o666`` less the umask), not the private ``0o600`` of ``tempfile.mkstemp``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["write_atomic", "write_bytes_atomic"]


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put back at once
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Make ``path`` by calling ``write(tmp)`` on a temporary path beside it, then renaming.

    ``write`` receives the temporary path as a ``str`` and must write the whole file there
    (``frames.to_parquet(tmp)``, ``torch.save(obj, tmp)``, ...). The folder must exist.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Make ``path`` hold ``data``, atomically (see :func:`write_atomic`)."""
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))
