"""Running a planned comparison through the runs layer (:mod:`hssim.runs`): every arm on
the same seeds, in this process or in worker processes, each finished run stored in the
run folder (``runs/<arm>__r<k>.json``, with ``spec.json``) so that an interrupted
comparison continues where it stopped (:func:`resume`)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from ..errors import UserError
from ..runs import Job, RunStore, default_workers, run_results  # noqa: F401  default_workers: public name
from ..runs import execute as run_jobs
from ..version import __version__
from .outcomes import run_costs, run_outcomes
from .planning import ComparisonPlan, _fingerprint, plan
from .result import ComparisonResult
from .stats import BOOTSTRAP_SEED, N_BOOT

ProgressFn = Callable[[int, int, str, int, bool], None]

#: worker processes run one numba thread each: at planner sizes a run is dominated by
#: per-month overheads, so processes use the cores better than threads
THREADS_PER_WORKER = 1


def run_file(run_dir: str | os.PathLike, arm: str, replicate: int) -> Path:
    """Where the outcomes of run ``replicate`` of ``arm`` are stored."""
    return RunStore(run_dir).path(arm, replicate)


def _evaluate(config: Mapping[str, Any]) -> dict:
    """One run from a plain config mapping -> its outcomes and costs."""
    res = run_results(config)
    return {"outcomes": run_outcomes(res), "costs": run_costs(res)}


def _decode(doc: Mapping[str, Any]) -> dict | None:
    """A stored run's outcomes and costs (None when the file holds no outcomes: run it again)."""
    if not isinstance(doc.get("outcomes"), dict):
        return None
    outcomes = {str(k): (math.nan if v is None else float(v)) for k, v in doc["outcomes"].items()}
    return {"outcomes": outcomes, "costs": list(doc.get("costs") or [])}


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
    from ..validate import to_dict

    if p.equal_spend and p.spend_caps is None:
        p = dataclasses.replace(p, spend_caps=equal_spend_caps(p, run_dir, progress, workers))
    store = None
    if run_dir is not None:
        store = RunStore(run_dir)
        store.prepare()
        store.write_json("spec.json", p.spec())
    t0 = time.perf_counter()
    done, counts = _run_plan(p, store, progress, workers)
    rows, cost_rows = [], []
    for key in p.design.runs():  # a fixed order, whatever order the runs finished in
        got = done[key]
        for name, value in got["outcomes"].items():
            rows.append((key.arm, key.replicate, key.seed, name, value))
        for c in got["costs"]:
            cost_rows.append({"arm": key.arm, "replicate": key.replicate, **c})
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
        "discount_rate_per_year": float(first.valuation.discount_rate_per_year),
        "response_cost_usd_per_person_month": float(first.valuation.response_cost_usd_per_person_month),
        "districts": list(p.scenario.names) if p.scenario is not None else [],
        "config_fingerprints": {a: _fingerprint(to_dict(dataclasses.replace(c, seed=0))) for a, c in p.configs.items()},
        "parameter_sets": None if p.parameter_sets is None else {
            "calibration": p.parameter_sets.calibration, "source": p.parameter_sets.source,
            "count": len(p.parameter_sets), "all_in_bands": p.parameter_sets.all_in_bands,
            "parameters": [n for n, _ in p.parameter_sets.paths], "rule": "replicate r runs at set r mod count"},
        "equal_spend": None if p.spend_caps is None else {
            "caps_usd": [float(c) for c in p.spend_caps],
            "rule": "every responding arm of replicate r capped at the least any responding arm spent on r "
                    "in an uncapped first pass (policy.spend_cap_usd)"},
        "runs_executed": counts["executed"],
        "runs_stored": counts["stored"],
        "wall_s": round(time.perf_counter() - t0, 3),
        "hssim_version": __version__,
    }
    return ComparisonResult.from_runs(runs, p.arms, p.reference, cost_runs, p.pairs, meta, n_boot, bootstrap_seed)


def _run_plan(p: ComparisonPlan, store: RunStore | None, progress: ProgressFn | None, workers: int,
              arms=None, label: str = "") -> tuple[dict, dict]:
    """Run (or read back from ``store``) every run of ``p``, or only those of ``arms``:
    run key -> outcomes and costs, and the executed / stored counts. ``label`` prefixes
    the arm in progress reports."""
    from ..validate import to_dict

    jobs = []
    for key in p.design.runs():
        if arms is not None and key.arm not in arms:
            continue
        plain = to_dict(p.config(key.arm, key.replicate))
        jobs.append(Job(key, plain, _fingerprint(plain)))
    report = None
    if progress is not None:
        def report(k: int, total: int, job: Job, stored: bool) -> None:
            progress(k, total, label + job.key.arm, job.key.replicate, stored)
    return run_jobs(jobs, _evaluate, workers=workers, threads=THREADS_PER_WORKER, store=store, decode=_decode,
                    progress=report)


def equal_spend_caps(p: ComparisonPlan, run_dir=None, progress: ProgressFn | None = None,
                     workers: int = 1) -> tuple[float, ...]:
    """Per replicate, the least any responding arm spends (``cost_usd_total``, USD) when
    run without a cap: the first pass of an equal-spend comparison (stored in
    ``run_dir/pilot/`` and read back on resume). Capped at it, every responding arm of
    the replicate spends the same to within a month's spending."""
    pilot = dataclasses.replace(p, equal_spend=False, spend_caps=None)
    store = None
    if run_dir is not None:
        store = RunStore(Path(run_dir) / "pilot")
        store.prepare()
    responding = {a for a, c in pilot.configs.items() if c.policy.enabled}  # no response: nothing to cap
    done, _ = _run_plan(pilot, store, progress, workers, arms=responding, label="uncapped pass: ")
    caps = []
    for r in range(p.replicates):
        spent = [got["outcomes"].get("cost_usd_total", 0.0) for key, got in done.items() if key.replicate == r]
        # an arm that spent nothing caps the others at (next to) nothing: a cap of 0 would mean none
        caps.append(max(float(min(spent)), 1e-6))
    return tuple(caps)


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
    parameters=None,
    equal_spend: bool = False,
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
    parameters : ``"calibrated"``, a calibration folder or ParameterSets, optional
        draw parameter uncertainty as well as seeds: replicate r of every arm runs at the
        calibration's plausible set ``r mod K`` (:mod:`hssim.runs.parameter_sets`)
    equal_spend : bool  cap every responding arm of replicate r at the least any of them
        spends on r uncapped (:func:`equal_spend_caps`; a first pass of runs)

    Returns
    -------
    ComparisonResult

    Raises
    ------
    hssim.errors.UserError  for a bad arm, override or setting, before any run.
    """
    p = plan(arms, replicates, base_seed, reference, overrides, early_vs_late, parameters, equal_spend)
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
        parameters=stored_sets(spec, run_dir),
        equal_spend=bool(spec.get("equal_spend", False)),
        **kwargs,
    )


def stored_sets(spec: Mapping[str, Any], run_dir) -> Any:
    """The parameter sets a comparison began with (its spec), not whatever the file holds now."""
    from ..runs.parameter_sets import ParameterSets

    doc = spec.get("parameter_sets")
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise UserError(f"{Path(run_dir) / 'spec.json'}: field 'parameter_sets' holds {doc!r}; expected stored sets or null")
    return ParameterSets.from_json(doc, "spec.json: parameter_sets")
