"""Analysis of a tidy runs table (``arm, replicate, seed, outcome, value``): paired
differences, costs, cost-effectiveness, early versus late action and the cost breakdown.
The formulas are in the docstring of :mod:`hssim.compare`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .outcomes import NON_OUTCOMES, SCALE, SHARE_MONTHS, describe_outcome, higher_is_better
from .stats import BOOTSTRAP_SEED, LEVEL, N_BOOT, _bcr_ratio, _safe_ratio, paired_stats, ratio_of_means, t_interval
from .wording import _money

#: cost-effectiveness metrics: name -> (averted outcome, unit in words)
CE_METRICS: dict[str, tuple[str, str]] = {
    "cost_per_death_averted": ("deaths_total", "death"),
    "cost_per_ipc3plus_person_month_averted": ("ipc3plus_person_months", "person-month of IPC3+"),
}


#: per-dollar outcomes: name -> (outcome averted, words, counted in the real population)
PER_DOLLAR: dict[str, tuple[str, str, bool]] = {
    "deaths_averted_per_musd": ("deaths_total", "deaths averted", True),
    "ipc3plus_person_months_averted_per_musd": ("ipc3plus_person_months", "IPC3+ person-months averted", True),
    "ipc3plus_share_months_averted_per_musd": (SHARE_MONTHS, "IPC3+ share-months averted", False),
    "malnutrition_u5_months_averted_per_musd": ("acute_malnutrition_u5_months", "child-months of acute malnutrition averted", True),
    "displaced_person_months_averted_per_musd": ("displaced_person_months", "displaced person-months averted", True),
    "assets_kept_usd_per_musd": ("assets_end_usd", "USD of productive assets kept", False),
}
#: a million US dollars
MUSD = 1e6


def includes_zero(x: np.ndarray, level: float = LEVEL, spend: bool = False) -> tuple[bool, float, float]:
    """Whether the denominator ``x`` (per replicate) may be zero: the paired t interval of
    its mean includes 0 (an interval of zero width at 0 does), with the interval's ends. A
    ratio with such a denominator is undefined: its sign, let alone its size, is not known.

    ``spend``: ``x`` is money spent beyond the reference. Spends within a dollar (or a
    millionth) of each other are equal, the same budget spent, whatever the interval; a
    spend above zero in every replicate (a response against no response) is positive even
    when few replicates leave its t interval wide.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    st = paired_stats(x, False, level)
    lo, hi = st["ci_low"], st["ci_high"]
    if st["n"] == 0:
        return True, lo, hi
    if spend:
        if abs(st["mean_diff"]) <= max(1.0, 1e-6 * float(np.abs(x).max())):
            return True, lo, hi
        if (x > 0).all():
            return False, lo, hi
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return True, lo, hi
    return bool(lo <= 0 <= hi), lo, hi


def _undefined(r: dict[str, float]) -> dict[str, float]:
    return dict(r, value=math.nan, ci_low=math.nan, ci_high=math.nan)


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


def _extra_cost(runs: pd.DataFrame, arm: str, reference: str, cost: str = "cost_usd_total") -> pd.Series:
    """Per replicate: the arm's cost minus the reference's, USD (``cost``: the outcome
    that holds it, as spent or discounted)."""
    return _per_replicate(runs, cost, arm) - _per_replicate(runs, cost, reference)


#: avoided losses the way anticipatory-action studies count them: component -> (discounted
#: outcome, +1 when more of it is a gain, -1 when less is). Wealth is counted once, as what
#: households hold at the end (assets and livestock, savings, less debt).
BENEFIT_COMPONENTS: dict[str, tuple[str, int]] = {
    "food_gap_avoided_usd": ("food_gap_usd_pv", -1),
    "assets_kept_usd": ("assets_end_usd_pv", +1),
    "savings_kept_usd": ("savings_end_usd_pv", +1),
    "debt_avoided_usd": ("debt_end_usd_pv", -1),
    "need_averted_usd": ("need_usd_pv", -1),
}
#: components a run recorded before households' savings and debt were summed lacks: the
#: benefit of such runs is counted without them (every other component is required)
OPTIONAL_COMPONENTS: frozenset[str] = frozenset({"savings_kept_usd", "debt_avoided_usd"})
#: components shown beside the benefit but not added to it: what distress sales lost is
#: already missing from the assets held at the end (adding it would count it twice)
MEMO_COMPONENTS: dict[str, tuple[str, int]] = {
    "distress_loss_avoided_usd": ("distress_loss_usd_pv", -1),
}


def _discounted(runs: pd.DataFrame) -> bool:
    return bool((runs["outcome"] == "cost_usd_pv").any())


def _benefit_parts(runs: pd.DataFrame, arm: str, reference: str) -> dict[str, pd.Series]:
    """Per replicate, each component of the avoided losses of ``arm`` against ``reference``
    (:data:`BENEFIT_COMPONENTS`, discounted; runs recorded without the discounted outcomes
    fall back on the undiscounted food gap and assets)."""
    parts = {}
    if _discounted(runs):
        for name, (outcome, sign) in BENEFIT_COMPONENTS.items():
            w = _wide(runs, outcome)
            if arm not in w.columns or reference not in w.columns:
                if name in OPTIONAL_COMPONENTS:
                    continue
                return {}
            parts[name] = sign * (w[arm] - w[reference])
        return parts
    fg, assets = _wide(runs, "food_gap_usd"), _wide(runs, "assets_end_usd")
    if any(a not in w.columns for w in (fg, assets) for a in (arm, reference)):
        return {}
    return {"food_gap_avoided_usd": fg[reference] - fg[arm], "assets_kept_usd": assets[arm] - assets[reference]}


def _benefit(runs: pd.DataFrame, arm: str, reference: str) -> pd.Series:
    """Per replicate: the avoided losses of ``arm`` against ``reference``, USD: the sum of
    :func:`_benefit_parts` (NaN where a run lacks one)."""
    parts = _benefit_parts(runs, arm, reference)
    if not parts:
        return pd.Series(dtype=np.float64)
    return sum(parts.values())


def _bcr_cost(runs: pd.DataFrame, arm: str, reference: str) -> pd.Series:
    """The extra cost a benefit-cost ratio divides by: discounted like the benefit when the
    runs recorded it, else as spent."""
    return _extra_cost(runs, arm, reference, "cost_usd_pv" if _discounted(runs) else "cost_usd_total")


def avoided_losses(runs: pd.DataFrame, reference: str, arms: Sequence[str] | None = None,
                   level: float = LEVEL) -> pd.DataFrame:
    """Each arm's avoided losses against the reference, component by component, as
    anticipatory-action cost-benefit studies count them: the food gap avoided, productive
    assets and livestock kept, savings kept (the cash of an early destocking stays in
    them), debt avoided, humanitarian need averted (IPC3+ person-months at the cost of
    answering them), all discounted to the start of the horizon, their total and the
    discounted extra cost (their ratio is the ``benefit_cost_ratio`` of
    :func:`cost_effectiveness`), then the memo rows (:data:`MEMO_COMPONENTS`: distress-sale
    losses avoided, shown but not in the total).

    Returns
    -------
    DataFrame  ``arm, component, mean, ci_low, ci_high, n``
    """
    rows = []
    for arm in _arm_order(runs, arms):
        if arm == reference:
            continue
        parts = _benefit_parts(runs, arm, reference)
        if not parts:
            continue
        total = sum(parts.values())
        cost = _bcr_cost(runs, arm, reference)
        memo = []
        for name, (outcome, sign) in MEMO_COMPONENTS.items():
            w = _wide(runs, outcome)
            if arm in w.columns and reference in w.columns:
                memo.append((name, sign * (w[arm] - w[reference])))
        for name, x in [*parts.items(), ("total_usd", total), ("extra_cost_usd", cost), *memo]:
            st = paired_stats(x.to_numpy(np.float64), True, level)
            rows.append({"arm": arm, "component": name, "mean": st["mean_diff"], "ci_low": st["ci_low"],
                         "ci_high": st["ci_high"], "n": st["n"]})
    return pd.DataFrame(rows, columns=["arm", "component", "mean", "ci_low", "ci_high", "n"])


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
        inc = _extra_cost(runs, arm, reference)
        for metric, (outcome, _unit) in CE_METRICS.items():
            # counts are of simulated households, money of the real population: scale the counts
            averted = (_per_replicate(runs, outcome, reference) - _per_replicate(runs, outcome, arm)) * scale
            num, den = inc.align(averted, join="inner")
            r = ratio_of_means(num.to_numpy(np.float64), den.to_numpy(np.float64), n_boot, seed, level, math.inf)
            zero, lo, hi = includes_zero(den.to_numpy(np.float64), level)
            if r["n"] == 0:
                note = f"{outcome} not recorded"
            elif r["mean_den"] <= 0:
                note = "not averted"
            elif zero:
                r = _undefined(r)
                note = (f"undefined: {outcome} averted is not distinguishable from zero (95% CI {lo:,.4g} to "
                        f"{hi:,.4g}); read the per-dollar table")
            elif r["mean_num"] < 0:
                note = "cost saving"
            elif r["mean_num"] == 0:
                note = "no additional cost"
            else:
                note = ""
            rows.append(_ce_row(arm, metric, r, note, "incremental_cost_usd", f"{outcome}_averted (real population)"))
        benefit = _benefit(runs, arm, reference)
        num, den = benefit.align(_bcr_cost(runs, arm, reference), join="inner")
        r = ratio_of_means(num.to_numpy(np.float64), den.to_numpy(np.float64), n_boot, seed, level, math.nan)
        zero, lo, hi = includes_zero(den.to_numpy(np.float64), level, spend=True)
        if r["n"] == 0:
            note = "benefit not recorded (needs food_gap_usd and assets_end_usd)"
        elif r["mean_den"] <= 0:
            r = _undefined(r)
            note = "no additional cost: ratio undefined"
        elif zero:
            r = _undefined(r)
            note = (f"undefined: the extra cost over the reference is not distinguishable from zero (95% CI "
                    f"USD {lo:,.0f} to {hi:,.0f}); compare the avoided losses directly")
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


def per_dollar(runs: pd.DataFrame, reference: str, arms: Sequence[str] | None = None,
               level: float = LEVEL) -> pd.DataFrame:
    """What each arm buys per million USD: the outcomes of :data:`PER_DOLLAR` averted
    against the reference, per million USD of the arm's extra spend over the reference
    (its whole spend when the reference is no response).

    ``value = mean(averted_r) / mean(extra_cost_r / 1e6)`` (ratio of means), averted
    counts in the real population (simulated counts x ``real_households_per_simulated``).
    Its interval is the paired t interval of the averted outcome divided by the mean extra
    spend: the spend's own spread is in the costs table, and the per-dollar figure and the
    difference it comes from always agree on whether zero is inside (a ratio estimator
    that let the spend co-vary with need could call a change clear that the difference
    table calls unclear). The inverse of a cost per unit averted,
    it stays defined when the outcome's change crosses zero (the interval then does too),
    but is **undefined** (NaN, with the reason) when the extra spend's interval includes
    zero: arms spending the same money are compared by their differences, not per dollar.

    Returns
    -------
    DataFrame  ``arm, metric, outcome, description, value, ci_low, ci_high, averted_mean,
    extra_cost_usd_mean, note, n``
    """
    rows = []
    scale = count_scale(runs)
    for arm in _arm_order(runs, arms):
        if arm == reference:
            continue
        inc = _extra_cost(runs, arm, reference)
        for metric, (outcome, words, real) in PER_DOLLAR.items():
            ref_v, arm_v = _per_replicate(runs, outcome, reference), _per_replicate(runs, outcome, arm)
            if not len(ref_v) or not len(arm_v):
                continue
            averted = (arm_v - ref_v) if higher_is_better(outcome) else (ref_v - arm_v)
            if real:
                averted = averted * scale
            num, den = averted.align(inc / MUSD, join="inner")
            ok = np.isfinite(num.to_numpy(np.float64)) & np.isfinite(den.to_numpy(np.float64))
            a, c = num.to_numpy(np.float64)[ok], den.to_numpy(np.float64)[ok]
            r = _per_dollar_ratio(a, c, level)
            zero, lo, hi = includes_zero(c * MUSD, level, spend=True)
            note = ""
            if r["n"] == 0:
                note = f"{outcome} not recorded"
            elif zero or r["mean_den"] <= 0:
                r = _undefined(r)
                note = (f"undefined: the extra spend over {reference} is not clearly positive (95% CI USD "
                        f"{lo:,.0f} to {hi:,.0f})")
            rows.append({"arm": arm, "metric": metric, "outcome": outcome, "description": f"{words} per million USD",
                         "value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "averted_mean": r["mean_num"], "extra_cost_usd_mean": r["mean_den"] * MUSD,
                         "note": note, "n": r["n"]})
    cols = ["arm", "metric", "outcome", "description", "value", "ci_low", "ci_high", "averted_mean",
            "extra_cost_usd_mean", "note", "n"]
    return pd.DataFrame(rows, columns=cols)


def _per_dollar_ratio(averted: np.ndarray, spend_musd: np.ndarray, level: float) -> dict[str, float]:
    """``mean(averted) / mean(spend)`` with the paired t interval of ``averted`` over ``mean(spend)``."""
    n = int(averted.size)
    out = {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "mean_num": math.nan, "mean_den": math.nan,
           "n": n}
    if n == 0:
        return out
    st = paired_stats(averted, True, level)
    md = float(spend_musd.mean())
    out["mean_num"], out["mean_den"] = st["mean_diff"], md
    if md > 0:
        out.update(value=st["mean_diff"] / md, ci_low=st["ci_low"] / md, ci_high=st["ci_high"] / md)
    return out


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
        # costs discounted like the benefits when the runs recorded them
        cost_name = "cost_usd_pv" if _discounted(runs) else "cost_usd_total"
        cost_e = _per_replicate(runs, cost_name, early)
        cost_l = _per_replicate(runs, cost_name, late)
        ben_e, ben_l = _benefit(runs, early, reference), _benefit(runs, late, reference)
        frame = pd.concat({"ce": cost_e, "cl": cost_l, "be": ben_e, "bl": ben_l, "cr": _per_replicate(
            runs, cost_name, reference)}, axis=1)
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
        elif includes_zero(dcost, level, spend=True)[0]:
            r = undefined
            _z, lo, hi = includes_zero(dcost, level, spend=True)
            note = (f"undefined: the cost difference early - late is not distinguishable from zero (95% CI USD "
                    f"{lo:,.0f} to {hi:,.0f}); compare the avoided losses directly")
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
