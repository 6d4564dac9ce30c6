"""The search: an Optuna study on persistent storage, filled by one or more workers.

**Storage.** ``sqlite:///<out>/study.db`` by default; any SQLAlchemy URL Optuna accepts
(``mysql+pymysql://user@host/db``, ``postgresql://...``) when several machines or Slurm
jobs share one study. Every finished trial is in the storage the moment it finishes,
so an interrupted calibration continues where it stopped: the same command opens the
same study and runs only the trials still missing.

**Never losing a trial.** Workers send a heartbeat; a trial whose worker died (killed,
machine lost) is marked failed by the next worker that starts or asks for a trial, and
re-queued once with the same parameters (Optuna's ``RetryFailedTrialCallback``). The
study stops at ``trials`` complete trials, however many workers run.

**Determinism.** A trial's outcome is a pure function of its parameter values (every
trial runs the same seeds, on counter-based draws). The values proposed come from the
sampler, seeded by ``sampler_seed``, the trials the study held when the worker opened it
and the worker's number (:func:`sampler_seed`): a resumed study or a second worker never
re-proposes the same sequence. With one worker the study is reproducible; with several,
the proposals depend on the order trials finish. Workers on other machines sharing a
server study should each get their own ``sampler_seed``.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import UserError
from ..validate import to_dict
from .objective import evaluate, run_bases
from .schema import CalibrationConfig

__all__ = ["default_storage", "open_study", "run_worker", "optimize", "HEARTBEAT_S", "GRACE_S"]

#: seconds between a running trial's heartbeats by default (``heartbeat_s``), and after how
#: many of them a silent trial counts as failed
HEARTBEAT_S = 20
GRACE_HEARTBEATS = 3
GRACE_S = HEARTBEAT_S * GRACE_HEARTBEATS


def default_storage(out: str | os.PathLike) -> str:
    return f"sqlite:///{Path(out).resolve() / 'study.db'}"


def sampler_seed(cal: CalibrationConfig, trials_before: int, worker: int) -> int:
    """The seed of one worker's sampler: ``cal.sampler_seed`` mixed with the trials the
    study held when the worker opened it and the worker's number, so that a resumed study
    or a second worker does not propose the trials already proposed again."""
    import numpy as np

    return int(np.random.SeedSequence([cal.sampler_seed, trials_before, worker]).generate_state(1)[0])


def _sampler(cal: CalibrationConfig, seed: int | None = None):
    import optuna

    seed = cal.sampler_seed if seed is None else seed
    if cal.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=cal.startup_trials)


def _rdb(url: str, heartbeat_s: int = HEARTBEAT_S):
    import warnings

    import optuna
    from optuna import storages

    # Optuna >= 4.9 names the retry callback after the heartbeat; older releases do not have it
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            kwargs = ({"heartbeat_stale_trial_callback": retry(max_retry=1)} if retry is not None
                      else {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry=1)})
            for attempt in range(5):
                try:
                    return storages.RDBStorage(url, heartbeat_interval=heartbeat_s,
                                               grace_period=heartbeat_s * GRACE_HEARTBEATS,
                                               engine_kwargs={"pool_pre_ping": True}, **kwargs)
                except Exception as exc:  # noqa: BLE001
                    # two processes (machines, Slurm jobs) making a new storage's tables at once:
                    # one wins, the other finds them made when it tries again (a server reports
                    # the clash as an IntegrityError, SQLite as "table ... already exists")
                    racing = ("IntegrityError" in type(exc).__name__
                              or "already exists" in str(exc))
                    if not racing or attempt == 4:
                        raise
                    time.sleep(0.5 * (attempt + 1))
    except ImportError as exc:  # the database driver is missing
        raise UserError(f"cannot open the study storage {_shown(url)}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's and Optuna's: bad URL, server down, no permission
        raise UserError(f"cannot open the study storage {_shown(url)}: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:300]}") from None


def hide_password(url: str) -> str:
    """The storage URL with any password hidden (for messages and saved results)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "(unparseable URL)"


def _shown(url: str) -> str:
    return repr(hide_password(url))


def open_study(cal: CalibrationConfig, url: str, worker: int | None = None):
    """The calibration's study in ``url`` (created when missing). A study created by a
    calibration with other parameters is refused: its trials would not mean the same.

    ``worker``: the number of the worker that will add trials (its sampler is seeded by
    :func:`sampler_seed`); None to read the study only."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # hssim reports progress itself
    storage = _rdb(url, cal.heartbeat_s)
    study = optuna.create_study(study_name=cal.study_name, storage=storage, direction="minimize",
                                sampler=_sampler(cal), load_if_exists=True)
    if worker is not None:
        before = len(study.get_trials(deepcopy=False))
        study.sampler = _sampler(cal, sampler_seed(cal, before, worker))
    declared = study.user_attrs.get("parameters")
    mine = {k: [p.path, p.low, p.high, p.log] for k, p in cal.parameters.items()}
    if declared is None:
        study.set_user_attr("parameters", mine)
        study.set_user_attr("calibration", cal.name)
    elif json.loads(json.dumps(declared)) != json.loads(json.dumps(mine)):
        raise UserError(f"the study {cal.study_name!r} in {_shown(url)} was made with other free parameters "
                        f"({sorted(declared)}); use another study name (study=...) or output folder")
    return study


def complete_trials(study) -> int:
    import optuna

    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def _objective_factory(cal: CalibrationConfig, targets, scenario, bases):
    import optuna

    def objective(trial: optuna.Trial) -> float:
        params = {name: trial.suggest_float(name, p.low, p.high, log=p.log) for name, p in cal.parameters.items()}
        runs = evaluate(cal, bases, params, targets, scenario)
        # every target's seeds' mean and per-seed values, for the result and the report
        trial.set_user_attr("model", {"|".join(k): v for k, v in runs.model.items()})
        trial.set_user_attr("per_seed", {"|".join(k): v for k, v in runs.per_seed.items()})
        trial.set_user_attr("in_bands", bool(all(runs.in_band(targets))))
        return runs.distance if math.isfinite(runs.distance) else 1e12

    return objective


def run_worker(cal: CalibrationConfig, url: str, targets, scenario, config_dirs: Sequence[str] = (),
               threads: int | None = None, worker: int = 0) -> int:
    """Add trials to the study until it holds ``cal.trials`` complete ones; returns the
    trials this worker completed."""
    import optuna
    from optuna.study import MaxTrialsCallback

    if threads:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    study = open_study(cal, url, worker=worker)
    before = complete_trials(study)
    if before >= cal.trials:
        return 0
    bases = run_bases(cal, targets, config_dirs)
    stop = MaxTrialsCallback(cal.trials, states=(optuna.trial.TrialState.COMPLETE,))
    mine = 0

    def count(study, trial) -> None:
        nonlocal mine
        if trial.state == optuna.trial.TrialState.COMPLETE:
            mine += 1

    # n_trials bounds a lone worker; with several, MaxTrialsCallback stops each at the total
    study.optimize(_objective_factory(cal, targets, scenario, bases), n_trials=cal.trials - before,
                   callbacks=[stop, count], catch=())
    return mine


def _worker_main(data, url, config_dirs, threads, parent, worker) -> int:
    import signal

    from ..cliutil import die_with_parent
    from ..validate import from_mapping
    from .setup import check_calibration

    cal = from_mapping(CalibrationConfig, data, "")  # sent as plain data: frozen mappings do not pickle

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    die_with_parent(parent)
    # the scenario and targets are read again here (a Scenario does not pickle); the
    # parent checked them already
    _, scenario, targets = check_calibration(cal, config_dirs)
    return run_worker(cal, url, targets, scenario, config_dirs, threads=threads, worker=worker)


def optimize(cal: CalibrationConfig, url: str, targets, scenario, workers: int = 1, config_dirs: Sequence[str] = (),
             threads: int | None = None) -> int:
    """Fill the study to ``cal.trials`` complete trials with ``workers`` processes (1: in
    this process); returns the trials completed now."""
    if workers <= 1:
        return run_worker(cal, url, targets, scenario, config_dirs, threads=threads)
    open_study(cal, url)  # tables and study made here, once, before the workers open them
    from ..runs.execute import threads_per_worker

    threads = threads or threads_per_worker(workers)
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        data = to_dict(cal)
        asyncs = [pool.apply_async(_worker_main, (data, url, tuple(config_dirs), threads, os.getpid(), k))
                  for k in range(workers)]
        return sum(a.get() for a in asyncs)


def trial_records(study) -> list[dict[str, Any]]:
    """Every complete trial: number, parameter values, distance, in_bands, model values."""
    import optuna

    out = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        out.append({"number": t.number, "params": dict(t.params), "distance": float(t.value),
                    "in_bands": bool(t.user_attrs.get("in_bands", False)),
                    "model": dict(t.user_attrs.get("model", {})), "per_seed": dict(t.user_attrs.get("per_seed", {}))})
    return out
