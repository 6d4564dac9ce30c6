"""Initial household population (drawn from the ``init`` stream, tick 0).

Slots per household: 0 livelihood, 1 female head, 2 marginalised, 3-4 wealth
(normal), 5 household size, 6 initial food stock, 10-39 member j is a child,
40-69 child j is under five.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import normal, poisson_inv, uniform

__all__ = ["poisson_inv", "init_households", "allocate"]


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder).

    Returns int64[len(weights)] summing to ``total``. Shares are computed in exact
    rational arithmetic, so equal remainders tie exactly and ties go to the lower
    index (a handful of districts or communities: not a per-household loop).
    """
    from fractions import Fraction

    w = [Fraction(float(x)) for x in np.asarray(weights, dtype=np.float64)]
    wsum = sum(w)
    exact = [total * x / wsum for x in w]
    counts = [int(e) for e in exact]  # floor: shares are non-negative
    rest = total - sum(counts)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:rest]:
        counts[i] += 1
    return np.asarray(counts, dtype=np.int64)


@nb.njit(parallel=True, cache=True)
def init_households(
    key,
    district,
    livelihood_cum,
    female_share,
    marginalised_share,
    wealth_shift,
    mean_size,
    p_child,
    p_u5_of_child,
    land_median,
    herd_median,
    assets_median,
    wealth_log_sd,
    need_kg_per_person,
    savings_usd_per_person,
    livelihood,
    female_head,
    marginalised,
    members,
    u5,
    adults,
    land_ha,
    herd_tlu,
    assets_usd,
    savings_usd,
    food_stock_kg,
    adequacy,
):
    """Draw every household's characteristics.

    Parameters
    ----------
    key : uint64  stream key (``init``, 0)
    district : int16[n]  district of each household (given)
    livelihood_cum : float64[D, 4]  cumulative livelihood shares
    female_share, marginalised_share : float64[D]
    wealth_shift : float64[D]  mean of log wealth in the district
    mean_size : float64[D]  mean household size of the district (female-headed households
        are 0.8 members smaller, the others larger, so that the district mean is ``mean_size``)
    p_child, p_u5_of_child : float  share of non-head members who are children; of children under five
    land_median, herd_median, assets_median : float64[4]  by livelihood (ha, TLU, USD)
    wealth_log_sd : float  sd of log wealth
    need_kg_per_person : float  monthly food need per person, kg
    savings_usd_per_person : float  initial savings of a median-wealth household, per member
    livelihood .. adequacy : household arrays [n] (out)
    """
    n = district.size
    for i in nb.prange(n):
        d = district[i]
        u = uniform(key, i, 0)
        lv = 3
        for k in range(4):
            if u < livelihood_cum[d, k]:
                lv = k
                break
        livelihood[i] = lv
        fh = 1 if uniform(key, i, 1) < female_share[d] else 0
        female_head[i] = fh
        marginalised[i] = 1 if uniform(key, i, 2) < marginalised_share[d] else 0
        # female-headed households are smaller (an absent husband): 0.8 members fewer on
        # average, the district mean unchanged
        lam = max(mean_size[d] - 1.0 - 0.8 * (fh - female_share[d]), 0.1)
        m = min(1 + poisson_inv(uniform(key, i, 5), lam), 30)
        children = 0
        young = 0
        for j in range(m - 1):
            if uniform(key, i, 10 + j) < p_child:
                children += 1
                if uniform(key, i, 40 + j) < p_u5_of_child:
                    young += 1
        members[i] = m
        u5[i] = young
        adults[i] = m - children
        z = normal(key, i, 3)
        wealth = np.exp(wealth_shift[d] + wealth_log_sd * z)
        # land is less unequal than herds and businesses
        land_ha[i] = land_median[lv] * np.sqrt(wealth)
        herd_tlu[i] = herd_median[lv] * wealth
        assets_usd[i] = assets_median[lv] * wealth
        savings_usd[i] = savings_usd_per_person * m * wealth
        food_stock_kg[i] = uniform(key, i, 6) * 3.0 * m * need_kg_per_person if land_ha[i] > 0 else 0.0
        adequacy[i] = 1.0
