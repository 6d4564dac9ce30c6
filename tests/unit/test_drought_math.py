"""Drought index algebra and growing seasons against direct computations."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hssim.config.schema import DroughtConfig
from hssim.couplings.food_system import growing_seasons
from hssim.hazards.drought import lag_correlation, spi_weights_sd

CFGS = [
    DroughtConfig(),
    DroughtConfig(regional_weight=0.0, district_persistence=0.6),
    DroughtConfig(regional_weight=1.0, regional_persistence=0.95),
    DroughtConfig(regional_weight=0.4, regional_persistence=0.0, district_persistence=0.0),
    DroughtConfig(regional_weight=0.25, regional_persistence=0.5, district_persistence=0.9, spi_months=6),
]


# ================================================================ lag correlation


def lag_corr_ref(w, phi_r, phi_d, k):
    """corr(a(t-i), a(t-j)) = w phi_r^|i-j| + (1 - w) phi_d^|i-j| (module docstring)."""
    out = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(k):
            h = abs(i - j)
            out[i][j] = w * phi_r**h + (1.0 - w) * phi_d**h
    return out


@pytest.mark.parametrize("cfg", CFGS)
@pytest.mark.parametrize("k", [1, 2, 3, 6, 12])
def test_lag_correlation_matches_direct_formula(cfg, k):
    got = lag_correlation(cfg, k)
    assert got.shape == (k, k)
    want = lag_corr_ref(cfg.regional_weight, cfg.regional_persistence, cfg.district_persistence, k)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    # a correlation matrix: unit diagonal, symmetric, positive semi-definite
    np.testing.assert_allclose(np.diag(got), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(got, got.T)
    assert np.linalg.eigvalsh(got).min() > -1e-12


def test_lag_correlation_hand_numbers():
    r = lag_correlation(DroughtConfig(), 3)  # w 0.7, phi_r 0.8, phi_d 0.3
    assert r[0, 1] == pytest.approx(0.7 * 0.8 + 0.3 * 0.3, rel=1e-14)  # 0.65
    assert r[0, 2] == pytest.approx(0.7 * 0.64 + 0.3 * 0.09, rel=1e-14)  # 0.475
    assert r[2, 0] == r[0, 2]
    # no persistence: independent months
    np.testing.assert_allclose(lag_correlation(CFGS[3], 4), np.eye(4), atol=0)


@pytest.mark.parametrize("cfg", CFGS[:3] + CFGS[4:])
def test_lag_correlation_matches_simulated_ar_processes(cfg):
    """Simulate the two AR(1) drivers from their stationary law and measure the correlation."""
    n, k = 200_000, 4
    g = np.random.default_rng(12345)
    w, pr, pd = cfg.regional_weight, cfg.regional_persistence, cfg.district_persistence
    r = g.standard_normal(n)
    e = g.standard_normal(n)
    a = np.empty((k, n))
    for t in range(k):
        if t > 0:
            r = pr * r + math.sqrt(1 - pr * pr) * g.standard_normal(n)
            e = pd * e + math.sqrt(1 - pd * pd) * g.standard_normal(n)
        a[t] = math.sqrt(w) * r + math.sqrt(1 - w) * e
    emp = np.corrcoef(a)
    # sd of a sample correlation is at most 1 / sqrt(n); 5 standard errors
    np.testing.assert_allclose(emp, lag_correlation(cfg, k), rtol=0, atol=5.0 / math.sqrt(n))


# ================================================================ SPI weights and sd


def spi_ref(cfg, clim):
    """Weights c = clim + 5% of the monthly mean; sd = sqrt(sum_ij c_i c_j rho(|i-j|))."""
    D = clim.shape[0]
    k = cfg.spi_months
    w, pr, pd = cfg.regional_weight, cfg.regional_persistence, cfg.district_persistence
    weights = [[0.0] * 12 for _ in range(D)]
    sd = [[0.0] * 12 for _ in range(D)]
    for d in range(D):
        mean = sum(float(x) for x in clim[d]) / 12.0
        for m in range(12):
            weights[d][m] = float(clim[d, m]) + 0.05 * mean
        for m in range(12):
            total = 0.0
            for i in range(k):
                for j in range(k):
                    ci = weights[d][(m - i) % 12]
                    cj = weights[d][(m - j) % 12]
                    h = abs(i - j)
                    total += ci * cj * (w * pr**h + (1 - w) * pd**h)
            sd[d][m] = math.sqrt(total)
    return np.array(weights), np.array(sd)


CLIM = np.array(
    [
        [0, 0, 1, 5, 20, 80, 180, 220, 120, 25, 2, 0],  # Sahel: one season
        [20, 25, 80, 150, 90, 15, 5, 5, 10, 70, 100, 40],  # two seasons
        [150, 130, 90, 20, 5, 0, 0, 0, 5, 30, 80, 120],  # season across the new year
        [0] * 12,  # no rain at all
        [50] * 12,  # the same every month
    ],
    dtype=float,
)


@pytest.mark.parametrize("cfg", CFGS)
@pytest.mark.parametrize("k", [1, 3, 6, 13])
def test_spi_weights_sd_matches_double_loop(cfg, k):
    cfg = dataclasses.replace(cfg, spi_months=k)
    weights, sd = spi_weights_sd(cfg, CLIM)
    w_ref, sd_ref = spi_ref(cfg, CLIM)
    assert weights.shape == sd.shape == CLIM.shape
    np.testing.assert_allclose(weights, w_ref, rtol=1e-13, atol=0)
    np.testing.assert_allclose(sd, sd_ref, rtol=1e-12, atol=0)


def test_spi_special_cases():
    base = DroughtConfig()
    mean0 = CLIM[0].mean()
    # one-month window: sd is the weight itself
    w, sd = spi_weights_sd(dataclasses.replace(base, spi_months=1), CLIM)
    np.testing.assert_allclose(sd, w, rtol=1e-14)
    np.testing.assert_allclose(w[0], CLIM[0] + 0.05 * mean0, rtol=1e-14)
    # an all-dry row has zero weights, hence an undefined index (sd 0)
    assert np.all(w[3] == 0.0)
    # independent months: sd is the root sum of squares of the window's weights
    w, sd = spi_weights_sd(CFGS[3], CLIM)
    for m in range(12):
        window = [w[1, (m - j) % 12] for j in range(3)]
        assert sd[1, m] == pytest.approx(math.sqrt(sum(x * x for x in window)), rel=1e-13)
    # uniform climatology: all weights equal c, so sd = c sqrt(sum of the lag correlations)
    w, sd = spi_weights_sd(base, CLIM)
    c = 50.0 * 1.05
    assert np.allclose(sd[4], c * math.sqrt(lag_correlation(base, 3).sum()), rtol=1e-13)


def test_spi_is_standard_normal_in_simulation():
    """The weighted k-month sum divided by sd has variance 1 for stationary anomalies."""
    cfg = DroughtConfig(spi_months=4)
    k = cfg.spi_months
    weights, sd = spi_weights_sd(cfg, CLIM[1:2])
    m = 5  # the index ending in June
    c = np.array([weights[0, (m - j) % 12] for j in range(k)])  # c(t - j)
    n = 200_000
    g = np.random.default_rng(7)
    chol = np.linalg.cholesky(lag_correlation(cfg, k))
    a = chol @ g.standard_normal((k, n))  # a(t - j), j = 0..k-1, with the lag correlation
    spi = (c[:, None] * a).sum(axis=0) / sd[0, m]
    assert abs(spi.mean()) < 5.0 / math.sqrt(n)
    assert abs(spi.var() - 1.0) < 5.0 * math.sqrt(2.0 / n)
    # P(spi <= -1) = Phi(-1)
    p = 0.5 * math.erfc(1.0 / math.sqrt(2.0))
    assert abs(np.mean(spi <= -1.0) - p) < 5.0 * math.sqrt(p * (1 - p) / n)


# ================================================================ growing seasons


def seasons_ref(row):
    """Wet: at least 60% of the monthly mean. Harvest: first month after a run of wet months."""
    mean = sum(row) / 12.0
    wet = [row[m] >= 0.6 * mean for m in range(12)]
    harvest = [(not wet[m]) and wet[(m - 1) % 12] for m in range(12)]
    return wet, harvest


def months(*idx):
    out = [False] * 12
    for i in idx:
        out[i] = True
    return out


JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC = range(12)


def test_growing_seasons_hand_made():
    wet, harvest = growing_seasons(CLIM[:3])
    assert wet.shape == harvest.shape == (3, 12)
    assert wet.dtype == bool and harvest.dtype == bool
    # Sahel: mean 54.6, threshold 32.75 -> June to September, harvest in October
    assert wet[0].tolist() == months(JUN, JUL, AUG, SEP)
    assert harvest[0].tolist() == months(OCT)
    # two seasons: mean 50.8, threshold 30.5 -> March-May and October-December;
    # harvests in June and, across the new year, January
    assert wet[1].tolist() == months(MAR, APR, MAY, OCT, NOV, DEC)
    assert harvest[1].tolist() == months(JUN, JAN)
    # one season November-March (mean 52.5, threshold 31.5; October's 30 is dry): harvest April
    assert wet[2].tolist() == months(NOV, DEC, JAN, FEB, MAR)
    assert harvest[2].tolist() == months(APR)


def test_growing_seasons_matches_reference_and_rows_are_independent():
    g = np.random.default_rng(3)
    clim = np.vstack([CLIM[:3], g.gamma(0.7, 60.0, size=(20, 12))])
    wet, harvest = growing_seasons(clim)
    for d in range(clim.shape[0]):
        w_ref, h_ref = seasons_ref([float(x) for x in clim[d]])
        assert wet[d].tolist() == w_ref
        assert harvest[d].tolist() == h_ref
        # one harvest per season: as many harvests as runs of wet months (when some month is dry)
        runs = sum(1 for m in range(12) if w_ref[m] and not w_ref[(m - 1) % 12])
        assert harvest[d].sum() == runs
    # a row's result does not depend on the other rows
    w1, h1 = growing_seasons(clim[5:6])
    assert np.array_equal(w1[0], wet[5]) and np.array_equal(h1[0], harvest[5])


def test_growing_seasons_threshold_is_inclusive():
    # mean 100; 0.6 x 100 == 60.0 exactly: a month with 60 mm is wet
    row = np.array([[60.0, 40.0, 59.0, 200.0, 200.0, 200.0, 61.0, 0.0, 0.0, 180.0, 100.0, 100.0]])
    assert row.mean() == 100.0
    wet, harvest = growing_seasons(row)
    assert wet[0].tolist() == months(JAN, APR, MAY, JUN, JUL, OCT, NOV, DEC)
    assert harvest[0].tolist() == months(FEB, AUG)
