"""The planner's report of one run: a self-contained HTML page (``report.html``).

Context (scenario, storyline, hazards, response), the key indicators over time, a
district table, disaggregation by group, costs, and the limits of what one run can
say. One file with inline CSS and the figure embedded as base64 PNG: no scripts, no
external resources, so it opens offline and can be sent on. Text from the config
(names, descriptions) is escaped.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import pandas as pd

from .html import _e, _img, _num, _table, page

__all__ = ["run_report", "save_run"]

#: groups shown in the disaggregation table, with their labels
GROUP_LABELS: dict[str, str] = {
    "all": "everyone",
    "female_headed": "female-headed households",
    "male_headed": "male-headed households",
    "marginalised": "marginalised groups",
    "not_marginalised": "not marginalised",
    "poorest_quintile": "poorest fifth (at the start)",
    "livelihood_pastoral": "pastoralists",
    "livelihood_agropastoral": "agro-pastoralists",
    "livelihood_crop": "crop farmers",
    "livelihood_urban": "urban and wage workers",
    "displaced": "displaced (while displaced)",
}


def _pct(x: Any) -> str:
    x = float(x)
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _context(results, scenario) -> str:
    cfg = results.config
    sc, story, pol = cfg["scenario"], cfg["storyline"], cfg["policy"]
    hazards = []
    for name, h in cfg["hazards"].items():
        if h.get("enabled", True):
            hazards.append(f"{name}" + (f" ({h.get('name') or h.get('kind')})" if name == "disease" else ""))
    real_hh = float(np.sum(scenario.households)) if scenario is not None else float("nan")
    rows = [
        ("scenario", f"<b>{_e(sc['name'])}</b>: {_e(sc.get('description', ''))}"),
        ("districts", f"{len(results.districts)}: {_e(', '.join(results.districts))}"),
        ("households", f"{_num(cfg['population']['households'])} simulated for {_num(real_hh)} real "
                       f"(each stands for {_num(results.summary.get('real_households_per_simulated', float('nan')))})"),
        ("horizon", f"{cfg['months']} months from calendar month {sc['start_calendar_month']} "
                    f"(after {cfg['spinup_months']} months of spin-up), seed {cfg['seed']}"),
        ("storyline", f"<b>{_e(story['name'])}</b>: {_e(story.get('description', '')) or 'rainfall as the climate draws it'}"),
        ("hazards", _e(", ".join(hazards) or "none")),
        ("response", f"<b>{_e(pol['name'])}</b>: {_e(pol.get('description', ''))}" if pol.get("enabled") else "none (policy=none)"),
    ]
    if scenario is not None:
        from pathlib import Path

        readme = Path(scenario.source) / "README.md"
        if readme.is_file():
            rows.append(("sources", f"the scenario's figures and their sources: <code>{_e(readme)}</code>"))
    body = _table(["", ""], [(f"<b>{_e(k)}</b>", v) for k, v in rows])
    if story.get("events"):
        ev = [(str(e["start"]), str(e.get("end") or e["start"]), _num(e["anomaly"]), _e(", ".join(e.get("districts") or ["all"])))
              for e in story["events"]]
        body += "<h3>Forced rain failures</h3>" + _table(["from month", "to month", "anomaly (sd)", "districts"], ev, [True, True, True, False])
    if scenario is not None:
        rows = []
        for d, name in enumerate(scenario.names):
            lv = scenario.livelihood_shares[d]
            rows.append((_e(name), _num(scenario.households[d]), _pct(scenario.poverty_rate[d]),
                         " / ".join(f"{100 * x:.0f}" for x in lv), _num(scenario.rain_clim_mm[d].sum()),
                         _num(scenario.conflict_baseline[d]), _pct(scenario.health_access[d])))  # fmt: skip
        body += "<h3>The districts (inputs)</h3>" + _table(
            ["district", "households", "poverty", "livelihoods % (pastoral / agro-past. / crop / urban)",
             "rain mm/yr", "conflict events/month (calm)", "health access"],
            rows, [False, True, True, False, True, True, True],
        )  # fmt: skip
    return body


def _key_indicators(results) -> str:
    s = results.summary
    scale = float(s.get("real_households_per_simulated", 1.0))
    rows = [
        ("people in IPC3+ (crisis or worse)", f"mean {_pct(s['ipc3plus_frac_mean'])}, peak {_pct(s['ipc3plus_frac_peak'])}",
         f"{_num(s['ipc3plus_person_months'] * scale)} person-months"),
        ("acute malnutrition, under-fives", f"mean {_pct(s['acute_malnutrition_frac_mean'])}, peak {_pct(s['acute_malnutrition_frac_peak'])}", ""),
        ("deaths", f"{_num(s['deaths_total'] * scale)}",
         f"starvation {_num(s['deaths_starvation'] * scale)}, disease {_num(s['deaths_disease'] * scale)}, "
         f"violence {_num(s['deaths_violence'] * scale)}"),
        ("crude death rate, per 10,000 a day", f"mean {_num(s['cdr_per_10k_day_mean'])}, peak {_num(s['cdr_per_10k_day_peak'])}",
         f"{s['district_months_cdr_above_1']} district-months above 1 (emergency), {s['district_months_cdr_above_2']} above 2"),
        ("displacement", f"peak {_pct(s['displaced_frac_peak'])} of people", f"{_num(s['displaced_person_months'] * scale)} person-months"),
        ("infections", f"{_num(s['new_infections_total'] * scale)}", f"{s['attack_rate']:.2f} per person"),
        ("conflict events", _num(s["conflict_events_total"]), ""),
        ("poverty", f"first year {_pct(s['poverty_frac_first_year'])}, last year {_pct(s['poverty_frac_last_year'])}", ""),
        ("below the poverty trap", f"{_pct(s['below_trap_frac_start'])} at the start, {_pct(s['below_trap_frac_end'])} at the end", ""),
        ("human-security index (0-1)", f"mean {_num(s['hs_index_mean'])}", ""),
        ("drought", f"{_pct(s['drought_district_month_frac'])} of district-months", f"food price peak {_num(s['food_price_peak_ratio'])}x normal"),
    ]
    body = _table(["indicator", "over the horizon", "detail"], [(_e(a), b, c) for a, b, c in rows])
    body += "<p class=\"sub\">Counts (deaths, person-months, infections) are for the real population: simulated counts times the households each simulated one stands for.</p>"
    try:
        from .figures import indicator_figure

        buf = io.BytesIO()
        indicator_figure(results, buf, dpi=90)
        body += _img("indicators.png", buf.getvalue(), "Key indicators over time; shaded: months with half the people or more in drought")
    except Exception as exc:  # a figure failure must not lose the report
        body += f"<p class=\"caveat\">The figure could not be drawn: {_e(exc)}</p>"
    return body


def _districts(results) -> str:
    ts = results.timeseries
    sel = ts[(ts["group"] == "all") & (ts["district"] != "all")]
    piv = sel.pivot_table(index="district", columns="indicator", values="value", aggfunc=["mean", "max", "sum"], observed=True)
    risk = results.district_risk().set_index("district")
    rows = []
    for d in results.districts:
        g = lambda how, ind: piv[(how, ind)].get(d, float("nan")) if (how, ind) in piv.columns else float("nan")  # noqa: E731
        rows.append((
            _e(d), _pct(g("mean", "ipc3plus_frac")), _pct(g("max", "ipc3plus_frac")), _pct(g("mean", "acute_malnutrition_frac")),
            _num(g("sum", "deaths")), _pct(g("max", "displaced_frac")), _pct(g("mean", "in_drought")),
            _num(g("sum", "conflict_events")), _num(g("sum", "cost_usd")),
            _risk_cell(risk, d),
        ))  # fmt: skip
    return _table(
        ["district", "IPC3+ mean", "IPC3+ peak", "malnutrition u5 mean", "deaths (simulated)", "displaced peak",
         "months in drought", "conflict events", "response USD (real)", "risk 0-10 (rank)"],
        rows, [False] + [True] * 9,
    ) + "<p class=\"sub\">Districts of origin: displaced households count where they come from. Risk: INFORM-style score of hazard and exposure, vulnerability and lack of coping capacity (district_risk.csv).</p>"  # fmt: skip


def _risk_cell(risk: pd.DataFrame, d: str) -> str:
    """'score (#rank)', or 'n/a' for a district without a score (e.g. no simulated household)."""
    if d not in risk.index or pd.isna(risk.loc[d, "risk"]) or pd.isna(risk.loc[d, "rank"]):
        return "n/a"
    return f"{_num(risk.loc[d, 'risk'])} (#{int(risk.loc[d, 'rank'])})"


def _groups(results) -> str:
    ts = results.timeseries
    sel = ts[(ts["district"] == "all")]
    rows = []
    for grp, label in GROUP_LABELS.items():
        g = sel[sel["group"] == grp].pivot_table(index="month", columns="indicator", values="value", observed=True)
        if g.empty:
            continue
        col = lambda ind: g[ind] if ind in g.columns else pd.Series(dtype=float)  # noqa: E731
        rows.append((
            _e(label), _num(col("population").mean()), _pct(col("ipc3plus_frac").mean()), _pct(col("acute_malnutrition_frac").mean()),
            _pct(col("poverty_frac").iloc[-12:].mean()), _pct(col("negative_coping_frac").mean()), _num(col("hs_index").mean()),
            _num(col("deaths").sum()), _pct(col("assisted_frac").mean()) if "assisted_frac" in g.columns else "n/a",
        ))  # fmt: skip
    return _table(
        ["group", "people (simulated, mean)", "IPC3+ mean", "malnutrition u5 mean", "poverty, last year",
         "crisis coping mean", "human-security index", "deaths (simulated)", "households assisted (mean share)"],
        rows, [False] + [True] * 8,
    ) + "<p class=\"sub\">Shares are of people in each group, averaged over months; groups overlap (a household belongs to one of each pair and to its livelihood).</p>"  # fmt: skip


def _costs(results) -> str:
    s = results.summary
    if "budget_disbursed_usd" not in s:
        return "<p>No response was simulated (<code>policy=none</code>): nothing was spent. Compare policies with <code>hssim-compare</code>.</p>"
    rows = [
        ("spent", _num(s["cost_usd_total"])),
        ("budget that arrived", _num(s["budget_disbursed_usd"])),
        ("of which coordination", _num(s.get("coordination_cost_usd", 0.0))),
        ("spent in vain (programmes that reached no one in need)", _num(s.get("cost_in_vain_usd", 0.0))),
        ("household-months served", _num(s.get("household_months_served", float("nan")))),
        ("drought trigger", f"{s.get('trigger_activations', 0)} activations: {s.get('trigger_hits', 0)} hits, "
                            f"{s.get('trigger_false_alarms', 0)} false alarms, {s.get('trigger_misses', 0)} of "
                            f"{s.get('drought_episodes', 0)} drought episodes missed"),
    ]
    body = _table(["", "USD (real population)"], [(_e(a), b) for a, b in rows], [False, True])
    costs = results.tables.get("costs")
    if costs is not None and len(costs):
        by = costs.groupby(["sector", "intervention", "kind"], observed=True)["cost_usd"].sum().reset_index()
        by = by.sort_values("cost_usd", ascending=False)
        total = by["cost_usd"].sum()
        body += "<h3>By programme</h3>" + _table(
            ["sector", "programme", "kind", "USD", "share"],
            [(_e(r.sector), _e(r.intervention), _e(r.kind), _num(r.cost_usd), _pct(r.cost_usd / total if total else float("nan"))) for r in by.itertuples()],
            [False, False, False, True, True],
        )  # fmt: skip
    return body


def _limits(results) -> str:
    cfg = results.config
    items = [
        f"One run is one draw of the weather, conflict and epidemics (seed {cfg['seed']}). Other draws give other "
        "years: compare policies on many seeds with <code>hssim-compare</code> (paired, with confidence intervals), "
        "and explore uncertain parameters with <code>hssim-sweep</code>.",
        f"{_num(cfg['population']['households'])} households are simulated; small districts have few of them, so their "
        "rates are noisy. Raise <code>population.households</code> for district detail.",
        "Many parameters are assumed or calibrated to typical drylands rather than measured for these districts: "
        "their sources are in the scenario's README and docs/ODD.md. Treat levels as indicative and differences "
        "between options as the finding.",
        "The model forms no new households (children are born into existing ones), has no seasonal migration other than displacement, no markets beyond district prices, "
        "and no political decisions beyond the configured response.",
        "Deaths and malnutrition come from the model's mechanisms (consumption gaps, disease, violence), not from "
        "observed data; they are not forecasts.",
    ]
    if cfg["scenario"].get("path") == "synthetic_region":
        items.insert(0, "The districts are synthetic (the built-in example region): no real place is described.")
    return "<ul class=\"findings\">" + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


def run_report(results, scenario: Any = None) -> str:
    """The HTML text of the planner's report of one run.

    Parameters
    ----------
    results : hssim.Results
    scenario : Scenario, optional  the district table (default: read from the run's config)
    """
    if scenario is None:
        try:
            from ..scenario import load_scenario

            scenario = load_scenario(results.config["scenario"]["path"])
        except Exception:  # the table moved since the run: the report goes on without it
            scenario = None
    cfg = results.config
    title = f"hssim run: {cfg['scenario']['name']}, {cfg['storyline']['name']}"
    body = (
        f"<h1>{_e(title)}</h1>"
        f"<p class=\"sub\">{cfg['months']} months, {_num(cfg['population']['households'])} simulated households, "
        f"policy {_e(cfg['policy']['name'] if cfg['policy'].get('enabled') else 'none')}, seed {cfg['seed']}</p>"
        "<h2>Context</h2>" + _context(results, scenario)
        + "<h2>Key indicators</h2>" + _key_indicators(results)
        + "<h2>Districts</h2>" + _districts(results)
        + "<h2>Who is affected: groups</h2>" + _groups(results)
        + "<h2>Costs of the response</h2>" + _costs(results)
        + "<h2>What this run can and cannot say</h2>" + _limits(results)
        + f"<footer>hssim, report written {time.strftime('%Y-%m-%d %H:%M')}; tables in this folder: "
        "timeseries.parquet, summary.json, district_risk.csv, config.yaml.</footer>"
    )
    return page(title, body)


def save_run(results, path, figure: bool = True, dpi: int = 110, report: bool = True,
             written: list | None = None, redact=None):
    """Write a run's folder: the data (:meth:`hssim.results.Results.save`) plus
    ``indicators.png`` (``figure``) and the planner's ``report.html`` (``report``).

    Parameters
    ----------
    results : Results
    path : str or Path  the folder (created if needed)
    figure : bool  draw ``indicators.png`` at ``dpi`` dots per inch
    report : bool  write ``report.html``
    written, redact : see :meth:`hssim.results.Results.save`

    Returns
    -------
    Path  the folder
    """
    extras = {}
    if figure:
        from .figures import indicator_figure

        extras["indicators.png"] = lambda p, res: indicator_figure(res, p, dpi=dpi)
    if report:
        extras["report.html"] = lambda p, res: p.write_text(run_report(res), encoding="utf-8")
    return results.save(path, written=written, redact=redact, extras=extras)
