"""Scenario specs, the run entry point, results, presets, sweeps and their store."""
from .result import RunResult, load_run
from .run import run
from .scenario import Scenario
from .store import SweepResults, load_sweep
from .sweep import SweepError

# the sweep *function* is gsvc.sweep: binding it here would hide the module gsvc.scenarios.sweep
__all__ = ["Scenario", "RunResult", "run", "load_run", "SweepError", "SweepResults", "load_sweep"]
