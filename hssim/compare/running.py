"""Running a planned comparison: every arm on the same seeds, in this process or in
worker processes, each finished run stored in the run folder
(``runs/<arm>__r<k>.json``, with ``spec.json``) so that an interrupted comparison
continues where it stopped (:func:`resume`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from ..errors import UserError
from ..polyrisk import _jsonable
from ..results import atomic_write
from .outcomes import run_costs, run_outcomes
from .planning import ComparisonPlan, _fingerprint, plan
from .result import ComparisonResult
from .stats import BOOTSTRAP_SEED, N_BOOT

ProgressFn = Callable[[int, int, str, int, bool], None]


# -- running --------------------------------------------------------------------------------


def _slug(arm: str) -> str:
    """A file-name-safe form of an arm name (unchanged when already safe)."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}", arm):
        return arm
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", arm).strip("._")[:60] or "arm"
    return f"{clean}-{hashlib.sha1(arm.encode()).hexdigest()[:8]}"


def run_file(run_dir: str | os.PathLike, arm: str, replicate: int) -> Path:
    """Where the outcomes of run ``replicate`` of ``arm`` are stored."""
    return Path(run_dir) / "runs" / f"{_slug(arm)}__r{replicate}.json"


def _load_stored(path: Path, arm: str, seed: int, fingerprint: str) -> dict | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if (not isinstance(doc, dict) or doc.get("arm") != arm or doc.get("seed") != seed
            or doc.get("fingerprint") != fingerprint or not isinstance(doc.get("outcomes"), dict)):
        return None
    outcomes = {str(k): (math.nan if v is None else float(v)) for k, v in doc["outcomes"].items()}
    return {"outcomes": outcomes, "costs": list(doc.get("costs") or [])}


def _run_one(config: Mapping[str, Any]) -> tuple[dict, float]:
    """One run from a plain config mapping -> (outcomes and costs, wall seconds)."""
    from ..api import run

    t1 = time.perf_counter()
    res = run(config)
    return {"outcomes": run_outcomes(res), "costs": run_costs(res)}, time.perf_counter() - t1


def _worker_init() -> None:
    # one numba thread per worker process: at planner sizes a run is dominated by
    # per-month overheads, so processes use the cores better than threads (results
    # do not depend on the thread count)
    import signal

    import numba

    from ..cliutil import die_with_parent

    numba.set_num_threads(1)
    # Ctrl-C reaches the whole process group: the parent alone handles it (and stops
    # the workers); a worker ends with its parent, even one killed with SIGKILL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def default_workers() -> int:
    """Worker processes for a comparison: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def execute(p: ComparisonPlan, run_dir: str | os.PathLike | None = None, progress: ProgressFn | None = None,
            n_boot: int = N_BOOT, bootstrap_seed: int = BOOTSTRAP_SEED, workers: int = 1) -> ComparisonResult:
    """Run a validated plan and analyse it.

    With ``run_dir``, runs already stored there with the same config fingerprint are
    read instead of run, and each new run is stored as soon as it finishes.
    ``progress(k, n_runs, arm, replicate, stored)`` after each run (``stored``: read
    back from ``run_dir`` rather than run). ``workers`` > 1 runs in that many worker
    processes (one numba thread each); ``workers=1`` runs here, replicate by
    replicate. The results are the same either way: a run depends only on its
    config and seed.
    """
    from ..config.validate import to_dict

    if run_dir is not None:
        (Path(run_dir) / "runs").mkdir(parents=True, exist_ok=True)
        spec = json.dumps(_jsonable(p.spec()), indent=2) + "\n"
        atomic_write(Path(run_dir) / "spec.json", lambda q: q.write_text(spec))
    total = p.replicates * len(p.arms)
    done: dict[tuple[str, int], dict] = {}
    jobs = []  # (arm, replicate, seed, fingerprint, path, plain config)
    k = executed = stored = 0
    t0 = time.perf_counter()
    for r in range(p.replicates):
        seed = p.base_seed + r
        for arm in p.arms:
            cfg = p.config(arm, r)
            plain = to_dict(cfg)
            fp = _fingerprint(plain)
            path = run_file(run_dir, arm, r) if run_dir is not None else None
            got = _load_stored(path, arm, seed, fp) if path is not None and path.exists() else None
            jobs.append(((arm, r, seed, fp, path, plain), got))

    def read_back(job, got) -> None:
        nonlocal k, stored
        arm, r = job[0], job[1]
        done[(arm, r)] = got
        stored += 1
        k += 1
        if progress is not None:
            progress(k, total, arm, r, True)

    def finished(job, got, wall_s) -> None:
        nonlocal k, executed
        arm, r, seed, fp, path, _ = job
        done[(arm, r)] = got
        executed += 1
        if path is not None:
            doc = {"arm": arm, "replicate": r, "seed": seed, "fingerprint": fp, "wall_s": round(wall_s, 3), **got}
            text = json.dumps(_jsonable(doc), indent=1) + "\n"
            atomic_write(path, lambda q, t=text: q.write_text(t))
        k += 1
        if progress is not None:
            progress(k, total, arm, r, False)

    to_run = [job for job, got in jobs if got is None]
    workers = max(1, min(int(workers), len(to_run)))
    if workers == 1:  # in plan order, here
        for job, got in jobs:
            if got is not None:
                read_back(job, got)
            else:
                got, wall_s = _run_one(job[5])
                finished(job, got, wall_s)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        for job, got in jobs:
            if got is not None:
                read_back(job, got)
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init) as pool:
            futures = {pool.submit(_run_one, job[5]): job for job in to_run}
            try:
                for fut in cf.as_completed(futures):
                    got, wall_s = fut.result()
                    finished(futures[fut], got, wall_s)
            except BaseException:
                # queued runs are cancelled by the pool itself (a future cancelled behind its back
                # breaks its manager thread); runs in flight are not waited for
                procs = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.terminate()
                raise
    rows, cost_rows = [], []
    for r in range(p.replicates):  # a fixed order, whatever order the runs finished in
        seed = p.base_seed + r
        for arm in p.arms:
            got = done[(arm, r)]
            for name, value in got["outcomes"].items():
                rows.append((arm, r, seed, name, value))
            for c in got["costs"]:
                cost_rows.append({"arm": arm, "replicate": r, **c})
    runs = pd.DataFrame(rows, columns=["arm", "replicate", "seed", "outcome", "value"])
    cost_cols = ["arm", "replicate", "intervention", "kind", "sector", "cost_usd", "household_months_served"]
    cost_runs = pd.DataFrame(cost_rows, columns=cost_cols)
    first = p.configs[next(iter(p.configs))]
    meta = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "replicates": p.replicates,
        "base_seed": p.base_seed,
        "seeds": p.seeds,
        "overrides": p.overrides,
        "scenario": first.scenario.name,
        "storyline": first.storyline.name,
        "months": int(first.months),
        "spinup_months": int(first.spinup_months),
        "households": int(first.population.households),
        "districts": list(p.scenario.names) if p.scenario is not None else [],
        "config_fingerprints": {a: _fingerprint(to_dict(dataclasses.replace(c, seed=0))) for a, c in p.configs.items()},
        "runs_executed": executed,
        "runs_stored": stored,
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    from .. import __version__

    meta["hssim_version"] = __version__
    return ComparisonResult.from_runs(runs, p.arms, p.reference, cost_runs, p.pairs, meta, n_boot, bootstrap_seed)


def compare(
    arms,
    replicates: int = 20,
    base_seed: int | None = None,
    reference: str | None = None,
    overrides: Sequence[str] = (),
    progress: ProgressFn | None = None,
    run_dir: str | os.PathLike | None = None,
    early_vs_late: Sequence[tuple[str, str]] | None = None,
    n_boot: int = N_BOOT,
    bootstrap_seed: int = BOOTSTRAP_SEED,
    workers: int = 1,
) -> ComparisonResult:
    """Run every arm on the same seeds and compare them with the reference.

    Parameters
    ----------
    arms : mapping arm -> list of overrides, or list of policy preset names
        (each ``name`` becomes ``["policy=<name>"]``; a missing preset is a UserError)
    replicates : int >= 2  seeds ``base_seed .. base_seed + replicates - 1``
    base_seed : int, optional  (default: ``seed`` of the config composed from ``overrides``)
    reference : str, optional  the arm the others are compared with (default: the first)
    overrides : list of str  Hydra overrides common to every arm (before the arm's own)
    progress : callable, optional  ``progress(k, n_runs, arm, replicate, stored)``
    run_dir : path, optional  store each run in ``run_dir/runs/`` and skip stored ones
    early_vs_late : list of (early, late), optional  pairs besides the
        ``anticipatory_<x>`` / ``reactive_<x>`` ones
    n_boot, bootstrap_seed : the paired bootstrap of the ratios (analysis only)
    workers : int  worker processes (default 1: in this process); results do not depend on it

    Returns
    -------
    ComparisonResult

    Raises
    ------
    hssim.errors.UserError  for a bad arm, override or setting, before any run.
    """
    p = plan(arms, replicates, base_seed, reference, overrides, early_vs_late)
    return execute(p, run_dir=run_dir, progress=progress, n_boot=n_boot, bootstrap_seed=bootstrap_seed,
                   workers=workers)


def read_spec(run_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(run_dir) / "spec.json"
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{run_dir}: not a comparison folder (no spec.json); nothing to resume") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable ({exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("arms"), dict):
        raise UserError(f"{path}: not a comparison spec (no 'arms' mapping)")
    checks = {
        "replicates": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 2, "an integer >= 2"),
        "base_seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
        "overrides": (lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v), "a list of overrides"),
        "reference": (lambda v: v is None or isinstance(v, str), "an arm name"),
        "early_vs_late": (lambda v: isinstance(v, list) and all(isinstance(x, list) and len(x) == 2 for x in v),
                          "a list of [early, late] pairs"),
    }
    for key, (ok, expected) in checks.items():
        if key not in spec:
            raise UserError(f"{path}: incomplete comparison spec: '{key}' is missing ({expected} expected); "
                            "start a new comparison instead")
        if not ok(spec[key]):
            raise UserError(f"{path}: field '{key}' holds {spec[key]!r}; expected {expected}")
    for name, ov in spec["arms"].items():
        if not isinstance(ov, list) or not all(isinstance(o, str) for o in ov):
            raise UserError(f"{path}: arm {name!r} holds {ov!r}; expected a list of overrides")
    return spec


def resume(run_dir: str | os.PathLike, progress: ProgressFn | None = None, replicates: int | None = None,
           **kwargs) -> ComparisonResult:
    """Continue the comparison stored in ``run_dir`` (its ``spec.json``), running only
    the runs not stored yet; ``replicates`` may raise the number of replicates."""
    spec = read_spec(run_dir)
    return compare(
        spec["arms"],
        replicates=spec["replicates"] if replicates is None else replicates,
        base_seed=spec["base_seed"],
        reference=spec.get("reference"),
        overrides=spec.get("overrides", []),
        early_vs_late=[tuple(x) for x in spec.get("early_vs_late", [])],
        progress=progress,
        run_dir=run_dir,
        **kwargs,
    )
