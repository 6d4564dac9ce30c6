"""The response: money, registry, targeting, modes, and each intervention's mechanism.

Runs are small (a few thousand households, 2-3 years) and share seeds, so every
comparison is paired: the difference between two runs is caused by the policy.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from omegaconf import OmegaConf

import hssim
from hssim.config.build import build_engine
from hssim.interventions.targeting import compound_need, observe, true_targeting
from hssim.interventions.base import TargetingConfig
from hssim.policies.response import select_in_order
from hssim.state import DISTRICT_FIELDS

HH = 3000
MONTHS = 30

#: outputs the response itself writes (everything else must be untouched by a no-effect policy)
RESPONSE_SUMS = ["households_assisted", "people_assisted", "households_duplicated", "households_layered",
                 "households_in_need", "households_need_unmet"]
RESPONSE_DISTRICT = ["drought_probability", "ready_drought", "alert_drought", "alert_food", "alert_conflict",
                     "alert_disease", "reported_cases", "security_effect", "committee_effect", "wash_effect",
                     "surveillance_gain", "targeting_gain", "cost_usd"]


def compose(policy="base", interventions=None, households=HH, months=MONTHS, seed=11, overrides=(), **policy_fields):
    c = hssim.compose(["interventions=none", f"policy={policy}", f"population.households={households}",
                       f"months={months}", f"seed={seed}", "storyline=two_failed_seasons", *overrides])
    if interventions is not None:
        c.interventions = interventions
    for k, v in policy_fields.items():
        OmegaConf.update(c, f"policy.{k}", v, merge=False)
    return c


def programme(kind, **fields):
    """An always-on programme reaching everyone eligible at once (generous limits)."""
    base = {"kind": kind, "activation": "always", "setup_delay_months": 0, "targeting": {"rule": "all"},
            "coverage_cap_frac": 1.0, "capacity_households_per_month": 1e9, "cost_per_household_usd": 1.0}
    base.update(fields)
    return base


@functools.cache
def _none(seed=11, overrides=()):
    return hssim.run(compose("none", seed=seed, overrides=overrides))


def _run(**kw):
    return hssim.run(compose(**kw))


def _total(r, indicator):
    return float(r.indicator(indicator).sum())


def _mean(r, indicator):
    return float(r.indicator(indicator).mean())


def _same_outcomes(a, b):
    keep = [j for j, n in enumerate(hssim.sums.SUMS) if n not in RESPONSE_SUMS]
    np.testing.assert_array_equal(a.sums[..., keep], b.sums[..., keep])
    names = [f.name for f in DISTRICT_FIELDS]
    keep_d = [j for j, n in enumerate(names) if n not in RESPONSE_DISTRICT]
    np.testing.assert_array_equal(a.district_series[..., keep_d], b.district_series[..., keep_d])


# -- money ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("preset", "cycle"), [("reactive_siloed", {}), ("anticipatory_integrated", {}),
                                               ("reactive_siloed", {"review_months": 6, "tranches_per_year": 4})])
def test_money_is_never_overspent(preset, cycle):
    """Tight budget: spending never exceeds what has arrived (the budget, appeal money
    received, reserve released and not returned), month by month."""
    c = compose(preset, interventions=OmegaConf.to_container(hssim.compose(["interventions=standard"]).interventions),
                budget_usd_per_year=3e6, **{f"budget_cycle.{k}": v for k, v in cycle.items()})
    engine = build_engine(c)
    resp = next(m for m in engine.modules if m.name == "response")
    spent_cum, arrived_cum, budget_cum = 0.0, 0.0, 0.0
    while not engine.done:
        engine.step()
        assert np.all(resp.accounts >= -1e-6) and np.all(resp.earmark >= -1e-6)
        if engine.ti > engine.spinup:
            m = engine.ti - engine.spinup - 1
            spent_cum += resp.cost[m].sum() + resp.overhead_usd[m] + resp.reallocation_cost_usd[m]
            arrived_cum += (resp.disbursed_usd[m] + resp.appeal_received_usd[m] + resp.reserve_released_usd[m]
                            - resp.reserve_returned_usd[m])
            budget_cum += resp.disbursed_usd[m]
            assert spent_cum <= arrived_cum * (1 + 1e-9) + 1e-6
    # the budget was binding: spending reached almost all of it
    assert spent_cum > 0.8 * budget_cum


def test_modes_get_equal_budgets_and_integrated_pays_overhead():
    portfolio = OmegaConf.to_container(hssim.compose(["interventions=standard"]).interventions)
    runs = {mode: build_engine(compose(f"reactive_{mode}", interventions=portfolio)) for mode in ("siloed", "integrated")}
    for e in runs.values():
        e.run()
    resp = {mode: next(m for m in e.modules if m.name == "response") for mode, e in runs.items()}
    np.testing.assert_array_equal(resp["siloed"].disbursed_usd, resp["integrated"].disbursed_usd)
    assert resp["siloed"].disbursed_usd.sum() > 0
    assert resp["siloed"].overhead_usd.sum() == 0.0
    np.testing.assert_allclose(resp["integrated"].overhead_usd, 0.05 * resp["integrated"].disbursed_usd)


def test_budget_reliability_draws():
    """Reliability 1: every year's full budget, in twelve tranches; below 1 some years fall short."""
    e = build_engine(compose(interventions={}, budget_usd_per_year=1.2e6, budget_reliability=1.0, months=36))
    e.run()
    resp = next(m for m in e.modules if m.name == "response")
    np.testing.assert_allclose(resp.disbursed_usd, 1e5)
    e = build_engine(compose(interventions={}, budget_usd_per_year=1.2e6, budget_reliability=0.0, months=36))
    e.run()
    resp = next(m for m in e.modules if m.name == "response")
    yearly = resp.disbursed_usd.reshape(3, 12).sum(axis=1)
    assert np.all(yearly < 1.2e6) and np.all(yearly > 0)


def test_a_planning_cycle_pays_in_tranches_and_lapses_what_is_not_carried_over():
    """Quarterly tranches of a quarter of the year's money; at a year's end half of what is
    left lapses (nothing is spent: no programme)."""
    e = build_engine(compose(interventions={}, budget_usd_per_year=1.2e6, budget_reliability=1.0, months=36,
                             **{"budget_cycle.tranches_per_year": 4, "budget_cycle.carryover_frac": 0.5}))
    e.run()
    resp = next(m for m in e.modules if m.name == "response")
    m = np.arange(36)
    np.testing.assert_allclose(resp.disbursed_usd[m % 3 == 0], 3e5)
    assert (resp.disbursed_usd[m % 3 != 0] == 0).all()
    np.testing.assert_allclose(resp.disbursed_usd.reshape(3, 12).sum(axis=1), 1.2e6)
    for start in (12, 24):
        assert resp.budget_lapsed_usd[start] == pytest.approx(0.5 * resp.held_usd[start - 1], rel=1e-12)
        net = resp.disbursed_usd[start] - resp.overhead_usd[start]
        assert resp.held_usd[start] == pytest.approx(0.5 * resp.held_usd[start - 1] + net, rel=1e-12)
    assert (resp.budget_lapsed_usd[m % 12 != 0] == 0).all() and resp.budget_lapsed_usd[0] == 0


def test_a_review_moves_stranded_sector_money_to_the_pool_late_and_at_a_cost():
    """Siloed sector accounts strand money; a review every 6 months moves what a sector
    holds beyond 3 months of its own spending to the pool, 2 months later, less 10%."""
    portfolio = OmegaConf.to_container(hssim.compose(["interventions=standard"]).interventions)
    cycle = {"budget_cycle.review_months": 6, "budget_cycle.reallocation_delay_months": 2,
             "budget_cycle.reallocation_cost_frac": 0.1}
    moved = hssim.run(compose("reactive_siloed", interventions=portfolio, months=36, **cycle))
    kept = hssim.run(compose("reactive_siloed", interventions=portfolio, months=36))
    money = moved.tables["money"]
    got = money[money["reallocated_usd"] > 0]
    assert len(got) > 0 and moved.summary["reallocated_usd"] > 0
    assert set((got["month"] - 1) % 6) == {2}  # reviews at months 7, 13, ...: arrivals two months later
    np.testing.assert_allclose(money["reallocation_cost_usd"], money["reallocated_usd"] * 0.1 / 0.9, rtol=1e-12)
    costs = moved.tables["costs"]
    assert costs.loc[costs["intervention"] == "reallocation", "cost_usd"].sum() == pytest.approx(
        moved.summary["reallocation_cost_usd"])
    # less money left stranded in sector accounts at the end
    assert kept.summary["stranded_sector_usd_end"] > 0
    assert moved.summary["stranded_sector_usd_end"] < kept.summary["stranded_sector_usd_end"]
    # no review: no money moved, none lapsed
    assert kept.summary["reallocated_usd"] == 0 and kept.summary["budget_lapsed_usd"] == 0


def test_select_in_order_respects_capacity_caps_and_money():
    location = np.array([0, 0, 1, 1, 1], np.int16)
    order = np.array([4, 3, 0, 2, 1], np.int64)
    cost = np.array([5.0, 5.0, 5.0, 1.0, 5.0])
    cap = np.array([1, 3], np.int64)
    take, spent = select_in_order(order, location, cost, cap, -1, 11.0)
    # 4 and 3 (district 1, cost 10); 0 would overrun the money (15 > 11); 2 is cheap
    # and fits (11); 1 would overrun the money again
    assert take.tolist() == [True, True, False, True, False]
    assert spent == 11.0 and cap.tolist() == [1, 0]
    cap = np.array([1, 2], np.int64)
    take, spent = select_in_order(order, location, cost, cap, -1, 11.0)
    assert take.tolist() == [True, True, False, False, False]  # district 1 is full for 2
    assert spent == 10.0
    cap = np.array([5, 5], np.int64)
    take, _ = select_in_order(order, location, cost, cap, 2, 1e9)
    assert take.sum() == 2


# -- registry and modes ---------------------------------------------------------------------
NO_LAGS = {"food_security": 0, "health": 0, "protection": 0, "livelihoods": 0}


def _two_cash(mode, cap=0.5, **policy):
    prog = programme("cash_transfer", targeting={"rule": "need", "indicator": "ipc_phase", "threshold": 2},
                     coverage_cap_frac=cap, amount_usd_per_person=1.0)
    portfolio = {"cash_a": {**prog, "sector": "food_security"}, "cash_b": {**prog, "sector": "protection"}}
    return _run(policy="base", interventions=portfolio, mode=mode, budget_usd_per_year=5e7, **policy)


def test_integrated_registry_never_duplicates_while_siloed_does():
    siloed, integrated = _two_cash("siloed"), _two_cash("integrated")
    dup_s = _total(siloed, "duplicated_households")
    dup_i = _total(integrated, "duplicated_households")
    assert dup_s > 100  # two agencies with the same list serve many households twice
    assert dup_i == 0


def test_shared_registry_reaches_more_households_when_places_are_scarce():
    """Coordination's costs switched off (no overhead, delay or lags), the registry
    alone: with few places per programme, the second programme reaches households
    the first could not, instead of the same ones."""
    # places must be scarce against the eligible: two programmes of 3% each, against about
    # 16% of households observed in IPC2+ in the no-shock world (at 10% each the eligible
    # pool, not the places, bounds the integrated reach)
    same = dict(cap=0.03, coordination_overhead_frac=0.0, coordination_delay_months=0,
                sector_info_lag_months=NO_LAGS, joint_info_lag_months=0)
    siloed, integrated = _two_cash("siloed", **same), _two_cash("integrated", **same)
    # siloed: both lists pick mostly the same households (about one programme's places);
    # integrated: the second programme's places go to others
    assert _mean(integrated, "assisted_frac") > 1.4 * _mean(siloed, "assisted_frac")


def test_partial_coordination_catches_a_share_of_duplicates():
    none_caught = _total(_two_cash("siloed", coordination=0.0), "duplicated_households")
    half = _total(_two_cash("siloed", coordination=0.4), "duplicated_households")
    assert 0 < half < none_caught


# -- targeting -------------------------------------------------------------------------------
def test_accuracy_one_reaches_exactly_the_eligible_set():
    c = compose(interventions={"cash": programme("cash_transfer", targeting={"rule": "need", "indicator": "ipc_phase",
                                                                              "threshold": 2, "accuracy": 1.0})},
                budget_usd_per_year=1e9, mode="siloed", sector_info_lag_months={"food_security": 0, "health": 0,
                                                                                 "protection": 0, "livelihoods": 0},
                # no hazard deaths between the month's start and the assessment
                overrides=("hazards.conflict.enabled=false", "hazards.disease.enabled=false"))
    engine = build_engine(c)
    resp = next(m for m in engine.modules if m.name == "response")
    hh = engine.households
    while engine.ti < engine.spinup:
        engine.step()
    eligible = (hh.ipc_phase >= 2) & (hh.members > 0)  # the state the assessment sees
    engine.step()
    served = np.zeros(hh.n, bool)
    served[resp.served_idx[0]] = True
    assert eligible.sum() > 100
    np.testing.assert_array_equal(served, eligible)


def test_imperfect_accuracy_errs_both_ways_and_keeps_the_eligible_share():
    engine = build_engine(compose(interventions={}, households=20000))
    for _ in range(14):
        engine.step()
    hh = engine.households
    need = np.zeros(hh.n, np.float32)
    compound_need(hh.ipc_phase, hh.fear, hh.coping, hh.displaced, hh.location, engine.districts.health_access_eff, need)
    t = TargetingConfig(rule="need", indicator="ipc_phase", threshold=2, accuracy=0.6)
    ok = np.ones(engine.scenario.n_districts, bool)
    eligible, score = true_targeting(t, engine, need, ok)
    here = hh.members > 0
    D = engine.scenario.n_districts
    share = np.bincount(hh.location[eligible], minlength=D) / np.maximum(np.bincount(hh.location[here], minlength=D), 1)
    out = np.zeros(hh.n, np.uint8)
    observe(np.uint64(12345), eligible, here, score, hh.location, np.full(D, 0.6), share, out)
    seen = out > 0
    pi = eligible[here].mean()
    assert 0.05 < pi < 0.95
    exclusion = (eligible & ~seen).sum() / eligible.sum()
    inclusion = (~eligible & seen & here).sum() / (~eligible & here).sum()
    # analytic: exclusion = (1 - a)(1 - pi_d), inclusion = (1 - a) pi_d (averaged over districts)
    loc = hh.location
    exp_excl = (0.4 * (1 - share[loc]))[eligible].mean()
    exp_incl = (0.4 * share[loc])[~eligible & here].mean()
    assert abs(exclusion - exp_excl) < 0.02 and abs(inclusion - exp_incl) < 0.02
    assert abs(seen[here].mean() - pi) < 0.02


def test_community_rule_names_each_communitys_neediest_share():
    engine = build_engine(compose(interventions={}))
    for _ in range(14):
        engine.step()
    hh = engine.households
    need = np.zeros(hh.n, np.float32)
    compound_need(hh.ipc_phase, hh.fear, hh.coping, hh.displaced, hh.location, engine.districts.health_access_eff, need)
    eligible, _ = true_targeting(TargetingConfig(rule="community", share=0.3), engine, need,
                                 np.ones(engine.scenario.n_districts, bool))
    alive = hh.members > 0
    for c in np.unique(hh.community)[:20]:
        sel = (hh.community == c) & alive
        k = int(np.floor(0.3 * sel.sum() + 0.5))
        assert eligible[sel].sum() == k
        if 0 < k < sel.sum():
            assert need[sel & eligible].min() >= need[sel & ~eligible].max()


# -- common random numbers and neutrality -----------------------------------------------------
def test_hazard_series_identical_across_policy_arms():
    arms = ["none", "reactive_siloed", "reactive_integrated", "anticipatory_siloed", "anticipatory_integrated"]
    # conflict drivers that respond to the economy are cut, so conflict is exogenous too
    cut = ("couplings.prices_to_conflict=0", "couplings.displacement_to_conflict=0", "couplings.grievance_to_conflict=1")
    names = [f.name for f in DISTRICT_FIELDS]
    runs = []
    for arm in arms:
        c = compose(arm, overrides=cut)
        c.interventions = {k: v for k, v in OmegaConf.to_container(hssim.compose(["interventions=standard"]).interventions).items()
                           if v["kind"] not in ("security", "resource_committee")}
        runs.append(hssim.run(c))
    for field in ("rain_mm", "anomaly", "spi", "in_drought", "conflict_events", "conflict_rate"):
        j = names.index(field)
        for r in runs[1:]:
            np.testing.assert_array_equal(r.district_series[..., j], runs[0].district_series[..., j], err_msg=field)
    # and the policies did act
    assert all(r.summary["cost_usd_total"] > 0 for r in runs[1:])


ZERO_EFFECTS = {
    "cash_transfer": {"amount_usd_per_person": 0.0},
    "food_assistance": {"ration_kg_per_person": 0.0},
    "health_response": {"access_gain": 0.0},
    "vaccination": {"efficacy": 0.0},
    "malnutrition_treatment": {"p_recover_mam": 0.0, "p_recover_sam": 0.0, "death_reduction_frac": 0.0},
    "wash": {"transmission_reduction": 0.0},
    "security": {"rate_reduction": 0.0},
    "early_warning": {"destock_frac": 0.0, "early_flight_frac": 0.0},
    "livestock_support": {"mortality_reduction": 0.0},
    "resource_committee": {"scarcity_conflict_reduction": 0.0},
    "savings_group": {"return_frac_per_month": 0.0, "extra_credit_usd": 0.0},
    "livelihood_diversification": {"asset_grant_usd": 0.0},
    "community_health_workers": {"access_gain": 0.0, "surveillance_gain": 0.0},
    "community_targeting": {"accuracy_gain": 0.0},
    "index_insurance": {"sum_insured_usd": 0.0},
    "destocking": {"offtake_frac": 0.0},
}


def test_zero_effect_portfolio_changes_nothing_but_costs():
    portfolio = OmegaConf.to_container(hssim.compose(["interventions=standard"]).interventions)
    for prog in portfolio.values():
        prog.update(ZERO_EFFECTS[prog["kind"]])
    assert {p["kind"] for p in portfolio.values()} == set(ZERO_EFFECTS)  # every kind is checked
    for preset in ("reactive_siloed", "anticipatory_integrated"):
        r = _run(policy=preset, interventions=portfolio)
        assert r.summary["cost_usd_total"] > 0 and _total(r, "people_assisted") > 0
        _same_outcomes(r, _none())


# -- each intervention moves its target indicator ------------------------------------------------
MEASLES = ("hazards/disease=measles", "hazards.disease.importations_per_month=4")
#: an epidemic to act on whatever the seed's luck (a few importations may all die out)
EPIDEMIC = ("hazards.disease.importations_per_month=4",)

CASES = [
    # kind, extra fields, overrides, indicator, direction (-1: lower with the programme)
    ("cash_transfer", {"amount_usd_per_person": 6.0}, (), "ipc3plus_frac", -1),
    ("food_assistance", {"ration_kg_per_person": 8.0}, (), "consumption_gap", -1),
    ("malnutrition_treatment", {"targeting": {"rule": "need", "indicator": "malnutrition", "threshold": 1}}, (), "acute_malnutrition_frac", -1),
    ("health_response", {"access_gain": 0.8}, EPIDEMIC, "deaths_disease", -1),
    ("vaccination", {"once": True, "service_months": 1, "efficacy": 0.95}, MEASLES, "new_infections", -1),
    ("wash", {"transmission_reduction": 0.8}, EPIDEMIC, "new_infections", -1),
    ("security", {"rate_reduction": 0.6}, (), "conflict_events", -1),
    ("livestock_support", {"mortality_reduction": 0.8}, (), "assets_usd_per_household", +1),
    ("resource_committee", {"scarcity_conflict_reduction": 1.0, "ramp_months": 0}, (), "conflict_events", -1),
    ("savings_group", {"return_frac_per_month": 0.03, "extra_credit_usd": 100.0}, (), "negative_coping_frac", -1),
    ("livelihood_diversification", {"asset_grant_usd": 400.0, "training_months": 2}, (), "assets_usd_per_household", +1),
    ("community_health_workers", {"access_gain": 0.8, "ramp_months": 0}, (), "health_access_frac", +1),
    ("index_insurance", {"sum_insured_usd": 300.0, "strike_spi": 0.0}, (), "consumption_gap", -1),
]


@pytest.mark.parametrize("kind,fields,overrides,indicator,direction", CASES, ids=[c[0] for c in CASES])
def test_intervention_moves_its_indicator(kind, fields, overrides, indicator, direction):
    r = _run(interventions={"p": programme(kind, **fields)}, budget_usd_per_year=1e9, overrides=overrides)
    base = _none(overrides=overrides)
    with_p, without = _total(r, indicator), _total(base, indicator)
    assert r.summary["cost_usd_total"] > 0
    assert direction * (with_p - without) > 0, (with_p, without)


def test_destocking_sells_part_of_each_served_herd_into_savings_at_the_price():
    """Served households sell min(offtake x herd, cap) TLU at the local price, into savings;
    nobody else's herd or savings moves."""
    from hssim.interventions.protection import destock

    herd = np.array([0.0, 2.0, 20.0, 5.0], np.float32)
    savings = np.array([1.0, 1.0, 1.0, 1.0], np.float32)
    location = np.array([0, 1, 1, 0], np.int64)
    price = np.array([100.0, 200.0])
    destock(np.array([0, 1, 2], np.int64), location, 0.3, 3.0, 0.9, price, herd, savings)
    np.testing.assert_allclose(herd, [0.0, 1.4, 17.0, 5.0], rtol=1e-6)  # 0.3 x 2 = 0.6; 0.3 x 20 capped at 3
    np.testing.assert_allclose(savings, [1.0, 1.0 + 0.6 * 0.9 * 200, 1.0 + 3.0 * 0.9 * 200, 1.0], rtol=1e-6)
    # in a run: served pastoralists hold fewer animals and more savings than without it
    r = _run(interventions={"p": programme("destocking", offtake_frac=0.5, max_tlu_per_household=100.0,
                                           targeting={"rule": "need", "indicator": "herd_tlu", "threshold": 1.0},
                                           service_months=1, duration_months=1)},
             budget_usd_per_year=1e9)
    base = _none()
    assert r.summary["cost_usd_total"] > 0
    first = {name: [float(x.sums[12, ..., hssim.sums.I[name]].sum()) for x in (r, base)]  # after the first assessments
             for name in ("herd_tlu_milli", "savings_usd")}
    assert first["herd_tlu_milli"][0] < 0.8 * first["herd_tlu_milli"][1]
    assert first["savings_usd"][0] > first["savings_usd"][1]


def test_anticipatory_actions_answer_the_forecast_trigger_only_and_act_before_the_shock():
    """Pre-agreed actions run only on the drought forecast trigger: never under the reactive
    presets' observed trigger, whatever the coordination; where readiness was declared they
    deliver at once (set-up 0, pre-arranged money: only the coordination delay)."""
    over = ["storyline=two_failed_seasons", "population.households=2000", "months=36", "output.figure=false", "seed=2"]
    aa = {"aa_cash", "aa_destocking", "aa_livestock", "aa_nutrition", "aa_wash"}
    for preset in ("reactive_siloed", "reactive_integrated"):
        acts = hssim.run(hssim.compose([f"policy={preset}", *over])).tables["activations"]
        assert len(acts) and not set(acts["intervention"]) & aa
    for preset, delay in (("anticipatory_siloed", 0), ("anticipatory_integrated", 1)):
        r = hssim.run(hssim.compose([f"policy={preset}", *over]))
        acts = r.tables["activations"]
        mine = acts[acts["intervention"].isin(aa)]
        assert len(mine) > 0 and set(mine["signals"]) == {"drought"}
        lag = mine["first_delivery_month"] - mine["month"]
        assert set(lag) <= {delay, delay + 1}  # + 1: no readiness in force there (set-up of a month)
        assert (lag == delay).any()
        assert r.tables["costs"]["intervention"].isin(aa).any()  # they were paid and delivered


def test_an_anticipatory_action_must_be_triggered_by_the_forecast_only():
    prog = programme("cash_transfer", anticipatory=True)  # activation: always
    with pytest.raises(hssim.ConfigError, match="anticipatory"):
        _run(interventions={"p": prog})
    prog = programme("cash_transfer", anticipatory=True, activation="trigger", trigger_on=["food"])
    with pytest.raises(hssim.ConfigError, match="trigger_on"):
        _run(interventions={"p": prog})


def test_early_warning_dissemination_destocks_and_moves_early():
    prog = programme("early_warning", destock_frac=0.5, early_flight_frac=0.9)
    c = compose(interventions={"ew": prog}, budget_usd_per_year=1e9, overrides=("hazards.conflict.baseline_scale=4",))
    c_none = compose("none", overrides=("hazards.conflict.baseline_scale=4",))
    r, base = hssim.run(c), hssim.run(c_none)
    # informed households flee before violence reaches them: more displacement, less exposure
    assert _total(r, "displaced_frac") > _total(base, "displaced_frac")
    assert _total(r, "violence_exposed_frac") < _total(base, "violence_exposed_frac")


def test_community_targeting_raises_accuracy_of_other_programmes():
    cash = programme("cash_transfer", amount_usd_per_person=0.0,
                     targeting={"rule": "need", "indicator": "ipc_phase", "threshold": 3, "accuracy": 0.3})
    runs = {}
    for gain in (0.0, 1.0):
        portfolio = {"cbt": programme("community_targeting", accuracy_gain=gain), "cash": cash}
        e = build_engine(compose(interventions=portfolio, budget_usd_per_year=1e9))
        resp = next(m for m in e.modules if m.name == "response")
        hits = []
        while not e.done:
            phase = e.households.ipc_phase.copy()
            e.step()
            if e.ti > e.spinup + 6:
                idx = resp.served_idx[1]
                hits.append((phase[idx] >= 3).mean() if idx.size else np.nan)
        runs[gain] = np.nanmean(hits)
    assert runs[1.0] > runs[0.0] + 0.1


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change,field",
    [
        ({"interventions": {"x": {"kind": "cash_tranfer"}}}, "interventions.x.kind"),
        ({"interventions": {"x": {"kind": "cash_transfer", "targeting": {"rule": "categorical", "categories": ["rich"]}}}},
         "interventions.x.targeting.categories[0]"),
        ({"interventions": {"x": {"kind": "cash_transfer", "coverage_cap_frac": 1.5}}}, "interventions.x.coverage_cap_frac"),
        ({"interventions": {"x": {"kind": "index_insurance", "exit_spi": 0.0, "strike_spi": -1.0}}}, "interventions.x.exit_spi"),
        ({"interventions": {"x": {"kind": "cash_transfer", "targeting": {"districts": ["Atlantis"]}}}},
         "interventions.x.targeting.districts[0]"),
        ({"policy": {"sector_budget_shares": {"food_security": 0.5, "health": 0.5, "protection": 0.5, "livelihoods": 0.0}}},
         "policy.sector_budget_shares"),
        ({"policy": {"trigger": {"kind": "two_stage", "lead_months": 4, "readiness_lead_months": 2}}},
         "policy.trigger.readiness_lead_months"),
    ],
)
def test_bad_response_config_names_the_field(change, field):
    from hssim.config.build import prepare
    from hssim.errors import ConfigError

    c = OmegaConf.to_container(hssim.compose(["interventions=none", "policy=base"]))
    for key, value in change.items():
        c[key] = {**c[key], **value}
    with pytest.raises(ConfigError) as err:
        prepare(c)
    assert err.value.path == field


# -- money beyond the budget: the contingency reserve and appeals ---------------------------
_FIN = ["storyline=two_failed_seasons", "population.households=1500", "months=36", "spinup_months=6",
        "output.figure=false", "seed=4"]


def _fin_run(*extra):
    return hssim.run(hssim.compose(["policy=anticipatory_siloed", *_FIN, *extra]))


def test_the_reserve_is_released_only_by_the_trigger_for_its_actions():
    r = _fin_run()
    money, acts = r.tables["money"], r.tables["activations"]
    released = money[money["reserve_released_usd"] > 0]
    assert len(released) > 0 and r.summary["reserve_released_usd"] > 0
    by_trigger = acts[acts["signals"].str.split("+").map(lambda s: "drought" in s)]
    # released only in months the drought trigger activated programmes
    assert set(released["month"]) <= set(by_trigger["month"])
    # never more in a year than that year's reserve
    year = (money["month"] - 1) // 12
    assert (money.groupby(year)["reserve_released_usd"].sum() <= 4_000_000 + 1e-6).all()
    # what was kept of it (released, not returned) is covered by what the pre-agreed actions cost
    kept = r.summary["reserve_released_usd"] - r.summary["reserve_returned_usd"]
    assert 0 < kept <= by_trigger["cost_usd"].sum() + 1e-6
    # money never spent is reported: the budget left and the earmarked money left
    assert r.summary["unspent_budget_usd_end"] >= 0 and (money["earmarked_usd"] >= -1e-6).all()


def test_a_reserve_without_a_trigger_changes_nothing():
    """A trigger that cannot fire releases nothing: the run is the same as without a
    reserve, to the bit (pre-arranged money is spent only after a trigger)."""
    never = ["policy.trigger.return_periods=false", "policy.trigger.probability=1.0"]
    a = _fin_run(*never)
    b = _fin_run(*never, "policy.finance.reserve_usd_per_year=0")
    assert a.summary["reserve_released_usd"] == 0.0
    keys = [k for k in a.summary if k != "reserve_released_usd"]
    assert {k: a.summary[k] for k in keys} == {k: b.summary[k] for k in keys}
    assert a.timeseries.equals(b.timeseries)


def test_an_appeal_never_funds_more_than_its_share_and_arrives_late():
    r = hssim.run(hssim.compose(["policy=reactive_siloed", *_FIN]))
    money = r.tables["money"]
    share = 0.5
    asked, got = money["appeal_asked_usd"].cumsum(), money["appeal_received_usd"].cumsum()
    assert r.summary["appeal_asked_usd"] > 0 and r.summary["appeal_received_usd"] > 0
    assert (got <= share * asked + 1e-6).all()
    # nothing arrives before the appeal's delays have passed (2 + 2 months)
    first_ask = int(money.loc[money["appeal_asked_usd"] > 0, "month"].min())
    assert money.loc[money["month"] < first_ask + 4, "appeal_received_usd"].sum() == 0.0
    # with no funding share an appeal brings no money
    none = hssim.run(hssim.compose(["policy=reactive_siloed", *_FIN, "policy.finance.appeal_funding_share=0"]))
    assert none.summary["appeal_received_usd"] == 0.0 and none.summary["appeal_asked_usd"] == 0.0


def test_a_reserve_needs_prearranged_finance():
    with pytest.raises(hssim.ConfigError, match="reserve_usd_per_year"):
        hssim.run(hssim.compose(["policy=reactive_siloed", *_FIN, "policy.finance.reserve_usd_per_year=1000"]))
