"""What one run of a comparison leaves behind (:func:`run_outcomes`, :func:`run_costs`)
and the words about outcomes, all read from the outcome catalogue
(:mod:`hssim.outcomes`); only the comparison's own quantity ``benefit_usd`` is
described here."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import outcomes as catalogue
from ..outcomes import KEY_OUTCOMES, RESPONSE_OUTCOMES, RUN_OUTCOMES, SCALE  # noqa: F401

#: prevalence next to the counts: when deaths are averted the survivors add person-months
#: in IPC3+ (a count can rise while the share falls); shares do not
PREVALENCE_OUTCOMES: tuple[str, ...] = ("ipc3plus_frac_mean", "acute_malnutrition_frac_mean")
#: the time-integrated IPC3+ share, ``ipc3plus_frac_mean x months`` (share-months: a share of
#: 0.3 held for 10 months is 3), what the per-dollar table counts for prevalence
SHARE_MONTHS = "ipc3plus_share_months"
#: summary entries of a run that join the outcomes (prevalence, then the response's)
SUMMARY_OUTCOMES: tuple[str, ...] = (*PREVALENCE_OUTCOMES, *RESPONSE_OUTCOMES)
#: entries of the runs table that are not outcomes (not compared between arms)
NON_OUTCOMES: frozenset[str] = frozenset({SCALE})
#: summary entries that are 0 when a run does not have them (no response spends nothing)
ZERO_IF_MISSING: tuple[str, ...] = ("cost_usd_total", "cost_in_vain_usd")
#: outcomes where more is better (every other outcome: less is better)
#: the comparison's own outcomes where more is better (:func:`valuation_outcomes`)
_OWN_HIGHER_IS_BETTER = frozenset({"assets_end_usd_pv", "savings_end_usd_pv"})
HIGHER_IS_BETTER: frozenset[str] = frozenset(
    [*(n for n, o in catalogue.CATALOGUE.items() if o.better == "higher"), *_OWN_HIGHER_IS_BETTER])
#: descriptions of what the comparison derives from the outcomes
EXTRA_DESCRIPTIONS: dict[str, str] = {
    "benefit_usd": "avoided losses, discounted: food gap avoided + productive assets and livestock kept + "
                   "savings kept + debt avoided + humanitarian need averted at its response cost, USD",
    "food_gap_usd_pv": "value of the food consumption gap, discounted to the start, USD",
    "need_usd_pv": "person-months in IPC3+ at the cost of answering them, discounted, USD",
    "assets_end_usd_pv": "productive assets and livestock at the end, discounted, USD",
    "savings_end_usd_pv": "households' cash savings at the end (destocking proceeds among them), discounted, USD",
    "debt_end_usd_pv": "households' debt at the end, discounted, USD",
    "distress_loss_usd_pv": "value lost selling productive assets and livestock below market value in distress, "
                            "discounted, USD",
    "cost_usd_pv": "the response's spending, discounted, USD",
    SHARE_MONTHS: "mean share of people in IPC-like phase 3 or worse x months (share-months)",
}


def describe_outcome(name: str) -> str:
    return EXTRA_DESCRIPTIONS.get(name) or catalogue.describe(name)


def higher_is_better(name: str) -> bool:
    return name in _OWN_HIGHER_IS_BETTER or catalogue.higher_is_better(name)


def run_outcomes(results) -> dict[str, float]:
    """Outcomes of one run: :data:`hssim.outcomes.RUN_OUTCOMES`, then
    :data:`SUMMARY_OUTCOMES`, then ``SCALE`` (:func:`hssim.outcomes.run_outcomes`), then
    :data:`SHARE_MONTHS`.

    ``cost_usd_total`` and ``cost_in_vain_usd`` are 0 when missing (a run with no
    response spends nothing; ``cost_usd_total`` falls back on the sum of the cost
    table when only that is present); the others are left out when missing.
    """
    out = catalogue.run_outcomes(results, (*RUN_OUTCOMES, *SUMMARY_OUTCOMES, SCALE))
    months = (getattr(results, "config", None) or {}).get("months")
    if "ipc3plus_frac_mean" in out and months:
        out[SHARE_MONTHS] = out["ipc3plus_frac_mean"] * float(months)
    out.update(valuation_outcomes(results))
    return out


def valuation_outcomes(results) -> dict[str, float]:
    """What a run's losses and spending are worth at the start of the horizon (real USD),
    with the run's ``valuation`` (:class:`hssim.config.schema.ValuationConfig`): each
    month's value discounted by ``(1 + rate) ** -((m + 0.5) / 12)``, the end-of-horizon
    assets by ``(1 + rate) ** -(M / 12)``.

    - ``food_gap_usd_pv``: the food not eaten, at the normal cereal price;
    - ``need_usd_pv``: person-months in IPC phase 3+ at ``response_cost_usd_per_person_month``
      (what answering that need costs: the humanitarian response a later crisis calls for);
    - ``assets_end_usd_pv``: productive assets and livestock held at the end;
    - ``savings_end_usd_pv`` and ``debt_end_usd_pv``: households' savings (the cash of an
      early destocking among them) and debt at the end;
    - ``distress_loss_usd_pv``: what distress sales lost, month by month (market value of
      the assets sold times ``1 - distress_price_frac``);
    - ``cost_usd_pv``: the response's spending, month by month (0 without a response).

    Empty for a run without its raw sums (nothing to discount month by month).
    """
    r = catalogue.OutcomeInputs.of(results)
    cfg = getattr(results, "config", None) or {}
    if r.region is None or r.settings is None or "gap_people_milli" not in r.region:
        return {}
    val = cfg.get("valuation") or {}
    rate = float(val.get("discount_rate_per_year", 0.05))
    unit = float(val.get("response_cost_usd_per_person_month", 8.0))
    try:
        real = catalogue.value(results, SCALE)  # real households per simulated one
    except (KeyError, ValueError):
        return {}
    months = len(r.region["people"])
    disc = (1.0 + rate) ** (-(np.arange(months) + 0.5) / 12.0)
    s = r.settings
    need_kg = s.kcal_per_person_day * s.days_per_month / s.kcal_per_kg  # kg of cereal per person-month
    food_gap = r.region["gap_people_milli"] / 1000.0 * need_kg * s.food_price_usd_per_kg * real
    need = r.region["people_ipc3plus"] * real * unit
    cost = np.zeros(months)
    costs = r.tables.get("costs") if isinstance(r.tables, Mapping) else None
    if isinstance(costs, pd.DataFrame) and len(costs):
        by_month = costs.groupby("month")["cost_usd"].sum()
        idx = by_month.index.to_numpy(np.int64) - 1
        ok = (idx >= 0) & (idx < months)
        cost[idx[ok]] = by_month.to_numpy(np.float64)[ok]
    end = real * (1.0 + rate) ** (-months / 12.0)
    out = {
        "food_gap_usd_pv": float((food_gap * disc).sum()),
        "need_usd_pv": float((need * disc).sum()),
        "assets_end_usd_pv": float(r.region["assets_usd"][-1] * end),
        "cost_usd_pv": float((cost * disc).sum()),
    }
    if "debt_usd" in r.region:  # runs recorded before these sums existed lack them
        out["savings_end_usd_pv"] = float(r.region["savings_usd"][-1] * end)
        out["debt_end_usd_pv"] = float(r.region["debt_usd"][-1] * end)
        out["distress_loss_usd_pv"] = float((r.region["distress_loss_usd"] * real * disc).sum())
    return out


#: the run's cost table summed over months and districts (:func:`hssim.outcomes.programme_costs`)
run_costs = catalogue.programme_costs
