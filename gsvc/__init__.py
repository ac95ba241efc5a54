"""gsvc: can diffusion-based semantic video communication run in real time over a real wireless link?

Public API::

    import gsvc
    from gsvc.scenarios import Scenario, presets
    result = gsvc.run(Scenario(...))                  # RunResult: .frames, .summary
    result.save("out/")
    same = gsvc.load_results("out/")                  # the RunResult again
    sw = gsvc.sweep(presets.get_preset("cell-edge"), grid={"channel.snr_db": "0:20:5"},
                    seeds=3, out="runs/edge")          # SweepResults: .summary, .frames
    again = gsvc.load_results("runs/edge")            # the SweepResults again
"""
__version__ = "0.1.0"

from .scenarios import RunResult, Scenario, load_run, run  # noqa: E402
from .scenarios.store import SweepResults, is_sweep_store  # noqa: E402
from .scenarios.sweep import sweep  # noqa: E402
from .spec import SpecError  # noqa: E402


def load_results(path):
    """Load what a run or a sweep saved.

    A sweep store (a folder written by :func:`sweep`) gives its :class:`SweepResults`
    (``.summary``: one row per finished point with the grid values, replicate and
    seed as columns; ``.frames``: every point's per-frame log). A folder written by
    ``RunResult.save`` gives that :class:`RunResult`.
    """
    return SweepResults(path) if is_sweep_store(path) else load_run(path)


__all__ = ["Scenario", "RunResult", "SweepResults", "SpecError", "run", "sweep", "load_results",
           "__version__"]
