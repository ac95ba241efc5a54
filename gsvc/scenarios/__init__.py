"""Scenario specs, the run entry point and results."""
from .result import RunResult, load_run
from .run import run
from .scenario import Scenario

__all__ = ["Scenario", "RunResult", "run", "load_run"]
