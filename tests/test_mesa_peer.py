"""Statistical agreement of hssim's engine with an idiomatic Mesa peer (benchmarks/mesa_peer.py).

The peer re-implements the drought hazard, food system and household dynamics in
plain Python / NumPy (one ``mesa.Agent`` per household) from the documented
equations, with Mesa's random generators. The engine runs with conflict, disease,
displacement and policy off (``mesa_peer.DROUGHT_ONLY``). A seed gives different
draws on the two sides, so agreement is checked statistically, in four layers:

1. the initial population (KS tests on household-level distributions);
2. the drought process: stationary statistics of a long simulated series against
   their analytic values and against the engine's series (batch-means errors);
3. the food system: fed the engine's own anomaly series, the peer's district
   conditions (harvests, pasture, prices, drought flags) equal the engine's
   (deterministic given the rain: exact to rounding);
4. household outcomes: paired runs (same drought realisation, different household
   draws) on a storyline with two failed seasons; paired differences of run-level
   outcome means within a few standard errors, and KS tests of end-of-run
   household distributions.

Each statistical check has a power check: a peer with one parameter deliberately
changed (wage -10%; regional persistence of the drought driver 0.8 -> 0.6) must be
detected.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mesa")
stats = pytest.importorskip("scipy.stats")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mesa_peer as mp

BASE = ["population.households=1500", "months=36", "storyline=two_failed_seasons", "output.figure=false"]
#: seeds of the paired runs (engine seed s, peer seed 1000 + s)
SEEDS = tuple(range(100, 108))
#: paired tolerance: |mean difference| <= K_SE standard errors of the mean paired
#: difference (8 pairs, 7 degrees of freedom). With identical models |t_7| > 5 has
#: probability 0.0016 per statistic, at most 1.5% for the 9 (correlated) statistics
#: below. Measured: |t| <= 1.7 for the peer; a 10% lower wage gives |t| 5.5-6.7 on the
#: IPC3+, poverty and negative-coping shares (2-4 on the others).
K_SE = 5.0
#: KS tests: a p-value below this fails (4-8 distributions per test)
KS_ALPHA = 1e-3
#: drought process: |estimate - target| <= K_BATCH batch-means standard errors
#: (20 batches: |t_19| > 4.5 has probability 2e-4 per statistic)
K_BATCH = 4.5

RUN_STATS = {
    # run-level statistic -> function of the outcome series (months after spin-up)
    "ipc3plus_frac_mean": lambda o: o["ipc3plus_frac"].mean(),
    "ipc3plus_frac_drought_window": lambda o: o["ipc3plus_frac"][21:33].mean(),  # the failed seasons and after
    "poverty_frac_mean": lambda o: o["poverty_frac"].mean(),
    "negative_coping_frac_mean": lambda o: o["negative_coping_frac"].mean(),
    "consumption_gap_mean": lambda o: o["consumption_gap"].mean(),
    "acute_malnutrition_frac_mean": lambda o: o["acute_malnutrition_frac"].mean(),
    "deaths_total_per_1000_people": lambda o: 1000 * o["deaths"].sum() / o["people"][0],
    "assets_usd_per_household_mean": lambda o: o["assets_usd_per_household"].mean(),
    "below_trap_frac_mean": lambda o: o["below_trap_frac"].mean(),
}


@pytest.fixture(scope="module")
def composed():
    import hssim

    return hssim.compose([*mp.DROUGHT_ONLY, *BASE])


def _cfg(composed, seed):
    c = composed.copy()
    c.seed = seed
    return mp.load(c)


@pytest.fixture(scope="module")
def paired(composed):
    """Per seed: engine outcomes + table, the engine's anomaly series, peer outcomes + table."""
    runs = []
    for s in SEEDS:
        cfg, sc = _cfg(composed, s)
        eo, et = mp.engine_outcomes(cfg)
        a = mp.engine_anomaly(cfg, sc)
        po, pt = mp.peer_outcomes(cfg, sc, seed=1000 + s, anomaly=a)
        runs.append({"cfg": cfg, "scenario": sc, "anomaly": a, "engine": (eo, et), "peer": (po, pt)})
    return runs


def paired_t(engine_outcomes, peer_outcomes) -> dict[str, float]:
    """t statistic of the mean paired difference (engine - peer) of each run-level statistic."""
    out = {}
    for name, f in RUN_STATS.items():
        d = np.array([f(e) - f(p) for e, p in zip(engine_outcomes, peer_outcomes)])
        se = d.std(ddof=1) / math.sqrt(len(d))
        out[name] = d.mean() / se if se > 0 else (0.0 if d.mean() == 0 else math.inf)
    return out


# -- 0. constants the peer copies ------------------------------------------------------------
def test_copied_constants_match_hssim():
    from hssim.households import dynamics

    assert mp.P_CHILD == dynamics.P_CHILD
    assert mp.P_U5_OF_CHILD == dynamics.P_U5_OF_CHILD
    src = Path(dynamics.__file__).read_text()
    assert "hh.land_ha * 500.0" in src and mp.LAND_VALUE_USD_PER_HA == 500.0


def test_peer_refuses_modules_it_does_not_implement(composed):
    c = composed.copy()
    c.hazards.conflict.enabled = True
    with pytest.raises(ValueError, match="conflict"):
        mp.load(c)


# -- 1. initial population ---------------------------------------------------------------------
def test_initial_population_agrees(composed):
    from hssim.config.build import build_engine

    c = composed.copy()
    c.population.households = 8000
    cfg, sc = mp.load(c)
    eng = build_engine(cfg)
    eng.init()
    model = mp.DroughtHouseholdModel(cfg, scenario=sc, seed=7)
    pt = model.household_table()
    # identical allocation to districts and communities (deterministic)
    assert np.array_equal(np.bincount(eng.households.district), np.bincount([a.district for a in model.agents]))
    assert eng.households.community.max() + 1 == model.n_communities
    pvals = {}
    for name in ("members", "u5", "livelihood", "herd_tlu", "assets_usd", "savings_usd", "food_stock_kg", "land_ha"):
        pvals[name] = stats.ks_2samp(eng.households[name].astype(np.float64), pt[name]).pvalue
    assert min(pvals.values()) > KS_ALPHA, pvals


# -- 2. drought process ------------------------------------------------------------------------
T_DROUGHT, N_BATCH = 6000, 20


def _drought_stats(a: np.ndarray, spi: np.ndarray, threshold: float) -> dict[str, float]:
    """Stationary statistics of anomaly a[T, D] and index spi[T, D]."""
    x = a - a.mean(axis=0)
    c = np.corrcoef(a.T)
    iu = np.triu_indices(a.shape[1], 1)
    return {
        "anomaly_mean": a.mean(),
        "anomaly_var": a.var(axis=0).mean(),
        "lag1_autocorr": (x[1:] * x[:-1]).sum() / (x * x).sum(),
        "cross_district_corr_mean": c[iu].mean(),
        "drought_share": (spi <= threshold).mean(),
        "spi_var": spi.var(axis=0).mean(),
    }


def _with_errors(a, spi, threshold):
    """Full-series statistics and their batch-means standard errors."""
    full = _drought_stats(a, spi, threshold)
    b = [_drought_stats(aa, ss, threshold) for aa, ss in zip(np.array_split(a, N_BATCH), np.array_split(spi, N_BATCH))]
    se = {k: np.std([x[k] for x in b], ddof=1) / math.sqrt(N_BATCH) for k in full}
    return full, se


def _peer_drought(dcfg, sc, seed):
    field = mp.RainfallField(dcfg, sc.xy_km, sc.rain_clim_mm, np.random.default_rng(seed))
    a = np.empty((T_DROUGHT, sc.n_districts))
    spi = np.empty_like(a)
    for t in range(T_DROUGHT):
        a[t], spi[t] = field.advance(t % 12, 0.0)
    return a[12:], spi[12:]  # drop the first year (the SPI window fills)


def _drought_targets(dcfg, sc):
    from hssim.hazards.drought import anomaly_correlation, lag_correlation

    c = anomaly_correlation(dcfg, sc.xy_km)
    iu = np.triu_indices(sc.n_districts, 1)
    return {
        "anomaly_mean": 0.0,
        "anomaly_var": 1.0,
        "lag1_autocorr": lag_correlation(dcfg, 2)[0, 1],
        "cross_district_corr_mean": c[iu].mean(),
        "drought_share": 0.5 * math.erfc(-dcfg.drought_spi / math.sqrt(2)),
        "spi_var": 1.0,
    }


def _drought_failures(est, se, target):
    return {k: (est[k], target[k], se[k]) for k in est if abs(est[k] - target[k]) > K_BATCH * se[k]}


def test_drought_process_matches_engine_statistically(composed):
    from hssim.hazards.drought import simulate_index

    cfg, sc = _cfg(composed, 1)
    dcfg = cfg.hazards["drought"]
    thr = dcfg.drought_spi
    target = _drought_targets(dcfg, sc)
    ea, es = simulate_index(dcfg, sc.xy_km, sc.rain_clim_mm, 11, T_DROUGHT, trend=False)
    e_est, e_se = _with_errors(ea[12:], es[12:], thr)
    p_est, p_se = _with_errors(*_peer_drought(dcfg, sc, 11), thr)
    # both against the analytic values (the engine too: the tolerance is fair)
    assert not _drought_failures(e_est, e_se, target)
    assert not _drought_failures(p_est, p_se, target), (p_est, target)
    # and against each other
    for k in e_est:
        assert abs(e_est[k] - p_est[k]) <= K_BATCH * math.hypot(e_se[k], p_se[k]), (k, e_est[k], p_est[k])
    # power: a peer whose regional driver is less persistent is detected
    wrong = dataclasses.replace(dcfg, regional_persistence=0.6)
    w_est, w_se = _with_errors(*_peer_drought(wrong, sc, 11), thr)
    assert "lag1_autocorr" in _drought_failures(w_est, w_se, target)


def test_storyline_forcing_matches_engine(paired):
    """The peer forces the same months and districts as the engine's storyline."""
    from hssim.engine import Engine

    r = paired[0]
    eng = Engine(r["cfg"], r["scenario"], [])
    model = mp.DroughtHouseholdModel(r["cfg"], scenario=r["scenario"])
    np.testing.assert_array_equal(model.forcing, eng.storyline_forcing)
    assert np.isfinite(model.forcing).any()  # the storyline is on


# -- 3. food system -------------------------------------------------------------------------------
def test_food_system_identical_given_the_same_drought(paired):
    for r in paired[:3]:
        eo, po = r["engine"][0], r["peer"][0]
        for k in ("drought_districts", "food_price_usd_per_kg", "production_index", "pasture_index"):
            np.testing.assert_allclose(po[k], eo[k], rtol=1e-9, atol=1e-12, err_msg=k)


# -- 4. household outcomes --------------------------------------------------------------------------
def test_household_outcomes_agree_in_paired_runs(paired):
    t = paired_t([r["engine"][0] for r in paired], [r["peer"][0] for r in paired])
    bad = {k: round(v, 2) for k, v in t.items() if abs(v) > K_SE}
    assert not bad, f"engine and peer differ (t of the mean paired difference): {bad}; all: {t}"


def test_paired_comparison_detects_a_changed_wage(paired):
    """Power: the same comparisons flag a peer whose daily wage is 10% lower."""
    wrong = [
        mp.peer_outcomes(r["cfg"], r["scenario"], seed=1000 + s, anomaly=r["anomaly"],
                         wage_usd_per_day=0.9 * r["cfg"].households.wage_usd_per_day)
        for s, r in zip(SEEDS, paired)
    ]
    t = paired_t([r["engine"][0] for r in paired], [w[0] for w in wrong])
    flagged = {k for k, v in t.items() if abs(v) > K_SE}
    assert {"poverty_frac_mean", "ipc3plus_frac_mean"} <= flagged, t
    pvals = _end_of_run_ks([r["engine"][1] for r in paired], [w[1] for w in wrong], paired[0]["cfg"])
    assert min(pvals.values()) < KS_ALPHA, pvals


def _end_of_run_ks(engine_tables, peer_tables, cfg) -> dict[str, float]:
    """KS p-values of household-level end-of-run state, pooled over runs."""
    lp = cfg.food_system.livestock_price_usd_per_tlu
    pvals = {}
    for name in ("members", "herd_tlu", "assets_usd", "savings_usd", "debt_usd", "food_stock_kg", "ipc_phase"):
        e = np.concatenate([t[name] for t in engine_tables])
        p = np.concatenate([t[name] for t in peer_tables])
        pvals[name] = stats.ks_2samp(e, p).pvalue
    e = np.concatenate([t["herd_tlu"] * lp + t["assets_usd"] for t in engine_tables])
    p = np.concatenate([t["herd_tlu"] * lp + t["assets_usd"] for t in peer_tables])
    pvals["productive_value_usd"] = stats.ks_2samp(e, p).pvalue
    return pvals


def test_end_of_run_household_distributions_agree(paired):
    """KS tests on household-level end-of-run state, pooled over the paired runs
    (8 x 1,500 households a side; the wage-10% peer above fails them)."""
    pvals = _end_of_run_ks([r["engine"][1] for r in paired], [r["peer"][1] for r in paired], paired[0]["cfg"])
    assert min(pvals.values()) > KS_ALPHA, pvals
