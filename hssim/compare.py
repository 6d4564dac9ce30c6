"""Policy comparison: several response arms on the same seeds, paired differences,
costs, cost-effectiveness and early versus late action.

Every arm is a list of Hydra overrides on top of common overrides (a policy preset
``policy=<name>`` is the usual arm). :func:`compare` runs every arm on the same
``R`` seeds ``base_seed + r`` (r = 0..R-1): **common random numbers**. Hazard
streams never depend on the policy, so replicate ``r`` of every arm sees the same
droughts, conflict and epidemics, and the paired difference ``arm - reference`` on
a replicate is caused by the policy, not by noise.

Per run the outcomes of :func:`hssim.polyrisk.outcome_values` (deaths, IPC3+
person-months, malnutrition child-months, displaced person-months, ...) are kept,
plus these ``summary`` entries of a run with a response (see :data:`SUMMARY_OUTCOMES`):
``cost_usd_total`` and ``cost_in_vain_usd`` (0 when missing: no response, no cost),
``food_gap_usd``, ``assets_end_usd``, ``trigger_hits``, ``trigger_misses``,
``trigger_false_alarms``, ``households_duplicated_months``,
``households_need_unmet_months`` (left out when missing, so NaN in the tables).
The run's cost table (``results.tables["costs"]``) is kept summed over months and
districts, by ``intervention, kind, sector``.

Analysis, for each arm ``a`` against the reference ``ref`` (the first arm unless
named), over the ``n`` replicates both have:

``d_r = Y_a,r - Y_ref,r``        paired difference on replicate r
``mean, sd (ddof 1), se = sd / sqrt(n)``
``95% CI = mean -/+ t(0.975, n - 1) se``   (paired t interval; zero width when sd = 0)
``share_better`` = share of replicates where the arm is strictly better
                  (lower for every outcome except :data:`HIGHER_IS_BETTER`)

Cost-effectiveness (ratio of means; 95% percentile bootstrap over replicates, the
replicates resampled in pairs with ``numpy.random.default_rng(bootstrap_seed)``)::

    incremental_cost_r = cost_a,r - cost_ref,r
    cost per death averted = mean(incremental_cost) / mean(deaths_ref - deaths_a)
    cost per IPC3+ person-month averted = likewise with ipc3plus_person_months
    benefit_r = (food_gap_usd_ref,r - food_gap_usd_a,r) + (assets_end_usd_a,r - assets_end_usd_ref,r)
    benefit-cost ratio (BCR) = mean(benefit) / mean(incremental_cost)

Deaths and person-months are recorded for the simulated households and money for the
scenario's real population; the averted counts are multiplied by the run's
``real_households_per_simulated`` (1 when not recorded) before they meet the costs.
A cost per unit averted is ``inf`` with the note ``not averted`` when the mean
averted is <= 0 (never a negative ratio); a resample that averts nothing counts as
``inf``. With ``ref`` = no response the incremental cost is the arm's cost.

Early versus late: for every pair ``anticipatory_<x>`` / ``reactive_<x>`` among the
arms (and pairs given with ``early_vs_late=``), the paired differences early - late
of every outcome and of the benefit, the incremental benefit-cost of early action
``(benefit_early - benefit_late) / (cost_early - cost_late)`` (noted when the costs
are equal) and the ratio of the two BCRs.

With ``run_dir``, every finished run is stored in ``run_dir/runs/<arm>__r<k>.json``
with a fingerprint of its validated config; a later call skips stored runs with the
same fingerprint, so an interrupted comparison continues where it stopped.

Command line::

    hssim-compare [--arms a,b,c] [--arm LABEL:OVERRIDES] [--replicates R] [--reference NAME]
                  [--early-vs-late EARLY:LATE] [--out DIR | --resume DIR] [--debug] [OVERRIDES...]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .cliutil import RunFolder, check_memory, handle_signals, interrupted, os_error_message
from .cliutil import fail as _fail
from .errors import ConfigError, UserError
from .polyrisk import _jsonable, describe, outcome_values
from .results import atomic_write

__all__ = [
    "compare",
    "resume",
    "plan",
    "ComparisonResult",
    "ComparisonPlan",
    "run_outcomes",
    "run_costs",
    "t_interval",
    "paired_stats",
    "ratio_of_means",
    "paired_differences",
    "cost_summary",
    "cost_effectiveness",
    "early_vs_late",
    "default_pairs",
    "count_scale",
    "available_presets",
    "DEFAULT_ARMS",
    "SUMMARY_OUTCOMES",
    "HIGHER_IS_BETTER",
    "main",
]

#: the five response policies, in the order a planner reads them
DEFAULT_ARMS: tuple[str, ...] = (
    "none",
    "reactive_siloed",
    "reactive_integrated",
    "anticipatory_siloed",
    "anticipatory_integrated",
)
#: summary entries of a run with a response that join the outcomes
SUMMARY_OUTCOMES: tuple[str, ...] = (
    "cost_usd_total",
    "food_gap_usd",
    "assets_end_usd",
    "cost_in_vain_usd",
    "trigger_hits",
    "trigger_misses",
    "trigger_false_alarms",
    "households_duplicated_months",
    "households_need_unmet_months",
)
#: simulated counts (deaths, person-months) x this = counts in the scenario's real population;
#: money (costs, food gap, assets) is already for the real population
SCALE = "real_households_per_simulated"
#: entries of the runs table that are not outcomes (not compared between arms)
NON_OUTCOMES: frozenset[str] = frozenset({SCALE})
#: summary entries that are 0 when a run does not have them (no response spends nothing)
ZERO_IF_MISSING: tuple[str, ...] = ("cost_usd_total", "cost_in_vain_usd")
#: outcomes where more is better (every other outcome: less is better)
HIGHER_IS_BETTER: frozenset[str] = frozenset({"assets_end_usd", "trigger_hits", "hs_index_mean"})
#: outcomes shown first in tables and figures (those present, in this order)
KEY_OUTCOMES: tuple[str, ...] = (
    "deaths_total",
    "ipc3plus_person_months",
    "acute_malnutrition_u5_months",
    "displaced_person_months",
    "food_gap_usd",
    "assets_end_usd",
    "cost_usd_total",
)
EXTRA_DESCRIPTIONS: dict[str, str] = {
    "cost_usd_total": "cost of the response over the horizon, USD",
    "food_gap_usd": "value of the food consumption gap over the horizon, USD",
    "assets_end_usd": "productive assets of the population at the end, USD",
    "cost_in_vain_usd": "cost of actions taken on triggers that proved false alarms, USD",
    "trigger_hits": "triggers followed by the shock",
    "trigger_misses": "shocks without a trigger",
    "trigger_false_alarms": "triggers without the shock",
    "households_duplicated_months": "household-months served twice by separate sectors",
    "households_need_unmet_months": "household-months in need and not served",
    "benefit_usd": "avoided losses: food gap avoided + productive assets kept, USD",
}
#: cost-effectiveness metrics: name -> (averted outcome, unit in words)
CE_METRICS: dict[str, tuple[str, str]] = {
    "cost_per_death_averted": ("deaths_total", "death"),
    "cost_per_ipc3plus_person_month_averted": ("ipc3plus_person_months", "person-month of IPC3+"),
}
BOOTSTRAP_SEED = 20240601
N_BOOT = 2000
#: most replicates of one comparison (paired intervals settle long before this)
MAX_REPLICATES = 10_000
#: memory a finished run's outcomes and cost rows hold in the parent, bytes (generous)
_BYTES_PER_RUN = 200e3
LEVEL = 0.95

ProgressFn = Callable[[int, int, str, int, bool], None]


def describe_outcome(name: str) -> str:
    return EXTRA_DESCRIPTIONS.get(name) or describe(name)


def higher_is_better(name: str) -> bool:
    return name in HIGHER_IS_BETTER


# -- what one run leaves behind --------------------------------------------------------


def run_outcomes(results) -> dict[str, float]:
    """Outcomes of one run: :func:`hssim.polyrisk.outcome_values` plus the response
    entries of ``results.summary`` (:data:`SUMMARY_OUTCOMES`).

    ``cost_usd_total`` and ``cost_in_vain_usd`` are 0 when missing (a run with no
    response spends nothing; ``cost_usd_total`` falls back on the sum of the cost
    table when only that is present); the others are left out when missing.
    """
    out = dict(outcome_values(results))
    summary = getattr(results, "summary", None) or {}
    for name in (*SUMMARY_OUTCOMES, SCALE):
        v = summary.get(name)
        if v is None:
            if name == "cost_usd_total":
                costs = run_costs(results)
                out[name] = float(sum(c["cost_usd"] for c in costs))
            elif name in ZERO_IF_MISSING:
                out[name] = 0.0
            continue
        try:
            out[name] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def run_costs(results) -> list[dict[str, Any]]:
    """The run's cost table summed over months and districts: a list of
    ``{intervention, kind, sector, cost_usd, household_months_served}`` (empty when
    the run has no ``tables["costs"]``)."""
    tables = getattr(results, "tables", None) or {}
    costs = tables.get("costs") if isinstance(tables, Mapping) else None
    if not isinstance(costs, pd.DataFrame) or costs.empty or "cost_usd" not in costs.columns:
        return []
    frame = costs.copy()
    for k in ("intervention", "kind", "sector"):
        if k not in frame.columns:
            frame[k] = "all" if k == "intervention" else ""
    frame[["intervention", "kind", "sector"]] = frame[["intervention", "kind", "sector"]].astype(str)
    served = "households_served" in frame.columns
    agg = {"cost_usd": ("cost_usd", "sum")}
    if served:
        agg["household_months_served"] = ("households_served", "sum")
    g = frame.groupby(["intervention", "kind", "sector"], sort=True, observed=True).agg(**agg).reset_index()
    if not served:
        g["household_months_served"] = np.nan
    return [
        {
            "intervention": str(r.intervention),
            "kind": str(r.kind),
            "sector": str(r.sector),
            "cost_usd": float(r.cost_usd),
            "household_months_served": float(r.household_months_served),
        }
        for r in g.itertuples(index=False)
    ]


# -- statistics --------------------------------------------------------------------------


def t_interval(x: Sequence[float], level: float = LEVEL) -> tuple[float, float, float, float, int]:
    """(mean, sd, se, half_width, n) of the finite values of ``x``; the interval is
    ``mean -/+ half_width`` with ``half_width = t((1 + level) / 2, n - 1) * sd / sqrt(n)``.
    NaN spreads for n < 2; exactly 0 when every value is equal."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    n = int(a.size)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean = float(a.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan, 1
    if np.all(a == a[0]):
        return float(a[0]), 0.0, 0.0, 0.0, n
    sd = float(a.std(ddof=1))
    se = sd / math.sqrt(n)
    return mean, sd, se, float(stats.t.ppf((1 + level) / 2, n - 1)) * se, n


def paired_stats(diff: Sequence[float], higher_better: bool = False, level: float = LEVEL) -> dict[str, float]:
    """Summary of paired differences ``arm - reference``: ``mean_diff, sd, se,
    ci_low, ci_high, share_better, n`` (``share_better``: share of pairs where the arm
    is strictly better; lower is better unless ``higher_better``)."""
    d = np.asarray(diff, dtype=np.float64)
    d = d[np.isfinite(d)]
    mean, sd, se, half, n = t_interval(d, level)
    better = (d > 0) if higher_better else (d < 0)
    return {
        "mean_diff": mean,
        "sd": sd,
        "se": se,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "share_better": float(better.mean()) if n else math.nan,
        "n": n,
    }


def _quantiles(values: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Linear-interpolation quantiles (numpy's default) that allow +inf values;
    NaN values are dropped."""
    v = np.sort(values[~np.isnan(values)])
    if v.size == 0:
        return [math.nan for _ in qs]
    if np.all(np.isfinite(v)):
        return [float(q) for q in np.quantile(v, qs)]
    out = []
    for q in qs:
        pos = q * (v.size - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, v.size - 1)
        frac = pos - lo
        if frac == 0 or v[lo] == v[hi]:
            out.append(float(v[lo]))
        else:
            out.append(float(v[lo] + (v[hi] - v[lo]) * frac))
    return out


def ratio_of_means(
    num: Sequence[float],
    den: Sequence[float],
    n_boot: int = N_BOOT,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
    invalid: float = math.inf,
) -> dict[str, float]:
    """``mean(num) / mean(den)`` with a percentile paired-bootstrap interval.

    Pairs ``(num_r, den_r)`` with a non-finite member are dropped. The bootstrap
    draws ``idx = default_rng(seed).integers(0, n, size=(n_boot, n))`` and takes
    the quantiles ``(1 -/+ level) / 2`` of ``num[idx].mean(1) / den[idx].mean(1)``.
    Where a mean denominator is <= 0 the ratio is ``invalid`` (``inf``: nothing
    averted; ``nan``: left out of the interval), for the estimate and every resample.
    With ``invalid = nan``, when more than ``(1 - level) / 2`` of the resamples have a
    denominator <= 0 the interval is unbounded: ``(-inf, inf)``.

    Returns
    -------
    dict  ``value, ci_low, ci_high, mean_num, mean_den, n, n_boot, n_invalid``
        (``n_invalid``: resamples with a denominator <= 0)
    """
    a = np.asarray(num, dtype=np.float64)
    b = np.asarray(den, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(a.size)
    out = {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "mean_num": math.nan,
           "mean_den": math.nan, "n": n, "n_boot": int(n_boot), "n_invalid": 0}
    if n == 0:
        return out
    mn, md = float(a.mean()), float(b.mean())
    out["mean_num"], out["mean_den"] = mn, md
    out["value"] = mn / md if md > 0 else float(invalid)
    if n_boot <= 0:
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    bn, bd = a[idx].mean(axis=1), b[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(bd > 0, bn / np.where(bd > 0, bd, 1.0), invalid)
    out["n_invalid"] = int((bd <= 0).sum())
    lo, hi = _quantiles(r, [(1 - level) / 2, (1 + level) / 2])
    if math.isnan(invalid) and out["n_invalid"] > (1 - level) / 2 * n_boot:
        # the denominator is not clearly positive: the ratio's interval has no finite ends
        lo, hi = -math.inf, math.inf
    out["ci_low"], out["ci_high"] = lo, hi
    return out


# -- analysis of a runs table -------------------------------------------------------------


def _outcomes_in_order(runs: pd.DataFrame) -> list[str]:
    return [o for o in dict.fromkeys(runs["outcome"].astype(str)) if o not in NON_OUTCOMES]


def count_scale(runs: pd.DataFrame) -> pd.Series:
    """Per replicate: real households per simulated household (``SCALE``, the mean over
    the arms that recorded it; 1 where none did)."""
    reps = pd.Index(sorted(runs["replicate"].unique()), name="replicate")
    sel = runs[runs["outcome"] == SCALE]
    s = sel.groupby("replicate")["value"].mean() if len(sel) else pd.Series(dtype=np.float64)
    return s.reindex(reps).fillna(1.0)


def _wide(runs: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """replicate x arm values of one outcome (NaN where a run lacks it)."""
    sel = runs[runs["outcome"].astype(str) == outcome]
    return sel.pivot_table(index="replicate", columns=sel["arm"].astype(str), values="value", aggfunc="first")


def _pair(runs: pd.DataFrame, outcome: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``a`` and ``b`` on the replicates where both have the outcome."""
    w = _wide(runs, outcome)
    if a not in w.columns or b not in w.columns:
        return np.zeros(0), np.zeros(0)
    x, y = w[a].to_numpy(np.float64), w[b].to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def _arm_order(runs: pd.DataFrame, arms: Sequence[str] | None) -> list[str]:
    return list(arms) if arms is not None else list(dict.fromkeys(runs["arm"].astype(str)))


def paired_differences(runs: pd.DataFrame, reference: str, arms: Sequence[str] | None = None,
                       level: float = LEVEL) -> pd.DataFrame:
    """Paired differences ``arm - reference`` of every outcome, for every arm but the
    reference.

    Parameters
    ----------
    runs : DataFrame  columns ``arm, replicate, outcome, value`` (``seed`` optional)

    Returns
    -------
    DataFrame  ``arm, outcome, description, better, mean_reference, mean_arm, mean_diff,
    ci_low, ci_high, se, sd, share_better, n``
    """
    rows = []
    for arm in _arm_order(runs, arms):
        if arm == reference:
            continue
        for outcome in _outcomes_in_order(runs):
            x, ref = _pair(runs, outcome, arm, reference)
            if x.size == 0:
                continue
            st = paired_stats(x - ref, higher_is_better(outcome), level)
            rows.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "description": describe_outcome(outcome),
                    "better": "higher" if higher_is_better(outcome) else "lower",
                    "mean_reference": float(ref.mean()),
                    "mean_arm": float(x.mean()),
                    "mean_diff": st["mean_diff"],
                    "ci_low": st["ci_low"],
                    "ci_high": st["ci_high"],
                    "se": st["se"],
                    "sd": st["sd"],
                    "share_better": st["share_better"],
                    "n": st["n"],
                }
            )
    cols = ["arm", "outcome", "description", "better", "mean_reference", "mean_arm", "mean_diff", "ci_low",
            "ci_high", "se", "sd", "share_better", "n"]
    return pd.DataFrame(rows, columns=cols)


def _per_replicate(runs: pd.DataFrame, outcome: str, arm: str) -> pd.Series:
    w = _wide(runs, outcome)
    return w[arm] if arm in w.columns else pd.Series(dtype=np.float64)


def _benefit(runs: pd.DataFrame, arm: str, reference: str) -> pd.Series:
    """Per replicate: (food_gap_ref - food_gap_arm) + (assets_arm - assets_ref), USD
    (NaN where a run lacks either)."""
    fg, assets = _wide(runs, "food_gap_usd"), _wide(runs, "assets_end_usd")
    if any(a not in w.columns for w in (fg, assets) for a in (arm, reference)):
        return pd.Series(dtype=np.float64)
    return (fg[reference] - fg[arm]) + (assets[arm] - assets[reference])


def cost_summary(runs: pd.DataFrame, reference: str, arms: Sequence[str] | None = None,
                 level: float = LEVEL) -> pd.DataFrame:
    """Cost of each arm over the horizon (``cost_usd_total``, 0 when not recorded).

    Returns
    -------
    DataFrame  ``arm, cost_usd_mean, cost_usd_ci_low, cost_usd_ci_high, cost_usd_sd,
    incremental_cost_usd_mean, incremental_cost_usd_ci_low, incremental_cost_usd_ci_high,
    cost_in_vain_usd_mean, n``
    """
    rows = []
    for arm in _arm_order(runs, arms):
        cost = _per_replicate(runs, "cost_usd_total", arm)
        vain = _per_replicate(runs, "cost_in_vain_usd", arm)
        m, sd, _se, half, n = t_interval(cost.to_numpy(np.float64))
        x, ref = _pair(runs, "cost_usd_total", arm, reference)
        inc = paired_stats(x - ref)
        rows.append(
            {
                "arm": arm,
                "cost_usd_mean": m,
                "cost_usd_ci_low": m - half,
                "cost_usd_ci_high": m + half,
                "cost_usd_sd": sd,
                "incremental_cost_usd_mean": inc["mean_diff"],
                "incremental_cost_usd_ci_low": inc["ci_low"],
                "incremental_cost_usd_ci_high": inc["ci_high"],
                "cost_in_vain_usd_mean": float(vain.mean()) if len(vain) else 0.0,
                "n": n,
            }
        )
    return pd.DataFrame(rows)


def cost_effectiveness(runs: pd.DataFrame, reference: str, arms: Sequence[str] | None = None,
                       n_boot: int = N_BOOT, seed: int = BOOTSTRAP_SEED, level: float = LEVEL) -> pd.DataFrame:
    """Cost per death averted, per IPC3+ person-month averted and the benefit-cost
    ratio of every arm against the reference (see the module docstring).

    Deaths and person-months averted are counted in the scenario's real population
    (the simulated counts times ``real_households_per_simulated`` when the runs
    recorded it), like the costs.

    Returns
    -------
    DataFrame  one row per (arm, metric): ``arm, metric, value, ci_low, ci_high, note,
    numerator, numerator_mean, denominator, denominator_mean, n, n_boot, n_invalid``
    """
    rows = []
    scale = count_scale(runs)
    for arm in _arm_order(runs, arms):
        if arm == reference:
            continue
        inc = _per_replicate(runs, "cost_usd_total", arm) - _per_replicate(runs, "cost_usd_total", reference)
        for metric, (outcome, _unit) in CE_METRICS.items():
            # counts are of simulated households, money of the real population: scale the counts
            averted = (_per_replicate(runs, outcome, reference) - _per_replicate(runs, outcome, arm)) * scale
            num, den = inc.align(averted, join="inner")
            r = ratio_of_means(num.to_numpy(np.float64), den.to_numpy(np.float64), n_boot, seed, level, math.inf)
            if r["n"] == 0:
                note = f"{outcome} not recorded"
            elif r["mean_den"] <= 0:
                note = "not averted"
            elif r["mean_num"] < 0:
                note = "cost saving"
            elif r["mean_num"] == 0:
                note = "no additional cost"
            else:
                note = ""
            rows.append(_ce_row(arm, metric, r, note, "incremental_cost_usd", f"{outcome}_averted (real population)"))
        benefit = _benefit(runs, arm, reference)
        num, den = benefit.align(inc, join="inner")
        r = ratio_of_means(num.to_numpy(np.float64), den.to_numpy(np.float64), n_boot, seed, level, math.nan)
        if r["n"] == 0:
            note = "benefit not recorded (needs food_gap_usd and assets_end_usd)"
        elif r["mean_den"] <= 0:
            note = "no additional cost: ratio undefined"
        elif math.isinf(r["ci_high"]):
            note = "interval unbounded: the extra cost over the reference is not clearly positive"
        elif r["n_invalid"]:
            note = f"{r['n_invalid']} of {r['n_boot']} resamples without additional cost left out of the interval"
        else:
            note = ""
        rows.append(_ce_row(arm, "benefit_cost_ratio", r, note, "benefit_usd", "incremental_cost_usd"))
    cols = ["arm", "metric", "value", "ci_low", "ci_high", "note", "numerator", "numerator_mean", "denominator",
            "denominator_mean", "n", "n_boot", "n_invalid"]
    return pd.DataFrame(rows, columns=cols)


def _ce_row(arm, metric, r, note, numerator, denominator) -> dict[str, Any]:
    return {
        "arm": arm,
        "metric": metric,
        "value": r["value"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "note": note,
        "numerator": numerator,
        "numerator_mean": r["mean_num"],
        "denominator": denominator,
        "denominator_mean": r["mean_den"],
        "n": r["n"],
        "n_boot": r["n_boot"],
        "n_invalid": r["n_invalid"],
    }


def default_pairs(arms: Iterable[str]) -> list[tuple[str, str]]:
    """``(anticipatory_<x>, reactive_<x>)`` for every ``x`` with both arms present."""
    names = list(arms)
    out = []
    for a in names:
        if a.startswith("anticipatory_"):
            late = "reactive_" + a[len("anticipatory_"):]
            if late in names:
                out.append((a, late))
    return out


def early_vs_late(runs: pd.DataFrame, pairs: Sequence[tuple[str, str]], reference: str,
                  n_boot: int = N_BOOT, seed: int = BOOTSTRAP_SEED, level: float = LEVEL) -> pd.DataFrame:
    """Early (anticipatory) against late (reactive) action, paired over replicates.

    Rows per pair: every outcome and ``benefit_usd`` as a difference early - late
    (``kind == "difference"``; ``benefit_early - benefit_late`` =
    ``(food_gap_late - food_gap_early) + (assets_early - assets_late)``, which does not
    depend on the reference); ``incremental_bcr`` = ``mean(benefit_early -
    benefit_late) / mean(cost_early - cost_late)`` and ``bcr_ratio`` = ``BCR_early /
    BCR_late`` (against the reference), both ``kind == "ratio"`` with a paired
    bootstrap interval.

    Returns
    -------
    DataFrame  ``early, late, quantity, kind, mean_early, mean_late, estimate, ci_low,
    ci_high, se, share_better, n, note``
    """
    rows = []
    outcomes = _outcomes_in_order(runs)
    for early, late in pairs:
        for outcome in outcomes:
            e, lt = _pair(runs, outcome, early, late)
            if e.size == 0:
                continue
            st = paired_stats(e - lt, higher_is_better(outcome), level)
            rows.append(_evl_row(early, late, outcome, "difference", e.mean(), lt.mean(), st, ""))
        cost_e = _per_replicate(runs, "cost_usd_total", early)
        cost_l = _per_replicate(runs, "cost_usd_total", late)
        ben_e, ben_l = _benefit(runs, early, reference), _benefit(runs, late, reference)
        frame = pd.concat({"ce": cost_e, "cl": cost_l, "be": ben_e, "bl": ben_l, "cr": _per_replicate(
            runs, "cost_usd_total", reference)}, axis=1)
        if not len(ben_e) or not len(ben_l):
            rows.append(_evl_row(early, late, "benefit_usd", "difference", math.nan, math.nan,
                                 paired_stats([]), "benefit not recorded (needs food_gap_usd and assets_end_usd)"))
            continue
        frame = frame.dropna()
        st = paired_stats((frame["be"] - frame["bl"]).to_numpy(), True, level)
        rows.append(_evl_row(early, late, "benefit_usd", "difference", frame["be"].mean(), frame["bl"].mean(), st, ""))
        dben = (frame["be"] - frame["bl"]).to_numpy(np.float64)
        dcost = (frame["ce"] - frame["cl"]).to_numpy(np.float64)
        n = len(frame)
        note = ""
        # costs within a dollar (or a millionth) of each other are equal: the same budget spent
        tol = max(1.0, 1e-6 * max(abs(frame["ce"].mean()), abs(frame["cl"].mean())))
        undefined = {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": n}
        if n and abs(dcost.mean()) <= tol:
            r = undefined
            if dben.mean() > 0:
                note = f"equal costs: early action gains USD {_money(dben.mean())} in avoided losses at no extra cost"
            elif dben.mean() < 0:
                note = f"equal costs: early action loses USD {_money(-dben.mean())} in avoided losses"
            else:
                note = "equal costs and equal benefits: ratio undefined"
        else:
            r = ratio_of_means(dben, dcost, n_boot, seed, level, math.nan)
            if math.isinf(r["ci_high"]):
                note = "interval unbounded: the extra cost of early action is not clearly positive"
            if n and r["mean_den"] <= 0:
                note = ("early action costs less" + (" and gains more (dominant)" if dben.mean() > 0 else "")
                        + "; ratio undefined")
                r = undefined
        rows.append(_evl_row(early, late, "incremental_bcr", "ratio", math.nan, math.nan,
                             {"mean_diff": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                              "se": math.nan, "share_better": math.nan, "n": r["n"]}, note))
        # ratio of BCRs, with the same paired resampling
        inc_e = (frame["ce"] - frame["cr"]).to_numpy(np.float64)
        inc_l = (frame["cl"] - frame["cr"]).to_numpy(np.float64)
        be, bl = frame["be"].to_numpy(np.float64), frame["bl"].to_numpy(np.float64)
        est, lo, hi, note = _bcr_ratio(be, inc_e, bl, inc_l, n_boot, seed, level)
        rows.append(_evl_row(early, late, "bcr_ratio", "ratio", _safe_ratio(be, inc_e), _safe_ratio(bl, inc_l),
                             {"mean_diff": est, "ci_low": lo, "ci_high": hi, "se": math.nan,
                              "share_better": math.nan, "n": n}, note))
    cols = ["early", "late", "quantity", "kind", "mean_early", "mean_late", "estimate", "ci_low", "ci_high", "se",
            "share_better", "n", "note"]
    return pd.DataFrame(rows, columns=cols)


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> float:
    if num.size == 0 or den.mean() <= 0:
        return math.nan
    return float(num.mean() / den.mean())


def _bcr_ratio(be, ce, bl, cl, n_boot, seed, level) -> tuple[float, float, float, str]:
    n = be.size
    if n == 0:
        return math.nan, math.nan, math.nan, "no paired replicates"
    if ce.mean() <= 0 or cl.mean() <= 0:
        return math.nan, math.nan, math.nan, "an arm costs no more than the reference: BCR undefined"
    bcr_l = bl.mean() / cl.mean()
    if bcr_l <= 0:
        return math.nan, math.nan, math.nan, "late action has no positive benefit-cost ratio: ratio of BCRs undefined"
    est = float((be.mean() / ce.mean()) / bcr_l)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    mce, mcl, mbl = ce[idx].mean(1), cl[idx].mean(1), bl[idx].mean(1)
    ok = (mce > 0) & (mcl > 0) & (mbl > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ok, (be[idx].mean(1) / mce) / (mbl / mcl), np.nan)
    lo, hi = _quantiles(r, [(1 - level) / 2, (1 + level) / 2])
    note = f"{int((~ok).sum())} resamples with an undefined ratio left out" if (~ok).any() else ""
    return est, lo, hi, note


def _evl_row(early, late, quantity, kind, mean_early, mean_late, st, note) -> dict[str, Any]:
    return {
        "early": early,
        "late": late,
        "quantity": quantity,
        "kind": kind,
        "mean_early": float(mean_early),
        "mean_late": float(mean_late),
        "estimate": st["mean_diff"],
        "ci_low": st["ci_low"],
        "ci_high": st["ci_high"],
        "se": st["se"],
        "share_better": st["share_better"],
        "n": st["n"],
        "note": note,
    }


def cost_breakdown(cost_runs: pd.DataFrame, runs: pd.DataFrame, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean cost per run by arm and intervention (a run without a row for an
    intervention counts as 0).

    Returns
    -------
    DataFrame  ``arm, intervention, kind, sector, cost_usd_mean, household_months_served_mean``
    """
    cols = ["arm", "intervention", "kind", "sector", "cost_usd_mean", "household_months_served_mean"]
    if cost_runs is None or cost_runs.empty:
        return pd.DataFrame(columns=cols)
    n_runs = runs.groupby("arm")["replicate"].nunique()
    g = cost_runs.groupby(["arm", "intervention", "kind", "sector"], sort=False).agg(
        cost_usd=("cost_usd", "sum"), served=("household_months_served", "sum")).reset_index()
    g["cost_usd_mean"] = g["cost_usd"] / g["arm"].map(n_runs).astype(float)
    g["household_months_served_mean"] = g["served"] / g["arm"].map(n_runs).astype(float)
    order = {a: k for k, a in enumerate(_arm_order(runs, arms))}
    g = g.sort_values(["arm", "cost_usd_mean"], key=lambda s: s.map(order) if s.name == "arm" else -s)
    return g[cols].reset_index(drop=True)


# -- the result --------------------------------------------------------------------------


@dataclass
class ComparisonResult:
    """A policy comparison.

    Attributes
    ----------
    runs : DataFrame  tidy: ``arm, replicate, seed, outcome, value`` (one row per run and outcome)
    differences : DataFrame  paired differences arm - reference (:func:`paired_differences`)
    costs : DataFrame  cost per arm (:func:`cost_summary`)
    cost_effectiveness : DataFrame  (:func:`cost_effectiveness`)
    early_vs_late : DataFrame  (:func:`early_vs_late`)
    cost_breakdown : DataFrame  mean cost by arm and intervention (empty without cost tables)
    cost_runs : DataFrame  per run: ``arm, replicate, intervention, kind, sector, cost_usd,
        household_months_served``
    arms : dict  arm -> its overrides, in order
    reference : str
    meta : dict  seeds, scenario, horizon, overrides, fingerprints, timing
    """

    runs: pd.DataFrame
    differences: pd.DataFrame
    costs: pd.DataFrame
    cost_effectiveness: pd.DataFrame
    early_vs_late: pd.DataFrame
    cost_breakdown: pd.DataFrame
    cost_runs: pd.DataFrame
    arms: dict[str, list[str]]
    reference: str
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_runs(
        cls,
        runs: pd.DataFrame,
        arms: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
        reference: str | None = None,
        cost_runs: pd.DataFrame | None = None,
        pairs: Sequence[tuple[str, str]] | None = None,
        meta: Mapping[str, Any] | None = None,
        n_boot: int = N_BOOT,
        bootstrap_seed: int = BOOTSTRAP_SEED,
    ) -> "ComparisonResult":
        """Analyse a tidy runs table (``arm, replicate, seed, outcome, value``).

        ``arms`` gives the order (default: order of appearance); ``reference`` the arm
        the others are compared with (default: the first); ``pairs`` the (early,
        late) pairs in addition to :func:`default_pairs`.
        """
        runs = runs.copy()
        if "seed" not in runs.columns:
            runs["seed"] = runs["replicate"]
        runs = runs[["arm", "replicate", "seed", "outcome", "value"]]
        runs["arm"] = runs["arm"].astype(str)
        runs["outcome"] = runs["outcome"].astype(str)
        runs["value"] = runs["value"].astype(np.float64)
        runs = _with_zero_costs(runs)
        if arms is None:
            arms = {a: [] for a in dict.fromkeys(runs["arm"])}
        elif not isinstance(arms, Mapping):
            arms = {a: [f"policy={a}"] for a in arms}
        arms = {str(k): list(v) for k, v in arms.items()}
        order = list(arms)
        ref = order[0] if reference is None else reference
        if ref not in order:
            raise ValueError(f"reference {ref!r} is not an arm ({', '.join(order)})")
        all_pairs = _merge_pairs(default_pairs(order), pairs or [])
        cost_runs = cost_runs if cost_runs is not None else pd.DataFrame(
            columns=["arm", "replicate", "intervention", "kind", "sector", "cost_usd", "household_months_served"])
        meta = dict(meta or {})
        meta.setdefault("replicates", int(runs["replicate"].nunique()))
        meta["reference"] = ref
        meta["early_vs_late_pairs"] = [list(p) for p in all_pairs]
        meta["n_boot"] = int(n_boot)
        meta["bootstrap_seed"] = int(bootstrap_seed)
        meta["level"] = LEVEL
        meta["real_households_per_simulated"] = (
            float(count_scale(runs).mean()) if (runs["outcome"] == SCALE).any() else None)
        return cls(
            runs=runs.reset_index(drop=True),
            differences=paired_differences(runs, ref, order),
            costs=cost_summary(runs, ref, order),
            cost_effectiveness=cost_effectiveness(runs, ref, order, n_boot, bootstrap_seed),
            early_vs_late=early_vs_late(runs, all_pairs, ref, n_boot, bootstrap_seed),
            cost_breakdown=cost_breakdown(cost_runs, runs, order),
            cost_runs=cost_runs.reset_index(drop=True),
            arms=arms,
            reference=ref,
            meta=meta,
        )

    # -- views ---------------------------------------------------------------------------
    def difference(self, arm: str, outcome: str) -> pd.Series:
        """The row of :attr:`differences` for ``arm`` and ``outcome``."""
        d = self.differences
        sel = d[(d["arm"] == arm) & (d["outcome"] == outcome)]
        if sel.empty:
            raise KeyError(f"no difference for arm {arm!r} and outcome {outcome!r}")
        return sel.iloc[0]

    def trigger_table(self) -> pd.DataFrame:
        """Mean trigger performance per arm (empty when no run recorded triggers):
        ``arm, trigger_hits, trigger_misses, trigger_false_alarms, hit_rate,
        false_alarm_ratio, cost_in_vain_usd``."""
        names = ["trigger_hits", "trigger_misses", "trigger_false_alarms"]
        sel = self.runs[self.runs["outcome"].isin(names + ["cost_in_vain_usd"])]
        if not sel["outcome"].isin(names).any():
            return pd.DataFrame(columns=["arm", *names, "hit_rate", "false_alarm_ratio", "cost_in_vain_usd"])
        m = sel.pivot_table(index="arm", columns="outcome", values="value", aggfunc="mean")
        m = m.reindex([a for a in self.arms if a in m.index])
        for c in [*names, "cost_in_vain_usd"]:
            if c not in m.columns:
                m[c] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            hits, misses, fa = m["trigger_hits"], m["trigger_misses"], m["trigger_false_alarms"]
            m["hit_rate"] = hits / (hits + misses)
            m["false_alarm_ratio"] = fa / (hits + fa)
        m = m.dropna(subset=names, how="all")
        return m.reset_index()[["arm", *names, "hit_rate", "false_alarm_ratio", "cost_in_vain_usd"]]

    def summary_sentences(self) -> list[str]:
        """Main findings in plain language, computed from the tables."""
        return findings(self)

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready view (NaN and inf -> null; notes say why)."""
        return _jsonable(
            {
                "arms": self.arms,
                "reference": self.reference,
                "meta": self.meta,
                "findings": self.summary_sentences(),
                "definitions": {
                    "mean_diff": "mean over replicates of (arm - reference) on the same seed",
                    "ci_low/ci_high": "95% paired t interval of the mean difference",
                    "share_better": "share of replicates where the arm is strictly better than the reference",
                    "cost_per_<x>_averted": "mean incremental cost / mean <x> averted (ratio of means); "
                                            "95% percentile paired bootstrap; null with note 'not averted' "
                                            "when nothing is averted on average",
                    "benefit_usd": "(food_gap_usd_ref - food_gap_usd_arm) + (assets_end_usd_arm - assets_end_usd_ref)",
                    "benefit_cost_ratio": "mean benefit_usd / mean incremental cost",
                    "incremental_bcr": "(benefit_early - benefit_late) / (cost_early - cost_late)",
                    "bcr_ratio": "BCR_early / BCR_late",
                },
                "differences": self.differences.to_dict(orient="records"),
                "costs": self.costs.to_dict(orient="records"),
                "cost_breakdown": self.cost_breakdown.to_dict(orient="records"),
                "cost_effectiveness": self.cost_effectiveness.to_dict(orient="records"),
                "early_vs_late": self.early_vs_late.to_dict(orient="records"),
                "triggers": self.trigger_table().to_dict(orient="records"),
            }
        )

    def figures(self, dpi: int = 110) -> dict[str, bytes]:
        """PNG bytes of the figures, by file name (see :mod:`hssim.report.compare_figures`)."""
        from .report.compare_figures import comparison_figures

        return comparison_figures(self, dpi=dpi)

    def html(self, figures: Mapping[str, bytes] | None = None) -> str:
        """The self-contained HTML report (see :mod:`hssim.report.html`)."""
        from .report.html import comparison_report

        return comparison_report(self, figures=self.figures() if figures is None else figures)

    def save(self, path: str | os.PathLike, figures: bool = True, dpi: int = 110) -> Path:
        """Write ``runs.csv``, ``differences.csv``, ``costs.csv``, ``cost_breakdown.csv``,
        ``cost_effectiveness.csv``, ``early_vs_late.csv``, the figures (PNG),
        ``report.html`` and ``comparison.json`` into the folder ``path`` (created if
        needed). Each file is written under a temporary name and renamed;
        ``comparison.json`` comes last and marks a complete folder."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        stale = out / "comparison.json"
        if stale.exists():  # rewriting: the folder is incomplete until the new one lands
            stale.unlink()
        for name, frame in (
            ("runs.csv", self.runs),
            ("differences.csv", self.differences),
            ("costs.csv", self.costs),
            ("cost_breakdown.csv", self.cost_breakdown),
            ("cost_effectiveness.csv", self.cost_effectiveness),
            ("early_vs_late.csv", self.early_vs_late),
        ):
            atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False))
        pngs = self.figures(dpi=dpi) if figures else {}
        for name, data in pngs.items():
            atomic_write(out / name, lambda p, d=data: p.write_bytes(d))
        page = self.html(figures=pngs)
        atomic_write(out / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        atomic_write(out / "comparison.json", lambda p: p.write_text(text))
        return out

    def format_table(self) -> str:
        """Key results per arm as compact text (for the terminal)."""
        ref = self.reference
        head = ["arm", f"deaths vs {ref}", f"IPC3+ person-months vs {ref}", "cost USD", "USD/death averted", "BCR"]
        rows = []
        ce = self.cost_effectiveness.set_index(["arm", "metric"]) if len(self.cost_effectiveness) else None
        costs = self.costs.set_index("arm")
        for arm in self.arms:
            cost = _money(costs.loc[arm, "cost_usd_mean"]) if arm in costs.index else "-"
            if arm == ref:
                rows.append([arm, "(reference)", "(reference)", cost, "-", "-"])
                continue
            cells = [arm]
            for outcome in ("deaths_total", "ipc3plus_person_months"):
                try:
                    d = self.difference(arm, outcome)
                    cells.append(f"{_signed(d['mean_diff'])} [{_signed(d['ci_low'])}, {_signed(d['ci_high'])}]")
                except KeyError:
                    cells.append("-")
            cells.append(cost)
            for metric in ("cost_per_death_averted", "benefit_cost_ratio"):
                if ce is None or (arm, metric) not in ce.index:
                    cells.append("-")
                    continue
                r = ce.loc[(arm, metric)]
                if r["note"] in ("not averted", "no additional cost"):
                    cells.append("no cost" if r["note"] == "no additional cost" else "not averted")
                elif not np.isfinite(r["value"]):
                    cells.append("-")
                elif metric == "benefit_cost_ratio":
                    cells.append(f"{r['value']:.2f}")
                else:
                    cells.append(_money(r["value"]))
            rows.append(cells)
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        n = self.meta.get("replicates", "")
        out = [line(head), *(line(r) for r in rows)]
        out.append(f"  differences: mean over {n} paired replicates [95% CI]; negative = fewer than {ref}")
        scale = self.meta.get("real_households_per_simulated")
        if scale and scale != 1:
            out.append(f"  counts are of the simulated households; USD per death averted counts deaths in the real "
                       f"population ({_count(scale)} real households per simulated one)")
        return "\n".join(out)


def _with_zero_costs(runs: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost_usd_total`` and ``cost_in_vain_usd`` = 0 for every run that lacks them
    (a run without a response spends nothing)."""
    keys = runs[["arm", "replicate", "seed"]].drop_duplicates()
    extra = []
    for name in ZERO_IF_MISSING:
        have = runs.loc[runs["outcome"] == name, ["arm", "replicate"]]
        missing = keys.merge(have, on=["arm", "replicate"], how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
        if len(missing):
            extra.append(missing.assign(outcome=name, value=0.0))
    if not extra:
        return runs
    return pd.concat([runs, *extra], ignore_index=True)


def _merge_pairs(a: Sequence[tuple[str, str]], b: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for p in [*a, *b]:
        p = (str(p[0]), str(p[1]))
        if p not in out:
            out.append(p)
    return out


# -- numbers in words --------------------------------------------------------------------


def _money(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def _count(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or x == round(x):
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _signed(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    return ("+" if x > 0 else "-") + _count(abs(x))


def findings(result: ComparisonResult) -> list[str]:
    """Plain-language sentences about the main results, computed from the tables."""
    ref = result.reference
    months = result.meta.get("months")
    horizon = f"over the {months}-month horizon" if months else "over the horizon"
    n = result.meta.get("replicates")
    scale = result.meta.get("real_households_per_simulated")
    hh = result.meta.get("households")
    among = f" among the {hh:,} simulated households" if isinstance(hh, int) and scale and scale != 1 else ""
    out = []
    ce = result.cost_effectiveness
    for arm in result.arms:
        if arm == ref:
            continue
        parts = []
        for outcome, noun in (("deaths_total", "deaths"), ("ipc3plus_person_months", "person-months in IPC phase 3+")):
            try:
                d = result.difference(arm, outcome)
            except KeyError:
                continue
            averted, lo, hi = -d["mean_diff"], -d["ci_high"], -d["ci_low"]
            ci = f"95% CI {_count(lo)} to {_count(hi)}"
            if scale and scale != 1:
                ci += f"; about {_count(averted * scale)} in the scenario's real population"
            if not np.isfinite(averted):
                continue
            if np.isfinite(lo) and lo > 0:
                s = f"averted {_count(averted)} {noun}{among} ({ci}) per run {horizon} compared with {ref}"
            elif np.isfinite(hi) and hi < 0:
                s = (f"had {_count(-averted)} more {noun} per run than {ref} (95% CI {_signed(d['ci_low'])} to "
                     f"{_signed(d['ci_high'])})")
            elif averted == 0 and lo == 0 and hi == 0:
                s = f"had exactly the same {noun} as {ref} in every replicate"
            else:
                s = (f"changed {noun} by {_signed(-averted)} per run compared with {ref} (95% CI "
                     f"{_signed(d['ci_low'])} to {_signed(d['ci_high'])}), not distinguishable from no change "
                     f"across {n} replicates")
            metric = {"deaths_total": "cost_per_death_averted",
                      "ipc3plus_person_months": "cost_per_ipc3plus_person_month_averted"}[outcome]
            row = ce[(ce["arm"] == arm) & (ce["metric"] == metric)]
            if len(row) and row.iloc[0]["note"] == "" and np.isfinite(row.iloc[0]["value"]) and averted > 0:
                r = row.iloc[0]
                unit = "death" if outcome == "deaths_total" else "IPC3+ person-month"
                s += f", at USD {_money(r['value'])} per {unit} averted (95% CI {_money(r['ci_low'])} to "
                s += (f"{_money(r['ci_high'])})" if np.isfinite(r["ci_high"])
                      else "inf: some resamples avert nothing)")
            elif len(row) and row.iloc[0]["note"] == "cost saving" and averted > 0:
                s += ", while saving money"
            parts.append(s)
        cost = result.costs[result.costs["arm"] == arm]
        if len(cost) and not (cost.iloc[0]["cost_usd_mean"] > 0):
            parts.append("no response cost was recorded")
        elif len(cost):
            c = cost.iloc[0]
            parts.append(f"cost USD {_money(c['cost_usd_mean'])} per run"
                         + (f" (USD {_money(c['incremental_cost_usd_mean'])} more than {ref})"
                            if np.isfinite(c["incremental_cost_usd_mean"]) and c["incremental_cost_usd_mean"] > 0
                            else ""))
        row = ce[(ce["arm"] == arm) & (ce["metric"] == "benefit_cost_ratio")]
        if len(row) and np.isfinite(row.iloc[0]["value"]):
            r = row.iloc[0]
            parts.append(f"avoided losses (food gap and productive assets) worth USD {_money(r['numerator_mean'])}, "
                         f"a benefit-cost ratio of {r['value']:.2f} ({_ci_words(r['ci_low'], r['ci_high'])})")
        if parts:
            out.append(f"{arm} " + "; ".join(parts) + ".")
    evl = result.early_vs_late
    for (early, late), g in evl.groupby(["early", "late"], sort=False) if len(evl) else []:
        g = g.set_index("quantity")
        parts = []
        if "deaths_total" in g.index:
            d = g.loc["deaths_total"]
            parts.append(f"{_signed(d['estimate'])} deaths (95% CI {_signed(d['ci_low'])} to {_signed(d['ci_high'])})")
        if "cost_usd_total" in g.index:
            d = g.loc["cost_usd_total"]
            parts.append(f"{_signed(d['estimate'])} USD of cost")
        if "benefit_usd" in g.index and np.isfinite(g.loc["benefit_usd", "estimate"]):
            d = g.loc["benefit_usd"]
            parts.append(f"{_signed(d['estimate'])} USD of avoided losses")
        s = f"Acting early ({early}) rather than late ({late}) changed, per run: " + ", ".join(parts) + "."
        if "incremental_bcr" in g.index:
            r = g.loc["incremental_bcr"]
            if np.isfinite(r["estimate"]):
                s += (f" Each extra dollar spent on early action returned USD {_ratio(r['estimate'])} "
                      f"({_ci_words(r['ci_low'], r['ci_high'])}) in avoided losses.")
            elif r["note"]:
                s += f" {r['note'][0].upper()}{r['note'][1:]}."
        if parts:
            out.append(s)
    if not out:
        out.append("No arm other than the reference was compared.")
    return out


def _ci_words(lo: float, hi: float) -> str:
    if math.isinf(lo) and math.isinf(hi):
        return "95% CI unbounded"
    return f"95% CI {_ratio(lo)} to {_ratio(hi)}"


def _ratio(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.2f}"


# -- planning and running -------------------------------------------------------------------


def available_presets() -> list[str]:
    """Names of the policy presets, ``configs/policy/<name>.yaml``."""
    from .paths import configs_dir

    folder = configs_dir() / "policy"
    if not folder.is_dir():
        return []
    # a preset names its policy; shared partials (base.yaml, extended by the presets) do not
    named = re.compile(r"^name\s*:", re.MULTILINE)
    return sorted(p.stem for p in folder.glob("*.yaml") if named.search(p.read_text(errors="replace")))


def check_presets(names: Sequence[str]) -> None:
    """Raise :class:`UserError` naming every arm without a ``configs/policy/<name>.yaml``."""
    presets = available_presets()
    missing = [n for n in names if n not in presets]
    if missing:
        avail = ", ".join(presets) if presets else "none yet (configs/policy/ holds no presets)"
        which = ", ".join(repr(m) for m in missing)
        raise UserError(
            f"arm{'s' if len(missing) > 1 else ''} {which}: no policy preset of that name "
            f"(configs/policy/<name>.yaml); available presets: {avail}"
        )


def _normalise_arms(arms) -> dict[str, list[str]]:
    if isinstance(arms, Mapping):
        out = {}
        for k, v in arms.items():
            if isinstance(v, str):
                raise ConfigError(f"arms[{k!r}]", v, "a list of overrides, e.g. ['policy=none']")
            out[str(k)] = [str(o) for o in v]
    else:
        if isinstance(arms, str):
            arms = [a for a in arms.split(",")]
        names = [str(a).strip() for a in arms]
        check_presets([n for n in names if n])
        out = {}
        for n in names:
            if n in out:
                raise ConfigError("arms", n, "each arm named once")
            out[n] = [f"policy={n}"]
    for k in out:
        if not k.strip():
            raise ConfigError("arms", k, "a non-empty arm name")
    return out


def _fingerprint(config_dict: Mapping[str, Any]) -> str:
    from . import __version__

    text = json.dumps({"config": config_dict, "hssim": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class ComparisonPlan:
    """Validated arms, ready to run: ``configs`` arm -> validated Config (base seed)."""

    arms: dict[str, list[str]]
    overrides: list[str]
    replicates: int
    base_seed: int
    reference: str
    pairs: list[tuple[str, str]]
    configs: dict[str, Any] = field(repr=False)
    scenario: Any = field(repr=False, default=None)

    @property
    def seeds(self) -> list[int]:
        return [self.base_seed + r for r in range(self.replicates)]

    def config(self, arm: str, replicate: int):
        return dataclasses.replace(self.configs[arm], seed=self.base_seed + replicate)

    def fingerprint(self, arm: str, replicate: int) -> str:
        from .config.validate import to_dict

        return _fingerprint(to_dict(self.config(arm, replicate)))

    def spec(self) -> dict[str, Any]:
        """What :func:`resume` needs to rebuild the plan."""
        return {
            "arms": self.arms,
            "overrides": self.overrides,
            "replicates": self.replicates,
            "base_seed": self.base_seed,
            "reference": self.reference,
            "early_vs_late": [list(p) for p in self.pairs],
        }


def plan(
    arms,
    replicates: int = 20,
    base_seed: int | None = None,
    reference: str | None = None,
    overrides: Sequence[str] = (),
    early_vs_late: Sequence[tuple[str, str]] | None = None,
) -> ComparisonPlan:
    """Validate a comparison before anything runs: every arm's config
    (``prepare(compose(overrides + arm overrides))``), the replicates, the reference,
    the early/late pairs. Raises :class:`UserError` (``ConfigError``) on a problem."""
    from .api import compose
    from .config.build import prepare
    from .config.validate import to_dict

    try:
        replicates = int(replicates)
    except (TypeError, ValueError):
        raise ConfigError("replicates", replicates, "an integer >= 2") from None
    if replicates < 2:
        raise ConfigError("replicates", replicates, "an integer >= 2 (paired intervals need two replicates)")
    if replicates > MAX_REPLICATES:
        raise ConfigError("replicates", replicates, f"at most {MAX_REPLICATES:,} replicates")
    overrides = [str(o) for o in overrides]
    base_cfg, _ = prepare(compose(overrides))
    arm_map = _normalise_arms(arms)
    if len(arm_map) < 2:
        raise ConfigError("arms", ", ".join(arm_map) or "[]", "two or more arms to compare")
    ref = next(iter(arm_map)) if reference is None else str(reference)
    if ref not in arm_map:
        raise ConfigError("reference", ref, f"one of the arms ({', '.join(arm_map)})")
    seed = int(base_cfg.seed) if base_seed is None else int(base_seed)
    if seed < 0 or seed + replicates - 1 > 2**63 - 1:
        raise ConfigError("base_seed", seed, "a seed in [0, 2**63 - 1 - replicates]")
    configs, scenario = {}, None
    for name, arm_ov in arm_map.items():
        try:
            cfg, scen = prepare(compose([*overrides, *arm_ov]))
        except UserError as exc:
            if not arm_ov:
                raise
            raise UserError(f"arm {name!r} ({' '.join(arm_ov)}): {exc}") from exc
        if cfg.seed != base_cfg.seed:
            raise ConfigError(
                f"arms[{name!r}]", f"seed={cfg.seed}",
                "no seed in an arm: every arm runs the same seeds (common random numbers); "
                "set the seed for all arms with seed=N",
            )
        configs[name] = cfg
        scenario = scenario or scen
    first = configs[next(iter(configs))]
    for name, cfg in configs.items():
        for key in ("months", "spinup_months"):
            if getattr(cfg, key) != getattr(first, key):
                raise ConfigError(
                    f"arms[{name!r}]", f"{key}={getattr(cfg, key)}",
                    f"the same {key} in every arm ({getattr(first, key)}): outcomes are totals over the horizon",
                )
        if to_dict(cfg.scenario) != to_dict(first.scenario):
            raise ConfigError(f"arms[{name!r}]", cfg.scenario.name, "the same scenario in every arm")
    pairs = []
    for p in early_vs_late or []:
        if len(p) != 2:
            raise ConfigError("early_vs_late", p, "(early, late) pairs of arm names")
        e, lt = str(p[0]), str(p[1])
        for a in (e, lt):
            if a not in arm_map:
                raise ConfigError("early_vs_late", a, f"an arm ({', '.join(arm_map)})")
        if e == lt:
            raise ConfigError("early_vs_late", e, "two different arms")
        pairs.append((e, lt))
    return ComparisonPlan(arm_map, overrides, replicates, seed, ref, pairs, configs, scenario)


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
    from .api import run

    t1 = time.perf_counter()
    res = run(config)
    return {"outcomes": run_outcomes(res), "costs": run_costs(res)}, time.perf_counter() - t1


def _worker_init() -> None:
    # one numba thread per worker process: at planner sizes a run is dominated by
    # per-month overheads, so processes use the cores better than threads (results
    # do not depend on the thread count)
    import signal

    import numba

    from .cliutil import die_with_parent

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
    from .config.validate import to_dict

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
    from . import __version__

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


# -- command line ------------------------------------------------------------------------

PROG = "hssim-compare"
USAGE = (f"usage: {PROG} [--arms a,b,c] [--arm LABEL:OVERRIDES] [--replicates R] [--reference NAME] "
         "[--early-vs-late EARLY:LATE] [--workers N] [--out DIR | --resume DIR] [--debug] [OVERRIDES...]")
HELP = f"""{USAGE}

Run policy arms on the same seeds (common random numbers) and report, against the
reference arm, paired differences of the outcomes with 95% intervals, costs, cost per
death and per IPC3+ person-month averted, benefit-cost ratios and early versus late
action. Writes runs.csv, differences.csv, costs.csv, cost_effectiveness.csv,
early_vs_late.csv, figures, report.html (one self-contained file to share) and
comparison.json (written last: its presence marks a complete folder).

  --arms a,b,c          policy presets (configs/policy/<name>.yaml) to compare, in order
                        (default: {",".join(DEFAULT_ARMS)})
  --arm LABEL:OVERRIDES an arm defined by overrides separated by spaces, e.g.
                        --arm "cash:households.wage_usd_per_day=3" (repeatable; with
                        --arm alone the default presets are not used)
  --replicates R        seeds per arm (>= 2; default 20): seed, seed+1, ...
  --reference NAME      the arm the others are compared with (default: the first)
  --early-vs-late E:L   an extra (early, late) pair; anticipatory_<x> / reactive_<x>
                        pairs are found by name
  --workers N           worker processes (default: the cores available); the results
                        do not depend on it
  --out DIR             output folder (default: outputs/compare/<date>/<time>/)
  --resume DIR          continue an interrupted comparison in DIR (its spec.json);
                        --replicates may raise the number of replicates
  --debug               show tracebacks (also HSSIM_DEBUG=1)
  OVERRIDES             key=value overrides common to every arm, e.g. months=60 seed=7

A mistake prints one line and exits with status 2 before anything runs or is written."""


@dataclass
class _Args:
    presets: list[str] | None = None
    custom: list[tuple[str, list[str]]] = field(default_factory=list)
    replicates: int | None = None
    reference: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    out: str | None = None
    resume: str | None = None
    overrides: list[str] = field(default_factory=list)
    help: bool = False
    workers: int | None = None


_VALUED = ("--arms", "--arm", "--replicates", "--reference", "--early-vs-late", "--out", "--resume", "--workers")


def _parse_argv(argv: list[str]) -> _Args:
    a = _Args()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            a.help = True
            return a
        opt = next((o for o in _VALUED if arg == o or arg.startswith(o + "=")), None)
        if opt is not None:
            if arg == opt:
                if i + 1 >= len(argv):
                    raise UserError(f"option {opt} needs a value; {USAGE}")
                value = argv[i + 1]
                i += 1
            else:
                value = arg.split("=", 1)[1]
            if opt == "--arms":
                names = [v.strip() for v in value.split(",")]
                if not all(names):
                    raise ConfigError("--arms", value, "comma-separated policy preset names")
                a.presets = [*(a.presets or []), *names]
            elif opt == "--arm":
                label, sep, ov = value.partition(":")
                if not sep or not label.strip():
                    raise ConfigError("--arm", value, "LABEL:OVERRIDES, e.g. cash:households.wage_usd_per_day=3")
                a.custom.append((label.strip(), ov.split()))
            elif opt == "--replicates":
                a.replicates = _int_option(opt, value, 2, "an integer >= 2 (paired intervals need two)")
            elif opt == "--workers":
                a.workers = _int_option(opt, value, 1, "an integer >= 1")
            elif opt == "--reference":
                a.reference = value
            elif opt == "--early-vs-late":
                e, sep, lt = value.partition(":")
                if not sep or not e or not lt:
                    raise ConfigError("--early-vs-late", value, "EARLY:LATE arm names")
                a.pairs.append((e, lt))
            elif opt == "--out":
                a.out = value
            else:
                a.resume = value
        elif arg.startswith("-"):
            raise UserError(f"unknown option {arg!r} (multirun and Hydra flags are not supported here); {USAGE}")
        else:
            a.overrides.append(arg)
        i += 1
    if a.out is not None and a.resume is not None:
        raise UserError("--out and --resume exclude each other (a resumed comparison writes into its own folder)")
    if a.resume is not None and (a.presets or a.custom or a.overrides or a.reference or a.pairs):
        raise UserError(f"--resume {a.resume} takes the arms, overrides and reference stored in its spec.json; "
                        "give only --replicates besides it")
    return a


def _int_option(opt: str, value: str, least: int, expected: str) -> int:
    """The integer value of ``opt``, at least ``least``, or a ConfigError naming it."""
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(opt, value, expected) from None
    if n < least:
        raise ConfigError(opt, n, expected)
    return n


def _cli_arms(a: _Args) -> dict[str, list[str]]:
    presets = a.presets if a.presets is not None else ([] if a.custom else list(DEFAULT_ARMS))
    dupes = sorted({n for n in [*presets, *(c[0] for c in a.custom)]
                    if [*presets, *(c[0] for c in a.custom)].count(n) > 1})
    if dupes:
        raise ConfigError("--arms", dupes[0], "each arm named once")
    check_presets(presets)
    arms = {n: [f"policy={n}"] for n in presets}
    arms.update({label: ov for label, ov in a.custom})
    return arms


def _claim_out(a: _Args, started: time.struct_time) -> RunFolder:
    """The comparison's output folder, claimed (see :class:`hssim.cliutil.RunFolder`):
    ``--out`` must be new or empty; the default ``outputs/compare/<date>/<time>`` gets a
    suffix when another comparison took it in the same second."""
    if a.out is not None:
        return RunFolder.claim(a.out, tool=PROG, field="--out")
    path = Path("outputs") / "compare" / time.strftime("%Y-%m-%d", started) / time.strftime("%H-%M-%S", started)
    return RunFolder.claim(path, tool=PROG, unique=True)


def _written(out: Path) -> list[Path]:
    """What a comparison writes into its folder (removed when it stops before any run finished)."""
    runs = out / "runs"
    files = [*runs.glob("*.json"), *runs.glob(".*.tmp")] if runs.is_dir() else []
    return [*files, runs, out / "spec.json"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point (see :data:`HELP`)."""
    from .config.build import estimate_memory_bytes

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in argv:
        argv = [x for x in argv if x != "--debug"]
        os.environ["HSSIM_DEBUG"] = "1"
    handle_signals()
    started = time.localtime()
    folder: RunFolder | None = None
    try:
        a = _parse_argv(argv)
        if a.help:
            print(HELP)
            return
        if a.resume is not None:
            spec = read_spec(a.resume)
            p = plan(spec["arms"], spec["replicates"] if a.replicates is None else a.replicates, spec["base_seed"],
                     spec.get("reference"), spec.get("overrides", []),
                     [tuple(x) for x in spec.get("early_vs_late", [])])
        else:
            arms = _cli_arms(a)
            p = plan(arms, 20 if a.replicates is None else a.replicates, None, a.reference, a.overrides, a.pairs)
        workers = default_workers() if a.workers is None else a.workers
        first = p.configs[next(iter(p.configs))]
        n = p.replicates * len(p.arms)
        check_memory(min(workers, n) * estimate_memory_bytes(first, p.scenario.n_districts) + n * _BYTES_PER_RUN,
                     "this comparison", "--replicates, --workers, population.households or months")
        folder = RunFolder.reopen(a.resume, tool=PROG) if a.resume is not None else _claim_out(a, started)
    except UserError as exc:
        _fail(exc, prog=PROG)
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "nothing was written")
    out = folder.path

    print(
        f"{PROG}: {first.scenario.name}, storyline {first.storyline.name}, {first.months} months; "
        f"arms {', '.join(p.arms)}; {p.replicates} replicates (seeds {p.base_seed}..{p.base_seed + p.replicates - 1}); "
        f"{n} runs",
        flush=True,
    )
    last = [time.perf_counter()]

    def progress(k: int, total: int, arm: str, r: int, stored: bool) -> None:
        now = time.perf_counter()
        what = "stored" if stored else f"{now - last[0]:.1f} s"
        last[0] = now
        print(f"  [{k}/{total}] {arm} replicate {r} (seed {p.base_seed + r}): {what}", file=sys.stderr, flush=True)

    try:
        result = execute(p, run_dir=out, progress=progress, workers=workers)
        result.save(out, dpi=first.output.figure_dpi, figures=first.output.figure)
    except BaseException as exc:
        has_runs = (out / "runs").is_dir() and any((out / "runs").glob("*.json"))
        if has_runs or a.resume is not None:
            kept = f"finished runs are kept in {out}: continue with `{PROG} --resume {out}`"
            folder.mark("incomplete", f"continue with: {PROG} --resume {out}")
        else:
            folder.discard(_written(out))
            kept = f"no run had finished: removed what it wrote in {out}" + (
                "" if folder.created else " (the folder itself was yours: kept)")
        if isinstance(exc, KeyboardInterrupt):
            interrupted(exc, PROG, kept)
        if not isinstance(exc, SystemExit):
            print(f"{PROG}: stopped; {kept}", file=sys.stderr, flush=True)
        if isinstance(exc, UserError):
            _fail(exc, prog=PROG)
        if isinstance(exc, OSError) and (err := os_error_message(exc, "could not write the comparison folder")):
            _fail(err, prog=PROG)
        raise
    folder.mark("complete")
    print()
    print(result.format_table())
    print()
    print(f"  output: {out}  (report: {out / 'report.html'})")


if __name__ == "__main__":  # pragma: no cover
    main()
