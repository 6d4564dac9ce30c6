"""What a sweep evaluates: the hssim model on a config, or an analytic test function.

A model turns one run -- an arm, the parameter values of one sample point, a seed --
into the experiment's outputs. :class:`HssimModel` sets the parameters' dotted
config paths on the arm's resolved config, validates it like any run, runs the
engine and aggregates the outputs; :class:`IshigamiModel` is the analytic test
function whose Sobol indices are known, to validate the pipeline end to end.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, UserError
from ..outcomes import SCALE
from ..runs.parameter_sets import ParameterSets, load_parameter_sets
from ..runs.paths import set_path
from .schema import ExperimentConfig, OutputConfig

__all__ = ["Run", "HssimModel", "IshigamiModel", "make_model", "ishigami", "ISHIGAMI_A", "ISHIGAMI_B"]

ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1


class Run(dict):
    """Outputs of one run by name, with ``household_months`` (0 for analytic models)
    and ``wall_s`` attributes."""

    household_months: int = 0
    wall_s: float = 0.0


def ishigami(x1, x2, x3, a: float = ISHIGAMI_A, b: float = ISHIGAMI_B):
    """Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` (x_i ~ U(-pi, pi))."""
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)


class IshigamiModel:
    """The Ishigami function as a sweep model: parameters ``x1, x2, x3`` (by path),
    one output, ``summary: y``. Its Sobol indices are analytic (a = 7, b = 0.1)."""

    ARGS = ("x1", "x2", "x3")

    def __init__(self, exp: ExperimentConfig):
        self.exp = exp
        for name, par in exp.parameters.items():
            for path in par.targets():
                if path not in self.ARGS:
                    raise ConfigError(f"experiment.parameters.{name}.path", path, "x1, x2 or x3 for the Ishigami model")
        given = {p for par in exp.parameters.values() for p in par.targets()}
        if given != set(self.ARGS):
            raise ConfigError("experiment.parameters", sorted(given), "parameters setting each of x1, x2, x3")
        for name, out in exp.outputs.items():
            if out.summary != "y":
                raise ConfigError(f"experiment.outputs.{name}", out.summary or out.indicator, "summary: y for the Ishigami model")

    def arm_configs(self) -> dict[str, dict]:
        return {"run": {}}

    def check(self, X: np.ndarray) -> None:
        self.run("run", X[0], 0)

    def run(self, arm: str, x: np.ndarray, seed: int, replicate: int = 0) -> Run:
        values = {}
        for v, par in zip(x, self.exp.parameters.values()):
            for path in par.targets():
                values[path] = float(v)
        out = Run({name: float(ishigami(values["x1"], values["x2"], values["x3"])) for name in self.exp.outputs})
        return out


def _aggregate(values: np.ndarray, how: str) -> float:
    if values.size == 0:
        return float("nan")
    return float({"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[how](values)) if how in (
        "sum", "mean", "max", "min") else float(values[0] if how == "first" else values[-1])


class HssimModel:
    """The hssim engine as a sweep model.

    Parameters
    ----------
    exp : ExperimentConfig
    arm_configs : dict[str, dict]  each arm's resolved run config (plain dict), as
        composed from ``exp.overrides`` + the arm's overrides
    sets : ParameterSets, optional  replicate r runs at set r mod K
        (:mod:`hssim.runs.parameter_sets`), applied before the swept values
    """

    def __init__(self, exp: ExperimentConfig, arm_configs: Mapping[str, dict], sets: ParameterSets | None = None):
        self.exp = exp
        self.arms = {a: dict(c) for a, c in arm_configs.items()}
        self.sets = sets

    @staticmethod
    def load_sets(exp: ExperimentConfig, arm_configs: Mapping[str, dict]) -> ParameterSets | None:
        """The parameter sets ``exp.parameter_sets`` names, for the scenario of the first arm."""
        first = next(iter(arm_configs.values()))
        return load_parameter_sets(exp.parameter_sets, first["scenario"], where="experiment.parameter_sets")

    @staticmethod
    def compose_arms(exp: ExperimentConfig) -> dict[str, dict]:
        """Each arm's run config: the Hydra composition of the experiment's common
        overrides and the arm's, validated and resolved to plain values."""
        from ..config.build import load_config
        from ..runs.compose import compose
        from ..validate import to_dict

        out = {}
        arms = exp.arms or {"run": ()}
        for arm, ovr in arms.items():
            try:
                cfg = compose([*exp.overrides, *ovr])
                out[arm] = to_dict(load_config(cfg))
            except UserError as exc:
                where = f"experiment.arms.{arm}" if exp.arms else "experiment.overrides"
                raise ConfigError(where, [*exp.overrides, *ovr], f"overrides that make a valid run ({exc})") from exc
        return out

    def arm_configs(self) -> dict[str, dict]:
        return self.arms

    def config(self, arm: str, x: np.ndarray, seed: int, only: int | None = None, replicate: int = 0) -> dict:
        """The run config (plain dict) of ``arm`` at parameter values ``x`` [n_params]
        (with ``only``: just that parameter set, the others as configured), replicate
        ``replicate`` (its calibrated parameter set, when the experiment draws them)."""
        cfg = copy.deepcopy(self.arms[arm])
        if self.sets is not None:
            self.sets.apply(cfg, replicate, where="experiment.parameter_sets")
        for j, (v, (name, par)) in enumerate(zip(x, self.exp.parameters.items())):
            if only is not None and j != only:
                continue
            value: Any = int(round(v)) if par.integer else float(v)
            for path in par.targets():
                set_path(cfg, path, value, par.op, f"experiment.parameters.{name}.path")
        cfg["seed"] = int(seed)
        return cfg

    def run_memory_bytes(self, X: np.ndarray) -> float:
        """Estimated peak memory of one run (the largest arm at the first sample point), bytes."""
        from ..config.build import estimate_memory_bytes, prepare

        sizes = [0.0]
        for arm in self.arms:
            try:
                cfg, scenario = prepare(self.config(arm, X[0], 0))
            except UserError:
                continue  # an invalid point: check() names the parameter
            sizes.append(estimate_memory_bytes(cfg, scenario.n_districts))
        return max(sizes)

    def check(self, X: np.ndarray) -> None:
        """Validate before any run: every parameter path exists in every arm, the
        extreme sampled values make valid configs, and the outputs exist (a short
        run of 200 households per arm, which also loads numba's cache)."""
        from ..config.build import load_config, prepare

        lo_hi = [X.min(axis=0), X.max(axis=0)]
        for arm in self.arms:
            for j, name in enumerate(self.exp.parameters):
                for x in lo_hi:  # each parameter alone at its extremes: the error names it
                    try:
                        load_config(self.config(arm, x, 0, only=j))
                    except ConfigError as exc:
                        if exc.path.startswith("experiment."):
                            raise
                        raise ConfigError(f"experiment.parameters.{name}", float(x[j]),
                                          f"values the run config accepts in arm {arm!r} ({exc})") from exc
            for i in range(X.shape[0]):  # all parameters together at every point: joint constraints
                try:
                    load_config(self.config(arm, X[i], 0))
                except ConfigError as exc:
                    values = ", ".join(f"{k}={float(v):.6g}" for k, v in zip(self.exp.parameters, X[i]))
                    raise ConfigError("experiment.parameters", f"sample point {i} ({values})",
                                      f"values the run config accepts together in arm {arm!r} ({exc})") from exc
            for k in range(len(self.sets) if self.sets is not None else 0):
                try:
                    load_config(self.config(arm, X[0], 0, replicate=k))
                except ConfigError as exc:
                    raise ConfigError("experiment.parameter_sets", f"set {k} of {self.sets.source}",
                                      f"values arm {arm!r} accepts ({exc})") from exc
            cfg = self.config(arm, X[0], 0)
            try:
                prepare(cfg)
            except UserError as exc:
                raise ConfigError(f"experiment.arms.{arm}", arm, f"a valid run ({exc})") from exc
            small = copy.deepcopy(cfg)
            small["population"]["households"] = min(int(small["population"]["households"]), 200)
            self._check_outputs(self._results(small), arm)

    def _check_outputs(self, res, arm: str) -> None:
        from ..results import DISTRICT_INDICATORS, GROUPS, INDICATORS

        for name, out in self.exp.outputs.items():
            where = f"experiment.outputs.{name}"
            if out.summary:
                if out.summary not in res.summary:
                    keys = ", ".join(sorted(k for k, v in res.summary.items() if isinstance(v, (int, float))))
                    raise ConfigError(f"{where}.summary", out.summary, f"a key of the run summary in arm {arm!r}: {keys}")
                v = res.summary[out.summary]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"{where}.summary", out.summary, "a numeric summary value")
                continue
            if out.indicator not in INDICATORS and out.indicator not in DISTRICT_INDICATORS:
                raise ConfigError(f"{where}.indicator", out.indicator,
                                  "an indicator: " + ", ".join([*INDICATORS, *DISTRICT_INDICATORS]))
            if out.district != "all" and out.district not in res.districts:
                raise ConfigError(f"{where}.district", out.district, "'all' or a district: " + ", ".join(res.districts))
            if out.group not in GROUPS:
                raise ConfigError(f"{where}.group", out.group, "a group: " + ", ".join(GROUPS))
            if out.indicator in DISTRICT_INDICATORS and out.group != "all":
                raise ConfigError(f"{where}.group", out.group, f"'all' for the district condition {out.indicator!r}")

    def _results(self, cfg: dict):
        from ..config.build import build_engine
        from ..results import Results

        engine = build_engine(cfg)
        return Results.from_record(engine.run(), engine.cfg)

    def run(self, arm: str, x: np.ndarray, seed: int, replicate: int = 0) -> Run:
        cfg = self.config(arm, x, seed, replicate=replicate)
        t0 = time.perf_counter()
        res = self._results(cfg)
        out = Run({name: self._output(res, o) for name, o in self.exp.outputs.items()})
        out.wall_s = time.perf_counter() - t0
        out.household_months = int(cfg["population"]["households"]) * (int(cfg["months"]) + int(cfg["spinup_months"]))
        return out

    @staticmethod
    def _output(res, out: OutputConfig) -> float:
        if out.summary:
            v = float(res.summary[out.summary])
        else:
            v = _aggregate(res.indicator(out.indicator, out.district, out.group).to_numpy(), out.time)
        if out.scale == "real":
            v *= float(res.summary.get(SCALE, 1.0))
        return v if math.isfinite(v) else float("nan")


def make_model(exp: ExperimentConfig, arm_configs: Mapping[str, dict] | None = None,
               sets: ParameterSets | None = None):
    """The model of an experiment; ``arm_configs`` and ``sets`` (hssim) come from the
    store's header, or are composed and read when not given."""
    if exp.model == "ishigami":
        return IshigamiModel(exp)
    if arm_configs is None:
        arm_configs = HssimModel.compose_arms(exp)
        sets = HssimModel.load_sets(exp, arm_configs)
    return HssimModel(exp, arm_configs, sets)
