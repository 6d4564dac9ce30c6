"""What one run of a comparison leaves behind (:func:`run_outcomes`, :func:`run_costs`)
and the words about outcomes, all read from the outcome catalogue
(:mod:`hssim.outcomes`); only the comparison's own quantity ``benefit_usd`` is
described here."""

from __future__ import annotations

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
HIGHER_IS_BETTER: frozenset[str] = frozenset(n for n, o in catalogue.CATALOGUE.items() if o.better == "higher")
#: descriptions of what the comparison derives from the outcomes
EXTRA_DESCRIPTIONS: dict[str, str] = {
    "benefit_usd": "avoided losses: food gap avoided + productive assets kept, USD",
    SHARE_MONTHS: "mean share of people in IPC-like phase 3 or worse x months (share-months)",
}


def describe_outcome(name: str) -> str:
    return EXTRA_DESCRIPTIONS.get(name) or catalogue.describe(name)


def higher_is_better(name: str) -> bool:
    return catalogue.higher_is_better(name)


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
    return out


#: the run's cost table summed over months and districts (:func:`hssim.outcomes.programme_costs`)
run_costs = catalogue.programme_costs
