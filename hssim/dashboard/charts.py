"""The dashboard's charts: matplotlib figures of a :class:`~hssim.dashboard.session.Pair`.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so a
play thread and the page can draw at the same time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .session import ARM_LABELS, ARMS
from ..mpl_text import literal_text

__all__ = ["CHARTS", "COLOURS", "district_figure", "money_figure", "time_figure", "trigger_figure"]

COLOURS = {"prevention": "#1b7837", "late": "#b2182b"}

#: chart key -> (reporter column, title, y label, multiplier)
CHARTS: dict[str, tuple[str, str, str, float]] = {
    "ipc3plus": ("ipc3plus_frac", "People in IPC3+ (crisis or worse)", "% of people", 100.0),
    "deaths": ("deaths_cumulative", "Deaths since the start", "deaths (simulated people)", 1.0),
    "displaced": ("displaced_households", "Displaced households", "households (simulated)", 1.0),
    "costs": ("cost_usd_cumulative", "Money spent on the response", "million USD (real)", 1e-6),
}


@literal_text
def time_figure(frame: pd.DataFrame, chart: str, months: int, drought_months=()) -> Figure:
    """One indicator over the horizon, both arms.

    Parameters
    ----------
    frame : DataFrame  :meth:`Pair.frame` (columns ``arm, month`` and the reporters)
    chart : str  key of :data:`CHARTS`
    months : int  horizon (x axis range)
    drought_months : iterable of (first, last)  forced rain failures, shaded
    """
    col, title, ylabel, mult = CHARTS[chart]
    # fixed margins, not constrained layout: that would double the drawing time
    fig = Figure(figsize=(5.2, 2.9), dpi=90)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.9, bottom=0.16)
    ax = fig.subplots()
    for a, b in drought_months:
        ax.axvspan(a - 0.5, b + 0.5, color="#d8b365", alpha=0.25, lw=0)
    for arm in reversed(ARMS):  # prevention drawn last: on top where the two agree
        f = frame[frame["arm"] == arm] if len(frame) else frame
        x = f["month"].to_numpy() if len(f) else np.zeros(0)
        y = f[col].to_numpy() * mult if len(f) else np.zeros(0)
        ax.plot(x, y, color=COLOURS[arm], lw=2 if arm == "prevention" else 2.6, label=ARM_LABELS[arm])
    ax.set_xlim(0, months)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if chart == "ipc3plus":
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], fontsize=7, loc="upper left", frameon=False)
    return fig


@literal_text
def district_figure(districts: pd.DataFrame, month: int) -> Figure:
    """IPC3+ share by district in the latest month, both arms side by side."""
    fig = Figure(figsize=(10.6, 3.1), dpi=90)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.9, bottom=0.33)
    ax = fig.subplots()
    if len(districts):
        names = list(dict.fromkeys(districts["district"]))
        x = np.arange(len(names))
        width = 0.4
        for k, arm in enumerate(ARMS):
            f = districts[districts["arm"] == arm].set_index("district").reindex(names)
            ax.bar(x + (k - 0.5) * width, f["ipc3plus_frac"].to_numpy() * 100, width, color=COLOURS[arm], label=ARM_LABELS[arm])
        ax.set_xticks(x, names, rotation=25, ha="right", fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"IPC3+ by district, month {month}", fontsize=10, loc="left")
    ax.set_ylabel("% of people", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


#: money lines: column -> (label, line style); each arm in its colour
MONEY_LINES: dict[str, tuple[str, str]] = {
    "spent_usd": ("spent (cumulative)", "-"),
    "held_usd": ("budget held, unspent", "--"),
    "reserve_available_usd": ("reserve not yet released", ":"),
    "appeal_received_usd": ("appeal money received (cumulative)", "-."),
}


@literal_text
def money_figure(money: pd.DataFrame, months: int) -> Figure:
    """Both arms' money over the horizon (:meth:`Pair.money`), million USD: spent, the
    budget held unspent (stranded in sector accounts when siloed), the contingency reserve
    not yet released and the appeal money received. Lines that stay at zero are left out."""
    fig = Figure(figsize=(5.2, 2.9), dpi=90)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.9, bottom=0.16)
    ax = fig.subplots()
    for arm in reversed(ARMS):
        f = money[money["arm"] == arm] if len(money) else money
        for col, (label, style) in MONEY_LINES.items():
            if len(f) and np.any(f[col].to_numpy() != 0.0):
                ax.plot(f["month"].to_numpy(), f[col].to_numpy() * 1e-6, style, color=COLOURS[arm], lw=1.8,
                        label=f"{'prevention' if arm == 'prevention' else 'late'}: {label}")
    ax.set_xlim(0, months)
    ax.set_title("Money: spent, held, reserve, appeals", fontsize=10, loc="left")
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel("million USD (real)", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=6, loc="upper left", frameon=False)
    return fig


@literal_text
def trigger_figure(triggers: pd.DataFrame, months: int, n_districts: int, drought_months=()) -> Figure:
    """The triggers' state (:meth:`Pair.triggers`): districts at readiness and under the
    drought trigger's activation in the prevention arm, and under the observed
    food-insecurity alert in the late arm, month by month."""
    fig = Figure(figsize=(5.2, 2.9), dpi=90)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.9, bottom=0.16)
    ax = fig.subplots()
    for a, b in drought_months:
        ax.axvspan(a - 0.5, b + 0.5, color="#d8b365", alpha=0.25, lw=0)
    lines = (("prevention", "ready_drought", "prevention: readiness", ":"),
             ("prevention", "alert_drought", "prevention: forecast trigger active", "-"),
             ("late", "alert_food", "late: observed food-insecurity alert", "-"))
    for arm, col, label, style in lines:
        f = triggers[triggers["arm"] == arm] if len(triggers) else triggers
        x = f["month"].to_numpy() if len(f) else np.zeros(0)
        y = f[col].to_numpy() if len(f) else np.zeros(0)
        ax.step(x, y, style, where="mid", color=COLOURS[arm], lw=2, label=label)
    ax.set_xlim(0, months)
    ax.set_ylim(-0.3, max(n_districts, 1) + 0.3)
    ax.set_title("Triggers: districts on each signal", fontsize=10, loc="left")
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(f"districts (of {n_districts})", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper left", frameon=False)
    return fig
