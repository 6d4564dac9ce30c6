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

__all__ = ["CHARTS", "COLOURS", "time_figure", "district_figure"]

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
