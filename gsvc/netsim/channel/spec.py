"""Renamed gsvc.netsim.channel.linkspec (what it holds: ChannelSpec and LinkSpec, beside cellspec);
the old name still imports, with a DeprecationWarning."""
import warnings

from .linkspec import *  # noqa: F401,F403
from .linkspec import __getattr__  # noqa: F401  (MODELS, LINK_LEVEL_MODELS)

warnings.warn("gsvc.netsim.channel.spec was renamed gsvc.netsim.channel.linkspec; import it from there",
              DeprecationWarning, stacklevel=2)
