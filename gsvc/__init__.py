"""gsvc: can diffusion-based semantic video communication run in real time over a real wireless link?

Public API::

    import gsvc
    from gsvc.scenarios import Scenario
    result = gsvc.run(Scenario(...))
    result.save("out/")
    same = gsvc.load_results("out/")
"""
__version__ = "0.1.0"

from .scenarios import RunResult, Scenario, load_run, run  # noqa: E402
from .spec import SpecError  # noqa: E402


def load_results(path):
    """Load a saved run (a folder written by ``RunResult.save``)."""
    return load_run(path)


__all__ = ["Scenario", "RunResult", "SpecError", "run", "load_results", "__version__"]
