"""Renamed gsvc.video.stills (what it holds: synthetic still images, apart from the synthetic traffic codec);
the old name still imports, with a DeprecationWarning."""
import warnings

from .stills import *  # noqa: F401,F403

warnings.warn("gsvc.video.synthetic was renamed gsvc.video.stills; import it from there",
              DeprecationWarning, stacklevel=2)
