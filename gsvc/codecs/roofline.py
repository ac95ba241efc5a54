"""Moved to :mod:`gsvc.timing.roofline`; the old name still imports, with a DeprecationWarning."""
import warnings

from ..timing.roofline import *  # noqa: F401,F403

warnings.warn("gsvc.codecs.roofline moved to gsvc.timing.roofline; import it from there", DeprecationWarning, stacklevel=2)
