"""Sweeps: run every point of a grid on a local process pool or a Dask cluster, into a store.

::

    import gsvc
    from gsvc.analysis import aggregate
    from gsvc.scenarios.presets import demo_scenario

    base = demo_scenario().updated({"video.seconds": 2})
    res = gsvc.sweep(base, grid={"channel.rate_mbps": "0.1,0.5,5", "codec.steps": [2, 4]},
                     seeds=2, out="gsvc-out/rate-steps")
    res.summary                          # one row per point: grid values, replicate, seed, metrics
    aggregate(res.summary, by=res.keys)  # mean and 95% confidence interval over the seeds

(``examples/snr_bandwidth_sweep.py`` sweeps SNR x bandwidth over a fading channel.)

Every point is validated before the first one runs. Points already in the store
(same spec hash) are skipped, so rerunning a killed or interrupted sweep resumes
it. A store holds one sweep definition at a time: rerunning with another grid or
base replaces it and reuses the points whose spec hash matches. Runs are
deterministic, so every executor gives the same tables.

Executors (``executor``):

- ``"local"``: ``workers`` processes started with ``spawn``, so torch is initialised in
  each worker and never forked after use;
- ``"dask"``: ``distributed.LocalCluster(processes=True, n_workers=workers,
  threads_per_worker=1)``, or the scheduler at ``address`` (its workers need gsvc
  installed; they need no access to ``out``, which only this process writes);
- ``"serial"``: one point after another in this process (debugging, profiling).

Points that differ only in their radio sections share most encodes and decodes; the
sweep runs them as a chain on one worker (:mod:`gsvc.scenarios.chains`), and every
worker's encoders and decoders go through the codec cache (:mod:`gsvc.codecs.cache`;
``cache``): in memory per worker, and in ``out/cache/`` shared by the workers and kept
for the next sweep into the same store. A hit is the same result by construction, so
the tables are those of ``cache="off"``; each point's ``meta["cache"]`` counts the calls
the cache served (:meth:`SweepResults.cache_counts`). When no chain is left, an idle
worker takes over the second half of the longest chain still running.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import sys
import tempfile
from datetime import datetime, timezone
from typing import Any, Mapping

from tqdm import tqdm

from .._version import __version__
from ..spec import SpecError
from .chains import chains
from .grid import SweepPoint, expand, grid_values
from .run import run
from .scenario import Scenario
from .store import SweepResults, SweepStore, encode_point

__all__ = ["sweep", "SweepError", "EXECUTORS", "CACHE_MODES"]

EXECUTORS = ("local", "dask", "serial")
#: ``cache``: ``"auto"`` (``"disk"``, or ``"memory"`` on a remote Dask cluster, whose workers may not
#: see ``out``), ``"disk"`` (memory + ``out/cache/``), ``"memory"`` (per worker), ``"off"``
CACHE_MODES = ("auto", "disk", "memory", "off")


class SweepError(RuntimeError):
    """Some points of a sweep failed; the points that finished are in the store."""


def _limit_threads(threads: int | None) -> None:
    """Give each worker ``threads`` intra-op threads so that workers do not fight over cores
    (``None``: leave the worker's settings alone, e.g. on a remote Dask cluster)."""
    if threads is None:
        return
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run_point(scenario: Scenario, params: dict, replicate: int, threads: int | None,
              cache: tuple | None = None) -> tuple[str, bytes, dict]:
    """Run one point in a worker; returns what the store writes (see :func:`store.encode_point`).

    ``cache``: ``(folder or None, memory_mb, disk_mb)`` of the worker's codec cache (None: no cache)."""
    _limit_threads(threads)
    from ..codecs.cache import process_cache
    return encode_point(run(scenario, cache=None if cache is None else process_cache(*cache)), params, replicate)


# --- executors: `slots` places to run; submit(slot, fn, *args) -> future, wait_any(futures) ->
# (done, pending), close(cancel). A slot runs what it is given in order, in one process. -----------
class _Serial:
    slots = 1

    def submit(self, slot: int, fn, *args) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args))
        except Exception as err:  # noqa: BLE001 - handed to the caller like a pool would
            fut.set_exception(err)
        return fut

    def wait_any(self, futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED)

    def close(self, cancel: bool) -> None:
        pass


class _LocalPool(_Serial):
    """One single-process pool per worker, so that a chain's points all run in the same process."""

    def __init__(self, workers: int):
        self.slots = workers
        ctx = multiprocessing.get_context("spawn")
        self.pools = [cf.ProcessPoolExecutor(1, mp_context=ctx) for _ in range(workers)]

    def submit(self, slot: int, fn, *args) -> cf.Future:
        return self.pools[slot].submit(fn, *args)

    def close(self, cancel: bool) -> None:
        for pool in self.pools:
            pool.shutdown(wait=not cancel, cancel_futures=cancel)


class _Dask:
    """Each worker thread of the cluster is a slot; a slot's points are submitted to its worker.

    A local cluster's workers keep glibc's own malloc thresholds: Dask's nanny would set
    ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``), and setting it at all
    turns off glibc's dynamic mmap threshold, so every tensor of a decode above 128 KiB is mapped,
    faulted in and unmapped again: a 4 s cvsc point took 12.4 s in such a worker, 8.5 s without it
    (6.7 s in a plain process). A variable this process's environment sets still reaches the workers.
    """

    def __init__(self, workers: int, address: str | None):
        import distributed
        self._wait = distributed.wait
        self.cluster = None
        if address:
            self.client = distributed.Client(address)
        else:
            import dask
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self.cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)
            self.client.wait_for_workers(workers)
        info = self.client.scheduler_info()["workers"]
        self.where = [addr for addr, w in sorted(info.items()) for _ in range(max(1, w.get("nthreads", 1)))] or [None]
        self.slots = len(self.where)

    def submit(self, slot: int, fn, *args):
        addr = self.where[slot]
        # loose restriction: the point prefers its chain's worker, but runs elsewhere if that one is gone
        return self.client.submit(fn, *args, pure=False, workers=None if addr is None else [addr],
                                  allow_other_workers=True)

    def wait_any(self, futures):
        res = self._wait(list(futures), return_when="FIRST_COMPLETED")
        return res.done, res.not_done

    def close(self, cancel: bool) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _executor(kind: str, workers: int, address: str | None):
    if kind == "serial":
        return _Serial()
    if kind == "local":
        return _LocalPool(workers)
    return _Dask(workers, address)


def _definition(base: Scenario, grid: Mapping, seeds: int, points: list[SweepPoint]) -> dict:
    return {"gsvc": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "base": base.model_dump(mode="json"), "grid": {k: grid_values(points, k) for k in grid},
            "seeds": seeds,
            "points": [{"spec_hash": p.spec_hash, "params": p.params, "replicate": p.replicate, "seed": p.seed}
                       for p in points]}


def sweep(base: Scenario, grid: Mapping[str, Any] | None = None, seeds: int = 1, executor: str = "local",
          workers: int | None = None, address: str | None = None, out: str | os.PathLike | None = None,
          progress: bool = True, cache: str = "auto", cache_memory_mb: float = 512.0,
          cache_disk_mb: float = 4096.0) -> SweepResults:
    """Run ``base`` at every point of ``grid`` x ``seeds`` replications and return the results.

    Args:
        base: the scenario every point starts from.
        grid: dotted scenario path -> values (a list, or text such as ``"0:20:5"`` or
            ``"5,10,20"``; see :mod:`gsvc.scenarios.grid`). ``None``: the base alone.
        seeds: replications per grid point (replication 0 keeps the point's seed).
        executor: ``"local"`` (process pool), ``"dask"`` or ``"serial"``.
        workers: worker processes (default: this machine's CPU count); ignored with ``address``.
        address: a Dask scheduler address (``executor="dask"`` only).
        out: store folder; points already there are not run again. ``None``: a new temporary folder.
        progress: show a progress bar with ETA on stderr.
        cache: the codec cache: ``"auto"``, ``"disk"``, ``"memory"`` or ``"off"`` (:data:`CACHE_MODES`).
        cache_memory_mb: bound of each worker's in-memory cache, MB.
        cache_disk_mb: bound of ``out/cache/``, MB (deleted least recently used first).

    Raises:
        SpecError: a grid key or value is invalid (nothing has run).
        SweepError: points failed (the others are saved; rerun to retry the failed ones).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r} is not one of {', '.join(EXECUTORS)}")
    if address and executor != "dask":
        raise ValueError(f"address={address!r} is a Dask scheduler; use it with executor='dask'")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers={workers!r} is not a number of processes; give an integer >= 1")
    if cache not in CACHE_MODES:
        raise ValueError(f"cache={cache!r} is not one of {', '.join(CACHE_MODES)}")
    for name, mb in (("cache_memory_mb", cache_memory_mb), ("cache_disk_mb", cache_disk_mb)):
        if isinstance(mb, bool) or not isinstance(mb, (int, float)) or not mb >= 0:
            raise ValueError(f"{name}={mb!r} is not a size; give a number of MB >= 0")
    if grid and "seed" in grid and seeds != 1:
        raise SpecError([f"grid seed and seeds={seeds} both set the seed; sweep one of them"])
    points = expand(base, grid, seeds)
    store = SweepStore(out if out is not None else tempfile.mkdtemp(prefix="gsvc-sweep-"))
    store.write_definition(_definition(base, grid or {}, seeds, points))
    finished = store.finished()
    todo = [p for p in points if p.spec_hash not in finished]
    if cache == "auto":
        cache = "memory" if address else "disk"
    cache_args = None if cache == "off" else (
        str(store.cache_dir) if cache == "disk" else None, float(cache_memory_mb), float(cache_disk_mb))
    if todo:
        _run_points(store, todo, len(points) - len(todo), executor, workers or os.cpu_count() or 1,
                    address, base.name, progress, cache_args)
    return SweepResults(store.root)


def _run_points(store: SweepStore, todo: list[SweepPoint], done_before: int, kind: str, workers: int,
                address: str | None, name: str, progress: bool, cache: tuple | None) -> None:
    workers = min(workers, len(todo)) if not address else workers
    ex = _executor(kind, workers, address)
    threads = None if address or kind == "serial" else max(1, (os.cpu_count() or 1) // ex.slots)
    depth = 1 if kind == "serial" else 2  # points queued per slot: one running, one ready behind it
    bar = tqdm(total=len(todo), desc=f"sweep {name}" + (f" ({done_before} already done)" if done_before else ""),
               unit="point", file=sys.stderr, dynamic_ncols=True, disable=not progress)
    queue = chains(todo)
    running: list[list[SweepPoint]] = [[] for _ in range(ex.slots)]  # per slot, its chain's points not submitted
    queued = [0] * ex.slots
    pending, failures = {}, []
    cancel = True
    try:
        while True:
            for slot in range(ex.slots):
                while queued[slot] < depth and not failures and _next_chain(slot, running, queue):
                    p = running[slot].pop(0)
                    pending[ex.submit(slot, run_point, p.scenario, p.params, p.replicate, threads, cache)] = (slot, p)
                    queued[slot] += 1
            if not pending:
                break
            done, _ = ex.wait_any(pending)
            for fut in done:
                slot, p = pending.pop(fut)
                queued[slot] -= 1
                try:
                    spec_hash, data, entry = fut.result()
                except Exception as err:  # noqa: BLE001 - reported below with the point that raised it
                    failures.append((p, err))
                    continue
                if spec_hash != p.spec_hash:
                    raise RuntimeError(f"point {p.params} ran as {spec_hash}, expected {p.spec_hash}: "
                                       f"the scenario did not survive the trip to the worker unchanged")
                store.write_point(spec_hash, data, entry)
                bar.update(1)
        cancel = False
    finally:
        bar.close()
        ex.close(cancel=cancel)
    if failures:
        lines = [f"{p.params or 'base'} replicate {p.replicate}: {type(e).__name__}: {e}" for p, e in failures]
        left = sum(map(len, running)) + sum(map(len, queue))
        skipped = f"; {left} points not started" if left else ""
        raise SweepError(f"{len(failures)} sweep points failed{skipped} (finished points are in "
                         f"{store.root}; rerun to retry):\n" + "\n".join(lines)) from failures[0][1]


def _next_chain(slot: int, running: list[list[SweepPoint]], queue: list[list[SweepPoint]]) -> bool:
    """Whether ``slot`` has a point to submit: the rest of its chain, else the next chain in the
    queue, else the second half of the longest chain another slot has not submitted yet."""
    if running[slot]:
        return True
    if queue:
        running[slot] = queue.pop(0)
        return True
    victim = max(range(len(running)), key=lambda s: len(running[s]))
    rest = running[victim]
    if len(rest) < 2:
        return False
    half = len(rest) // 2
    running[victim], running[slot] = rest[:half], rest[half:]
    return True
