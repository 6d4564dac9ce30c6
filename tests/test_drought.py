"""Drought statistics match what the configuration implies (analytic results)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

import hssim
from hssim.hazards.drought import anomaly_correlation
from hssim.scenario import load_scenario

LONG = ["population.households=60", "population.households_per_community=5", "spinup_months=24"]


def _district_matrix(res, name):
    """float64[months, D] of a district indicator."""
    return np.stack([res.indicator(name, district=d).to_numpy() for d in res.districts], axis=1)


@pytest.fixture(scope="module")
def independent():
    """No regional driver, no persistence, negligible spatial correlation: i.i.d. anomalies."""
    cfg = hssim.compose(
        [*LONG, "months=1200", "seed=21", "hazards.drought.regional_weight=0", "hazards.drought.district_persistence=0",
         "hazards.drought.correlation_length_km=0.001"]
    )
    return hssim.run(cfg)


@pytest.fixture(scope="module")
def correlated():
    return hssim.run(hssim.compose([*LONG, "months=1200", "seed=22"]))


@pytest.mark.parametrize("threshold", [-1.0, -1.5, 0.5])
def test_spi_frequency_below_threshold_matches_normal_cdf(independent, threshold):
    spi = _district_matrix(independent, "spi")
    freq = (spi <= threshold).mean()
    p = norm.cdf(threshold)
    # a 3-month index overlaps its neighbours: about n/3 independent values
    n_eff = spi.size / 3
    se = np.sqrt(p * (1 - p) / n_eff)
    assert abs(freq - p) < 4 * se, (freq, p, se)


def test_drought_flag_uses_configured_threshold(independent):
    spi = _district_matrix(independent, "spi")
    flag = _district_matrix(independent, "in_drought")
    np.testing.assert_array_equal(flag == 1.0, spi <= -1.0)


def test_spi_is_standard_normal(independent):
    spi = _district_matrix(independent, "spi")
    assert abs(spi.mean()) < 4 * np.sqrt(3 / spi.size)
    assert abs(spi.std() - 1) < 0.03


def test_mean_rain_is_climatology(independent):
    """rain = clim * exp(sigma a - sigma^2/2) has mean clim; i.i.d. anomalies give an exact sd."""
    rain = _district_matrix(independent, "rain_mm")
    clim = load_scenario("synthetic_region").rain_clim_mm[:, np.arange(rain.shape[0]) % 12].T
    ratio = rain.sum() / clim.sum()
    sigma = 0.5
    sd = np.sqrt((np.exp(sigma**2) - 1) * (clim**2).sum()) / clim.sum()
    assert abs(ratio - 1) < 4 * sd, (ratio, sd)


def test_autocorrelation_and_spatial_correlation_match_config(correlated):
    cfg = hssim.load_config(hssim.compose([*LONG, "months=1200"]))
    dcfg = cfg.hazards["drought"]
    rain = _district_matrix(correlated, "rain_mm")
    clim = load_scenario("synthetic_region").rain_clim_mm
    months = np.arange(rain.shape[0]) % 12
    anomaly = (np.log(rain / clim[:, months].T) + 0.5 * dcfg.rain_log_sd**2) / dcfg.rain_log_sd
    w, pr, pd_ = dcfg.regional_weight, dcfg.regional_persistence, dcfg.district_persistence
    lag1 = np.mean([np.corrcoef(anomaly[1:, d], anomaly[:-1, d])[0, 1] for d in range(anomaly.shape[1])])
    assert lag1 == pytest.approx(w * pr + (1 - w) * pd_, abs=0.08)
    expected = anomaly_correlation(dcfg, load_scenario("synthetic_region").xy_km)
    observed = np.corrcoef(anomaly.T)
    iu = np.triu_indices_from(expected, k=1)
    assert np.abs(observed[iu] - expected[iu]).mean() < 0.05
    # the implied correlation structure is not trivial: near districts more alike than far ones
    assert expected[iu].max() - expected[iu].min() > 0.1


def test_storyline_forces_the_given_months():
    res = hssim.run(hssim.compose(["population.households=200", "months=36", "storyline=two_failed_seasons"]))
    rain = _district_matrix(res, "rain_mm")
    clim = load_scenario("synthetic_region").rain_clim_mm
    months = np.arange(36) % 12
    forced = np.exp(0.5 * -2.0 - 0.125) * clim[:, months].T
    for m in (22, 23, 24, 27, 28, 29):
        np.testing.assert_allclose(rain[m - 1], forced[m - 1], rtol=1e-12)
    assert not np.allclose(rain[20], forced[20])
    # two failed seasons bring drought to every district and lower harvests
    spi = _district_matrix(res, "spi")
    assert (spi[28] <= -1.0).all()
    prod = _district_matrix(res, "production_index")
    assert prod[30].mean() < prod[12].mean()


def test_trend_shifts_anomalies_by_configured_amount():
    base = ["population.households=60", "population.households_per_community=5", "months=600", "seed=4"]
    a = hssim.run(hssim.compose(base))
    b = hssim.run(hssim.compose([*base, "hazards.drought.trend_anomaly_per_decade=-0.5"]))
    ra, rb = _district_matrix(a, "rain_mm"), _district_matrix(b, "rain_mm")
    decades = np.arange(600) / 120.0
    # same draws: log rain differs exactly by sigma * trend * decades
    np.testing.assert_allclose(np.log(rb / ra), (0.5 * -0.5 * decades)[:, None] * np.ones(ra.shape[1]), atol=1e-9)
    assert (_district_matrix(b, "in_drought")[-120:].mean()) > (_district_matrix(a, "in_drought")[-120:].mean())


def test_disabled_drought_gives_climatology():
    res = hssim.run(hssim.compose(["population.households=200", "months=24", "hazards.drought.enabled=false"]))
    rain = _district_matrix(res, "rain_mm")
    clim = load_scenario("synthetic_region").rain_clim_mm
    np.testing.assert_allclose(rain, clim[:, np.arange(24) % 12].T)
    assert (_district_matrix(res, "spi") == 0).all()
