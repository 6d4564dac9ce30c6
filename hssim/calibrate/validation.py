"""Validation of a fit: every target of the scenario (calibration and held-out validation
rows, no-shock and crisis) against the model at the plausible parameter sets.

For each plausible set (the best ``max_sets``) and each seed of the calibration, the
model runs once without storyline (the no-shock rows) and once per storyline that a
crisis row names (a hindcast: the storyline replays the documented crisis, the response
is the calibration's, ``policy=none`` for the shipped ones). Each target gets the
distribution of its indicator over those runs (sets x seeds) against the observed band.

**Error metrics**, as displacement and epidemic modellers report them:

- ``rel_error``: (model median - observed value) / observed value, where a value is given;
- ``coverage``: the share of the runs whose value lies in the band;
- ``in_band``: the model median lies in the band;
- ``mase`` (per storyline, in :attr:`Validation.metrics`): the mean absolute error of the
  model median over the storyline's dated targets (band midpoints), scaled by the mean
  absolute error of the naive forecast "the no-shock model median" for the same targets.
  Below 1: the hindcast says more about the crisis than "a normal year" would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..targets import PATTERN_INDICATORS, Target, calendar_month, measure
from .objective import first_month, run_bases, trial_configs
from .schema import CalibrationConfig

__all__ = ["Validation", "validate_fit", "first_month", "HINDCAST_SERIES"]

#: monthly series kept from every hindcast (all districts)
HINDCAST_SERIES = ("ipc3plus_frac", "ipc5_frac", "acute_malnutrition_frac", "cdr_per_10k_day")


@dataclass
class Validation:
    """Targets against the model at the plausible sets (see the module docstring).

    Attributes
    ----------
    table : DataFrame  one row per target: ``indicator, district, period, storyline, role,
        low, high, value, model_median, model_p05, model_p95, in_band, coverage, rel_error,
        source``
    series : DataFrame  hindcast months: ``storyline, set, seed, month, calendar`` and
        :data:`HINDCAST_SERIES`
    metrics : DataFrame  per storyline (and ``no shock``) and role: targets, in band,
        mean coverage, MASE
    sets : list of dict  the parameter sets run (best first)
    first_months : dict storyline -> 'YYYY-MM'  the calendar month of each hindcast's month 1
    """

    table: pd.DataFrame
    series: pd.DataFrame
    metrics: pd.DataFrame
    sets: list = field(default_factory=list)
    first_months: dict = field(default_factory=dict)

    def counts(self) -> dict[str, tuple[int, int]]:
        """role -> (targets in band, targets)."""
        out = {}
        for role, g in self.table.groupby("role"):
            out[str(role)] = (int(g["in_band"].sum()), int(len(g)))
        return out


def validate_fit(cal: CalibrationConfig, sets: Sequence[dict], targets: Sequence[Target], scenario,
                 config_dirs: Sequence[str] = (), progress=None) -> Validation:
    """Run the plausible ``sets`` (name -> value, best first) over the calibration's seeds
    and compare every target (both roles) with the runs.

    ``progress(done, total)`` after each run.
    """
    from ..runs.execute import run_results

    sets = [dict(s) for s in sets]
    if not sets:
        raise ValueError("no parameter set to validate")
    plain = [t for t in targets if not t.storyline]
    crisis: dict[str, list[Target]] = {}
    for t in targets:
        if t.storyline:
            crisis.setdefault(t.storyline, []).append(t)
    # the no-shock run also gives the naive "normal year" forecast the MASE compares with
    bases = run_bases(cal, targets, config_dirs, no_shock=True)
    total = len(bases) * len(sets) * len(cal.seeds)
    done = 0
    runs: dict[str, list] = {name: [] for name in bases}
    labels: dict[str, list[tuple[int, int]]] = {name: [] for name in bases}
    for name, base in bases.items():
        for k, params in enumerate(sets):
            for cfg in trial_configs(cal, base, params):
                runs[name].append(run_results(cfg))
                labels[name].append((k, int(cfg["seed"])))
                done += 1
                if progress is not None:
                    progress(done, total)

    rows = []
    # (indicator, district) -> the no-shock median over all years: the "normal year" forecast
    ind_d = sorted({(t.indicator, t.district) for t in targets if t.indicator not in PATTERN_INDICATORS})
    districts = tuple(sorted({d for _, d in ind_d}, key=lambda d: (d != "all", d)))
    m0 = measure(runs[""], scenario, districts=districts, periods=("normal years", "all years"))
    naive = {(ind, d): float(np.nanmedian(m0.loc[(ind, d, "all years")].drop("mean").to_numpy(np.float64)))
             for ind, d in ind_d}
    rows += _rows(plain, m0)
    for name, ts in crisis.items():
        districts = tuple(sorted({t.district for t in ts}, key=lambda d: (d != "all", d)))
        m = measure(runs[name], scenario, districts=districts, periods=tuple(sorted({t.period for t in ts})))
        rows += [dict(r, storyline=name) for r in _rows(ts, m)]
    table = pd.DataFrame(rows, columns=["indicator", "district", "period", "storyline", "role", "low", "high", "value",
                                        "model_median", "model_p05", "model_p95", "in_band", "coverage", "rel_error",
                                        "source", "row"])

    firsts = {name: first_month(name, config_dirs) for name in crisis}
    series = []
    for name, first in firsts.items():
        for (k, seed), res in zip(labels[name], runs[name]):
            frame = pd.DataFrame({s: res.indicator(s).to_numpy(np.float64) for s in HINDCAST_SERIES})
            frame.insert(0, "calendar", [calendar_month(first, m) for m in range(1, len(frame) + 1)])
            frame.insert(0, "month", np.arange(1, len(frame) + 1))
            frame.insert(0, "seed", seed)
            frame.insert(0, "set", k)
            frame.insert(0, "storyline", name)
            series.append(frame)
    series_frame = pd.concat(series, ignore_index=True) if series else pd.DataFrame(
        columns=["storyline", "set", "seed", "month", "calendar", *HINDCAST_SERIES])

    metrics = []
    for (story, role), g in table.groupby([table["storyline"].replace("", "no shock"), "role"], sort=False):
        entry = {"storyline": story, "role": role, "targets": int(len(g)), "in_band": int(g["in_band"].sum()),
                 "mean_coverage": float(g["coverage"].mean()), "mase": math.nan}
        if story != "no shock":
            obs = g.apply(lambda r: _midpoint(r["low"], r["high"], r["value"]), axis=1).to_numpy(np.float64)
            model = g["model_median"].to_numpy(np.float64)
            ref = np.array([naive.get((i, d), math.nan) for i, d in zip(g["indicator"], g["district"])])
            level = np.isfinite(ref)  # the level rows; crisis-shape rows have no naive forecast
            den = float(np.nanmean(np.abs(ref - obs)[level])) if level.any() else math.nan
            entry["mase"] = float(np.nanmean(np.abs(model - obs)[level]) / den) if den > 0 else math.nan
        metrics.append(entry)
    return Validation(table, series_frame, pd.DataFrame(metrics), sets, firsts)


def _midpoint(low: float, high: float, value: float) -> float:
    if not math.isnan(value):
        return value
    if not math.isnan(low) and not math.isnan(high):
        return (low + high) / 2
    return low if not math.isnan(low) else high


def _rows(targets: Sequence[Target], measured: pd.DataFrame) -> list[dict]:
    out = []
    for t in targets:
        vals = measured.loc[(t.indicator, t.district, t.period)].drop("mean").to_numpy(np.float64)
        finite = vals[np.isfinite(vals)]
        med = float(np.median(finite)) if len(finite) else math.nan
        p05, p95 = (np.quantile(finite, [0.05, 0.95]) if len(finite) else (math.nan, math.nan))
        out.append({"indicator": t.indicator, "district": t.district, "period": t.period, "storyline": t.storyline,
                    "role": t.role, "low": t.low, "high": t.high, "value": t.value, "model_median": med,
                    "model_p05": float(p05), "model_p95": float(p95), "in_band": bool(t.contains(med)),
                    "coverage": float(np.mean([t.contains(float(v)) for v in vals])) if len(vals) else math.nan,
                    "rel_error": (med - t.value) / t.value if not math.isnan(t.value) and t.value != 0 else math.nan,
                    "source": t.source, "row": t.row})
    return out
