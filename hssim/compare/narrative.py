"""Plain-language findings of a policy comparison: sentences computed from the tables of
a :class:`~hssim.compare.result.ComparisonResult`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .wording import _ci_words, _count, _money, _ratio, _signed

if TYPE_CHECKING:  # findings only read the result's tables: no import at run time
    from .result import ComparisonResult


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


#: the per-dollar metrics the decision sentences speak of, with their nouns
_DECISION_NOUNS = {
    "deaths_averted_per_musd": "deaths",
    "ipc3plus_share_months_averted_per_musd": "IPC3+ share-months",
}


def decision_sentences(result: ComparisonResult) -> list[str]:
    """One plain sentence per arm for the top of the decision page: what a million USD of
    extra spend over the reference averted, with its interval, or why that is undefined
    (then the difference itself); then which arm, if any, is clearly best per dollar."""
    ref = result.reference
    pdl = result.per_dollar
    out = []
    for arm in result.arms:
        if arm == ref:
            continue
        parts = []
        for metric, noun in _DECISION_NOUNS.items():
            sel = pdl[(pdl["arm"] == arm) & (pdl["metric"] == metric)] if len(pdl) else pdl
            if not len(sel):
                continue
            r = sel.iloc[0]
            v, lo, hi = float(r["value"]), float(r["ci_low"]), float(r["ci_high"])
            if not np.isfinite(v):
                if metric == "deaths_averted_per_musd":
                    parts.append(f"per-dollar figures are undefined ({r['note'].removeprefix('undefined: ')})")
                    try:
                        d = result.difference(arm, "deaths_total")
                        parts.append(f"deaths changed by {_signed(d['mean_diff'])} per run (95% CI "
                                     f"{_signed(d['ci_low'])} to {_signed(d['ci_high'])}, simulated households)")
                    except KeyError:
                        pass
                break
            if lo > 0:
                parts.append(f"averted {_count(v)} {noun} per million USD (95% CI {_count(lo)} to {_count(hi)})")
            elif hi < 0:
                parts.append(f"added {_count(-v)} {noun} per million USD (95% CI {_count(-hi)} to {_count(-lo)})")
            else:
                parts.append(f"averted an estimated {_count(v)} {noun} per million USD, but the 95% CI "
                             f"({_signed(lo)} to {_signed(hi)}) includes zero: not distinguishable from no change")
        if parts:
            out.append(f"{arm}, against {ref}: " + "; ".join(parts) + ".")
    deaths = pdl[pdl["metric"] == "deaths_averted_per_musd"] if len(pdl) else pdl
    deaths = deaths[np.isfinite(deaths["value"].astype(float))] if len(deaths) else deaths
    if len(deaths) >= 2:
        ranked = deaths.sort_values("value", ascending=False)
        best, second = ranked.iloc[0], ranked.iloc[1]
        if best["ci_low"] > second["ci_high"]:
            out.append(f"Per million USD, {best['arm']} averted the most deaths; its interval lies above every "
                       "other arm's.")
        else:
            out.append(f"Per million USD, {best['arm']} has the highest estimate of deaths averted, but its interval "
                       f"overlaps {second['arm']}'s: no arm is clearly best per dollar on deaths.")
    return out
