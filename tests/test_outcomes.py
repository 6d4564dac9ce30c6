"""The outcome catalogue (hssim.outcomes): every outcome declared once and computable on
a run; the summary, the analyses' outcomes and the monthly reporters read it."""

from __future__ import annotations

import math
import types

import numpy as np
import pandas as pd
import pytest

import hssim
from hssim import outcomes as oc
from hssim.outcomes import CATALOGUE, REPORTERS, OutcomeInputs

SMALL = ["seed=3", "population.households=400", "months=18", "spinup_months=3"]


@pytest.fixture(scope="module")
def run():
    """A run with a response and early warning (so trigger and cost entries exist)."""
    return hssim.run(hssim.compose([*SMALL, "policy=anticipatory_integrated"]))


def _same(a, b) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_every_outcome_declares_unit_direction_scaling_and_description():
    for name, o in {**CATALOGUE, **REPORTERS}.items():
        assert o.name == name
        assert o.unit and o.description and o.description != name, name
        assert o.better in oc.BETTER and o.scaling in oc.SCALINGS, name
    for names in (oc.SUMMARY_OUTCOMES, oc.MONEY_OUTCOMES, oc.RUN_OUTCOMES, oc.RESPONSE_OUTCOMES, oc.KEY_OUTCOMES, oc.DISTRICT_REPORTERS):
        assert len(set(names)) == len(names)
        assert set(names) <= set(CATALOGUE) | set(REPORTERS)
    with pytest.raises(ValueError, match="better"):
        oc.Outcome("x", "people", "x", "up", "count", lambda r: 0)
    with pytest.raises(ValueError, match="scaling"):
        oc.Outcome("x", "people", "x", "lower", "per capita", lambda r: 0)


#: response outcomes compare reads from a run's summary that no module records yet
NOT_RECORDED_YET = {"households_duplicated_months", "households_need_unmet_months"}


def test_every_outcome_computes_on_a_run(run):
    record = OutcomeInputs.of(run)
    for name, o in CATALOGUE.items():
        v = o.compute(record)
        if name in NOT_RECORDED_YET:
            assert v is None, f"{name} is recorded now: take it out of NOT_RECORDED_YET"
            continue
        assert v is not None, name
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (name, v)
    # the response and early warning recorded what the response outcomes read
    assert oc.value(run, "cost_usd_total") > 0
    assert oc.value(run, "trigger_hits") + oc.value(run, "trigger_misses") >= 0


def test_a_finished_run_gives_back_its_summary(run):
    """The engine's summary and the record of the finished Results are two routes to the
    same numbers: every catalogue entry of the summary agrees bit for bit."""
    record = OutcomeInputs.of(run)
    engine_part = (*oc.SUMMARY_OUTCOMES, *oc.MONEY_OUTCOMES)
    for name in engine_part:
        assert _same(CATALOGUE[name].compute(record), run.summary[name]), name
    assert list(run.summary)[: len(engine_part)] == list(engine_part)


def test_person_months_are_the_recorded_people_counts(run):
    from hssim.results import derived_sums

    tot = derived_sums(run.sums.sum(axis=(1, 2)))
    got = oc.run_outcomes(run)
    assert got["displaced_person_months"] == float(tot["people_displaced"].sum()) == run.summary["displaced_person_months"]
    assert got["violence_exposed_person_months"] == float(tot["people_violence_exposed"].sum())
    assert got["ipc3plus_person_months"] == run.summary["ipc3plus_person_months"]
    # share x population from the time series agrees up to rounding
    share = run.indicator("displaced_frac") * run.indicator("population")
    assert share.sum() == pytest.approx(got["displaced_person_months"], rel=1e-12, abs=1e-9)
    assert list(got) == [n for n in oc.RUN_OUTCOMES if n in got] and set(got) == set(oc.RUN_OUTCOMES)


def test_a_run_without_raw_sums_falls_back_on_the_time_series():
    rows = []
    for m in (1, 2):
        for ind, val in (("deaths", 3.0 * m), ("displaced_frac", 0.25), ("population", 400.0)):
            rows.append((m, "all", "all", ind, val))
        rows.append((m, "A", "all", "conflict_events", 2.0))
    ts = pd.DataFrame(rows, columns=["month", "district", "group", "indicator", "value"])
    fake = types.SimpleNamespace(timeseries=ts, summary={}, sums=None, config={"seed": 1})
    got = oc.run_outcomes(fake)
    assert got == {"deaths_total": 9.0, "displaced_person_months": 200.0, "conflict_events_total": 4.0}
    with pytest.raises(ValueError, match="acute_malnutrition_u5_months"):
        oc.value(fake, "acute_malnutrition_u5_months")


def test_scaling_direction_and_descriptions():
    assert oc.to_real("deaths_total", 10.0, 2.5) == 25.0
    assert oc.to_real("displaced_households", 4, 2.5) == 10.0  # a reporter
    assert oc.to_real("cost_usd_total", 10.0, 2.5) == 10.0  # money is real already
    assert oc.to_real("ipc3plus_frac_mean", 0.5, 2.5) == 0.5
    assert oc.higher_is_better("assets_end_usd") and oc.higher_is_better("hs_index")
    assert not oc.higher_is_better("deaths_total") and not oc.higher_is_better("no_such_outcome")
    assert oc.describe("deaths_starvation_total") == "deaths over the horizon: starvation"
    assert oc.describe("no_such_outcome") == "no_such_outcome"
    with pytest.raises(KeyError):
        oc.to_real("no_such_outcome", 1.0, 2.0)


def test_monthly_reporters_add_up_to_the_run():
    """Stepping an engine month by month, the reporters' cumulative deaths and their
    monthly shares equal the finished run's time series."""
    from hssim.config.build import build_engine

    engine = build_engine(hssim.compose([*SMALL, "policy=reactive_integrated"]))
    engine.init()
    for _ in range(engine.spinup):
        engine.step()
    reporting = oc.MonthlyReporting()
    rows = []
    while not engine.done:
        engine.step()
        m = engine.ti - engine.spinup - 1
        rows.append(oc.month_reporters(engine, m, reporting))
        by_d = oc.district_reporters(engine, m)
        assert set(by_d) == set(oc.DISTRICT_REPORTERS)
        assert by_d["deaths"].sum() == rows[-1]["deaths"]
    frame = pd.DataFrame(rows)
    assert list(frame.columns) == list(REPORTERS)
    res = hssim.results.Results.from_engine(engine)
    assert frame["deaths_cumulative"].iloc[-1] == res.summary["deaths_total"]
    np.testing.assert_array_equal(frame["ipc3plus_frac"].to_numpy(), res.indicator("ipc3plus_frac").to_numpy())
    assert frame["cost_usd_cumulative"].iloc[-1] == pytest.approx(res.summary["cost_usd_total"], rel=1e-9)


def test_the_tidy_frame_is_built_only_when_read():
    """Summaries, outcomes and single indicators come from the raw arrays: the long frame
    is built on first access, and what it holds agrees with them."""
    r = hssim.run(hssim.compose(["policy=reactive_integrated", "population.households=600", "months=18",
                                 "output.figure=false", "seed=5"]))
    assert r._timeseries is None and r._cube is None  # the summary was made without either
    outs = oc.run_outcomes(r, list(CATALOGUE))
    assert r._cube is None  # outcomes neither
    ipc = r.indicator("ipc3plus_frac", "all", "female_head")
    assert r._timeseries is None  # a single indicator reads the cube, not the frame
    ts = r.timeseries  # built now, once
    assert r.timeseries is ts and len(ts) > 0
    rows = ts[(ts["indicator"] == "ipc3plus_frac") & (ts["district"] == "all") & (ts["group"] == "female_head")]
    np.testing.assert_array_equal(ipc.to_numpy(), rows["value"].to_numpy())  # the cube and the frame agree
    np.testing.assert_array_equal(ipc.index.to_numpy(), rows["month"].to_numpy())
    pd.testing.assert_frame_equal(r.regional, oc.regional(ts), check_names=False)
    assert oc.run_outcomes(r, list(CATALOGUE)) == pytest.approx(outs, nan_ok=True)
