"""Pictures from matplotlib's sample data (``matplotlib.cbook.get_sample_data``): the real content
gsvc may be developed and tuned on.

Every image there that is a picture, or can be rendered as one, ``[H, W, 3]`` float32 in [0, 1]:

* ``grace_hopper``: ``grace_hopper.jpg``, a photograph (512 x 600);
* ``minduka``: ``Minduka_Present_Blue_Pack.png``, a drawn icon (128 x 128, on white where transparent);
* ``mpl_logo``: ``logo2.png``, matplotlib's logo: text and flat colours (542 x 130, on white);
* ``jacksboro_relief``: the elevation model ``jacksboro_fault_dem.npz`` rendered as shaded relief
  (:class:`matplotlib.colors.LightSource`, light from the north-west at 45 deg, ``gist_earth``
  colours, ``overlay`` blending, vertical exaggeration 1 on metre spacing, as matplotlib's
  ``topographic_hillshading`` example renders it);
* ``topobathy_relief``: the topography and bathymetry of ``topobathy.npz`` likewise, in the
  ``terrain`` colours with sea level at the colour map's coast (``TwoSlopeNorm``, as matplotlib's
  colormap-normalisation example shows it);
* ``mri``: the MRI slice ``s1045.ima.gz`` (256 x 256 16-bit integers, read as matplotlib's
  ``mri_demo`` example reads them), grey.

``bivariate_normal.npy`` (15 x 15 samples of a smooth function) is left out: at any size it is
one smooth blob, nothing a codec can be tuned on. Images shipped with scikit-image, scikit-learn,
imageio, OpenCV and similar packages are never read: they are kept for independent evaluation.
"""
from __future__ import annotations

import gzip
from functools import lru_cache

import numpy as np

__all__ = ["SAMPLE_PICTURES", "sample_picture"]

#: metres per degree of latitude (the mean meridian degree, as matplotlib's hillshading example uses)
_M_PER_DEG = 111_200.0


def _path(name: str) -> str:
    import matplotlib.cbook as cbook
    return str(cbook.get_sample_data(name, asfileobj=False))


def _on_white(rgba: np.ndarray) -> np.ndarray:
    """``[H, W, 4]`` in [0, 1] composited over white -> ``[H, W, 3]``."""
    a = rgba[..., 3:4]
    return rgba[..., :3] * a + (1.0 - a)


def _png(name: str) -> np.ndarray:
    import matplotlib.image as mpimg
    img = np.asarray(mpimg.imread(_path(name)), np.float32)
    return _on_white(img) if img.shape[-1] == 4 else img[..., :3]


def _grace_hopper() -> np.ndarray:
    import matplotlib.image as mpimg
    return np.asarray(mpimg.imread(_path("grace_hopper.jpg")), np.float32) / 255.0


def _relief(z: np.ndarray, dx_m: float, dy_m: float, cmap: str, norm=None) -> np.ndarray:
    import matplotlib as mpl
    from matplotlib.colors import LightSource
    ls = LightSource(azdeg=315, altdeg=45)
    rgb = ls.shade(np.asarray(z, np.float64), cmap=mpl.colormaps[cmap], norm=norm, blend_mode="overlay",
                   vert_exag=1.0, dx=dx_m, dy=dy_m)
    return rgb[..., :3]


def _jacksboro() -> np.ndarray:
    with np.load(_path("jacksboro_fault_dem.npz")) as dem:
        z, dx, dy, y0 = dem["elevation"], float(dem["dx"]), float(dem["dy"]), float(dem["ymin"])
    return _relief(z, _M_PER_DEG * dx * np.cos(np.radians(y0)), _M_PER_DEG * dy, "gist_earth")


def _topobathy() -> np.ndarray:
    from matplotlib.colors import TwoSlopeNorm
    with np.load(_path("topobathy.npz")) as d:
        z, lon, lat = d["topo"], d["longitude"], d["latitude"]
    dx = _M_PER_DEG * float(np.abs(np.diff(lon)).mean()) * np.cos(np.radians(float(lat.mean())))
    dy = _M_PER_DEG * float(np.abs(np.diff(lat)).mean())
    # terrain's coast sits at a quarter of the map: sea below 0 m, land above
    norm = TwoSlopeNorm(vmin=float(z.min()), vcenter=0.0, vmax=float(z.max()))
    return _relief(z, dx, dy, "terrain", norm)


def _mri() -> np.ndarray:
    with gzip.open(_path("s1045.ima.gz")) as f:
        im = np.frombuffer(f.read(), "<u2").reshape(256, 256).astype(np.float32)
    return np.repeat((im / im.max())[..., None], 3, axis=-1)


#: picture name -> how it is read or rendered
SAMPLE_PICTURES = {
    "grace_hopper": _grace_hopper,
    "minduka": lambda: _png("Minduka_Present_Blue_Pack.png"),
    "mpl_logo": lambda: _png("logo2.png"),
    "jacksboro_relief": _jacksboro,
    "topobathy_relief": _topobathy,
    "mri": _mri,
}


@lru_cache(maxsize=None)
def _cached(name: str) -> np.ndarray:
    img = np.clip(np.asarray(SAMPLE_PICTURES[name](), np.float32), 0.0, 1.0)
    img.setflags(write=False)
    return img


def sample_picture(name: str) -> np.ndarray:
    """The picture ``name`` of :data:`SAMPLE_PICTURES`: ``[H, W, 3]`` float32 in [0, 1], read-only."""
    if name not in SAMPLE_PICTURES:
        raise ValueError(f"name={name!r} is not a sample picture; known: {', '.join(SAMPLE_PICTURES)}")
    return _cached(name)
