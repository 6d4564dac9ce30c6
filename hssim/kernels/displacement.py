"""Flight and return decisions (one prange loop over households).

Slots of the ``displacement`` stream per household: 0 distress migration, 1 return,
2..2+K destination preference noise (Gumbel) for candidate k; ``displacement.threshold``
(tick 0, never changes) slots 0-1: the household's flight threshold (log-normal).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import normal, uniform

__all__ = ["flight_threshold", "draw_thresholds", "decide_moves", "apply_moves", "district_counts", "uniform_at"]

NONE = -1


@nb.njit(cache=True, inline="always")
def flight_threshold(key_threshold, i, median, log_sd):
    """Fear level at which household ``i`` flees (fixed for the run)."""
    return median * np.exp(log_sd * normal(key_threshold, i, 0))


@nb.njit(parallel=True, cache=True)
def draw_thresholds(key_threshold, median, log_sd, out):
    """float32[n] every household's flight threshold (drawn once, at the start)."""
    for i in nb.prange(out.size):
        out[i] = flight_threshold(key_threshold, i, median, log_sd)


@nb.njit(parallel=True, cache=True)
def decide_moves(
    key,
    threshold,
    flight_early_frac,
    s_fear,
    p_distress,
    p_return,
    district,
    location,
    displaced,
    displaced_months,
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

    A household at home flees when ``s_fear * fear`` passes its threshold lowered by
    early warning, ``threshold * (1 - flight_early_frac)`` (a warned household moves
    before violence reaches it), or (distress migration) with ``p_distress`` when it
    is at the emergency coping stage after two or more months in a row with a
    consumption gap.
    It picks the candidate with the highest ``utility[from, to] + noise`` among its
    district's neighbours and, where there is one, the camp in its own or a
    neighbouring district (``camp_utility``). A displaced household returns with
    ``p_return`` once its origin is safe.

    Parameters
    ----------
    threshold : float32[n]  each household's flight threshold on fear
    flight_early_frac : float32[n]  share by which early warning lowers the threshold this
        month, in [0, 1] (0: not warned)
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
            displaced_months[i] = min(displaced_months[i] + 1, 127)
            if origin_safe[district[i]] and uniform(key, i, 1) < p_return:
                returning[i] = 1
            continue
        flee = False
        f = s_fear * fear[i]
        # early warning lowers the threshold (x 1.0 when not warned: exact)
        if f > 0.0 and f >= threshold[i] * (1.0 - flight_early_frac[i]):
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


@nb.njit(cache=True)
def uniform_at(key, idx, slot):
    """float64[len(idx)] uniform draws for the given element indices."""
    out = np.empty(idx.size, np.float64)
    for k in range(idx.size):
        out[k] = uniform(key, idx[k], slot)
    return out


@nb.njit(cache=True)
def _move(i, j, returning, n_districts, herd_keep, district, location, displaced, displaced_months, herd_tlu):
    """One household's move (see :func:`apply_moves`)."""
    if j >= 0:
        if j >= n_districts:
            location[i] = j - n_districts
            displaced[i] = 2
        else:
            location[i] = j
            displaced[i] = 1
        displaced_months[i] = 0
        herd_tlu[i] = herd_tlu[i] * herd_keep
    elif returning[i] == 1:
        location[i] = district[i]
        displaced[i] = 0
        displaced_months[i] = 0


@nb.njit(parallel=True, cache=True)
def apply_moves(dest, returning, n_districts, herd_keep, district, location, displaced, displaced_months, herd_tlu):
    """Carry out this month's moves: flight to ``dest`` (hosted j, or camp D + j) and returns."""
    for i in nb.prange(dest.size):
        # the few households that move are updated by a call, not inline: with the stores
        # in the loop LLVM vectorises it with masked stores, which AVX-512 machines of
        # the AMD Zen 4 family run about 50 times slower than this loop (30 against 0.6
        # ms at 10^6 households; benchmarks/masked_stores.py lists such kernels)
        if dest[i] >= 0 or returning[i] == 1:
            _move(i, dest[i], returning, n_districts, herd_keep, district, location, displaced, displaced_months,
                  herd_tlu)


@nb.njit(cache=True)
def district_counts(location, displaced, members, n_districts):
    """int64[D, 3] households alive by current district and status (home, hosted, camp)."""
    out = np.zeros((n_districts, 3), np.int64)
    for i in range(members.size):
        if members[i] > 0:
            out[location[i], displaced[i]] += 1
    return out
