"""Figure of a poly-risk decomposition: isolated impacts stacked against the joint
impact, with the excess marked, and the IPC3+ share over time in every run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from ..mpl_text import literal_text

__all__ = ["polyrisk_figure", "save_polyrisk", "TITLES"]

#: short panel titles of the outcomes (others show their name)
TITLES: dict[str, str] = {
    "deaths_total": "Deaths (all causes)",
    "deaths_baseline_total": "Deaths at the baseline rate",
    "deaths_starvation_total": "Deaths from starvation / SAM",
    "deaths_disease_total": "Deaths from disease",
    "deaths_violence_total": "Deaths from violence",
    "ipc3plus_person_months": "IPC3+ person-months",
    "acute_malnutrition_u5_months": "Acute malnutrition, child-months (u5)",
    "negative_coping_frac_mean": "Crisis/emergency coping, mean share",
    "poverty_frac_mean": "Below poverty line, mean share",
    "displaced_person_months": "Displaced person-months",
    "violence_exposed_person_months": "Violence-exposed person-months",
    "new_infections_total": "New infections",
    "conflict_events_total": "Conflict events",
}

_HAZARD_COLOURS = ("#d08c2a", "#b2302b", "#3a7d44", "#6a4c93", "#1f77b4", "#8c564b", "#e377c2", "#7f7f7f")
_JOINT = "#2b2b2b"


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:+,.0f}"
    if abs(x) >= 1:
        return f"{x:+.1f}"
    return f"{x:+.3g}"


def _plain(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


@literal_text
def polyrisk_figure(result, path: str | Path, indicators: Sequence[str] | None = None, dpi: int = 110) -> None:
    """Write a PNG of a :class:`~hssim.polyrisk.PolyRiskResult`.

    Top: one panel per outcome. The left bar stacks the isolated impacts of the
    hazards (each hazard alone minus baseline; positive parts upwards, negative
    parts downwards); the right bar is the joint impact (all together minus
    baseline). The dashed line is the sum of isolated impacts; the arrow from it
    to the joint bar is the excess, labelled compounding (> 0) or sub-additive (< 0).

    Bottom: the regional share of people in IPC phase 3+ by month for the
    baseline, each hazard alone and all together.

    Parameters
    ----------
    result : PolyRiskResult
    path : str or Path  PNG file to write
    indicators : list of str, optional  outcomes to show (default: the key outcomes
        present, :data:`hssim.polyrisk.FIGURE_OUTCOMES`)
    dpi : int
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ..polyrisk import ALL, BASELINE, FIGURE_OUTCOMES, alone

    table = result.table.set_index("indicator")
    if indicators is None:
        # the key outcomes that moved in some run (an all-zero panel says nothing)
        moved = [i for i in table.index if np.any(result.values.loc[i].to_numpy() != 0)]
        chosen = [i for i in FIGURE_OUTCOMES if i in moved] or moved[:8] or list(table.index[:8])
    else:
        chosen = [i for i in indicators if i in table.index]
    hazards = list(result.hazards)
    colours = {h: _HAZARD_COLOURS[k % len(_HAZARD_COLOURS)] for k, h in enumerate(hazards)}
    series = result.series if result.series is not None else None
    has_series = series is not None and not series.empty

    n = max(1, len(chosen))
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    height = 3.0 * nrows + (3.3 if has_series else 0) + 0.7
    fig = plt.figure(figsize=(3.3 * ncols + 0.8, height))
    gs = fig.add_gridspec(nrows + int(has_series), ncols, height_ratios=[1.0] * nrows + ([1.1] if has_series else []))

    for k, name in enumerate(chosen):
        ax = fig.add_subplot(gs[k // ncols, k % ncols])
        row = table.loc[name]
        up = down = 0.0
        for h in hazards:
            v = float(row[f"impact_{h}"])
            if v >= 0:
                ax.bar(0, v, bottom=up, width=0.6, color=colours[h], edgecolor="white", lw=0.5)
                up += v
            else:
                ax.bar(0, v, bottom=down, width=0.6, color=colours[h], edgecolor="white", lw=0.5)
                down += v
        joint, sum_iso, excess = float(row["joint"]), float(row["sum_isolated"]), float(row["excess"])
        share = float(row["excess_share"])
        ax.bar(1, joint, width=0.6, color=_JOINT)
        ax.axhline(0, color="black", lw=0.6)
        ax.hlines(sum_iso, -0.4, 1.45, colors="black", linestyles="--", lw=0.8)
        if excess > 0:
            kind, col = "compounding", "#b2182b"
        elif excess < 0:
            kind, col = "sub-additive", "#2166ac"
        else:
            kind, col = "additive", "#555555"
        if excess != 0 and np.isfinite(excess):
            ax.annotate("", xy=(1.4, joint), xytext=(1.4, sum_iso), arrowprops=dict(arrowstyle="->", color=col, lw=1.4))
        pct = f" ({share:+.0%} of joint)" if np.isfinite(share) else ""
        ax.text(
            0.5,
            0.98,
            f"excess {_fmt(excess)}{pct}\n{kind}",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=7.5,
            color=col,
            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec=col, lw=0.6, alpha=0.9),
        )
        lo, hi = min(0.0, down, joint, sum_iso), max(0.0, up, joint, sum_iso)
        span = (hi - lo) or 1.0
        ax.set_ylim(lo - 0.05 * span, hi + 0.35 * span)
        ax.set_xlim(-0.6, 1.7)
        ax.set_xticks([0, 1], ["isolated\n(stacked)", "joint"], fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(TITLES.get(name, name), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        base = float(row["baseline"])
        ax.set_ylabel(f"change vs baseline ({_plain(base)})", fontsize=7)

    handles = [Patch(color=colours[h], label=f"{h} alone") for h in hazards]
    handles += [Patch(color=_JOINT, label="all together (joint)")]
    handles += [plt.Line2D([], [], color="black", ls="--", lw=0.8, label="sum of isolated impacts")]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.28 / height),
    )

    if has_series:
        ax = fig.add_subplot(gs[nrows, :])
        months = series.index.to_numpy()
        if BASELINE in series:
            ax.plot(months, series[BASELINE], color="#7f7f7f", ls="--", lw=1.3, label="baseline (no hazard)")
        for h in hazards:
            if alone(h) in series:
                ax.plot(months, series[alone(h)], color=colours[h], lw=1.3, label=f"{h} alone")
        if ALL in series:
            ax.plot(months, series[ALL], color=_JOINT, lw=2.0, label="all together")
        ax.set_title("People in IPC phase 3+ (all districts)", fontsize=9)
        ax.set_xlabel("month")
        ax.set_ylabel("share of people", fontsize=8)
        top = float(np.nanmax(series.to_numpy())) if series.size else 0.05
        ax.set_ylim(0, max(0.05, top * 1.15))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=min(4, len(hazards) + 2), loc="upper left")

    meta = getattr(result, "meta", {}) or {}
    title = "Poly-risk decomposition"
    if meta:
        title += (
            f": {meta.get('scenario', '')}, storyline {meta.get('storyline', 'none')}, seed {meta.get('seed')}, "
            f"{meta.get('months')} months"
        )
    fig.suptitle(
        title + "   (excess = joint - sum of isolated; > 0 compounding, < 0 sub-additive)",
        fontsize=10,
        y=1 - 0.05 / height,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.62 / height))
    fig.savefig(path, dpi=dpi, format="png")
    plt.close(fig)


def save_polyrisk(result, path, figure: bool = True, dpi: int = 110) -> Path:
    """Write a decomposition's folder: ``polyrisk.csv`` and ``polyrisk.json``
    (:meth:`hssim.polyrisk.PolyRiskResult.save`) plus ``polyrisk.png`` when ``figure``.

    Returns
    -------
    Path  the folder
    """
    extras = {"polyrisk.png": lambda p: polyrisk_figure(result, p, dpi=dpi)} if figure else {}
    return result.save(path, extras=extras)
