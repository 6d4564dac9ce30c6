"""Kernels for the record: indicator sums by household group (see :mod:`hssim.results`)."""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["group_sums"]


@nb.njit(cache=True)
def group_sums(sums, in_group):
    """Raw sums added up over the household cells of each group.

    Parameters
    ----------
    sums : int64[M, D, C, K]  sums by month, district, household cell and sum
    in_group : bool[G, C]  the cells of each group

    Returns
    -------
    int64[M, D, G, K]  (integer sums: exact, in any order)
    """
    M, D, C, K = sums.shape
    G = in_group.shape[0]
    out = np.zeros((M, D, G, K), np.int64)
    for m in range(M):
        for d in range(D):
            for g in range(G):
                acc = out[m, d, g]
                for c in range(C):
                    if in_group[g, c]:
                        row = sums[m, d, c]
                        for k in range(K):
                            acc[k] += row[k]
    return out
