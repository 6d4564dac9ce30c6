"""Figures of a policy comparison (:class:`hssim.compare.ComparisonResult`).

- :func:`differences_figure`: forest plot, one panel per outcome, one row per arm:
  the mean paired difference arm - reference with its 95% interval;
- :func:`costs_figure`: mean cost per run by arm, stacked by intervention when the
  runs recorded a cost table, else one bar with its 95% interval;
- :func:`cost_effectiveness_figure`: cost per death averted, per IPC3+ person-month
  averted and the benefit-cost ratio per arm, with bootstrap intervals.

Each function writes a PNG to ``path`` or, with ``path=None``, returns its bytes.
matplotlib is imported only when a figure is drawn, with the Agg backend.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ..mpl_text import literal_text

__all__ = [
    "differences_figure",
    "costs_figure",
    "cost_effectiveness_figure",
    "comparison_figures",
    "FIGURE_FILES",
    "TITLES",
    "decision_figure",
]

#: file name -> what it shows (also the order in the report)
FIGURE_FILES: dict[str, str] = {
    "compare_decision.png": "What each arm buys per million USD, 95% intervals",
    "compare_differences.png": "Paired differences with the reference, 95% intervals",
    "compare_costs.png": "Cost per run by arm",
    "compare_cost_effectiveness.png": "Cost-effectiveness and benefit-cost, 95% bootstrap intervals",
}

TITLES: dict[str, str] = {
    "deaths_total": "Deaths",
    "ipc3plus_person_months": "IPC3+ person-months",
    "acute_malnutrition_u5_months": "Acute malnutrition, child-months",
    "displaced_person_months": "Displaced person-months",
    "negative_coping_frac_mean": "Crisis/emergency coping, mean share",
    "poverty_frac_mean": "Poverty, mean share",
    "new_infections_total": "New infections",
    "food_gap_usd": "Food gap, USD",
    "assets_end_usd": "Productive assets at end, USD",
    "cost_usd_total": "Cost, USD",
}

_BETTER, _WORSE, _NEUTRAL = "#1a7f4b", "#b2302b", "#555555"
_PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974",
            "#64b5cd", "#2f4b7c", "#a05195")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, path, dpi: int) -> bytes | None:
    plt = _plt()
    try:
        if path is None:
            buf = io.BytesIO()
            fig.savefig(buf, dpi=dpi, format="png")
            return buf.getvalue()
        fig.savefig(path, dpi=dpi, format="png")
        return None
    finally:
        plt.close(fig)


def _label(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} M"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.0f}" if x == round(x) else f"{x:.1f}"
    return f"{x:.3g}"


def _axis_labels(ax, axis: str = "x") -> None:
    """Tick labels as plain numbers with thousands separators (no offset or 1e6 factor)."""
    from matplotlib.ticker import FuncFormatter

    getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _pos: _label(v) if v else "0"))


def _arm_axis(ax, arms: Sequence[str], zero_lw: float = 0.6) -> None:
    """One row per arm (the first at the top), a zero line, plain-number ticks, a light grid."""
    ax.axvline(0, color="black", lw=zero_lw)
    _axis_labels(ax)
    ax.set_yticks(np.arange(len(arms))[::-1], arms, fontsize=8)
    ax.set_ylim(-0.7, len(arms) - 0.3)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)


def _key_outcomes(result, outcomes: Sequence[str] | None) -> list[str]:
    from ..outcomes import KEY_OUTCOMES

    d = result.differences
    present = list(dict.fromkeys(d["outcome"])) if len(d) else []
    if outcomes is not None:
        return [o for o in outcomes if o in present]
    chosen = [o for o in KEY_OUTCOMES if o in present]
    return chosen or present[:6]


@literal_text
def differences_figure(result, path: str | Path | None = None, outcomes: Sequence[str] | None = None,
                       dpi: int = 110) -> bytes | None:
    """Forest plot of the paired differences arm - reference with 95% intervals.

    Green: the interval lies on the better side of 0; red: on the worse side;
    grey: it includes 0.
    """
    plt = _plt()
    chosen = _key_outcomes(result, outcomes)
    arms = [a for a in result.arms if a != result.reference]
    n = max(1, len(chosen))
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    height = 0.9 + nrows * (0.45 * max(1, len(arms)) + 1.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols + 1.2, height), squeeze=False)
    d = result.differences
    for k in range(nrows * ncols):
        ax = axes[k // ncols][k % ncols]
        if k >= len(chosen):
            ax.axis("off")
            continue
        outcome = chosen[k]
        sel = d[d["outcome"] == outcome].set_index("arm")
        ys = np.arange(len(arms))[::-1]
        for y, arm in zip(ys, arms):
            if arm not in sel.index:
                continue
            r = sel.loc[arm]
            m, lo, hi = float(r["mean_diff"]), float(r["ci_low"]), float(r["ci_high"])
            higher = r["better"] == "higher"
            if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0):
                good = (lo > 0) == higher
                col = _BETTER if good else _WORSE
            else:
                col = _NEUTRAL
            if np.isfinite(lo) and np.isfinite(hi):
                ax.hlines(y, lo, hi, color=col, lw=2.2)
            ax.plot([m], [y], "o", color=col, ms=6)
            ax.annotate(_label(m), (m, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        _arm_axis(ax, arms, zero_lw=0.8)
        ref_mean = float(sel["mean_reference"].iloc[0]) if len(sel) else math.nan
        better = sel["better"].iloc[0] if len(sel) else "lower"
        ax.set_title(f"{TITLES.get(outcome, outcome)}\n({better} is better; reference {_label(ref_mean)})",
                     fontsize=8.5)
    fig.suptitle(f"Difference from {result.reference} (mean over paired replicates, 95% CI)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    return _finish(fig, path, dpi)


@literal_text
def costs_figure(result, path: str | Path | None = None, dpi: int = 110, max_parts: int = 10) -> bytes | None:
    """Mean cost per run by arm, stacked by intervention when a cost table exists."""
    plt = _plt()
    arms = list(result.arms)
    fig, ax = plt.subplots(figsize=(max(5.5, 1.3 * len(arms) + 2.5), 4.2))
    x = np.arange(len(arms))
    br = result.cost_breakdown
    if br is not None and len(br) and float(br["cost_usd_mean"].sum()) > 0:
        totals = br.groupby("intervention")["cost_usd_mean"].sum().sort_values(ascending=False)
        parts = list(totals.index[:max_parts])
        bottom = np.zeros(len(arms))
        table = br.assign(part=br["intervention"].where(br["intervention"].isin(parts), "other"))
        piv = table.pivot_table(index="part", columns="arm", values="cost_usd_mean", aggfunc="sum").fillna(0.0)
        order = parts + (["other"] if "other" in piv.index else [])
        for k, part in enumerate(order):
            vals = np.array([float(piv.loc[part, a]) if a in piv.columns else 0.0 for a in arms])
            ax.bar(x, vals, bottom=bottom, color=_PALETTE[k % len(_PALETTE)], label=part, width=0.65)
            bottom += vals
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="intervention",
                  title_fontsize=8)
        tops = bottom
    else:
        c = result.costs.set_index("arm")
        m = np.array([float(c.loc[a, "cost_usd_mean"]) if a in c.index else 0.0 for a in arms])
        lo = np.array([float(c.loc[a, "cost_usd_ci_low"]) if a in c.index else np.nan for a in arms])
        hi = np.array([float(c.loc[a, "cost_usd_ci_high"]) if a in c.index else np.nan for a in arms])
        ax.bar(x, m, color="#4c72b0", width=0.65)
        err = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
        ax.errorbar(x, m, yerr=err, fmt="none", ecolor="black", capsize=4, lw=1)
        tops = np.nan_to_num(np.maximum(m, hi))
        if not np.any(m > 0):
            ax.text(0.5, 0.5, "no costs recorded", transform=ax.transAxes, ha="center", va="center", color=_NEUTRAL)
    for xi, t in zip(x, tops):
        ax.annotate(_label(float(t)), (xi, t), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(x, arms, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("USD per run (mean over replicates)", fontsize=8)
    _axis_labels(ax, "y")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Cost of the response over the horizon", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path, dpi)


@literal_text
def cost_effectiveness_figure(result, path: str | Path | None = None, dpi: int = 110) -> bytes | None:
    """Cost per death averted, per IPC3+ person-month averted and benefit-cost ratio,
    per arm with 95% bootstrap intervals; arms that avert nothing are labelled."""
    plt = _plt()
    metrics = [
        ("cost_per_death_averted", "USD per death averted"),
        ("cost_per_ipc3plus_person_month_averted", "USD per IPC3+ person-month averted"),
        ("benefit_cost_ratio", "Benefit-cost ratio (avoided losses / cost)"),
    ]
    arms = [a for a in result.arms if a != result.reference]
    ce = result.cost_effectiveness
    height = 1.2 + 0.45 * max(1, len(arms))
    fig, axes = plt.subplots(1, 3, figsize=(13.5, max(2.8, height)), squeeze=False)
    for ax, (metric, title) in zip(axes[0], metrics):
        sel = ce[ce["metric"] == metric].set_index("arm") if len(ce) else None
        ys = np.arange(len(arms))[::-1]
        finite_hi = []
        for y, arm in zip(ys, arms):
            if sel is None or arm not in sel.index:
                continue
            r = sel.loc[arm]
            v, lo, hi = float(r["value"]), float(r["ci_low"]), float(r["ci_high"])
            if not np.isfinite(v):
                text = "not averted" if r["note"] == "not averted" else (r["note"] or "n/a")
                ax.text(0.02, y, text[:40], va="center", ha="left", fontsize=7, color=_WORSE,
                        transform=ax.get_yaxis_transform())
                continue
            right = hi if np.isfinite(hi) else None
            if np.isfinite(lo):
                end = right if right is not None else max(v, lo) * 1.5 + 1e-9
                ax.hlines(y, lo, end, color="#4c72b0", lw=2.2, linestyles="solid" if right is not None else "dotted")
                if right is None:  # the interval has no upper end: some resamples avert nothing
                    ax.annotate("to inf", (end, y), textcoords="offset points", xytext=(3, -3), fontsize=7,
                                color=_NEUTRAL)
            ax.plot([v], [y], "o", color="#4c72b0", ms=6)
            ax.annotate(_label(v), (v, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
            finite_hi += [x for x in (v, lo, hi) if np.isfinite(x)]
        if metric == "benefit_cost_ratio":
            ax.axvline(1.0, color=_WORSE, lw=0.8, ls="--")
        _arm_axis(ax, arms)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"Against {result.reference}: ratio of means, 95% paired-bootstrap intervals", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return _finish(fig, path, dpi)


#: the decision chart's panels: per-dollar metric -> title
DECISION_METRICS: dict[str, str] = {
    "deaths_averted_per_musd": "Deaths averted per million USD",
    "ipc3plus_share_months_averted_per_musd": "IPC3+ share-months averted per million USD",
    "malnutrition_u5_months_averted_per_musd": "Child-months of acute malnutrition averted per million USD",
}


@literal_text
def decision_figure(result, path: str | Path | None = None, dpi: int = 110) -> bytes | None:
    """The decision chart: per arm, what a million USD of extra spend over the reference
    averted (:attr:`ComparisonResult.per_dollar`), with 95% intervals; an undefined
    ratio is labelled with its reason."""
    plt = _plt()
    pdl = result.per_dollar
    arms = [a for a in result.arms if a != result.reference]
    metrics = [(m, t) for m, t in DECISION_METRICS.items() if len(pdl) and (pdl["metric"] == m).any()]
    if not metrics:
        metrics = [("deaths_averted_per_musd", DECISION_METRICS["deaths_averted_per_musd"])]
    height = 1.3 + 0.45 * max(1, len(arms))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), max(2.8, height)), squeeze=False)
    for ax, (metric, title) in zip(axes[0], metrics):
        sel = pdl[pdl["metric"] == metric].set_index("arm") if len(pdl) else None
        ys = np.arange(len(arms))[::-1]
        for k, (y, arm) in enumerate(zip(ys, arms)):
            if sel is None or arm not in sel.index:
                continue
            r = sel.loc[arm]
            v, lo, hi = float(r["value"]), float(r["ci_low"]), float(r["ci_high"])
            if not np.isfinite(v):
                ax.text(0.02, y, (r["note"] or "n/a")[:48], va="center", ha="left", fontsize=7, color=_NEUTRAL,
                        transform=ax.get_yaxis_transform())
                continue
            colour = _BETTER if lo > 0 else (_WORSE if hi < 0 else _NEUTRAL)
            ax.hlines(y, lo, hi, color=colour, lw=2.4)
            ax.plot([v], [y], "o", color=colour, ms=6)
            ax.annotate(_label(v), (v, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        _arm_axis(ax, arms)
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"Against {result.reference}, per million USD of extra spend (green: interval above zero)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    return _finish(fig, path, dpi)


def comparison_figures(result, dpi: int = 110) -> dict[str, bytes]:
    """PNG bytes of every figure, by file name (:data:`FIGURE_FILES`)."""
    return {
        "compare_decision.png": decision_figure(result, dpi=dpi),
        "compare_differences.png": differences_figure(result, dpi=dpi),
        "compare_costs.png": costs_figure(result, dpi=dpi),
        "compare_cost_effectiveness.png": cost_effectiveness_figure(result, dpi=dpi),
    }
