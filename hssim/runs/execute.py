"""Executing runs: one run of a config, and a list of jobs in this process or in worker
processes, with stored runs read back instead of run.

**Progress protocol**: ``progress(done, total, job, stored)`` after each job, ``done``
counting from 1, ``stored`` true when the job was read back from the store rather
than run. Stored jobs are reported first (in job order) when workers run the rest,
and in job order otherwise.

**Workers**: ``workers > 1`` runs the jobs in that many spawned processes, each with
``threads`` numba threads (default: this process's cores shared out among the
workers); results do not depend on either (counter-based draws, integer sums). A
worker ignores SIGINT (Ctrl-C reaches the whole process group: the parent alone
handles it) and ends with its parent, even one killed with SIGKILL. When the parent
is interrupted or fails, queued jobs are cancelled and running workers terminated.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .design import RunKey
from .store import RunStore

__all__ = ["Job", "ProgressFn", "default_workers", "execute", "run_results", "threads_per_worker"]


@dataclass(frozen=True)
class Job:
    """One run to execute: its key, its config (a plain mapping or a Config, picklable)
    and the fingerprint under which it is stored."""

    key: RunKey
    config: Any
    fingerprint: str = ""


ProgressFn = Callable[[int, int, Job, bool], None]


def run_results(cfg: Any, validate: bool = False, progress=None):
    """One simulation of ``cfg`` (DictConfig, mapping or Config) -> :class:`~hssim.results.Results`.

    ``progress(tick, n_ticks)`` after each month; ``validate`` checks the state
    invariants after every month (slower).
    """
    from ..config.build import build_engine
    from ..results import Results

    engine = build_engine(cfg, validate=validate)
    return Results.from_record(engine.run(progress=progress), engine.cfg)


def default_workers() -> int:
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    """numba threads for each of ``workers`` processes: the cores shared out, at least 1."""
    return max(1, default_workers() // max(1, int(workers)))


def _worker_init(threads: int, parent: int) -> None:
    import signal

    import numba

    from ..cliutil import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a worker whose parent died while it was starting exits here instead of running
    die_with_parent(parent)
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def _timed(evaluate: Callable[[Any], Any], config: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = evaluate(config)
    return out, time.perf_counter() - t0


def execute(
    jobs: Sequence[Job],
    evaluate: Callable[[Any], Any],
    workers: int = 1,
    threads: int | None = None,
    store: RunStore | None = None,
    decode: Callable[[Mapping[str, Any]], Any] | None = None,
    encode: Callable[[Any], Mapping[str, Any]] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[dict[RunKey, Any], dict[str, int]]:
    """Execute ``jobs``: ``evaluate(job.config)`` for each, unless the store holds it.

    Parameters
    ----------
    jobs : the runs, in the order they are reported and run here
    evaluate : a module-level function (workers receive it by reference) from a
        config to the run's payload (e.g. its outcomes and costs)
    workers : processes; 1 runs every job in this process, in order
    threads : numba threads per worker (default :func:`threads_per_worker`)
    store : where each finished run is written as soon as it finishes and read back
        from (matched by key, replicate, seed and ``job.fingerprint``)
    decode : stored document -> payload, or None to run the job again (required with ``store``)
    encode : payload -> the mapping stored (default: the payload itself)
    progress : see the module docstring

    Returns
    -------
    (payloads by run key, counts ``{"executed": n, "stored": n}``)
    """
    if store is not None and decode is None:
        raise ValueError("execute: a store needs a decode function")
    total = len(jobs)
    done: dict[RunKey, Any] = {}
    counts = {"executed": 0, "stored": 0}
    found: list[tuple[Job, Any]] = []
    for job in jobs:
        got = None
        if store is not None:
            doc = store.load(job.key.arm, job.key.replicate, job.key.seed, job.fingerprint)
            got = decode(doc) if doc is not None else None
        found.append((job, got))

    def report(job: Job, stored: bool) -> None:
        if progress is not None:
            progress(counts["executed"] + counts["stored"], total, job, stored)

    def read_back(job: Job, got: Any) -> None:
        done[job.key] = got
        counts["stored"] += 1
        report(job, True)

    def finished(job: Job, got: Any, wall_s: float) -> None:
        done[job.key] = got
        counts["executed"] += 1
        if store is not None:
            k = job.key
            store.save(k.arm, k.replicate, k.seed, job.fingerprint, encode(got) if encode else got, wall_s)
        report(job, False)

    to_run = [job for job, got in found if got is None]
    workers = max(1, min(int(workers), len(to_run)))
    if workers == 1:
        for job, got in found:
            if got is not None:
                read_back(job, got)
            else:
                finished(job, *_timed(evaluate, job.config))
        return done, counts

    import concurrent.futures as cf
    import multiprocessing as mp

    for job, got in found:
        if got is not None:
            read_back(job, got)
    n_threads = threads_per_worker(workers) if threads is None else int(threads)
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                initargs=(n_threads, os.getpid())) as pool:
        futures = {pool.submit(_timed, evaluate, job.config): job for job in to_run}
        try:
            for fut in cf.as_completed(futures):
                finished(futures[fut], *fut.result())
        except BaseException:
            # queued runs are cancelled by the pool itself (a future cancelled behind its back
            # breaks its manager thread); runs in flight are not waited for
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            raise
    return done, counts
