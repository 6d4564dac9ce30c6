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
    benefit_r = (food_gap_pv_ref,r - food_gap_pv_a,r) + (assets_end_pv_a,r - assets_end_pv_ref,r)
                + (savings_end_pv_a,r - savings_end_pv_ref,r) + (debt_end_pv_ref,r - debt_end_pv_a,r)
                + (need_pv_ref,r - need_pv_a,r)
    benefit-cost ratio (BCR) = mean(benefit) / mean(discounted incremental_cost)

with every month discounted at ``valuation.discount_rate_per_year`` and need valued at
``valuation.response_cost_usd_per_person_month`` per IPC3+ person-month, the way
anticipatory-action cost-benefit studies count avoided losses (the food gap avoided,
assets and livestock kept, savings kept and debt avoided, the later humanitarian
response avoided; distress-sale losses avoided are shown as a memo, not added: they are
already missing from the assets held at the end);
:func:`~hssim.compare.tables.avoided_losses` gives the components.

Per dollar (what a planner reads first; :func:`~hssim.compare.tables.per_dollar`)::

    extra_spend_r = cost_a,r - cost_ref,r
    <x> averted per million USD = mean(x_ref - x_a) / (mean(extra_spend) / 1e6)
    interval = the paired t interval of (x_ref - x_a) over mean(extra_spend) / 1e6

for deaths, IPC3+ person-months and share-months, malnutrition child-months, displaced
person-months and productive assets kept. A ratio whose denominator's interval includes
zero (extra spend within a dollar of zero or not clearly positive; an averted count not
distinguishable from zero for a cost per unit averted) is undefined: NaN with the reason
in ``note``, never a number.

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
                  [--early-vs-late EARLY:LATE] [--parameters calibrated|DIR] [--equal-spend]
                  [--workers N] [--out DIR | --resume DIR] [--debug] [OVERRIDES...]

The package, one module per job (each imports only those listed after it):
the command line is :mod:`hssim.cli.compare` (the faces layer, above the report that
writes the figures and the page); :mod:`~hssim.compare.running` (runs,
stored runs, workers, resume), :mod:`~hssim.compare.planning` (presets, arms, the
plan), :mod:`~hssim.compare.result` (:class:`ComparisonResult`),
:mod:`~hssim.compare.narrative` (plain-language findings), :mod:`~hssim.compare.tables`
(the analysis of a runs table), :mod:`~hssim.compare.stats` (intervals and bootstrap),
:mod:`~hssim.compare.outcomes` (what a run leaves behind) and
:mod:`~hssim.compare.wording` (numbers in words).
"""

from __future__ import annotations

# __all__ and the other public names of the single module (hssim/compare.py) that this package replaced
from .narrative import findings  # noqa: F401
from .outcomes import (  # noqa: F401
    EXTRA_DESCRIPTIONS,
    HIGHER_IS_BETTER,
    KEY_OUTCOMES,
    NON_OUTCOMES,
    SCALE,
    SUMMARY_OUTCOMES,
    ZERO_IF_MISSING,
    describe_outcome,
    higher_is_better,
    run_costs,
    run_outcomes,
)
from .planning import DEFAULT_ARMS, MAX_REPLICATES, ComparisonPlan, available_presets, check_presets, plan  # noqa: F401
from .result import ComparisonResult
from .running import ProgressFn, compare, default_workers, execute, read_spec, resume, run_file  # noqa: F401
from .stats import BOOTSTRAP_SEED, LEVEL, N_BOOT, paired_stats, ratio_of_means, t_interval  # noqa: F401
from .tables import (  # noqa: F401
    CE_METRICS,
    cost_breakdown,
    cost_effectiveness,
    cost_summary,
    count_scale,
    default_pairs,
    early_vs_late,
    paired_differences,
    per_dollar,
    avoided_losses,
)

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
    "per_dollar",
    "avoided_losses",
    "early_vs_late",
    "default_pairs",
    "count_scale",
    "available_presets",
    "DEFAULT_ARMS",
    "SUMMARY_OUTCOMES",
    "HIGHER_IS_BETTER",
]
