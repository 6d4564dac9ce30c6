"""What one run of a comparison leaves behind (:func:`run_outcomes`, :func:`run_costs`)
and the words about outcomes: which are shown first, how each is described, which
direction is better, which are not outcomes at all.

Kept in one module so that it can move as one into a single outcome catalogue.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..polyrisk import describe, outcome_values

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

