"""Early warning: forecasts from the simulated future, triggers, warnings, surveillance.

Most checks share one small engine (``main``) that carries several EarlyWarning
instances side by side (each records what it wrote in ``history``; none reads
another's output) and a probe that copies the district state after the POLICY phase.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.stats import binom

import hssim
from hssim.config.build import prepare
from hssim.config.schema import DroughtConfig
from hssim.validate import from_mapping
from hssim.engine import Engine, InvariantError
from hssim.hazards.conflict import Conflict
from hssim.hazards.drought import simulate_index
from hssim.module import Module
from hssim.phases import Phase
from hssim.policies.early_warning import (
    EarlyWarning,
    binomial_draw,
    calibrate_threshold,
    evaluate_alerts,
    forecast_probability,
    forecast_rho,
    hindcast_max_probability,
    hindcast_seed,
    info_lag_months,
    issue_forecasts,
)
from hssim.policies.schema import ForecastConfig, PolicyConfig
from hssim.registry import lookup
from hssim.scenario import load_scenario

SMALL = ["population.households=300", "population.households_per_community=10", "spinup_months=12"]
#: the drought hazard alone (it is exogenous: conflict and disease do not change it)
DROUGHT_ONLY = ["hazards.conflict.enabled=false", "hazards.disease.enabled=false"]
PROBED = ("spi", "in_drought", "conflict_events", "new_infections", "water_scarcity")
#: an epidemic-prone pathogen, so that surveillance has cases to see: the cholera preset is
#: below its epidemic threshold in normal conditions (outbreaks come and go), and a
#: 300-household run might see none
EPIDEMIC = ["hazards.disease.r0=1.5", "hazards.disease.importations_per_month=1"]


def policy(**kw) -> PolicyConfig:
    return from_mapping(PolicyConfig, kw)


class Probe(Module):
    """Copies district fields and people / IPC3+ by location after the POLICY phase."""

    def __init__(self, phase=Phase.ALLOCATION, name="probe", surveillance_gain=None):
        self.phase = phase
        self.name = name
        self.gain = surveillance_gain

    def init(self, engine):
        T, D = engine.n_ticks, engine.scenario.n_districts
        self.rec = {f: np.zeros((T, D)) for f in (*PROBED, "people", "ipc3plus")}

    def step(self, engine, ti):
        if self.gain is not None:  # an INTERVENTION-phase stand-in for community health workers
            engine.districts.surveillance_gain[:] = self.gain
            return
        for f in PROBED:
            self.rec[f][ti] = engine.districts[f]
        hh = engine.households
        D = engine.scenario.n_districts
        people = np.zeros(D)
        ipc3 = np.zeros(D)
        np.add.at(people, hh.location, hh.members)
        np.add.at(ipc3, hh.location, hh.members * (hh.ipc_phase >= 3))
        self.rec["people"][ti] = people
        self.rec["ipc3plus"][ti] = np.where(people > 0, ipc3 / np.maximum(people, 1), 0.0)


def make_engine(overrides, warnings: dict[str, PolicyConfig], storyline=None, extra=(), validate=False):
    """An engine built as build_engine builds it, plus EarlyWarning instances and a probe."""
    from hssim.couplings.food_system import FoodSystem
    from hssim.households.displacement import Displacement
    from hssim.households.dynamics import Households

    data = OmegaConf.to_container(hssim.compose(overrides), resolve=True)
    if storyline is not None:
        data["storyline"] = {"name": "test", "events": storyline}
    cfg, scenario = prepare(data)
    modules = [lookup(h.kind, "hazards", "x").module_cls(h, name=n) for n, h in cfg.hazards.items()]
    modules += [FoodSystem(cfg.food_system, cfg.couplings), Households(cfg.households, cfg.population, cfg.food_system)]
    modules.append(Displacement(cfg.displacement))
    ews = {k: EarlyWarning(p, name=f"early_warning_{k}") for k, p in warnings.items()}
    probe = Probe()
    engine = Engine(cfg, scenario, [*modules, *ews.values(), probe, *extra], validate=validate)
    engine.run()
    return engine, ews, probe.rec


MAIN_POLICIES = {
    "p30": policy(trigger={"probability": 0.3}),
    "p60": policy(trigger={"probability": 0.6}),
    "obs_spi_siloed": policy(trigger={"kind": "observed", "observed_indicator": "spi", "observed_threshold": -1.0}),
    "obs_spi_joint": policy(
        mode="integrated",
        joint_info_lag_months=1,
        trigger={"kind": "observed", "observed_indicator": "spi", "observed_threshold": -1.0},
    ),
    "obs_ipc": policy(
        coordination=0.5,
        joint_info_lag_months=0,
        sector_info_lag_months={"food_security": 3, "health": 1, "protection": 1, "livelihoods": 3},
        trigger={"kind": "observed", "observed_indicator": "ipc3plus_frac", "observed_threshold": 0.5},
        warnings={"food_ipc3plus_threshold": 0.4},
    ),
    "area_all": policy(
        forecast={"skill": 0.95, "skill_decay_months": 100.0}, trigger={"probability": 0.5, "area_fraction": 1.0}
    ),
    "area_half": policy(
        forecast={"skill": 0.95, "skill_decay_months": 100.0}, trigger={"probability": 0.5, "area_fraction": 0.5}
    ),
    "calibrated": policy(trigger={"kind": "calibrated", "target_frequency": 0.3, "hindcast_years": 30}),
    "surv_exact": policy(warnings={"surveillance_sensitivity": 1.0, "surveillance_delay_months": 0}),
    "surv_delay2": policy(warnings={"surveillance_sensitivity": 1.0, "surveillance_delay_months": 2}),
    "surv_partial": policy(
        warnings={"surveillance_sensitivity": 0.3, "surveillance_delay_months": 1, "disease_alert_per_10k": 2.0}
    ),
    "conflict": policy(warnings={"conflict_escalation_multiple": 1.5, "conflict_min_events": 2}),
}
MAIN_OVERRIDES = [
    *SMALL,
    "months=42",
    "seed=5",
    "storyline=two_failed_seasons",
    "hazards.drought.trend_anomaly_per_decade=-0.3",
    *EPIDEMIC,
]


@pytest.fixture(scope="module")
def main():
    return make_engine(MAIN_OVERRIDES, MAIN_POLICIES)


def _iid_climate() -> DroughtConfig:
    """Independent months and districts: spi_d(t) i.i.d. N(0, 1), so binomial errors apply."""
    return from_mapping(
        DroughtConfig,
        {"regional_weight": 0.0, "district_persistence": 0.0, "correlation_length_km": 0.001, "spi_months": 1},
    )


@pytest.fixture(scope="module")
def iid_series():
    sc = load_scenario("synthetic_region")
    _, spi = simulate_index(_iid_climate(), sc.xy_km, sc.rain_clim_mm, seed=11, n_ticks=6020)
    return spi


# -- the simulated future ------------------------------------------------------------------
def test_simulated_series_is_bit_identical_to_the_drought_module(main):
    engine, ews, rec = main
    ew = ews["p30"]
    T = engine.n_ticks
    np.testing.assert_array_equal(ew.spi_future[:T], rec["spi"])
    np.testing.assert_array_equal(ew.spi_future[:T] <= -1.0, rec["in_drought"] == 1.0)
    # the storyline forced some months: the series is not the unforced one
    assert rec["spi"][engine.spinup + 27].max() <= -1.0


def test_invariant_check_catches_a_truth_that_is_not_the_modules_index(main):
    engine, ews, _ = main
    ew = ews["p30"]
    ew.check_invariants(engine)  # the last tick agrees
    T = engine.n_ticks
    saved = ew.spi_future[T - 1, 0]
    ew.spi_future[T - 1, 0] = np.nextafter(saved, np.inf)
    try:
        with pytest.raises(InvariantError, match="drought index"):
            ew.check_invariants(engine)
    finally:
        ew.spi_future[T - 1, 0] = saved


def test_simulated_future_beyond_the_horizon_is_what_a_longer_run_writes(main):
    engine, ews, _ = main
    longer = [o for o in MAIN_OVERRIDES if not o.startswith(("months=", "population."))]
    _e2, _, rec2 = make_engine(
        [*longer, *DROUGHT_ONLY, "months=58", "population.households=60", "population.households_per_community=5"], {}
    )
    T = engine.n_ticks
    np.testing.assert_array_equal(ews["p30"].spi_future, rec2["spi"][: T + 16])


# -- forecasts ----------------------------------------------------------------------------
def test_perfect_skill_at_lead_zero_reproduces_the_truth(iid_series):
    z = iid_series
    fc = from_mapping(ForecastConfig, {"skill": 0.999, "skill_decay_months": 6.0})
    _, p = issue_forecasts(z, 3, fc, 0, -1.0, 6000)
    truth = z[:6000] <= -1.0
    assert np.mean(np.abs(p - truth)) < 0.03
    # away from the threshold (0.3 sd = 6.7 noise sd) the forecast is certain
    assert p[z[:6000] < -1.3].min() > 0.99
    assert p[z[:6000] > -0.7].max() < 0.01
    assert truth.sum() > 1000


def test_perfect_skill_through_the_module():
    _engine, ews, rec = make_engine(
        [*SMALL, *DROUGHT_ONLY, "months=48", "seed=8", "population.households=100"],
        {"lead0": policy(forecast={"skill": 0.999}, trigger={"lead_months": 0, "probability": 0.5})},
    )
    h = ews["lead0"].history
    dry = rec["in_drought"] == 1.0
    assert dry.sum() > 20
    assert np.mean(np.abs(h["drought_probability"] - dry)) < 0.05
    assert np.mean((h["alert_drought"] == 1.0) == dry) > 0.95


def _reliability_failures(p, event, bins=10, k=4.0):
    """Bins whose event frequency is more than k binomial standard errors from their mean probability."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    bad, used = [], 0
    for b in range(bins):
        sel = idx == b
        n = sel.sum()
        if n < 200:
            continue
        used += 1
        pm = p[sel].mean()
        se = math.sqrt((p[sel] * (1 - p[sel])).sum()) / n  # sd of the mean of independent Bernoulli(p_i)
        if abs(event[sel].mean() - pm) > k * se:
            bad.append((b, n, pm, event[sel].mean(), se))
    return bad, used


def test_probabilities_are_reliable(iid_series):
    z = iid_series
    fc = from_mapping(ForecastConfig, {"skill": 0.7, "skill_decay_months": 6.0})
    L = 2
    f, p = issue_forecasts(z, 4, fc, L, -1.0, 6000)
    event = z[L : L + 6000] <= -1.0
    bad, used = _reliability_failures(p.ravel(), event.ravel())
    assert used >= 6 and bad == [], bad
    # the check has power: an overconfident forecaster (using rho = 0.9) fails it
    p_wrong = forecast_probability(f, 0.9, -1.0)
    bad_wrong, _ = _reliability_failures(p_wrong.ravel(), event.ravel())
    assert len(bad_wrong) >= 3


def test_skill_decays_with_lead(iid_series):
    z = iid_series
    fc = from_mapping(ForecastConfig, {"skill": 0.8, "skill_decay_months": 6.0})
    corr = {}
    for L in (0, 6):
        f, _ = issue_forecasts(z, 4, fc, L, -1.0, 6000)
        r = np.corrcoef(f.ravel(), z[L : L + 6000].ravel())[0, 1]
        rho = forecast_rho(fc, L)
        se = (1 - rho**2) / math.sqrt(f.size)  # large-sample sd of a correlation coefficient
        assert abs(r - rho) < 4 * se, (L, r, rho, se)
        corr[L] = r
    assert forecast_rho(fc, 6) == pytest.approx(0.8 * math.exp(-1.0))
    assert corr[0] > corr[6] + 0.4


def test_forecast_noise_and_probabilities_are_common_random_numbers(main):
    _engine, ews, rec = main
    a, b = ews["p30"], ews["p60"]
    np.testing.assert_array_equal(a.eps, b.eps)
    np.testing.assert_array_equal(a.spi_future, b.spi_future)
    np.testing.assert_array_equal(a.history["drought_probability"], b.history["drought_probability"])
    assert (a.history["alert_drought"] != b.history["alert_drought"]).any()
    # the same arm alone in another engine with a shorter horizon (the model is causal):
    # identical hazards, forecasts and alerts over the common months
    shorter = [o if not o.startswith("months=") else "months=30" for o in MAIN_OVERRIDES]
    e2, ews2, rec2 = make_engine(shorter, {"p30": MAIN_POLICIES["p30"]})
    T2 = e2.n_ticks
    for f in PROBED:
        np.testing.assert_array_equal(rec[f][:T2], rec2[f])
    for f, v in a.history.items():
        np.testing.assert_array_equal(v[:T2], ews2["p30"].history[f])
    np.testing.assert_array_equal(a.eps[:T2], ews2["p30"].eps)
    assert rec2["conflict_events"].sum() > 0 and rec2["new_infections"].sum() > 0


# -- triggers --------------------------------------------------------------------------------
def test_probability_trigger_is_the_threshold_rule(main):
    _, ews, _ = main
    for k, thr in (("p30", 0.3), ("p60", 0.6)):
        h = ews[k].history
        np.testing.assert_array_equal(h["alert_drought"] == 1.0, h["drought_probability"] >= thr)
        assert 0 < h["alert_drought"].sum() < h["alert_drought"].size


def test_calibrated_threshold_fires_at_the_target_frequency_in_the_hindcast(main):
    engine, ews, _ = main
    ew = ews["calibrated"]
    N = ew.hindcast_max.size
    assert N == 30 * 12
    assert np.count_nonzero(ew.hindcast_max >= ew.threshold) == round(0.3 * N) == 108
    # the pure functions reproduce it from the run's seed
    sc, dcfg = engine.scenario, engine.cfg.hazards["drought"]
    hm = hindcast_max_probability(
        dcfg, sc.xy_km, sc.rain_clim_mm, hindcast_seed(engine.seed), 30, ew.policy.forecast, 3
    )
    np.testing.assert_array_equal(hm, ew.hindcast_max)
    assert calibrate_threshold(hm, 0.3) == ew.threshold
    h = ew.history
    np.testing.assert_array_equal(h["alert_drought"] == 1.0, h["drought_probability"] >= ew.threshold)


def test_calibrated_threshold_holds_out_of_sample():
    """A threshold set on one long hindcast fires at the target frequency on another.

    Tolerance: the out-of-sample frequency differs from f by the sampling error of
    the threshold (a quantile of Y years) plus that of the test frequency (Y' years).
    Districts of one year are correlated (regional driver), so the unit is the year:
    both errors have the variance of a mean of yearly firing shares, var_year / Y.
    Years are nearly independent (the regional driver's persistence over 12 months
    is 0.8^12 = 0.07; the yearly shares' lag-1 correlation is about 0.1, which would
    widen se by about 10%). So se = sqrt(var_year (1/Y + 1/Y')), checked at 4 se.
    """
    sc = load_scenario("synthetic_region")
    dcfg = DroughtConfig()
    fc = ForecastConfig()
    f, Y = 0.25, 1000
    hc = hindcast_max_probability(dcfg, sc.xy_km, sc.rain_clim_mm, hindcast_seed(1), Y, fc, 3)
    thr = calibrate_threshold(hc, f)
    assert np.count_nonzero(hc >= thr) == round(f * hc.size)
    test = hindcast_max_probability(dcfg, sc.xy_km, sc.rain_clim_mm, hindcast_seed(2), Y, fc, 3)
    yearly = (test >= thr).mean(axis=1)
    se = math.sqrt(yearly.var() * (2.0 / Y))
    assert se < 0.015  # the check is tight enough to mean something
    assert abs(yearly.mean() - f) < 4 * se, (yearly.mean(), se)


def test_calibrate_threshold_exact_count_and_ties():
    v = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    for f in (0.1, 0.3, 0.5, 0.9):
        thr = calibrate_threshold(v, f)
        assert np.count_nonzero(v >= thr) == round(f * 10)
        assert thr not in v or round(f * 10) == 10
    assert np.count_nonzero(v >= calibrate_threshold(v, 0.04)) == 0
    # ties that straddle the cut: the nearer count, the fewer at equal distance
    t = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    assert np.count_nonzero(t >= calibrate_threshold(t, 0.4)) == 1  # K=2: 1 (off by 1) beats 4 (off by 2)
    assert np.count_nonzero(t >= calibrate_threshold(t, 0.6)) == 4  # K=3: 4 (off by 1) beats 1 (off by 2)
    u = np.array([0.9, 0.5, 0.5, 0.1])
    assert np.count_nonzero(u >= calibrate_threshold(u, 0.5)) == 1  # K=2: 1 and 3 equally far: fewer


def test_two_stage_readiness_precedes_activation():
    """A forced failure (-5 sd, a one-month index) in an otherwise calm climate (drought
    at -3 sd is rare): readiness (lead 6) is declared 3 months before activation
    (lead 3), which comes 3 months before the drought, and is still in force then."""
    pol = policy(
        forecast={"skill": 0.999, "skill_decay_months": 10000.0},
        trigger={
            "kind": "two_stage",
            "lead_months": 3,
            "probability": 0.5,
            "readiness_lead_months": 6,
            "readiness_probability": 0.5,
        },
    )
    engine, ews, rec = make_engine(
        [
            *SMALL,
            *DROUGHT_ONLY,
            "months=40",
            "seed=3",
            "population.households=100",
            "hazards.drought.drought_spi=-3.0",
            "hazards.drought.spi_months=1",
        ],
        {"two": pol},
        storyline=[{"start": 20, "end": 22, "anomaly": -5.0}],
        validate=True,  # includes EarlyWarning.check_invariants: simulated index == module's, every tick
    )
    h = ews["two"].history
    act, ready = h["alert_drought"] == 1.0, h["ready_drought"] == 1.0
    s = engine.spinup
    dry = rec["in_drought"] == 1.0
    # premise: the forced failure brings drought everywhere, after calm months
    assert dry[s + 19 : s + 24].any(axis=0).all() and not dry[s + 5 : s + 19].any()
    for d in range(engine.scenario.n_districts):
        t_act = s + 5 + np.flatnonzero(act[s + 5 :, d])[0]
        t_ready = s + 5 + np.flatnonzero(ready[s + 5 :, d])[0]
        t_dry = s + 5 + np.flatnonzero(dry[s + 5 :, d])[0]
        assert t_ready == t_act - 3 and t_act == t_dry - 3, (d, t_ready, t_act, t_dry)
        assert ready[t_ready : t_act + 1, d].all()  # readiness in force when activation comes
    ev = ews["two"].evaluation()
    assert ev["episodes"] == ev["detected"] >= 12 and ev["misses"] == 0


def test_area_fraction(main):
    _engine, ews, rec = main
    people = rec["people"]
    for k, frac in (("area_all", 1.0), ("area_half", 0.5)):
        ew = ews[k]
        h = ew.history["alert_drought"] == 1.0
        cond = ew.probability >= 0.5
        share = (people * cond).sum(axis=1) / people.sum(axis=1)
        expected = share >= frac
        # all districts or none, and exactly when the share of people meeting the condition reaches frac
        assert (h.all(axis=1) | ~h.any(axis=1)).all()
        np.testing.assert_array_equal(h[:, 0], expected)
    mixed = (cond.any(axis=1) & ~cond.all(axis=1)).sum()
    h_all = ews["area_all"].history["alert_drought"] == 1.0
    h_half = ews["area_half"].history["alert_drought"] == 1.0
    assert mixed > 0 and h_all.any() and h_half.sum() > h_all.sum()


def test_observed_trigger_fires_after_the_indicator_crosses_with_the_lag(main):
    _engine, ews, rec = main
    spi, ipc = rec["spi"], rec["ipc3plus"]
    cases = (("obs_spi_siloed", 2, spi <= -1.0), ("obs_spi_joint", 1, spi <= -1.0), ("obs_ipc", 2, ipc >= 0.5))
    for k, lag, crossed in cases:
        ew = ews[k]
        assert ew.lag == info_lag_months(ew.policy) == lag
        h = ew._fired  # the trigger, whichever signal it raises
        assert not h[:lag].any()
        np.testing.assert_array_equal(h[lag:], crossed[:-lag])
        assert crossed.any() and (~crossed).any()
        assert (h[lag:] != crossed[lag:]).any()  # the lag matters
    # an index trigger raises the drought signal; an observed-need trigger raises the
    # food-security signal (it answers need, not the drought hazard) and never the drought one
    np.testing.assert_array_equal(ews["obs_spi_siloed"].history["alert_drought"] == 1.0, ews["obs_spi_siloed"]._fired)
    obs = ews["obs_ipc"]
    assert obs.target == "need" and obs.trigger_signal == "food" and not obs.history["alert_drought"].any()
    # the food alert uses the same lag with its own threshold, and the trigger's on top
    food = obs.history["alert_food"] == 1.0
    np.testing.assert_array_equal(food[2:], (ipc >= 0.4)[:-2] | (ipc >= 0.5)[:-2])
    # scored against need: every activation answers need observed lag months late, so
    # none is a false alarm
    ev = obs.evaluation()
    assert ev["activations"] > 0 and ev["false_alarms"] == 0 and ev["hits"] == ev["activations"]
    assert set(obs.activations_table()["target"]) == {"need"}
    assert ews["p30"].lag == 2  # siloed default: the food-security sector's 2 months


def test_info_lag_rounding():
    lags = {"food_security": 3, "health": 1, "protection": 1, "livelihoods": 3}
    assert (
        info_lag_months(policy(coordination=0.5, joint_info_lag_months=0, sector_info_lag_months=lags)) == 2
    )  # 1.5 -> 2
    assert (
        info_lag_months(policy(coordination=0.25, joint_info_lag_months=1, sector_info_lag_months=lags)) == 3
    )  # 2.5 -> 3
    assert info_lag_months(policy(mode="integrated", joint_info_lag_months=0)) == 0


# -- warnings ---------------------------------------------------------------------------
def test_conflict_warning_from_escalation(main):
    engine, ews, rec = main
    conflict = next(m for m in engine.modules if isinstance(m, Conflict))
    usual = conflict.usual_rate(engine)
    ev = rec["conflict_events"]
    expected = (ev >= 2) & (ev >= 1.5 * usual)
    h = ews["conflict"].history["alert_conflict"] == 1.0
    np.testing.assert_array_equal(h, expected)
    assert 0 < h.sum() < h.size
    # two events are not enough where the usual level is high, and enough where it is low
    assert ((ev >= 2) & ~h).any()


def test_surveillance_reports(main):
    _engine, ews, rec = main
    inf = rec["new_infections"]
    assert inf.sum() > 50
    exact = ews["surv_exact"].history["reported_cases"]
    np.testing.assert_array_equal(exact, inf)
    delayed = ews["surv_delay2"].history["reported_cases"]
    np.testing.assert_array_equal(delayed[2:], inf[:-2])
    assert (delayed[:2] == 0).all()
    # sensitivity 0.3, delay 1: binomial thinning
    part = ews["surv_partial"].history["reported_cases"]
    n = inf[:-1].sum()
    assert (part[1:] <= inf[:-1]).all()
    assert abs(part[1:].sum() / n - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)
    # the outbreak alert: at least one case and >= 2 reported per 10,000 people
    h = ews["surv_partial"].history
    rate = h["reported_cases"] * 1e4 / rec["people"]
    np.testing.assert_array_equal(h["alert_disease"] == 1.0, (h["reported_cases"] >= 1) & (rate >= 2.0))
    assert h["alert_disease"].any()


def test_binomial_draw_is_the_inverse_cdf():
    u = (np.arange(1, 200) - 0.37) / 200
    for n, p in ((0, 0.5), (1, 0.3), (7, 0.02), (40, 0.5), (3000, 0.3), (100_000, 0.3), (50_000, 0.999)):
        got = np.array([binomial_draw(x, n, p) for x in u])
        np.testing.assert_array_equal(got, binom.ppf(u, n, p).astype(int))
    assert binomial_draw(0.999, 1234, 1.0) == 1234 and binomial_draw(0.999, 1234, 0.0) == 0


# -- without hazards ---------------------------------------------------------------------------
def test_no_drought_no_conflict_means_no_such_signals_and_gain_reaches_full_sensitivity():
    pols = {
        "p0": policy(trigger={"probability": 0.0}),
        "obs": policy(trigger={"kind": "observed", "observed_indicator": "spi", "observed_threshold": 0.5}),
        "gain": policy(warnings={"surveillance_sensitivity": 0.3, "surveillance_delay_months": 0}),
    }
    _engine, ews, rec = make_engine(
        [*SMALL, *EPIDEMIC, "months=18", "seed=9", "hazards.drought.enabled=false", "hazards.conflict.enabled=false"],
        pols,
        extra=[Probe(phase=Phase.INTERVENTION, name="chw", surveillance_gain=1.0)],
    )
    for k in ("p0", "obs"):
        h = ews[k].history
        assert (
            (h["drought_probability"] == 0).all()
            and (h["alert_drought"] == 0).all()
            and (h["ready_drought"] == 0).all()
        )
        assert (h["alert_conflict"] == 0).all()
    # full surveillance gain (set from the first INTERVENTION phase on) reports every infection
    rep = ews["gain"].history["reported_cases"]
    np.testing.assert_array_equal(rep[1:], rec["new_infections"][1:])
    assert rec["new_infections"].sum() > 0
    assert ews["p0"].evaluation()["activations"] == 0


# -- evaluation -----------------------------------------------------------------------------------
def test_evaluate_alerts_by_hand():
    # one district, lead 1 -> window 4 months
    alert = np.zeros((20, 1), bool)
    dry = np.zeros((22, 1), bool)
    alert[[0, 1, 8, 14, 19], 0] = True  # runs starting at 0, 8, 14, 19
    dry[[3, 4, 5, 16, 21], 0] = True  # episodes (3-5) and (16); month 21 is after the horizon
    s, d = evaluate_alerts(alert, dry, lead=1)
    np.testing.assert_array_equal(d["act_month"], [0, 8, 14, 19])
    np.testing.assert_array_equal(d["act_hit"], [True, False, True, True])  # 0->3, 8->none in 8..12, 14->16, 19->21
    assert (s["activations"], s["hits"], s["false_alarms"]) == (4, 3, 1)
    assert (s["episodes"], s["detected"], s["misses"]) == (2, 2, 0)
    assert s["false_alarm_ratio"] == pytest.approx(0.25) and s["hit_rate"] == 1.0
    alert2 = np.zeros((20, 1), bool)
    alert2[12, 0] = True  # 16 - 12 = 4 <= window: detects the second episode only
    s2, d2 = evaluate_alerts(alert2, dry, lead=1)
    assert (s2["episodes"], s2["detected"], s2["misses"], s2["hits"]) == (2, 1, 1, 1)
    np.testing.assert_array_equal(d2["ep_detected"], [False, True])


def test_module_evaluation_and_activations_table(main):
    engine, ews, rec = main
    ew = ews["p30"]
    s = engine.spinup
    alert = ew.history["alert_drought"][s:] == 1.0
    truth = np.concatenate([rec["in_drought"][s:] == 1.0, ew.spi_future[engine.n_ticks :] <= -1.0])
    summary, _det = evaluate_alerts(alert, truth, 3)
    ev = ew.evaluation()
    assert ev == summary
    assert ev["activations"] > 0 and ev["episodes"] > 0
    assert ev["hits"] + ev["false_alarms"] == ev["activations"]
    table = ew.activations_table()
    assert list(table.columns) == ["month", "district", "hit", "target", "probability"]
    assert len(table) == ev["activations"] and table["hit"].sum() == ev["hits"]
    assert (table["probability"] >= 0.3).all()
    row = table.iloc[0]
    d = engine.scenario.names.index(row["district"])
    assert alert[row["month"] - 1, d] and (row["month"] == 1 or not alert[row["month"] - 2, d])
    # a hit has a drought month within lead + 3 months of the activation
    for _, r in table.iterrows():
        d = engine.scenario.names.index(r["district"])
        assert truth[r["month"] - 1 : r["month"] + 6, d].any() == r["hit"]


def test_a_one_in_five_year_preset_trigger_fires_in_about_a_fifth_of_the_years():
    """The anticipatory presets set their thresholds by return period (activation in 20%
    of district-years of the hindcast, readiness in 30%): over a long run of the model's
    own climate the activation fires in about 20% of district-years, readiness in about 30%.

    Tolerance: years are the unit (districts of a year share the regional driver); the
    share of a run of Y years differs from the target by its own sampling error and the
    threshold's (a quantile of the hindcast's H years): se = sqrt(var_year (1/Y + 1/H)),
    checked at 4 se.
    """
    from hssim.config.build import build_engine
    from hssim.policies.early_warning import EarlyWarning

    Y, H = 150, 300
    cfg = hssim.compose(["policy=anticipatory_integrated", "population.households=60", f"months={12 * Y}",
                         "spinup_months=0", "hazards.conflict.enabled=false", f"policy.trigger.hindcast_years={H}",
                         "interventions=none", "output.figure=false", "seed=11"])
    engine = build_engine(cfg)
    engine.run()
    ew = next(m for m in engine.modules if isinstance(m, EarlyWarning))
    assert ew.policy.trigger.return_periods and ew.policy.trigger.target_frequency == 0.2
    # the thresholds are the hindcast's: exactly the target share of its district-years fires
    assert np.count_nonzero(ew.hindcast_max >= ew.threshold) == round(0.2 * ew.hindcast_max.size)
    assert np.count_nonzero(ew.hindcast_max_ready >= ew.readiness_threshold) == round(0.3 * ew.hindcast_max_ready.size)
    D = engine.scenario.n_districts
    for field, target in (("alert_drought", 0.2), ("ready_drought", 0.3)):
        on = ew.history[field].reshape(Y, 12, D).max(axis=1) > 0  # [years, districts]
        yearly = on.mean(axis=1)
        se = math.sqrt(yearly.var() * (1.0 / Y + 1.0 / H))
        assert se < 0.03
        assert abs(yearly.mean() - target) < 4 * se, (field, yearly.mean(), se)


def test_return_periods_are_refused_where_they_mean_nothing():
    with pytest.raises(hssim.ConfigError, match="return_periods"):
        policy(trigger={"kind": "observed", "return_periods": True})
    with pytest.raises(hssim.ConfigError, match="readiness_frequency"):
        policy(trigger={"kind": "two_stage", "return_periods": True, "target_frequency": 0.3,
                        "readiness_frequency": 0.2})


def test_a_reactive_response_answers_need_and_is_never_in_vain():
    """The reactive presets' observed-need trigger activates the programmes that answer
    need (food security, nutrition), not those keyed to the drought hazard, and the money
    it spends is never counted as spent in vain: the need was there."""
    res = hssim.run(hssim.compose(["policy=reactive_siloed", "storyline=two_failed_seasons", "population.households=800",
                                   "months=36", "spinup_months=6", "output.figure=false", "seed=5"]))
    acts = res.tables["activations"]
    triggered = acts[acts["signals"] != "always"]
    assert len(triggered) > 0
    assert not triggered["signals"].str.split("+").map(lambda s: "drought" in s).any()
    assert res.summary["cost_in_vain_usd"] == 0.0
    assert set(res.tables["triggers"]["target"]) <= {"need"} and res.summary["trigger_false_alarms"] == 0
