"""Figures of a sensitivity sweep, from the tables of :mod:`hssim.sweep.analysis`.

Every function builds and returns a :class:`matplotlib.figure.Figure` (no pyplot, so no
global figure state and no GUI backend; :func:`hssim.sweep.analysis.save_analysis`
renders it to PNG with Agg). One panel per output in a grid of at most
:data:`MAX_COLUMNS` columns; an output without the figure's indices (skipped, see
``notes.txt``) keeps its panel with a short explanation, so panels line up across
figures.

- :func:`sobol_figure`: ``S1`` and ``ST`` per parameter with their intervals (sobol, fast).
- :func:`morris_figure`: ``mu_star`` against ``sigma`` per parameter, ``mu_star``
  interval as horizontal error bar.
- :func:`indices_figure`: ``delta`` and ``S1`` (and ``S1_delta``) per parameter (latin,
  monte_carlo).
- :func:`distributions_figure`: histogram per output with mean and zero line; the
  share below zero of a paired difference ``diff:...``.
- :func:`conditions_figure`: mean output per quantile bin of each parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..mpl_text import literal_text

__all__ = ["conditions_figure", "distributions_figure", "indices_figure", "morris_figure", "sobol_figure"]

MAX_COLUMNS = 3
_TITLE_WIDTH = 42  # characters per title line of a panel
_LINESTYLES = ("-", "--", ":", "-.")


@literal_text
def sobol_figure(indices: pd.DataFrame, outputs: Sequence[str], *, title: str = "Sobol' indices") -> Figure:
    """First-order and total indices per parameter, one panel per output.

    Parameters
    ----------
    indices : DataFrame
        Tidy indices of :class:`~hssim.sweep.analysis.SweepAnalysis`; rows ``S1`` and
        ``ST`` are drawn.
    outputs : sequence of str
        Panel order.
    title : str
        Figure title.
    """
    return _bar_figure(
        indices,
        outputs,
        ("S1", "ST"),
        title=title,
        xlabel="share of output variance",
        labels={"S1": "S1 (first order)", "ST": "ST (total)"},
    )


@literal_text
def indices_figure(indices: pd.DataFrame, outputs: Sequence[str], *, method: str = "monte_carlo") -> Figure:
    """Given-data indices per parameter (``delta``, ``S1``, ``S1_delta``), one panel per output.

    Parameters
    ----------
    indices : DataFrame
        Tidy indices; rows ``delta``, ``S1`` and ``S1_delta`` are drawn where present.
    outputs : sequence of str
        Panel order.
    method : str
        ``latin`` or ``monte_carlo`` (title and legend).
    """
    s1_label = "S1 (RBD-FAST)" if method == "latin" else "S1 (given data)"
    return _bar_figure(
        indices,
        outputs,
        ("delta", "S1", "S1_delta"),
        title=f"Sensitivity indices ({method.replace('_', ' ')} sample)",
        xlabel="index value",
        labels={"delta": "delta (moment-independent)", "S1": s1_label, "S1_delta": "S1 (given data)"},
    )


@literal_text
def morris_figure(indices: pd.DataFrame, outputs: Sequence[str]) -> Figure:
    """Morris screening: ``mu_star`` against ``sigma`` per parameter, one panel per output.

    Points far right matter; points high above the line ``sigma = mu_star`` act
    non-linearly or through interactions.

    Parameters
    ----------
    indices : DataFrame
        Tidy indices; rows ``mu_star`` (with ``conf``) and ``sigma`` are drawn.
    outputs : sequence of str
        Panel order.
    """
    fig, axes = _panel_grid(len(outputs), panel_w=4.6, panel_h=3.6, title="Morris screening (elementary effects)")
    for ax, output in zip(axes, outputs):
        sub = indices[indices["output"] == output]
        mu_star = sub[sub["index"] == "mu_star"].set_index("parameter")
        sigma = sub[sub["index"] == "sigma"].set_index("parameter")["value"]
        params = [p for p in mu_star.index if p in sigma.index]
        _set_title(ax, output)
        if not params:
            _no_data(ax, "no indices (see notes.txt)")
            continue
        x = mu_star.loc[params, "value"].to_numpy(float)
        xerr = np.nan_to_num(mu_star.loc[params, "conf"].to_numpy(float))
        y = sigma.loc[params].to_numpy(float)
        ax.errorbar(x, y, xerr=xerr, fmt="o", ms=4, color="C0", ecolor="0.6", elinewidth=1, capsize=2)
        for p, xi, yi in zip(params, x, y):
            if np.isfinite(xi) and np.isfinite(yi):
                ax.annotate(p, (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=7)
        top = float(np.nanmax(np.r_[x + xerr, y, 0.0]))
        top = top * 1.1 if top > 0 else 1.0
        ax.plot([0, top], [0, top], color="0.75", lw=0.8, ls="--", label="sigma = mu*")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mu* (mean |elementary effect|)")
        ax.set_ylabel("sigma (sd of elementary effects)")
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    return fig


@literal_text
def distributions_figure(Y: pd.DataFrame, distributions: pd.DataFrame) -> Figure:
    """Histogram of every output over the sweep, with its mean and the zero line.

    Parameters
    ----------
    Y : DataFrame, n_samples rows
        The outputs; non-finite values are left out.
    distributions : DataFrame
        ``distributions`` of :class:`~hssim.sweep.analysis.SweepAnalysis` (mean, shares).
    """
    outputs = [str(c) for c in Y.columns]
    stats = distributions.set_index("output")
    fig, axes = _panel_grid(len(outputs), panel_w=4.4, panel_h=3.0, title="Output distributions over the sweep")
    for ax, column, output in zip(axes, Y.columns, outputs):
        y = Y[column].to_numpy(dtype=np.float64, na_value=np.nan)
        y = y[np.isfinite(y)]
        _set_title(ax, output)
        if not y.size:
            _no_data(ax, "no finite values")
            continue
        ax.hist(y, bins=int(np.clip(np.sqrt(y.size), 10, 40)), color="C0", alpha=0.75)
        mean = float(y.mean())
        ax.axvline(mean, color="C1", lw=1.5, label=f"mean {mean:.3g}")
        is_diff = output.startswith("diff:")
        # zero is the reference of a paired difference; for other outputs the line is
        # drawn only where it does not stretch the axis
        if is_diff or y.min() <= 0.0 <= y.max():
            ax.axvline(0.0, color="k", lw=0.8, ls=":")
        if is_diff and output in stats.index:
            share = float(stats.loc[output, "share_negative"])
            ax.text(
                0.02,
                0.97,
                f"below 0: {share:.0%}",
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.7"},
            )
        missing = int(stats.loc[output, "n_missing"]) if output in stats.index else 0
        ax.set_xlabel("value" + (f" ({missing} missing left out)" if missing else ""))
        ax.set_ylabel("samples")
        ax.legend(fontsize=7, loc="upper right", frameon=False)
    return fig


@literal_text
def conditions_figure(conditions: pd.DataFrame, outputs: Sequence[str], parameters: Sequence[str]) -> Figure:
    """Mean output per quantile bin of each parameter ("when does it pay").

    One line per parameter; x is the bin (low to high sampled values), so parameters
    with different units share an axis. A flat line: the output does not depend on the
    parameter on average.

    Parameters
    ----------
    conditions : DataFrame
        ``conditions`` of :class:`~hssim.sweep.analysis.SweepAnalysis`.
    outputs : sequence of str
        Panel order.
    parameters : sequence of str
        Line order (legend).
    """
    n_bins = int(conditions["bin"].max()) + 1 if len(conditions) else 1
    fig, axes = _panel_grid(
        len(outputs), panel_w=4.4, panel_h=3.2, title="Mean output by parameter range (quantile bins)"
    )
    handles = {}
    for ax, output in zip(axes, outputs):
        sub = conditions[conditions["output"] == output]
        _set_title(ax, output)
        if not len(sub) or not np.isfinite(sub["mean"].to_numpy(float)).any():
            _no_data(ax, "no finite values")
            continue
        for k, p in enumerate(parameters):
            rows = sub[sub["parameter"] == p].sort_values("bin")
            if not len(rows):
                continue
            (line,) = ax.plot(
                rows["bin"].to_numpy(int),
                rows["mean"].to_numpy(float),
                marker="o",
                ms=3,
                lw=1.2,
                color=f"C{k % 10}",
                ls=_LINESTYLES[(k // 10) % len(_LINESTYLES)],
                label=p,
            )
            handles.setdefault(p, line)
        if output.startswith("diff:"):
            ax.axhline(0.0, color="k", lw=0.8, ls=":")
        ax.set_xticks(range(n_bins), _bin_labels(n_bins))
        ax.set_xlim(-0.25, n_bins - 0.75)
        ax.set_xlabel("parameter's sampled range")
        ax.set_ylabel("mean output")
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="outside lower center",
            fontsize=8,
            frameon=False,
            ncols=min(len(handles), 4),
            title="parameter",
            title_fontsize=8,
        )
    return fig


# ----------------------------------------------------------------------- helpers


def _bar_figure(
    indices: pd.DataFrame,
    outputs: Sequence[str],
    index_names: Sequence[str],
    *,
    title: str,
    xlabel: str,
    labels: dict[str, str],
) -> Figure:
    """Horizontal bars of ``index_names`` per parameter with ``conf`` error bars, one panel per output."""
    drawn = indices[indices["index"].isin(index_names)]
    present = [i for i in index_names if (drawn["index"] == i).any()] or list(index_names[:1])
    params = list(pd.unique(drawn["parameter"]))
    n_par = max(len(params), 1)
    # long parameter names sit on the y axis, where they stay readable
    fig, axes = _panel_grid(len(outputs), panel_w=4.8, panel_h=1.3 + 0.22 * n_par * len(present), title=title)
    height = 0.8 / len(present)
    handles: dict = {}
    for ax, output in zip(axes, outputs):
        sub = drawn[drawn["output"] == output]
        _set_title(ax, output)
        if not len(sub):
            _no_data(ax, "no indices (see notes.txt)")
            continue
        pos = np.arange(len(params), dtype=float)
        for k, name in enumerate(present):
            rows = sub[sub["index"] == name].set_index("parameter").reindex(params)
            value = rows["value"].to_numpy(float)
            conf = np.nan_to_num(rows["conf"].to_numpy(float))
            offset = (k - (len(present) - 1) / 2) * height
            bars = ax.barh(
                pos + offset,
                np.nan_to_num(value),
                height=height * 0.95,
                xerr=conf,
                color=f"C{k}",
                error_kw={"ecolor": "0.3", "elinewidth": 0.8, "capsize": 2},
            )
            handles.setdefault(name, bars)  # one legend for all panels, below them
        ax.axvline(0.0, color="k", lw=0.6)
        # indices live in [0, 1]; with few points an interval can be far wider, and an
        # axis scaled to it would hide every bar: clip the view, and say so
        lo, hi = ax.get_xlim()
        if lo < -0.5 or hi > 1.5:
            ax.set_xlim(max(lo, -0.5), min(hi, 1.5))
            ax.text(0.99, 0.01, "intervals clipped", transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7, color="0.4")
        ax.set_yticks(pos, params, fontsize=8)
        ax.invert_yaxis()  # first parameter on top, as in the tables
        ax.set_xlabel(xlabel)
    if handles:
        fig.legend(
            list(handles.values()),
            [labels.get(n, n) for n in handles],
            loc="outside lower center",
            fontsize=8,
            frameon=False,
            ncols=len(handles),
        )
    return fig


def _panel_grid(n_panels: int, *, panel_w: float, panel_h: float, title: str) -> tuple[Figure, list[Axes]]:
    """A figure with ``n_panels`` axes in a grid of at most :data:`MAX_COLUMNS` columns."""
    n = max(int(n_panels), 1)
    ncols = min(MAX_COLUMNS, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel_w * ncols, panel_h * nrows + 0.8), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in grid[n_panels:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=12)
    if n_panels == 0:
        grid[0].set_visible(True)
        _no_data(grid[0], "no outputs")
    return fig, list(grid[:n_panels])


def _set_title(ax: Axes, text: str) -> None:
    ax.set_title(_wrap(text, _TITLE_WIDTH), fontsize=9)


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.4")
    ax.set_axis_off()


def _wrap(text: str, width: int) -> str:
    """Wrap a long output name at ``:``, ``-``, ``_``, ``/`` or spaces, keeping every character."""
    pieces = [p for p in re.split(r"(?<=[:\-_/ ])", text) if p]
    lines, line = [], ""
    for piece in pieces:
        while len(piece) > width:  # a single unbreakable run: hard split
            if line:
                lines.append(line)
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece) > width and line:
            lines.append(line)
            line = ""
        line += piece
    if line:
        lines.append(line)
    return "\n".join(lines)


def _bin_labels(n_bins: int) -> list[str]:
    if n_bins == 3:
        return ["low third", "middle third", "high third"]
    if n_bins == 1:
        return ["all"]
    return [f"bin {b + 1}" for b in range(n_bins)]
