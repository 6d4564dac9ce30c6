"""The monthly household kernel against a plain-Python reference of its composition.

The scalar processes (coping ladder, livestock, malnutrition, deaths, draws) are
checked against independent references in test_household_kernels.py; here the
reference composes their pure-Python versions (``.py_func``) in the documented
order, household by household, and must reproduce the parallel kernel's state and
indicator sums exactly (up to float32 storage).
"""

from __future__ import annotations

import numpy as np
import pytest

import hssim
from hssim import rng
from hssim.config.build import build_engine
from hssim.kernels import household as K

def _mix(z):
    mask = (1 << 64) - 1
    z &= mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def uniform_ref(key, i, slot):
    x = _mix(int(key) + (i * rng.N_SLOTS + slot) * 0x9E3779B97F4A7C15)
    return ((x >> 12) + 0.5) * 2.0**-52


def normal_ref(key, i, slot):
    import math

    u1, u2 = uniform_ref(key, i, slot), uniform_ref(key, i, slot + 1)
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


S = {n: j for j, n in enumerate(K.SUMS)}


def reference_month(p, key, key_deaths, comm_start, comm_support, h, dist, crop_yield, lv, n_cells, n_sums,
                    illness_loss=0.0, treat_cost=0.0, displaced_wage=1.0, nutrition_table=(), savings_table=(),
                    rates=None, wage_index=None):
    """Pure-Python monthly update; returns (state dict, acc[D, cells, sums], short[C], active[C]).

    Intervention inputs are read from ``h`` (``aid_cash_usd, aid_food_kg,
    livestock_protected, nutrition_treated, savings_group``) with the programmes'
    rows in ``nutrition_table`` and ``savings_table``; ``rates`` = (p_birth, p_u5_base,
    p_old_base) by district, ``wage_index`` the districts' wage relative to the reference.
    """
    D = len(dist["food_price"])
    acc = np.zeros((D, n_cells, n_sums), np.int64)
    C = len(comm_start) - 1
    short_c = np.zeros(C, np.int64)
    active_c = np.zeros(C, np.int64)
    food = K.food_and_coping.py_func
    for c in range(C):
        for i in range(comm_start[c], comm_start[c + 1]):
            m = int(h["members"][i])
            if m <= 0:
                continue
            m0 = m
            d, l = int(h["district"][i]), int(h["livelihood"][i])
            loc, away = int(h["location"][i]), h["displaced"][i] > 0
            price, lprice = dist["food_price"][loc], dist["livestock_price"][loc]
            trap, cap_value, cap_herd, days = lv[l]
            herd, assets = float(h["herd_tlu"][i]), float(h["assets_usd"][i])
            herd0 = herd
            kept = (herd * p.livestock_price_norm + assets) / trap if trap > 0 else 1.0  # share of births kept
            p_ls_death = dist["p_ls_death"][loc] * (1.0 - float(h["livestock_protected"][i]))
            herd = K.livestock_step.py_func(herd, p_ls_death, dist["pasture"][loc], p.herd_growth_frac, cap_herd, kept)
            need = m * p.need_kg_per_person
            stock = float(h["food_stock_kg"][i])
            cash = herd * p.milk_usd_per_tlu * min(dist["pasture"][loc], 1.2) + assets * p.asset_return_frac
            demand = dist["labour"][loc] if l != 3 else 1 - p.urban_labour_exposure * (1 - dist["labour"][loc])
            n_work = K.binomial_inv.py_func(uniform_ref(key, i, 2), int(h["adults"][i]), p.p_work * demand)
            value_norm = herd0 * p.livestock_price_norm + assets
            if l != 3 and trap > 0 and value_norm < trap:  # labour freed below the trap line
                days = days + max(0.0, p.work_days_destitute - days) * (1 - value_norm / trap)
            sick = min(int(h["sick"][i]), m)
            wage = n_work * days * p.wage_usd_per_day * wage_index[loc] * (1 - illness_loss * sick / m)
            cash += wage * (displaced_wage if away else 1.0)
            cash += float(h["aid_cash_usd"][i])  # transfers, also when displaced
            if dist["harvest_now"][d] > 0 and h["land_ha"][i] > 0 and not away:
                z = normal_ref(key, i, 0)
                stock += float(h["land_ha"][i]) * crop_yield * dist["harvest_yield"][d] * np.exp(p.harvest_cv * z - 0.5 * p.harvest_cv**2)
            if stock > p.food_stock_max_months * need:
                cash += (stock - p.food_stock_max_months * need) * price * p.farmgate_price_frac
                stock = p.food_stock_max_months * need
            stock += float(h["aid_food_kg"][i])  # food aid is not sold with the surplus harvest
            savings, extra_credit = float(h["savings_usd"][i]), 0.0
            if h["savings_group"][i] > 0:
                ret, extra_credit = savings_table[int(h["savings_group"][i]) - 1]
                savings += savings * ret
            value = herd * lprice + assets
            adeq, cope, stock, sav, debt, sold, invest, cons, short = food(
                need, stock, cash, price, m * p.nonfood_usd_per_person + sick * treat_cost * dist["health"][loc],
                savings, float(h["debt_usd"][i]),
                value, trap, cap_value, comm_support[c], m, extra_credit, p,
            )
            if sold > 0 and value > 0:
                keep = max(0.0, 1 - sold / value)
                herd, assets = herd * keep, assets * keep
            if invest > 0:
                if l == 0 and lprice > 0:
                    herd += invest / lprice
                else:
                    assets += invest
            assets *= 1 - p.asset_depreciation_frac
            gap = 1 - adeq
            gm = min(int(h["gap_months"][i]) + 1, 100) if gap > 0.01 else 0
            mal, u5, ad = int(h["malnutrition"][i]), int(h["u5"][i]), int(h["adults"][i])
            db = ds = 0
            # mortality by age with the state the month began with; malnutrition; births and ageing
            rec, keep = (0.0, 0.0), 1.0
            if h["nutrition_treated"][i] > 0 and u5 > 0:
                rec_mam, rec_sam, reduction = nutrition_table[int(h["nutrition_treated"][i]) - 1]
                rec, keep = (rec_mam, rec_sam), 1.0 - reduction
            h_fam = 0.0
            level = min(gap, 1.0 - float(h["adequacy"][i])) if p.famine_after_months >= 2 else gap  # sustained gap
            if gm >= p.famine_after_months and level > p.famine_gap_onset:
                h_fam = min(1.0, p.p_famine_excess * (level - p.famine_gap_onset) / (p.famine_gap_phase5 - p.famine_gap_onset))
            hr = {0: 1.0, 1: 1.0 + (p.mam_death_hr - 1) * keep, 2: 1.0 + (p.sam_death_hr - 1) * keep}[mal]
            p5b, pob = float(rates[1][d]), float(rates[2][d])
            p5, po = min(1.0, p5b * hr + h_fam), min(1.0, pob + h_fam)
            k5 = K.binomial_inv.py_func(uniform_ref(key, i, 29), u5, p5)
            ko = K.binomial_inv.py_func(uniform_ref(key, i, 25), m - u5, po)
            for j in range(k5 + ko):
                young = j < k5
                pa, pb = (p5, p5b) if young else (po, pob)
                if uniform_ref(key_deaths, i, 2 * j) * pa < pb:
                    db += 1
                else:
                    ds += 1
                if young:
                    u5 -= 1
                elif uniform_ref(key_deaths, i, 2 * j + 1) * (m - u5) < ad:
                    ad -= 1
                m -= 1
            if u5 > 0:
                u_rec = uniform_ref(key, i, 23) if mal > 0 else 1.0
                mal = K.malnutrition_step.py_func(mal, gap, gm, uniform_ref(key, i, 22), u_rec, p, *rec)
            births = 0
            if m > 0:
                older = m - u5 - ad
                to5 = K.binomial_inv.py_func(uniform_ref(key, i, 27), u5, 1 / 60)
                to15 = K.binomial_inv.py_func(uniform_ref(key, i, 28), older, 1 / 120)
                if ad > 0 and m <= 30:
                    births = K.binomial_inv.py_func(uniform_ref(key, i, 26), m, float(rates[0][d]))
                m, u5, ad = m + births, u5 - to5 + births, ad + to15
            if u5 == 0:
                mal = 0
            phase = K.ipc_phase.py_func(gap, cope)
            health = dist["health"][loc]
            want, free = 1 - (phase - 1) / 4, 1 - min(max(float(h["fear"][i]), 0.0), 1.0)
            dignity = (1 - cope / 3 + (1.0 if h["displaced"][i] == 0 else 0.0) + health) / 3
            hs = (want * free * dignity) ** (1 / 3)
            pc = cons / (m0 * p.days_per_month)
            h["members"][i], h["dead"][i], h["u5"][i], h["adults"][i] = m, h["dead"][i] + db + ds, u5, ad
            h["born"][i] += births
            h["herd_tlu"][i], h["assets_usd"][i], h["savings_usd"][i], h["debt_usd"][i] = herd, assets, sav, debt
            h["food_stock_kg"][i], h["adequacy"][i], h["consumption_usd_pc_day"][i] = stock, adeq, pc
            h["gap_months"][i], h["coping"][i], h["malnutrition"][i], h["ipc_phase"][i] = gm, cope, mal, phase
            cell = int(h["female_head"][i]) + 2 * int(h["marginalised"][i]) + 4 * int(h["poorest_quintile"][i]) + 8 * l
            cell += 32 * (h["displaced"][i] > 0)
            a = acc[d, cell]
            a[S["households"]] += 1
            a[S["people"]] += m0
            a[S[f"people_phase{phase}"]] += m0
            a[S[f"people_coping{cope}"]] += m0
            a[S[f"u5_mal{mal}"]] += u5
            a[S["people_poor"]] += m0 if pc < p.poverty_line_usd_per_person_day else 0
            a[S["deaths_baseline"]] += db
            a[S["deaths_starvation"]] += ds
            a[S["births"]] += births
            a[S["gap_people_milli"]] += int(m0 * gap * 1000 + 0.5)
            a[S["assets_usd"]] += int(herd * lprice + assets + 0.5)
            a[S["herd_tlu_milli"]] += int(herd * 1000.0 + 0.5)
            a[S["savings_usd"]] += int(sav + 0.5)
            a[S["debt_usd"]] += int(debt + 0.5)
            a[S["distress_loss_usd"]] += int(sold * (1.0 - p.distress_price_frac) + 0.5) if sold > 0 else 0
            a[S["households_below_trap"]] += herd * p.livestock_price_norm + assets < trap
            a[S["consumption_milli"]] += int(m0 * pc * 1000 + 0.5)
            a[S["households_emergency"]] += cope == 3
            if away:
                a[S["people_displaced"]] += m0
                a[S["people_in_camp"]] += m0 if h["displaced"][i] == 2 else 0
            a[S["fear_people_milli"]] += int(m0 * float(h["fear"][i]) * 1000 + 0.5)
            a[S["health_access_people_milli"]] += int(m0 * health * 1000 + 0.5)
            a[S["hs_people_milli"]] += int(m0 * hs * 1000 + 0.5)
            a[S[f"people_hs_bin{min(int(hs * 10), 9)}"]] += m0
            active_c[c] += 1
            short_c[c] += bool(short)
    return h, acc, short_c, active_c


@pytest.mark.parametrize("setting", ["normal", "drought_harvest", "interventions"])
def test_household_month_matches_python_reference(setting):
    engine = build_engine(hssim.compose(["population.households=400", "population.households_per_community=40", "months=8", "spinup_months=0"]))
    engine.init()
    for _ in range(5):  # varied state: stocks, debts, gaps, malnutrition
        engine.step()
    H = next(m for m in engine.modules if m.name == "households")
    hh, ds = engine.households, engine.districts
    D = engine.scenario.n_districts
    dist = {
        "food_price": ds.food_price_usd_per_kg.copy(),
        "livestock_price": ds.livestock_price_usd.copy(),
        "p_ls_death": ds.p_livestock_death.copy(),
        "pasture": ds.pasture_index.copy(),
        "labour": ds.labour_demand.copy(),
        "harvest_now": ds.harvest_now.copy(),
        "harvest_yield": ds.harvest_yield_frac.copy(),
        "health": ds.health_access_eff.copy(),
    }
    # some households displaced (hosted and in camps), afraid and sick, to exercise those paths
    sel = np.arange(hh.n)
    hh.location[sel % 7 == 0] = (hh.district[sel % 7 == 0] + 1) % D
    hh.displaced[sel % 7 == 0] = 1 + (sel[sel % 7 == 0] % 2)
    hh.fear[:] = (sel % 10) / 10.0
    hh.sick[:] = np.minimum(sel % 3, hh.members)
    if setting in ("drought_harvest", "interventions"):
        dist["harvest_now"][:] = 1.0
        dist["harvest_yield"][:] = np.linspace(0.0, 0.8, D)
        dist["pasture"][:] = np.linspace(0.05, 0.6, D)
        dist["p_ls_death"][:] = 0.1
        dist["food_price"][:] *= 2.5
        dist["labour"][:] = 0.4
    nutrition_table, savings_table = np.zeros((0, 3)), np.zeros((0, 2))
    if setting == "interventions":
        # every delivery on a different subset, so the paths cross (cash and food, treated and fed, ...)
        hh.aid_cash_usd[:] = np.where(sel % 3 == 0, 25.0, 0.0)
        hh.aid_food_kg[:] = np.where(sel % 4 == 1, 60.0, 0.0)
        hh.livestock_protected[:] = np.where(sel % 5 < 2, 0.5 + 0.5 * (sel % 5), 0.0)
        hh.nutrition_treated[:] = np.where(hh.malnutrition > 0, 1 + sel % 2, 0)
        hh.savings_group[:] = np.where(sel % 6 < 2, 1 + sel % 6, 0)
        hh.debt_usd[sel % 6 == 1] = 60.0  # at the informal credit limit: the group's fund lends
        nutrition_table = np.array([[0.6, 0.5, 0.7], [0.2, 0.1, 0.0]])
        savings_table = np.array([[0.02, 0.0], [0.01, 40.0]])
    support = np.linspace(0.0, 1.0, len(H.comm_start) - 1)
    # demographic rates well above the scenario's, so that births, ageing and deaths happen in one month
    rates = (np.full(D, 0.05), np.linspace(0.01, 0.05, D), np.full(D, 0.02))
    wage_index = np.linspace(0.5, 2.0, D)  # wages differ by where the household lives
    key, key_d = rng.stream_key(3, "households", 77), rng.stream_key(3, "households.deaths", 77)
    names = [f.name for f in engine.households.specs.values()]
    ref_state = {n: hh[n].copy() for n in names}
    acc = np.zeros_like(H.acc)
    short, active = np.zeros_like(H.comm_short), np.zeros_like(H.comm_active)
    K.household_month(
        H.params, key, key_d, H.comm_start, support, short, active,
        hh.district, hh.livelihood, hh.female_head, hh.marginalised, hh.poorest_quintile, hh.displaced, hh.location,
        hh.fear, hh.sick, hh.members, hh.dead, hh.dead.copy(), hh.born, hh.u5,
        hh.adults, hh.land_ha, hh.herd_tlu, hh.assets_usd, hh.savings_usd, hh.debt_usd, hh.food_stock_kg, hh.adequacy,
        hh.consumption_usd_pc_day, hh.gap_months, hh.coping, hh.malnutrition, hh.ipc_phase,
        hh.aid_cash_usd, hh.aid_food_kg, hh.livestock_protected, hh.nutrition_treated, hh.savings_group,
        dist["harvest_now"], dist["harvest_yield"], dist["pasture"], dist["p_ls_death"], dist["livestock_price"],
        dist["food_price"], dist["labour"], dist["health"], rates[0], rates[1], rates[2], wage_index,
        H.crop_yield, H.lv_table, nutrition_table, savings_table,
        0.3, 2.0, 0.6, acc,
    )
    lv = [tuple(row) for row in H.lv_table]
    ref, ref_acc, ref_short, ref_active = reference_month(
        H.params, key, key_d, H.comm_start, support, ref_state, dist, H.crop_yield, lv, K.N_CELLS, K.N_SUMS,
        illness_loss=0.3, treat_cost=2.0, displaced_wage=0.6, nutrition_table=nutrition_table,
        savings_table=savings_table, rates=rates, wage_index=wage_index,
    )
    for n in names:
        if np.issubdtype(hh[n].dtype, np.integer):
            np.testing.assert_array_equal(hh[n], ref[n], err_msg=n)
        else:
            np.testing.assert_allclose(hh[n], ref[n], rtol=2e-6, atol=1e-6, err_msg=n)
    np.testing.assert_array_equal(short, ref_short)
    np.testing.assert_array_equal(active, ref_active)
    got = acc.sum(axis=0)
    # fixed-point sums may differ by one unit per household where float32 rounding crosses .5
    S = {n: j for j, n in enumerate(K.SUMS)}
    milli = ("gap_people_milli", "assets_usd", "consumption_milli", "fear_people_milli", "health_access_people_milli",
             "hs_people_milli", "herd_tlu_milli", "savings_usd", "debt_usd", "distress_loss_usd")
    exact = [j for n, j in S.items() if n not in milli and not n.startswith("people_hs_bin")]
    np.testing.assert_array_equal(got[..., exact], ref_acc[..., exact])
    for n in milli:
        np.testing.assert_allclose(got[..., S[n]], ref_acc[..., S[n]], atol=hh.n, rtol=1e-6)
    # a household at a bin edge may fall either side by float rounding: totals agree exactly
    bins = [S[f"people_hs_bin{k}"] for k in range(10)]
    np.testing.assert_array_equal(got[..., bins].sum(axis=-1), ref_acc[..., bins].sum(axis=-1))
    assert np.abs(got[..., bins] - ref_acc[..., bins]).sum() <= 0.01 * got[..., bins].sum()
    # the case exercises the interesting branches
    assert set(np.unique(hh.coping)) >= {0, 1, 2} and (hh.malnutrition > 0).any()
    assert got[..., S["births"]].sum() > 0 and got[..., S["deaths_baseline"]].sum() > 0
    if setting != "normal":
        assert (hh.coping == 3).any()
    if setting == "interventions":
        # the savings groups' fund lent beyond the informal limit, and treatment was given
        assert (hh.debt_usd > H.params.credit_limit_usd + 1.0).any()
        assert (hh.nutrition_treated > 0).any()
