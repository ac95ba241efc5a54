"""Analysis of result tables: statistics across seeds, receiver load over time, plots, HTML report.

Everything here takes pandas tables (a run's frames, a sweep's summary) and never
needs the simulator.
"""
from .capacity import capacity
from .inert import inert_keys, inert_note
from .plots import cell_throughput, frame_timeline, gpu_queue_timeline, latency_cdf
from .rd import bd_metric, bd_rate, rd_curves, rd_points
from .report import render_report, write_report
from .stats import KEY_METRICS, aggregate, ci_table, mean_ci, pareto_mask
from .sweep_plots import bandwidth_sweep, pareto_frontier, satisfied_users, snr_sweep, sweep_curves, users_sweep
from .timeseries import gpu_utilization, queue_length

__all__ = ["aggregate", "ci_table", "mean_ci", "pareto_mask", "KEY_METRICS", "latency_cdf", "frame_timeline",
           "gpu_queue_timeline", "sweep_curves", "snr_sweep", "bandwidth_sweep", "pareto_frontier",
           "queue_length", "gpu_utilization", "write_report", "render_report", "bd_rate", "bd_metric", "rd_curves",
           "rd_points", "cell_throughput", "users_sweep", "capacity", "satisfied_users", "inert_keys", "inert_note"]
