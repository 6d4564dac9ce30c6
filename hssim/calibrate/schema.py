"""What a calibration declares: the free parameters and their bounds, the targets it
fits, the runs each trial makes and the study it writes to.

A calibration is a YAML file of the Hydra config group ``calibration``
(``configs/calibration/<name>.yaml``, or your own folder with ``--config-dir``)::

    name: turkana
    scenario: turkana            # the scenario preset (configs/scenario/<name>.yaml)
    targets: turkana             # a scenario folder (or path) holding targets.csv
    overrides: [policy=none, storyline=none]
    households: 1500             # simulated households of each run
    months: 120
    seeds: [1, 2]                # every trial runs these seeds (common random numbers)
    trials: 60                   # complete trials the study should hold
    parameters:
      p_mam_per_gap:
        path: households.p_mam_per_gap
        low: 0.1
        high: 0.8
        source: "assumed: ..."

Only the rows of ``targets.csv`` with role ``calibration`` (and, with ``targets_used``,
only those named) enter the fit; the ``validation`` rows are held out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..validate import field_range as fr

__all__ = ["CalibrationConfig", "FreeParameter", "PLAUSIBLE_RULES"]

#: how the plausible parameter sets are chosen from the trials
PLAUSIBLE_RULES = ("in_bands", "best_fraction")


@dataclass(frozen=True)
class FreeParameter:
    """One free parameter: a dotted config path and its prior bounds (uniform, or
    log-uniform with ``log: true``)."""

    path: str = ""
    low: float = math.nan
    high: float = math.nan
    log: bool = False
    source: str = ""


@dataclass(frozen=True)
class CalibrationConfig:
    """A calibration (see the module docstring)."""

    name: str = "calibration"
    description: str = ""
    scenario: str = "default"
    targets: str = ""
    targets_used: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ("policy=none", "storyline=none")
    households: int = fr(1500, 50, 1_000_000, "simulated households of each run")
    months: int = fr(120, 12, 1200, "recorded months of each run")
    seeds: tuple[int, ...] = (1, 2)
    parameters: dict[str, FreeParameter] = field(default_factory=dict)
    trials: int = fr(60, 1, 1_000_000, "complete trials the study should hold")
    sampler: str = "tpe"
    sampler_seed: int = fr(0, 0, 2**32 - 1, "seed of the sampler")
    startup_trials: int = fr(10, 0, 100_000, "trials drawn at random before TPE models the others")
    plausible: str = "in_bands"
    best_fraction: float = fr(0.1, 0.001, 1.0, "share of the best trials kept when no trial lands in every band")
    heartbeat_s: int = fr(20, 1, 3600, "seconds between a running trial's heartbeats; a trial silent for three "
                                       "of them counts as failed (its worker died) and is re-queued once")
    validation_sets: int = fr(5, 0, 1000, "plausible sets (best first) run against every target after the fit; 0 = none")
    storage: str = ""
    study: str = ""

    def validate(self, path: str = "") -> None:
        """Check what the field types cannot (names the field in the error)."""
        p = f"{path}." if path else ""
        from ..cliutil import check_name

        check_name(f"{p}name", self.name)  # it names the output folder and the study
        if not self.parameters:
            raise ConfigError(f"{p}parameters", {}, "at least one free parameter")
        seen: dict[str, str] = {}
        for key, par in self.parameters.items():
            where = f"{p}parameters.{key}"
            if not key or any(c in key for c in ":/\\ ,"):
                raise ConfigError(f"{p}parameters.<name>", key, "a name without ':', '/', '\\', ',' or spaces")
            if not par.path:
                raise ConfigError(f"{where}.path", par.path, "a dotted config path (e.g. households.p_mam_per_gap)")
            if par.path in seen:
                raise ConfigError(f"{where}.path", par.path, f"a path no other parameter sets (also {seen[par.path]})")
            seen[par.path] = key
            for bound in ("low", "high"):
                v = getattr(par, bound)
                if not math.isfinite(v):
                    raise ConfigError(f"{where}.{bound}", v, "a finite number")
            if not par.low < par.high:
                raise ConfigError(f"{where}.high", par.high, f"a number above low ({par.low:g})")
            if par.log and par.low <= 0:
                raise ConfigError(f"{where}.low", par.low, "a number > 0 (log-uniform prior)")
        if not self.seeds:
            raise ConfigError(f"{p}seeds", [], "one or more seeds")
        if len(set(self.seeds)) != len(self.seeds) or any(s < 0 for s in self.seeds):
            raise ConfigError(f"{p}seeds", list(self.seeds), "distinct seeds >= 0")
        if self.sampler not in ("tpe", "random"):
            raise ConfigError(f"{p}sampler", self.sampler, "'tpe' or 'random'")
        if self.plausible not in PLAUSIBLE_RULES:
            raise ConfigError(f"{p}plausible", self.plausible, "one of " + ", ".join(PLAUSIBLE_RULES))
        for i, o in enumerate(self.overrides):
            key = o.split("=", 1)[0].lstrip("+~")
            if key in ("seed", "months", "population.households") or "=" not in o:
                raise ConfigError(f"{p}overrides[{i}]", o,
                                  "a key=value override other than seed, months and population.households "
                                  "(the calibration sets those)")

    @property
    def study_name(self) -> str:
        return self.study or self.name
