"""What every cache key of a codec holds besides the coder's state and its input.

* :func:`environment`: the versions of gsvc and of the libraries whose numbers end up in
  an image (torch, NumPy, SciPy, diffusers), torch's intra-op thread count and
  :data:`FORMAT`. The thread count is there because PyTorch's elementwise kernels round
  the tail of each thread's chunk differently: the same frame decoded with 1 and with 2
  threads differs in the last bits. ``gsvc.run`` decodes with one thread whatever its
  caller set (:func:`gsvc.scenarios.run.one_torch_thread`), so within runs it is always 1;
  a coder called outside a run keys on its own count.
* :func:`model_digest`: a SHA-256 over the bytes of every file of the model back-end
  ``codec.model`` / ``codec.weights`` names (the shipped safetensors and its config, or
  every file of a diffusers folder), computed once per process and file version.
* :func:`codec_digest`: the codec's whole spec and the video spec it was made for, the
  coder's class, the environment and the model. Every codec field is in it, not only those
  a decoder reads today: a field left out by mistake would make the cache lie, while one
  kept needlessly only costs hits in sweeps over that field, whose bytes mostly differ anyway.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

__all__ = ["FORMAT", "environment", "model_digest", "codec_digest", "key_of"]

#: version of the cache's keys and entries; bumped whenever either changes meaning, or the same inputs
#: code to other outputs (2: decodes run with one intra-op thread, so an entry no longer depends on the
#: thread count of the process that made it; 3: motion refined by least squares and a delta's label map
#: sent intra when shorter, so the same frame encodes to other bytes; 4: half-side motion blocks, a flag per
#: empty low-res block and the cubic low-res predictor, so the same frame encodes to other bytes and the
#: same low-res bytes decode to another frame; 5: intra low-res frames deblocked in the loop, so the same
#: bytes decode to another frame and the deltas predicted from it encode to other bytes; 6: the range
#: coder's shortest flush, a shorter motion header, intra DCs predicted by the median predictor and the
#: models started from counted priors, so the same frame encodes to fewer bytes; 7: a last flag after each
#: non-zero coefficient, counted priors for label and edge maps and a 4-byte label header, so the same frame
#: encodes to other bytes; 8: each intra low-res frame of 64 px or more sent with the transform of lower
#: rate-distortion cost, so the same frame encodes to other bytes; 9: adaptive control's confidence weighs
#: each pixel by its contrast, so the same frame under ``control="adaptive"`` encodes to other bytes; 10:
#: ``content_motion``'s anchors under adaptive control carry their own frame's conditions where the warped
#: content explains it poorly, so the same group encodes to other bytes and its anchor decodes to another frame;
#: 11: ``anchor_residual``'s anchors and ``reuse``'s schedule follow ``codec.anchor_steps``, which they ignored,
#: so the same spec decodes to other frames)
FORMAT = 11


def environment() -> dict:
    """Library versions, torch's thread count and device facts that change what a coder computes."""
    import torch

    from ..._version import __version__
    return {"format": FORMAT, "gsvc": __version__, **_versions(), "torch_threads": torch.get_num_threads()}


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    out = {}
    for dist in ("torch", "numpy", "scipy", "diffusers"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _model_files(spec) -> list[Path]:
    """The files whose bytes make up the model ``spec.model`` / ``spec.weights`` name."""
    from ..backends import SHIPPED
    if spec.model == SHIPPED:
        from ..model import default_weights_path
        p = Path(spec.weights) if spec.weights else default_weights_path()
        return [p, p.with_suffix(".json")]
    root = Path(spec.model)
    return sorted(f for f in root.rglob("*") if f.is_file())


def model_digest(spec) -> str:
    """Hex SHA-256 of the model back-end's files (names and bytes; a missing file counts as missing)."""
    files = _model_files(spec)
    h = hashlib.sha256()
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            h.update(f"{f.name}:missing\n".encode())
            continue
        h.update(f"{f.name}:{_file_digest(str(f), st.st_size, st.st_mtime_ns)}\n".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of one file's bytes (memoised per path, size and modification time)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def codec_digest(codec, coder) -> str:
    """Hex digest of everything about ``coder`` (an encoder or decoder of ``codec``) but its state."""
    spec = codec.spec
    blob = {"env": environment(), "coder": f"{type(coder).__module__}:{type(coder).__qualname__}",
            "codec": spec.model_dump(mode="json"),
            "video": codec.video.model_dump(mode="json") if hasattr(codec, "video") else None,
            "model": model_digest(spec) if hasattr(spec, "model") else None}
    return key_of(blob)


def key_of(parts: dict) -> str:
    """Hex SHA-256 of a JSON-able dict (sorted keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
