"""Moved to :mod:`gsvc.timing.calibrate`; the old name still imports, with a DeprecationWarning."""
import warnings

from ..timing.calibrate import *  # noqa: F401,F403

warnings.warn("gsvc.codecs.calibrate moved to gsvc.timing.calibrate; import it from there", DeprecationWarning, stacklevel=2)
