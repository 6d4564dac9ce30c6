"""Disease kernels: a chain-binomial SEIR in households, on sub-monthly steps.

The per-household processes are small scalar functions (each checked against a
pure-Python reference in ``tests/unit/test_disease_kernels.py``); the ``prange``
kernels compose them over communities (households of community ``c`` are the
contiguous block ``comm_start[c]:comm_start[c+1]``).

One substep of length ``dt`` days, for a household with counts ``S, E, I, R`` of
its ``n`` members alive (all counts at the *start* of the substep; synchronous
update)::

    lambda   = beta * mult * (w_h I/n + w_c I_loc/N_loc + w_d I_d/N_d + w_r I_reg/N_reg)
    S -> E   ~ Binomial(S, 1 - exp(-lambda dt))
    E -> I   ~ Binomial(E, p_ei),   p_ei  = 1 - exp(-dt / latent_days)
    I -> out ~ Binomial(I, p_rem),  p_rem = 1 - exp(-dt / infectious_days)
    deaths   ~ Binomial(out, ifr)   (the rest go to R), ifr = cfr * symptomatic_frac
    ill      ~ Binomial(new I, symptomatic_frac)   (members who fall ill: ``sick``)
    R -> S   ~ Binomial(R, p_wane)  (0 for lifelong immunity)

``loc`` is the household's community (at home), the camp of its current district
(camp), or its current district (hosted). With ``beta = r0 p_rem / dt`` a case is
infectious for a geometric number of substeps with mean ``1 / p_rem`` and, in a
wholly susceptible well-mixed population (and ``mult = 1``), infects on average
``beta dt / p_rem = r0`` people: R0 holds exactly in the discrete scheme.

Random streams (keys from :func:`hssim.rng.stream_key`, ``sub = ti * 64 + substep``)

=====================  ==================  =======  ===============================================
stream                 tick                index    slot
=====================  ==================  =======  ===============================================
``disease``            ``sub``             i        0 S->E, 1 E->I, 2 I->out, 3 deaths among out, 4 R->S,
                                                    5 symptomatic among E->I
``disease.who``        ``sub``             2i+j//64 ``j % 64``: member taken by the j-th disease death
``disease.import``     ``sub``             0        0: number of importations (Poisson, by inversion)
``disease.import``     ``sub``             1+j//64  ``j % 64``: household hit by the j-th importation
``disease.reconcile``  ``ti``              2i+j//64 ``j % 64``: compartment of the j-th member who died
                                                    of another cause since the last disease step
``disease.ill``        ``ti``              i        0: ill among those infectious at the start of the month
``disease.init``       0                   i        0 initially immune members, 1 initially exposed
=====================  ==================  =======  ===============================================

Indicator sums go to per-thread int64 rows ``acc[tid, district, cell, k]`` with
``k`` = :data:`A_NEW_INFECTIONS`, :data:`A_DEATHS`, :data:`A_INFECTIOUS`,
:data:`A_SICK`, summed by the caller: integer sums are identical at any thread count.
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from ..rng import poisson_inv, uniform
from ..sums import cell_of
from .household import binomial_inv

__all__ = [
    "A_DEATHS",
    "A_INFECTIOUS",
    "A_NEW_INFECTIONS",
    "A_SICK",
    "N_ACC",
    "N_POOL",
    "P_CAMP_I",
    "P_CAMP_N",
    "P_E",
    "P_LOC_I",
    "P_LOC_N",
    "P_R",
    "DiseaseParams",
    "beta_for_r0",
    "case_fatality",
    "chain_step",
    "disease_month",
    "disease_month_event",
    "disease_substep",
    "force_of_infection",
    "import_infections",
    "init_seir",
    "month_start",
    "p_infection",
    "p_transition",
    "reconcile",
    "poisson_inv",
    "remove_dead_members",
    "remove_excess",
    "seir_transitions",
]

#: columns of the per-thread indicator accumulator
A_NEW_INFECTIONS, A_DEATHS, A_INFECTIOUS, A_SICK = 0, 1, 2, 3
N_ACC = 4
#: columns of the district pool totals ``pool[d, k]`` (people, by current district):
#: infectious and alive in the district, infectious and alive in its camp, and the
#: district's exposed and recovered (these two only to tell when a substep is quiet)
P_LOC_I, P_LOC_N, P_CAMP_I, P_CAMP_N, P_E, P_R = 0, 1, 2, 3, 4, 5
N_POOL = 6

#: scalar parameters of one substep (all floats; see :func:`hssim.hazards.disease.make_params`)
DiseaseParams = namedtuple(
    "DiseaseParams",
    [
        "beta",  # transmission rate per day, at mult = 1
        "dt",  # substep, days
        "p_ei",  # per-substep E -> I
        "p_rem",  # per-substep I -> removed (recovered or dead)
        "p_wane",  # per-substep R -> S
        "w_h",
        "w_c",
        "w_d",
        "w_r",  # mixing weights, sum 1
        "camp_mult",  # transmission multiplier in camps (coupling strength applied)
        "mal_sus_mult",  # susceptibility multiplier of households with malnourished under-fives
        "mal_fat_mult",  # case-fatality multiplier of those households
        "sym_frac",  # share of infections that become ill (symptomatic)
    ],
)


@nb.njit(cache=True, inline="always")
def p_transition(dt, mean_days):
    """Per-substep probability of leaving a compartment with mean stay ``mean_days``:
    ``1 - exp(-dt / mean_days)`` (0 when ``mean_days <= 0`` means "never")."""
    if mean_days <= 0.0:
        return 0.0
    return 1.0 - np.exp(-dt / mean_days)


@nb.njit(cache=True, inline="always")
def beta_for_r0(r0, p_rem, dt):
    """Transmission rate per day such that ``beta * dt * E[substeps infectious] = r0``
    with ``E[substeps] = 1 / p_rem`` (geometric stay): ``beta = r0 p_rem / dt``."""
    return r0 * p_rem / dt


@nb.njit(cache=True, inline="always")
def force_of_infection(beta, mult, w_h, w_c, w_d, w_r, i_h, n_h, i_loc, n_loc, i_d, n_d, i_r, n_r):
    """Force of infection on one susceptible, per day.

    ``beta * mult * (w_h i_h/n_h + w_c i_loc/n_loc + w_d i_d/n_d + w_r i_r/n_r)``;
    a pool with no people contributes 0.
    """
    x = 0.0
    if n_h > 0:
        x += w_h * i_h / n_h
    if n_loc > 0:
        x += w_c * i_loc / n_loc
    if n_d > 0:
        x += w_d * i_d / n_d
    if n_r > 0:
        x += w_r * i_r / n_r
    return beta * mult * x


@nb.njit(cache=True, inline="always")
def case_fatality(cfr_treated_access, malnourished, mal_fat_mult):
    """Probability a case dies when it leaves I: the district's CFR after treatment
    access, times the malnutrition multiplier for households with malnourished
    under-fives, capped at 1."""
    c = cfr_treated_access * (mal_fat_mult if malnourished else 1.0)
    return min(max(c, 0.0), 1.0)


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def seir_transitions(s, e, i, r, p_inf, p_ei, p_rem, cfr, p_wane, u_inf, u_ei, u_rem, u_die, u_wane):
    """One substep of a household's chain binomial (all from start-of-substep counts).

    Returns
    -------
    s, e, i, r : int  counts after the substep (dead removed)
    new_e : int  new infections (S -> E)
    new_i : int  new infectious (E -> I)
    deaths : int  cases who died on leaving I
    """
    new_e = binomial_inv(u_inf, s, p_inf)
    new_i = binomial_inv(u_ei, e, p_ei)
    out = binomial_inv(u_rem, i, p_rem)
    deaths = binomial_inv(u_die, out, cfr)
    wane = binomial_inv(u_wane, r, p_wane)
    return (
        s - new_e + wane,
        e + new_e - new_i,
        i + new_i - out,
        r + out - deaths - wane,
        new_e,
        new_i,
        deaths,
    )


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def remove_dead_members(k, members, u5, adults, malnourished, key_who, i):
    """Take ``k`` dead members out of the household's counts.

    A household with malnourished under-fives loses under-fives first (they carry
    the higher fatality); otherwise the j-th death takes an under-five, an adult or
    an older child in proportion to those left (draw: ``disease.who``, index
    ``2i + j // 64``, slot ``j % 64``). Keeps ``u5 + adults <= members``.

    Returns
    -------
    members, u5, adults : int
    """
    for j in range(k):
        if members <= 0:
            break
        if malnourished and u5 > 0:
            u5 -= 1
        else:
            w = uniform(key_who, 2 * i + j // 64, j % 64) * members
            if w < u5:
                u5 -= 1
            elif w < u5 + adults:
                adults -= 1
        members -= 1
    return members, u5, adults


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def remove_excess(excess, s, e, i, r, key, idx):
    """Remove ``excess`` people (who died of other causes) from the compartments,
    each from a compartment chosen in proportion to its count (draw: ``key``, index
    ``2 idx + j // 64``, slot ``j % 64``).

    Returns
    -------
    s, e, i, r : int
    """
    for j in range(excess):
        tot = s + e + i + r
        if tot <= 0:
            break
        w = uniform(key, 2 * idx + j // 64, j % 64) * tot
        if w < s:
            s -= 1
        elif w < s + e:
            e -= 1
        elif w < s + e + i:
            i -= 1
        else:
            r -= 1
    return s, e, i, r


@nb.njit(parallel=True, cache=True)
def init_seir(key, members, immune_frac, exposed_frac, dis_s, dis_e, dis_i, dis_r):
    """Initial compartments: ``Binomial(members, immune_frac)`` immune (R, slot 0),
    ``Binomial(rest, exposed_frac)`` exposed (E, slot 1), the rest susceptible."""
    for i in nb.prange(members.size):
        m = np.int64(members[i])
        if m <= 0:
            dis_s[i] = 0
            dis_e[i] = 0
            dis_i[i] = 0
            dis_r[i] = 0
            continue
        imm = binomial_inv(uniform(key, i, 0), m, immune_frac)
        ex = binomial_inv(uniform(key, i, 1), m - imm, exposed_frac)
        dis_s[i] = m - imm - ex
        dis_e[i] = ex
        dis_i[i] = 0
        dis_r[i] = imm


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def reconcile(i, m, key_rec, key_ill, sym_frac, dis_s, dis_e, dis_i, dis_r, sick):
    """Month start for household ``i`` with ``m`` members alive: members who died of
    other causes leave the compartments (:func:`remove_excess`), members added join S,
    and ``sick`` is the ill among those infectious (``Binomial(I, sym_frac)``).

    Returns
    -------
    s, e, i, r : int  the compartments written back
    """
    s = np.int64(dis_s[i])
    e = np.int64(dis_e[i])
    ii = np.int64(dis_i[i])
    r = np.int64(dis_r[i])
    tot = s + e + ii + r
    if tot > m:
        s, e, ii, r = remove_excess(tot - m, s, e, ii, r, key_rec, i)
    elif tot < m:
        s += m - tot
    dis_s[i] = s
    dis_e[i] = e
    dis_i[i] = ii
    dis_r[i] = r
    sick[i] = binomial_inv(uniform(key_ill, i, 0), ii, sym_frac) if ii > 0 else 0
    return s, e, ii, r


@nb.njit(cache=True, inline="always")
def add_to_pools(pool_row, loc, dsp, ii, m, e, r):
    """Add a household's infectious, people, exposed and recovered (or their changes)
    to its district's totals ``pool_row[D, N_POOL]``, and to its camp's when in one (the
    community's, at home, are the caller's)."""
    pool_row[loc, P_LOC_I] += ii
    pool_row[loc, P_LOC_N] += m
    pool_row[loc, P_E] += e
    pool_row[loc, P_R] += r
    if dsp == 2:
        pool_row[loc, P_CAMP_I] += ii
        pool_row[loc, P_CAMP_N] += m


@nb.njit(parallel=True, cache=True)
def month_start(
    key_rec,
    key_ill,
    sym_frac,
    comm_start,
    members,
    location,
    displaced,
    dis_s,
    dis_e,
    dis_i,
    dis_r,
    sick,
    comm_tot,
    pool_acc,
):
    """Start of a month: reconcile compartments with members alive, reset ``sick``,
    and count the mixing pools.

    Members who died of other causes since the last disease step leave the
    compartments (:func:`remove_excess`); members added by another module (none
    today) join S.

    Parameters
    ----------
    key_rec : uint64  stream key (``disease.reconcile``, tick)
    key_ill : uint64  stream key (``disease.ill``, tick): slot 0, ill among those
        infectious at the start of the month, ``Binomial(I, sym_frac)``
    sym_frac : float  share of infections that make the person ill
    comm_start : int64[C+1]
    members .. dis_r : household arrays [n]
    sick : int8[n]  out: members infectious and ill at the start of the month
    comm_tot : int64[C, 2]  out: infectious and people at home in each community
    pool_acc : int64[T, D, N_POOL]  out (zeroed by caller): per-thread district totals,
        columns :data:`P_LOC_I`, :data:`P_LOC_N`, :data:`P_CAMP_I`, :data:`P_CAMP_N`,
        :data:`P_E`, :data:`P_R`
    """
    for c in nb.prange(comm_start.size - 1):
        tid = nb.get_thread_id()
        ci = 0
        cn = 0
        for i in range(comm_start[c], comm_start[c + 1]):
            m = np.int64(members[i])
            s, e, ii, r = reconcile(i, m, key_rec, key_ill, sym_frac, dis_s, dis_e, dis_i, dis_r, sick)
            if m <= 0:
                continue
            add_to_pools(pool_acc[tid], location[i], displaced[i], ii, m, e, r)
            if displaced[i] == 0:
                ci += ii
                cn += m
        comm_tot[c, 0] = ci
        comm_tot[c, 1] = cn


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def p_infection(p, loc, dsp, mal, ii, m, i_comm, n_comm, pool, i_region, n_region, d_mult):
    """Per-susceptible infection probability this substep of a household with ``ii``
    infectious of ``m`` members, at ``loc`` (its community's totals ``i_comm, n_comm`` at
    home, its camp's in a camp, its district's when hosted)."""
    mult = d_mult[loc]
    if dsp == 0:
        i_loc = i_comm
        n_loc = n_comm
    elif dsp == 2:
        i_loc = pool[loc, P_CAMP_I]
        n_loc = pool[loc, P_CAMP_N]
        mult *= p.camp_mult
    else:
        i_loc = pool[loc, P_LOC_I]
        n_loc = pool[loc, P_LOC_N]
    if mal:
        mult *= p.mal_sus_mult
    lam = force_of_infection(p.beta, mult, p.w_h, p.w_c, p.w_d, p.w_r, ii, m, i_loc, n_loc, pool[loc, P_LOC_I],
                             pool[loc, P_LOC_N], i_region, n_region)
    return 1.0 - np.exp(-lam * p.dt) if lam > 0.0 else 0.0


@nb.njit(cache=True)  # not inlined: scalar arguments, cheap to call, quicker to compile
def chain_step(p, key, key_who, i, s, e, ii, r, m, mal, p_inf, cfr, members, dead, u5, adults, dis_s, dis_e, dis_i,
               dis_r, sick):
    """One household's chain binomial in one substep, written back (compartments,
    ``sick``, and ``members, dead, u5, adults`` for disease deaths); ``cfr`` the case
    fatality of the ill where it is.

    Returns
    -------
    e, ii, r, m : int  after the substep
    new_e, deaths : int
    sick : int  members alive who were ill at some time this month
    """
    # per infection: the case fatality of the ill times the share who fall ill
    # (matters only when someone is infectious: no one else can die of it)
    ifr = case_fatality(cfr, mal, p.mal_fat_mult) * p.sym_frac if ii > 0 else 0.0
    # draw only what can matter (a hash per transition that can happen)
    u_inf = uniform(key, i, 0) if s > 0 and p_inf > 0.0 else 1.0
    u_ei = uniform(key, i, 1) if e > 0 else 1.0
    u_rem = uniform(key, i, 2) if ii > 0 else 1.0
    u_die = uniform(key, i, 3) if ii > 0 and ifr > 0.0 else 1.0
    u_wane = uniform(key, i, 4) if r > 0 and p.p_wane > 0.0 else 1.0
    s, e, ii, r, new_e, new_i, deaths = seir_transitions(
        s, e, ii, r, p_inf, p.p_ei, p.p_rem, ifr, p.p_wane, u_inf, u_ei, u_rem, u_die, u_wane
    )
    ill = binomial_inv(uniform(key, i, 5), new_i, p.sym_frac) if new_i > 0 else 0
    # members alive who were ill this month; deaths are taken from the ill (the
    # fatality is per ill case; a household whose deaths outnumber its ill in
    # one month, possible only by chance when symptomatic_frac < 1, floors at 0)
    sk = max(np.int64(sick[i]) + ill - deaths, 0)
    if deaths > 0:
        m, n5, nad = remove_dead_members(deaths, m, np.int64(u5[i]), np.int64(adults[i]), mal, key_who, i)
        members[i] = m
        dead[i] += deaths
        u5[i] = n5
        adults[i] = nad
    dis_s[i] = s
    dis_e[i] = e
    dis_i[i] = ii
    dis_r[i] = r
    sk = min(sk, m)
    sick[i] = sk
    return e, ii, r, m, new_e, deaths, sk


@nb.njit(parallel=True, cache=True)
def disease_substep(
    p,
    key,
    key_who,
    comm_start,
    comm_tot,
    pool,
    i_region,
    n_region,
    d_mult,
    d_cfr,
    members,
    dead,
    u5,
    adults,
    malnutrition,
    district,
    location,
    displaced,
    female_head,
    marginalised,
    poorest,
    livelihood,
    dis_s,
    dis_e,
    dis_i,
    dis_r,
    sick,
    last,
    comm_next,
    pool_acc,
    acc,
    loc_new,
):
    """Advance every household one substep (synchronous: pools from the start state).

    Parameters
    ----------
    p : DiseaseParams
    key, key_who : uint64  stream keys (``disease`` and ``disease.who``, ``ti * 64 + substep``)
    comm_start : int64[C+1]
    comm_tot : int64[C, 2]  infectious and people at home per community, start of substep
    pool : int64[D, N_POOL]  district totals at the start of the substep (by current district)
    i_region, n_region : int  region totals at the start of the substep
    d_mult : float64[D]  transmission multiplier of the current district (water scarcity,
        WASH; see :meth:`hssim.hazards.disease.Disease.district_multipliers`)
    d_cfr : float64[D]  case fatality after treatment access in the current district
    members .. livelihood : household arrays [n] (see hssim.state); members, dead,
        u5, adults updated for disease deaths
    dis_s, dis_e, dis_i, dis_r : int8[n]  compartments, updated
    sick : int8[n]  members alive who were infectious at some time this month, updated
    last : bool  last substep of the month (adds the end-of-month sums)
    comm_next : int64[C, 2]  out: community totals at the end of the substep
    pool_acc : int64[T, D, N_POOL]  out (zeroed by caller): district totals at the end
    acc : int64[T, D, N_CELLS, 4]  indicator sums by district of origin, added to
    loc_new : int64[T, D]  new infections by current district, added to
    """
    for c in nb.prange(comm_start.size - 1):
        tid = nb.get_thread_id()
        ci = 0
        cn = 0
        i_comm = comm_tot[c, 0]
        n_comm = comm_tot[c, 1]
        # without infectious members (most households) the infection probability depends
        # only on (location, displacement, malnutrition), shared by neighbours: reuse the
        # last one computed (the same inputs give the same bits)
        last_loc = -1
        last_dsp = -1
        last_mal = False
        last_p_inf = 0.0
        for i in range(comm_start[c], comm_start[c + 1]):
            m = np.int64(members[i])
            if m <= 0:
                continue
            s = np.int64(dis_s[i])
            e = np.int64(dis_e[i])
            ii = np.int64(dis_i[i])
            r = np.int64(dis_r[i])
            loc = location[i]
            dsp = displaced[i]
            mal = malnutrition[i] > 0
            p_inf = 0.0
            if s > 0 and ii == 0 and loc == last_loc and dsp == last_dsp and mal == last_mal:
                p_inf = last_p_inf
            elif s > 0:
                p_inf = p_infection(p, loc, dsp, mal, ii, m, i_comm, n_comm, pool, i_region, n_region, d_mult)
                if ii == 0:
                    last_loc = loc
                    last_dsp = dsp
                    last_mal = mal
                    last_p_inf = p_inf
            e, ii, r, m, new_e, deaths, sk = chain_step(p, key, key_who, i, s, e, ii, r, m, mal, p_inf, d_cfr[loc],
                                                        members, dead, u5, adults, dis_s, dis_e, dis_i, dis_r, sick)
            # pools at the end of the substep = pools at the start of the next one
            add_to_pools(pool_acc[tid], loc, dsp, ii, m, e, r)
            if dsp == 0:
                ci += ii
                cn += m
            if new_e > 0:
                loc_new[tid, loc] += new_e
            if new_e > 0 or deaths > 0 or last:
                cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], dsp)
                a = acc[tid, district[i], cell]
                a[A_NEW_INFECTIONS] += new_e
                a[A_DEATHS] += deaths
                a[A_SICK] += deaths  # the dead were ill this month too
                if last:
                    a[A_INFECTIOUS] += ii
                    a[A_SICK] += sk
        comm_next[c, 0] = ci
        comm_next[c, 1] = cn


@nb.njit(cache=True)
def import_infections(
    key,
    mean,
    members,
    dis_s,
    dis_e,
    district,
    location,
    female_head,
    marginalised,
    poorest,
    livelihood,
    displaced,
    acc,
    loc_new,
):
    """Seed ``Poisson(mean)`` imported infections (index 0, slot 0), each into a
    household chosen uniformly by hash (index ``1 + j // 64``, slot ``j % 64``): a
    susceptible member becomes exposed; a household with none is not infected.

    Returns
    -------
    drawn, seeded : int  importations drawn and infections actually seeded
    """
    k = poisson_inv(uniform(key, 0, 0), mean)
    n = members.size
    seeded = 0
    for j in range(k):
        h = min(np.int64(uniform(key, 1 + j // 64, j % 64) * n), n - 1)
        if members[h] > 0 and dis_s[h] > 0:
            dis_s[h] -= 1
            dis_e[h] += 1
            cell = cell_of(female_head[h], marginalised[h], poorest[h], livelihood[h], displaced[h])
            acc[0, district[h], cell, A_NEW_INFECTIONS] += 1
            loc_new[0, location[h]] += 1
            seeded += 1
    return k, seeded


@nb.njit(cache=True)
def _thread_total(acc):
    """int64[D, N_POOL] the per-thread rows ``acc[T, D, N_POOL]`` added up."""
    out = np.zeros(acc.shape[1:], np.int64)
    for t in range(acc.shape[0]):
        for d in range(acc.shape[1]):
            for k in range(acc.shape[2]):
                out[d, k] += acc[t, d, k]
    return out


@nb.njit(cache=True)
def _column_total(pool, column):
    """Region total of one column of ``pool[D, N_POOL]``."""
    total = 0
    for d in range(pool.shape[0]):
        total += pool[d, column]
    return total


@nb.njit(cache=True)
def disease_month(
    p,
    keys,
    keys_who,
    keys_import,
    key_rec,
    key_ill,
    mean_import,
    skip_quiet,
    comm_start,
    comm_tot,
    comm_next,
    d_mult,
    d_cfr,
    members,
    dead,
    u5,
    adults,
    malnutrition,
    district,
    location,
    displaced,
    female_head,
    marginalised,
    poorest,
    livelihood,
    dis_s,
    dis_e,
    dis_i,
    dis_r,
    sick,
    pool_acc,
    acc,
    loc_new,
):
    """One month of the epidemic in one call: :func:`month_start`, then each substep
    :func:`disease_substep` and the importations (:func:`import_infections`).

    A quiet substep (nobody exposed or infectious, no waning immunity to draw, no
    importation seeded just before; never the last) changes nothing and draws
    nothing, and is skipped when ``skip_quiet``.

    Parameters
    ----------
    p : DiseaseParams
    keys, keys_who, keys_import : uint64[n_sub]  stream keys (``disease``,
        ``disease.who``, ``disease.import``) of each substep
    key_rec, key_ill : uint64  stream keys (``disease.reconcile``, ``disease.ill``) of the tick
    mean_import : float  expected importations per substep
    skip_quiet : bool
    comm_start : int64[C+1]
    comm_tot, comm_next : int64[C, 2]  community totals (scratch; see the return value)
    d_mult, d_cfr : float64[D]  see :func:`disease_substep`
    members .. sick : household arrays [n], updated
    pool_acc : int64[T, D, N_POOL]  scratch
    acc : int64[T, D, N_CELLS, N_ACC]  indicator sums, added to (zeroed by the caller)
    loc_new : int64[T, D]  new infections by current district, added to (zeroed by the caller)

    Returns
    -------
    imported : int  importations seeded this month
    skipped : int  quiet substeps skipped
    swapped : bool  whether the last community totals are in ``comm_next`` (an odd
        number of substeps ran): the caller swaps its two arrays
    """
    pool_acc[:] = 0
    month_start(key_rec, key_ill, p.sym_frac, comm_start, members, location, displaced, dis_s, dis_e, dis_i, dis_r, sick,
                comm_tot, pool_acc)
    pool = _thread_total(pool_acc)
    imported = 0
    skipped = 0
    swapped = False
    seeded = 0
    n_sub = keys.size
    for sub in range(n_sub):
        last = sub == n_sub - 1
        # a quiet substep (nobody exposed or infectious, no waning immunity to draw)
        # would change nothing and draw nothing: skip it (exact); the last one of a
        # month always runs, it adds the month's end sums
        quiet = (skip_quiet and not last and seeded == 0 and _column_total(pool, P_LOC_I) == 0
                 and _column_total(pool, P_E) == 0 and (p.p_wane == 0.0 or _column_total(pool, P_R) == 0))
        if quiet:
            skipped += 1
        else:
            pool_acc[:] = 0
            disease_substep(p, keys[sub], keys_who[sub], comm_start, comm_tot, pool, _column_total(pool, P_LOC_I),
                            _column_total(pool, P_LOC_N), d_mult, d_cfr, members, dead, u5, adults, malnutrition, district,
                            location, displaced, female_head, marginalised, poorest, livelihood, dis_s, dis_e, dis_i,
                            dis_r, sick, last, comm_next, pool_acc, acc, loc_new)
            pool = _thread_total(pool_acc)
            comm_tot, comm_next = comm_next, comm_tot
            swapped = not swapped
        seeded = 0
        if mean_import > 0.0:
            _, seeded = import_infections(keys_import[sub], mean_import, members, dis_s, dis_e, district, location,
                                          female_head, marginalised, poorest, livelihood, displaced, acc, loc_new)
            imported += seeded
    return imported, skipped, swapped


# -- event-driven month -------------------------------------------------------------------
#
# The same chain binomial, resolved only where something can happen. A household with
# nobody exposed or infectious ("quiet") can change in a substep only by an infection
# from outside (its S members, at the per-susceptible rate of its mixing group) or by
# immunity waning (its R members). Its next such event is drawn once, not every substep:
#
# - infection: the group's cumulative force of infection per susceptible since the
#   month began, ``clock_g = sum over substeps of lambda_g dt``, is kept per group
#   (at home: community x malnourished; hosted: current district x malnourished; in a
#   camp: camp x malnourished). Nobody of the S is infected through a substep with
#   probability ``exp(-S lambda dt)`` each, so the first substep with an infection is
#   the first whose clock reaches ``thr = clock_then + Exp(1) / S``; in it the number
#   infected is ``Binomial(S, 1 - exp(-lambda dt))`` given at least one;
# - waning: ``P(no one of R wanes in a substep) = (1 - p_wane)^R``, so the number of
#   substeps without waning is geometric: the next waning substep is drawn once; in it
#   ``Binomial(R, p_wane)`` given at least one wane.
#
# Both are redrawn after any change of S or R within the month (memoryless: a fresh draw
# has the same law as the remaining wait) and carried across the month's end: the
# infection wait as the hazard it has left in Exp(1) units (valid whatever next month's
# group and S: the household may move, its under-fives' malnutrition change, members die
# of other causes), the waning wait while R is unchanged. A household
# with someone exposed or infectious ("active") is stepped substep by substep exactly as
# in :func:`disease_substep` (same streams and slots). Pools are kept by differences:
# only households that change move them.
#
# Streams (besides those of the chain binomial):
#
# =====================  ==================  =======  ===============================================
# stream                 tick                index    slot
# =====================  ==================  =======  ===============================================
# ``disease.clock``      ``ti``              i        0 infection threshold, 1 waning substep
#                                                     (drawn at the month start when none is
#                                                     carried)
# ``disease.event``      ``sub``             i        0 infection threshold, 1 waning substep (redrawn
#                                                     after a change), 2 infected at an infection
#                                                     event, 3 waned at a waning event
# =====================  ==================  =======  ===============================================

#: wait of "no event this month"
NEVER = np.int32(2**30)
#: households away from home stepped per iteration of a substep's parallel loop
AWAY_CHUNK = 256


@nb.njit(cache=True, inline="always")
def waning_wait(u, r, log_keep):
    """Substeps without waning before the next waning substep, ``Geometric(1 - (1 -
    p_wane)^r)`` on {0, 1, ...} by inversion at ``u``; :data:`NEVER` when it cannot
    happen. ``log_keep = log(1 - p_wane)`` (< 0 when immunity wanes)."""
    if r <= 0 or log_keep >= 0.0:
        return NEVER
    k = np.floor(np.log(u) / (r * log_keep))
    return np.int32(k) if k < NEVER else NEVER


@nb.njit(cache=True, inline="always")
def binomial_at_least_one(u, n, p):
    """``Binomial(n, p)`` given at least one success, by inversion at ``u`` of the
    conditional CDF (``u`` rescaled above ``P(0) = (1 - p)^n``)."""
    p0 = (1.0 - p) ** n
    k = binomial_inv(p0 + u * (1.0 - p0), n, p)
    return max(k, 1)


@nb.njit(cache=True, inline="always")
def group_of(c, loc, dsp, mal, n_comm, n_dist):
    """Mixing group of a household: community x malnourished at home, current district x
    malnourished when hosted, its camp x malnourished in a camp."""
    m = 1 if mal else 0
    if dsp == 0:
        return 2 * c + m
    if dsp == 2:
        return 2 * n_comm + 2 * n_dist + 2 * loc + m
    return 2 * n_comm + 2 * loc + m


@nb.njit(cache=True)
def group_rates(p, comm_tot, comm_district, pool, i_region, n_region, d_mult, lam):
    """Per-susceptible force of infection (per day) of every mixing group on households
    with nobody infectious (their own household term is zero); see :func:`group_of`.

    lam : float64[2 C + 4 D]  out
    """
    C = comm_tot.shape[0]
    D = pool.shape[0]
    for g in range(lam.size):
        m = g % 2
        if g < 2 * C:
            c = g // 2
            loc = comm_district[c]
            i_loc = comm_tot[c, 0]
            n_loc = comm_tot[c, 1]
            mult = d_mult[loc]
        elif g < 2 * C + 2 * D:
            loc = (g - 2 * C) // 2
            i_loc = pool[loc, P_LOC_I]
            n_loc = pool[loc, P_LOC_N]
            mult = d_mult[loc]
        else:
            loc = (g - 2 * C - 2 * D) // 2
            i_loc = pool[loc, P_CAMP_I]
            n_loc = pool[loc, P_CAMP_N]
            mult = d_mult[loc] * p.camp_mult
        if m == 1:
            mult *= p.mal_sus_mult
        lam[g] = force_of_infection(p.beta, mult, p.w_h, p.w_c, p.w_d, p.w_r, 0, 1, i_loc, n_loc, pool[loc, P_LOC_I],
                                    pool[loc, P_LOC_N], i_region, n_region)


@nb.njit(cache=True, inline="always")
def _fold_summary(n_active, first_wane, low0, low1, active, wane, t, mal):
    """A community's block summary (see :func:`event_substep`) with one more household
    at home: ``active`` (someone exposed or infectious) counts it; a quiet one brings its
    waning substep ``wane`` and its threshold ``t`` on its group's clock (``mal``: the
    malnourished group). Returns ``n_active, first_wane, low0, low1``."""
    if active:
        return n_active + 1, first_wane, low0, low1
    first_wane = min(first_wane, wane)
    if mal:
        return n_active, first_wane, low0, min(low1, t)
    return n_active, first_wane, min(low0, t), low1


@nb.njit(cache=True, inline="always")
def _store_summary(block, c, n_active, first_wane, low0, low1):
    """Row ``c`` of ``block`` float64[C, 4] (what :func:`_block_due` reads)."""
    block[c, 0] = n_active
    block[c, 1] = first_wane
    block[c, 2] = low0
    block[c, 3] = low1


@nb.njit(parallel=True, cache=True)
def month_start_event(key_rec, key_ill, key_clock, sym_frac, log_keep, comm_start, members, malnutrition, location,
                      displaced, dis_s, dis_e, dis_i, dis_r, sick, n_dist, group, thr, wane_at, r_end, block,
                      comm_tot, pool_acc):
    """Month start of the event algorithm: :func:`month_start` (same draws) and, in the
    same pass, every household's mixing group and every quiet household's waits.

    A wait carried from last month is kept (memoryless: its remainder has the law of a
    fresh one): the infection threshold from the residual ``thr[i]`` (Exp(1) units of
    hazard left, see :func:`month_end_event`) over this month's S, the waning substep
    when R is unchanged. Otherwise (the household was active, or R changed, or it is the
    first month: ``thr`` NaN, ``r_end`` -1) the wait is drawn (stream ``disease.clock``,
    slot 0 threshold, slot 1 waning).

    group : int32[n]  out;  thr : float64[n]  in: residuals, out: thresholds on the group's
    clock (``inf``: none);  wane_at : int32[n]  in: carried substeps, out;  r_end : int8[n]
    R at the end of last month (-1: not carried);  block : float64[C, 4]  out: each
    community's summary of its households at home (see :func:`event_substep`);  other
    arguments as :func:`month_start`
    """
    C = comm_start.size - 1
    for c in nb.prange(C):
        tid = nb.get_thread_id()
        ci = 0
        cn = 0
        n_active = 0
        first_wane = NEVER
        low0 = np.inf
        low1 = np.inf
        for i in range(comm_start[c], comm_start[c + 1]):
            m = np.int64(members[i])
            s, e, ii, r = reconcile(i, m, key_rec, key_ill, sym_frac, dis_s, dis_e, dis_i, dis_r, sick)
            loc = location[i]
            dsp = displaced[i]
            group[i] = group_of(c, loc, dsp, malnutrition[i] > 0, C, n_dist)
            if m <= 0:
                thr[i] = np.inf
                wane_at[i] = NEVER
                continue
            add_to_pools(pool_acc[tid], loc, dsp, ii, m, e, r)
            if dsp == 0:
                ci += ii
                cn += m
            if e > 0 or ii > 0:
                thr[i] = np.inf
                wane_at[i] = NEVER
                if dsp == 0:
                    n_active, first_wane, low0, low1 = _fold_summary(n_active, first_wane, low0, low1, True, NEVER,
                                                                     np.inf, False)
                continue
            res = thr[i]
            if s <= 0:
                thr[i] = np.inf
            elif res == res:  # carried (not NaN)
                thr[i] = res / s
            else:
                thr[i] = -np.log(uniform(key_clock, i, 0)) / s
            if r <= 0 or log_keep >= 0.0:
                wane_at[i] = NEVER
            elif r_end[i] != r or wane_at[i] >= NEVER:
                wane_at[i] = waning_wait(uniform(key_clock, i, 1), r, log_keep)
            if dsp == 0:
                n_active, first_wane, low0, low1 = _fold_summary(n_active, first_wane, low0, low1, False, wane_at[i],
                                                                 thr[i], malnutrition[i] > 0)
        comm_tot[c, 0] = ci
        comm_tot[c, 1] = cn
        _store_summary(block, c, n_active, first_wane, low0, low1)


@nb.njit(cache=True, inline="always")
def _has_work(i, sub, dis_s, dis_e, dis_i, group, thr, wane_at, lam, clock):
    """Whether household ``i`` changes this substep in the event algorithm: active, or its
    waning substep or its infection threshold has come."""
    if dis_e[i] != 0 or dis_i[i] != 0:
        return True
    g = group[i]
    return wane_at[i] <= sub or (dis_s[i] > 0 and clock[g] >= thr[i] and lam[g] > 0.0)


@nb.njit(cache=True)  # not inlined: called only for households with something to do
def _advance(i, sub, p, key, key_who, key_evt, log_keep, i_comm, n_comm, pool, i_region, n_region, d_mult, d_cfr, lam,
             clock, members, dead, u5, adults, malnutrition, district, location, displaced, female_head, marginalised,
             poorest, livelihood, dis_s, dis_e, dis_i, dis_r, sick, group, thr, wane_at, pool_row, acc_row, loc_new_row):
    """One household's substep in the event algorithm: an active household by the chain
    binomial of :func:`disease_substep` (same streams and slots); a quiet one whose wait
    has come by its event. District changes go to ``pool_row[D, N_POOL]``, sums to
    ``acc_row[D, N_CELLS, N_ACC]`` and ``loc_new_row[D]`` (the thread's rows).

    Returns
    -------
    d_inf, d_people : int  change of its infectious and its people (community totals)
    """
    m = np.int64(members[i])
    s = np.int64(dis_s[i])
    e = np.int64(dis_e[i])
    ii = np.int64(dis_i[i])
    r = np.int64(dis_r[i])
    loc = location[i]
    dsp = displaced[i]
    if e == 0 and ii == 0:
        # quiet: an infection from outside, a waning, or both, drawn from the same substep
        g = group[i]
        new_e = 0
        if s > 0 and clock[g] >= thr[i] and lam[g] > 0.0:
            new_e = binomial_at_least_one(uniform(key_evt, i, 2), s, 1.0 - np.exp(-lam[g] * p.dt))
        waned = binomial_at_least_one(uniform(key_evt, i, 3), r, p.p_wane) if wane_at[i] <= sub else 0
        s = s - new_e + waned
        r = r - waned
        dis_s[i] = s
        dis_e[i] = new_e
        dis_r[i] = r
        pool_row[loc, P_E] += new_e
        pool_row[loc, P_R] -= waned
        if new_e > 0:
            # active from the next substep on (its waits are drawn when it is quiet again)
            thr[i] = np.inf
            wane_at[i] = NEVER
            loc_new_row[loc] += new_e
            acc_row[district[i], cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], dsp),
                    A_NEW_INFECTIONS] += new_e
        else:
            thr[i] = clock[g] - np.log(uniform(key_evt, i, 0)) / s if s > 0 else np.inf
            w = waning_wait(uniform(key_evt, i, 1), r, log_keep)
            wane_at[i] = sub + 1 + w if w < NEVER else NEVER
        return 0, 0
    mal = malnutrition[i] > 0
    p_inf = p_infection(p, loc, dsp, mal, ii, m, i_comm, n_comm, pool, i_region, n_region, d_mult) if s > 0 else 0.0
    e1, i1, r1, m1, new_e, deaths, _ = chain_step(p, key, key_who, i, s, e, ii, r, m, mal, p_inf, d_cfr[loc], members,
                                                  dead, u5, adults, dis_s, dis_e, dis_i, dis_r, sick)
    add_to_pools(pool_row, loc, dsp, i1 - ii, m1 - m, e1 - e, r1 - r)  # the changes
    if new_e > 0:
        loc_new_row[loc] += new_e
    if new_e > 0 or deaths > 0:
        a = acc_row[district[i], cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], dsp)]
        a[A_NEW_INFECTIONS] += new_e
        a[A_DEATHS] += deaths
        a[A_SICK] += deaths  # the dead were ill this month too
    if e1 == 0 and i1 == 0 and m1 > 0:
        # quiet again: its waits from now (the clock already holds this substep)
        s1 = np.int64(dis_s[i])
        thr[i] = clock[group[i]] - np.log(uniform(key_evt, i, 0)) / s1 if s1 > 0 else np.inf
        w = waning_wait(uniform(key_evt, i, 1), r1, log_keep)
        wane_at[i] = sub + 1 + w if w < NEVER else NEVER
    return i1 - ii, m1 - m


@nb.njit(parallel=True, cache=True)
def event_substep(
    p,
    sub,
    full,
    key,
    key_who,
    key_evt,
    log_keep,
    comm_start,
    comm_tot,
    pool,
    i_region,
    n_region,
    d_mult,
    d_cfr,
    lam,
    clock,
    members,
    dead,
    u5,
    adults,
    malnutrition,
    district,
    location,
    displaced,
    female_head,
    marginalised,
    poorest,
    livelihood,
    dis_s,
    dis_e,
    dis_i,
    dis_r,
    sick,
    group,
    thr,
    wane_at,
    away,
    block,
    comm_next,
    pool_acc,
    acc,
    loc_new,
):
    """One substep, event-driven: active households as in :func:`disease_substep`, quiet
    ones only when their infection threshold or waning substep comes (:func:`_advance`).

    A community whose households at home are all quiet and none due (by its block
    summary: no active household, the earliest waning substep later, each group's
    clock below its lowest threshold) is not visited. Households away from home (hosted
    or in a camp) are visited through ``away``.

    Parameters (besides :func:`disease_substep`'s)
    ----------
    sub : int  substep of the month
    full : bool  visit every community (their summaries may be stale: an importation)
    key_evt : uint64  stream key ``disease.event`` of the substep
    log_keep : float  ``log(1 - p_wane)``
    lam, clock : float64[G]  group rates this substep and cumulative rates (this one's added)
    group, thr, wane_at : household arrays [n] (see :func:`month_start_event`), updated
    away : int64[k]  households away from home this month
    block : float64[C, 4]  per community, of its households at home: active households,
        earliest waning substep, lowest threshold of each group (not malnourished,
        malnourished); updated for the communities visited
    pool_acc : int64[T, D, N_POOL]  out (zeroed by the caller): changes of the district
        totals in this substep (not the totals)
    comm_next : int64[C, 2]  out: community totals at the end of the substep
    """
    C = comm_start.size - 1
    # one parallel loop (each launch costs): the communities, then the households away
    # from home in chunks of AWAY_CHUNK
    n_chunks = (away.size + AWAY_CHUNK - 1) // AWAY_CHUNK
    for c in nb.prange(C + n_chunks):
        if c >= C:
            tid = nb.get_thread_id()
            for j in range((c - C) * AWAY_CHUNK, min((c - C + 1) * AWAY_CHUNK, away.size)):
                i = away[j]
                if members[i] <= 0 or not _has_work(i, sub, dis_s, dis_e, dis_i, group, thr, wane_at, lam, clock):
                    continue
                _advance(i, sub, p, key, key_who, key_evt, log_keep, 0, 0, pool, i_region, n_region, d_mult, d_cfr, lam,
                         clock, members, dead, u5, adults, malnutrition, district, location, displaced, female_head,
                         marginalised, poorest, livelihood, dis_s, dis_e, dis_i, dis_r, sick, group, thr, wane_at,
                         pool_acc[tid], acc[tid], loc_new[tid])
            continue
        i_comm = comm_tot[c, 0]
        n_comm = comm_tot[c, 1]
        comm_next[c, 0] = i_comm
        comm_next[c, 1] = n_comm
        if not full and not _block_due(block, clock, c, sub):
            continue
        tid = nb.get_thread_id()
        dci = 0
        dcn = 0
        n_active = 0
        first_wane = NEVER
        low0 = np.inf
        low1 = np.inf
        for i in range(comm_start[c], comm_start[c + 1]):
            if members[i] <= 0 or displaced[i] != 0:
                continue
            if _has_work(i, sub, dis_s, dis_e, dis_i, group, thr, wane_at, lam, clock):
                di, dn = _advance(i, sub, p, key, key_who, key_evt, log_keep, i_comm, n_comm, pool, i_region, n_region,
                                  d_mult, d_cfr, lam, clock, members, dead, u5, adults, malnutrition, district,
                                  location, displaced, female_head, marginalised, poorest, livelihood, dis_s, dis_e,
                                  dis_i, dis_r, sick, group, thr, wane_at, pool_acc[tid], acc[tid], loc_new[tid])
                dci += di
                dcn += dn
                if members[i] <= 0:
                    continue
            # the community's summary after the substep
            n_active, first_wane, low0, low1 = _fold_summary(n_active, first_wane, low0, low1,
                                                             dis_e[i] > 0 or dis_i[i] > 0, wane_at[i], thr[i],
                                                             (group[i] & 1) == 1)
        comm_next[c, 0] = i_comm + dci
        comm_next[c, 1] = n_comm + dcn
        _store_summary(block, c, n_active, first_wane, low0, low1)


@nb.njit(parallel=True, cache=True)
def month_end_event(n_sub, comm_start, members, district, displaced, female_head, marginalised, poorest, livelihood,
                    dis_s, dis_e, dis_i, dis_r, sick, group, clock, thr, wane_at, r_end, acc):
    """Month end of the event algorithm: the month's end sums (people infectious now,
    people ill at some time this month) and each quiet household's waits carried to
    next month: the hazard left before its next infection in Exp(1) units, ``(thr -
    clock) S``, in ``thr`` (NaN when there is none to carry: draw afresh), its waning
    substep counted from next month's start, and its R in ``r_end`` (-1 when active)."""
    for c in nb.prange(comm_start.size - 1):
        tid = nb.get_thread_id()
        for i in range(comm_start[c], comm_start[c + 1]):
            if members[i] <= 0:
                continue
            ii = dis_i[i]
            sk = sick[i]
            if ii > 0 or sk > 0:
                cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], displaced[i])
                a = acc[tid, district[i], cell]
                a[A_INFECTIOUS] += ii
                a[A_SICK] += sk
            if ii > 0 or dis_e[i] > 0:
                thr[i] = np.nan
                r_end[i] = -1
                continue
            s = np.int64(dis_s[i])
            t = thr[i]
            thr[i] = (t - clock[group[i]]) * s if s > 0 and t < np.inf else np.nan
            w = wane_at[i]
            wane_at[i] = w - n_sub if w < NEVER else NEVER
            r_end[i] = dis_r[i]


@nb.njit(cache=True, inline="always")
def _block_due(block, clock, c, sub):
    """Whether community ``c`` may have a household at home with something to do this
    substep, by its summary (see :func:`event_substep`)."""
    return block[c, 0] != 0.0 or block[c, 1] <= sub or clock[2 * c] >= block[c, 2] or clock[2 * c + 1] >= block[c, 3]


@nb.njit(cache=True)
def _any_block_due(block, clock, sub):
    """Whether any community may have a household at home with something to do."""
    for c in range(block.shape[0]):
        if _block_due(block, clock, c, sub):
            return True
    return False


@nb.njit(cache=True)
def _add_changes(pool, pool_acc):
    """District totals after a substep: ``pool`` plus the per-thread changes."""
    for t in range(pool_acc.shape[0]):
        for d in range(pool.shape[0]):
            for k in range(pool.shape[1]):
                pool[d, k] += pool_acc[t, d, k]


@nb.njit(cache=True)
def disease_month_event(
    p,
    keys,
    keys_who,
    keys_import,
    keys_evt,
    key_rec,
    key_ill,
    key_clock,
    mean_import,
    skip_quiet,
    comm_start,
    comm_district,
    comm_tot,
    comm_next,
    d_mult,
    d_cfr,
    members,
    dead,
    u5,
    adults,
    malnutrition,
    district,
    location,
    displaced,
    female_head,
    marginalised,
    poorest,
    livelihood,
    dis_s,
    dis_e,
    dis_i,
    dis_r,
    sick,
    group,
    thr,
    wane_at,
    r_end,
    block,
    lam,
    clock,
    pool_acc,
    acc,
    loc_new,
):
    """One month of the epidemic, event-driven (see the section's comment): the same
    process as :func:`disease_month`, with its quiet households' infections and wanings
    drawn as events. Arguments as :func:`disease_month`'s, and

    keys_evt : uint64[n_sub]  stream keys ``disease.event`` of each substep
    key_clock : uint64  stream key ``disease.clock`` of the tick
    comm_district : int64[C]  district of each community
    group, thr, wane_at, r_end : household arrays [n] (int32, float64, int32, int8): the
        waits, carried from month to month (see :func:`month_start_event`; ``thr`` NaN and
        ``r_end`` -1 before the first month)
    block : float64[C, 4]  scratch (see :func:`event_substep`)
    lam, clock : float64[2 C + 4 D]  scratch

    Returns as :func:`disease_month`.
    """
    pool_acc[:] = 0
    log_keep = np.log1p(-p.p_wane) if p.p_wane > 0.0 else 0.0
    month_start_event(key_rec, key_ill, key_clock, p.sym_frac, log_keep, comm_start, members, malnutrition, location,
                      displaced, dis_s, dis_e, dis_i, dis_r, sick, pool_acc.shape[1], group, thr, wane_at, r_end,
                      block, comm_tot, pool_acc)
    pool = _thread_total(pool_acc)
    away = np.flatnonzero(displaced)  # hosted or in a camp: fixed for the month
    clock[:] = 0.0
    imported = 0
    skipped = 0
    swapped = False
    seeded = 0
    for sub in range(keys.size):
        # nothing can happen without anyone exposed or infectious, a waning or an importation
        quiet = (skip_quiet and seeded == 0 and _column_total(pool, P_LOC_I) == 0 and _column_total(pool, P_E) == 0
                 and (p.p_wane == 0.0 or _column_total(pool, P_R) == 0))
        if quiet:
            skipped += 1
        else:
            i_region = _column_total(pool, P_LOC_I)
            n_region = _column_total(pool, P_LOC_N)
            group_rates(p, comm_tot, comm_district, pool, i_region, n_region, d_mult, lam)
            for g in range(clock.size):
                clock[g] += lam[g] * p.dt
            # after an importation the communities' summaries may be stale: visit them all
            # (and always without skip_quiet: the exactness tests compare the two)
            full = seeded > 0 or not skip_quiet
            # nobody with anything to do: no parallel launch (nothing changes, nothing to swap)
            if full or away.size > 0 or _any_block_due(block, clock, sub):
                pool_acc[:] = 0
                event_substep(p, sub, full, keys[sub], keys_who[sub], keys_evt[sub], log_keep, comm_start, comm_tot,
                              pool, i_region, n_region, d_mult, d_cfr, lam, clock, members, dead, u5, adults,
                              malnutrition, district, location, displaced, female_head, marginalised, poorest, livelihood,
                              dis_s, dis_e, dis_i, dis_r, sick, group, thr, wane_at, away, block, comm_next, pool_acc,
                              acc, loc_new)
                _add_changes(pool, pool_acc)
                comm_tot, comm_next = comm_next, comm_tot
                swapped = not swapped
        seeded = 0
        if mean_import > 0.0:
            before = loc_new[0].copy()
            _, seeded = import_infections(keys_import[sub], mean_import, members, dis_s, dis_e, district, location,
                                          female_head, marginalised, poorest, livelihood, displaced, acc, loc_new)
            # the seeded are exposed where they are (the households turn active: their
            # waits are drawn again when they are quiet)
            for d in range(pool.shape[0]):
                pool[d, P_E] += loc_new[0, d] - before[d]
            imported += seeded
    month_end_event(keys.size, comm_start, members, district, displaced, female_head, marginalised, poorest, livelihood,
                    dis_s, dis_e, dis_i, dis_r, sick, group, clock, thr, wane_at, r_end, acc)
    return imported, skipped, swapped
