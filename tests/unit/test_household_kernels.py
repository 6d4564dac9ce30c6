"""Household and initialisation kernels against pure-Python references.

The references below are written from the kernels' docstrings (and the config
schema's field descriptions) in plain Python floats. Each kernel is compared with
its reference on hand-made cases; where a number is easy to work out by hand the
expected value is also written out explicitly.
"""

from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hssim import rng
from hssim.config.schema import HouseholdConfig
from hssim.households.dynamics import livelihood_table, make_params
from hssim.kernels.household import (
    LV_HERD_CAP_TLU,
    LV_TRAP_USD,
    LV_VALUE_CAP_USD,
    LV_WORK_DAYS,
    N_CELLS,
    binomial_inv,
    cell_of,
    deaths_step,
    food_and_coping,
    ipc_phase,
    livestock_step,
    malnutrition_step,
    wage_income,
)
from hssim.kernels.init import allocate, poisson_inv
from hssim.results import GROUPS
from hssim.state import LIVELIHOODS

P = make_params(HouseholdConfig(), 250.0)
MASK = (1 << 64) - 1


def approx(x, rel=1e-9, abs_=1e-9):
    return pytest.approx(x, rel=rel, abs=abs_)


# ================================================================ params / table


def test_make_params_derived_constants():
    assert P.need_kg_per_person == approx(2100.0 * 30.4 / 3500.0)  # 18.24 kg
    assert P.need_kg_per_person == approx(18.24)
    # famine-level excess 1.5 / 10,000 / day over a 30.4-day month
    assert P.p_famine_excess == approx(1.5e-4 * 30.4)
    assert P.livestock_price_norm == 250.0
    assert P.credit_limit_usd == 60.0 and P.distress_price_frac == 0.7
    assert all(isinstance(v, float) for v in P)


def livelihood_table_ref(cfg: HouseholdConfig, lp: float) -> list[list[float]]:
    herds = [cfg.herd_tlu_pastoral, cfg.herd_tlu_agropastoral, cfg.herd_tlu_crop, 0.0]
    assets = [cfg.assets_usd_rural, cfg.assets_usd_rural, cfg.assets_usd_rural, cfg.assets_usd_urban]
    days = [cfg.work_days_pastoral, cfg.work_days_agropastoral, cfg.work_days_crop, cfg.work_days_urban]
    rows = []
    for h, a, d in zip(herds, assets, days):
        median = h * lp + a
        trap = cfg.trap_frac_of_median * median
        rows.append([trap, cfg.saturation_multiple * median, cfg.saturation_multiple * max(h, 1.0), d])
    return rows


def test_livelihood_table_default_numbers():
    t = livelihood_table(HouseholdConfig(), 250.0)
    assert t.shape == (4, 4)
    # medians: pastoral 12*250+150 = 3150, agro-pastoral 4*250+150 = 1150,
    # crop 0.6*250+150 = 300, urban 0+600 = 600
    np.testing.assert_allclose(t[:, LV_TRAP_USD], [1102.5, 402.5, 105.0, 210.0], rtol=1e-12)
    np.testing.assert_allclose(t[:, LV_VALUE_CAP_USD], [12600.0, 4600.0, 1200.0, 2400.0], rtol=1e-12)
    # herd cap: 4 x max(herd, 1)
    np.testing.assert_allclose(t[:, LV_HERD_CAP_TLU], [48.0, 16.0, 4.0, 4.0], rtol=1e-12)
    np.testing.assert_allclose(t[:, LV_WORK_DAYS], [3.0, 5.0, 5.0, 16.0], rtol=1e-12)


@pytest.mark.parametrize(
    "cfg, lp",
    [
        (HouseholdConfig(), 250.0),
        (HouseholdConfig(), 0.0),
        (
            HouseholdConfig(
                herd_tlu_pastoral=20.0,
                herd_tlu_agropastoral=0.5,
                herd_tlu_crop=0.0,
                assets_usd_rural=80.0,
                assets_usd_urban=900.0,
                trap_frac_of_median=0.5,
                saturation_multiple=2.5,
                work_days_urban=20.0,
            ),
            310.0,
        ),
    ],
)
def test_livelihood_table_matches_reference(cfg, lp):
    np.testing.assert_allclose(livelihood_table(cfg, lp), livelihood_table_ref(cfg, lp), rtol=1e-12, atol=0.0)


def test_cell_of_matches_result_groups():
    seen = set()
    for f in (0, 1):
        for m in (0, 1):
            for q in (0, 1):
                for lv in range(4):
                    for disp in (0, 1, 2):
                        c = cell_of(f, m, q, lv, disp)
                        assert 0 <= c < N_CELLS
                        seen.add(c)
                        assert GROUPS["all"][c]
                        assert GROUPS["female_headed"][c] == (f == 1)
                        assert GROUPS["male_headed"][c] == (f == 0)
                        assert GROUPS["marginalised"][c] == (m == 1)
                        assert GROUPS["not_marginalised"][c] == (m == 0)
                        assert GROUPS["poorest_quintile"][c] == (q == 1)
                        assert GROUPS["displaced"][c] == (disp > 0)
                        assert GROUPS["not_displaced"][c] == (disp == 0)
                        for k, name in enumerate(LIVELIHOODS):
                            assert GROUPS[f"livelihood_{name}"][c] == (lv == k)
    assert seen == set(range(N_CELLS))


# ================================================================ livestock


def livestock_ref(herd, p_death, pasture, g, cap, kept):
    """herd (1 - p_death) + kept herd g min(pasture, 1) (1 - herd / cap), kept clipped to [0, 1].

    Births stop at the cap (schema: "herds stop growing ... at this multiple"), so
    the logistic room is floored at zero, and a zero cap means no births; ``kept`` is
    the share of the young stock a household keeps (min(1, value / trap) in the kernel).
    """
    births = 0.0
    if cap > 0.0:
        births = herd * g * min(pasture, 1.0) * max(0.0, 1.0 - herd / cap) * min(max(float(kept), 0.0), 1.0)
    return herd * (1.0 - p_death) + births


LIVESTOCK_CASES = [
    # herd, p_death, pasture, growth, cap, kept
    (10.0, 0.01, 0.8, 0.012, 48.0, True),
    (10.0, 0.01, 0.8, 0.012, 48.0, False),  # nothing kept: no births
    (2.0, 0.004, 1.0, 0.012, 48.0, 0.3),  # below the trap line: a third of the births kept
    (2.0, 0.004, 1.0, 0.012, 48.0, 4.0),  # kept is at most 1
    (10.0, 0.004, 1.6, 0.012, 48.0, True),  # pasture above normal counts as 1
    (60.0, 0.004, 1.0, 0.012, 48.0, True),  # above the cap: no births
    (48.0, 0.0, 1.0, 0.2, 48.0, True),  # at the cap exactly
    (3.0, 0.0, 1.0, 0.012, 0.0, True),  # zero cap
    (0.0, 0.1, 1.0, 0.012, 16.0, True),  # no herd
    (5.0, 1.0, 0.0, 0.012, 16.0, True),  # all die, no pasture
    (5.0, 0.12, 0.3, 0.05, 16.0, True),
]


@pytest.mark.parametrize("case", LIVESTOCK_CASES)
def test_livestock_step_matches_reference(case):
    assert livestock_step(*case) == approx(livestock_ref(*case), rel=1e-13, abs_=1e-13)


def test_livestock_step_hand_numbers():
    # 10 x 0.99 + 10 x 0.012 x 0.8 x (1 - 10/48)
    assert livestock_step(10.0, 0.01, 0.8, 0.012, 48.0, True) == approx(9.9 + 0.096 * (38.0 / 48.0), rel=1e-13)
    assert livestock_step(10.0, 0.01, 0.8, 0.012, 48.0, False) == approx(9.9, rel=1e-13)
    assert livestock_step(60.0, 0.004, 1.0, 0.012, 48.0, True) == approx(60.0 * 0.996, rel=1e-13)
    assert livestock_step(5.0, 1.0, 0.0, 0.012, 16.0, True) == 0.0
    # a herd at half the trap line keeps half its births: it still regrows in a good year
    assert livestock_step(2.0, 0.004, 1.0, 0.012, 48.0, 0.5) == approx(2.0 * 0.996 + 2.0 * 0.006 * (46.0 / 48.0), rel=1e-13)
    assert livestock_step(2.0, 0.004, 1.0, 0.012, 48.0, 0.5) > 2.0


# ================================================================ uniform draws (rng reference)


def uniform_ref(key: int, index: int, slot: int) -> float:
    """splitmix64 of the counter; the top 52 bits plus one half, times 2**-52 (in (0, 1))."""
    z = (int(key) + ((index * rng.N_SLOTS + slot) & MASK) * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    z ^= z >> 31
    return ((z >> 12) + 0.5) * 2.0**-52


def test_uniform_ref_agrees_with_rng():
    key = rng.stream_key(9, "households.deaths", 4)
    for i in (0, 1, 77, 5000):
        for s in (0, 2, 25, 63):
            assert rng.uniform(key, i, s) == uniform_ref(key, i, s)


# ================================================================ binomial by inversion


@functools.lru_cache(maxsize=None)
def binomial_cdf_ref(n: int, p: float) -> tuple[Fraction, ...]:
    """Exact CDF of Binomial(n, p) at k = 0..n: sum of C(n, j) p^j (1 - p)^(n - j),
    in rational arithmetic on the float ``p`` (math.comb, fractions)."""
    pf = Fraction(p)
    qf = 1 - pf
    out = []
    acc = Fraction(0)
    for j in range(n + 1):
        acc += math.comb(n, j) * pf**j * qf ** (n - j)
        out.append(acc)
    assert out[-1] == 1
    return tuple(out)


def binomial_quantile_ref(u: float, n: int, p: float) -> tuple[int, float]:
    """Smallest k with CDF(k) >= u (exact comparison), and the distance from u to
    the CDF steps that decide k: CDF(k - 1) below and CDF(k) above (CDF(n) = 1 is
    not a decision: k never exceeds n)."""
    n = max(int(n), 0)
    cdf = binomial_cdf_ref(n, float(p))
    fu = Fraction(u)
    k = bisect.bisect_left(cdf, fu)
    margin = math.inf
    if k > 0:
        margin = min(margin, float(fu - cdf[k - 1]))
    if k < n:
        margin = min(margin, float(cdf[k] - fu))
    return k, margin


def binomial_pmf_ref(n: int, p: float) -> list[float]:
    cdf = binomial_cdf_ref(n, p)
    return [float(cdf[0])] + [float(cdf[k] - cdf[k - 1]) for k in range(1, n + 1)]


#: margin (distance of u to a CDF step) below which two ways of summing the CDF in
#: floating point may disagree: such draws are not compared
STEP_MARGIN = 1e-12

BINOM_PS = [0.0, 1e-12, 0.01, 0.5, 0.9, 1.0]


def _u_grid(n, p):
    us = [(j + 0.5) / 500.0 for j in range(500)]
    us += [2.0**-53, 1e-300, 1e-9, 0.5, 1.0 - 1e-9, 1.0 - 2.0**-53]
    edge = 1.0 - n * p  # the fast path's boundary
    if 0.0 < edge < 1.0:
        us += [edge, float(np.nextafter(edge, 0.0)), float(np.nextafter(edge, 1.0))]
    key = rng.stream_key(31, "test.binomial", n)
    us += [uniform_ref(key, j, 0) for j in range(200)]
    return us


@pytest.mark.parametrize("p", BINOM_PS)
def test_binomial_inv_matches_exact_quantile_on_grid(p):
    checked = total = 0
    for n in range(31):
        for u in _u_grid(n, p):
            k, margin = binomial_quantile_ref(u, n, p)
            total += 1
            if margin < STEP_MARGIN:
                continue
            got = binomial_inv(u, n, p)
            assert got == k, (u, n, p, got, k)
            checked += 1
    # the draws skipped sit within 1e-12 of a step (e.g. u near 1 when p is tiny)
    assert checked >= 0.97 * total, (checked, total)


def test_binomial_inv_hand_cases():
    # trivial parameters
    for u in (2.0**-53, 0.3, 1.0 - 2.0**-53):
        assert binomial_inv(u, 0, 0.5) == 0
        assert binomial_inv(u, 12, 0.0) == 0
        assert binomial_inv(u, 12, 1.0) == 12
    # n = 1: Bernoulli, CDF(0) = 1 - p
    assert binomial_inv(0.69, 1, 0.3) == 0
    assert binomial_inv(0.7, 1, 0.3) == 0  # on the step: the lower k
    assert binomial_inv(0.71, 1, 0.3) == 1
    # n = 2, p = 1/2: CDF 1/4, 3/4, 1 (exact in binary)
    assert binomial_inv(0.25, 2, 0.5) == 0
    assert binomial_inv(0.2500001, 2, 0.5) == 1
    assert binomial_inv(0.75, 2, 0.5) == 1
    assert binomial_inv(0.7500001, 2, 0.5) == 2
    # n = 3, p = 0.9: CDF 0.001, 0.028, 0.271, 1
    assert binomial_inv(0.0005, 3, 0.9) == 0
    assert binomial_inv(0.02, 3, 0.9) == 1
    assert binomial_inv(0.2, 3, 0.9) == 2
    assert binomial_inv(0.3, 3, 0.9) == 3


@pytest.mark.parametrize("n", [1, 2, 5, 10, 30])
@pytest.mark.parametrize("p", [1e-12, 1e-4, 0.01, 0.02, 0.03])
def test_binomial_inv_fast_path_is_exact(n, p):
    """u <= 1 - n p gives 0, and so does the exact quantile: CDF(0) = (1 - p)^n >= 1 - n p."""
    edge = Fraction(1) - n * Fraction(p)
    assert binomial_cdf_ref(n, p)[0] >= edge  # Bernoulli's inequality
    for u in [(j + 0.5) / 200.0 for j in range(200)] + [float(edge), float(np.nextafter(float(edge), 0.0))]:
        if Fraction(u) <= edge:
            assert binomial_quantile_ref(u, n, p)[0] == 0
            assert binomial_inv(u, n, p) == 0, (u, n, p)


@nb.njit(cache=False)
def _binomial_many(us, n, p):
    out = np.empty(us.size, np.int64)
    for j in range(us.size):
        out[j] = binomial_inv(us[j], n, p)
    return out


N_BINOM = 200_000


@pytest.mark.parametrize(
    "n, p",
    [(1, 0.3), (3, 0.999), (5, 0.01), (10, 0.5), (20, 0.05), (30, 0.002), (30, 0.9), (30, 1e-12), (7, 0.0), (7, 1.0)],
)
def test_binomial_inv_distribution_on_uniform_draws(n, p):
    """Fed uniform draws, the counts of each k are Binomial(n, p) frequencies (5 standard errors)."""
    us = rng.uniforms(rng.stream_key(77, "test.binomial", n), N_BINOM, 2)
    ks = _binomial_many(us, n, p)
    assert ks.min() >= 0 and ks.max() <= n
    counts = np.bincount(ks, minlength=n + 1)
    pmf = binomial_pmf_ref(n, p)
    for k in range(n + 1):
        mean = N_BINOM * pmf[k]
        se = math.sqrt(N_BINOM * pmf[k] * (1.0 - pmf[k]))
        assert abs(counts[k] - mean) <= 5.0 * se, (n, p, k, counts[k], mean, se)
    # and the sample mean is n p within 5 standard errors
    assert abs(ks.mean() - n * p) <= 5.0 * math.sqrt(n * p * (1.0 - p) / N_BINOM) + 1e-12


# ================================================================ wages


def wage_ref(adults, days, wage, p_find, u):
    """Number of adults who find the month's work, Binomial(adults, p_find) at u, x days x wage."""
    k, margin = binomial_quantile_ref(u, adults, p_find)
    return k * days * wage, margin


@pytest.mark.parametrize("adults", [0, 1, 2, 5, 19, 20, 21, 35])
@pytest.mark.parametrize("p_find", [0.0, 0.3, 0.9, 1.0])
def test_wage_income_matches_reference(adults, p_find):
    key = rng.stream_key(9, "households", 4)
    checked = 0
    for i in range(200):
        u = uniform_ref(key, i, 2)
        want, margin = wage_ref(adults, 16.0, 2.5, p_find, u)
        if margin < STEP_MARGIN:
            continue
        got = wage_income(adults, 16.0, 2.5, p_find, u)
        assert got == approx(want, rel=1e-13, abs_=0.0), (adults, p_find, u)
        checked += 1
    assert checked >= 198


def test_wage_income_extremes():
    assert wage_income(7, 5.0, 2.5, 0.0, 0.999) == 0.0
    assert wage_income(7, 5.0, 2.5, 1.0, 1e-9) == approx(7 * 12.5)
    # every adult may work: no cap on the number of adults
    assert wage_income(35, 5.0, 2.5, 1.0, 0.5) == approx(35 * 12.5)
    assert wage_income(0, 5.0, 2.5, 0.8, 0.5) == 0.0
    # one adult: works when u > 1 - p_find (CDF(0) = 1 - p)
    assert wage_income(1, 4.0, 2.0, 0.6, 0.39) == 0.0
    assert wage_income(1, 4.0, 2.0, 0.6, 0.41) == approx(8.0)
    # the share of adults finding work is close to p_find over many households
    key = rng.stream_key(1, "households", 0)
    n, p_find = 20_000, 0.6
    found = sum(wage_income(1, 1.0, 1.0, p_find, rng.uniform(key, i, 2)) for i in range(n))
    assert abs(found / n - p_find) < 5.0 * math.sqrt(p_find * (1 - p_find) / n)
    # and with several adults, the mean number at work is adults x p_find
    adults = 6
    found = np.array([wage_income(adults, 1.0, 1.0, p_find, rng.uniform(key, i, 2)) for i in range(n)])
    assert abs(found.mean() - adults * p_find) < 5.0 * math.sqrt(adults * p_find * (1 - p_find) / n)


# ================================================================ deaths


def deaths_ref(members, u5, adults, p_base, p_all, u_count, key, i):
    """From the docstring of ``deaths_step``.

    k = Binomial(members, p_all) at u_count die. Death j: baseline if the draw at
    slot 2j is below p_base / p_all, else starvation; the draw w at slot 2j + 1
    picks an under-five if w < u5 / members, else an adult if w < (u5 + adults) /
    members, else an older child (members, u5, adults: those still alive).

    Returns ((deaths_baseline, deaths_starvation, members, u5, adults), margin),
    the margin being the smallest distance of a draw to a threshold it was compared with.
    """
    k, margin = binomial_quantile_ref(u_count, members, p_all)
    db = ds = 0
    for j in range(k):
        c = uniform_ref(key, i, 2 * j)
        ratio = p_base / p_all
        margin = min(margin, abs(c - ratio))
        if c < ratio:
            db += 1
        else:
            ds += 1
        w = uniform_ref(key, i, 2 * j + 1)
        a = u5 / members
        b = (u5 + adults) / members
        margin = min(margin, abs(w - a) if u5 > 0 else math.inf, abs(w - b) if adults > 0 else math.inf)
        if w < a:
            u5 -= 1
        elif w < b:
            adults -= 1
        members -= 1
    return (db, ds, members, u5, adults), margin


DEATH_PS = [
    # p_base, p_all
    (0.00106, 0.00106),  # no gap: baseline only
    (0.00106, 0.00106 * (1.0 + 30.0 * 0.25)),
    (0.01, 0.05),
    (0.05, 0.3),
    (0.1, 0.7),
    (0.0, 0.4),  # starvation only
    (0.2, 1.0),  # everyone dies
]


def _households():
    """(members, u5, adults) with u5 + adults <= members, older children the rest."""
    out = []
    for m in (0, 1, 2, 3, 5, 8, 12, 20, 30):
        for u5 in sorted({0, 1, m // 3, m // 2}):
            for ad in sorted({0, 1, (m - u5) // 2, m - u5}):
                if u5 <= m and ad <= m - u5:
                    out.append((m, u5, ad))
    return out


def _deaths_key(tick=3):
    return rng.stream_key(9, "households.deaths", tick)


@pytest.mark.parametrize("p_base, p_all", DEATH_PS)
def test_deaths_step_matches_reference(p_base, p_all):
    key = _deaths_key()
    ukey = rng.stream_key(9, "households", 3)
    checked = total = deaths = 0
    for h, (m, u5, ad) in enumerate(_households()):
        for i in range(h * 60, h * 60 + 60):
            u_count = uniform_ref(ukey, i, 25)
            want, margin = deaths_ref(m, u5, ad, p_base, p_all, u_count, key, i)
            total += 1
            if margin < STEP_MARGIN:
                continue
            got = deaths_step(m, u5, ad, p_base, p_all, u_count, key, i)
            assert tuple(int(x) for x in got) == want, (m, u5, ad, p_base, p_all, u_count, i)
            checked += 1
            deaths += want[0] + want[1]
    assert checked >= 0.99 * total, (checked, total)
    assert deaths > 0  # the comparison covered households where someone died


def test_deaths_step_hand_case():
    """Three members (one under-five, one adult, one older child) who all die (p_all = 1)."""
    key = _deaths_key(11)
    i = 4
    db, ds, m, u5, ad = deaths_step(3, 1, 1, 0.25, 1.0, 0.5, key, i)
    assert (m, u5, ad) == (0, 0, 0)
    # cause of death j: baseline when the draw at slot 2j is below 0.25 / 1
    want_b = sum(1 for j in range(3) if uniform_ref(key, i, 2 * j) < 0.25)
    assert (db, ds) == (want_b, 3 - want_b)


@settings(deadline=None, max_examples=300)
@given(
    m=st.integers(0, 30),
    frac_u5=st.floats(0.0, 1.0),
    frac_ad=st.floats(0.0, 1.0),
    p_base=st.floats(0.0, 0.5),
    excess=st.floats(0.0, 1.0),
    i=st.integers(0, 10**6),
    tick=st.integers(-5, 500),
    u_idx=st.integers(0, 10**6),
)
def test_deaths_step_conserves_people(m, frac_u5, frac_ad, p_base, excess, i, tick, u_idx):
    u5 = int(frac_u5 * m)
    ad = int(frac_ad * (m - u5))
    p_all = min(1.0, p_base + excess)
    key = _deaths_key(tick)
    u_count = rng.uniform(rng.stream_key(9, "households", tick), u_idx, 25)
    db, ds, m2, u5_2, ad2 = (int(x) for x in deaths_step(m, u5, ad, p_base, p_all, u_count, key, i))
    assert db >= 0 and ds >= 0
    assert m2 == m - db - ds
    assert 0 <= u5_2 <= u5 and 0 <= ad2 <= ad
    assert u5_2 + ad2 <= m2
    # older children never go negative either, and each death removes exactly one person
    assert (u5 - u5_2) + (ad - ad2) <= db + ds
    assert (m - u5 - ad) - (m2 - u5_2 - ad2) >= 0
    k, margin = binomial_quantile_ref(u_count, m, p_all)
    if margin >= STEP_MARGIN:
        assert db + ds == k
    if p_all == 0.0:
        assert db + ds == 0


@pytest.mark.parametrize("p_base", [0.00106, 0.01, 0.3, 0.99])
def test_deaths_step_no_excess_means_baseline_deaths_only(p_base):
    key = _deaths_key(5)
    total = 0
    for i in range(400):
        for m, u5, ad in [(30, 5, 12), (6, 2, 2), (1, 0, 1)]:
            u_count = rng.uniform(rng.stream_key(2, "households", 5), i, 25)
            db, ds, *_ = deaths_step(m, u5, ad, p_base, p_base, u_count, key, i)
            assert ds == 0
            total += db
    assert total > 0  # some deaths happened, all of them baseline


@pytest.mark.parametrize("p_all", [0.001, 0.05, 0.5, 1.0])
def test_deaths_step_zero_baseline_means_starvation_only(p_all):
    key = _deaths_key(6)
    total = 0
    for i in range(400):
        for m, u5, ad in [(30, 5, 12), (6, 2, 2), (1, 0, 1)]:
            u_count = rng.uniform(rng.stream_key(2, "households", 6), i, 25)
            db, ds, *_ = deaths_step(m, u5, ad, 0.0, p_all, u_count, key, i)
            assert db == 0
            total += ds
    assert total > 0


@pytest.mark.parametrize(
    "m, u5, ad", [(1, 0, 1), (1, 1, 0), (1, 0, 0), (7, 2, 3), (30, 6, 10), (30, 0, 30), (30, 30, 0)]
)
@pytest.mark.parametrize("p_base", [0.0, 0.1, 1.0])
def test_deaths_step_certain_death_takes_everyone(m, u5, ad, p_base):
    key = _deaths_key(7)
    for i in range(50):
        for u_count in (2.0**-53, 0.5, 1.0 - 2.0**-53):
            db, ds, m2, u5_2, ad2 = deaths_step(m, u5, ad, p_base, 1.0, u_count, key, i)
            assert (m2, u5_2, ad2) == (0, 0, 0)
            assert db + ds == m
            want_b = sum(1 for j in range(m) if uniform_ref(key, i, 2 * j) < p_base)
            assert db == want_b


def test_deaths_step_nobody_dies_without_risk():
    key = _deaths_key(8)
    for i in range(50):
        assert tuple(deaths_step(9, 2, 4, 0.0, 0.0, 1.0 - 2.0**-53, key, i)) == (0, 0, 9, 2, 4)
        assert tuple(deaths_step(0, 0, 0, 0.1, 1.0, 0.5, key, i)) == (0, 0, 0, 0, 0)


def test_deaths_step_causes_and_victims_in_proportion():
    """One death per household (u_count between CDF(0) and CDF(1)): the cause is
    baseline with p_base / p_all, and the victim an under-five, adult or older child
    with their shares of the household (5 standard errors)."""
    m, u5, ad = 10, 3, 4
    p_base, p_all = 0.002, 0.01
    cdf = binomial_cdf_ref(m, p_all)
    u_count = float((cdf[0] + cdf[1]) / 2)
    assert binomial_quantile_ref(u_count, m, p_all)[0] == 1
    key = _deaths_key(9)
    n = 40_000
    base = lost_u5 = lost_ad = lost_old = 0
    for i in range(n):
        db, ds, m2, u5_2, ad2 = deaths_step(m, u5, ad, p_base, p_all, u_count, key, i)
        assert db + ds == 1 and m2 == m - 1
        base += db
        lost_u5 += u5 - u5_2
        lost_ad += ad - ad2
        lost_old += (m - u5 - ad) - (m2 - u5_2 - ad2)
    assert lost_u5 + lost_ad + lost_old == n
    for count, prob in [(base, p_base / p_all), (lost_u5, 0.3), (lost_ad, 0.4), (lost_old, 0.3)]:
        assert abs(count / n - prob) < 5.0 * math.sqrt(prob * (1.0 - prob) / n), (count, prob)


# ================================================================ food and coping


def food_ref(need, stock, cash, price, nonfood, savings, debt, value, trap, vcap, capacity, members, extra_credit, p):
    """The coping ladder, read from the docstring of ``food_and_coping``.

    Returns (outputs tuple in the kernel's order, flows dict).
    """
    own = min(stock, need)
    stock_left = stock - own
    to_buy = need - own
    food_bill = to_buy * price
    required = food_bill + nonfood
    missing = required - cash
    short = missing > 0.0
    flows = dict(
        repay=0.0, saved=0.0, drawn=0.0, support=0.0, borrow=0.0, begging=0.0, food_cut=0.0, nonfood_cut=0.0,
        nonfood_unfunded=0.0,
    )
    coping = 0
    sold = 0.0
    invest = 0.0
    nonfood_spent = nonfood
    if not short:
        spare = cash - required
        # a surplus repays debt ...
        flows["repay"] = min(debt, p.debt_repay_frac * spare)
        debt -= flows["repay"]
        spare -= flows["repay"]
        # ... is saved ...
        flows["saved"] = p.save_frac * spare
        savings += flows["saved"]
        spare -= flows["saved"]
        after = value
        if value < trap and savings >= trap - value:
            # below the line, savings buy the household back up to it when they suffice ...
            invest = trap - value
            savings -= invest
            after = trap
        if trap <= after < vcap:
            # ... and at or above the line the surplus is invested until the value cap
            more = min(p.invest_frac * spare, vcap - after)
            invest += more
            spare -= more
        # savings beyond savings_cap_months of needs are spent; below the line the
        # household saves towards the purchase that lifts it over (the value it lacks)
        limit = p.savings_cap_months * required
        if after < trap:
            limit = max(limit, trap - after)
        if savings > limit:
            spare += savings - limit
            savings = limit
        nonfood_spent = nonfood + spare
    else:
        gap = missing
        # 1. stress: savings, informal support, borrowing, smaller meals
        drawn = min(savings, gap)
        if drawn > 0.0:
            coping = 1
        savings -= drawn
        gap -= drawn
        flows["drawn"] = drawn
        support = gap * p.support_max_frac * capacity
        if support > 0.0:
            coping = 1  # relying on informal support is a stress strategy
        gap -= support
        flows["support"] = support
        if gap > 0.0:
            # a savings group's loan fund lends beyond the informal credit limit
            borrow = min(max(0.0, p.credit_limit_usd + extra_credit - debt), gap)
            if borrow > 0.0:
                coping = 1
            debt += borrow
            gap -= borrow
            flows["borrow"] = borrow
        if gap > 0.0:
            coping = 1
            c = min(gap, p.meal_cut_stress_frac * food_bill)
            flows["food_cut"] += c
            gap -= c
        # 2. crisis: half the health/education spending, assets down to the trap, fewer meals
        if gap > 0.0:
            coping = 2
            c = min(gap, 0.5 * nonfood)
            flows["nonfood_cut"] = c
            nonfood_spent = nonfood - c
            gap -= c
            if p.distress_price_frac > 0.0:
                s = min(p.crisis_sell_frac * value, max(0.0, value - trap), gap / p.distress_price_frac)
                sold += s
                gap -= s * p.distress_price_frac
            c = min(gap, max(0.0, (p.meal_cut_crisis_frac - p.meal_cut_stress_frac) * food_bill))
            flows["food_cut"] += c
            gap -= c
        # 3. emergency: last assets, begging (1e-9: rounding tolerance of the kernel)
        if gap > 1e-9:
            coping = 3
            if p.distress_price_frac > 0.0:
                s = min(p.crisis_sell_frac * (value - sold), gap / p.distress_price_frac)
                sold += s
                gap -= s * p.distress_price_frac
            b = min(gap, p.emergency_income_usd_per_person * members)
            flows["begging"] = b
            gap -= b
            # non-food down to the survival items before going without food (HEA)
            c = min(gap, max(0.0, nonfood_spent - p.nonfood_survival_frac * nonfood))
            flows["nonfood_cut"] += c
            nonfood_spent -= c
            gap -= c
        # what is still missing is not eaten ...
        flows["food_cut"] += max(gap, 0.0)
        # ... and what is missing beyond the whole food bill is not spent on non-food
        # either: nothing is spent that the household does not have
        unfunded = flows["food_cut"] - food_bill
        if unfunded > 0.0:
            flows["nonfood_unfunded"] = unfunded
            nonfood_spent = max(0.0, nonfood_spent - unfunded)
            flows["food_cut"] = food_bill
    bought = max(0.0, to_buy - flows["food_cut"] / price)
    adequacy = min(1.0, (own + bought) / need) if need > 0 else 1.0
    consumption = (own + bought) * price + nonfood_spent
    flows["food_bill"] = food_bill
    flows["bought_usd"] = bought * price
    flows["nonfood_spent"] = nonfood_spent
    return (adequacy, coping, stock_left, savings, debt, sold, invest, consumption, short), flows


OUT_NAMES = ("adequacy", "coping", "stock_kg", "savings", "debt", "sold_usd", "invest_usd", "consumption_usd", "short")


def run_kernel(args, p=P):
    a = [float(x) for x in args[:11]] + [int(args[11]), float(args[12])]
    return food_and_coping(*a, p)


def assert_same(got, want, context=""):
    assert len(got) == len(want) == len(OUT_NAMES)
    for name, g, w in zip(OUT_NAMES, got, want):
        if name in ("coping", "short"):
            assert g == w, (name, g, w, context)
        else:
            assert g == approx(w), (name, g, w, context)


# five members: need 5 x 18.24 = 91.2 kg; at 0.45 USD/kg the food bill is 41.04,
# non-food 30, so 71.04 USD are required. Agro-pastoral trap 402.5, value cap 4600.
NEED, PRICE, NONFOOD, M = 91.2, 0.45, 30.0, 5
FB = NEED * PRICE  # 41.04
REQ = FB + NONFOOD  # 71.04
TRAP, VCAP = 402.5, 4600.0


def hh(stock=0.0, cash=100.0, savings=0.0, debt=0.0, value=500.0, capacity=0.0, need=NEED, nonfood=NONFOOD, members=M,
       extra_credit=0.0):
    return (need, stock, cash, PRICE, nonfood, savings, debt, value, TRAP, VCAP, capacity, members, extra_credit)


# (id, args, expected coping, hand-worked expectations)
CASES = [
    (
        "surplus_above_trap_invests",
        hh(cash=100.0, savings=20.0, debt=10.0, value=500.0),
        0,
        # surplus 28.96; repay min(10, 14.48) = 10; save 0.3 x 18.96; invest 0.2 x 0.7 x 18.96
        dict(adequacy=1.0, debt=0.0, savings=20.0 + 0.3 * 18.96, invest_usd=0.2 * 0.7 * 18.96, sold_usd=0.0,
             consumption_usd=REQ + 0.8 * 0.7 * 18.96, short=False),
    ),
    (
        "surplus_above_value_cap_no_investment",
        hh(cash=100.0, value=5000.0),
        0,
        dict(adequacy=1.0, invest_usd=0.0, savings=0.3 * 28.96, consumption_usd=REQ + 0.7 * 28.96),
    ),
    (
        "surplus_investment_limited_by_value_cap",
        hh(cash=100.0, value=4599.0),
        0,
        dict(invest_usd=1.0, savings=0.3 * 28.96),
    ),
    (
        "surplus_below_trap_lumpy_purchase",
        hh(cash=100.0, savings=200.0, value=300.0),
        0,
        # up to the line (102.5), then invest_frac of the rest of the surplus as above it
        dict(invest_usd=102.5 + 0.2 * 0.7 * 28.96, savings=200.0 + 0.3 * 28.96 - 102.5,
             consumption_usd=REQ + 0.8 * 0.7 * 28.96),
    ),
    (
        "surplus_below_trap_saves_beyond_the_months_cap",
        hh(cash=100.0, savings=300.0, value=0.0, nonfood=0.0),
        0,
        # 6 months of needs is 246.24 < 402.5 lacking: savings are kept towards the purchase
        dict(invest_usd=0.0, savings=300.0 + 0.3 * (100.0 - FB), consumption_usd=FB + 0.7 * (100.0 - FB)),
    ),
    (
        "surplus_below_trap_savings_too_small",
        hh(cash=100.0, savings=50.0, value=300.0),
        0,
        dict(invest_usd=0.0, savings=50.0 + 0.3 * 28.96),
    ),
    (
        "surplus_savings_above_cap_are_spent",
        hh(cash=100.0, savings=1000.0, value=5000.0),
        0,
        # cap 6 months x 71.04
        dict(savings=6.0 * REQ, consumption_usd=REQ + 0.7 * 28.96 + (1000.0 + 0.3 * 28.96 - 6.0 * REQ)),
    ),
    (
        "surplus_from_own_stock",
        hh(stock=200.0, cash=40.0, value=5000.0),
        0,
        # eats 91.2 kg of its 200; only non-food (30) is bought; surplus 10
        dict(adequacy=1.0, stock_kg=200.0 - NEED, savings=3.0, consumption_usd=FB + 30.0 + 7.0),
    ),
    (
        "stress_covered_by_savings",
        hh(cash=50.0, savings=100.0, debt=0.0),
        1,
        dict(adequacy=1.0, savings=100.0 - 21.04, debt=0.0, short=True, consumption_usd=REQ),
    ),
    (
        "stress_support_then_borrowing",
        hh(cash=50.0, savings=0.0, debt=0.0, capacity=1.0),
        1,
        # support 0.35 x 21.04 covers part, the rest is borrowed
        dict(adequacy=1.0, debt=21.04 * 0.65, sold_usd=0.0),
    ),
    (
        "stress_borrowing",
        hh(cash=50.0, savings=0.0, debt=30.0, capacity=0.0),
        1,
        dict(adequacy=1.0, debt=51.04),
    ),
    (
        "stress_borrowing_from_savings_group_beyond_credit_limit",
        hh(cash=50.0, savings=0.0, debt=60.0, capacity=0.0, extra_credit=40.0),
        1,
        # informal credit is used up (60); the group's fund lends the 21.04 missing
        dict(adequacy=1.0, debt=81.04, sold_usd=0.0, consumption_usd=REQ),
    ),
    (
        "crisis_after_savings_group_credit_is_used_up",
        hh(cash=20.0, debt=60.0, value=2000.0, extra_credit=10.0),
        2,
        # 51.04 short: borrow 10 (to 70 = 60 + 10), stress cut 4.104, non-food cut 15,
        # sell 21.936 / 0.7 of assets
        dict(adequacy=0.9, debt=70.0, sold_usd=21.936 / 0.7, consumption_usd=0.9 * FB + 15.0),
    ),
    (
        "stress_meal_cut",
        hh(cash=67.0, savings=0.0, debt=60.0),
        1,
        # shortfall 4.04 < 10% of the food bill (4.104): eat a little less
        dict(adequacy=1.0 - 4.04 / FB, debt=60.0, consumption_usd=REQ - 4.04),
    ),
    (
        "stress_support_and_meal_cut",
        hh(cash=67.0, savings=0.0, debt=60.0, capacity=0.5),
        1,
        dict(adequacy=1.0 - 4.04 * (1 - 0.175) / FB),
    ),
    (
        "crisis_asset_sales_above_trap",
        hh(cash=20.0, debt=60.0, value=2000.0),
        2,
        # 51.04 short: stress cut 4.104, non-food cut 15, sell 31.936 / 0.7 of assets
        dict(adequacy=0.9, sold_usd=31.936 / 0.7, consumption_usd=0.9 * FB + 15.0),
    ),
    (
        "crisis_sales_stop_at_trap_line",
        hh(cash=35.0, debt=60.0, value=420.0),
        2,
        # 36.04 short: 4.104 stress cut, 15 non-food, sell 17.5 (down to the trap), 4.686 fewer meals
        dict(sold_usd=17.5, adequacy=1.0 - (4.104 + 16.936 - 17.5 * 0.7) / FB),
    ),
    (
        "crisis_meal_cut_below_trap",
        hh(cash=45.0, debt=60.0, value=300.0),
        2,
        # 26.04 short: 4.104 stress cut, 15 non-food, no sales below the trap, 6.936 fewer meals
        dict(sold_usd=0.0, adequacy=1.0 - (4.104 + 6.936) / FB, consumption_usd=FB - 11.04 + 15.0),
    ),
    (
        "emergency_last_assets_and_begging",
        hh(cash=0.0, debt=60.0, value=100.0),
        3,
        # 71.04 short: 4.104 + 15 + 8.208 (crisis meals) -> 43.728; sell 25 (a quarter) for 17.5,
        # beg 7.5, non-food from 15 to the survival items (0.25 x 30 = 7.5), and 11.228 more is not eaten
        dict(sold_usd=25.0, adequacy=1.0 - (4.104 + 8.208 + 11.228) / FB, consumption_usd=FB - 23.54 + 7.5),
    ),
    (
        "emergency_zero_assets",
        hh(cash=20.0, debt=60.0, value=0.0),
        3,
        # 51.04 short: 4.104 + 15 + 8.208 -> 23.728; beg 7.5; non-food 15 -> 7.5; 8.728 not eaten
        dict(sold_usd=0.0, adequacy=1.0 - 21.04 / FB, consumption_usd=FB - 21.04 + 7.5),
    ),
    (
        "emergency_destitute_nonfood_unfunded",
        hh(cash=0.0, savings=0.0, debt=60.0, value=0.0, capacity=0.0),
        3,
        # 71.04 short: 4.104 + 15 + 8.208 -> 43.728; beg 7.5; non-food falls from 15 to the
        # survival items (7.5, all of it begged); the 28.728 still missing is the rest of the food bill
        dict(adequacy=0.0, sold_usd=0.0, debt=60.0, consumption_usd=7.5),
    ),
    (
        "zero_need",
        hh(need=0.0, nonfood=0.0, cash=10.0, members=0, value=5000.0),
        0,
        dict(adequacy=1.0, short=False),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_food_and_coping_cases(case):
    _, args, coping, hand = case
    got = run_kernel(args)
    want, _ = food_ref(*args, P)
    assert_same(got, want, case[0])
    assert got[1] == coping
    out = dict(zip(OUT_NAMES, got))
    for k, v in hand.items():
        if isinstance(v, bool):
            assert out[k] == v, k
        else:
            assert out[k] == approx(v), (k, out[k], v)


def test_food_and_coping_without_distress_sales():
    p0 = make_params(HouseholdConfig(distress_price_frac=0.0), 250.0)
    args = hh(cash=20.0, debt=60.0, value=2000.0)
    got = run_kernel(args, p0)
    want, _ = food_ref(*args, p0)
    assert_same(got, want)
    assert got[5] == 0.0  # nothing can be sold
    assert got[1] == 3


def test_support_alone_counts_as_stress_coping():
    """Informal support is a stress strategy (docstring, step 1).

    With support_max_frac = 1 (allowed by the schema) and full community capacity
    (nobody short last month), support covers the whole shortfall; the household
    relied on it, so its coping level is 1 (stress), not 0 (none).
    """
    p1 = make_params(HouseholdConfig(support_max_frac=1.0), 250.0)
    args = hh(cash=50.0, savings=0.0, debt=0.0, capacity=1.0)
    got = run_kernel(args, p1)
    want, flows = food_ref(*args, p1)
    assert_same(got, want)
    adequacy, coping, *_, short = got
    assert short
    assert adequacy == 1.0
    assert flows["support"] == approx(21.04)
    assert coping == 1, f"shortfall of 21.04 USD covered by informal support, coping reported {coping}"
    assert money_identity(args, got, flows, p1) == approx(0.0, abs_=1e-9)


@pytest.mark.parametrize("capacity", [1e-6, 0.2, 0.7, 1.0])
def test_any_support_received_means_stress_coping(capacity):
    p1 = make_params(HouseholdConfig(support_max_frac=1.0), 250.0)
    args = hh(cash=50.0, savings=0.0, debt=60.0, capacity=capacity)
    got = run_kernel(args, p1)
    want, flows = food_ref(*args, p1)
    assert_same(got, want, capacity)
    assert flows["support"] > 0.0
    assert got[1] >= 1


def money_identity(args, got, flows, p=P):
    """Money in minus money out, from the kernel's outputs and the reference's support/begging.

    in:  cash + savings drawn down + new borrowing + informal support
         + distress sales x distress price + begging
    out: food bought + non-food spent + investment
    (savings drawn down and new borrowing are net: negative means saving / repaying).
    """
    need, stock, cash, price, nonfood, savings, debt, value, trap, vcap, capacity, members, extra_credit = args
    adequacy, coping, stock_out, sav_out, debt_out, sold, invest, consumption, short = got
    eaten_own_usd = (stock - stock_out) * price
    bought_and_nonfood = consumption - eaten_own_usd
    transfers = flows["support"] + flows["begging"] + sold * p.distress_price_frac
    money_in = cash + (savings - sav_out) + (debt_out - debt) + transfers
    return money_in - (bought_and_nonfood + invest)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_money_is_conserved_in_hand_cases(case):
    _, args, _, _ = case
    got = run_kernel(args)
    _, flows = food_ref(*args, P)
    assert money_identity(args, got, flows) == approx(0.0, abs_=1e-9)


def test_money_is_conserved_when_shortfall_exceeds_food_bill():
    """A destitute household: no cash, stock, savings, assets or support; credit used up.

    71.04 USD are required; begging brings 7.5 and non-food is halved to 15, then cut
    to the survival items (0.25 x 30 = 7.5) before food. The remaining 41.04 is the
    whole food bill, so nothing is bought: 7.5 USD of non-food is spent, exactly the
    money begged. Money in (7.5) equals food bought (0) plus non-food spent (7.5).
    """
    args = hh(cash=0.0, savings=0.0, debt=60.0, value=0.0, capacity=0.0)
    got = run_kernel(args)
    want, flows = food_ref(*args, P)
    assert_same(got, want)
    assert flows["begging"] == approx(7.5)
    assert flows["nonfood_cut"] == approx(15.0 + 7.5) and flows["nonfood_unfunded"] == approx(0.0)
    assert got[0] == approx(0.0, abs_=1e-12) and got[1] == 3
    assert got[7] <= flows["begging"] + 1e-9, f"consumption {got[7]} USD > money available {flows['begging']} USD"
    assert got[7] == approx(7.5)
    assert money_identity(args, got, flows) == approx(0.0, abs_=1e-9)


def test_unfunded_nonfood_can_fall_to_zero():
    """Nothing at all: no cash, no begging (emergency income 0), no credit, no assets.

    The whole requirement goes unmet: food bill 41.04 cut entirely, and the non-food
    left after the crisis cut (15) is cut by the 15 still missing beyond the food bill.
    """
    p0 = make_params(HouseholdConfig(emergency_income_usd_per_person=0.0), 250.0)
    args = hh(cash=0.0, savings=0.0, debt=60.0, value=0.0, capacity=0.0)
    got = run_kernel(args, p0)
    want, flows = food_ref(*args, p0)
    assert_same(got, want)
    assert got[0] == 0.0 and got[1] == 3
    assert got[7] == approx(0.0, abs_=1e-12)
    assert got[7] >= 0.0
    assert money_identity(args, got, flows, p0) == approx(0.0, abs_=1e-9)


# ---------------------------------------------------------------- properties

# mixtures put weight on the poor, indebted end so every rung of the ladder is drawn
_money = st.one_of(st.just(0.0), st.floats(0.0, 30.0), st.floats(0.0, 400.0))
_args = st.tuples(
    st.one_of(st.just(0.0), st.floats(1.0, 300.0)),  # need_kg (a person needs ~18 kg)
    st.one_of(st.just(0.0), st.floats(0.0, 500.0)),  # stock_kg
    _money,  # cash
    st.floats(0.05, 2.0),  # price
    st.floats(0.0, 100.0),  # nonfood
    _money,  # savings
    st.one_of(st.just(60.0), st.floats(0.0, 100.0)),  # debt (60 = credit limit)
    st.floats(0.0, 6000.0),  # value
    st.floats(0.0, 2000.0),  # trap
    st.floats(0.0, 8000.0),  # value cap above the trap
    st.floats(0.0, 1.0),  # support capacity
    st.integers(1, 15),  # members
    st.one_of(st.just(0.0), st.floats(0.0, 200.0)),  # extra credit (savings group)
).map(lambda a: a[:9] + (a[8] + a[9],) + a[10:])


@settings(deadline=None, max_examples=200)
@given(args=_args)
def test_food_and_coping_matches_reference_and_invariants(args):
    got = run_kernel(args)
    want, flows = food_ref(*args, P)
    assert_same(got, want, args)
    need, stock, cash, price, nonfood, savings, debt, value, trap, vcap, capacity, members, extra_credit = args
    adequacy, coping, stock_out, sav_out, debt_out, sold, invest, consumption, short = got
    assert 0.0 <= adequacy <= 1.0
    assert coping in (0, 1, 2, 3)
    assert (coping == 0) == (not short)  # support_max_frac < 1 in P: some coping follows support
    assert short == ((need - min(stock, need)) * price + nonfood - cash > 0.0)
    assert 0.0 <= stock_out <= stock
    assert sav_out >= -1e-12 and debt_out >= -1e-12
    if debt <= P.credit_limit_usd + extra_credit:
        assert debt_out <= P.credit_limit_usd + extra_credit + 1e-9
    assert 0.0 <= sold <= value + 1e-9
    assert invest >= 0.0
    if invest > 0.0:
        assert not short
        assert value + invest <= max(vcap, trap) + 1e-9
    if short:
        assert invest == 0.0
    else:
        assert adequacy == approx(1.0, rel=1e-12, abs_=1e-12) and sold == 0.0
    if adequacy < 1.0:
        assert coping >= 1
    assert consumption >= -1e-12
    assert flows["food_cut"] <= flows["food_bill"] + 1e-9
    # money: in == out, whether or not the food bill can absorb what is still missing
    assert abs(money_identity(args, got, flows)) <= 1e-8 * (1.0 + cash + savings + value)


@settings(deadline=None, max_examples=200)
@given(args=_args, extra=st.floats(0.0, 200.0))
def test_adequacy_non_decreasing_in_cash_and_savings(args, extra):
    base = run_kernel(args)
    more_cash = list(args)
    more_cash[2] += extra
    more_sav = list(args)
    more_sav[5] += extra
    need, price = args[0], args[3]
    for other in (more_cash, more_sav):
        got = run_kernel(tuple(other))
        # the kernel's emergency threshold lets a residue of up to 1e-9 USD go uneaten:
        # compare the food eaten in USD with that much slack
        assert (got[0] - base[0]) * need * price >= -2e-9
        assert got[1] <= base[1]  # a richer household never climbs higher on the ladder


# ================================================================ malnutrition


def malnutrition_ref(state, gap, gap_months, u_on, u_rec, p, treated=None):
    """0 none / 1 MAM / 2 SAM.

    Onset with p_mam_base, plus p_mam_per_gap x gap once the gap has lasted two
    months; MAM worsens to SAM with p_sam_base + p_sam_per_gap x gap; recovery
    (MAM -> none, SAM -> MAM) with the untreated probability x (1 - gap /
    recovery_gap_zero), at least 0. A treated child
    (``treated = (p_recover_mam_treated, p_recover_sam_treated)``) also recovers with
    the programme's probability whatever the gap, with the untreated rule as a floor.
    """
    food = max(0.0, 1.0 - gap / p.recovery_gap_zero)
    if state == 0:
        prob = p.p_mam_base + (p.p_mam_per_gap * gap if gap_months >= 2 else 0.0)
        return 1 if u_on < prob else 0
    if state == 1:
        if u_on < p.p_sam_base + p.p_sam_per_gap * gap:
            return 2
        if u_rec < p.p_recover_mam * food:
            return 0
        if treated is not None and u_rec < treated[0]:
            return 0
        return 1
    if u_rec < p.p_recover_sam * food:
        return 1
    if treated is not None and u_rec < treated[1]:
        return 1
    return 2


def test_malnutrition_step_matches_reference_on_grid():
    us = [0.0001, 0.005, 0.0061, 0.02, 0.03, 0.05, 0.1, 0.119, 0.121, 0.2, 0.34, 0.36, 0.5, 0.9, 0.9999]
    n = 0
    for state in (0, 1, 2):
        for gap in (0.0, 0.01, 0.0499, 0.05, 0.2, 0.5, 1.0):
            for gm in (0, 1, 2, 3, 50):
                for u_on in us:
                    for u_rec in us[::2]:
                        got = malnutrition_step(state, gap, gm, u_on, u_rec, P)
                        assert got == malnutrition_ref(state, gap, gm, u_on, u_rec, P), (state, gap, gm, u_on, u_rec)
                        n += 1
    assert n == 3 * 7 * 5 * len(us) * len(us[::2])


@pytest.mark.parametrize("treated", [(0.0, 0.0), (0.5, 0.3), (0.05, 0.01), (1.0, 1.0)])
def test_treated_malnutrition_step_matches_reference_on_grid(treated):
    us = [0.0001, 0.005, 0.0061, 0.02, 0.03, 0.05, 0.1, 0.119, 0.121, 0.2, 0.29, 0.31, 0.34, 0.36, 0.49, 0.51, 0.9]
    for state in (0, 1, 2):
        for gap in (0.0, 0.0499, 0.05, 0.2, 1.0):
            for gm in (0, 2):
                for u_on in us[::2]:
                    for u_rec in us:
                        got = malnutrition_step(state, gap, gm, u_on, u_rec, P, *treated)
                        want = malnutrition_ref(state, gap, gm, u_on, u_rec, P, treated)
                        assert got == want, (state, gap, gm, u_on, u_rec, treated)
                        # no treatment (0, 0) is exactly the untreated rule
                        if treated == (0.0, 0.0):
                            assert got == malnutrition_step(state, gap, gm, u_on, u_rec, P)


def test_malnutrition_step_hand_cases():
    # no gap: onset at p_mam_base = 0.006 only
    assert malnutrition_step(0, 0.0, 0, 0.005, 0.9, P) == 1
    assert malnutrition_step(0, 0.0, 0, 0.007, 0.9, P) == 0
    # a 50% gap in its first month does not yet raise onset; from the second it does
    assert malnutrition_step(0, 0.5, 1, 0.1, 0.9, P) == 0
    assert malnutrition_step(0, 0.5, 2, 0.1, 0.9, P) == 1  # 0.006 + 0.175
    # MAM -> SAM at 0.03 + 0.05 gap
    assert malnutrition_step(1, 0.5, 1, 0.054, 0.9, P) == 2
    assert malnutrition_step(1, 0.5, 1, 0.056, 0.9, P) == 1
    # MAM recovers with 0.35 (1 - gap): 0.35 with adequate food, 0.329 at a 6% gap, never at a full gap
    assert malnutrition_step(1, 0.0, 0, 0.9, 0.34, P) == 0
    assert malnutrition_step(1, 0.06, 0, 0.9, 0.34, P) == 1
    assert malnutrition_step(1, 0.06, 0, 0.9, 0.32, P) == 0
    assert malnutrition_step(1, 1.0, 0, 0.9, 0.0001, P) == 1
    # SAM steps down to MAM with 0.12 (1 - gap)
    assert malnutrition_step(2, 0.01, 0, 0.5, 0.1, P) == 1
    assert malnutrition_step(2, 0.3, 0, 0.5, 0.1, P) == 2  # 0.084
    assert malnutrition_step(2, 0.3, 0, 0.5, 0.08, P) == 1


def test_treated_malnutrition_step_hand_cases():
    # a treated MAM case recovers with the programme's 0.5 even when the household lacks food
    assert malnutrition_step(1, 0.6, 0, 0.9, 0.3, P, 0.5, 0.0) == 0
    assert malnutrition_step(1, 0.6, 0, 0.9, 0.6, P, 0.5, 0.0) == 1
    # with adequate food the untreated rule is a floor (p_recover_mam = 0.35 > 0.1)
    assert P.p_recover_mam == approx(0.35)
    assert malnutrition_step(1, 0.0, 0, 0.9, 0.3, P, 0.1, 0.0) == 0
    # a treated SAM case steps down to MAM without adequate food (therapeutic food)
    assert malnutrition_step(2, 0.3, 0, 0.5, 0.5, P, 0.0, 0.6) == 1
    assert malnutrition_step(2, 0.3, 0, 0.5, 0.7, P, 0.0, 0.6) == 2
    # worsening is unchanged: a treated MAM child in a hungry household can still relapse
    assert malnutrition_step(1, 0.5, 1, 0.05, 0.0001, P, 1.0, 1.0) == 2  # 0.03 + 0.05 x 0.5
    # onset is unchanged
    assert malnutrition_step(0, 0.5, 2, 0.1, 0.0001, P, 1.0, 1.0) == 1


# ================================================================ IPC phase


def ipc_ref(gap, coping):
    if gap >= 0.5:
        c = 5
    elif gap >= 0.2:
        c = 4
    elif gap >= 0.05:
        c = 3
    elif gap > 1e-6:  # a gap of a millionth is rounding, not hunger
        c = 2
    else:
        c = 1
    k = {0: 1, 1: 2, 2: 3, 3: 4}[coping]
    return max(c, k)


def test_ipc_phase_matches_reference():
    gaps = [0.0, 1e-7, 1e-6, 2e-6, 0.01, 0.0499, 0.05, 0.1, 0.1999, 0.2, 0.3, 0.4999, 0.5, 0.8, 1.0]
    for gap in gaps:
        for coping in range(4):
            assert ipc_phase(gap, coping) == ipc_ref(gap, coping), (gap, coping)


def test_ipc_phase_hand_cases():
    assert ipc_phase(0.0, 0) == 1
    assert ipc_phase(0.01, 0) == 2
    assert ipc_phase(0.05, 0) == 3
    assert ipc_phase(0.2, 0) == 4
    assert ipc_phase(0.5, 0) == 5
    assert ipc_phase(0.0, 1) == 2
    assert ipc_phase(0.0, 2) == 3
    assert ipc_phase(0.0, 3) == 4
    assert ipc_phase(0.3, 1) == 4  # the worse of the two
    assert ipc_phase(0.6, 3) == 5


# ================================================================ poisson_inv


def poisson_quantile_ref(u, lam):
    """Smallest k with P(X <= k) >= u, pmf from lgamma; also the distance of u to the CDF steps."""
    cdf = 0.0
    prev = 0.0
    for k in range(201):
        prev = cdf
        cdf += math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
        if u <= cdf:
            return k, min(u - prev, cdf - u)
    return 200, 1.0


@pytest.mark.parametrize("lam", [0.1, 0.5, 1.0, 2.7, 4.5, 7.0, 12.0])
def test_poisson_inv_matches_reference(lam):
    checked = 0
    for i in range(400):
        u = (i + 0.5) / 400.0
        k, margin = poisson_quantile_ref(u, lam)
        if margin < 1e-12:  # too close to a step of the CDF for two summations to agree
            continue
        assert poisson_inv(u, lam) == k, (u, lam)
        checked += 1
    assert checked >= 395


def test_poisson_inv_hand_cases():
    lam = 2.0
    e = math.exp(-lam)
    assert poisson_inv(1e-9, lam) == 0
    assert poisson_inv(e, lam) == 0  # P(X <= 0) = e^-2: u on the step maps to k = 0
    assert poisson_inv(e * 1.0000001, lam) == 1
    assert poisson_inv(3 * e * 0.9999999, lam) == 1  # P(X <= 1) = 3 e^-2
    assert poisson_inv(3 * e * 1.0000001, lam) == 2
    assert poisson_inv(0.5, 1e-9) == 0


@pytest.mark.parametrize("lam", [0.3, 3.5, 9.0])
def test_poisson_inv_moments_on_stratified_uniforms(lam):
    n = 100_000
    ks = np.array([poisson_inv((i + 0.5) / n, lam) for i in range(n)], dtype=float)
    # stratified inputs: the mean and variance are close to lam
    assert abs(ks.mean() - lam) < 0.01 * max(lam, 1.0)
    assert abs(ks.var() - lam) < 0.02 * max(lam, 1.0)


# ================================================================ allocate


def allocate_ref(total, weights):
    """Largest remainder in exact arithmetic (integer weights); ties to the lower index.

    Also returns whether the cut is a tie: the last remainder rounded up equals the
    first one left out.
    """
    w = [Fraction(int(x)) for x in weights]
    s = sum(w)
    exact = [total * x / s for x in w]
    counts = [math.floor(x) for x in exact]
    rest = total - sum(counts)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - counts[i]), i))
    rem = [exact[i] - counts[i] for i in order]
    tie_at_cut = 0 < rest < len(w) and rem[rest - 1] == rem[rest]
    for i in order[:rest]:
        counts[i] += 1
    return counts, tie_at_cut


@pytest.mark.parametrize(
    "total, weights, expected",
    [
        (10, [1, 1, 1], [4, 3, 3]),  # tie: the first index gets the extra one
        (7, [1, 2, 3, 4], [1, 1, 2, 3]),  # exact 0.7 1.4 2.1 2.8
        (100, [1, 1], [50, 50]),
        (5, [0, 3, 0, 2], [0, 3, 0, 2]),
        (1, [5, 5, 5], [1, 0, 0]),
        (0, [2, 7], [0, 0]),
        (11, [3], [11]),
        (6, [1, 0, 0, 0, 5], [1, 0, 0, 0, 5]),
        (13, [5, 3, 2], [6, 4, 3]),  # exact 6.5 3.9 2.6: remainders .9 and .6 round up
    ],
)
def test_allocate_hand_cases(total, weights, expected):
    got = allocate(total, np.array(weights, dtype=float))
    assert got.dtype == np.int64
    assert got.tolist() == expected
    assert allocate_ref(total, weights)[0] == expected


def test_allocate_ties_go_to_the_lower_index():
    """Docstring: "deterministic (ties by index)".

    4 split by weights 1:4:7 is exactly 1/3, 4/3, 7/3: floors 0, 1, 2 and three
    equal remainders of 1/3, so the one left over goes to index 0 -> [1, 1, 2].
    In floating point the three remainders differ in their last bits
    (0.33333333333333331, 0.33333333333333326, 0.33333333333333348), and the
    extra one goes to the last index instead.
    """
    assert allocate_ref(4, [1, 4, 7]) == ([1, 1, 2], True)
    assert allocate(4, np.array([1.0, 4.0, 7.0])).tolist() == [1, 1, 2]


@pytest.mark.parametrize(
    "total, weights",
    [
        (10, [1, 1, 1]),
        (4, [1, 4, 7]),
        (7, [3, 3, 3, 3, 3, 3]),
        (100, [7, 7, 7]),
        (12, [1, 4, 7, 10, 13, 1]),  # all remainders 1/3, at magnitudes 0 to 4
        (24, [1, 4, 7, 10, 13, 1]),  # all remainders 2/3
        (7, [5] * 12),
    ],
)
def test_allocate_equal_remainders_go_to_the_lower_index(total, weights):
    want, tie_at_cut = allocate_ref(total, weights)
    assert tie_at_cut
    assert allocate(total, np.array(weights, dtype=float)).tolist() == want


def test_allocate_tie_on_a_rounding_boundary_goes_to_the_lower_index():
    """Docstring: "deterministic (ties by index)".

    5127 split by 1 : 5121 : 10238 (sum 15360) is exactly 0.3337890625,
    1709.3337890625 and 3417.332421875: floors 0, 1709, 3417 and one left over,
    for which indices 0 and 1 tie exactly (remainder 1709/5120) -> [1, 1709, 3417].
    The remainder has a 5 in its tenth decimal, so rounding it to 9 decimals is a
    half-way case: in floating point it is 0.3337890625 at index 0 (rounds down to
    0.333789062) but 0.3337890625000455 at index 1 (rounds up to 0.333789063), and
    the extra one goes to index 1.
    """
    assert allocate_ref(5127, [1, 5121, 10238]) == ([1, 1709, 3417], True)
    assert allocate(5127, np.array([1.0, 5121.0, 10238.0])).tolist() == [1, 1709, 3417]


@settings(deadline=None, max_examples=200)
@given(
    total=st.integers(0, 100_000),
    weights=st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_allocate_matches_reference(total, weights):
    got = allocate(total, np.array(weights, dtype=np.float64))
    assert int(got.sum()) == total
    assert np.all(got >= 0)
    s = sum(weights)
    for g, w in zip(got.tolist(), weights):
        assert abs(g - total * w / s) < 1.0 + 1e-9
        if w == 0:
            assert g == 0
    want, tie_at_cut = allocate_ref(total, weights)
    if not tie_at_cut:
        # distinct remainders differ by at least 1 / sum(weights) >= 1e-6 / 12, far
        # above rounding, so float and exact arithmetic must pick the same ones
        assert got.tolist() == want


# ================================================================ labour freed below the trap line


def test_work_days_rise_as_a_rural_household_loses_its_herd_and_assets():
    from hssim.kernels.household import work_days

    # above the trap: the livelihood's own days; urban: always its own days
    assert work_days(3.0, 2000.0, 1000.0, 0, 12.0) == 3.0
    assert work_days(16.0, 0.0, 210.0, 3, 12.0) == 16.0
    # nothing left: the destitute days; half the trap line: half-way
    assert work_days(3.0, 0.0, 1000.0, 0, 12.0) == 12.0
    assert work_days(3.0, 500.0, 1000.0, 0, 12.0) == approx(7.5)
    # never fewer days than the livelihood's own
    assert work_days(14.0, 0.0, 1000.0, 1, 12.0) == 14.0
    assert work_days(5.0, 100.0, 0.0, 2, 12.0) == 5.0  # no trap line: nothing to fall below


# ================================================================ famine-level excess mortality


def test_famine_hazard_follows_the_ipc_anchors():
    """Zero below the phase-4 gap and before the gap has lasted famine_after_months;
    famine_excess_cdr (1.5 / 10,000 / day) at the phase-5 gap, linear between: with a
    background of 0.5 the crude death rate is 1.25 in mid phase 4 (IPC Emergency 1-2)
    and 2 at the phase-5 gap (IPC Famine threshold)."""
    from hssim.kernels.household import famine_hazard

    per_10k_day = lambda p_month: p_month / (1e-4 * 30.4)  # noqa: E731
    assert famine_hazard(0.19, 0.19, 12, P) == 0.0 and famine_hazard(0.2, 0.2, 12, P) == 0.0
    assert famine_hazard(0.9, 0.9, 1, P) == 0.0  # not yet sustained
    assert per_10k_day(famine_hazard(0.5, 0.5, 2, P)) == approx(1.5)
    assert per_10k_day(famine_hazard(0.35, 0.35, 2, P)) == approx(0.75)
    assert 1.0 <= 0.5 + per_10k_day(famine_hazard(0.35, 0.35, 2, P)) < 2.0
    assert per_10k_day(famine_hazard(1.0, 1.0, 2, P)) == approx(1.5 * 0.8 / 0.3)
    # the level sustained over this month and the last: a wide gap after a small one is not famine
    assert famine_hazard(0.6, 0.1, 5, P) == 0.0
    assert famine_hazard(0.6, 0.35, 5, P) == famine_hazard(0.35, 0.6, 5, P) == approx(famine_hazard(0.35, 0.35, 2, P))
    assert famine_hazard(0.5, 0.5, 2, P) == approx(P.p_famine_excess)
