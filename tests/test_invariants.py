"""State invariants hold after every step, in ordinary and extreme settings."""

from __future__ import annotations

import numpy as np
import pytest

from hssim.config.build import build_engine
from hssim.errors import InvariantError
from hssim.results import Results

from .conftest import small_cfg

CASES = {
    "default": [],
    "two_failed_seasons": ["storyline=two_failed_seasons", "months=36"],
    "no_support_no_credit": ["households.support_max_frac=0", "households.credit_limit_usd=0", "households.crisis_sell_frac=1"],
    "harsh": ["households.wage_usd_per_day=0.2", "households.milk_usd_per_tlu=0.5", "food_system.price_elasticity=5",
              "households.famine_excess_cdr_per_10k_day=200", "households.sam_death_hr=80"],
    "rich": ["households.wage_usd_per_day=50", "households.savings_cap_months=0"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invariants_hold_every_step(name):
    engine = build_engine(small_cfg(*CASES[name]), validate=True)  # checks after every tick
    engine.init()
    hh = engine.households
    people0 = hh.members.astype(np.int64) + hh.dead - hh.born
    n0 = hh.n
    while not engine.done:
        engine.step()
        assert hh.n == n0
        np.testing.assert_array_equal(hh.members.astype(np.int64) + hh.dead - hh.born, people0)
        for f in ("herd_tlu", "assets_usd", "savings_usd", "debt_usd", "food_stock_kg"):
            assert hh[f].min() >= 0, f
    assert hh.u5.max() <= hh.members.max()
    if name == "default":
        assert hh.born.sum() > 0  # births happen, and the invariant counts them


@pytest.mark.parametrize("name", ["default", "harsh"])
def test_the_record_counts_every_death(name):
    engine = build_engine(small_cfg(*CASES[name], "spinup_months=0"), validate=True)
    engine.run()
    res = Results.from_engine(engine)
    assert res.summary["deaths_total"] == int(engine.households.dead.sum())
    assert res.summary["people_end"] == int(engine.households.members.sum())
    assert int(res.indicator("births").sum()) == int(engine.households.born.sum())
    if name == "harsh":
        assert res.summary["deaths_starvation"] > res.summary["deaths_total"] / 2


def test_invariant_check_detects_corruption():
    engine = build_engine(small_cfg("months=2"), validate=True)
    engine.init()
    engine.households.savings_usd[0] = -1.0
    with pytest.raises(InvariantError, match="savings_usd"):
        engine.check_invariants()
    engine.households.savings_usd[0] = 0.0
    engine.households.members[3] += 1
    with pytest.raises(InvariantError, match="alive"):
        engine.check_invariants()


def test_no_python_object_per_household():
    engine = build_engine(small_cfg("months=1"))
    engine.init()
    for name in engine.households.names():
        assert isinstance(engine.households[name], np.ndarray)
        assert engine.households[name].dtype != object
    assert engine.households.nbytes_per_element <= 120
