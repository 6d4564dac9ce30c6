"""Monthly household update: livelihoods, food, coping, assets, malnutrition, mortality.

The per-household processes are small scalar functions (each checked against a
pure-Python reference in the tests); :func:`household_month` composes them in one
``prange`` loop over communities, so a household's state is read and written once
per month. All draws come from the counter-based stream ``households`` keyed by
tick; slots per household:

====== ==========================================
slot   use
====== ==========================================
0, 1   idiosyncratic harvest shock (normal)
2      adults who find work (binomial, by inversion)
22     malnutrition onset / worsening
23     malnutrition recovery
25     deaths of members aged five and over (binomial, by inversion)
26     births (binomial, by inversion)
27     under-fives who turn five (binomial)
28     older children who turn fifteen (binomial)
29     deaths of under-fives (binomial, by inversion)
====== ==========================================

and, on the separate stream ``households.deaths``, slots ``2j`` (cause) and
``2j + 1`` (who: adult or older child) of the j-th death of the month (under-fives
first). One draw decides how many members die, are born, age or work (inverting
the binomial CDF), so the common case costs one hash, not one per member.

Demography and mortality (per month; district rates from the scenario table, see
:mod:`hssim.households.dynamics`)::

    under-five hazard   h5 = p_u5_base[d] (1 + [MAM] (mam_death_hr - 1) (1 - r_t)
                                            + [SAM] (sam_death_hr - 1) (1 - r_t)) + h_famine
    older hazard        ho = p_old_base[d] + h_famine
    h_famine = famine_excess_cdr x 1e-4 x days x max(0, g - onset) / (phase5_gap - onset)
               if the gap has lasted famine_after_months months or more, else 0,
               g = min(gap, last month's gap) (the sustained level)
    births ~ Binomial(members, p_birth[d])   if an adult is alive (members <= 30)
    under-fives turning five ~ Binomial(u5, 1 / 60); older children turning 15 ~ Binomial(children 5-14, 1 / 120)

with ``r_t`` the treatment programme's ``death_reduction_frac`` (0 untreated) and the
malnutrition state the one the month began with. A death is a baseline death with
probability ``base hazard / hazard``, else a starvation death (acute malnutrition or
famine-level excess).

Indicator sums are integers (people, households, fixed-point milli-units), added to
per-thread rows and summed afterwards: integer addition is exact, so totals are
identical whatever the number of threads.

What interventions deliver (household fields written in the INTERVENTION phase of
the same month, all neutral at 0, where the update is exactly the one without them)
enters the month as::

    cash          += aid_cash_usd                               (also when displaced)
    food stock    += aid_food_kg         after the sale of stock beyond the cap (aid is eaten)
    p_livestock_death *= 1 - livestock_protected
    savings       += savings * return_frac_per_month           savings-group member, month start
    credit limit   = credit_limit_usd + extra_credit_usd       savings-group member (loan fund)
    malnutrition excess hazard *= 1 - death_reduction_frac      under-fives in treatment
    p(MAM -> none) = max(p_recover_mam_treated, [food adequate] p_recover_mam)   in treatment
    p(SAM -> MAM)  = max(p_recover_sam_treated, [food adequate] p_recover_sam)   in treatment

with the programme's constants from ``savings_table[savings_group - 1]`` and
``nutrition_table[nutrition_treated - 1]``. Treatment feeds the child, so recovery
does not need household food; onset and worsening do not change, so a treated child
in a household that still lacks food can relapse (food assistance and nutrition
treatment are complements by mechanism). Treated households use the same draws
(slots 22-23) as untreated ones.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import normal, uniform
from ..sums import (
    N_CELLS,
    N_SUMS,
    S_ASSETS_USD,
    S_BIRTHS,
    S_CONSUMPTION_MILLI,
    S_COPING0,
    S_DEATHS_BASELINE,
    S_DEATHS_STARVATION,
    S_FEAR_PEOPLE_MILLI,
    S_GAP_PEOPLE_MILLI,
    S_HEALTH_ACCESS_PEOPLE_MILLI,
    S_HOUSEHOLDS,
    S_HOUSEHOLDS_BELOW_TRAP,
    S_HOUSEHOLDS_EMERGENCY,
    S_HERD_TLU_MILLI,
    S_SAVINGS_USD,
    S_DEBT_USD,
    S_DISTRESS_LOSS_USD,
    S_HS_BIN0,
    S_HS_PEOPLE_MILLI,
    S_MAL0,
    S_PEOPLE,
    S_PEOPLE_DISPLACED,
    S_PEOPLE_IN_CAMP,
    S_PEOPLE_POOR,
    S_PHASE0,
    SUMS,
    cell_of,
)

__all__ = [
    "SUMS",
    "N_CELLS",
    "N_SUMS",
    "cell_of",
    "livestock_step",
    "wage_income",
    "work_days",
    "binomial_inv",
    "deaths_step",
    "deaths_by_age",
    "famine_hazard",
    "demography_step",
    "food_and_coping",
    "malnutrition_step",
    "ipc_phase",
    "hs_index",
    "household_month",
    "NT_RECOVER_MAM",
    "NT_RECOVER_SAM",
    "NT_DEATH_REDUCTION",
    "SG_RETURN_FRAC",
    "SG_EXTRA_CREDIT_USD",
]

#: columns of the per-livelihood table ``lv_table`` (float64[4, 4])
LV_TRAP_USD, LV_VALUE_CAP_USD, LV_HERD_CAP_TLU, LV_WORK_DAYS = 0, 1, 2, 3
#: columns of ``nutrition_table`` (float64[K, 3]): one row per malnutrition-treatment programme
NT_RECOVER_MAM, NT_RECOVER_SAM, NT_DEATH_REDUCTION = 0, 1, 2
#: columns of ``savings_table`` (float64[K, 2]): one row per savings-group programme
SG_RETURN_FRAC, SG_EXTRA_CREDIT_USD = 0, 1

@nb.njit(cache=True, inline="always")
def livestock_step(herd_tlu, p_death, pasture, growth_frac, herd_cap_tlu, kept):
    """Herd after one month.

    ``herd(t+1) = herd(t) (1 - p_death) + kept herd(t) g min(pasture, 1) (1 - herd(t) / cap)``:
    every herd breeds, slowing as it nears what the household's labour and grazing
    can carry (logistic); ``kept`` in [0, 1] is the share of the young stock the
    household keeps, ``min(1, value / trap)`` at normal prices (the caller): a herd
    below the trap line is too small to feed the family, which eats or sells most of
    its offtake (Lybbert et al. 2004), so it rebuilds slowly, and a herd at or above
    the line keeps all its births. Below the line accumulation is slower (negative
    where ``kept g`` is below the death rate), not impossible: herds regrow from their
    own births in good years (Carter & Barrett 2006: a threshold of slower
    accumulation; restocking through herd growth is how pastoral recovery works).
    """
    room = max(0.0, 1.0 - herd_tlu / herd_cap_tlu) if herd_cap_tlu > 0 else 0.0
    grown = herd_tlu * growth_frac * min(pasture, 1.0) * room * min(max(kept, 0.0), 1.0)
    return herd_tlu * (1.0 - p_death) + grown


@nb.njit(cache=True, inline="always")
def binomial_inv(u, n, p):
    """Binomial(n, p) variate by inversion of the CDF at ``u``: the smallest k with CDF(k) >= u."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    # Bernoulli's inequality: P(0) = q^n >= 1 - n p, so most draws of a rare event stop here
    if u <= 1.0 - n * p:
        return 0
    q = 1.0 - p
    pk = 1.0
    for _ in range(n):
        pk *= q
    cdf = pk
    k = 0
    ratio = p / q
    while u > cdf and k < n:
        pk *= (n - k) / (k + 1) * ratio
        k += 1
        cdf += pk
    return k


@nb.njit(cache=True, inline="always")
def work_days(days_livelihood, value_usd, trap_usd, livelihood, days_destitute):
    """Labour days per adult this month: a rural household whose herd and assets
    (at normal prices) fall below its livelihood's trap line frees the labour they
    tied up and sells it instead, up to ``days_destitute`` with nothing left::

        days = days_lv + max(0, days_destitute - days_lv) x max(0, 1 - value / trap)

    (urban households: their own days). Pastoral "drop-outs" turn to casual work,
    charcoal and petty trade (Little et al. 2001, Avoiding disaster: diversification
    and risk management among East African herders, Development and Change 32:401-433).
    """
    if livelihood == 3 or trap_usd <= 0.0 or value_usd >= trap_usd:
        return days_livelihood
    return days_livelihood + max(0.0, days_destitute - days_livelihood) * (1.0 - value_usd / trap_usd)


@nb.njit(cache=True, inline="always")
def wage_income(adults, work_days, wage_usd_per_day, p_find_work, u):
    """Casual labour income: each adult finds the month's work with ``p_find_work``
    (the number who do is Binomial(adults, p_find_work), drawn by inversion at ``u``)."""
    return binomial_inv(u, adults, p_find_work) * work_days * wage_usd_per_day


@nb.njit(cache=True, inline="always")
def deaths_step(members, u5, adults, p_base, p_all, u_count, key_deaths, i):
    """Deaths of one household in one month.

    Each member dies with ``p_all``; the number who die is Binomial(members, p_all)
    drawn at ``u_count``. Death j is from the baseline with ``p_base / p_all``,
    else from starvation (slot ``2j`` of ``key_deaths``), and takes an under-five,
    an adult or an older child in proportion to those left (slot ``2j + 1``).

    Returns
    -------
    deaths_baseline, deaths_starvation, members, u5, adults : int
    """
    k = binomial_inv(u_count, members, p_all)
    db = 0
    ds = 0
    for j in range(k):
        if uniform(key_deaths, i, 2 * j) * p_all < p_base:
            db += 1
        else:
            ds += 1
        w = uniform(key_deaths, i, 2 * j + 1) * members
        if w < u5:
            u5 -= 1
        elif w < u5 + adults:
            adults -= 1
        members -= 1
    return db, ds, members, u5, adults


@nb.njit(cache=True, inline="always")
def deaths_by_age(u5, members, adults, p5_base, p5_all, po_base, po_all, u_u5, u_old, key_deaths, i):
    """Deaths of one household in one month, under-fives and older members apart.

    ``Binomial(u5, p5_all)`` under-fives die (drawn at ``u_u5``), then
    ``Binomial(members - u5, po_all)`` older members (at ``u_old``). Death j (under-fives
    first) is a baseline death with probability ``p_base / p_all`` of its age group
    (slot ``2j`` of ``key_deaths``), else a starvation death; an older member who dies
    is an adult or an older child in proportion to those left (slot ``2j + 1``).

    Returns
    -------
    deaths_baseline, deaths_starvation, members, u5, adults : int
    """
    k5 = binomial_inv(u_u5, u5, p5_all)
    ko = binomial_inv(u_old, members - u5, po_all)
    db = 0
    ds = 0
    for j in range(k5 + ko):
        if j < k5:
            if uniform(key_deaths, i, 2 * j) * p5_all < p5_base:
                db += 1
            else:
                ds += 1
            u5 -= 1
        else:
            if uniform(key_deaths, i, 2 * j) * po_all < po_base:
                db += 1
            else:
                ds += 1
            if uniform(key_deaths, i, 2 * j + 1) * (members - u5) < adults:
                adults -= 1
        members -= 1
    return db, ds, members, u5, adults


@nb.njit(cache=True, inline="always")
def famine_hazard(gap, gap_last, gap_months, p):
    """Famine-level excess death probability per person per month.

    ``p_famine_excess x max(0, g - famine_gap_onset) / (famine_gap_phase5 - famine_gap_onset)``
    once the household has had a gap for ``famine_after_months`` months in a row, else 0,
    with ``g = min(gap, gap_last)`` (this month's and last month's gap: the level the gap
    has been sustained at; ``g = gap`` when ``famine_after_months`` < 2): zero below the
    phase-4 gap, ``p_famine_excess`` at the phase-5 gap, linear between and beyond
    (capped at a whole month's certain death). A single month of a wide gap after a
    month of a small one is not a sustained famine-level gap.
    """
    level = min(gap, gap_last) if p.famine_after_months >= 2 else gap
    if gap_months < p.famine_after_months or level <= p.famine_gap_onset:
        return 0.0
    x = (level - p.famine_gap_onset) / (p.famine_gap_phase5 - p.famine_gap_onset)
    return min(1.0, p.p_famine_excess * x)


@nb.njit(cache=True, inline="always")
def demography_step(members, u5, adults, p_birth, u_birth, u_age5, u_age15):
    """Births and ageing of one household in one month (after the month's deaths).

    ``Binomial(members, p_birth)`` children are born (at ``u_birth``) while an adult
    is alive and the household has at most 30 members; ``Binomial(u5, 1/60)``
    under-fives turn five (at ``u_age5``: five years in the group) and
    ``Binomial(children aged 5-14, 1/120)`` turn fifteen and count as adults (at
    ``u_age15``: ten years in the group). Counts are those before this month's births.

    Returns
    -------
    births, members, u5, adults : int
    """
    older_children = members - u5 - adults
    to_5 = binomial_inv(u_age5, u5, 1.0 / 60.0)
    to_15 = binomial_inv(u_age15, older_children, 1.0 / 120.0)
    b = binomial_inv(u_birth, members, p_birth) if adults > 0 and members <= 30 else 0
    return b, members + b, u5 - to_5 + b, adults + to_15


@nb.njit(cache=True)  # not inlined: the same speed, seconds less to compile
def food_and_coping(
    need_kg, stock_kg, cash_usd, price, nonfood_usd, savings, debt, value_usd, trap_usd, value_cap_usd,
    support_capacity, members, extra_credit_usd, p
):
    """Feed the household for one month, climbing the coping ladder as needed.

    Order (livelihood-coping and reduced-coping strategies as humanitarian
    assessments use them): own stock, then cash income for food and essential
    non-food. A shortfall is met by

    1. stress: savings, informal support, borrowing (until the debt reaches
       ``credit_limit_usd + extra_credit_usd``); eating a little less
       (up to ``meal_cut_stress_frac`` of need);
    2. crisis: cutting health and education spending by half, selling productive
       assets down to the trap line; fewer meals (up to ``meal_cut_crisis_frac``);
    3. emergency: selling the last productive assets (below the trap line),
       begging and distress migration, then non-food spending down to the survival
       items (``nonfood_survival_frac`` of essential non-food: water, cooking fuel,
       salt, soap; the survival threshold of the Household Economy Approach, whose
       survival deficit is the food gap that remains once all other non-food is given
       up: FEG / Save the Children 2008, The Practitioners' Guide to HEA);

    and what is still missing is not eaten; should that exceed the whole food bill,
    the rest comes out of non-food spending, so nothing is spent that the household
    does not have (money is conserved). A household near or below the trap
    line thus cuts meals before it sells its last assets (asset smoothing, Carter
    & Barrett 2006). A surplus repays debt, is saved, and above the trap line is
    invested until the value cap; below it, savings buy the household back up to the
    line when they suffice (it then invests from there as households above it do),
    and a household below the line saves towards that purchase beyond
    ``savings_cap_months`` of needs (up to the value it lacks).

    Parameters
    ----------
    need_kg : float  food need this month, kg cereal equivalent
    stock_kg : float  own food stock, kg
    cash_usd : float  income this month
    price : float  local cereal price, USD/kg
    nonfood_usd : float  essential non-food need this month, USD
    savings, debt : float  USD
    value_usd : float  productive assets at market value, USD
    trap_usd : float  poverty-trap line for the household's livelihood, USD
    value_cap_usd : float  value above which the household stops investing, USD
    support_capacity : float  in [0, 1]: informal support available in the community
    members : int  people alive
    extra_credit_usd : float  credit beyond ``p.credit_limit_usd`` (a savings group's loan
        fund), USD; 0 for a household outside any group
    p : HouseholdParams  (:func:`hssim.households.dynamics.make_params`)

    Returns
    -------
    adequacy : float  food consumed / need, in [0, 1]
    coping : int  0 none, 1 stress, 2 crisis, 3 emergency
    stock_kg, savings, debt : float  updated
    sold_usd : float  market value of productive assets sold (caller removes them)
    invest_usd : float  cash put into productive assets (caller adds them)
    consumption_usd : float  value of food eaten plus non-food spent
    short : bool  there was a shortfall before informal support
    """
    eat_own = min(stock_kg, need_kg)
    stock_kg -= eat_own
    buy_kg = need_kg - eat_own
    required = buy_kg * price + nonfood_usd
    shortfall = required - cash_usd
    coping = 0
    sold = 0.0
    invest = 0.0
    food_cut_usd = 0.0
    nonfood_spent = nonfood_usd
    short = shortfall > 0.0
    dp = p.distress_price_frac
    if shortfall <= 0.0:
        surplus = -shortfall
        repay = min(debt, surplus * p.debt_repay_frac)
        debt -= repay
        surplus -= repay
        save = surplus * p.save_frac
        savings += save
        surplus -= save
        value_after = value_usd
        if value_usd < trap_usd and savings >= trap_usd - value_usd:
            # a lumpy purchase that lifts the household to the trap line; from there it
            # invests as households above the line do
            invest = trap_usd - value_usd
            savings -= invest
            value_after = trap_usd
        if value_after >= trap_usd and value_after < value_cap_usd:
            more = min(surplus * p.invest_frac, value_cap_usd - value_after)
            invest += more
            surplus -= more
        cap = p.savings_cap_months * required
        if value_after < trap_usd:
            # below the line the household saves towards the purchase that lifts it over
            cap = max(cap, trap_usd - value_after)
        if savings > cap:
            surplus += savings - cap
            savings = cap
        nonfood_spent += surplus
    else:
        food_cost = buy_kg * price
        # 1. stress
        use = min(savings, shortfall)
        if use > 0.0:
            savings -= use
            shortfall -= use
            coping = 1
        support = shortfall * p.support_max_frac * support_capacity
        if support > 0.0:
            shortfall -= support
            coping = 1  # relying on relatives and neighbours is a stress strategy
        if shortfall > 0.0:
            borrow = min(max(p.credit_limit_usd + extra_credit_usd - debt, 0.0), shortfall)
            if borrow > 0.0:
                debt += borrow
                shortfall -= borrow
                coping = 1
        if shortfall > 0.0:
            cut = min(shortfall, p.meal_cut_stress_frac * food_cost)
            food_cut_usd += cut
            shortfall -= cut
            coping = max(coping, 1)
        # 2. crisis
        if shortfall > 0.0:
            coping = 2
            cut = min(shortfall, 0.5 * nonfood_usd)
            nonfood_spent -= cut
            shortfall -= cut
            if dp > 0.0:
                sell = min(p.crisis_sell_frac * value_usd, max(0.0, value_usd - trap_usd), shortfall / dp)
                sold += sell
                shortfall -= sell * dp
            cut = min(shortfall, max(0.0, (p.meal_cut_crisis_frac - p.meal_cut_stress_frac) * food_cost))
            food_cut_usd += cut
            shortfall -= cut
        # 3. emergency
        if shortfall > 1e-9:
            coping = 3
            if dp > 0.0:
                sell = min(p.crisis_sell_frac * (value_usd - sold), shortfall / dp)
                sold += sell
                shortfall -= sell * dp
            shortfall -= min(shortfall, p.emergency_income_usd_per_person * members)
            # before going without food, non-food spending falls to the survival items
            # (water, cooking fuel, salt, soap: HEA's survival threshold)
            cut = min(shortfall, max(0.0, nonfood_spent - p.nonfood_survival_frac * nonfood_usd))
            if cut > 0.0:
                nonfood_spent -= cut
                shortfall -= cut
        food_cut_usd += max(shortfall, 0.0)
        # what is still missing beyond the whole food bill comes out of non-food spending:
        # nothing is spent that the household does not have
        excess = food_cut_usd - food_cost
        if excess > 0.0:
            nonfood_spent = max(0.0, nonfood_spent - excess)
            food_cut_usd = food_cost
    bought_kg = max(0.0, buy_kg - food_cut_usd / price)
    adequacy = min(1.0, (eat_own + bought_kg) / need_kg) if need_kg > 0 else 1.0
    consumption = (eat_own + bought_kg) * price + nonfood_spent
    return adequacy, coping, stock_kg, savings, debt, sold, invest, consumption, short


@nb.njit(cache=True)  # not inlined: the same speed, seconds less to compile
def malnutrition_step(state, gap, gap_months, u_onset, u_recover, p, p_recover_mam_treated=0.0,
                      p_recover_sam_treated=0.0):
    """Acute malnutrition of a household's under-fives: 0 none, 1 MAM, 2 SAM.

    Per month::

        none -> MAM   p_mam_base + [gap months >= 2] p_mam_per_gap gap
        MAM  -> SAM   p_sam_base + p_sam_per_gap gap
        MAM  -> none  max(p_recover_mam_treated, p_recover_mam (1 - gap / recovery_gap_zero)+)
        SAM  -> MAM   max(p_recover_sam_treated, p_recover_sam (1 - gap / recovery_gap_zero)+)

    Untreated recovery slows as the household's consumption gap widens and stops at
    ``recovery_gap_zero``; a treatment programme feeds the child, so its recovery
    does not depend on household food. Onset and worsening are the same treated or
    not. With both treated probabilities 0 (untreated) this is exactly the untreated
    rule. Worsening is drawn before recovery (at ``u_onset``).
    """
    if state == 0:
        p_on = p.p_mam_base + (p.p_mam_per_gap * gap if gap_months >= 2 else 0.0)
        return 1 if u_onset < p_on else 0
    food = max(0.0, 1.0 - gap / p.recovery_gap_zero)
    if state == 1:
        if u_onset < p.p_sam_base + p.p_sam_per_gap * gap:
            return 2
        if u_recover < max(p_recover_mam_treated, p.p_recover_mam * food):
            return 0
        return 1
    if u_recover < max(p_recover_sam_treated, p.p_recover_sam * food):
        return 1
    return 2


@nb.njit(inline="always", cache=True)
def ipc_phase(gap, coping):
    """IPC-like household phase: the worse of a consumption phase and a coping phase.

    consumption gap: 0 -> 1, (0, 5%) -> 2, [5, 20%) -> 3, [20, 50%) -> 4, >= 50% -> 5;
    coping: stress -> 2, crisis -> 3, emergency -> 4.
    """
    if gap >= 0.5:
        c = 5
    elif gap >= 0.2:
        c = 4
    elif gap >= 0.05:
        c = 3
    elif gap > 1e-6:
        c = 2
    else:
        c = 1
    k = coping + 1 if coping > 0 else 1
    return max(c, k)


@nb.njit(cache=True, inline="always")
def hs_index(phase, fear, coping, displaced, health_access):
    """Household human-security index in [0, 1]: the geometric mean of freedom from
    want, from fear, and to live in dignity (non-compensatory, as in the HDI)::

        want    = 1 - (phase - 1) / 4
        fear    = 1 - fear
        dignity = (1 - coping / 3 + [not displaced] + health_access) / 3
    """
    want = 1.0 - (phase - 1) / 4.0
    free = 1.0 - min(max(fear, 0.0), 1.0)
    dignity = (1.0 - coping / 3.0 + (1.0 if displaced == 0 else 0.0) + health_access) / 3.0
    return np.cbrt(want * free * dignity)


@nb.njit(parallel=True, cache=True)
def household_month(
    p,
    key,
    key_deaths,
    comm_start,
    comm_support,
    comm_short,
    comm_active,
    district,
    livelihood,
    female_head,
    marginalised,
    poorest,
    displaced,
    location,
    fear,
    sick,
    members,
    dead,
    dead_start,
    born,
    u5,
    adults,
    land_ha,
    herd_tlu,
    assets_usd,
    savings_usd,
    debt_usd,
    food_stock_kg,
    adequacy,
    cons_pc_day,
    gap_months,
    coping,
    malnutrition,
    ipc,
    aid_cash_usd,
    aid_food_kg,
    livestock_protected,
    nutrition_treated,
    savings_group,
    d_harvest_now,
    d_harvest_yield,
    d_pasture,
    d_p_livestock_death,
    d_livestock_price,
    d_food_price,
    d_labour_demand,
    d_health_access,
    p_birth,
    p_u5_base,
    p_old_base,
    wage_index,
    crop_yield_kg_per_ha,
    lv_table,
    nutrition_table,
    savings_table,
    illness_work_loss_frac,
    treatment_cost_usd,
    displaced_wage_frac,
    acc,
):
    """Advance every household one month and add its indicators to ``acc``.

    Parameters
    ----------
    p : HouseholdParams  (:func:`hssim.households.dynamics.make_params`)
    key : uint64  stream key (``households``, tick)
    key_deaths : uint64  stream key (``households.deaths``, tick)
    comm_start : int64[C+1]  households of community c are ``comm_start[c]:comm_start[c+1]``
    comm_support : float64[C]  informal support capacity in [0, 1] this month
    comm_short, comm_active : int64[C]  out: households short before support / alive
    dead_start : int8[n_households]  ``dead`` at the start of the month, before this month's
        hazard deaths: people alive at the start of the month = members + dead - dead_start
    born : int16[n_households]  children born during the run (in/out)
    district .. ipc : household arrays [n_households] (see hssim.state); ``district`` is the
        origin (indicators are by origin), ``location`` where the household lives now
        (its conditions: prices, labour, pasture, health care)
    aid_cash_usd : float32[n_households]  cash received this month (transfers, insurance
        payouts), USD; added to income, also when displaced
    aid_food_kg : float32[n_households]  in-kind food received this month, kg cereal
        equivalent; added to the stock after the sale of stock beyond the cap
    livestock_protected : float32[n_households]  share of livestock mortality averted this
        month, in [0, 1]
    nutrition_treated : int8[n_households]  0 untreated; k + 1: the under-fives are in
        treatment programme k (row k of ``nutrition_table``) this month
    savings_group : int8[n_households]  0 none; k + 1: member of savings-group programme k
        (row k of ``savings_table``)
    d_* : float64[D]  district conditions this month
    p_birth : float64[D]  births per person per month (crude birth rate), by district of origin
    p_u5_base, p_old_base : float64[D]  baseline death probability per month of an
        under-five and of an older member, by district of origin
    wage_index : float64[D]  casual daily wage where the household lives, relative to
        ``p.wage_usd_per_day``
    crop_yield_kg_per_ha : float  potential yield of one season
    lv_table : float64[4, 4]  per-livelihood constants (see :func:`livelihood_table`)
    nutrition_table : float64[K_nutrition, 3]  per treatment programme: p_recover_mam
        (monthly probability MAM -> none), p_recover_sam (SAM -> MAM), death_reduction_frac
        (share of the SAM child death probability averted); K may be 0
    savings_table : float64[K_savings, 2]  per savings-group programme: return_frac_per_month
        (monthly return on a member's savings), extra_credit_usd (credit beyond
        ``credit_limit_usd``, USD); K may be 0
    illness_work_loss_frac : float  share of a month's work a sick member loses (x coupling strength)
    treatment_cost_usd : float  health spending per sick member who reaches care (x coupling strength)
    displaced_wage_frac : float  wage earnings while displaced, share of a resident's
    acc : int64[n_threads, D, N_CELLS, N_SUMS]  out: indicator sums (zeroed by caller)
    """
    n_comm = comm_start.size - 1
    for c in nb.prange(n_comm):
        tid = nb.get_thread_id()
        n_short = 0
        n_active = 0
        support_capacity = comm_support[c]
        for i in range(comm_start[c], comm_start[c + 1]):
            m = np.int64(members[i])
            # people alive when the month began (hazards earlier this month may have killed some)
            m_month = m + np.int64(dead[i]) - np.int64(dead_start[i])
            if m <= 0:
                if m_month > 0:  # everyone died of a hazard this month: they lived part of it
                    cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], displaced[i])
                    acc[tid, district[i], cell, S_PEOPLE] += m_month
                continue
            m_start = m
            d = district[i]
            loc = location[i]
            lv = livelihood[i]
            away = displaced[i] > 0
            price = d_food_price[loc]
            lprice = d_livestock_price[loc]
            trap = lv_table[lv, LV_TRAP_USD]
            herd = np.float64(herd_tlu[i])
            assets = np.float64(assets_usd[i])
            value_norm = herd * p.livestock_price_norm + assets

            # livestock; feed, water and veterinary care avert a share of the deaths
            p_ls_death = d_p_livestock_death[loc] * (1.0 - livestock_protected[i])
            herd = livestock_step(herd, p_ls_death, d_pasture[loc], p.herd_growth_frac, lv_table[lv, LV_HERD_CAP_TLU],
                                  value_norm / trap if trap > 0.0 else 1.0)

            # income: livestock, assets, wage (cut by illness and displacement), own harvest (at home only)
            need_kg = m * p.need_kg_per_person
            stock = np.float64(food_stock_kg[i])
            cash = herd * p.milk_usd_per_tlu * min(d_pasture[loc], 1.2) + assets * p.asset_return_frac
            demand = d_labour_demand[loc] if lv != 3 else 1.0 - p.urban_labour_exposure * (1.0 - d_labour_demand[loc])
            wage = wage_income(adults[i], work_days(lv_table[lv, LV_WORK_DAYS], value_norm, trap, lv, p.work_days_destitute),
                               p.wage_usd_per_day * wage_index[loc], p.p_work * demand, uniform(key, i, 2))
            n_sick = min(np.int64(sick[i]), m)
            wage *= 1.0 - illness_work_loss_frac * n_sick / m
            if away:
                wage *= displaced_wage_frac
            cash += wage
            cash += aid_cash_usd[i]  # transfers and payouts, wherever the household lives
            if d_harvest_now[d] > 0.0 and land_ha[i] > 0.0 and not away:
                z = normal(key, i, 0)
                shock = np.exp(p.harvest_cv * z - 0.5 * p.harvest_cv * p.harvest_cv)
                stock += land_ha[i] * crop_yield_kg_per_ha * d_harvest_yield[d] * shock
            stock_cap = p.food_stock_max_months * need_kg
            if stock > stock_cap:
                cash += (stock - stock_cap) * price * p.farmgate_price_frac
                stock = stock_cap
            # in-kind food aid is eaten, not sold: it comes after the sale beyond the cap
            stock += aid_food_kg[i]
            health = d_health_access[loc]

            # savings group: the group's lending returns are added at the start of the
            # month; its loan fund raises the member's credit limit
            sav = np.float64(savings_usd[i])
            extra_credit = 0.0
            sg = np.int64(savings_group[i])
            if sg > 0:
                sav += sav * savings_table[sg - 1, SG_RETURN_FRAC]
                extra_credit = savings_table[sg - 1, SG_EXTRA_CREDIT_USD]

            # food and coping
            value = herd * lprice + assets
            adeq, cope, stock, sav, debt, sold, invest, cons, short = food_and_coping(
                need_kg,
                stock,
                cash,
                price,
                m * p.nonfood_usd_per_person + n_sick * treatment_cost_usd * health,
                sav,
                np.float64(debt_usd[i]),
                value,
                trap,
                lv_table[lv, LV_VALUE_CAP_USD],
                support_capacity,
                m,
                extra_credit,
                p,
            )
            if sold > 0.0 and value > 0.0:
                keep = max(0.0, 1.0 - sold / value)
                herd *= keep
                assets *= keep
            if invest > 0.0:
                if lv == 0 and lprice > 0.0:
                    herd += invest / lprice  # pastoralists restock
                else:
                    assets += invest
            assets *= 1.0 - p.asset_depreciation_frac
            gap = 1.0 - adeq
            gm = min(np.int64(gap_months[i]) + 1, 100) if gap > 0.01 else 0

            # mortality (by age; the malnutrition state the month began with), then
            # acute malnutrition of the under-fives left, then births and ageing
            mal = np.int64(malnutrition[i])
            n_u5 = np.int64(u5[i])
            n_ad = np.int64(adults[i])
            rec_mam_t = 0.0
            rec_sam_t = 0.0
            keep_excess = 1.0
            nt = np.int64(nutrition_treated[i])
            if nt > 0 and n_u5 > 0:
                rec_mam_t = nutrition_table[nt - 1, NT_RECOVER_MAM]
                rec_sam_t = nutrition_table[nt - 1, NT_RECOVER_SAM]
                keep_excess = 1.0 - nutrition_table[nt - 1, NT_DEATH_REDUCTION]
            h_fam = famine_hazard(gap, 1.0 - np.float64(adequacy[i]), gm, p)
            p5_base = p_u5_base[d]
            hr = 1.0
            if mal == 1:
                hr = 1.0 + (p.mam_death_hr - 1.0) * keep_excess
            elif mal == 2:
                hr = 1.0 + (p.sam_death_hr - 1.0) * keep_excess
            p5_all = min(1.0, p5_base * hr + h_fam)
            po_base = p_old_base[d]
            po_all = min(1.0, po_base + h_fam)
            deaths_b, deaths_s, m, n_u5, n_ad = deaths_by_age(
                n_u5, m, n_ad, p5_base, p5_all, po_base, po_all, uniform(key, i, 29), uniform(key, i, 25), key_deaths, i
            )
            if n_u5 > 0:
                u_rec = uniform(key, i, 23) if mal > 0 else 1.0  # only drawn when it can matter
                mal = malnutrition_step(mal, gap, gm, uniform(key, i, 22), u_rec, p, rec_mam_t, rec_sam_t)
            births = 0
            if m > 0:
                births, m, n_u5, n_ad = demography_step(
                    m, n_u5, n_ad, p_birth[d], uniform(key, i, 26), uniform(key, i, 27), uniform(key, i, 28)
                )
            if n_u5 == 0:
                mal = 0
            phase = ipc_phase(gap, cope)
            hs = hs_index(phase, fear[i], cope, displaced[i], health)

            # write back
            members[i] = m
            if deaths_b + deaths_s > 0:
                dead[i] += deaths_b + deaths_s
            if births > 0:
                born[i] += births
            u5[i] = n_u5
            adults[i] = n_ad
            herd_tlu[i] = herd
            assets_usd[i] = assets
            savings_usd[i] = sav
            debt_usd[i] = debt
            food_stock_kg[i] = stock
            adequacy[i] = adeq
            pc = cons / (m_start * p.days_per_month)
            cons_pc_day[i] = pc
            gap_months[i] = gm
            coping[i] = cope
            malnutrition[i] = mal
            ipc[i] = phase

            # indicators: people counted as at the start of the month (they lived it)
            cell = cell_of(female_head[i], marginalised[i], poorest[i], lv, displaced[i])
            a = acc[tid, d, cell]
            a[S_HOUSEHOLDS] += 1
            a[S_PEOPLE] += m_month
            a[S_PHASE0 + phase] += m_month
            a[S_COPING0 + cope] += m_month
            a[S_MAL0 + mal] += n_u5
            if pc < p.poverty_line_usd_per_person_day:
                a[S_PEOPLE_POOR] += m_month
            a[S_DEATHS_BASELINE] += deaths_b
            a[S_DEATHS_STARVATION] += deaths_s
            a[S_BIRTHS] += births
            a[S_GAP_PEOPLE_MILLI] += np.int64(m_month * gap * 1000.0 + 0.5)
            a[S_ASSETS_USD] += np.int64(herd * lprice + assets + 0.5)
            a[S_HERD_TLU_MILLI] += np.int64(herd * 1000.0 + 0.5)
            a[S_SAVINGS_USD] += np.int64(sav + 0.5)
            a[S_DEBT_USD] += np.int64(debt + 0.5)
            if sold > 0.0:  # distress sales: the part of the assets' value the sale did not fetch
                a[S_DISTRESS_LOSS_USD] += np.int64(sold * (1.0 - p.distress_price_frac) + 0.5)
            if herd * p.livestock_price_norm + assets < trap:
                a[S_HOUSEHOLDS_BELOW_TRAP] += 1
            a[S_CONSUMPTION_MILLI] += np.int64(m_month * pc * 1000.0 + 0.5)
            if cope == 3:
                a[S_HOUSEHOLDS_EMERGENCY] += 1
            if away:
                a[S_PEOPLE_DISPLACED] += m_month
                if displaced[i] == 2:
                    a[S_PEOPLE_IN_CAMP] += m_month
            a[S_FEAR_PEOPLE_MILLI] += np.int64(m_month * fear[i] * 1000.0 + 0.5)
            a[S_HEALTH_ACCESS_PEOPLE_MILLI] += np.int64(m_month * health * 1000.0 + 0.5)
            a[S_HS_PEOPLE_MILLI] += np.int64(m_month * hs * 1000.0 + 0.5)
            a[S_HS_BIN0 + min(np.int64(hs * 10.0), 9)] += m_month
            n_active += 1
            if short:
                n_short += 1
        comm_short[c] = n_short
        comm_active[c] = n_active
