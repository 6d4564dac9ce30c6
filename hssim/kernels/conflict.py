"""Household exposure to conflict events (one prange loop over households).

Slots of the ``conflict.households`` stream per household: 0 exposed this month,
1 number of members killed (binomial by inversion); on ``conflict.deaths``, the
deaths' who-dies draws (see :func:`hssim.kernels.household.deaths_step`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import uniform
from ..sums import S_DEATHS_VIOLENCE, S_PEOPLE_VIOLENCE_EXPOSED, cell_of
from .household import deaths_step

__all__ = ["p_exposed", "exposure_month"]


@nb.njit(cache=True, inline="always")
def p_exposed(events, exposure_per_event, strength):
    """Chance a household is hit this month: ``1 - exp(-strength * k * events)``."""
    return 1.0 - np.exp(-strength * exposure_per_event * events)


@nb.njit(parallel=True, cache=True)
def exposure_month(
    key,
    key_deaths,
    events,
    district_fear,
    exposure_per_event,
    strength,
    p_death_member,
    looting_frac,
    raiding_frac,
    fear_per_exposure,
    fear_retention,
    district,
    location,
    livelihood,
    female_head,
    marginalised,
    poorest,
    displaced,
    members,
    dead,
    u5,
    adults,
    herd_tlu,
    assets_usd,
    fear,
    violence_exposed,
    acc,
):
    """Expose households to this month's events at their location.

    ``fear(t+1) = min(1, retention fear(t) + district_fear[loc] + [hit] fear_per_exposure)``.
    A hit household loses ``looting_frac`` of its non-livestock assets and, if it
    keeps livestock, ``raiding_frac`` of its herd; each member dies with
    ``p_death_member``.

    Parameters
    ----------
    events : float64[D]  conflict events this month by district
    district_fear : float64[D]  fear added to every resident by the district's events
    acc : int64[n_threads, D, N_CELLS, N_SUMS]  out: violence sums (zeroed by caller)
    """
    n = members.size
    for i in nb.prange(n):
        m = np.int64(members[i])
        violence_exposed[i] = 0
        if m <= 0:
            continue
        loc = location[i]
        f = fear_retention * fear[i] + district_fear[loc]
        hit = uniform(key, i, 0) < p_exposed(events[loc], exposure_per_event, strength)
        if hit:
            violence_exposed[i] = 1
            f += fear_per_exposure
            assets_usd[i] = assets_usd[i] * (1.0 - looting_frac)
            herd_tlu[i] = herd_tlu[i] * (1.0 - raiding_frac)
            db, ds, m2, n_u5, n_ad = deaths_step(m, np.int64(u5[i]), np.int64(adults[i]), 0.0, p_death_member,
                                                 uniform(key, i, 1), key_deaths, i)
            k = m - m2
            if k > 0:
                members[i] = m2
                u5[i] = n_u5
                adults[i] = n_ad
                dead[i] += k
            cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], displaced[i])
            tid = nb.get_thread_id()
            acc[tid, district[i], cell, S_DEATHS_VIOLENCE] += k
            acc[tid, district[i], cell, S_PEOPLE_VIOLENCE_EXPOSED] += m
        fear[i] = min(1.0, f)
