"""The public API: compose, run, the tidy frame, the summary, save."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig

import hssim
from hssim.results import GROUPS, INDICATORS

from .conftest import small_cfg


def test_compose_has_top_level_keys_and_applies_overrides():
    cfg = hssim.compose(["seed=7", "months=60", "population.households=1234"])
    assert isinstance(cfg, DictConfig)
    assert cfg.seed == 7 and cfg.months == 60 and cfg.population.households == 1234
    assert cfg.scenario.name == "synthetic_region"
    assert "hydra" not in cfg


def test_default_scenario_is_embedded_and_sized_as_documented():
    cfg = hssim.compose()
    assert cfg.population.households == 20_000 and cfg.months == 120
    _, scenario = hssim.config.build.prepare(cfg)
    assert 10 <= scenario.n_districts <= 14
    shares = scenario.livelihood_shares
    # mixed livelihood zones: every livelihood is the majority somewhere or present widely
    assert (shares.argmax(axis=1) == 0).any() and (shares.argmax(axis=1) == 2).any() and (shares.argmax(axis=1) == 3).any()
    assert scenario.adjacency.any(axis=1).all()  # every district has a neighbour


def test_timeseries_is_tidy_with_totals_and_groups(small_results):
    ts = small_results.timeseries
    assert list(ts.columns) == ["month", "district", "group", "indicator", "value"]
    assert ts["month"].min() == 1 and ts["month"].max() == 24
    assert {"all", *small_results.districts} == set(ts["district"].astype(str).unique())
    groups = set(ts["group"].astype(str).unique())
    for g in ("all", "female_headed", "marginalised", "poorest_quintile", "livelihood_pastoral", "livelihood_crop"):
        assert g in groups
    inds = set(ts["indicator"].astype(str).unique())
    for name in ("ipc3plus_frac", "acute_malnutrition_frac", "poverty_frac", "negative_coping_frac", "deaths", "cdr_per_10k_day"):
        assert name in inds
    # one row per key
    assert not ts.duplicated(["month", "district", "group", "indicator"]).any()
    assert np.isfinite(ts["value"]).all()


def test_totals_are_consistent_with_districts_and_groups(small_results):
    ts = small_results.timeseries
    deaths = ts[(ts.indicator == "deaths") & (ts.group == "all")]
    by_d = deaths[deaths.district != "all"].groupby("month").value.sum()
    tot = deaths[deaths.district == "all"].set_index("month").value
    pd.testing.assert_series_equal(by_d, tot, check_names=False)
    # population-weighted district shares add up to the regional share
    pop = ts[(ts.indicator == "population") & (ts.group == "all") & (ts.district != "all")].set_index(["month", "district"]).value
    ipc = ts[(ts.indicator == "ipc3plus_frac") & (ts.group == "all") & (ts.district != "all")].set_index(["month", "district"]).value
    weighted = (pop * ipc).groupby(level="month").sum() / pop.groupby(level="month").sum()
    regional = small_results.indicator("ipc3plus_frac")
    np.testing.assert_allclose(weighted.to_numpy(), regional.to_numpy(), rtol=1e-12)
    # complementary groups partition the population
    for a, b in (("female_headed", "male_headed"), ("marginalised", "not_marginalised")):
        pa = small_results.indicator("population", group=a)
        pb = small_results.indicator("population", group=b)
        np.testing.assert_array_equal((pa + pb).to_numpy(), small_results.indicator("population").to_numpy())
    # fractions are fractions
    fr = ts[ts.indicator.astype(str).str.endswith("_frac")]
    assert fr.value.between(0, 1).all()


def test_hs_distribution_is_a_distribution_consistent_with_the_mean(small_results):
    dist = small_results.hs_distribution()
    sel = dist[(dist.district == "all") & (dist.group == "all")]
    totals = sel.groupby("month").people_frac.sum()
    np.testing.assert_allclose(totals.to_numpy(), 1.0)
    # the mean index lies inside the bins' implied bounds
    lo = (sel.bin_lo * sel.people_frac).groupby(sel.month).sum().to_numpy()
    hi = (sel.bin_hi * sel.people_frac).groupby(sel.month).sum().to_numpy()
    mean = small_results.indicator("hs_index").to_numpy()
    assert ((lo <= mean + 1e-9) & (mean <= hi + 1e-9)).all()


def test_attack_rate_is_cumulative_infections_over_initial_people(small_results):
    new = small_results.indicator("new_infections").to_numpy()
    pop0 = small_results.indicator("population").iloc[0]
    np.testing.assert_allclose(small_results.indicator("attack_rate").to_numpy(), np.cumsum(new) / pop0)
    assert small_results.summary["attack_rate"] == pytest.approx(new.sum() / pop0)


def test_cdr_matches_deaths_and_population(small_results):
    deaths = small_results.indicator("deaths")
    pop = small_results.indicator("population")
    cdr = small_results.indicator("cdr_per_10k_day")
    np.testing.assert_allclose(cdr, deaths / pop / 30.4 * 1e4, rtol=1e-12)


def test_summary_is_consistent_with_timeseries(small_results):
    s = small_results.summary
    assert s["deaths_total"] == int(small_results.indicator("deaths").sum())
    assert s["ipc3plus_frac_peak"] == pytest.approx(small_results.indicator("ipc3plus_frac").max())
    assert s["people_start"] == int(small_results.indicator("population").iloc[0])
    assert s["people_end"] == s["people_start"] - s["deaths_total"] + s["births_total"]
    assert s["births_total"] == int(small_results.indicator("births").sum()) > 0
    json.dumps(s)  # plain scalars only


def test_save_writes_complete_run_directory(tmp_path, small_results):
    data = small_results.save(tmp_path / "data")  # the results layer: data only, no figure or page
    assert sorted(p.name for p in data.iterdir()) == ["config.yaml", "district_risk.csv", "hs_distribution.parquet",
                                                      "summary.json", "timeseries.parquet"]
    out = hssim.save_run(small_results, tmp_path / "run")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["config.yaml", "district_risk.csv", "hs_distribution.parquet", "indicators.png", "report.html",
                     "summary.json", "timeseries.parquet"]
    risk = pd.read_csv(out / "district_risk.csv")
    assert set(risk["district"]) == set(small_results.districts) and risk["risk"].between(0, 10).all()
    back = pd.read_parquet(out / "timeseries.parquet")
    assert len(back) == len(small_results.timeseries)
    np.testing.assert_array_equal(back["value"].to_numpy(), small_results.timeseries["value"].to_numpy())
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(small_results.summary))
    assert (out / "indicators.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_accepts_plain_mapping_and_rejects_bad_values():
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(small_cfg("months=3"), resolve=True)
    res = hssim.run(cfg)
    assert res.timeseries["month"].max() == 3
    cfg["hazards"]["drought"]["regional_weight"] = 1.5
    with pytest.raises(hssim.ConfigError, match=r"hazards\.drought\.regional_weight.*\[0\.0, 1\.0\]"):
        hssim.run(cfg)


def test_group_and_indicator_catalogues_are_documented():
    assert "all" in GROUPS and all(len(v) == 4 for v in INDICATORS.values())
