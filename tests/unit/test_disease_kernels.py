"""Disease kernels (hssim.kernels.disease) against pure-Python references.

The references are written from the kernels' docstrings in plain Python floats and
ints. Random draws use a Python splitmix64 ``uniform_ref`` (checked against
hssim.rng in tests/unit/test_rng.py) and ``binom_ref``, a plain-Python copy of the
binomial inversion ``binomial_inv`` documents (that function itself is checked
against exact binomial quantiles in tests/unit/test_household_kernels.py), so the
composed kernels can be compared draw for draw, exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hssim import rng
from hssim.hazards.disease import DiseaseConfig, coupling_mult, make_params
from hssim.kernels.disease import (
    A_DEATHS,
    A_INFECTIOUS,
    A_NEW_INFECTIONS,
    A_SICK,
    N_ACC,
    N_POOL,
    P_E,
    P_R,
    beta_for_r0,
    case_fatality,
    disease_substep,
    force_of_infection,
    import_infections,
    init_seir,
    month_start,
    p_transition,
    poisson_inv,
    remove_dead_members,
    remove_excess,
    seir_transitions,
)
from hssim.sums import N_CELLS

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


# ------------------------------------------------------------------ references
def mix64_ref(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def uniform_ref(key, index: int, slot: int) -> float:
    x = mix64_ref((int(key) + ((index * rng.N_SLOTS + slot) & MASK) * GOLDEN) & MASK)
    return ((x >> 12) + 0.5) * 2.0**-52


def binom_ref(u: float, n: int, p: float) -> int:
    """Binomial inversion as ``binomial_inv`` documents it (smallest k with CDF(k) >= u)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if u <= 1.0 - n * p:
        return 0
    q = 1.0 - p
    pk = 1.0
    for _ in range(n):
        pk *= q
    cdf, k, ratio = pk, 0, p / q
    while u > cdf and k < n:
        pk *= (n - k) / (k + 1) * ratio
        k += 1
        cdf += pk
    return k


def poisson_quantile_ref(u: float, mean: float) -> int:
    """Smallest k with P(X <= k) >= u, from the Poisson pmf summed in plain Python."""
    k, cdf = 0, math.exp(-mean)
    while cdf < u:
        k += 1
        cdf += math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
    return k


def cell_ref(fh, mg, pq, lv, dsp) -> int:
    return fh + 2 * mg + 4 * pq + 8 * lv + 32 * (dsp > 0)


# ------------------------------------------------------------------ scalar functions
def test_p_transition_and_beta():
    assert p_transition(7.6, 5.0) == pytest.approx(1.0 - math.exp(-7.6 / 5.0), rel=1e-15)
    assert p_transition(1.0, 0.0) == 0.0  # mean 0 means "never" (lifelong immunity)
    p = p_transition(7.6, 5.0)
    # beta dt E[steps] = r0 with E[steps] = 1 / p
    assert beta_for_r0(2.0, p, 7.6) * 7.6 / p == pytest.approx(2.0, rel=1e-14)


def test_make_params_couplings_and_derived():
    cfg = DiseaseConfig(
        r0=3.0,
        infectious_days=5.0,
        latent_days=2.0,
        substeps_per_month=4,
        immunity_waning_months=6.0,
        camp_crowding_rr=2.5,
        malnutrition_susceptibility_rr=1.5,
        malnutrition_fatality_rr=4.0,
    )
    p = make_params(cfg, 30.4, s_malnutrition=0.5, s_displacement=2.0)
    dt = 7.6
    assert p.dt == pytest.approx(dt)
    assert p.p_rem == pytest.approx(1 - math.exp(-dt / 5.0))
    assert p.p_ei == pytest.approx(1 - math.exp(-dt / 2.0))
    assert p.p_wane == pytest.approx(1 - math.exp(-dt / (6 * 30.4)))
    assert p.beta == pytest.approx(3.0 * p.p_rem / dt)
    assert p.camp_mult == pytest.approx(1 + 2.0 * 1.5)
    assert p.mal_sus_mult == pytest.approx(1.25)
    assert p.mal_fat_mult == pytest.approx(2.5)
    # strength 0 removes a link exactly; a multiplier never goes negative
    assert coupling_mult(0.0, 7.0) == 1.0
    assert coupling_mult(3.0, 0.5) == 0.0
    assert make_params(DiseaseConfig(immunity_waning_months=0.0), 30.4).p_wane == 0.0


@pytest.mark.parametrize("mean", [0.0, 0.05, 0.7, 3.0, 25.0, 180.0])
def test_poisson_inv_matches_quantile(mean):
    key = rng.stream_key(1, "test.poisson", 0)
    for j in range(300):
        u = uniform_ref(key, j, 0)
        assert poisson_inv(u, mean) == (0 if mean == 0 else poisson_quantile_ref(u, mean)), (u, mean)


def test_force_of_infection_hand_cases():
    # beta 0.4, mult 1.5; weights .3 .4 .2 .1; pools: household 1/4, local 10/100, district 30/1000, region 60/6000
    got = force_of_infection(0.4, 1.5, 0.3, 0.4, 0.2, 0.1, 1, 4, 10, 100, 30, 1000, 60, 6000)
    ref = 0.4 * 1.5 * (0.3 * 0.25 + 0.4 * 0.1 + 0.2 * 0.03 + 0.1 * 0.01)
    assert got == pytest.approx(ref, rel=1e-15)
    # an empty pool contributes nothing (no division by zero)
    assert force_of_infection(1.0, 1.0, 0.25, 0.25, 0.25, 0.25, 0, 0, 5, 0, 0, 0, 1, 2) == pytest.approx(0.125)


def test_case_fatality():
    assert case_fatality(0.06, False, 3.0) == pytest.approx(0.06)
    assert case_fatality(0.06, True, 3.0) == pytest.approx(0.18)
    assert case_fatality(0.5, True, 3.0) == 1.0  # capped


def seir_ref(s, e, i, r, p_inf, p_ei, p_rem, ifr, p_wane, us):
    new_e = binom_ref(us[0], s, p_inf)
    new_i = binom_ref(us[1], e, p_ei)
    out = binom_ref(us[2], i, p_rem)
    deaths = binom_ref(us[3], out, ifr)
    wane = binom_ref(us[4], r, p_wane)
    return (s - new_e + wane, e + new_e - new_i, i + new_i - out, r + out - deaths - wane, new_e, new_i, deaths)


def test_seir_transitions_vs_reference():
    key = rng.stream_key(2, "test.seir", 0)
    j = 0
    for s, e, i, r in [(5, 0, 0, 0), (3, 2, 1, 0), (0, 0, 4, 2), (10, 5, 6, 3), (1, 1, 1, 1)]:
        for p_inf, p_ei, p_rem, ifr, p_wane in [
            (0.3, 0.9, 0.8, 0.1, 0.0),
            (0.9, 0.5, 0.5, 0.5, 0.2),
            (0.0, 1.0, 1.0, 1.0, 1.0),
        ]:
            us = [uniform_ref(key, j, k) for k in range(5)]
            j += 1
            got = seir_transitions(s, e, i, r, p_inf, p_ei, p_rem, ifr, p_wane, *us)
            ref = seir_ref(s, e, i, r, p_inf, p_ei, p_rem, ifr, p_wane, us)
            assert tuple(got) == ref
            assert sum(got[:4]) == s + e + i + r - got[6]  # people conserved but for deaths
    # hand case: certain transitions
    assert tuple(seir_transitions(2, 3, 4, 5, 1.0, 1.0, 1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5)) == (
        0,
        2,
        3,
        9,
        2,
        3,
        0,
    )
    assert tuple(seir_transitions(2, 3, 4, 5, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5)) == (
        7,
        3,
        0,
        0,
        0,
        0,
        4,
    )


def remove_dead_ref(k, members, u5, adults, mal, key, i):
    for j in range(k):
        if members <= 0:
            break
        if mal and u5 > 0:
            u5 -= 1
        else:
            w = uniform_ref(key, 2 * i + j // 64, j % 64) * members
            if w < u5:
                u5 -= 1
            elif w < u5 + adults:
                adults -= 1
        members -= 1
    return members, u5, adults


def test_remove_dead_members_vs_reference():
    key = rng.stream_key(3, "disease.who", 0)
    for i, (k, m, u5, ad, mal) in enumerate(
        [(1, 5, 2, 2, False), (3, 5, 2, 2, True), (4, 8, 1, 3, True), (70, 100, 30, 40, False), (2, 1, 0, 1, False)]
    ):
        got = remove_dead_members(k, m, u5, ad, mal, key, i)
        ref = remove_dead_ref(k, m, u5, ad, mal, key, i)
        assert tuple(got) == ref
        assert got[1] + got[2] <= got[0] and min(got) >= 0
    # malnourished under-fives die first
    assert tuple(remove_dead_members(2, 6, 3, 2, True, key, 0)) == (4, 1, 2)


def remove_excess_ref(excess, s, e, i, r, key, idx):
    for j in range(excess):
        tot = s + e + i + r
        if tot <= 0:
            break
        w = uniform_ref(key, 2 * idx + j // 64, j % 64) * tot
        if w < s:
            s -= 1
        elif w < s + e:
            e -= 1
        elif w < s + e + i:
            i -= 1
        else:
            r -= 1
    return s, e, i, r


def test_remove_excess_vs_reference():
    key = rng.stream_key(4, "disease.reconcile", 7)
    for idx, (x, s, e, i, r) in enumerate(
        [(1, 3, 1, 1, 1), (4, 1, 1, 1, 1), (2, 0, 0, 5, 0), (90, 40, 30, 20, 10), (3, 1, 0, 0, 0)]
    ):
        got = remove_excess(x, s, e, i, r, key, idx)
        assert tuple(got) == remove_excess_ref(x, s, e, i, r, key, idx)
        assert sum(got) == max(0, s + e + i + r - x)


# ------------------------------------------------------------------ composed kernels
def test_init_seir_vs_reference():
    key = rng.stream_key(5, "disease.init", 0)
    members = np.array([0, 1, 5, 7, 12, 3], np.int8)
    arrs = [np.full(6, 9, np.int8) for _ in range(4)]
    init_seir(key, members, 0.3, 0.2, *arrs)
    for i, m in enumerate(members.tolist()):
        imm = binom_ref(uniform_ref(key, i, 0), m, 0.3) if m > 0 else 0
        ex = binom_ref(uniform_ref(key, i, 1), m - imm, 0.2) if m > 0 else 0
        assert [a[i] for a in arrs] == [m - imm - ex, ex, 0, imm]


def _toy_population():
    """3 communities in 2 districts; at home, hosted and camp households; one empty."""
    comm_start = np.array([0, 4, 7, 10], np.int64)
    n = 10
    hh = dict(
        members=np.array([5, 4, 6, 0, 3, 7, 2, 5, 6, 4], np.int8),
        district=np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1], np.int16),
        location=np.array([0, 0, 1, 0, 0, 1, 0, 1, 1, 0], np.int16),
        displaced=np.array([0, 0, 2, 0, 0, 1, 0, 0, 2, 2], np.int8),
        malnutrition=np.array([0, 1, 2, 0, 0, 1, 0, 0, 1, 0], np.int8),
        female_head=np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], np.int8),
        marginalised=np.array([1, 0, 0, 0, 1, 0, 0, 1, 1, 0], np.int8),
        poorest=np.array([0, 0, 1, 0, 0, 1, 1, 0, 0, 1], np.int8),
        livelihood=np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], np.int8),
    )
    hh["u5"] = np.array([1, 2, 1, 0, 0, 2, 0, 1, 2, 1], np.int8)
    hh["adults"] = np.array([2, 2, 3, 0, 2, 3, 2, 2, 2, 2], np.int8)
    hh["dead"] = np.zeros(n, np.int8)
    hh["dis_s"] = np.array([3, 2, 4, 0, 3, 3, 1, 4, 3, 2], np.int8)
    hh["dis_e"] = np.array([1, 0, 1, 0, 0, 2, 0, 0, 1, 1], np.int8)
    hh["dis_i"] = np.array([1, 2, 1, 0, 0, 1, 1, 1, 2, 0], np.int8)
    hh["dis_r"] = np.array([0, 0, 0, 0, 0, 1, 0, 0, 0, 1], np.int8)
    hh["sick"] = np.array([1, 1, 0, 0, 0, 1, 1, 0, 2, 0], np.int8)
    return comm_start, hh


def pools_ref(comm_start, hh, D):
    comm = []
    pool = [[0] * N_POOL for _ in range(D)]
    for c in range(len(comm_start) - 1):
        ci = cn = 0
        for i in range(comm_start[c], comm_start[c + 1]):
            m = int(hh["members"][i])
            if m <= 0:
                continue
            ii, loc, dsp = int(hh["dis_i"][i]), int(hh["location"][i]), int(hh["displaced"][i])
            pool[loc][0] += ii
            pool[loc][1] += m
            pool[loc][P_E] += int(hh["dis_e"][i])
            pool[loc][P_R] += int(hh["dis_r"][i])
            if dsp == 0:
                ci += ii
                cn += m
            elif dsp == 2:
                pool[loc][2] += ii
                pool[loc][3] += m
        comm.append([ci, cn])
    return comm, pool


def substep_ref(p, key, key_who, comm_start, comm, pool, d_mult, d_cfr, hh, last, acc):
    """One substep on Python ints/floats, household by household (start-of-substep pools)."""
    ir = sum(x[0] for x in pool)
    nr = sum(x[1] for x in pool)
    for c in range(len(comm_start) - 1):
        for i in range(comm_start[c], comm_start[c + 1]):
            m = int(hh["members"][i])
            if m <= 0:
                continue
            s, e, ii, r = (int(hh[k][i]) for k in ("dis_s", "dis_e", "dis_i", "dis_r"))
            loc, dsp, mal = int(hh["location"][i]), int(hh["displaced"][i]), hh["malnutrition"][i] > 0
            mult = d_mult[loc]
            if dsp == 0:
                il, nl = comm[c]
            elif dsp == 2:
                il, nl = pool[loc][2], pool[loc][3]
                mult *= p.camp_mult
            else:
                il, nl = pool[loc][0], pool[loc][1]
            if mal:
                mult *= p.mal_sus_mult
            x = p.w_h * ii / m
            if nl > 0:
                x += p.w_c * il / nl
            x += p.w_d * pool[loc][0] / pool[loc][1]
            x += p.w_r * ir / nr
            p_inf = 1.0 - math.exp(-(p.beta * mult * x) * p.dt) if s > 0 else 0.0
            ifr = min(1.0, d_cfr[loc] * (p.mal_fat_mult if mal else 1.0)) * p.sym_frac
            us = [uniform_ref(key, i, k) for k in range(6)]
            s, e, ii, r, new_e, new_i, deaths = seir_ref(s, e, ii, r, p_inf, p.p_ei, p.p_rem, ifr, p.p_wane, us[:5])
            ill = binom_ref(us[5], new_i, p.sym_frac)
            sk = max(int(hh["sick"][i]) + ill - deaths, 0)
            m2, u5, ad = remove_dead_ref(deaths, m, int(hh["u5"][i]), int(hh["adults"][i]), mal, key_who, i)
            sk = min(sk, m2)
            hh["members"][i], hh["u5"][i], hh["adults"][i] = m2, u5, ad
            hh["dead"][i] += deaths
            hh["dis_s"][i], hh["dis_e"][i], hh["dis_i"][i], hh["dis_r"][i], hh["sick"][i] = s, e, ii, r, sk
            cell = cell_ref(hh["female_head"][i], hh["marginalised"][i], hh["poorest"][i], hh["livelihood"][i], dsp)
            a = acc[int(hh["district"][i])][cell]
            a[A_NEW_INFECTIONS] += new_e
            a[A_DEATHS] += deaths
            a[A_SICK] += deaths
            if last:
                a[A_INFECTIOUS] += ii
                a[A_SICK] += sk


@pytest.mark.parametrize("last", [False, True])
def test_disease_substep_vs_reference(last):
    comm_start, hh = _toy_population()
    ref = {k: v.astype(np.int64).tolist() for k, v in hh.items()}
    D = 2
    cfg = DiseaseConfig(
        r0=6.0,
        w_household=0.4,
        w_community=0.3,
        w_district=0.2,
        w_region=0.1,
        cfr_untreated=0.5,
        symptomatic_frac=0.6,
        immunity_waning_months=1.0,
        camp_crowding_rr=3.0,
    )
    p = make_params(cfg, 30.4)
    key = rng.stream_key(6, "disease", 3)
    key_who = rng.stream_key(6, "disease.who", 3)
    comm, pool = pools_ref(comm_start, hh, D)
    d_mult = np.array([1.0, 1.6])
    d_cfr = np.array([0.5, 0.2])
    T = 2
    comm_next = np.zeros((3, 2), np.int64)
    pool_acc = np.zeros((T, D, N_POOL), np.int64)
    acc = np.zeros((T, D, N_CELLS, N_ACC), np.int64)
    loc_new = np.zeros((T, D), np.int64)
    pool_arr = np.array(pool, np.int64)
    disease_substep(
        p,
        key,
        key_who,
        comm_start,
        np.array(comm, np.int64),
        pool_arr,
        int(pool_arr[:, 0].sum()),
        int(pool_arr[:, 1].sum()),
        d_mult,
        d_cfr,
        hh["members"],
        hh["dead"],
        hh["u5"],
        hh["adults"],
        hh["malnutrition"],
        hh["district"],
        hh["location"],
        hh["displaced"],
        hh["female_head"],
        hh["marginalised"],
        hh["poorest"],
        hh["livelihood"],
        hh["dis_s"],
        hh["dis_e"],
        hh["dis_i"],
        hh["dis_r"],
        hh["sick"],
        last,
        comm_next,
        pool_acc,
        acc,
        loc_new,
    )
    acc_ref = [[[0] * N_ACC for _ in range(N_CELLS)] for _ in range(D)]
    substep_ref(p, key, key_who, comm_start, comm, pool, d_mult.tolist(), d_cfr.tolist(), ref, last, acc_ref)
    for k in ref:
        assert hh[k].tolist() == ref[k], k
    np.testing.assert_array_equal(acc.sum(axis=0), np.array(acc_ref))
    # end-of-substep pools are the next substep's start pools
    comm2, pool2 = pools_ref(comm_start, hh, D)
    np.testing.assert_array_equal(comm_next, np.array(comm2))
    np.testing.assert_array_equal(pool_acc.sum(axis=0), np.array(pool2))
    # something happened in this toy (the comparison is not vacuous)
    assert acc.sum(axis=(0, 2))[:, A_NEW_INFECTIONS].sum() > 0 and int(hh["dead"].sum()) > 0
    assert loc_new.sum() == acc[..., A_NEW_INFECTIONS].sum()
    # invariants: compartments sum to members, members + dead conserved
    comps = hh["dis_s"].astype(int) + hh["dis_e"] + hh["dis_i"] + hh["dis_r"]
    np.testing.assert_array_equal(comps, hh["members"])
    np.testing.assert_array_equal(hh["members"].astype(int) + hh["dead"], _toy_population()[1]["members"])


def test_month_start_reconciles_and_counts():
    comm_start, hh = _toy_population()
    # two members of household 0 and one of household 8 died of other causes; household 4 gained one
    hh["members"][0] -= 2
    hh["members"][8] -= 1
    hh["members"][4] += 1
    before = {k: v.astype(np.int64).tolist() for k, v in hh.items()}
    key_rec = rng.stream_key(7, "disease.reconcile", 2)
    key_ill = rng.stream_key(7, "disease.ill", 2)
    comm_tot = np.zeros((3, 2), np.int64)
    pool_acc = np.zeros((2, 2, N_POOL), np.int64)
    month_start(
        key_rec,
        key_ill,
        0.5,
        comm_start,
        hh["members"],
        hh["location"],
        hh["displaced"],
        hh["dis_s"],
        hh["dis_e"],
        hh["dis_i"],
        hh["dis_r"],
        hh["sick"],
        comm_tot,
        pool_acc,
    )
    for i in range(10):
        m = before["members"][i]
        s, e, ii, r = (before[k][i] for k in ("dis_s", "dis_e", "dis_i", "dis_r"))
        if s + e + ii + r > m:
            s, e, ii, r = remove_excess_ref(s + e + ii + r - m, s, e, ii, r, key_rec, i)
        elif s + e + ii + r < m:
            s += m - (s + e + ii + r)
        assert [hh[k][i] for k in ("dis_s", "dis_e", "dis_i", "dis_r")] == [s, e, ii, r]
        ill = binom_ref(uniform_ref(key_ill, i, 0), ii, 0.5) if ii > 0 else 0
        assert hh["sick"][i] == ill
    comm, pool = pools_ref(comm_start, hh, 2)
    np.testing.assert_array_equal(comm_tot, np.array(comm))
    np.testing.assert_array_equal(pool_acc.sum(axis=0), np.array(pool))


def test_import_infections_vs_reference():
    n = 50
    members = np.where(np.arange(n) % 7 == 0, 0, 4).astype(np.int8)
    dis_s = np.where(np.arange(n) % 5 == 0, 0, members).astype(np.int8)
    dis_e = np.zeros(n, np.int8)
    zeros = np.zeros(n, np.int8)
    district = (np.arange(n) % 3).astype(np.int16)
    location = ((np.arange(n) + 1) % 3).astype(np.int16)
    acc = np.zeros((2, 3, N_CELLS, N_ACC), np.int64)
    loc_new = np.zeros((2, 3), np.int64)
    key = rng.stream_key(8, "disease.import", 5)
    mean = 30.0
    s_ref, e_ref = dis_s.astype(int).tolist(), [0] * n
    k_ref = poisson_quantile_ref(uniform_ref(key, 0, 0), mean)
    seeded_ref = 0
    for j in range(k_ref):
        h = min(int(uniform_ref(key, 1 + j // 64, j % 64) * n), n - 1)
        if members[h] > 0 and s_ref[h] > 0:
            s_ref[h] -= 1
            e_ref[h] += 1
            seeded_ref += 1
    k, seeded = import_infections(
        key, mean, members, dis_s, dis_e, district, location, zeros, zeros, zeros, zeros, zeros, acc, loc_new
    )
    assert (k, seeded) == (k_ref, seeded_ref)
    assert 0 < seeded < k  # some importations hit households without susceptibles
    assert dis_s.tolist() == s_ref and dis_e.tolist() == e_ref
    assert acc[..., A_NEW_INFECTIONS].sum() == seeded == loc_new.sum()
