"""INFORM-style district risk: ranges, geometric combination, monotonicity, missing components."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from hssim.risk import COMPONENTS, DIMENSIONS, district_risk, scale

COLUMNS = ["district", "hazard_exposure", "vulnerability", "lack_of_coping_capacity", "risk", "rank"]

BASE = {
    "in_drought": 0.25,  # -> 5
    "poverty_frac": 0.5,  # -> 5
    "acute_malnutrition_frac": 0.075,  # -> 2.5
    "below_trap_frac": 0.25,  # -> 2.5
    "negative_coping_frac": 0.5,  # -> 5
    "emergency_coping_hh_frac": 0.125,  # -> 5
    "health_access_frac": 0.25,  # -> lack 7.5
    "population": 1000.0,
}


def _frame(
    districts: dict[str, dict[str, float]], months: int = 2, marginalised_ipc: dict[str, float] | None = None
) -> pd.DataFrame:
    """A tidy frame with the same value in every month."""
    rows = []
    for m in range(1, months + 1):
        for d, vals in districts.items():
            for name, v in vals.items():
                rows.append((m, d, "all", name, v))
            if marginalised_ipc is not None:
                rows.append((m, d, "marginalised", "ipc3plus_frac", marginalised_ipc[d]))
        rows.append((m, "all", "all", "poverty_frac", 0.0))  # regional rows are ignored
    return pd.DataFrame(rows, columns=["month", "district", "group", "indicator", "value"])


def _scenario(names, households, market_access, health_access=None):
    n = len(names)
    return types.SimpleNamespace(
        names=tuple(names),
        households=np.asarray(households, float),
        market_access=np.asarray(market_access, float),
        health_access=np.asarray(health_access if health_access is not None else [0.5] * n, float),
    )


def test_real_run_scores_in_range_and_geometric(small_results):
    r = district_risk(small_results, components=True)
    assert list(r.columns[:6]) == COLUMNS
    assert list(r["district"]) == list(small_results.districts)
    scores = r[[*DIMENSIONS, "risk", *r.attrs["components"]]].to_numpy(dtype=float)
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 10).all()
    h, v, l_ = (r[d].to_numpy(dtype=float) for d in DIMENSIONS)
    assert np.array_equal(r["risk"].to_numpy(dtype=float), (h * v * l_) ** (1.0 / 3.0))
    assert (r["risk"] >= np.minimum.reduce([h, v, l_]) - 1e-12).all() and (
        r["risk"] <= np.maximum.reduce([h, v, l_]) + 1e-12
    ).all()
    assert sorted(r["rank"].tolist()) == sorted(r["risk"].rank(ascending=False, method="min").astype(int).tolist())
    assert r.loc[r["rank"] == 1, "risk"].item() == r["risk"].max()
    # drought is configured, so its frequency is used; the scenario gives market access
    assert "drought_frequency" in r.attrs["components"] and "lack_of_market_access" in r.attrs["components"]
    # dimensions are means of their component scores
    for dim in DIMENSIONS:
        names = [c.name for c in COMPONENTS if c.dimension == dim and c.name in r.attrs["components"]]
        np.testing.assert_allclose(r[dim], r[names].mean(axis=1), rtol=1e-12)


def test_fixed_range_scaling_and_hand_computed_scores():
    ts = _frame({"A": BASE}, marginalised_ipc={"A": 0.5})
    scen = _scenario(["A"], [4800.0], [0.75])
    r = district_risk(ts, scenario=scen, components=True).iloc[0]
    assert r["drought_frequency"] == 5.0
    assert r["poverty"] == 5.0 and r["below_poverty_trap"] == 2.5 and r["marginalised_ipc3plus"] == 5.0
    assert r["acute_malnutrition"] == pytest.approx(2.5, abs=1e-12)
    assert r["lack_of_health_access"] == 7.5 and r["negative_coping"] == 5.0 and r["emergency_coping"] == 5.0
    assert r["lack_of_market_access"] == 2.5
    assert r["hazard_exposure"] == 5.0
    assert r["vulnerability"] == pytest.approx((5 + 2.5 + 2.5 + 5) / 4, abs=1e-12)
    assert r["lack_of_coping_capacity"] == (7.5 + 5 + 5 + 2.5) / 4
    assert r["risk"] == pytest.approx((5.0 * 3.75 * 5.0) ** (1 / 3), rel=1e-12)
    # the range is fixed, not the run's: out-of-range values clip to 0 or 10
    assert scale([-1.0, 0.6, 2.0], 0.0, 0.3).tolist() == [0.0, 10.0, 10.0]


def test_conflict_rate_uses_scenario_households():
    # 1 event a month in a district of 4,800 households = 2.5 per 1,000 households a year -> 5 of 10
    ts = _frame({"A": {**BASE, "conflict_events": 1.0}})
    r = district_risk(ts, scenario=_scenario(["A"], [4800.0], [0.5]), components=True)
    assert r.loc[0, "conflict_events_per_1000_hh_year"] == pytest.approx(5.0, rel=1e-12)
    assert r.loc[0, "hazard_exposure"] == pytest.approx(5.0, rel=1e-12)


def test_worse_vulnerability_raises_vulnerability_and_risk():
    worse = {**BASE, "poverty_frac": 0.9}
    ts = _frame({"A": BASE, "B": worse, "C": BASE}, marginalised_ipc={"A": 0.3, "B": 0.3, "C": 0.3})
    r = district_risk(ts, scenario=_scenario("ABC", [1e4] * 3, [0.5] * 3)).set_index("district")
    assert r.loc["B", "vulnerability"] > r.loc["A", "vulnerability"]
    assert r.loc["B", "risk"] > r.loc["A", "risk"]
    for dim in ("hazard_exposure", "lack_of_coping_capacity"):
        assert r.loc["B", dim] == r.loc["A", dim]
    assert r.loc["A", "risk"] == r.loc["C", "risk"]
    assert r.loc["B", "rank"] == 1 and r.loc["A", "rank"] == r.loc["C", "rank"] == 2
    # a worse marginalised group does the same
    ts2 = _frame({"A": BASE, "B": BASE}, marginalised_ipc={"A": 0.2, "B": 0.6})
    r2 = district_risk(ts2, scenario=False).set_index("district")
    assert r2.loc["B", "vulnerability"] > r2.loc["A", "vulnerability"] and r2.loc["B", "risk"] > r2.loc["A", "risk"]


def test_missing_components_are_skipped_and_said_so():
    vals = {k: v for k, v in BASE.items() if k != "health_access_frac"}
    ts = _frame({"A": vals, "B": {**vals, "negative_coping_frac": 0.25}})
    r = district_risk(ts, scenario=False, components=True)
    skipped = r.attrs["skipped"]
    for name in (
        "conflict_events_per_1000_hh_year",
        "infections_per_1000_people_year",
        "marginalised_ipc3plus",
        "lack_of_health_access",
        "lack_of_market_access",
    ):
        assert name in skipped and name not in r.columns and name not in r.attrs["components"]
    assert "scenario" in skipped["lack_of_market_access"]
    # coping capacity from the two coping components only
    assert r["lack_of_coping_capacity"].tolist() == [(5.0 + 5.0) / 2, (2.5 + 5.0) / 2]
    assert r["vulnerability"].tolist() == pytest.approx([(5 + 2.5 + 2.5) / 3] * 2, abs=1e-12)
    # a dimension with no component at all leaves the risk undefined
    bare = _frame({"A": {"in_drought": 0.1, "poverty_frac": 0.4}})
    rb = district_risk(bare, scenario=False)
    assert np.isnan(rb.loc[0, "lack_of_coping_capacity"]) and np.isnan(rb.loc[0, "risk"])


def test_hazard_without_a_module_in_the_config_is_skipped():
    # a run whose config has only drought: the (all-zero) conflict and infection indicators are not exposure
    ts = _frame({"A": {**BASE, "conflict_events": 0.0, "new_infections": 0.0}})
    res = types.SimpleNamespace(
        timeseries=ts, districts=("A",), config={"hazards": {"drought": {"kind": "drought", "enabled": True}}}
    )
    r = district_risk(res, scenario=_scenario(["A"], [1000.0], [0.5]))
    assert "conflict" in r.attrs["skipped"]["conflict_events_per_1000_hh_year"]
    assert "disease" in r.attrs["skipped"]["infections_per_1000_people_year"]
    assert r.loc[0, "hazard_exposure"] == 5.0
    # with the modules configured (even switched off), zero exposure counts
    res.config = {
        "hazards": {
            "drought": {"kind": "drought"},
            "conflict": {"kind": "conflict", "enabled": False},
            "disease": {"kind": "disease"},
        }
    }
    r = district_risk(res, scenario=_scenario(["A"], [1000.0], [0.5]))
    assert not {"drought_frequency", "conflict_events_per_1000_hh_year", "infections_per_1000_people_year"} & set(
        r.attrs["skipped"]
    )
    assert r.loc[0, "hazard_exposure"] == pytest.approx(5.0 / 3, rel=1e-12)
