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

__all__ = ["compound_need", "true_targeting", "observe", "PMT_LAND_USD_PER_HA"]

#: value of a hectare of land in the proxy-means score (same as the poorest-quintile rule)
PMT_LAND_USD_PER_HA = 500.0


@nb.njit(parallel=True, cache=True)
def compound_need(ipc_phase, fear, coping, displaced, location, health_access, out):
    """out : float32[n]  1 - human-security index (want, fear, dignity) of each household."""
    for i in nb.prange(ipc_phase.size):
        out[i] = 1.0 - hs_index(ipc_phase[i], fear[i], coping[i], displaced[i], health_access[location[i]])


def true_targeting(cfg: TargetingConfig, engine, need: np.ndarray, district_ok: np.ndarray):
    """Eligibility and need score under the rule, from the households' current state.

    Parameters
    ----------
    cfg : TargetingConfig
    engine : Engine
    need : float32[n]  compound need (:func:`compound_need`)
    district_ok : bool[D]  districts where the programme runs

    Returns
    -------
    eligible : bool[n]
    score : float32[n]  in [0, 1], higher = needier (meaningful where eligible)
    """
    hh = engine.households
    alive = hh.members > 0
    here = alive & district_ok[hh.location]
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
        for d in np.flatnonzero(district_ok):  # districts, not households
            sel = np.flatnonzero(here & (hh.location == d))
            if sel.size == 0:
                continue
            q = np.quantile(wealth[sel], cfg.share)
            eligible[sel] = wealth[sel] <= q
            score[sel] = 1.0 / (1.0 + wealth[sel] / max(q, 1e-9))
    elif rule == "need":
        v = _need_indicator(cfg.indicator, hh, need)
        eligible = here & (v >= cfg.threshold)
        score = _need_score(cfg.indicator, hh, v, need)
    elif rule == "community":
        # each community names its neediest share (by compound need)
        eligible = np.zeros(hh.n, bool)
        sel = np.flatnonzero(here)
        comm = hh.community[sel]
        order = np.lexsort((-need[sel], comm))
        comm_sorted = comm[order]
        first = np.searchsorted(comm_sorted, comm_sorted, side="left")
        counts = np.bincount(comm_sorted, minlength=int(hh.community.max()) + 1)
        rank = np.arange(sel.size) - first
        take = rank < np.floor(cfg.share * counts[comm_sorted] + 0.5)
        eligible[sel[order[take]]] = True
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
        a = accuracy_d[d]
        if a >= 1.0:
            seen = eligible[i]
            s = score[i]
        else:
            seen = eligible[i] if rng.uniform(key, i, 0) < a else rng.uniform(key, i, 1) < share_d[d]
            s = a * score[i] + (1.0 - a) * rng.uniform(key, i, 2)
        if seen:
            out[i] = 1 + np.uint8(min(max(s, 0.0), 1.0) * 254.0)
        else:
            out[i] = 0
