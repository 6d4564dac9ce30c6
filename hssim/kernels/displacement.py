"""Flight and return decisions (one prange loop over households).

Slots of the ``displacement`` stream per household: 0 distress migration, 1 return,
2..2+K destination preference noise (Gumbel) for candidate k; ``displacement.threshold``
(tick 0, never changes) slots 0-1: the household's flight threshold (log-normal).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import normal, uniform

__all__ = ["flight_threshold", "decide_moves"]

NONE = -1


@nb.njit(cache=True, inline="always")
def flight_threshold(key_threshold, i, median, log_sd):
    """Fear level at which household ``i`` flees (fixed for the run)."""
    return median * np.exp(log_sd * normal(key_threshold, i, 0))


@nb.njit(parallel=True, cache=True)
def decide_moves(
    key,
    key_threshold,
    flight_median,
    flight_log_sd,
    s_fear,
    p_distress,
    p_return,
    district,
    location,
    displaced,
    members,
    fear,
    coping,
    gap_months,
    origin_safe,
    nbr_start,
    nbr,
    utility,
    camp_utility,
    has_camp,
    choice_noise,
    dest,
    dest_camp_fallback,
    returning,
):
    """Decide who flees where and who returns, for this month's end.

    A household at home flees when ``s_fear * fear`` passes its threshold, or
    (distress migration) with ``p_distress`` after two months of emergency coping.
    It picks the candidate with the highest ``utility[from, to] + noise`` among its
    district's neighbours and, where there is one, the camp in its own or a
    neighbouring district (``camp_utility``). A displaced household returns with
    ``p_return`` once its origin is safe.

    Parameters
    ----------
    origin_safe : bool[D]  the district has been safe long enough to return to
    nbr_start, nbr : int64[D+1], int64[E]  neighbours of d are ``nbr[nbr_start[d]:nbr_start[d+1]]``
    utility : float64[D, D]  deterministic utility of moving from d to j (hosted)
    camp_utility : float64[D, D]  utility of the camp in j for a household from d (-inf: none)
    dest : int64[n]  out: destination code, -1 none, j (hosted in j), D + j (camp in j)
    dest_camp_fallback : int64[n]  out: best hosted destination, used if the camp is full
    returning : int8[n]  out: 1 if the household goes home
    """
    n = members.size
    D = utility.shape[0]
    for i in nb.prange(n):
        dest[i] = NONE
        dest_camp_fallback[i] = NONE
        returning[i] = 0
        if members[i] <= 0:
            continue
        if displaced[i] > 0:
            if origin_safe[district[i]] and uniform(key, i, 1) < p_return:
                returning[i] = 1
            continue
        flee = False
        f = s_fear * fear[i]
        if f > 0.0 and f >= flight_threshold(key_threshold, i, flight_median, flight_log_sd):
            flee = True
        elif coping[i] == 3 and gap_months[i] >= 2 and uniform(key, i, 0) < p_distress:
            flee = True
        if not flee:
            continue
        o = location[i]
        best = -np.inf
        best_hosted = -np.inf
        choice = NONE
        hosted = NONE
        k = 0
        for e in range(nbr_start[o], nbr_start[o + 1]):
            j = nbr[e]
            # Gumbel noise: -log(-log(u))
            g = -np.log(-np.log(uniform(key, i, 2 + k))) * choice_noise
            k += 1
            u = utility[o, j] + g
            if u > best_hosted:
                best_hosted = u
                hosted = j
            if u > best:
                best = u
                choice = j
        for e in range(nbr_start[o], nbr_start[o + 1] + 1):
            # camps: own district (the extra last iteration) and neighbours
            j = o if e == nbr_start[o + 1] else nbr[e]
            if not has_camp[j]:
                continue
            g = -np.log(-np.log(uniform(key, i, 2 + k))) * choice_noise
            k += 1
            u = camp_utility[o, j] + g
            if u > best:
                best = u
                choice = D + j
        dest[i] = choice
        dest_camp_fallback[i] = hosted
