"""One trial of a calibration: a parameter set -> the target indicators over the seeds,
and its distance to the calibration bands.

**Distance.** For each target with the seeds' mean ``x`` of the model and its band
``[low, high]``::

    d = 0                                   inside the band (bounds inclusive)
    d = ((x - nearest bound) / scale) ** 2  outside it

with ``scale`` the band's half-width when both bounds are given, else a quarter of the
bound's magnitude (a one-sided band has no width of its own; the quarter is assumed),
and at least :data:`MIN_SCALE`. The trial's distance is the sum over targets; a NaN
indicator (no month to measure) counts :data:`MISSING_PENALTY`. Zero means every
calibration target is in its band: such trials are the *plausible* parameter sets
(history matching with the bands as the implausibility cut-off).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..targets import Target, measure
from .schema import CalibrationConfig

__all__ = ["MIN_SCALE", "MISSING_PENALTY", "RECOVERY_MONTHS", "TrialRuns", "target_key", "target_distance",
           "distance", "base_config", "first_month", "storyline_base", "run_bases", "trial_configs", "evaluate"]

MIN_SCALE = 1e-6
MISSING_PENALTY = 1e6


def target_distance(t: Target, x: float) -> float:
    """The distance of one target (see the module docstring)."""
    if not math.isfinite(x):
        return MISSING_PENALTY
    if t.contains(x):
        return 0.0
    lo, hi = t.low, t.high
    bound = lo if (not math.isnan(lo) and x < lo) else hi
    if not math.isnan(lo) and not math.isnan(hi):
        scale = (hi - lo) / 2.0
    else:
        scale = 0.25 * abs(bound)
    scale = max(scale, MIN_SCALE)
    return ((x - bound) / scale) ** 2


def target_key(t: Target) -> tuple[str, str, str, str]:
    """(indicator, district, period, storyline): a target's key in the model values."""
    return (t.indicator, t.district, t.period, t.storyline)


def distance(targets: Sequence[Target], model: Mapping[tuple[str, str, str, str], float]) -> float:
    """The sum of :func:`target_distance` over ``targets`` (model values by :func:`target_key`)."""
    return float(sum(target_distance(t, model[target_key(t)]) for t in targets))


def base_config(cal: CalibrationConfig, config_dirs: Sequence[str] = ()) -> dict:
    """The composed config (plain dict) every trial starts from: the scenario preset, the
    calibration's overrides, its households and months (seed set per run)."""
    from omegaconf import OmegaConf

    from ..runs.compose import compose

    overrides = [f"scenario={cal.scenario}", *cal.overrides, f"months={cal.months}",
                 f"population.households={cal.households}", "output.figure=false"]
    cfg = compose(overrides, config_dirs=config_dirs)
    return OmegaConf.to_container(cfg, resolve=True)


def first_month(storyline: str, config_dirs: Sequence[str] = ()) -> str:
    """The ``first_month`` ('YYYY-MM') of a storyline of the config group ``storyline``.

    Raises
    ------
    ConfigError  no such storyline, or one without ``first_month`` (crisis targets need a dated one).
    """
    from omegaconf import OmegaConf

    from ..errors import ConfigError
    from ..paths import group_file

    f = group_file("storyline", storyline, config_dirs)
    if f is None:
        raise ConfigError("storyline", storyline, "a storyline of configs/storyline/")
    first = str(OmegaConf.load(f).get("first_month", "") or "")
    if not first:
        raise ConfigError(f"storyline {storyline}: first_month", "", "a dated storyline ('YYYY-MM') for crisis targets")
    return first


#: months a crisis run goes on past the last month a target names (the recovery)
RECOVERY_MONTHS = 12


def storyline_base(cal: CalibrationConfig, storyline: str, months: int, config_dirs: Sequence[str] = ()) -> dict:
    """The composed config of a crisis run: the calibration's, with ``storyline`` and ``months``."""
    import dataclasses

    keep = [o for o in cal.overrides if not o.lstrip("+~").startswith(("storyline=", "months="))]
    return base_config(dataclasses.replace(cal, overrides=(*keep, f"storyline={storyline}"), months=months), config_dirs)


def run_bases(cal: CalibrationConfig, targets: Sequence[Target], config_dirs: Sequence[str] = (),
              no_shock: bool = False) -> dict[str, dict]:
    """storyline -> the composed config its targets are measured on ("" = the no-shock run
    of ``cal.months``, there when a target needs it or ``no_shock``; a storyline runs to its
    last dated target plus :data:`RECOVERY_MONTHS`)."""
    from ..targets import horizon_months

    out: dict[str, dict] = {}
    if no_shock or any(not t.storyline for t in targets):
        out[""] = base_config(cal, config_dirs)
    for name in sorted({t.storyline for t in targets if t.storyline}):
        first = first_month(name, config_dirs)
        last = max(horizon_months(first, t.period)[1] for t in targets if t.storyline == name)
        out[name] = storyline_base(cal, name, max(12, last + RECOVERY_MONTHS), config_dirs)
    return out


def trial_configs(cal: CalibrationConfig, base: Mapping, params: Mapping[str, float]) -> list[dict]:
    """One config per seed with the free parameters set (``params``: name -> value)."""
    from ..runs.paths import set_path

    out = []
    for seed in cal.seeds:
        cfg = copy.deepcopy(dict(base))
        for name, value in params.items():
            set_path(cfg, cal.parameters[name].path, float(value), where=f"parameters.{name}")
        cfg["seed"] = int(seed)
        out.append(cfg)
    return out


@dataclass(frozen=True)
class TrialRuns:
    """What one parameter set gave: the distance and every target's value.

    Attributes
    ----------
    distance : float  sum of the target distances (0: every target in its band)
    model : dict :func:`target_key` -> float  the seeds' mean of each target
    per_seed : dict :func:`target_key` -> list of float  each seed's value
    """

    distance: float
    model: dict
    per_seed: dict

    def in_band(self, targets: Sequence[Target]) -> list[bool]:
        return [t.contains(self.model[target_key(t)]) for t in targets]


def evaluate(cal: CalibrationConfig, bases: Mapping[str, Mapping], params: Mapping[str, float],
             targets: Sequence[Target], scenario: Any) -> TrialRuns:
    """Run every seed at ``params`` (in this process) on each run the targets need
    (``bases`` from :func:`run_bases`: the no-shock run and one per crisis storyline) and
    measure ``targets``."""
    from ..runs.execute import run_results

    model, per_seed = {}, {}
    for story, base in bases.items():
        mine = [t for t in targets if t.storyline == story]
        if not mine:
            continue
        results = [run_results(cfg) for cfg in trial_configs(cal, base, params)]
        districts = tuple(sorted({t.district for t in mine}, key=lambda d: (d != "all", d)))
        periods = tuple(sorted({t.period for t in mine}))
        measured: pd.DataFrame = measure(results, scenario, districts=districts, periods=periods)
        for t in mine:
            row = measured.loc[(t.indicator, t.district, t.period)]
            model[target_key(t)] = float(row["mean"])
            per_seed[target_key(t)] = [float(v) for v in row.drop("mean").to_numpy(dtype=np.float64)]
    return TrialRuns(distance(targets, model), model, per_seed)
