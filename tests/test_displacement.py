"""Displacement: households conserved through flight and return; camps respect capacity."""

from __future__ import annotations

import numpy as np

import hssim
from hssim.config.build import build_engine

# a hot conflict, to make flight (and camp demand) frequent: more events, and each hits more households
HOT = ["population.households=3000", "months=48", "spinup_months=0", "seed=17", "hazards.conflict.baseline_scale=8",
       "hazards.conflict.households_hit_per_event=150", "displacement.return_safe_months=2"]


def test_households_and_people_conserved_through_flight_and_return():
    engine = build_engine(hssim.compose(HOT), validate=True)  # invariants after every month
    engine.init()
    hh = engine.households
    people0 = hh.members.astype(np.int64) + hh.dead - hh.born
    fled, returned, camp_peak = 0, 0, 0
    prev = hh.displaced.copy()
    while not engine.done:
        engine.step()
        fled += int(((prev == 0) & (hh.displaced > 0)).sum())
        returned += int(((prev > 0) & (hh.displaced == 0)).sum())
        camp_peak = max(camp_peak, int((hh.displaced == 2).sum()))
        prev = hh.displaced.copy()
        # every household is in exactly one place, counted once
        residents = np.bincount(hh.location, minlength=engine.scenario.n_districts)
        assert residents.sum() == hh.n
        np.testing.assert_array_equal(hh.members.astype(np.int64) + hh.dead - hh.born, people0)
    assert fled > 50 and returned > 0 and camp_peak > 0
    # displaced households live somewhere else or in a camp; at home they live in their district
    away = hh.displaced == 1
    assert (hh.location[away] != hh.district[away]).all()


def test_camp_capacity_binds():
    engine = build_engine(hssim.compose([*HOT, "displacement.camp_bonus=20", "displacement.choice_noise=0.01"]), validate=True)
    engine.init()
    cap = np.floor(engine.scenario.camp_capacity * engine.households.n / engine.scenario.households.sum())
    full = np.zeros(len(cap), dtype=bool)
    while not engine.done:
        engine.step()
        hh = engine.households
        in_camp = np.bincount(hh.location[(hh.displaced == 2) & (hh.members > 0)], minlength=len(cap))
        assert (in_camp <= cap).all()
        full |= in_camp == cap
    assert full[cap > 0].any()  # demand exceeded the room somewhere, at some time


def test_no_flight_without_its_drivers():
    res = hssim.run(hssim.compose([*HOT, "couplings.conflict_to_displacement=0", "couplings.food_insecurity_to_displacement=0"]))
    assert res.indicator("displaced_frac").max() == 0
    res = hssim.run(hssim.compose([*HOT, "displacement.enabled=false"]))
    assert res.indicator("displaced_frac").max() == 0
