"""Moved to :mod:`gsvc.timing.flops`; the old name still imports, with a DeprecationWarning."""
import warnings

from ..timing.flops import *  # noqa: F401,F403

warnings.warn("gsvc.codecs.flops moved to gsvc.timing.flops; import it from there", DeprecationWarning, stacklevel=2)
