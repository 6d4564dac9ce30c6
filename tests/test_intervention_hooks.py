"""The hooks through which interventions act: each one's equation, and neutrality at 0.

Interventions (INTERVENTION phase) write household fields (``aid_cash_usd``,
``aid_food_kg``, ``livestock_protected``, ``nutrition_treated``, ``savings_group``,
``flight_early_frac``) and district fields (``security_effect``,
``committee_effect``, ``wash_effect``); the hazards, displacement and the household
kernel read them. Household-kernel cases use a small synthetic population where
income is only what the test gives, so the expected numbers follow by hand from the
coping ladder in :func:`hssim.kernels.household.food_and_coping`.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd
import pytest

import hssim
from hssim import rng
from hssim.config.build import build_engine
from hssim.config.schema import HouseholdConfig
from hssim.engine import Engine
from hssim.hazards.disease import Disease, run_alone
from hssim.households.dynamics import livelihood_table, make_params
from hssim.kernels.displacement import decide_moves
from hssim.kernels.household import LV_VALUE_CAP_USD, household_month
from hssim.module import Module
from hssim.phases import Phase
from hssim.results import Results
from hssim.state import HOUSEHOLD_FIELDS, Arrays
from hssim.sums import N_CELLS, N_SUMS, I

SMALL = ["population.households=2000", "months=24", "spinup_months=3"]
HOUSEHOLD_HOOKS = ("aid_cash_usd", "aid_food_kg", "livestock_protected", "nutrition_treated", "savings_group",
                   "flight_early_frac")
DISTRICT_HOOKS = ("security_effect", "committee_effect", "wash_effect")


class WriteFields(Module):
    """A stand-in intervention: writes fixed values into state fields every month."""

    phase = Phase.INTERVENTION

    def __init__(self, households=None, districts=None, name="test_write_fields"):
        self.hh_values = households or {}
        self.ds_values = districts or {}
        self.name = name

    def step(self, engine, ti):
        for k, v in self.hh_values.items():
            engine.households[k][:] = v
        for k, v in self.ds_values.items():
            engine.districts[k][:] = v


def engine_with(cfg, *extra):
    """The engine ``build_engine(cfg)`` builds, plus the ``extra`` modules."""
    base = build_engine(cfg)
    mods = [m for m in base.modules if m is not base.recorder]
    return Engine(base.cfg, base.scenario, [*mods, *extra])


def module(engine, name):
    return next(m for m in engine.modules if m.name == name)


# ================================================================ a whole run


def _ran(engine):
    """The engine, run to its horizon (its results: ``Results.from_engine``)."""
    engine.run()
    return engine


def test_fields_written_as_zero_every_month_change_nothing():
    cfg = hssim.compose([*SMALL, "seed=7", "hazards.conflict.baseline_scale=4"])
    plain = hssim.run(cfg)
    zeros = WriteFields({k: 0 for k in HOUSEHOLD_HOOKS}, {k: 0.0 for k in DISTRICT_HOOKS})
    written = Results.from_engine(_ran(engine_with(cfg, zeros)))
    pd.testing.assert_frame_equal(plain.timeseries, written.timeseries, check_exact=True)
    np.testing.assert_array_equal(plain.sums, written.sums)
    # ... and the stand-in's writes do reach the run: a non-zero effect changes it
    security = Results.from_engine(_ran(engine_with(cfg, WriteFields(districts={"security_effect": 0.5}))))
    assert not np.array_equal(plain.sums, security.sums)


# ================================================================ conflict


@pytest.fixture(scope="module")
def stepped_engine():
    """An engine a few months in (prices, influx, scarcity as a run leaves them)."""
    eng = build_engine(hssim.compose([*SMALL, "seed=3", "hazards.conflict.baseline_scale=4"]))
    eng.init()
    for _ in range(4):
        eng.step()
    eng.districts.water_scarcity[:] = np.linspace(0.05, 0.4, eng.scenario.n_districts)
    return eng


def _reset(ds):
    for k in DISTRICT_HOOKS:
        ds[k][:] = 0.0


def test_security_removes_its_share_of_the_conflict_baseline(stepped_engine):
    eng, ds = stepped_engine, stepped_engine.districts
    conflict = module(eng, "conflict")
    _reset(ds)
    before = conflict.baseline(eng)
    usual, calm = conflict.usual_rate(eng), conflict.calm_rate(eng)
    assert (before > 0).all()
    d = 5
    ds.security_effect[d] = 0.4
    after = conflict.baseline(eng)
    assert after[d] == pytest.approx(0.6 * before[d], rel=1e-12)
    others = np.arange(len(before)) != d
    np.testing.assert_array_equal(after[others], before[others])
    # the usual level (what displacement compares with) is the district's own, not this month's
    ds.committee_effect[:] = 0.8
    np.testing.assert_array_equal(conflict.usual_rate(eng), usual)
    np.testing.assert_array_equal(conflict.calm_rate(eng), calm)
    _reset(ds)


def test_committees_remove_exactly_the_scarcity_driver(stepped_engine):
    eng, ds = stepped_engine, stepped_engine.districts
    conflict = module(eng, "conflict")
    _reset(ds)
    with_scarcity = conflict.baseline(eng)
    ds.committee_effect[:] = 1.0
    committees = conflict.baseline(eng)
    _reset(ds)
    scarcity = ds.water_scarcity.copy()
    ds.water_scarcity[:] = 0.0
    no_scarcity = conflict.baseline(eng)
    ds.water_scarcity[:] = scarcity
    np.testing.assert_array_equal(committees, no_scarcity)
    assert (with_scarcity > committees).all()  # scarcity > 0 everywhere: the term was there
    # half-strength committees halve the scarcity term in the exponent (below the cap)
    ds.committee_effect[:] = 0.5
    half = conflict.baseline(eng)
    _reset(ds)
    np.testing.assert_allclose(np.log(half / no_scarcity), 0.5 * np.log(with_scarcity / no_scarcity), rtol=1e-9)


def test_full_security_leaves_no_conflict_events():
    cfg = hssim.compose([*SMALL, "seed=4", "hazards.conflict.baseline_scale=6"])
    plain = hssim.run(cfg)
    assert plain.indicator("conflict_events").sum() > 20
    eng = build_engine(cfg)
    eng.init()
    eng.districts.security_effect[:] = 1.0  # nothing else writes it: it holds from the first month
    eng.run()
    secured = Results.from_engine(eng)
    assert secured.indicator("conflict_events").sum() == 0


# ================================================================ disease


def _disease_alone(wash: float, months: int = 6):
    eng = build_engine(hssim.compose(["population.households=4000", "months=12", "spinup_months=0", "seed=21",
                                      "hazards.disease.importations_per_month=20", "hazards.disease.r0=3"]))
    eng.init()
    eng.districts.wash_effect[:] = wash
    mod = next(m for m in eng.modules if isinstance(m, Disease))
    out = run_alone(eng, months, check=True)
    return out, mod


def test_full_wash_leaves_only_importations():
    out, mod = _disease_alone(1.0)
    assert mod.imported > 50
    assert out["new_infections"].sum() == mod.imported  # nobody infected anyone
    out0, mod0 = _disease_alone(0.0)
    assert out0["new_infections"].sum() > 2 * mod0.imported  # same seed, transmission on


def test_wash_scales_the_transmission_multiplier_of_its_district():
    eng = build_engine(hssim.compose(["population.households=1000", "months=12", "spinup_months=0"]))
    eng.init()
    mod = next(m for m in eng.modules if isinstance(m, Disease))
    eng.districts.water_scarcity[:] = np.linspace(0.0, 1.0, eng.scenario.n_districts)
    m0, cfr0 = mod.district_multipliers(eng)
    eng.districts.wash_effect[2] = 0.7
    m1, cfr1 = mod.district_multipliers(eng)
    assert m1[2] == pytest.approx(0.3 * m0[2], rel=1e-12) and m0[2] > 1.0
    np.testing.assert_array_equal(np.delete(m1, 2), np.delete(m0, 2))
    np.testing.assert_array_equal(cfr1, cfr0)  # WASH prevents infection, not death of a case


# ================================================================ displacement


def _decide(fear, early, threshold=0.5):
    n = len(fear)
    out = {"dest": np.empty(n, np.int64), "fallback": np.empty(n, np.int64), "returning": np.empty(n, np.int8)}
    decide_moves(
        rng.stream_key(1, "displacement", 0),
        np.full(n, threshold, np.float32),
        np.asarray(early, np.float32),
        1.0,  # s_fear
        0.0,  # no distress migration
        0.0,  # no return
        np.zeros(n, np.int16),
        np.zeros(n, np.int16),
        np.zeros(n, np.int8),
        np.zeros(n, np.int8),
        np.full(n, 5, np.int8),
        np.asarray(fear, np.float32),
        np.zeros(n, np.int8),
        np.zeros(n, np.int8),
        np.ones(2, np.bool_),
        np.array([0, 1, 2], np.int64),
        np.array([1, 0], np.int64),  # districts 0 and 1 are neighbours
        np.zeros((2, 2)),
        np.full((2, 2), -np.inf),
        np.zeros(2, np.bool_),
        1.0,
        out["dest"],
        out["fallback"],
        out["returning"],
    )
    return out["dest"]


def test_early_warning_lowers_the_flight_threshold():
    # fear 0.4 is below the threshold 0.5; lowered by 15%, 25% and 50% it is 0.425, 0.375, 0.25
    dest = _decide(fear=[0.4, 0.4, 0.4, 0.4, 0.0], early=[0.0, 0.15, 0.25, 0.5, 1.0])
    np.testing.assert_array_equal(dest, [-1, -1, 1, 1, -1])  # no fear at all: no flight on fear


def test_displacement_module_passes_the_warning_to_the_kernel():
    eng = build_engine(hssim.compose(["population.households=2000", "months=12", "spinup_months=0", "seed=2"]))
    eng.init()
    hh = eng.households
    hh.fear[:] = 0.01  # far below any flight threshold
    warned = np.arange(hh.n) % 2 == 0
    hh.flight_early_frac[:] = np.where(warned, 1.0, 0.0)  # threshold lowered to 0
    module(eng, "displacement").step(eng, 0)
    alive = hh.members > 0
    assert (hh.displaced[warned & alive] > 0).all()
    assert (hh.displaced[~warned] == 0).all()


# ================================================================ household kernel

CFG = HouseholdConfig()
P = make_params(CFG, 250.0)
LV = livelihood_table(CFG, 250.0)
PRICE = 0.45
M = 5
NEED = M * P.need_kg_per_person  # 91.2 kg
FB = NEED * PRICE  # food bill if nothing is in stock, 41.04 USD
NF = M * P.nonfood_usd_per_person  # 30 USD
BEG = M * P.emergency_income_usd_per_person  # 7.5 USD
KEY = rng.stream_key(11, "households", 30)


def month(n, p=P, nutrition_table=None, savings_table=None, district=None, rates=(0.0, 0.0, 0.0), **fields):
    """One call of ``household_month`` on ``n`` synthetic households, by default urban,
    five members, no adults (no wage), no assets, savings or stock, and the informal
    credit used up (debt 60): their only income is what ``fields`` gives them.
    ``rates`` = (p_birth, p_u5_base, p_old_base) in both districts (default: no births,
    no baseline deaths). Returns (households, sums[D, cells, sums])."""
    h = Arrays(n, HOUSEHOLD_FIELDS)
    h.livelihood[:] = 3
    h.members[:] = M
    h.debt_usd[:] = P.credit_limit_usd
    h.ipc_phase[:] = 1
    for k, v in fields.items():
        h[k][:] = v
    D = 2
    d = {"harvest_now": 0.0, "harvest_yield": 0.0, "pasture": 1.0, "p_ls_death": 0.0, "lprice": 250.0,
         "food_price": PRICE, "labour": 1.0, "health": 1.0}
    d.update(district or {})
    d = {k: np.full(D, float(v)) for k, v in d.items()}
    acc = np.zeros((nb.config.NUMBA_NUM_THREADS, D, N_CELLS, N_SUMS), np.int64)
    household_month(
        p, KEY, rng.stream_key(11, "households.deaths", 30), np.array([0, n], np.int64), np.zeros(1),
        np.zeros(1, np.int64), np.zeros(1, np.int64),
        h.district, h.livelihood, h.female_head, h.marginalised, h.poorest_quintile, h.displaced, h.location,
        h.fear, h.sick, h.members, h.dead, h.dead.copy(), h.born, h.u5, h.adults, h.land_ha, h.herd_tlu, h.assets_usd,
        h.savings_usd, h.debt_usd, h.food_stock_kg, h.adequacy, h.consumption_usd_pc_day, h.gap_months, h.coping,
        h.malnutrition, h.ipc_phase, h.aid_cash_usd, h.aid_food_kg, h.livestock_protected, h.nutrition_treated,
        h.savings_group,
        d["harvest_now"], d["harvest_yield"], d["pasture"], d["p_ls_death"], d["lprice"], d["food_price"],
        d["labour"], d["health"], *(np.full(D, float(r)) for r in rates), np.ones(D), 1000.0, LV,
        np.zeros((0, 3)) if nutrition_table is None else np.asarray(nutrition_table, np.float64),
        np.zeros((0, 2)) if savings_table is None else np.asarray(savings_table, np.float64),
        0.0, 0.0, 0.5, acc,
    )
    return h, acc.sum(axis=0)


def test_cash_aid_raises_adequacy_by_its_value_in_food():
    """No income, savings, assets, support or credit: of the 71.04 USD needed the
    ladder finds the stress cut, half of non-food, the crisis cut, begging (7.5) and,
    before going without food, non-food down to the survival items (a share
    ``nonfood_survival_frac`` of it: 7.5); the rest of the food goes uneaten. Cash X
    is spent on food the household would not have eaten: adequacy = (X + 7.5 - 7.5)
    / 41.04, up to the crisis stage's meal cut (1 - meal_cut_crisis_frac = 0.7), so
    each USD buys 1 / 41.04 of the need, at home or displaced."""
    cash = np.array([0.0, 10.0, 20.0, 30.0, 10.0, 20.0, 30.0])
    away = np.array([0, 0, 0, 0, 1, 1, 1])
    h, _ = month(len(cash), aid_cash_usd=cash, displaced=away, location=away)
    survival_nf = P.nonfood_survival_frac * NF
    want = np.clip((cash + BEG - survival_nf) / FB, 0.0, 1.0 - P.meal_cut_crisis_frac)
    np.testing.assert_allclose(h.adequacy, want, rtol=1e-6, atol=1e-7)
    assert want[0] == 0.0 and want[3] == pytest.approx(0.7)  # 30 USD would buy 0.73: the meal cut binds
    assert (h.coping == 3).all()
    assert h.adequacy[2] - h.adequacy[1] == pytest.approx(10.0 / FB, rel=1e-5)


def test_food_aid_is_eaten_and_kept_not_sold():
    # a destitute household given its month's need plus 10 kg eats its fill and keeps 10 kg
    h, _ = month(2, aid_food_kg=[0.0, NEED + 10.0])
    assert h.adequacy[0] == pytest.approx(0.0, abs=1e-9)  # begging pays the survival non-food only
    assert h.adequacy[1] == 1.0
    assert h.food_stock_kg[1] == pytest.approx(10.0, abs=1e-4)
    # a stock above the cap is sold down to it; the food aid on top is not sold
    cap = P.food_stock_max_months * NEED
    h, _ = month(2, food_stock_kg=1.5 * cap, aid_cash_usd=200.0, aid_food_kg=[0.0, 50.0])
    assert h.food_stock_kg[0] == pytest.approx(cap - NEED, rel=1e-6)
    assert h.food_stock_kg[1] - h.food_stock_kg[0] == pytest.approx(50.0, abs=1e-3)
    assert h.savings_usd[1] == h.savings_usd[0]  # the same cash from the same sale
    assert h.consumption_usd_pc_day[1] == h.consumption_usd_pc_day[0]


def test_livestock_protection_averts_its_share_of_deaths():
    herd = 1.5 * LV[0, LV_VALUE_CAP_USD] / 250.0  # above the value cap after any loss: no restocking
    protected = np.array([0.0, 0.5, 1.0], np.float32)
    # no pasture: no births, no milk; cash aid: no distress sales
    h, _ = month(3, livelihood=0, herd_tlu=herd, livestock_protected=protected, aid_cash_usd=500.0,
                 district={"pasture": 0.0, "p_ls_death": 0.3})
    herd32 = float(np.float32(herd))
    np.testing.assert_allclose(h.herd_tlu, herd32 * (1.0 - 0.3 * (1.0 - protected.astype(float))), rtol=1e-6)
    assert h.herd_tlu[2] == np.float32(herd)  # no deaths at all


N_U5 = 4000


def _u29(n):
    return rng.uniforms(KEY, n, 29)


def test_treatment_averts_its_share_of_excess_sam_deaths():
    """A severely wasted under-five dies with p_u5_base (1 + (sam_death_hr - 1)(1 -
    death_reduction_frac)): treatment averts its share of the excess, not the
    background. Older members and famine deaths are switched off (no baseline for
    them, no gap), so every death is the child's; at a full reduction only baseline
    deaths remain."""
    base = 0.02
    table = [[0.0, 0.0, 1.0], [0.0, 0.0, 0.5]]
    u = _u29(N_U5)
    common = {"u5": 1, "malnutrition": 2, "aid_cash_usd": 500.0}
    for treated, reduction in ((0, 0.0), (2, 0.5), (1, 1.0)):
        h, sums = month(N_U5, nutrition_table=table, nutrition_treated=treated, rates=(0.0, base, 0.0), **common)
        died = h.dead > 0  # (a child may also turn five this month: u5 falls without a death)
        p_death = base * (1.0 + (P.sam_death_hr - 1.0) * (1.0 - reduction))
        np.testing.assert_array_equal(died, u > 1.0 - p_death)  # Binomial(1, p) by inversion
        assert died.sum() > 20
        tot = sums.sum(axis=(0, 1))
        if reduction == 1.0:
            assert tot[I["deaths_starvation"]] == 0  # only the background is left
        assert tot[I["deaths_baseline"]] + tot[I["deaths_starvation"]] == died.sum()
        assert (h.members[died] == M - 1).all() and (h.u5[died] == 0).all()


def test_treated_children_recover_without_food_but_can_still_worsen():
    """Households with nothing to eat (gap 1): an untreated MAM child never recovers;
    a treated one (p_recover_mam_treated = 1) recovers unless it worsens to SAM, which
    happens as without treatment (draw 22 below p_sam_base + p_sam_per_gap)."""
    table = [[1.0, 1.0, 0.0]]
    u22 = rng.uniforms(KEY, N_U5, 22)
    worse = u22 < P.p_sam_base + P.p_sam_per_gap * 1.0
    # (a child who turns five this month leaves the under-fives: its state is no longer recorded)
    h0, _ = month(N_U5, u5=1, malnutrition=1)
    young = h0.u5 > 0
    assert 0 < (~young).sum() < 0.05 * N_U5  # about 1 in 60
    np.testing.assert_array_equal(h0.malnutrition[young], np.where(worse, 2, 1)[young])
    h1, _ = month(N_U5, nutrition_table=table, u5=1, malnutrition=1, nutrition_treated=1)
    np.testing.assert_array_equal(h1.malnutrition[young], np.where(worse, 2, 0)[young])
    assert 0 < worse.sum() < N_U5
    # SAM children step down to MAM (or, for those who die or turn five, leave)
    h2, _ = month(N_U5, nutrition_table=table, u5=1, malnutrition=2, nutrition_treated=1)
    alive = h2.u5 > 0
    assert (h2.malnutrition[alive] == 1).all()


def test_savings_group_credit_goes_beyond_the_informal_limit():
    limit = P.credit_limit_usd
    # 71.04 USD short: a member borrows up to the group's 40 USD more, a non-member nothing
    h, _ = month(2, nutrition_table=None, savings_table=[[0.0, 40.0]], savings_group=[0, 1])
    assert h.debt_usd[0] == limit
    assert h.debt_usd[1] == pytest.approx(limit + 40.0, rel=1e-7)
    assert h.adequacy[1] > h.adequacy[0]
    # a 15 USD shortfall is borrowed whole, still beyond the informal limit
    aid = np.float32(FB + NF - 15.0)
    h, _ = month(1, savings_table=[[0.0, 40.0]], savings_group=1, aid_cash_usd=aid)
    assert h.debt_usd[0] == pytest.approx(limit + FB + NF - float(aid), rel=1e-6)
    assert h.debt_usd[0] > limit + 14.99 and h.adequacy[0] == 1.0 and h.coping[0] == 1


def test_savings_group_returns_are_added_to_savings():
    assets = 1.1 * LV[3, LV_VALUE_CAP_USD]  # above the value cap: a surplus is not invested
    savings = 100.0
    h, _ = month(3, savings_table=[[0.02, 0.0], [0.05, 0.0]], savings_group=[0, 1, 2], assets_usd=assets,
                 savings_usd=savings, debt_usd=0.0, aid_cash_usd=200.0)
    np.testing.assert_allclose(h.savings_usd[1:] - h.savings_usd[0], [savings * 0.02, savings * 0.05], atol=1e-4)
    assert h.savings_usd[0] > savings  # all three saved the same surplus


def test_a_programme_index_beyond_its_table_is_refused():
    eng = build_engine(hssim.compose(["population.households=500", "months=12", "spinup_months=0"]))
    eng.init()
    households = module(eng, "households")
    eng.households.nutrition_treated[3] = 1
    with pytest.raises(ValueError, match="nutrition_table"):
        households.step(eng, 0)
    eng.households.nutrition_treated[3] = 0
    eng.households.savings_group[7] = 2
    households.savings_table = np.array([[0.01, 10.0]])
    with pytest.raises(ValueError, match="savings_table"):
        households.step(eng, 0)
