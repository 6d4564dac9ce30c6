"""Schema of a sensitivity experiment and of the sweep runner.

An experiment (``configs/experiment/<name>.yaml``, the Hydra group ``experiment``)
declares *what* is studied: the uncertain parameters, the sampling method, the
outputs, optional arms compared on common random numbers, and replicates. The
runner settings (:class:`SweepConfig`, the root of ``configs/sweep.yaml``) declare
*how* it is run: where results are stored, the chunk size, numba threads per worker.
Changing the runner settings never changes a result; changing the experiment does,
so a store records the experiment's fingerprint and refuses another one.

Validation goes through :func:`hssim.validate.from_mapping`: an unknown key,
a wrong type or a value out of range raises a :class:`~hssim.errors.ConfigError`
naming the dotted path (``experiment.parameters.budget.bounds``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..validate import field_range as fr
from ..errors import ConfigError

__all__ = [
    "METHODS",
    "DISTRIBUTIONS",
    "TIME_AGGREGATIONS",
    "ParameterConfig",
    "OutputConfig",
    "ExperimentConfig",
    "SweepConfig",
]

#: sampling methods (SALib); each has its analysis in :mod:`hssim.sweep.analysis`
METHODS = ("sobol", "morris", "fast", "latin", "monte_carlo")
#: distributions and the meaning of ``bounds`` for each (SALib's conventions)
DISTRIBUTIONS = {
    "unif": "[low, high]",
    "logunif": "[low, high] with 0 < low",
    "triang": "[low, high, peak] with the peak as a fraction of the width in [0, 1)",
    "norm": "[mean, sd]",
    "truncnorm": "[low, high, mean, sd]",
    "lognorm": "[mean of ln x, sd of ln x]",
}
_N_BOUNDS = {"unif": 2, "logunif": 2, "triang": 3, "norm": 2, "truncnorm": 4, "lognorm": 2}
#: aggregation of an indicator's monthly series into one number
TIME_AGGREGATIONS = ("sum", "mean", "max", "min", "first", "last")


def _choice(default: str, choices: tuple[str, ...], doc: str) -> Any:
    return field(default=default, metadata={"choices": choices, "doc": doc})


@dataclass(frozen=True)
class ParameterConfig:
    """One uncertain parameter.

    ``path`` (or ``paths``, set together to the same value) names fields of the run
    config by dotted path, e.g. ``couplings.drought_to_conflict`` or
    ``interventions.cash_food_security.targeting.accuracy``. With ``op: scale`` the
    sampled value multiplies each arm's configured value (so "budget x 0.5..2"
    keeps each arm's own budget); with ``op: set`` it replaces it.
    """

    path: str = ""
    paths: tuple[str, ...] = ()
    dist: str = _choice("unif", tuple(DISTRIBUTIONS), "sampling distribution (SALib's names)")
    bounds: tuple[float, ...] = ()
    op: str = _choice("set", ("set", "scale"), "set the field to the value, or multiply the configured value by it")
    integer: bool = False
    description: str = ""

    def targets(self) -> tuple[str, ...]:
        """The dotted config paths this parameter sets."""
        return (self.path,) if self.path else tuple(self.paths)

    def validate(self, path: str) -> None:
        if bool(self.path) == bool(self.paths):
            raise ConfigError(f"{path}.path", self.path or list(self.paths), "exactly one of 'path' or 'paths'")
        need = _N_BOUNDS[self.dist]
        if len(self.bounds) != need:
            raise ConfigError(f"{path}.bounds", list(self.bounds), f"{need} numbers for dist {self.dist!r}: {DISTRIBUTIONS[self.dist]}")
        b = self.bounds
        if any(not math.isfinite(x) for x in b):
            raise ConfigError(f"{path}.bounds", list(b), "finite numbers")
        if self.dist in ("unif", "logunif", "triang", "truncnorm") and not b[0] < b[1]:
            raise ConfigError(f"{path}.bounds", list(b), "low < high")
        if self.dist == "logunif" and b[0] <= 0:
            raise ConfigError(f"{path}.bounds", list(b), "0 < low for a log-uniform distribution")
        if self.dist == "triang" and not 0.0 <= b[2] < 1.0:
            raise ConfigError(f"{path}.bounds[2]", b[2], "a peak position in [0, 1) (fraction of the width)")
        if self.dist in ("norm", "lognorm") and not b[1] > 0:
            raise ConfigError(f"{path}.bounds[1]", b[1], "a standard deviation > 0")
        if self.dist == "truncnorm" and not b[3] > 0:
            raise ConfigError(f"{path}.bounds[3]", b[3], "a standard deviation > 0")


@dataclass(frozen=True)
class OutputConfig:
    """One output: a run-summary value, or an indicator aggregated over time.

    Exactly one of ``summary`` (a key of ``Results.summary``, e.g. ``deaths_total``,
    ``cost_usd_total``) or ``indicator`` (a time series of ``Results.timeseries``,
    e.g. ``ipc3plus_frac``, aggregated over months with ``time`` for ``district``
    and ``group``). ``scale: real`` multiplies by the run's real households per
    simulated household (counts for the scenario's real population).
    """

    summary: str = ""
    indicator: str = ""
    time: str = _choice("sum", TIME_AGGREGATIONS, "aggregation of the indicator's months")
    district: str = "all"
    group: str = "all"
    scale: str = _choice("simulated", ("simulated", "real"), "counts for the simulated or the real population")
    description: str = ""

    def validate(self, path: str) -> None:
        if bool(self.summary) == bool(self.indicator):
            raise ConfigError(path, {"summary": self.summary, "indicator": self.indicator},
                              "exactly one of 'summary' or 'indicator'")


@dataclass(frozen=True)
class ExperimentConfig:
    """A sensitivity experiment (see the module docstring and README "Sweeps")."""

    name: str = "experiment"
    description: str = ""
    model: str = _choice("hssim", ("hssim", "ishigami"), "the model: hssim, or an analytic test function")
    method: str = _choice("sobol", METHODS, "sampling and analysis method")
    n: int = fr(64, 1, 10_000_000, "base sample size (Sobol: a power of 2; Morris: trajectories)")
    second_order: bool = False
    morris_levels: int = fr(4, 2, 100, "grid levels of the Morris design")
    fast_m: int = fr(4, 1, 100, "interference factor M of FAST")
    sample_seed: int = fr(20260101, 0, 2**32 - 1, "seed of the sample design")
    replicates: int = fr(1, 1, 100_000, "runs per sample point (different seeds), averaged before analysis")
    seeds: str = _choice("common", ("common", "independent"),
                         "common: replicate r uses base_seed + r at every sample point; independent: a seed per point")
    base_seed: int = fr(1, 0, 2**62, "seed of replicate 0")
    overrides: tuple[str, ...] = ()
    parameter_sets: str = field(default="", metadata={"doc": (
        "parameter uncertainty besides the swept parameters: 'calibrated' (the scenario's shipped calibration) or "
        "a folder written by hssim-calibrate; replicate r runs at its plausible set r mod K; empty = as configured")})
    arms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    differences: tuple[tuple[str, str], ...] = ()
    parameters: dict[str, ParameterConfig] = field(default_factory=dict)
    outputs: dict[str, OutputConfig] = field(default_factory=dict)
    conf_level: float = fr(0.95, 0.5, 0.999, "confidence level of the indices' intervals")
    num_resamples: int = fr(1000, 10, 100_000, "bootstrap resamples of the indices' intervals")

    def arm_names(self) -> tuple[str, ...]:
        return tuple(self.arms) if self.arms else ("run",)

    def validate(self, path: str) -> None:
        p = f"{path}." if path else ""
        from ..cliutil import check_name

        check_name(f"{p}name", self.name)  # it names the store's folder: sweeps/<name>
        if not self.parameters:
            raise ConfigError(f"{p}parameters", {}, "at least one uncertain parameter")
        if not self.outputs:
            raise ConfigError(f"{p}outputs", {}, "at least one output")
        for name in (*self.parameters, *self.outputs, *self.arms):
            if not name or any(c in name for c in ":/\\ ,"):
                raise ConfigError(f"{p}<name>", name, "a name without ':', '/', '\\', ',' or spaces")
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ConfigError(f"{p}n", self.n, "a power of 2 for Sobol' sequences (e.g. 64, 128, 256)")
        if self.method == "morris":
            for k, par in self.parameters.items():
                if par.dist != "unif":
                    raise ConfigError(f"{p}parameters.{k}.dist", par.dist, "'unif' for the Morris method (a grid design)")
        if self.method == "fast" and self.n <= 4 * self.fast_m**2:
            raise ConfigError(f"{p}n", self.n, f"more than 4 M^2 = {4 * self.fast_m ** 2} for FAST")
        if len(self.parameters) < 2 and self.method in ("sobol", "morris", "fast"):
            raise ConfigError(f"{p}parameters", list(self.parameters), f"at least 2 parameters for {self.method}")
        arms = self.arm_names()
        for i, pair in enumerate(self.differences):
            for j, a in enumerate(pair):
                if a not in arms:
                    raise ConfigError(f"{p}differences[{i}][{j}]", a, f"an arm ({', '.join(arms)})")
            if pair[0] == pair[1]:
                raise ConfigError(f"{p}differences[{i}]", list(pair), "two different arms")
        if self.model != "hssim":
            if self.parameter_sets.strip() not in ("", "none"):
                raise ConfigError(f"{p}parameter_sets", self.parameter_sets, f"none for the analytic model {self.model!r}")
            if self.arms or self.overrides:
                raise ConfigError(f"{p}arms", dict(self.arms), f"no arms or overrides for the analytic model {self.model!r}")


@dataclass(frozen=True)
class SweepConfig:
    """How a sweep is run (never what it computes). Root of ``configs/sweep.yaml``."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    store: str = ""
    chunk_size: int = fr(0, 0, 10_000_000, "sample points per chunk (one Hydra job each); 0 = automatic")
    chunk: int | None = fr(None, 0, None, "set by the driver: the chunk one Hydra job evaluates")
    only: tuple[int, ...] = ()
    threads: int = fr(0, 0, 1024, "numba threads per worker; 0 = the worker's share of the cores")
    progress: bool = True
    analyse: bool = True
    figures_dpi: int = fr(110, 30, 600, "resolution of the analysis figures")
