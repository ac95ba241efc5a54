"""Renamed gsvc.netsim.receiverspec (what it holds: the jitter buffer's and the receiver's specs);
the old name still imports, with a DeprecationWarning."""
import warnings

from .receiverspec import *  # noqa: F401,F403

warnings.warn("gsvc.netsim.specs was renamed gsvc.netsim.receiverspec; import it from there",
              DeprecationWarning, stacklevel=2)
