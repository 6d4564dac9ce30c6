"""Plan a sweep, evaluate its chunks, and turn the store into analysis tables.

Free of Hydra: :func:`plan` takes a validated :class:`~hssim.sweep.schema.SweepConfig`,
:func:`evaluate_chunk` one chunk of a store. The Hydra driver
(:mod:`hssim.cli.sweep`) calls :func:`evaluate_chunk` once per Hydra job, so any
launcher -- basic, joblib, submitit on Slurm -- runs a sweep.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..validate import from_mapping, to_dict
from ..errors import ConfigError
from ..runs.design import Design
from . import design
from ..runs.parameter_sets import ParameterSets
from .models import make_model
from .schema import ExperimentConfig, SweepConfig
from .store import FORMAT, Store, fingerprint

__all__ = ["Plan", "load_sweep_config", "plan", "evaluate_chunk", "worker_threads", "point_table", "job_id"]


def load_sweep_config(data: Any) -> SweepConfig:
    """Validate a composed sweep config (mapping or DictConfig) into a :class:`SweepConfig`."""
    if not isinstance(data, dict):
        from omegaconf import OmegaConf

        # without the hydra node, whose interpolations resolve only inside a job
        data = OmegaConf.to_container(OmegaConf.masked_copy(data, [k for k in data if k != "hydra"]), resolve=True)
    data = {k: v for k, v in data.items() if k != "hydra"}
    return from_mapping(SweepConfig, data)


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


@dataclass
class Plan:
    """A sweep ready to run: its store, and which chunks are still to compute."""

    store: Store
    experiment: ExperimentConfig
    existed: bool

    @property
    def header(self) -> dict:
        return self.store.header()

    def runs_per_point(self) -> int:
        return self.experiment.replicates * len(self.header["arms"])

    def todo(self, only: tuple[int, ...] = ()) -> list[int]:
        """Chunks without a valid result (restricted to ``only`` when given)."""
        chosen = set(only) if only else None
        return [c.chunk for c in self.store.status() if c.status != "done" and (chosen is None or c.chunk in chosen)]

    def describe(self) -> str:
        h, e = self.header, self.experiment
        arms = len(h["arms"])
        runs = h["n_points"] * e.replicates * arms
        return (f"{e.name} ({e.method}, {len(e.parameters)} parameters, {h['n_points']:,} points x {e.replicates} "
                f"replicate{'s' if e.replicates > 1 else ''} x {arms} arm{'s' if arms > 1 else ''} = {runs:,} runs "
                f"in {h['n_chunks']} chunks of {h['chunk_size']})"
                + ("" if not h.get("parameter_sets") else
                   f"; replicate r at set r mod {len(h['parameter_sets']['sets'])} of calibration "
                   f"{h['parameter_sets']['calibration']!r}"))


#: memory one sample point costs while planning: the matrix, its JSON copy in the store's
#: header and the Python floats in between (bytes per parameter value, generous)
_BYTES_PER_SAMPLE_VALUE = 200.0


def plan(cfg: SweepConfig, store: str | os.PathLike | None = None, check: bool = True,
         concurrent_workers: int = 1) -> Plan:
    """Sample the design, validate the model on it, and create (or reopen) the store.

    Nothing is run but a short check per arm (:meth:`HssimModel.check`); a store that
    already holds this experiment is reopened as it is, so re-running the same
    command computes only the chunks without a result. Everything that can be
    refused (a design too large for memory, chunks in ``only`` that do not exist, a
    sample point whose values the run config rejects together) is refused before
    the store is written.
    """
    from ..cliutil import check_memory

    exp = cfg.experiment
    root = Path(store or cfg.store or Path("sweeps") / exp.name)
    size_points = design.n_points(exp)
    check_memory(size_points * max(1, len(exp.parameters)) * _BYTES_PER_SAMPLE_VALUE, "this sweep's design "
                 f"({size_points:,} sample points)", "experiment.n or the number of parameters")
    X = design.sample(exp)
    model = make_model(exp)
    arms = model.arm_configs()
    n_points = int(X.shape[0])
    runs_per_point = exp.replicates * len(arms)
    size = cfg.chunk_size or design.auto_chunk_size(n_points, runs_per_point)
    exp_dict = to_dict(exp)
    decisive = {k: v for k, v in exp_dict.items() if k not in ("name", "description", "conf_level", "num_resamples", "parameter_sets")}
    sets = getattr(model, "sets", None)
    sets_doc = None if sets is None else sets.to_json()
    # the sets' values decide results (their source file's name does not)
    decisive_sets = None if sets_doc is None else {"paths": sets_doc["paths"], "sets": sets_doc["sets"]}
    fp = fingerprint({"format": FORMAT, "experiment": decisive, "arms": arms, "sample": X.tolist(),
                      **({"parameter_sets": decisive_sets} if decisive_sets is not None else {})})
    st = Store(root)
    if st.exists() and st.header().get("fingerprint") == fp:
        check = False  # checked when the store was made
    if check:
        if hasattr(model, "run_memory_bytes"):  # runs that run at once on this machine must fit together
            check_memory(concurrent_workers * model.run_memory_bytes(X),
                         f"{concurrent_workers} sweep run(s) at once", "the launcher's n_jobs, population.households or months")
        model.check(X)
    header = {
        "format": FORMAT,
        "fingerprint": fp,
        "created": _now(),
        "experiment": exp_dict,
        "problem": design.problem(exp),
        "n_points": n_points,
        "chunk_size": int(size),
        "n_chunks": design.n_chunks(n_points, size),
        "arms": arms,
        "parameter_sets": sets_doc,
        "sample": X.tolist(),
    }
    for c in cfg.only:
        if c >= header["n_chunks"]:
            raise ConfigError("only", list(cfg.only), f"chunk numbers in 0..{header['n_chunks'] - 1}")
    existed = st.create_or_check(header)
    return Plan(st, exp, existed)


def job_id() -> str:
    """The Slurm job id of this process (``JOB_TASK`` for array jobs), else ''."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID", "")


def worker_threads(requested: int, concurrent_workers: int | None) -> int:
    """numba threads for one worker.

    ``requested`` > 0 wins. Otherwise: the CPUs Slurm gave the job
    (``SLURM_CPUS_PER_TASK``, else ``SLURM_CPUS_ON_NODE``), else the machine's cores divided by the number of
    workers running at once, so workers never oversubscribe the cores.
    """
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if requested > 0:
        return max(1, min(requested, limit))
    for var in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):  # what Slurm gave this job
        given = os.environ.get(var, "")
        if given.isdigit():
            return max(1, min(int(given), limit))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(limit, cores // max(1, concurrent_workers or 1)))


_MODELS: dict[str, tuple[str, Any]] = {}


def _model_of(store: Store):
    """The store's model, built once per worker process (a worker runs many chunks)."""
    h = store.header()
    cached = _MODELS.get(str(store.root))
    if cached is not None and cached[0] == h["fingerprint"]:
        return cached[1]
    exp = from_mapping(ExperimentConfig, h["experiment"], "experiment")
    stored = h.get("parameter_sets")
    model = make_model(exp, h["arms"], None if stored is None else ParameterSets.from_json(stored, "header.parameter_sets"))
    _MODELS[str(store.root)] = (h["fingerprint"], model)
    return model


def evaluate_chunk(store_root: str | os.PathLike, chunk: int, threads: int = 0, concurrent_workers: int | None = 1,
                   launcher: str = "") -> dict[str, Any]:
    """Compute one chunk and write its shard; never raises for a failing run.

    An exception is written to the chunk's ``error.json`` (type, message,
    traceback, job id) and returned as ``status: failed``, so one bad chunk does
    not stop the others; re-running the sweep (or ``only=[chunk]``) retries it.
    """
    import numba

    store = Store(store_root)
    h = store.header()
    if not 0 <= chunk < h["n_chunks"]:
        raise ConfigError("chunk", chunk, f"a chunk of the store (0..{h['n_chunks'] - 1})")
    lo, hi = store.chunk_bounds(chunk)
    n_threads = worker_threads(threads, concurrent_workers)
    info = {"chunk": chunk, "lo": lo, "hi": hi, "job_id": job_id(), "host": socket.gethostname(), "pid": os.getpid(),
            "launcher": launcher, "threads": n_threads, "started": _now()}
    store.error_file(chunk).unlink(missing_ok=True)
    from .store import _write_json

    _write_json(store.started_file(chunk), info)
    t0 = time.perf_counter()
    try:
        numba.set_num_threads(n_threads)
        frame, hh_months = _compute(store, lo, hi)
        wall = time.perf_counter() - t0
        meta = {**info, "fingerprint": h["fingerprint"], "rows": len(frame), "household_months": hh_months,
                "wall_s": wall, "finished": _now()}
        store.write_shard(chunk, frame, meta)
        store.started_file(chunk).unlink(missing_ok=True)
        return {"chunk": chunk, "status": "done", "rows": len(frame), "wall_s": wall, "household_months": hh_months}
    except Exception as exc:  # noqa: BLE001 - reported in the store, the sweep goes on
        err = {**info, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(), "finished": _now()}
        _write_json(store.error_file(chunk), err)
        store.started_file(chunk).unlink(missing_ok=True)
        return {"chunk": chunk, "status": "failed", "error": err["error"]}


def _compute(store: Store, lo: int, hi: int) -> tuple[pd.DataFrame, int]:
    h = store.header()
    exp = from_mapping(ExperimentConfig, h["experiment"], "experiment")
    model = _model_of(store)
    X = store.sample()
    arms = list(h["arms"])
    names, outputs = list(exp.parameters), list(exp.outputs)
    rows: dict[str, list] = {k: [] for k in ("point", "replicate", "arm", "seed", "wall_s", "household_months")}
    xs: list[np.ndarray] = []
    ys: list[list[float]] = []
    hh_months = 0
    runs = Design(tuple(arms), exp.replicates, exp.base_seed, points=len(X), seeds=exp.seeds)
    for key in runs.runs(range(lo, hi)):  # point by point, replicate by replicate, arm by arm
        run = model.run(key.arm, X[key.point], key.seed, key.replicate)
        rows["point"].append(key.point)
        rows["replicate"].append(key.replicate)
        rows["arm"].append(key.arm)
        rows["seed"].append(key.seed)
        rows["wall_s"].append(run.wall_s)
        rows["household_months"].append(run.household_months)
        xs.append(X[key.point])
        ys.append([run[o] for o in outputs])
        hh_months += run.household_months
    frame = pd.DataFrame({
        "point": np.asarray(rows["point"], np.int64),
        "replicate": np.asarray(rows["replicate"], np.int64),
        "arm": pd.Series(rows["arm"], dtype=str),
        "seed": np.asarray(rows["seed"], np.int64),
    })
    xa = np.asarray(xs, np.float64).reshape(len(xs), len(names))
    ya = np.asarray(ys, np.float64).reshape(len(ys), len(outputs))
    for j, n in enumerate(names):
        frame[f"x:{n}"] = xa[:, j]
    for j, o in enumerate(outputs):
        frame[f"y:{o}"] = ya[:, j]
    frame["wall_s"] = np.asarray(rows["wall_s"], np.float64)
    frame["household_months"] = np.asarray(rows["household_months"], np.int64)
    return frame, hh_months


def point_table(store: Store, runs: pd.DataFrame | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """(X float64[n_points, n_params], Y DataFrame[n_points, outputs]) for analysis.

    Y holds the mean over replicates of each output: named ``<output>`` with one
    arm, ``<arm>:<output>`` with several, plus ``diff:<a>-<b>:<output>`` for each
    declared difference (the mean over replicates of the paired difference a - b
    on the same seed).
    """
    h = store.header()
    exp = from_mapping(ExperimentConfig, h["experiment"], "experiment")
    runs = store.load() if runs is None else runs
    X = store.sample()
    arms = list(h["arms"])
    outputs = list(exp.outputs)
    cols = {}
    means = runs.groupby(["arm", "point"], observed=True)[[f"y:{o}" for o in outputs]].mean()
    for arm in arms:
        m = means.xs(arm, level="arm").reindex(range(len(X)))
        for o in outputs:
            cols[o if len(arms) == 1 else f"{arm}:{o}"] = m[f"y:{o}"].to_numpy()
    for a, b in exp.differences:
        ra = runs[runs["arm"] == a].set_index(["point", "replicate"]).sort_index()
        rb = runs[runs["arm"] == b].set_index(["point", "replicate"]).sort_index()
        for o in outputs:
            d = (ra[f"y:{o}"] - rb[f"y:{o}"]).groupby(level="point").mean().reindex(range(len(X)))
            cols[f"diff:{a}-{b}:{o}"] = d.to_numpy()
    return X, pd.DataFrame(cols)
