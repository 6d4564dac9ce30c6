"""What one run of a comparison leaves behind (:func:`run_outcomes`, :func:`run_costs`)
and the words about outcomes, all read from the outcome catalogue
(:mod:`hssim.outcomes`); only the comparison's own quantity ``benefit_usd`` is
described here."""

from __future__ import annotations

from .. import outcomes as catalogue
from ..outcomes import KEY_OUTCOMES, RESPONSE_OUTCOMES, RUN_OUTCOMES, SCALE  # noqa: F401

#: summary entries of a run with a response that join the outcomes
SUMMARY_OUTCOMES: tuple[str, ...] = RESPONSE_OUTCOMES
#: entries of the runs table that are not outcomes (not compared between arms)
NON_OUTCOMES: frozenset[str] = frozenset({SCALE})
#: summary entries that are 0 when a run does not have them (no response spends nothing)
ZERO_IF_MISSING: tuple[str, ...] = ("cost_usd_total", "cost_in_vain_usd")
#: outcomes where more is better (every other outcome: less is better)
HIGHER_IS_BETTER: frozenset[str] = frozenset(n for n, o in catalogue.CATALOGUE.items() if o.better == "higher")
#: descriptions of what the comparison derives from the outcomes
EXTRA_DESCRIPTIONS: dict[str, str] = {
    "benefit_usd": "avoided losses: food gap avoided + productive assets kept, USD",
}


def describe_outcome(name: str) -> str:
    return EXTRA_DESCRIPTIONS.get(name) or catalogue.describe(name)


def higher_is_better(name: str) -> bool:
    return catalogue.higher_is_better(name)


def run_outcomes(results) -> dict[str, float]:
    """Outcomes of one run: :data:`hssim.outcomes.RUN_OUTCOMES`, then the response's
    :data:`SUMMARY_OUTCOMES`, then ``SCALE`` (:func:`hssim.outcomes.run_outcomes`).

    ``cost_usd_total`` and ``cost_in_vain_usd`` are 0 when missing (a run with no
    response spends nothing; ``cost_usd_total`` falls back on the sum of the cost
    table when only that is present); the others are left out when missing.
    """
    return catalogue.run_outcomes(results, (*RUN_OUTCOMES, *SUMMARY_OUTCOMES, SCALE))


#: the run's cost table summed over months and districts (:func:`hssim.outcomes.programme_costs`)
run_costs = catalogue.programme_costs
