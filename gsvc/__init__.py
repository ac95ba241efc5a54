"""gsvc: can diffusion-based semantic video communication run in real time over a real wireless link?

Public API::

    import gsvc
    from gsvc.scenarios.presets import demo_scenario
    sc = demo_scenario().updated({"video.seconds": 2})
    result = gsvc.run(sc)                              # RunResult: .frames, .summary
    result.save("gsvc-out/run")
    same = gsvc.load_results("gsvc-out/run")           # the RunResult again
    sw = gsvc.sweep(sc, grid={"codec.steps": [2, 4, 8], "receiver.gpus": [1, 2]}, seeds=2,
                    out="gsvc-out/steps-gpus")         # SweepResults
    print(sw.summary[["codec.steps", "receiver.gpus", "seed", "latency_ms_p95"]])
    again = gsvc.load_results("gsvc-out/steps-gpus")   # SweepResults: .summary, .frames
"""
from ._version import __version__
from .scenarios import RunResult, Scenario, load_run, run
from .scenarios.store import SweepResults, is_sweep_store
from .scenarios.sweep import sweep
from .spec import SpecError


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
