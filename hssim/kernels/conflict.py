"""Household exposure to conflict events (one prange loop over households).

Events hit *communities*, not a share of a district's people: each event lands in
one community of its district (:func:`place_events`) and hits, on average, a fixed
number of real households there, whatever the district's population; deaths and
exposure per event therefore do not grow with district size.

Slots of the ``conflict.households`` stream per household: 0 exposed this month,
1 number of members killed (binomial by inversion); on ``conflict.deaths``, the
deaths' who-dies draws (see :func:`hssim.kernels.household.deaths_step`); on
``conflict.place`` (index = the event's number this month, counted over districts
in table order, slot 0) the community an event lands in.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import uniform
from ..sums import S_DEATHS_VIOLENCE, S_PEOPLE_VIOLENCE_EXPOSED, cell_of
from .household import deaths_step

__all__ = ["place_events", "p_hit_tables", "exposure_month"]


@nb.njit(cache=True)
def place_events(key, events, comm_first, n_comm, n_communities):
    """int64[C] events landing in each community: every event of district ``d`` lands in
    one of its communities ``comm_first[d] .. comm_first[d] + n_comm[d] - 1``, chosen
    uniformly (stream ``conflict.place``, index = event number, slot 0).

    Parameters
    ----------
    events : int64[D]  events this month by district
    comm_first, n_comm : int64[D]  the district's first community and its number of communities
    """
    out = np.zeros(n_communities, np.int64)
    e = 0
    for d in range(events.size):
        for _ in range(events[d]):
            if n_comm[d] > 0:
                k = min(int(uniform(key, e, 0) * n_comm[d]), n_comm[d] - 1)
                out[comm_first[d] + k] += 1
            e += 1
    return out


def p_hit_tables(comm_events, n_members, events, n_present, hits_per_event_sim, strength):
    """Monthly chance of being hit, at home (by community) and away from home (by district).

    A household at home in community ``c`` is hit by each of the ``k_c`` events that
    landed there with ``q_c = min(1, s h / n_c)``, where ``h`` = simulated households
    hit per event (real households hit per event x simulated / real households) and
    ``n_c`` the community's households alive, those who fled included: an event hits
    ``h`` households on average in a full community, whatever its or the district's
    size, and fewer where households have fled (flight protects)::

        p_home_c = 1 - (1 - q_c)^k_c

    A displaced household (hosted or in a camp: no community of its own there) faces
    the district's events spread over everyone present:
    ``p_away_d = 1 - exp(-s h events_d / n_present_d)``.

    Returns
    -------
    p_home : float64[C], p_away : float64[D]
    """
    q = np.minimum(1.0, strength * hits_per_event_sim / np.maximum(n_members, 1))
    p_home = np.where(comm_events > 0, 1.0 - (1.0 - q) ** comm_events, 0.0)
    p_away = 1.0 - np.exp(-strength * hits_per_event_sim * events / np.maximum(n_present, 1))
    return p_home, p_away


@nb.njit(parallel=True, cache=True)
def exposure_month(
    key,
    key_deaths,
    p_home,
    p_away,
    district_fear,
    p_death_member,
    looting_frac,
    raiding_frac,
    fear_per_exposure,
    fear_retention,
    district,
    community,
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
    """Expose households to this month's events where they live.

    ``fear(t+1) = min(1, retention fear(t) + district_fear[loc] + [hit] fear_per_exposure)``.
    A hit household loses ``looting_frac`` of its non-livestock assets and, if it
    keeps livestock, ``raiding_frac`` of its herd; each member dies with
    ``p_death_member``.

    Parameters
    ----------
    p_home : float64[C]  chance a household at home in community c is hit this month
    p_away : float64[D]  chance a displaced household living in district d is hit
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
        p = p_home[community[i]] if displaced[i] == 0 else p_away[loc]
        hit = p > 0.0 and uniform(key, i, 0) < p
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
