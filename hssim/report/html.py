"""A self-contained HTML report of a policy comparison.

One file, inline CSS, figures embedded as base64 PNG, no scripts and no external
resources, so a planner can open it offline and send it on. Every piece of text that
comes from the comparison (arm names, overrides, notes) is escaped with
:func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import math
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["comparison_report", "page", "save_comparison"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.28em 0.6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.ref td { color: #666; font-style: italic; }
.better { color: #1a7f4b; font-weight: 600; }
.worse { color: #b2302b; font-weight: 600; }
.findings li { margin-bottom: 0.5em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.caveat { background: #fff6e0; border-left: 4px solid #e0a800; padding: 0.6em 1em; }
code { background: #f5f5f5; padding: 0 0.25em; border-radius: 3px; font-size: 0.92em; }
footer { color: #888; font-size: 0.85em; margin-top: 3em; border-top: 1px solid #eee; padding-top: 0.6em; }
@media print { body { max-width: none; } h2 { page-break-after: avoid; } figure { page-break-inside: avoid; } }
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(x: Any, digits: int = 3) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "&infin;" if x > 0 else "-&infin;"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.{max(0, digits - 2)}f}"
    return f"{x:.{digits}g}"


def _signed(x: Any) -> str:
    s = _num(x)
    try:
        if float(x) > 0 and math.isfinite(float(x)):
            return "+" + s
    except (TypeError, ValueError):
        pass
    return s


def _ci(lo: Any, hi: Any) -> str:
    return f"{_signed(lo)} to {_signed(hi)}"


def _parameter_text(ps) -> str:
    """How a comparison's parameters were chosen (its meta's ``parameter_sets``)."""
    if not ps:
        return "as configured (seeds only: intervals do not include parameter uncertainty)"
    kind = "plausible sets" if ps.get("all_in_bands", True) else "closest sets (no trial met every band)"
    return (f"{ps.get('count')} {kind} of calibration {ps.get('calibration')!r} "
            f"({', '.join(ps.get('parameters', []))}); replicate r runs at set r mod {ps.get('count')} in every "
            f"arm, so intervals include parameter uncertainty")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] | None = None,
           row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; ``head`` is plain text (escaped here), cells are HTML already."""
    rows = list(rows)
    numeric = list(numeric or [False] * len(head))
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>", "<tbody>"]
    for k, r in enumerate(rows):
        cls = f' class="{_e(row_classes[k])}"' if row_classes and row_classes[k] else ""
        cells = "".join(f'<td class="num">{c}</td>' if numeric[i] else f"<td>{c}</td>" for i, c in enumerate(r))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _img(name: str, data: bytes, caption: str) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)} ({_e(name)})</figcaption></figure>")


def _verdict(row: Mapping[str, Any]) -> str:
    """better / worse / no clear difference, from the interval and the direction."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0 <= hi):
        return '<span>no clear difference</span>' if np.isfinite(lo) else "n/a"
    good = (lo > 0) == (row.get("better", "lower") == "higher")
    return '<span class="better">better</span>' if good else '<span class="worse">worse</span>'


def page(title: str, body: str) -> str:
    """A complete HTML document with the report's inline style."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def comparison_report(result, figures: Mapping[str, bytes] | None = None, title: str | None = None) -> str:
    """The HTML text of the report of a :class:`~hssim.compare.ComparisonResult`.

    Parameters
    ----------
    result : ComparisonResult
    figures : mapping file name -> PNG bytes, optional  embedded in the order of
        :data:`hssim.report.compare_figures.FIGURE_FILES`
    title : str, optional
    """
    from ..compare.outcomes import KEY_OUTCOMES, describe_outcome
    from .compare_figures import FIGURE_FILES

    meta = result.meta or {}
    ref = result.reference
    scenario = meta.get("scenario", "")
    title = title or f"Policy comparison{': ' + str(scenario) if scenario else ''}"
    created = meta.get("created") or time.strftime("%Y-%m-%d %H:%M:%S")
    parts: list[str] = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">Generated {_e(created)} by hssim {_e(meta.get("hssim_version", ""))}</p>',
    ]

    parts += _decision_section(result, figures or {})

    # -- what was compared
    parts.append("<h2>What was compared</h2>")
    arm_rows, classes = [], []
    for arm, ov in result.arms.items():
        role = "reference" if arm == ref else ""
        arm_rows.append([_e(arm), _e(" ".join(ov)) if ov else "<em>(common settings only)</em>", _e(role)])
        classes.append("")
    parts.append(_table(["arm", "overrides", "role"], arm_rows, row_classes=classes))
    seeds = meta.get("seeds") or []
    seed_text = (f"{seeds[0]} to {seeds[-1]}" if len(seeds) > 1 else (str(seeds[0]) if seeds else "n/a"))
    facts = [
        ("replicates per arm", _e(meta.get("replicates", ""))),
        ("seeds (the same for every arm)", _e(seed_text)),
        ("scenario", _e(scenario)),
        ("storyline", _e(meta.get("storyline", ""))),
        ("horizon", _e(f"{meta.get('months', '?')} months (after {meta.get('spinup_months', '?')} months of spin-up)")),
        ("real households per simulated household",
         _num(meta["real_households_per_simulated"]) if meta.get("real_households_per_simulated") else "n/a"),
        ("households simulated", _e(f"{meta.get('households', '?'):,}" if isinstance(meta.get("households"), int)
                                    else meta.get("households", "?"))),
        ("districts", _e(", ".join(meta.get("districts", [])) or "n/a")),
        ("common overrides", _e(" ".join(meta.get("overrides", [])) or "(none)")),
        ("parameters", _e(_parameter_text(meta.get("parameter_sets")))),
        ("money", _e("equal spend: every responding arm capped, per replicate, at the least any of them spent "
                     "uncapped (" + ", ".join(f"USD {c:,.0f}" for c in (meta.get("equal_spend") or {}).get("caps_usd", [])[:5])
                     + (" ..." if len((meta.get("equal_spend") or {}).get("caps_usd", [])) > 5 else "") + ")")
         if meta.get("equal_spend") else "as each arm spends it (results per dollar in the decision summary)"),
    ]
    parts.append(_table(["", ""], [[_e(k), v] for k, v in facts]))

    # -- findings
    parts.append("<h2>Main findings</h2>")
    parts.append('<ul class="findings">' + "".join(f"<li>{_e(s)}</li>" for s in result.summary_sentences())
                 + "</ul>")
    scale = meta.get("real_households_per_simulated")
    parts.append("<p>All numbers are per run (totals over the horizon), averaged over replicates; ranges are 95% "
                 "confidence intervals. Money (costs, food gap, assets) is in US dollars for the scenario's real "
                 "population. "
                 + (f"Counts of people (deaths, person-months) are for the {_e(meta.get('households', ''))} "
                    f"simulated households; each stands for {_num(scale)} real households, and the costs per death "
                    "or person-month averted use the counts scaled to the real population."
                    if scale and scale != 1 else "") + "</p>")

    # -- figures
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, caption in FIGURE_FILES.items():
            if figures.get(name) and name != DECISION_FIGURE:  # shown at the top
                parts.append(_img(name, figures[name], caption))
        for name, data in figures.items():
            if name not in FIGURE_FILES and data:
                parts.append(_img(name, data, name))

    # -- differences
    d = result.differences
    parts.append(f"<h2>Paired differences against {_e(ref)}</h2>")
    parts.append(f"<p>Each replicate runs every arm on the same seed; the difference is arm minus {_e(ref)} on "
                 "that seed, averaged over replicates. <em>share better</em> is the share of replicates in which "
                 "the arm did strictly better.</p>")
    outcomes = list(dict.fromkeys(d["outcome"])) if len(d) else []
    key = [o for o in KEY_OUTCOMES if o in outcomes] + [o for o in outcomes if o not in KEY_OUTCOMES]
    for arm in result.arms:
        if arm == ref:
            continue
        sel = d[d["arm"] == arm].set_index("outcome")
        if sel.empty:
            continue
        rows = []
        for o in key:
            if o not in sel.index:
                continue
            r = sel.loc[o]
            rows.append([
                f"{_e(describe_outcome(o))}<br><code>{_e(o)}</code>",
                _num(r["mean_reference"]),
                _num(r["mean_arm"]),
                _signed(r["mean_diff"]),
                _ci(r["ci_low"], r["ci_high"]),
                _e(r["better"]),
                _verdict(r),
                _num(100 * r["share_better"], 3) + "%" if np.isfinite(r["share_better"]) else "n/a",
                _e(int(r["n"])),
            ])
        parts.append(f"<h3>{_e(arm)}</h3>")
        parts.append(_table(["outcome", ref, arm, "difference", "95% CI", "better is", "verdict", "share better",
                             "n"], rows, numeric=[False, True, True, True, True, False, False, True, True]))

    # -- costs
    parts.append("<h2>Costs</h2>")
    c = result.costs
    rows, classes = [], []
    for _, r in c.iterrows():
        rows.append([_e(r["arm"]), _num(r["cost_usd_mean"]), _ci(r["cost_usd_ci_low"], r["cost_usd_ci_high"]),
                     _signed(r["incremental_cost_usd_mean"]) if r["arm"] != ref else "",
                     _num(r["cost_in_vain_usd_mean"])])
        classes.append("ref" if r["arm"] == ref else "")
    parts.append(_table(["arm", "cost per run, USD", "95% CI", f"more than {ref}, USD", "cost in vain, USD"], rows,
                        numeric=[False, True, True, True, True], row_classes=classes))
    br = result.cost_breakdown
    if br is not None and len(br):
        parts.append("<h3>Cost by intervention (mean per run)</h3>")
        rows = [[_e(r["arm"]), _e(r["intervention"]), _e(r["kind"]), _e(r["sector"]), _num(r["cost_usd_mean"]),
                 _num(r["household_months_served_mean"])] for _, r in br.iterrows()]
        parts.append(_table(["arm", "intervention", "kind", "sector", "USD", "household-months served"], rows,
                            numeric=[False, False, False, False, True, True]))
    else:
        parts.append("<p>The runs recorded no cost table by intervention.</p>")

    # -- cost-effectiveness
    parts.append(f"<h2>Cost-effectiveness against {_e(ref)}</h2>")
    labels = {
        "cost_per_death_averted": "USD per death averted",
        "cost_per_ipc3plus_person_month_averted": "USD per IPC3+ person-month averted",
        "benefit_cost_ratio": "benefit-cost ratio",
    }
    ce = result.cost_effectiveness
    rows = []
    for _, r in ce.iterrows():
        v = r["value"]
        value = "not averted" if r["note"] == "not averted" else _num(v)
        rows.append([_e(r["arm"]), _e(labels.get(r["metric"], r["metric"])), value,
                     _ci(r["ci_low"], r["ci_high"]) if np.isfinite(v) else "",
                     f"{_e(r['numerator'])} {_signed(r['numerator_mean'])}",
                     f"{_e(r['denominator'])} {_signed(r['denominator_mean'])}", _e(r["note"])])
    parts.append(_table(["arm", "measure", "value", "95% CI", "numerator (mean)", "denominator (mean)", "note"],
                        rows, numeric=[False, False, True, True, False, False, False]))

    # -- avoided losses, as anticipatory-action studies count them
    al = getattr(result, "avoided_losses", None)
    if al is not None and len(al):
        names = {"food_gap_avoided_usd": "food gap avoided", "assets_kept_usd": "productive assets and livestock kept",
                 "savings_kept_usd": "savings kept (early destocking's cash among them)",
                 "debt_avoided_usd": "debt avoided",
                 "need_averted_usd": "humanitarian need averted (IPC3+ person-months at the response cost)",
                 "total_usd": "avoided losses, total", "extra_cost_usd": f"extra cost over {ref}",
                 "distress_loss_avoided_usd": "memo: distress-sale losses avoided (already inside assets kept; "
                                              "not added)"}
        parts.append("<h2>Avoided losses</h2>")
        parts.append("<p>Counted the way anticipatory-action cost-benefit studies count them, each month discounted "
                     f"to the start of the horizon at {_e(_percent(meta.get('discount_rate_per_year', 0.05)))}% "
                     "a year (<code>valuation</code> in the run config); USD for the scenario's real population, "
                     "mean over replicates with 95% intervals; their ratio is the benefit-cost ratio of the "
                     "cost-effectiveness table.</p>")
        rows = [[_e(r["arm"]), _e(names.get(r["component"], r["component"])), _num(r["mean"]),
                 _ci(r["ci_low"], r["ci_high"])] for _, r in al.iterrows()]
        parts.append(_table(["arm", "component", "mean", "95% CI"], rows, [False, False, True, True]))

    # -- early vs late
    evl = result.early_vs_late
    if evl is not None and len(evl):
        parts.append("<h2>Early versus late action</h2>")
        parts.append("<p>Anticipatory (early) minus reactive (late) arm, paired over replicates. "
                     "<code>incremental_bcr</code> = (benefit early - benefit late) / (cost early - cost late); "
                     "<code>bcr_ratio</code> = BCR early / BCR late.</p>")
        show = [o for o in (*KEY_OUTCOMES, "benefit_usd", "incremental_bcr", "bcr_ratio")]
        for (early, late), g in evl.groupby(["early", "late"], sort=False):
            g = g.set_index("quantity")
            rows = []
            for q in show:
                if q not in g.index:
                    continue
                r = g.loc[q]
                est = _signed(r["estimate"]) if r["kind"] == "difference" else _num(r["estimate"])
                rows.append([_e(describe_outcome(q)) + f"<br><code>{_e(q)}</code>", _num(r["mean_early"]),
                             _num(r["mean_late"]), est, _ci(r["ci_low"], r["ci_high"]), _e(r["note"])])
            parts.append(f"<h3>{_e(early)} versus {_e(late)}</h3>")
            parts.append(_table(["quantity", early, late, "early - late (or ratio)", "95% CI", "note"], rows,
                                numeric=[False, True, True, True, True, False]))

    # -- triggers
    tt = result.trigger_table()
    if len(tt):
        parts.append("<h2>Trigger performance</h2>")
        rows = [[_e(r["arm"]), _num(r["trigger_hits"]), _num(r["trigger_misses"]), _num(r["trigger_false_alarms"]),
                 _num(r["hit_rate"]), _num(r["false_alarm_ratio"]), _num(r["cost_in_vain_usd"])]
                for _, r in tt.iterrows()]
        parts.append(_table(["arm", "hits", "misses", "false alarms", "hit rate", "false-alarm ratio",
                             "cost in vain, USD"], rows, numeric=[False, True, True, True, True, True, True]))
        parts.append("<p>Means per run. Hit rate = hits / (hits + misses); false-alarm ratio = false alarms / "
                     "(hits + false alarms); cost in vain = money spent acting on false alarms.</p>")

    # -- method and caveat
    n_boot = meta.get("n_boot", "")
    parts.append("<h2>Method</h2><ul>")
    parts.append(
        "<li><strong>Common random numbers.</strong> Every arm runs the same seeds. The model's random draws are "
        "a function of (seed, stream, month, household), and hazard streams never depend on the policy, so on a "
        "given seed every arm faces the same droughts, conflict and epidemics: differences between arms are caused "
        "by the policy, not by chance.</li>"
        "<li><strong>Paired t intervals.</strong> For each outcome the difference arm minus reference is taken "
        "replicate by replicate; the 95% interval is mean &plusmn; t<sub>0.975, n-1</sub> &times; sd / &radic;n.</li>"
        "<li><strong>Ratios.</strong> Cost per death (or IPC3+ person-month) averted is the mean extra cost over "
        f"the reference divided by the mean number averted; its 95% interval is the percentile interval of "
        f"{_e(n_boot)} paired bootstrap resamples of the replicates (fixed seed {_e(meta.get('bootstrap_seed', ''))}"
        "). When nothing is averted on average the ratio is reported as <em>not averted</em>, never as a negative "
        "cost.</li>"
        "<li><strong>Benefit.</strong> Avoided losses = food consumption gap avoided (USD) + productive assets kept "
        "at the end (USD), against the reference; benefit-cost ratio = mean benefit / mean extra cost.</li>"
        "<li>All money is in real US dollars for the scenario's population; outcomes are totals over the "
        "horizon.</li></ul>"
    )
    parts.append(
        '<div class="caveat"><strong>Caveat.</strong> The model\'s calibration is illustrative: parameters come '
        "from the literature and plausible ranges, not from fitting to a specific place. Use these results to "
        "compare options and understand mechanisms (which policy does better here, and why), not as forecasts of "
        "real deaths or costs.</div>"
    )
    parts.append(f"<footer>hssim policy comparison &middot; reference arm {_e(ref)} &middot; "
                 f"{_e(meta.get('replicates', ''))} replicates &middot; config fingerprints: "
                 + _e(", ".join(f"{a} {f}" for a, f in (meta.get("config_fingerprints") or {}).items()) or "n/a")
                 + "</footer>")
    return page(title, "\n".join(parts))


#: the decision chart, shown at the top of the page rather than among the figures
DECISION_FIGURE = "compare_decision.png"


def _pd_cell(pdl, arm: str, metric: str) -> str:
    sel = pdl[(pdl["arm"] == arm) & (pdl["metric"] == metric)] if len(pdl) else pdl
    if not len(sel):
        return "n/a"
    r = sel.iloc[0]
    if not np.isfinite(r["value"]):
        return f'<span title="{_e(r["note"])}">undefined</span>'
    return f"{_num(r['value'])}<br>{_ci(r['ci_low'], r['ci_high'])}"


def _percent(rate: Any) -> str:
    return f"{100.0 * float(rate):g}"


def _decision_section(result, figures: Mapping[str, bytes]) -> list[str]:
    """The top of the page: what a planner acts on (one chart, one table, plain words)."""
    from ..compare.narrative import decision_sentences

    ref = result.reference
    meta = result.meta or {}
    scale = meta.get("real_households_per_simulated") or 1.0
    out = ["<h2>Decision summary</h2>",
           f"<p>What each arm bought for the money it spent beyond <strong>{_e(ref)}</strong>, per million US "
           "dollars, with 95% intervals over the replicates (paired: the same weather, conflict and epidemics in "
           "every arm). A figure is <em>undefined</em> when the arm's extra spend is not clearly above zero; then "
           "compare the differences themselves.</p>",
           '<ul class="findings">' + "".join(f"<li>{_e(x)}</li>" for x in decision_sentences(result)) + "</ul>"]
    if figures.get(DECISION_FIGURE):
        out.append(_img(DECISION_FIGURE, figures[DECISION_FIGURE], "What each arm buys per million USD"))
    costs = result.costs.set_index("arm") if len(result.costs) else None
    rows = []
    for arm in result.arms:
        if arm == ref:
            continue
        extra = (_money_cell(costs.loc[arm, "incremental_cost_usd_mean"]) if costs is not None and arm in costs.index
                 else "n/a")
        try:
            d = result.difference(arm, "deaths_total")
            deaths = f"{_signed(-d['mean_diff'] * scale)}<br>{_ci(-d['ci_high'] * scale, -d['ci_low'] * scale)}"
        except KeyError:
            deaths = "n/a"
        try:
            d = result.difference(arm, "ipc3plus_frac_mean")
            share = f"{_signed(-100 * d['mean_diff'])}<br>{_ci(-100 * d['ci_high'], -100 * d['ci_low'])}"
        except KeyError:
            share = "n/a"
        bcr = result.cost_effectiveness
        bcr = bcr[(bcr["arm"] == arm) & (bcr["metric"] == "benefit_cost_ratio")] if len(bcr) else bcr
        bcr_cell = ("n/a" if not len(bcr) else
                    (f"{bcr.iloc[0]['value']:.2f}<br>{_ci(bcr.iloc[0]['ci_low'], bcr.iloc[0]['ci_high'])}"
                     if np.isfinite(bcr.iloc[0]["value"]) else f'<span title="{_e(bcr.iloc[0]["note"])}">undefined</span>'))
        rows.append([_e(arm), extra, deaths, _pd_cell(result.per_dollar, arm, "deaths_averted_per_musd"), share,
                     _pd_cell(result.per_dollar, arm, "ipc3plus_share_months_averted_per_musd"), bcr_cell])
    if rows:
        out.append(_table(["arm", f"extra spend over {ref}, USD per run", "deaths averted (real population)",
                           "deaths averted per million USD", "IPC3+ mean share, percentage points lower",
                           "IPC3+ share-months averted per million USD", "benefit-cost ratio"],
                          rows, [False, True, True, True, True, True, True]))
    return out


def _money_cell(x: Any) -> str:
    from ..compare.wording import _money

    return _e(_money(float(x)))


def save_comparison(result, path, figures: bool = True, dpi: int = 110):
    """Write a comparison's folder: its tables and ``comparison.json``
    (:meth:`hssim.compare.ComparisonResult.save`) plus the figures (PNG, when
    ``figures``) and the self-contained ``report.html``.

    Parameters
    ----------
    result : ComparisonResult
    path : str or Path  the folder (created if needed)
    figures : bool  draw the figures at ``dpi`` dots per inch (the page shows them)

    Returns
    -------
    Path  the folder
    """
    from .compare_figures import comparison_figures

    pngs = comparison_figures(result, dpi=dpi) if figures else {}
    extras = {name: (lambda p, d=data: p.write_bytes(d)) for name, data in pngs.items()}
    html = comparison_report(result, figures=pngs)
    extras["report.html"] = lambda p: p.write_text(html, encoding="utf-8")
    return result.save(path, extras=extras)
