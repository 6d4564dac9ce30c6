"""The sample design: SALib problem, sample matrix, seeds and chunks.

Everything here is a pure function of the experiment, so a sweep can be split into
chunks in any way and evaluated by any number of workers with identical results:
sample point ``i`` of replicate ``r`` always runs with :func:`run_seed` ``(i, r)``,
whoever computes it.
"""

from __future__ import annotations

import numpy as np

from ..runs.design import run_seed as runs_seed
from .schema import ExperimentConfig

__all__ = ["problem", "sample", "n_points", "run_seed", "chunk_bounds", "n_chunks", "auto_chunk_size"]


def problem(exp: ExperimentConfig) -> dict:
    """The SALib problem dict of the experiment's parameters (in declaration order).

    ``dists`` is included only when a parameter is not uniform, so the uniform case
    stays SALib's plain problem.
    """
    names = list(exp.parameters)
    pars = list(exp.parameters.values())
    out = {"num_vars": len(names), "names": names, "bounds": [list(p.bounds) for p in pars]}
    if any(p.dist != "unif" for p in pars):
        out["dists"] = [p.dist for p in pars]
    return out


def n_points(exp: ExperimentConfig) -> int:
    """Rows :func:`sample` returns, known without sampling (to size a design before
    drawing it)."""
    k = len(exp.parameters)
    return int(exp.n * {"sobol": (2 * k + 2) if exp.second_order else (k + 2), "morris": k + 1,
                        "fast": k}.get(exp.method, 1))


def sample(exp: ExperimentConfig) -> np.ndarray:
    """float64[n_points, n_params]: the experiment's sample, in SALib's order.

    Sizes: Sobol ``n (D + 2)`` (``n (2D + 2)`` with second order), Morris
    ``n (D + 1)``, FAST ``n D``, Latin hypercube and Monte Carlo ``n``.
    Integer parameters are rounded after sampling (the analysis sees the values the
    model ran with).
    """
    from SALib.sample import fast_sampler, latin, morris, sobol
    from SALib.util import scale_samples

    prob = problem(exp)
    seed = exp.sample_seed
    if exp.method == "sobol":
        X = sobol.sample(prob, exp.n, calc_second_order=exp.second_order, seed=seed)
    elif exp.method == "morris":
        X = morris.sample(prob, exp.n, num_levels=exp.morris_levels, seed=seed)
    elif exp.method == "fast":
        X = fast_sampler.sample(prob, exp.n, M=exp.fast_m, seed=seed)
    elif exp.method == "latin":
        X = latin.sample(prob, exp.n, seed=seed)
    elif exp.method == "monte_carlo":
        U = np.random.default_rng(seed).random((exp.n, prob["num_vars"]))
        X = scale_samples(U, prob)
    else:  # pragma: no cover - the schema restricts the choices
        raise ValueError(exp.method)
    X = np.asarray(X, dtype=np.float64)
    for j, par in enumerate(exp.parameters.values()):
        if par.integer:
            X[:, j] = np.round(X[:, j])
    return X


def run_seed(exp: ExperimentConfig, point: int, replicate: int) -> int:
    """Seed of the run of sample point ``point``, replicate ``replicate`` (every arm):
    :func:`hssim.runs.run_seed` with the experiment's ``seeds`` policy.

    ``common``: ``base_seed + r`` at every point, so the model's randomness is the
    same across the design (common random numbers: differences between points are
    caused by the parameters). ``independent``: ``base_seed + point * R + r``.
    Arms always share the seed, so paired differences are on common random numbers.
    """
    return runs_seed(exp.base_seed, replicate, point, exp.replicates, exp.seeds)


def auto_chunk_size(n_points: int, runs_per_point: int) -> int:
    """Points per chunk when not set: about 40 chunks (a fine progress bar and cheap
    re-runs), at least 2 runs and at most 256 points per chunk."""
    size = max(1, -(-n_points // 40))
    size = max(size, -(-2 // runs_per_point))
    return int(min(size, 256))


def n_chunks(n_points: int, chunk_size: int) -> int:
    return -(-n_points // chunk_size)


def chunk_bounds(chunk: int, n_points: int, chunk_size: int) -> tuple[int, int]:
    """[lo, hi) sample points of chunk ``chunk``."""
    lo = chunk * chunk_size
    return lo, min(n_points, lo + chunk_size)
