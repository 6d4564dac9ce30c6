"""A sensitivity analysis on disk: its tables, notes and figures
(:class:`hssim.sweep.analysis.SweepAnalysis` in, files out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..results import atomic_write
from ..sweep.analysis import METHODS, SweepAnalysis

__all__ = ["save_analysis"]


def save_analysis(
    result: SweepAnalysis, problem: dict, X: np.ndarray, Y: pd.DataFrame, out_dir, *, method: str, dpi: int = 110
) -> list[Path]:
    """Write the tables, the notes and the figures of an analysis into ``out_dir``.

    Files: ``indices.csv``, ``second_order.csv`` (if any rows), ``distributions.csv``,
    ``conditions.csv``, ``notes.txt`` (one note a line; empty when none) and the
    figures. Every file is written to a temporary name in the same folder, then
    ``os.replace``'d (:func:`hssim.results.atomic_write`): never half-written.

    Figures (PNG, see :mod:`hssim.report.sweep_figures`): ``sobol_indices.png`` (sobol, fast),
    ``morris.png`` (morris), ``indices.png`` (latin, monte_carlo), and always
    ``distributions.png`` and ``conditions.png``.

    Parameters
    ----------
    result : SweepAnalysis
        From :func:`analyse` on the same ``problem, X, Y``.
    problem : dict
        SALib problem (parameter order of the figures).
    X : float64[n_samples, num_vars]
        The sample (checked against ``Y``).
    Y : DataFrame, n_samples rows
        The outputs (histograms of ``distributions.png``).
    out_dir : str or Path
        Folder, created when missing. Files of an earlier analysis that this one does
        not write (a figure of another method) are left in place.
    method : str
        One of :data:`METHODS`; picks the index figure.
    dpi : int
        Resolution of the figures.

    Returns
    -------
    list of Path
        The files written, in the order written.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    if len(Y) != np.asarray(X).shape[0]:
        raise ValueError(f"Y has {len(Y)} rows but X has {np.asarray(X).shape[0]} samples")
    from . import sweep_figures as figures  # matplotlib only when figures are drawn

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, write) -> None:
        # atomic_write: temporary name in ``out``, then os.replace (never half-written)
        path = out / name
        atomic_write(path, write)
        written.append(path)

    def table(frame: pd.DataFrame):
        return lambda p: frame.to_csv(p, index=False)

    put("indices.csv", table(result.indices))
    if len(result.second_order):
        put("second_order.csv", table(result.second_order))
    put("distributions.csv", table(result.distributions))
    put("conditions.csv", table(result.conditions))
    put("notes.txt", lambda p: p.write_text("".join(f"{note}\n" for note in result.notes), encoding="utf-8"))

    outputs = [str(c) for c in Y.columns]
    names = [str(n) for n in problem["names"]]
    if method in ("sobol", "fast"):
        title = "Sobol' indices" if method == "sobol" else "eFAST indices"
        drawn = [("sobol_indices.png", figures.sobol_figure(result.indices, outputs, title=title))]
    elif method == "morris":
        drawn = [("morris.png", figures.morris_figure(result.indices, outputs))]
    else:
        drawn = [("indices.png", figures.indices_figure(result.indices, outputs, method=method))]
    drawn.append(("distributions.png", figures.distributions_figure(Y, result.distributions)))
    drawn.append(("conditions.png", figures.conditions_figure(result.conditions, outputs, names)))
    for name, fig in drawn:
        # format given explicitly: the temporary name does not end in .png
        put(name, lambda p, fig=fig: fig.savefig(p, format="png", dpi=dpi))
    return written
