"""The validation page of a calibration: one self-contained HTML file.

Every target against the model at the plausible parameter sets, calibration and held-out
validation rows apart; the crisis hindcasts as monthly series with the observed bands;
each parameter's identification; error metrics (relative error, coverage of the bands,
MASE against a "normal year" forecast). Takes the results as arguments
(:class:`hssim.calibrate.CalibrationResult`, :class:`hssim.calibrate.validation.Validation`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..results import atomic_write
from ..targets import horizon_months
from .html import _e, _img, _num, _table, page

__all__ = ["hindcast_figure", "calibration_page", "save_calibration"]

_LABELS = {"ipc3plus_frac": "people in IPC phase 3+", "ipc5_frac": "people in IPC phase 5",
           "acute_malnutrition_frac": "under-fives acutely malnourished (GAM)", "cdr_per_10k_day": "deaths / 10,000 / day"}


def hindcast_figure(validation, storyline: str, dpi: int = 110) -> bytes:
    """PNG: the hindcast's monthly IPC3+ and GAM (median and 5-95% over sets and seeds)
    with the observed bands of the storyline's all-district rows over their periods."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    s = validation.series[validation.series["storyline"] == storyline]
    rows = validation.table[(validation.table["storyline"] == storyline) & (validation.table["district"] == "all")]
    shown = [c for c in ("ipc3plus_frac", "acute_malnutrition_frac", "ipc5_frac") if c in s.columns]
    fig = Figure(figsize=(9.5, 2.9 * len(shown)), dpi=dpi)
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    months = np.sort(s["month"].unique())
    calendar = s.drop_duplicates("month").set_index("month")["calendar"]
    for ax, col in zip(axes, shown):
        by = s.pivot_table(index="month", columns=["set", "seed"], values=col).reindex(months)
        v = by.to_numpy(np.float64)
        ax.fill_between(months, np.nanquantile(v, 0.05, axis=1), np.nanquantile(v, 0.95, axis=1), color="#9ecae1",
                        alpha=0.6, label="model, 5-95% over sets and seeds")
        ax.plot(months, np.nanmedian(v, axis=1), color="#08519c", lw=1.8, label="model median")
        for _, r in rows[rows["indicator"] == col].iterrows():
            a, b = horizon_months(validation.first_months[storyline], r["period"])
            lo = 0.0 if math.isnan(r["low"]) else r["low"]
            hi = r["high"] if not math.isnan(r["high"]) else lo
            colour = "#31a354" if r["role"] == "validation" else "#e6550d"
            ax.add_patch(matplotlib.patches.Rectangle((a - 0.5, lo), b - a + 1, hi - lo, facecolor=colour,
                                                      alpha=0.35, edgecolor=colour,
                                                      label=f"observed band ({r['role']})"))
            if not math.isnan(r["value"]):
                ax.plot([(a + b) / 2], [r["value"]], "o", color=colour)
        ax.set_ylabel(_LABELS.get(col, col), fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="upper left")
    ticks = months[:: max(1, len(months) // 12)]
    axes[-1].set_xticks(ticks)
    axes[-1].set_xticklabels([calendar.get(m, str(m)) for m in ticks], rotation=45, fontsize=7)
    fig.suptitle(f"Hindcast: {storyline}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _target_rows(table):
    rows = []
    for _, r in table.iterrows():
        band = f"{_num(r['low'])} .. {_num(r['high'])}"
        model = f"{_num(r['model_median'])} [{_num(r['model_p05'])} .. {_num(r['model_p95'])}]"
        verdict = "in band" if r["in_band"] else "<strong>outside</strong>"
        rows.append([_e(r["indicator"]), _e(r["district"]), _e(r["period"]), _e(r["storyline"] or "no shock"), band,
                     _num(r["value"]), model, verdict, _num(r["coverage"], 2), _num(r["rel_error"], 2),
                     f"<small>{_e(r['source'])}</small>"])
    return rows


_HEAD = ["indicator", "district", "period", "storyline", "observed band", "value", "model median [5-95%]", "",
         "coverage", "relative error", "source"]
_NUMERIC = [False, False, False, False, True, True, True, False, True, True, False]


def calibration_page(result, validation, figures: dict[str, bytes], command: str = "") -> str:
    cal = result.config
    body = [f"<h1>Calibration and validation: {_e(cal.name)}</h1>",
            f"<p>Scenario <strong>{_e(cal.scenario)}</strong>, {result.complete_trials} trials, "
            f"{len(result.plausible)} plausible parameter set(s) "
            f"({'every calibration band met' if result.all_in_bands else 'no trial meets every calibration band: the closest trials'}); "
            f"validated at the best {len(validation.sets)} set(s) x seeds {list(cal.seeds)}, "
            f"{cal.households} simulated households, {cal.months} months.</p>"]
    if command:
        body.append(f"<p>Made by <code>{_e(command)}</code>.</p>")
    counts = validation.counts()
    body.append("<h2>Targets in band</h2><ul>" + "".join(
        f"<li>{_e(role)}: {k} of {n} targets inside their band</li>" for role, (k, n) in sorted(counts.items()))
        + "</ul>")
    body.append("<h2>Free parameters</h2>")
    body.append(_table(["parameter", "path", "prior", "plausible median", "plausible 5-95%", "range ratio", "source"], [
        [_e(r["parameter"]), f"<code>{_e(r['path'])}</code>", f"{_num(r['prior_low'])} .. {_num(r['prior_high'])}",
         _num(r["plausible_median"]), f"{_num(r['plausible_p05'])} .. {_num(r['plausible_p95'])}",
         _num(r["range_ratio"], 2), f"<small>{_e(cal.parameters[r['parameter']].source)}</small>"]
        for _, r in result.identification.iterrows()], [False, False, True, True, True, True, False]))
    body.append("<p>Range ratio: the plausible 5-95% range over the prior range (log scale for log priors); near 1 "
                "the targets say little about the parameter.</p>")
    for role, title in (("calibration", "Calibration targets (fitted)"),
                        ("validation", "Validation targets (held out: never used by the fit)")):
        t = validation.table[validation.table["role"] == role]
        body.append(f"<h2>{_e(title)}</h2>")
        body.append(_table(_HEAD, _target_rows(t), _NUMERIC) if len(t) else "<p>None.</p>")
    body.append("<h2>Error metrics</h2>")
    body.append(_table(["storyline", "role", "targets", "in band", "mean coverage", "MASE"], [
        [_e(r["storyline"]), _e(r["role"]), str(r["targets"]), str(r["in_band"]), _num(r["mean_coverage"], 2),
         _num(r["mase"], 2)] for _, r in validation.metrics.iterrows()], [False, False, True, True, True, True]))
    body.append("<p>Coverage: the share of runs (sets x seeds) inside the band. MASE: the hindcast's mean absolute "
                "error over the storyline's targets divided by that of the no-shock model; below 1 the hindcast "
                "tells more about the crisis than a normal year would.</p>")
    if figures:
        body.append("<h2>Hindcasts</h2>")
        for name, data in figures.items():
            body.append(_img(name, data, f"Hindcast of {name.removesuffix('.png')}: model against the observed bands"))
    return page(f"hssim calibration: {cal.name}", "\n".join(body))


def save_calibration(result, validation, path, dpi: int = 110, command: str = "") -> Path:
    """Write ``validation.csv``, ``hindcasts.csv``, ``metrics.csv`` and ``report.html``
    (with one hindcast figure per storyline) into ``path``."""
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("validation.csv", validation.table), ("hindcasts.csv", validation.series),
                        ("metrics.csv", validation.metrics)):
        atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False))
    figures: dict[str, Any] = {}
    for story in sorted(validation.first_months):
        figures[f"{story}.png"] = hindcast_figure(validation, story, dpi=dpi)
    html = calibration_page(result, validation, figures, command)
    atomic_write(out / "report.html", lambda p: p.write_text(html, encoding="utf-8"))
    return out
