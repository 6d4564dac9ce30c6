"""The initial-population kernel against a plain-Python reference, and its statistics."""

from __future__ import annotations

import math

import numpy as np

from hssim import rng
from hssim.kernels.init import init_households

from .test_household_month import normal_ref, uniform_ref


def _poisson_ref(u, lam):
    k, pk = 0, math.exp(-lam)
    cdf = pk
    while u > cdf and k < 200:
        k += 1
        pk *= lam / k
        cdf += pk
    return k


def _inputs(n=300):
    D = 3
    district = np.repeat(np.arange(D, dtype=np.int16), n // D)
    shares = np.array([[0.7, 0.2, 0.0, 0.1], [0.1, 0.3, 0.5, 0.1], [0.0, 0.0, 0.2, 0.8]])
    return dict(
        district=district,
        livelihood_cum=np.cumsum(shares, axis=1),
        female_share=np.array([0.2, 0.35, 0.5]),
        marginalised_share=np.array([0.4, 0.1, 0.0]),
        wealth_shift=np.array([-0.4, 0.0, 0.3]),
        mean_size=np.array([5.5, 4.0, 6.5]),
        p_child=0.55,
        p_u5_of_child=0.35,
        land_median=np.array([0.0, 0.6, 1.2, 0.0]),
        herd_median=np.array([12.0, 4.0, 0.6, 0.0]),
        assets_median=np.array([150.0, 150.0, 150.0, 600.0]),
        wealth_log_sd=0.8,
        need_kg_per_person=18.24,
        savings_usd_per_person=4.1,
    )


def _run_kernel(key, inp):
    n = inp["district"].size
    out = {
        "livelihood": np.zeros(n, np.int8),
        "female_head": np.zeros(n, np.int8),
        "marginalised": np.zeros(n, np.int8),
        "members": np.zeros(n, np.int8),
        "u5": np.zeros(n, np.int8),
        "adults": np.zeros(n, np.int8),
        "land_ha": np.zeros(n, np.float32),
        "herd_tlu": np.zeros(n, np.float32),
        "assets_usd": np.zeros(n, np.float32),
        "savings_usd": np.zeros(n, np.float32),
        "food_stock_kg": np.zeros(n, np.float32),
        "adequacy": np.zeros(n, np.float32),
    }
    init_households(key, *inp.values(), *out.values())
    return out


def test_init_matches_reference():
    inp = _inputs()
    key = rng.stream_key(5, "init", 0)
    got = _run_kernel(key, inp)
    for i in range(inp["district"].size):
        d = int(inp["district"][i])
        u = uniform_ref(key, i, 0)
        lv = next((k for k in range(4) if u < inp["livelihood_cum"][d, k]), 3)
        fh = int(uniform_ref(key, i, 1) < inp["female_share"][d])
        mg = int(uniform_ref(key, i, 2) < inp["marginalised_share"][d])
        lam = max(inp["mean_size"][d] - 1 - 0.8 * (fh - inp["female_share"][d]), 0.1)
        m = min(1 + _poisson_ref(uniform_ref(key, i, 5), lam), 30)
        children = young = 0
        for j in range(m - 1):
            if uniform_ref(key, i, 10 + j) < inp["p_child"]:
                children += 1
                young += uniform_ref(key, i, 40 + j) < inp["p_u5_of_child"]
        w = math.exp(inp["wealth_shift"][d] + inp["wealth_log_sd"] * normal_ref(key, i, 3))
        land = inp["land_median"][lv] * math.sqrt(w)
        expect = {
            "livelihood": lv, "female_head": fh, "marginalised": mg, "members": m, "u5": young, "adults": m - children,
            "land_ha": land, "herd_tlu": inp["herd_median"][lv] * w, "assets_usd": inp["assets_median"][lv] * w,
            "savings_usd": inp["savings_usd_per_person"] * m * w,
            "food_stock_kg": uniform_ref(key, i, 6) * 3 * m * inp["need_kg_per_person"] if land > 0 else 0.0,
            "adequacy": 1.0,
        }
        for name, v in expect.items():
            if got[name].dtype.kind == "f":  # libm exp may differ by an ulp from Python's
                assert got[name][i] == np.float32(v) or abs(got[name][i] - v) <= 1e-6 * abs(v), (i, name, got[name][i], v)
            else:
                assert got[name][i] == v, (i, name, got[name][i], v)


def test_init_statistics_follow_inputs():
    inp = _inputs(30_000)
    got = _run_kernel(rng.stream_key(6, "init", 0), inp)
    d = inp["district"]
    for k in range(3):
        sel = d == k
        shares = np.bincount(got["livelihood"][sel], minlength=4) / sel.sum()
        expect = np.diff(np.concatenate([[0.0], inp["livelihood_cum"][k]]))
        np.testing.assert_allclose(shares, expect, atol=5 * np.sqrt(0.25 / sel.sum()))
        assert abs(got["female_head"][sel].mean() - inp["female_share"][k]) < 5 * np.sqrt(0.25 / sel.sum())
    # household size: 1 + Poisson(size_d - 1 - 0.8 (female head - female share_d)): the district
    # mean is size_d, female-headed households 0.8 smaller
    for k in range(3):
        sel = d == k
        size, fs = inp["mean_size"][k], inp["female_share"][k]
        male = sel & (got["female_head"] == 0)
        fem = sel & (got["female_head"] == 1)
        assert abs(got["members"][sel].mean() - size) < 0.06, k
        assert abs(got["members"][male].mean() - (size + 0.8 * fs)) < 0.08, k
        assert abs(got["members"][fem].mean() - (size - 0.8 * (1 - fs))) < 0.1, k
    assert (got["u5"] + got["adults"] <= got["members"]).all() and (got["adults"] >= 1).all()
    # log wealth of pastoral herds in district 0: mean shift + log median, sd as configured
    sel = (d == 0) & (got["livelihood"] == 0)
    logw = np.log(got["herd_tlu"][sel] / 12.0)
    assert abs(logw.mean() - (-0.4)) < 0.05 and abs(logw.std() - 0.8) < 0.04
