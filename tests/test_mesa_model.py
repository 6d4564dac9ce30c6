"""The mesa.Model adapter: batch_run over config overrides, explicit seeds, the same
numbers as hssim.run, and no Mesa agent per household."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

mesa = pytest.importorskip("mesa")

import hssim  # noqa: E402
from hssim.errors import ConfigError  # noqa: E402
from hssim.mesa_model import REPORTERS, HumanSecurityModel, override_string  # noqa: E402

SMALL = {"population.households": 1000, "months": 12, "spinup_months": 4}


def _batch(parameters, **kw):
    rows = mesa.batch_run(
        HumanSecurityModel, parameters=parameters, iterations=1, max_steps=1000,
        number_processes=kw.pop("number_processes", 1), data_collection_period=1, display_progress=False, **kw,
    )  # fmt: skip
    return pd.DataFrame(rows)


def test_batch_run_returns_every_indicator_for_every_month_and_parameter():
    frame = _batch({**SMALL, "policy": ["none", "reactive_integrated"], "seed": [3, 4]})
    assert set(REPORTERS) <= set(frame.columns)
    assert len(frame) == 2 * 2 * 12  # runs x months: one row per month, the horizon included
    for _, run in frame.groupby(["policy", "seed"]):
        assert run["month"].tolist() == list(range(1, 13))
        assert run["Step"].tolist() == list(range(12))
        assert run["deaths_cumulative"].iloc[-1] == run["deaths"].sum()
    assert (frame["ipc3plus_frac"].between(0, 1)).all()
    none = frame[frame.policy == "none"]
    assert (none["cost_usd"] == 0).all() and (none["households_assisted"] == 0).all()
    reactive = frame[frame.policy == "reactive_integrated"]
    assert reactive["cost_usd_cumulative"].iloc[-1] > 0  # the always-on programmes cost from month 1


def test_explicit_seeds_repeat_and_differ_and_workers_do_not_matter():
    params = {**SMALL, "seed": [5, 6]}
    a = _batch(params)
    b = _batch(params, number_processes=2)  # spawned workers: same rows
    cols = list(REPORTERS)
    a = a.sort_values(["seed", "month"]).reset_index(drop=True)
    b = b.sort_values(["seed", "month"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["seed", *cols]], b[["seed", *cols]])
    s5, s6 = (a[a.seed == s][cols].to_numpy() for s in (5, 6))
    assert not np.array_equal(s5, s6)


def test_adapter_matches_hssim_run_month_by_month():
    over = ["population.households=1000", "months=12", "spinup_months=4", "policy=anticipatory_integrated", "storyline=none"]
    model = HumanSecurityModel(seed=11, overrides=over)
    assert len(model.agents) == 0  # households stay arrays: no Mesa agent is created
    while model.running:
        model.step()
    assert model.steps == 12 and model.month == 12 and not model.running
    model.step()  # past the horizon: nothing happens
    assert model.month == 12
    frame = model.datacollector.get_model_vars_dataframe()
    res = hssim.run(hssim.compose([*over, "seed=11"]))
    assert model.results().summary == res.summary
    for name in ("ipc3plus_frac", "ipc4plus_frac", "acute_malnutrition_frac", "poverty_frac", "hs_index", "deaths", "displaced_frac"):
        np.testing.assert_array_equal(frame[name].to_numpy(), res.indicator(name).to_numpy(), err_msg=name)
    assert frame["deaths_cumulative"].iloc[-1] == res.summary["deaths_total"]
    assert frame["cost_usd_cumulative"].iloc[-1] == pytest.approx(res.summary["cost_usd_total"], rel=1e-12)
    assert frame["conflict_events"].sum() == res.summary["conflict_events_total"]
    d = model.district_indicators()
    assert len(d["names"]) == len(res.districts)
    np.testing.assert_allclose(np.nansum(d["deaths"]), frame["deaths"].iloc[-1])


def test_keyword_forms_and_group_options_reach_the_config():
    m = HumanSecurityModel(seed=1, policy="reactive_siloed", population__households=500, **{"policy.budget_usd_per_year": 1.5e7}, months=3, spinup_months=0)
    assert m.cfg.population.households == 500
    assert m.cfg.policy.name == "reactive_siloed" and m.cfg.policy.budget_usd_per_year == 1.5e7
    assert m.cfg.seed == 1 and m.engine.households.n == 500


def test_seed_none_is_drawn_kept_and_repeatable():
    kw = {"population__households": 300, "months": 4, "spinup_months": 0}
    a = HumanSecurityModel(**kw)
    assert 0 <= a.hssim_seed < 2**63 and a.cfg.seed == a.hssim_seed
    b = HumanSecurityModel(seed=a.hssim_seed, **kw)
    for m in (a, b):
        while m.running:
            m.step()
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"population__households": -5}, "population.households"),
        ({"policy.budget_usd_per_year": "lots"}, "policy.budget_usd_per_year"),
        ({"no_such_field": 1}, "no_such_field"),
        ({"seed": -1}, "seed"),
        ({"seed": 2.5}, "seed"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as err:
        HumanSecurityModel(**kwargs)
    assert field in str(err.value)


def test_override_strings():
    assert override_string("population__households", np.int64(2000)) == "population.households=2000"
    assert override_string("policy.enabled", True) == "policy.enabled=true"
    assert override_string("storyline", "two_failed_seasons") == "storyline=two_failed_seasons"
    assert override_string("scenario.path", "my dir/districts.csv") == "scenario.path='my dir/districts.csv'"
    assert override_string("policy.coordination", None) == "policy.coordination=null"
    assert override_string("x", [1, 2.5]) == "x=[1,2.5]"
    with pytest.raises(ConfigError):
        override_string("x", float("nan"))
