"""Analysis of a sensitivity sweep: indices, output distributions and conditions.

The sweep pipeline (experiment schema, sampling, chunked evaluation, result store) hands
this module the SALib ``problem``, the sample ``X`` exactly as SALib produced it and the
outputs ``Y`` (one column per output, rows in the order of ``X``). :func:`analyse` turns
them into four tidy tables (:class:`SweepAnalysis`);
:func:`hssim.report.sweep_report.save_analysis` writes the tables, the notes and the
figures (:mod:`hssim.report.sweep_figures`).

Indices (column ``index`` of :attr:`SweepAnalysis.indices`), by ``method``:

=============  ==========================================================================
sobol          ``S1``, ``ST`` (SALib ``analyze.sobol``); ``S2`` into ``second_order``
               with ``second_order=True``
morris         ``mu``, ``mu_star``, ``sigma`` (SALib ``analyze.morris``, unscaled
               elementary effects ``EE_i = dY / Delta`` with ``Delta`` the step in the
               unit hypercube, so a linear ``Y = c x_i`` on ``[lo, hi]`` has
               ``EE_i = c (hi - lo)``); only ``mu_star`` has a ``conf``
fast           ``S1``, ``ST`` (SALib ``analyze.fast``, eFAST with ``M = fast_m``)
latin          ``S1`` (SALib ``analyze.rbd_fast``, RBD-FAST), ``delta`` and ``S1_delta``
               (SALib ``analyze.delta``: Borgonovo's moment-independent delta and the
               given-data binned estimate of the first-order Sobol' index, kept apart
               from the RBD-FAST ``S1`` so the two estimators can be compared)
monte_carlo    ``delta``, ``S1`` (both from SALib ``analyze.delta``, as for latin)
every method   ``spearman``: Spearman rank correlation of the parameter with the output,
               the only signed index (Sobol' indices and delta have no sign)
=============  ==========================================================================

``delta`` is SALib's ``delta_raw`` (the bootstrap resamples the sample as drawn): the
sweep sample represents the input distribution by construction, which is what
Borgonovo's delta is defined against; SALib's ``balanced`` variant re-weights the bins of
biased observational data and would over-weight the tails of a non-uniform ``dists``.
(SALib < 1.6 returns a single ``delta``; it is used as is.)

Confidence intervals: ``conf`` is the half-width SALib reports at ``conf_level`` and
``conf_low, conf_high = value -/+ conf``. For ``spearman`` the interval is Fisher's
``z = artanh(rho) -/+ z_(1+conf_level)/2 * sqrt(1.06 / (n - 3))`` (Fieller, Hartley and
Pearson 1957) transformed back with ``tanh``; it is asymmetric and ``conf`` is its
half-width ``(conf_high - conf_low) / 2``. ``conf`` is NaN where no interval exists
(``mu``, ``sigma``, a Spearman correlation from <= 3 samples).

Missing outputs: non-finite values (NaN, +-inf: a failed or diverged run) are missing.
``sobol``, ``morris`` and ``fast`` need every point of their structured design, so an
output with a missing value gets no indices of the method (a note says so); ``latin``,
``monte_carlo`` and ``spearman`` work on any given data and drop the missing rows. An
output with fewer than two finite values or zero variance gets no indices (note), but
always its row in ``distributions`` and ``conditions``.

Parameter groups (``problem["groups"]``): ``sobol`` and ``morris`` report one row per
group, named after the group; every other index and ``conditions`` report one row per
parameter.

Cost: SALib's delta estimator fits a kernel density per bin and bootstrap resample and
computes three variants; it uses at most :data:`_DELTA_MAX_RESAMPLES` bootstrap
resamples whatever ``num_resamples`` is (a note says so). It runs about ten times
faster with single-threaded BLAS (``OPENBLAS_NUM_THREADS=1``); with ``threadpoolctl``
installed the analysis limits BLAS to one thread itself.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METHODS", "SweepAnalysis", "analyse"]

METHODS = ("sobol", "morris", "fast", "latin", "monte_carlo")

# SALib's delta estimator refits kernel densities for every bootstrap resample (three
# variants at once): ~0.03 s per resample per parameter and output at 1000 samples, so
# 1000 resamples for 10 parameters x 20 outputs would take hours. 100 is SALib's own
# default and enough for a stable 95 % interval.
_DELTA_MAX_RESAMPLES = 100
# Notes of SALib's delta that concern its variants not reported here: "raw" differing
# from "balanced" flags possible bias of observational data (a sweep sample is a
# design), and "step" (x <= 0 against x > 0) cannot run for a positive parameter.
_DELTA_IGNORED_NOTES = ("Raw delta differs from balanced", "Step: too few samples")
# RBD-FAST harmonics (SALib's default); its bias correction needs n_samples > 2 M.
_RBD_FAST_M = 10

INDEX_COLUMNS = ("output", "parameter", "index", "value", "conf", "conf_low", "conf_high")
SECOND_ORDER_COLUMNS = ("output", "parameter_a", "parameter_b", "value", "conf")
DISTRIBUTION_COLUMNS = (
    "output",
    "n",
    "n_missing",
    "mean",
    "sd",
    "q05",
    "q25",
    "median",
    "q75",
    "q95",
    "share_negative",
    "share_positive",
)
CONDITION_COLUMNS = ("output", "parameter", "bin", "lo", "hi", "n", "mean", "sd", "share_negative")


@dataclass(frozen=True)
class SweepAnalysis:
    """Result of :func:`analyse`: four tidy tables and the notes.

    Attributes
    ----------
    indices : DataFrame
        One row per output, parameter (or group) and index: ``output, parameter, index,
        value, conf, conf_low, conf_high`` (see the module docstring for the index names
        per method and the meaning of ``conf``).
    second_order : DataFrame
        ``output, parameter_a, parameter_b, value, conf``: Sobol' ``S2`` of every pair
        ``a < b`` (problem order); empty unless ``method="sobol"`` with
        ``second_order=True``.
    distributions : DataFrame
        One row per output: ``output, n`` (finite values), ``n_missing`` (non-finite),
        ``mean, sd`` (ddof 1), quantiles ``q05, q25, median, q75, q95`` and the shares of
        finite values ``< 0`` (``share_negative``) and ``> 0`` (``share_positive``); for
        a paired difference ``diff:a-b:x`` the share where arm ``a`` has less ``x``.
    conditions : DataFrame
        ``output, parameter, bin, lo, hi, n, mean, sd, share_negative``: the output
        within each of ``n_bins`` quantile bins of each parameter's sampled values
        ("when does it pay"). Bin ``b`` holds ``lo <= x < hi`` (the top bin also
        ``x == hi``); ``lo, hi`` are sample quantiles ``b / n_bins`` and
        ``(b + 1) / n_bins`` of all sampled values, so a value tied with an inner edge
        goes to the upper bin and a discrete parameter can leave a bin empty
        (``n = 0``, NaN statistics). ``n`` counts finite outputs in the bin.
    notes : tuple of str
        Human-readable notes: outputs skipped or trimmed, estimator warnings.
    """

    indices: pd.DataFrame
    second_order: pd.DataFrame
    distributions: pd.DataFrame
    conditions: pd.DataFrame
    notes: tuple[str, ...]


# --------------------------------------------------------------------------- analyse


def analyse(
    problem: dict,
    method: str,
    X: np.ndarray,
    Y: pd.DataFrame,
    *,
    second_order: bool = False,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 0,
    morris_levels: int = 4,
    fast_m: int = 4,
    n_bins: int = 3,
) -> SweepAnalysis:
    """Sensitivity indices, output distributions and conditions of a sweep.

    Parameters
    ----------
    problem : dict
        SALib problem: ``num_vars``, ``names``, ``bounds``, optionally ``dists`` and
        ``groups``. Not modified.
    method : str
        One of :data:`METHODS`: the SALib sampler that produced ``X``.
    X : float64[n_samples, num_vars]
        The sample in SALib's order (structured designs depend on it).
    Y : DataFrame, n_samples rows
        One float column per output, rows in the order of ``X``; paired differences
        (``diff:integrated-siloed:deaths_total``) are treated like any other output.
    second_order : bool
        ``sobol`` only: the sample was drawn with ``calc_second_order=True``; the
        ``S2`` indices go to ``second_order``. Ignored, with a note, for other methods.
    conf_level : float
        Confidence level of the intervals, in (0, 1).
    num_resamples : int
        Bootstrap resamples of the SALib estimators (delta uses at most
        :data:`_DELTA_MAX_RESAMPLES`).
    seed : int
        Seed of the bootstrap resampling (>= 0); the same seed gives the same tables.
        NumPy's global random state, which some SALib estimators draw from, is restored
        afterwards.
    morris_levels : int
        ``num_levels`` the Morris sample was drawn with.
    fast_m : int
        Interference parameter ``M`` the eFAST sample was drawn with.
    n_bins : int
        Quantile bins per parameter in ``conditions``.

    Returns
    -------
    SweepAnalysis

    Raises
    ------
    ValueError
        Unknown method, inconsistent shapes, duplicate names, or a sample whose size or
        row structure does not fit the design of ``sobol``, ``morris`` or ``fast`` (a
        wrong ``second_order`` flag, rows reordered).
    TypeError
        ``Y`` is not a DataFrame.
    """
    names, X, Y = _validate(problem, method, X, Y)
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must lie in (0, 1), got {conf_level}")
    if int(num_resamples) < 2:
        raise ValueError(f"num_resamples must be >= 2, got {num_resamples}")
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    notes: list[str] = []
    if second_order and method != "sobol":
        # lenient: a flag left on in an experiment config must not lose a finished sweep
        notes.append(f"second_order applies to method sobol only; ignored for {method}")
        second_order = False
    _check_design(problem, method, X.shape[0], second_order=second_order, fast_m=fast_m)
    _check_structure(problem, method, X, second_order=second_order)

    # One 32-bit seed for every SALib call (some only accept what np.random.seed does).
    salib_seed = int(np.random.SeedSequence(int(seed)).generate_state(1)[0])
    opts = {
        "conf_level": float(conf_level),
        "num_resamples": int(num_resamples),
        "seed": salib_seed,
        "second_order": bool(second_order),
        "morris_levels": int(morris_levels),
        "fast_m": int(fast_m),
    }
    # Bin edges depend on the sample only, so they are shared by every output.
    edges = [np.quantile(X[:, j], np.linspace(0.0, 1.0, int(n_bins) + 1)) for j in range(X.shape[1])]

    index_rows: list[dict] = []
    s2_rows: list[dict] = []
    dist_rows: list[dict] = []
    cond_rows: list[dict] = []

    for column in Y.columns:
        output = str(column)
        y = Y[column].to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(y)
        n_missing = int((~finite).sum())
        dist_rows.append(_distribution_row(output, y[finite], n_missing))
        cond_rows.extend(_condition_rows(output, names, X[finite], y[finite], edges))

        n_finite = int(finite.sum())
        if n_finite < 2 or float(np.ptp(y[finite])) == 0.0:
            what = "fewer than 2 finite values" if n_finite < 2 else f"constant ({y[finite][0]:.6g})"
            notes.append(f"{output}: {what}; no sensitivity indices")
            continue

        if method in ("sobol", "morris", "fast") and n_missing:
            notes.append(
                f"{output}: {n_missing} of {y.size} values missing; no {method} indices "
                f"(its structured design needs every point); spearman uses the {n_finite} complete rows"
            )
        else:
            if n_missing:
                notes.append(
                    f"{output}: {n_missing} of {y.size} values missing; "
                    f"{method} indices and spearman use the {n_finite} complete rows"
                )
            rows, s2, method_notes = _method_indices(problem, method, X[finite], y[finite], output, opts)
            index_rows.extend(rows)
            s2_rows.extend(s2)
            notes.extend(method_notes)
        index_rows.extend(_spearman_rows(output, names, X[finite], y[finite], float(conf_level)))

    if method in ("latin", "monte_carlo") and num_resamples > _DELTA_MAX_RESAMPLES and index_rows:
        notes.append(f"delta: {_DELTA_MAX_RESAMPLES} bootstrap resamples (of {num_resamples} asked) to bound its cost")
    if method == "fast" and index_rows:
        notes.append("fast: SALib's bootstrap intervals for eFAST are indicative only (SALib issue #649)")

    return SweepAnalysis(
        indices=_frame(index_rows, INDEX_COLUMNS),
        second_order=_frame(s2_rows, SECOND_ORDER_COLUMNS),
        distributions=_frame(dist_rows, DISTRIBUTION_COLUMNS),
        conditions=_frame(cond_rows, CONDITION_COLUMNS),
        notes=tuple(notes),
    )


def _validate(problem: dict, method: str, X: np.ndarray, Y: pd.DataFrame) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    """Check the problem, the sample and the outputs against each other."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    for key in ("num_vars", "names", "bounds"):
        if key not in problem:
            raise ValueError(f"problem lacks {key!r}")
    names = [str(n) for n in problem["names"]]
    num_vars = int(problem["num_vars"])
    if len(names) != num_vars or len(problem["bounds"]) != num_vars:
        raise ValueError(f"problem: num_vars={num_vars} but {len(names)} names and {len(problem['bounds'])} bounds")
    if len(set(names)) != len(names):
        raise ValueError(f"problem: duplicate parameter names in {names}")
    groups = problem.get("groups")
    if groups and len(groups) != num_vars:
        raise ValueError(f"problem: {len(groups)} groups for {num_vars} parameters")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != num_vars:
        raise ValueError(f"X must have shape (n_samples, {num_vars}), got {X.shape}")
    if X.shape[0] < 1:
        raise ValueError("X has no samples")
    if not isinstance(Y, pd.DataFrame):
        raise TypeError(f"Y must be a pandas DataFrame, got {type(Y).__name__}")
    if not Y.columns.is_unique:
        raise ValueError(f"Y has duplicate output columns: {sorted(map(str, Y.columns[Y.columns.duplicated()]))}")
    if len(Y) != X.shape[0]:
        raise ValueError(f"Y has {len(Y)} rows but X has {X.shape[0]} samples")
    if not np.isfinite(X).all():
        raise ValueError("X holds non-finite values")
    return names, X, Y


def _group_names(problem: dict) -> list[str]:
    """Parameter groups in first-appearance order (the parameters when no groups)."""
    groups = problem.get("groups") or problem["names"]
    return [str(g) for g in dict.fromkeys(groups)]


def _check_design(problem: dict, method: str, n_samples: int, *, second_order: bool, fast_m: int) -> None:
    """Raise when ``n_samples`` cannot be the structured design SALib's analyser expects."""
    d = len(problem["names"])
    if method == "sobol":
        n_groups = len(_group_names(problem))
        step = 2 * n_groups + 2 if second_order else n_groups + 2
        if n_samples % step:
            raise ValueError(
                f"sobol: {n_samples} samples is not a multiple of {step} "
                f"(N * ({'2 D + 2' if second_order else 'D + 2'}), D = {n_groups}); "
                f"was the sample drawn with calc_second_order={second_order}?"
            )
    elif method == "morris":
        n_groups = len(_group_names(problem))
        if n_samples % (n_groups + 1):
            raise ValueError(f"morris: {n_samples} samples is not a multiple of the trajectory size {n_groups + 1}")
    elif method == "fast":
        if problem.get("groups") and len(_group_names(problem)) != d:
            raise ValueError("fast: SALib's eFAST does not support parameter groups")
        if n_samples % d:
            raise ValueError(f"fast: {n_samples} samples is not a multiple of num_vars = {d}")
        if n_samples // d <= 4 * fast_m**2:
            raise ValueError(f"fast: N = {n_samples // d} samples per parameter must exceed 4 M^2 = {4 * fast_m**2}")


def _group_matrix(problem: dict) -> np.ndarray:
    """bool[num_vars, n_groups]: parameter j belongs to group g."""
    groups = [str(g) for g in (problem.get("groups") or problem["names"])]
    unique = _group_names(problem)
    return np.array([[g == u for u in unique] for g in groups], dtype=bool)


def _check_structure(problem: dict, method: str, X: np.ndarray, *, second_order: bool) -> None:
    """Raise when ``X`` lacks the row structure of SALib's sobol or morris design.

    A size check alone cannot tell a first-order Sobol' sample from a second-order one
    (``N (D + 2)`` and ``N (2 D + 2)`` share many multiples), nor notice rows reordered
    on the way through chunked evaluation; either would give wrong indices silently.
    Sobol': in every block of ``step`` rows, ``A`` is the first row and ``B`` the last,
    and ``AB_1`` (second row) takes each column from ``A`` or ``B``. Morris: consecutive
    points of a trajectory differ in the parameters of exactly one group. Both hold
    exactly for SALib's samples, also after a per-column transform to ``dists``.
    """
    if method == "sobol":
        n_groups = len(_group_names(problem))
        step = 2 * n_groups + 2 if second_order else n_groups + 2
        A, AB1, B = X[0::step], X[1::step], X[step - 1 :: step]
        if not np.all((AB1 == A) | (AB1 == B)):
            raise ValueError(
                f"sobol: X does not have the row structure of a SALib sobol sample with "
                f"calc_second_order={second_order} (blocks of {step} rows: A, AB_1..AB_D, "
                f"{'BA_1..BA_D, ' if second_order else ''}B); wrong second_order flag, or rows reordered?"
            )
    elif method == "morris":
        member = _group_matrix(problem)
        size = member.shape[1] + 1
        traj = X.reshape(-1, size, X.shape[1])
        changed = traj[:, 1:, :] != traj[:, :-1, :]  # [trajectory, step, parameter]
        groups_changed = (changed.astype(np.int64) @ member.astype(np.int64) > 0).sum(axis=2)
        if not np.all(groups_changed == 1):
            raise ValueError(
                f"morris: X does not have the structure of a SALib morris sample (trajectories of {size} "
                "points, each step moving one parameter group); rows reordered?"
            )


# ----------------------------------------------------------------- method indices


def _method_indices(
    problem: dict, method: str, X: np.ndarray, y: np.ndarray, output: str, opts: dict[str, Any]
) -> tuple[list[dict], list[dict], list[str]]:
    """Indices of one output by the SALib analyser(s) of ``method``.

    ``X, y`` are the complete rows (all rows for the structured designs). Returns index
    rows, second-order rows and notes; an estimator that fails on this output (too few
    samples for its bins, a singular density) leaves a note instead of the rows.
    """
    rows: list[dict] = []
    s2: list[dict] = []
    notes: list[str] = []
    analysers = {
        "sobol": [("sobol", _sobol)],
        "morris": [("morris", _morris)],
        "fast": [("fast", _fast)],
        "latin": [("rbd_fast", _rbd_fast), ("delta", _delta)],
        "monte_carlo": [("delta", _delta)],
    }[method]
    for label, fn in analysers:
        with _salib_context(opts["seed"]) as caught:
            try:
                out = fn(problem, X, y, output, opts, method)
            except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError) as exc:
                notes.append(f"{output}: {label} failed ({type(exc).__name__}: {exc}); no {label} indices")
                continue
        r, s, n = out
        rows.extend(r)
        s2.extend(s)
        notes.extend(n)
        for message in dict.fromkeys(str(w.message) for w in caught):
            if "FAST confidence intervals" in message:
                continue  # replaced by one note for the whole analysis
            notes.append(f"{output}: {label}: {message.strip()}")
    return rows, s2, notes


@contextlib.contextmanager
def _salib_context(seed: int) -> Iterator[list[warnings.WarningMessage]]:
    """Run SALib deterministically and without lasting side effects.

    Some SALib estimators draw from NumPy's global random state (``fast``, ``delta``,
    and ``sobol`` when its seed is falsy); it is seeded here and restored afterwards.
    SALib's ``delta`` also replaces ``warnings.formatwarning`` and adds a warnings
    filter; both are restored. Warnings are recorded and yielded, not printed. BLAS is
    limited to one thread when ``threadpoolctl`` is available: the estimators make
    many tiny linear-algebra calls that threads only slow down.
    """
    state = np.random.get_state()
    formatwarning = warnings.formatwarning
    try:
        from threadpoolctl import threadpool_limits  # optional; not a dependency

        blas_limit: contextlib.AbstractContextManager = threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        blas_limit = contextlib.nullcontext()
    try:
        with warnings.catch_warnings(record=True) as caught, blas_limit:
            warnings.simplefilter("always")
            np.random.seed(seed)
            yield caught
    finally:
        warnings.formatwarning = formatwarning
        np.random.set_state(state)


def _index_rows(output: str, parameters: list[str], index: str, values, conf=None) -> list[dict]:
    """Tidy rows ``value -/+ conf`` for one index over all parameters."""
    values = np.asarray(values, dtype=np.float64)
    conf = np.full(values.shape, np.nan) if conf is None else np.asarray(conf, dtype=np.float64)
    return [
        {"output": output, "parameter": p, "index": index, "value": v, "conf": c, "conf_low": v - c, "conf_high": v + c}
        for p, v, c in zip(parameters, values, conf)
    ]


def _sobol(problem, X, y, output, opts, method):
    from SALib.analyze import sobol

    groups = _group_names(problem)
    Si = sobol.analyze(
        dict(problem),
        y,
        calc_second_order=opts["second_order"],
        num_resamples=opts["num_resamples"],
        conf_level=opts["conf_level"],
        seed=opts["seed"],
    )
    rows = _index_rows(output, groups, "S1", Si["S1"], Si["S1_conf"])
    rows += _index_rows(output, groups, "ST", Si["ST"], Si["ST_conf"])
    s2 = []
    if opts["second_order"]:
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                s2.append(
                    {
                        "output": output,
                        "parameter_a": groups[a],
                        "parameter_b": groups[b],
                        "value": float(Si["S2"][a, b]),
                        "conf": float(Si["S2_conf"][a, b]),
                    }
                )
    return rows, s2, []


def _morris(problem, X, y, output, opts, method):
    from SALib.analyze import morris

    Si = morris.analyze(
        dict(problem),
        X,
        y,
        num_resamples=opts["num_resamples"],
        conf_level=opts["conf_level"],
        num_levels=opts["morris_levels"],
        seed=opts["seed"],
    )
    groups = [str(g) for g in Si["names"]]
    rows = _index_rows(output, groups, "mu", Si["mu"])
    rows += _index_rows(output, groups, "mu_star", Si["mu_star"], Si["mu_star_conf"])
    rows += _index_rows(output, groups, "sigma", Si["sigma"])
    return rows, [], []


def _fast(problem, X, y, output, opts, method):
    from SALib.analyze import fast

    Si = fast.analyze(
        dict(problem),
        y,
        M=opts["fast_m"],
        num_resamples=opts["num_resamples"],
        conf_level=opts["conf_level"],
        seed=opts["seed"],
    )
    names = [str(n) for n in problem["names"]]
    rows = _index_rows(output, names, "S1", Si["S1"], Si.get("S1_conf"))
    rows += _index_rows(output, names, "ST", Si["ST"], Si.get("ST_conf"))
    return rows, [], []


def _rbd_fast(problem, X, y, output, opts, method):
    from SALib.analyze import rbd_fast

    if y.size <= 2 * _RBD_FAST_M:
        raise ValueError(f"{y.size} samples; RBD-FAST needs more than 2 M = {2 * _RBD_FAST_M}")
    Si = rbd_fast.analyze(
        _plain_problem(problem),
        X,
        y,
        M=_RBD_FAST_M,
        num_resamples=opts["num_resamples"],
        conf_level=opts["conf_level"],
        seed=opts["seed"],
    )
    return _index_rows(output, [str(n) for n in problem["names"]], "S1", Si["S1"], Si["S1_conf"]), [], []


def _delta(problem, X, y, output, opts, method):
    from SALib.analyze import delta

    names = [str(n) for n in problem["names"]]
    # SALib's delta rejects parameter names ending in _raw, _balanced, _step or _conf;
    # neutral names avoid that, the real names are put back below.
    neutral = {**_plain_problem(problem), "names": [f"x{j}" for j in range(len(names))]}

    def real_names(text: str) -> str:
        return re.sub(r"\[x(\d+)\]", lambda m: f"[{names[int(m.group(1))]}]", text)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            Si = delta.analyze(
                neutral,
                X,
                y,
                num_resamples=min(opts["num_resamples"], _DELTA_MAX_RESAMPLES),
                conf_level=opts["conf_level"],
                seed=opts["seed"],
            )
        except ValueError as exc:
            raise ValueError(real_names(str(exc))) from exc
    key = "delta_raw" if "delta_raw" in Si else "delta"  # SALib >= 1.6 / older
    s1_name = "S1_delta" if method == "latin" else "S1"
    rows = _index_rows(output, names, "delta", Si[key], Si[f"{key}_conf"])
    rows += _index_rows(output, names, s1_name, Si["S1"], Si["S1_conf"])

    # SALib's notes on its variants not reported here are dropped (_DELTA_IGNORED_NOTES).
    notes = []
    for name, note in zip(names, Si.get("notes") or []):
        pieces = [p.strip() for p in (note or "").split(";")]
        pieces = [p for p in pieces if p and not p.startswith(_DELTA_IGNORED_NOTES)]
        if pieces:
            notes.append(f"{output}: delta, {name}: {'; '.join(pieces)}")
    notes += [
        f"{output}: delta: {real_names(message.strip())}"
        for message in dict.fromkeys(str(w.message) for w in caught)
        if "Potential Bias Notice" not in message and "][step]" not in message
    ]
    return rows, [], notes


def _plain_problem(problem: dict) -> dict:
    """The problem without groups, for the given-data estimators (one row per parameter)."""
    return {k: v for k, v in problem.items() if k != "groups"}


# --------------------------------------------------------- method-independent parts


def _spearman_rows(output: str, names: list[str], X: np.ndarray, y: np.ndarray, conf_level: float) -> list[dict]:
    """Spearman rank correlation of each parameter with the output, Fisher-z interval.

    ``z = artanh(rho)``, ``se = sqrt(1.06 / (n - 3))`` (Fieller et al. 1957, the
    variance of Spearman's z), interval ``tanh(z -/+ z_crit se)``.
    """
    from scipy import stats

    n = y.size
    z_crit = stats.norm.ppf(0.5 + conf_level / 2.0)
    rows = []
    for j, name in enumerate(names):
        x = X[:, j]
        if n < 2 or np.ptp(x) == 0.0:
            rho = np.nan  # a constant parameter has no rank correlation
        else:
            rho = float(stats.spearmanr(x, y).statistic)
        if n > 3 and np.isfinite(rho):
            # clip so that a perfect correlation gives a degenerate interval, not inf
            z = np.arctanh(np.clip(rho, -1.0 + 1e-15, 1.0 - 1e-15))
            half = z_crit * math.sqrt(1.06 / (n - 3))
            lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
            conf = (hi - lo) / 2.0
        else:
            lo = hi = conf = np.nan
        rows.append(
            {
                "output": output,
                "parameter": name,
                "index": "spearman",
                "value": rho,
                "conf": conf,
                "conf_low": lo,
                "conf_high": hi,
            }
        )
    return rows


def _distribution_row(output: str, y: np.ndarray, n_missing: int) -> dict:
    """Summary of the finite values ``y`` of one output."""
    n = int(y.size)
    row: dict[str, Any] = {"output": output, "n": n, "n_missing": int(n_missing)}
    if n:
        q = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95])
        row.update(
            mean=float(y.mean()),
            sd=float(y.std(ddof=1)) if n > 1 else np.nan,
            q05=q[0],
            q25=q[1],
            median=q[2],
            q75=q[3],
            q95=q[4],
            share_negative=float((y < 0).mean()),
            share_positive=float((y > 0).mean()),
        )
    else:
        row.update({c: np.nan for c in DISTRIBUTION_COLUMNS[3:]})
    return row


def _condition_rows(output: str, names: list[str], X: np.ndarray, y: np.ndarray, edges: list[np.ndarray]) -> list[dict]:
    """The output within the quantile bins of each parameter (finite rows only)."""
    rows = []
    for j, name in enumerate(names):
        e = edges[j]
        n_bins = e.size - 1
        # bin b holds e[b] <= x < e[b+1]; x == e[-1] (the maximum) stays in the top bin
        bin_of = np.searchsorted(e[1:-1], X[:, j], side="right")
        for b in range(n_bins):
            yb = y[bin_of == b]
            nb = int(yb.size)
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "bin": b,
                    "lo": float(e[b]),
                    "hi": float(e[b + 1]),
                    "n": nb,
                    "mean": float(yb.mean()) if nb else np.nan,
                    "sd": float(yb.std(ddof=1)) if nb > 1 else np.nan,
                    "share_negative": float((yb < 0).mean()) if nb else np.nan,
                }
            )
    return rows


def _frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    """DataFrame with exactly ``columns`` (also when there are no rows)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for c in columns:
        if c in ("output", "parameter", "index", "parameter_a", "parameter_b"):
            frame[c] = frame[c].astype(object)
        elif c in ("n", "n_missing", "bin"):
            frame[c] = frame[c].astype(np.int64)
        else:
            frame[c] = frame[c].astype(np.float64)
    return frame
