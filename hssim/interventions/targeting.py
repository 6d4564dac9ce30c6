"""Targeting: who is eligible under a rule, how need ranks them, and how an
imperfect assessment sees them.

:func:`true_targeting` returns, for every household, whether it is eligible under
the rule and a need score in [0, 1] (higher = needier). :func:`observe` then plays
the assessment: with probability ``accuracy`` (per district: consultation and
community-based targeting raise it) a household is classified correctly, otherwise
by a coin with the district's eligible share; the priority it is given blends the
true score with noise in the same proportion. The result is a ``uint8`` priority,
0 = not (observed) eligible, 1..255 = eligible, higher first.

The *compound need* used to rank households jointly (integrated responses, and
the rules without a natural score) is one minus the household human-security
index (want, fear, dignity; see :func:`hssim.kernels.household.hs_index`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import rng
from ..kernels.household import hs_index
from ..state import LIVELIHOODS
from .base import TargetingConfig

__all__ = [
    "compound_need",
    "true_targeting",
    "observe",
    "observe_all",
    "community_rule",
    "proxy_means",
    "quantile_f32",
    "PMT_LAND_USD_PER_HA",
]

#: value of a hectare of land in the proxy-means score (same as the poorest-quintile rule)
PMT_LAND_USD_PER_HA = 500.0


@nb.njit(parallel=True, cache=True)
def compound_need(ipc_phase, fear, coping, displaced, location, health_access, out):
    """out : float32[n]  1 - human-security index (want, fear, dignity) of each household."""
    for i in nb.prange(ipc_phase.size):
        out[i] = 1.0 - hs_index(ipc_phase[i], fear[i], coping[i], displaced[i], health_access[location[i]])


def true_targeting(cfg: TargetingConfig, engine, need: np.ndarray, district_ok: np.ndarray, here: np.ndarray | None = None):
    """Eligibility and need score under the rule, from the households' current state.

    Parameters
    ----------
    cfg : TargetingConfig
    engine : Engine
    need : float32[n]  compound need (:func:`compound_need`)
    district_ok : bool[D]  districts where the programme runs
    here : bool[n], optional  alive where the programme runs, if the caller has it
        (``members > 0 & district_ok[location]``; not modified)

    Returns
    -------
    eligible : bool[n]
    score : float32[n]  in [0, 1], higher = needier (meaningful where eligible)
    """
    hh = engine.households
    if here is None:
        here = (hh.members > 0) & district_ok[hh.location]
    rule = cfg.rule
    score = need
    if rule in ("all", "geographic"):
        eligible = here
    elif rule == "categorical":
        cat = np.zeros(hh.n, bool)
        for c in cfg.categories:
            if c == "female_head":
                cat |= hh.female_head > 0
            elif c == "marginalised":
                cat |= hh.marginalised > 0
            elif c == "displaced":
                cat |= hh.displaced > 0
            elif c == "with_u5":
                cat |= hh.u5 > 0
            elif c == "poorest_quintile":
                cat |= hh.poorest_quintile > 0
            else:
                cat |= hh.livelihood == LIVELIHOODS.index(c)
        eligible = here & cat
    elif rule == "means":
        line = cfg.poverty_line_usd_per_person_day
        cons = hh.consumption_usd_pc_day
        eligible = here & (cons < line)
        score = np.clip(1.0 - cons / max(line, 1e-12), 0.0, 1.0).astype(np.float32)
    elif rule == "proxy_means":
        lp = engine.cfg.food_system.livestock_price_usd_per_tlu
        wealth = (hh.herd_tlu * lp + hh.assets_usd + hh.land_ha * PMT_LAND_USD_PER_HA + hh.savings_usd) / np.maximum(hh.members, 1)
        eligible = np.zeros(hh.n, bool)
        score = np.zeros(hh.n, np.float32)
        proxy_means(wealth, here, hh.location, district_ok, float(cfg.share), eligible, score)
    elif rule == "need":
        v = _need_indicator(cfg.indicator, hh, need)
        eligible = here & (v >= cfg.threshold)
        score = _need_score(cfg.indicator, hh, v, need)
    elif rule == "community":
        # each community names its neediest share (by compound need)
        eligible = np.zeros(hh.n, bool)
        community_rule(need, here, hh.community, float(cfg.share), eligible)
    else:  # pragma: no cover - validated
        raise ValueError(rule)
    return eligible, np.asarray(score, np.float32)


def _need_indicator(name: str, hh, need: np.ndarray) -> np.ndarray:
    if name == "ipc_phase":
        return hh.ipc_phase
    if name == "malnutrition":
        return hh.malnutrition
    if name == "coping":
        return hh.coping
    if name == "consumption_gap":
        return 1.0 - hh.adequacy
    if name == "fear":
        return hh.fear
    if name == "sick":
        return hh.sick
    if name == "susceptible":
        return hh["dis_s"] if "dis_s" in hh.names() else np.zeros(hh.n, np.int8)
    if name == "herd_tlu":
        return hh.herd_tlu
    return need  # compound


def _need_score(name: str, hh, v: np.ndarray, need: np.ndarray) -> np.ndarray:
    m = np.maximum(hh.members, 1).astype(np.float32)
    if name == "ipc_phase":
        return (v - 1.0) / 4.0
    if name == "malnutrition":
        return v / 2.0
    if name == "coping":
        return v / 3.0
    if name in ("sick", "susceptible"):
        return np.minimum(v / m, 1.0)
    if name in ("consumption_gap", "fear"):
        return np.clip(v, 0.0, 1.0)
    return need  # herd owners and the compound indicator rank by compound need


@nb.njit(cache=True)
def _select(a, k):
    """The ``k``-th smallest of ``a`` (no NaN), moving ``a``'s elements (quickselect)."""
    lo, hi = 0, a.size - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@nb.njit(cache=True)
def quantile_f32(values, q):
    """``np.quantile(values, q)`` for float32 ``values`` (any order; not modified) and
    a Python float ``q``: the "linear" method with NumPy's own index arithmetic and
    float32 interpolation (``a + (b - a) g``, or ``b - (b - a)(1 - g)`` from
    ``g = 0.5``), so the result is the same float32. Only the two neighbouring order
    statistics are found (a selection, not a sort)."""
    n = values.size
    for j in range(n):
        if np.isnan(values[j]):
            return values[j]
    vi = (n - 1) * q
    if vi >= n - 1:  # NumPy takes index -1 for both neighbours, and g = vi - (-1)
        i0 = i1 = n - 1
        g = vi + 1.0
    elif vi < 0.0:
        i0 = i1 = 0
        g = vi
    else:
        i0 = int(np.floor(vi))
        i1 = i0 + 1
        g = vi - i0
    work = values.copy()
    a = _select(work, i0)
    b = a
    if i1 != i0:  # the next order statistic: the least of what the selection left above
        b = work[i1]
        for j in range(i1 + 1, n):
            b = min(b, work[j])
    diff = b - a
    if g >= 0.5:
        return b - diff * np.float32(1.0 - g)
    return a + diff * np.float32(g)


@nb.njit(cache=True)
def group_households(group, here, n_groups):
    """The households ``here``, grouped (counting sort; household order within a group).

    Parameters
    ----------
    group : int[n]  group of each household, 0..n_groups-1
    here : bool[n]  which households take part
    n_groups : int

    Returns
    -------
    start : int64[n_groups + 1]  group g's households are ``order[start[g]:start[g + 1]]``
    order : int64[count of here]  household indices
    """
    start = np.zeros(n_groups + 1, np.int64)
    for i in range(group.size):
        if here[i]:
            start[group[i] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    order = np.empty(start[n_groups], np.int64)
    fill = start[:n_groups].copy()
    for i in range(group.size):
        if here[i]:
            order[fill[group[i]]] = i
            fill[group[i]] += 1
    return start, order


@nb.njit(cache=True)
def proxy_means(wealth, here, location, district_ok, share, eligible, score):
    """Proxy-means rule: in each district where the programme runs, the households
    here whose wealth is at or below the district's ``share`` quantile ``q``
    (:func:`quantile_f32`) are eligible, with need score ``1 / (1 + wealth / max(q, 1e-9))``
    (float32 arithmetic throughout, as NumPy does it for these float32 arrays).

    Parameters
    ----------
    wealth : float32[n]  proxy-means wealth per person, USD
    here : bool[n]  alive where the programme runs
    location : int16[n]
    district_ok : bool[D]
    share : float  the eligible share
    eligible : bool[n], score : float32[n]  out, written for the households here
    """
    D = district_ok.size
    start, by_d = group_households(location, here, D)
    one = np.float32(1.0)
    q_floor = np.float32(1e-9)
    for d in range(D):
        lo, hi = start[d], start[d + 1]
        if not district_ok[d] or hi == lo:
            continue
        values = np.empty(hi - lo, np.float32)
        for j in range(lo, hi):
            values[j - lo] = wealth[by_d[j]]
        q = quantile_f32(values, share)
        # max(q, 1e-9) with NumPy's weak Python float: compared and divided in float32
        divisor = q_floor if q < q_floor else q  # noqa: FURB136 - Python's max(q, 1e-9), as written
        for j in range(lo, hi):
            i = by_d[j]
            eligible[i] = wealth[i] <= q
            score[i] = one / (one + wealth[i] / divisor)


@nb.njit(cache=True)
def community_rule(need, here, community, share, eligible):
    """Community-based targeting: each community names the ``floor(share x count + 0.5)``
    neediest of its ``count`` households here (by ``need``, highest first; ties in
    household order) as eligible.

    Parameters
    ----------
    need : float32[n]  compound need (no NaN)
    here : bool[n]  alive where the programme runs
    community : int32[n]
    share : float
    eligible : bool[n]  out (False on entry), set for the named households
    """
    n = need.size
    C = 0
    for i in range(n):
        C = max(C, community[i] + 1)
    start, by_c = group_households(community, here, C)
    size = 0
    for c in range(C):
        size = max(size, start[c + 1] - start[c])
    work = np.empty(size, np.float32)  # scratch, reused by every community
    for c in range(C):
        lo, hi = start[c], start[c + 1]
        m = hi - lo
        take = min(m, int(np.floor(share * m + 0.5)))
        if take <= 0:
            continue
        # the take neediest in a stable ranking (need, highest first; ties in household
        # order): everyone above the take-th highest need, then ties at it in order
        for j in range(m):
            work[j] = need[by_c[lo + j]]
        cut = _select(work[:m], m - take)
        above = 0
        for j in range(m):
            above += need[by_c[lo + j]] > cut
        ties = take - above
        for j in range(m):
            v = need[by_c[lo + j]]
            if v > cut:
                eligible[by_c[lo + j]] = True
            elif v == cut and ties > 0:
                eligible[by_c[lo + j]] = True
                ties -= 1


@nb.njit(cache=True, inline="always")
def _observed_priority(key, i, eligible, score, a, share):
    """Priority (uint8, 0 = not seen eligible) the assessment gives household ``i``:
    see :func:`observe` (``a`` its district's accuracy, ``share`` the eligible share)."""
    if a >= 1.0:
        seen = eligible
        s = score
    else:
        seen = eligible if rng.uniform(key, i, 0) < a else rng.uniform(key, i, 1) < share
        if not seen:
            return np.uint8(0)  # (slot 2 is drawn only for those seen: the same values, fewer draws)
        s = a * score + (1.0 - a) * rng.uniform(key, i, 2)
    if seen:
        return 1 + np.uint8(min(max(s, 0.0), 1.0) * 254.0)
    return np.uint8(0)


@nb.njit(parallel=True, cache=True)
def observe(key, eligible, here, score, location, accuracy_d, share_d, out):
    """The assessment's view: ``out`` uint8[n] priority (0 = not eligible, 1..255).

    With ``a = accuracy_d[location]``: slot 0 decides whether the household is
    classified correctly (``u0 < a``); if not, slot 1 is a coin with the district's
    eligible share. The priority is ``1 + floor(254 (a s + (1 - a) u2))`` with ``s``
    the true score and ``u2`` slot 2 noise.

    Parameters
    ----------
    key : uint64  stream key (``targeting.<intervention>``, assessment tick)
    eligible : bool[n]  true eligibility
    here : bool[n]  alive where the programme runs (only these can be seen eligible)
    score : float32[n]  true need score in [0, 1]
    location : int16[n]
    accuracy_d, share_d : float64[D]  accuracy and the eligible share of each district
    """
    for i in nb.prange(eligible.size):
        d = location[i]
        if not here[i]:
            out[i] = 0
            continue
        out[i] = _observed_priority(key, i, eligible[i], score[i], accuracy_d[d], share_d[d])


@nb.njit(parallel=True, cache=True)
def observe_all(keys, rows, source, eligible, own, need, c, members, location, district_ok, accuracy, out):
    """:func:`observe` for several programmes in one call, eligible shares and ranking
    scores included.

    For each programme ``k`` in ``rows``: its true eligibility and own need score are
    row ``source[k]`` of ``eligible`` and ``own`` (programmes with the same rule share a
    row); its ranking score is ``(1 - c) own + c need`` in float32 arithmetic, as NumPy
    computes it for float32 arrays (``own`` itself when ``c == 0``); ``here`` is "alive
    where it runs" (``members > 0`` and ``district_ok[k, location]``), the eligible share
    of a district is ``#(eligible & here) / max(#here, 1)`` there, and ``out[k]`` is
    :func:`observe` of row ``k`` with ``keys[k]`` and ``accuracy[k]``. Each household's
    priority depends only on its own draws: the same at any thread count.

    Parameters
    ----------
    keys : uint64[K]  stream keys (``targeting.<intervention>``, assessment tick)
    rows : int64[R]  programmes to assess (other rows of ``out`` are left as they are)
    source : int64[K]  each assessed programme's row of ``eligible`` and ``own``
    eligible : bool[U, n]  true eligibility
    own : float32[U, n]  the rules' own need scores
    need : float32[n]  compound need
    c : float  coordination level
    members : int8[n]
    location : int16[n]
    district_ok : bool[K, D]  districts where each programme runs
    accuracy : float64[K, D]  chance a household is classified correctly
    out : uint8[K, n]  priorities, written for the rows in ``rows``
    """
    n = members.size
    D = district_ok.shape[1]
    keep = np.float32(1.0 - c)
    mix = np.float32(c)
    blend = c > 0.0
    # households alive by location: #here of a programme in a district where it runs
    alive_d = np.zeros(D, np.int64)
    for i in range(n):
        if members[i] > 0:
            alive_d[location[i]] += 1
    for r in nb.prange(rows.size):  # programmes are independent: one per task
        k = rows[r]
        key = keys[k]
        el, sc, ok, acc_k, out_k = eligible[source[k]], own[source[k]], district_ok[k], accuracy[k], out[k]
        n_elig = np.zeros(D, np.int64)
        for i in range(n):
            if el[i] and members[i] > 0 and ok[location[i]]:
                n_elig[location[i]] += 1
        share = np.empty(D)
        exact = True
        for d in range(D):
            share[d] = n_elig[d] / max(alive_d[d] if ok[d] else 0, 1)
            exact &= acc_k[d] >= 1.0
        if exact:
            # a perfect assessment everywhere: the true eligibility and score, no draws
            # (what _observed_priority gives at accuracy 1, in a simpler loop)
            for i in range(n):
                v = 0
                if el[i] and members[i] > 0 and ok[location[i]]:
                    s = keep * sc[i] + mix * need[i] if blend else sc[i]
                    v = 1 + np.uint8(min(max(np.float64(s), 0.0), 1.0) * 254.0)
                out_k[i] = v
            continue
        for i in range(n):
            d = location[i]
            if members[i] > 0 and ok[d]:
                s = keep * sc[i] + mix * need[i] if blend else sc[i]
                out_k[i] = _observed_priority(key, i, el[i], s, acc_k[d], share[d])
            else:
                out_k[i] = 0


