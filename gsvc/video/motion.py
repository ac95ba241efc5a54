"""Renamed gsvc.video.flow (what it holds: motion measured between frames, apart from the codecs' motion coding);
the old name still imports, with a DeprecationWarning."""
import warnings

from .flow import *  # noqa: F401,F403

warnings.warn("gsvc.video.motion was renamed gsvc.video.flow; import it from there",
              DeprecationWarning, stacklevel=2)
