"""Lock-step stepping (hssim.runs.LockStep): arms advanced together month by month on
common random numbers, their monthly reporters, results at any month, and the refusals
(past the horizon, incomparable arms, arms out of step)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

import hssim
from hssim.errors import ConfigError, UserError
from hssim.outcomes import DISTRICT_REPORTERS, REPORTERS
from hssim.runs import LockStep

BASE = ["population.households=600", "months=8", "spinup_months=2", "storyline=none"]
ARMS = {"none": ["policy=none"], "reactive": ["policy=reactive_integrated"]}
#: district series drawn from hazard streams alone: no policy reaches them
EXOGENOUS = ("rain_mm", "anomaly", "spi", "in_drought")


@pytest.fixture(scope="module")
def finished():
    """Two policy arms stepped to the horizon, with their results at month 3 on the way."""
    ls = LockStep.compose(BASE, ARMS, seed=3)
    ls.step(3)
    at3 = {arm: ls.results(arm) for arm in ls.arms}
    ls.step(ls.months - ls.month)
    return ls, at3


def test_arms_finish_each_month_before_any_starts_the_next(monkeypatch):
    ls = LockStep.compose(BASE, ARMS, seed=3)
    assert ls.arms == ("none", "reactive") and ls.month == 0 and ls.months == 8 and not ls.done
    order = []
    for arm, engine in ls.engines.items():
        assert engine.ti == engine.spinup == 2  # spin-up run, not recorded

        def step(arm=arm, engine=engine, inner=engine.step):
            order.append((arm, engine.ti - engine.spinup + 1))
            inner()

        monkeypatch.setattr(engine, "step", step)
    assert ls.step(3) == 3 and ls.month == 3
    assert order == [("none", 1), ("reactive", 1), ("none", 2), ("reactive", 2), ("none", 3), ("reactive", 3)]
    assert {e.ti - e.spinup for e in ls.engines.values()} == {3}
    assert ls.step(0) == 0 and ls.month == 3
    assert ls.advance_to(2) == 0 and ls.advance_to(99) == 5 and ls.month == 8 and ls.done


def test_reporters_are_kept_for_every_arm_and_month(finished):
    ls, _ = finished
    frame = ls.frame()
    assert list(frame.columns) == ["arm", *REPORTERS] and list(frame.index) == list(range(16))
    assert frame["arm"].tolist() == ["none"] * 8 + ["reactive"] * 8
    for arm in ls.arms:
        one = ls.frame(arm)
        assert list(one.columns) == list(REPORTERS) and one["month"].tolist() == list(range(1, 9))
        np.testing.assert_array_equal(one["deaths_cumulative"], np.cumsum(one["deaths"]))
        assert ls.latest(arm) == one.iloc[-1].to_dict()
    costs = {arm: ls.frame(arm)["cost_usd"] for arm in ls.arms}
    assert (costs["none"] == 0).all() and costs["reactive"].sum() > 0  # the arms do differ
    d = ls.district_frame()
    names = ls.engines["none"].scenario.names
    assert list(d.columns) == ["arm", "district", *DISTRICT_REPORTERS] and len(d) == 2 * len(names)
    np.testing.assert_allclose(np.nansum(ls.districts("reactive")["deaths"]), ls.latest("reactive")["deaths"])
    with pytest.raises(KeyError, match="no arm 'other'"):
        ls.frame("other")


def test_arms_that_differ_in_policy_see_the_same_hazard_draws(finished):
    ls, _ = finished
    assert {cfg.seed for cfg in ls.configs.values()} == {3}
    rec = {arm: ls.engines[arm].recorder for arm in ls.arms}
    names = rec["none"].district_names
    for field in EXOGENOUS:
        k = names.index(field)
        np.testing.assert_array_equal(rec["none"].district[:, :, k], rec["reactive"].district[:, :, k], err_msg=field)
    # not vacuous: another seed draws other rain
    other = LockStep.compose(BASE, {"none": ["policy=none"]}, seed=4)
    other.step(8)
    k = names.index("rain_mm")
    assert not np.array_equal(other.engines["none"].recorder.district[:, :, k], rec["none"].district[:, :, k])


def test_the_seed_replaces_the_arms_own_and_without_it_arms_must_share_one():
    cfgs = {name: hssim.compose([*BASE, *ovs, f"seed={s}"]) for (name, ovs), s in zip(ARMS.items(), (1, 2))}
    assert {c.seed for c in LockStep(cfgs, seed=7).configs.values()} == {7}
    with pytest.raises(ConfigError, match=r"arms\['reactive'\].*same seeds"):
        LockStep(cfgs)


@pytest.mark.parametrize(
    ("override", "field"),
    [("months=9", "months"), ("spinup_months=3", "spinup_months"), ("scenario=lesotho", "scenario")],
)
def test_arms_that_cannot_be_compared_are_refused_before_anything_runs(override, field):
    with pytest.raises(ConfigError, match=rf"arms\['b'\].*{field}"):
        LockStep.compose(BASE, {"a": [], "b": [override]}, seed=1)


def test_bad_arms_are_named():
    with pytest.raises(ConfigError, match="one or more arms"):
        LockStep({})
    with pytest.raises(UserError, match=r"arm 'b' \(policy=nope\)"):
        LockStep.compose(BASE, {"a": [], "b": ["policy=nope"]})
    plain = OmegaConf.to_container(hssim.compose(BASE), resolve=True)
    plain["population"]["households"] = -1
    with pytest.raises(ConfigError, match="population.households"):
        LockStep({"a": plain})


def test_stepping_past_the_horizon_is_refused_and_steps_nothing():
    ls = LockStep.compose(BASE, {"a": []}, seed=1)
    ls.step(7)
    with pytest.raises(RuntimeError, match=r"cannot step 2 month\(s\) from month 7: the horizon is month 8 \(1 left\)"):
        ls.step(2)
    assert ls.month == 7 and len(ls.frame("a")) == 7
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="integer >= 0"):
            ls.step(bad)
    ls.step(1)
    with pytest.raises(RuntimeError, match="horizon"):
        ls.step(1)
    assert ls.month == 8 and ls.done


def test_an_arm_that_fails_mid_month_stops_the_lock_step(monkeypatch):
    ls = LockStep.compose(BASE, ARMS, seed=1)
    ls.step(1)

    def boom():
        raise FloatingPointError("boom")

    monkeypatch.setattr(ls.engines["reactive"], "step", boom)
    with pytest.raises(FloatingPointError):
        ls.step(1)
    with pytest.raises(RuntimeError, match=r"no longer in step: arm 'reactive' failed in month 2"):
        ls.step(1)


def test_results_so_far_are_the_first_months_of_the_finished_run(finished):
    ls, at3 = finished
    for arm, ovs in ARMS.items():
        full = ls.results(arm)
        part = at3[arm]
        assert part.sums.shape[0] == 3 and part.district_series.shape[0] == 3
        prefix = full.timeseries[full.timeseries["month"] <= 3].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.timeseries, prefix)
        # at the horizon: the results of hssim.run on the arm's config (the same engine, stepped the same way)
        ref = hssim.run(hssim.compose([*BASE, *ovs, "seed=3"]))
        assert full.summary == ref.summary
        pd.testing.assert_frame_equal(full.timeseries, ref.timeseries)
        np.testing.assert_array_equal(ls.frame(arm)["ipc3plus_frac"], ref.indicator("ipc3plus_frac").to_numpy())


def test_nothing_to_read_before_the_first_month():
    ls = LockStep.compose(BASE, {"a": []}, seed=1)
    assert ls.latest("a") == {} and ls.frame("a").empty and list(ls.frame("a").columns) == list(REPORTERS)
    assert ls.district_frame().empty
    for read in (ls.results, ls.districts):
        with pytest.raises(RuntimeError, match="no month simulated yet"):
            read("a")
