"""Moved to :mod:`gsvc.timing`; the old name still imports, with a DeprecationWarning."""
import warnings

from ..timing import *  # noqa: F401,F403

warnings.warn("gsvc.codecs.latency moved to gsvc.timing; import it from there", DeprecationWarning, stacklevel=2)
