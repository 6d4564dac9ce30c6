"""An idiomatic Mesa peer of hssim's household core (drought -> food system -> households).

This is hssim's drought hazard, food system and household dynamics written the way
a Mesa user would write them: a :class:`mesa.Model` subclass that holds the
district-level state in plain NumPy, one :class:`mesa.Agent` per household with a
``step()`` in plain Python, ``model.agents.shuffle_do("step")``, Mesa's
``model.random`` / ``model.rng`` for every draw, and a :class:`mesa.DataCollector`
with model reporters. No numba, and no hssim kernel does the peer's work: the peer
only *reads* hssim's validated configuration and scenario tables (so both sides use
identical parameter values) and re-implements the logic. It exists for two things:
a side-by-side speed benchmark (``benchmarks/bench_mesa_peer.py``) and a statistical
agreement test (``tests/test_mesa_peer.py``) that checks that the engine simulates
what its documentation says it simulates.

Correspondence with hssim's modules (the engine configured with
``hazards.conflict.enabled=false hazards.disease.enabled=false
displacement.enabled=false policy=none``, see :data:`DROUGHT_ONLY`):

=====================================  =============================================
hssim                                  this file
=====================================  =============================================
``hazards/drought.py`` DroughtProcess  :class:`RainfallField` (Model-owned, NumPy)
``couplings/food_system.py``           :meth:`DroughtHouseholdModel.food_system`
``households/dynamics.py`` init,       :meth:`DroughtHouseholdModel._create_households`
``kernels/init.py`` init_households    and :meth:`Household.__init__`
``kernels/household.py``               :meth:`Household.step` (+ ``_feed``,
household_month, food_and_coping,      ``_malnutrition``) and the model's
malnutrition_step, ipc_phase, ...      informal-support bookkeeping
``sums.py`` / ``results.py``           :meth:`DroughtHouseholdModel.tally` and the
                                       DataCollector's model reporters
=====================================  =============================================

Same equations, same parameter values, same order within a month (climate, food
system, households; informal support capacity from last month's community
shortfalls), same calendar, spin-up, storyline forcing and indicator definitions
(people-weighted shares counted with the members alive at the start of the month).

Known differences (all statistical, none in the model's equations):

* **Random numbers.** hssim draws from a counter-based hash stream; the peer draws
  from Mesa's ``model.random`` (Python's Mersenne Twister) and ``model.rng`` (NumPy
  PCG64), both seeded by ``seed``. The same seed therefore gives a *different
  realisation of the same stochastic model*: agreement is statistical, never bit
  for bit.
* **Drought field.** Exact replication of the engine's spatially correlated
  rainfall field would need its hash stream; the peer implements the same
  statistical model instead (regional AR(1) driver, district AR(1) noise with
  innovations correlated as ``exp(-dist / correlation_length)`` through a Cholesky
  factor, the same weights, stationary start, trend, storyline forcing and the
  same climatology-weighted SPI standardised with its exact stationary variance),
  so means, variances, lag and cross-district correlations are those of the
  engine. ``anomaly=`` lets a caller feed an exogenous anomaly series instead (the
  agreement test feeds the engine's own series, so that both sides see the same
  drought and differ only in household-level draws).
* **Binomial draws.** The engine draws "adults who find work" and "members who
  die" by inverting the binomial CDF with one uniform; the peer flips one coin per
  adult / member (same distribution).
* **Poisson draw** of the household size: NumPy's ``rng.poisson`` instead of the
  engine's CDF inversion (same distribution).
* **Precision.** The engine stores continuous household state in float32 and
  rounds indicator sums to integers (milli-units, whole USD); the peer keeps Python
  floats (float64) and sums floats. Differences are of order 1e-7 relative.
* **Modules off.** Conflict, disease, displacement, interventions and policy are
  not implemented: with them off in the engine, conflict events are 0 (no market
  disruption, health access as in the scenario), nobody is sick, nobody is
  displaced, and every intervention field is 0, so the corresponding terms of the
  household kernel are exactly neutral and are left out here. Fear is 0, so the
  human-security index (not reported here) is not computed. The peer refuses a
  config in which any of these is on.
* **Households that die out** stay in the model as inactive agents (the engine
  also keeps them, skipping them each month); none are removed.

The district- and household-level constants that ``hssim/households/dynamics.py``
hard-codes (share of non-head members who are children, of children under five;
land valued at 500 USD/ha for the poorest-quintile ranking) are copied below; the
agreement test checks that they still match hssim's.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import mesa
import numpy as np

from hssim.households.dynamics import demographic_rates  # setup only: rates from the scenario table

__all__ = [
    "DROUGHT_ONLY",
    "LAND_VALUE_USD_PER_HA",
    "OUTCOMES",
    "P_CHILD",
    "P_U5_OF_CHILD",
    "DroughtHouseholdModel",
    "Household",
    "RainfallField",
    "allocate",
    "engine_anomaly",
    "engine_outcomes",
    "load",
    "peer_outcomes",
]

#: Hydra overrides that turn hssim into what the peer implements
DROUGHT_ONLY = (
    "hazards.conflict.enabled=false",
    "hazards.disease.enabled=false",
    "displacement.enabled=false",
    "policy=none",
)

# copied from hssim/households/dynamics.py (checked by tests/test_mesa_peer.py)
P_CHILD = 0.55  # share of non-head members who are children
P_U5_OF_CHILD = 0.35  # share of children who are under five
LAND_VALUE_USD_PER_HA = 500.0  # land value in the poorest-quintile wealth ranking

PASTORAL, AGROPASTORAL, CROP, URBAN = 0, 1, 2, 3

#: per-month outcomes reported by both sides (DataCollector model reporters here)
OUTCOMES = (
    "ipc3plus_frac",  # people in IPC-like phase 3+ / people
    "poverty_frac",  # people below the consumption poverty line / people
    "negative_coping_frac",  # people in households using crisis or emergency coping / people
    "consumption_gap",  # mean food consumption gap per person
    "acute_malnutrition_frac",  # malnourished under-fives / under-fives
    "deaths",  # deaths in the month
    "assets_usd_per_household",  # productive assets at market value / households alive
    "below_trap_frac",  # households below the poverty-trap line / households alive
    "people",  # people alive at the start of the month
    "drought_districts",  # districts in drought (SPI-like index <= threshold)
    "food_price_usd_per_kg",  # mean over districts
    "production_index",  # mean over districts
    "pasture_index",  # mean over districts
)


# -- configuration -------------------------------------------------------------------------
def load(cfg: Any = None, overrides: list[str] | tuple[str, ...] = ()):
    """Validated ``(Config, Scenario)`` for a drought-only run.

    Parameters
    ----------
    cfg : DictConfig, mapping or hssim Config, optional
        a composed config; default: ``hssim.compose(DROUGHT_ONLY + overrides)``
    overrides : list of str  Hydra overrides (only when ``cfg`` is None)

    Raises
    ------
    ValueError  if a module the peer does not implement is switched on.
    """
    from hssim.config.build import prepare

    if cfg is None:
        import hssim

        cfg = hssim.compose([*DROUGHT_ONLY, *overrides])
    cfg, scenario = prepare(cfg)
    on = [name for name, h in cfg.hazards.items() if h.kind != "drought" and h.enabled]
    if cfg.displacement.enabled:
        on.append("displacement")
    if cfg.policy.enabled:
        on.append("policy")
    if on:
        raise ValueError(f"the Mesa peer implements the drought-only model; switch off: {', '.join(on)}")
    return cfg, scenario


def allocate(total: int, weights) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder,
    exact rational shares, ties to the lower index) -- as hssim allocates households."""
    w = [Fraction(float(x)) for x in weights]
    wsum = sum(w)
    exact = [total * x / wsum for x in w]
    counts = [int(e) for e in exact]
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# -- drought hazard ------------------------------------------------------------------------
class RainfallField:
    """Monthly district rainfall anomalies and the SPI-like index (NumPy, Model-owned).

    The same statistical model as ``hssim.hazards.drought``::

        r(t)    = phi_r r(t-1) + sqrt(1 - phi_r^2) eps(t)           regional driver
        e(t)    = phi_d e(t-1) + sqrt(1 - phi_d^2) L z(t),  L L' = exp(-dist / ell)
        a(t)    = mu(t) + s(t) (sqrt(w) r(t) + sqrt(1 - w) e(t))     or a forced value
        spi(t)  = sum_j c(t-j) a(t-j) / sd,  j < k,  c = clim + 5% of the monthly mean

    with ``sd`` the exact standard deviation of the weighted sum (lag correlation
    ``w phi_r^h + (1 - w) phi_d^h``); before ``k`` months are known the months seen so
    far are used. Draws from the model's NumPy generator.
    """

    def __init__(self, dcfg, xy_km: np.ndarray, clim: np.ndarray, rng: np.random.Generator):
        self.cfg = dcfg
        self.rng = rng
        D = len(xy_km)
        dist = np.linalg.norm(xy_km[:, None, :] - xy_km[None, :, :], axis=-1)
        self.chol = np.linalg.cholesky(np.exp(-dist / dcfg.correlation_length_km) + 1e-9 * np.eye(D))
        self.weights = clim + 0.05 * clim.mean(axis=1, keepdims=True)
        k = dcfg.spi_months
        self.sd = np.empty_like(self.weights)
        for m in range(12):
            c = self.weights[:, [(m - j) % 12 for j in range(k)]]
            self.sd[:, m] = np.sqrt(np.einsum("di,ij,dj->d", c, self.lag_corr(k), c))
        self.history: list[tuple[np.ndarray, int]] = []  # (anomaly, calendar month), newest first
        # stationary start
        self.regional = rng.standard_normal()
        self.district = self.chol @ rng.standard_normal(D)

    def lag_corr(self, k: int) -> np.ndarray:
        h = np.abs(np.arange(k)[:, None] - np.arange(k)[None, :])
        w = self.cfg.regional_weight
        return w * self.cfg.regional_persistence**h + (1 - w) * self.cfg.district_persistence**h

    def advance(self, cal: int, decades: float, forced: np.ndarray | None = None):
        """Next month's anomaly float64[D] and SPI-like index float64[D].

        ``forced``: float64[D] anomalies to use (NaN where not forced), e.g. a storyline.
        """
        c = self.cfg
        pr, pd = c.regional_persistence, c.district_persistence
        self.regional = pr * self.regional + math.sqrt(1 - pr * pr) * self.rng.standard_normal()
        self.district = pd * self.district + math.sqrt(1 - pd * pd) * (self.chol @ self.rng.standard_normal(len(self.district)))
        a = math.sqrt(c.regional_weight) * self.regional + math.sqrt(1 - c.regional_weight) * self.district
        a = c.trend_anomaly_per_decade * decades + max(0.05, 1.0 + c.trend_sd_per_decade * decades) * a
        if forced is not None:
            a = np.where(np.isnan(forced), a, forced)
        return a, self.index(a, cal)

    def index(self, a: np.ndarray, cal: int) -> np.ndarray:
        """Push this month's anomaly into the window and return the SPI-like index."""
        k = self.cfg.spi_months
        self.history.insert(0, (a, cal))
        del self.history[k:]
        cals = [h[1] for h in self.history]
        w = self.weights[:, cals]  # [D, months in window]
        num = (w * np.array([h[0] for h in self.history]).T).sum(axis=1)
        if len(self.history) < k:
            den = np.sqrt(np.einsum("di,ij,dj->d", w, self.lag_corr(len(self.history)), w))
        else:
            den = self.sd[:, cal]
        return num / den


# -- households ----------------------------------------------------------------------------
class Household(mesa.Agent):
    """One household: members, livelihood, land, herd, assets, savings, food, coping,
    acute malnutrition of its under-fives, IPC-like phase. ``step()`` is one month."""

    def __init__(self, model: DroughtHouseholdModel, district: int, community: int):
        super().__init__(model)
        sc, p, r = model.scenario, model.p, self.random
        self.district = district
        self.community = community
        # livelihood by the district's shares
        u = r.random()
        cum = model.livelihood_cum[district]
        lv = URBAN
        for k in range(4):
            if u < cum[k]:
                lv = k
                break
        self.livelihood = lv
        self.female_head = 1 if r.random() < sc.female_head_share[district] else 0
        self.marginalised = 1 if r.random() < sc.marginalised_share[district] else 0
        # size: 1 + Poisson around the district's mean; female-headed households are 0.8 smaller
        size = sc.people_per_household[district]
        size = model.cfg.population.mean_household_size if math.isnan(size) else size
        lam = max(size - 1.0 - 0.8 * (self.female_head - sc.female_head_share[district]), 0.1)
        m = min(1 + int(model.rng.poisson(lam)), 30)
        children = young = 0
        for _ in range(m - 1):
            if r.random() < P_CHILD:
                children += 1
                if r.random() < P_U5_OF_CHILD:
                    young += 1
        self.members = m
        self.u5 = young
        self.adults = m - children
        # log-normal wealth, lower in poorer districts; land less unequal than herds
        wealth = math.exp(model.wealth_shift[district] + p.wealth_log_sd * r.gauss(0.0, 1.0))
        self.land_ha = model.land_median[lv] * math.sqrt(wealth)
        self.herd_tlu = model.herd_median[lv] * wealth
        self.assets_usd = model.assets_median[lv] * wealth
        self.savings_usd = 0.5 * p.need_kg_per_person * model.cfg.food_system.food_price_usd_per_kg * m * wealth
        self.food_stock_kg = r.random() * 3.0 * m * p.need_kg_per_person if self.land_ha > 0 else 0.0
        self.debt_usd = 0.0
        self.adequacy = 1.0
        self.gap = 0.0
        self.gap_months = 0
        self.coping = 0
        self.malnutrition = 0
        self.ipc_phase = 1
        self.consumption_usd_pc_day = 0.0
        self.poorest_quintile = 0
        # this month's record (read by the model's tally)
        self.active = True
        self.people_month = m
        self.deaths_baseline = 0
        self.deaths_starvation = 0
        self.short = False

    def step(self) -> None:
        m = self.members
        if m <= 0:  # the household has died out
            self.active = False
            self.people_month = self.deaths_baseline = self.deaths_starvation = 0
            self.short = False
            return
        model, p, rnd = self.model, self.model.p, self.random
        d, lv = self.district, self.livelihood
        price = model.food_price[d]
        lprice = model.livestock_price[d]
        pasture = model.pasture[d]
        trap, value_cap, herd_cap, work_days = model.lv_table[lv]
        herd, assets = self.herd_tlu, self.assets_usd
        # share of the young stock kept: min(1, value / trap) at normal prices (below the
        # line the family eats or sells most of a small herd's offtake)
        kept = min(1.0, (herd * p.livestock_price_norm + assets) / trap) if trap > 0 else 1.0

        # livestock: herd(t+1) = herd (1 - p_death) + kept herd g min(pasture, 1) (1 - herd / cap)
        room = max(0.0, 1.0 - herd / herd_cap) if herd_cap > 0 else 0.0
        grown = herd * p.herd_growth_frac * min(pasture, 1.0) * room * kept
        herd = herd * (1.0 - model.p_livestock_death[d]) + grown

        # income: milk and offtake, asset returns, wages, own harvest
        need_kg = m * p.need_kg_per_person
        stock = self.food_stock_kg
        cash = herd * p.milk_usd_per_tlu * min(pasture, 1.2) + assets * p.asset_return_frac
        demand = model.labour_demand[d]
        if lv == URBAN:
            demand = 1.0 - p.urban_labour_exposure * (1.0 - demand)
        p_find = p.p_work * demand
        workers = sum(1 for _ in range(self.adults) if rnd.random() < p_find)
        value_norm = self.herd_tlu * p.livestock_price_norm + assets  # at the start of the month
        if lv != URBAN and trap > 0 and value_norm < trap:  # labour freed below the trap line
            work_days = work_days + max(0.0, p.work_days_destitute - work_days) * (1.0 - value_norm / trap)
        cash += workers * work_days * p.wage_usd_per_day * model.scenario.wage_index[d]
        if model.harvest_now[d] and self.land_ha > 0.0:
            shock = math.exp(p.harvest_cv * rnd.gauss(0.0, 1.0) - 0.5 * p.harvest_cv * p.harvest_cv)
            stock += self.land_ha * p.crop_yield_kg_per_ha * model.harvest_yield_frac[d] * shock
        stock_cap = p.food_stock_max_months * need_kg
        if stock > stock_cap:  # surplus grain is sold at the farm gate
            cash += (stock - stock_cap) * price * p.farmgate_price_frac
            stock = stock_cap

        # food and the coping ladder
        value = herd * lprice + assets
        adeq, cope, stock, sold, invest, cons, short = self._feed(
            need_kg, stock, cash, price, m * p.nonfood_usd_per_person, value, trap, value_cap,
            model.support_capacity[self.community], m,
        )
        if sold > 0.0 and value > 0.0:
            keep = max(0.0, 1.0 - sold / value)
            herd *= keep
            assets *= keep
        if invest > 0.0:
            if lv == PASTORAL and lprice > 0.0:
                herd += invest / lprice  # pastoralists restock
            else:
                assets += invest
        assets *= 1.0 - p.asset_depreciation_frac
        gap = 1.0 - adeq
        gm = min(self.gap_months + 1, 100) if gap > 0.01 else 0

        # mortality by age (malnutrition state at the start of the month; famine-level
        # excess after a sustained wide gap), then malnutrition, births and ageing
        mal, n_u5, n_ad = self.malnutrition, self.u5, self.adults
        m_start = m
        deaths_b = deaths_s = 0
        d = self.district
        h_fam = 0.0
        # the level the gap has been sustained at: this month's and last month's
        level = min(gap, 1.0 - self.adequacy) if p.famine_after_months >= 2 else gap
        if gm >= p.famine_after_months and level > p.famine_gap_onset:
            h_fam = min(1.0, p.p_famine_excess * (level - p.famine_gap_onset) / (p.famine_gap_phase5 - p.famine_gap_onset))
        hr = (1.0, p.mam_death_hr, p.sam_death_hr)[mal]
        p5b, pob = model.p_u5_base[d], model.p_old_base[d]
        p5, po = min(1.0, p5b * hr + h_fam), min(1.0, pob + h_fam)
        for _ in range(n_u5):
            if rnd.random() < p5:
                if rnd.random() * p5 < p5b:
                    deaths_b += 1
                else:
                    deaths_s += 1
                n_u5 -= 1
                m -= 1
        for _ in range(m - n_u5):
            if rnd.random() < po:
                if rnd.random() * po < pob:
                    deaths_b += 1
                else:
                    deaths_s += 1
                if rnd.random() * (m - n_u5) < n_ad:  # an adult or an older child
                    n_ad -= 1
                m -= 1
        if n_u5 > 0:
            mal = self._malnutrition(mal, gap, gm)
        if m > 0:
            older = m - n_u5 - n_ad
            to5 = sum(1 for _ in range(n_u5) if rnd.random() < 1 / 60)
            to15 = sum(1 for _ in range(older) if rnd.random() < 1 / 120)
            born = sum(1 for _ in range(m) if rnd.random() < model.p_birth[d]) if n_ad > 0 and m <= 30 else 0
            m, n_u5, n_ad = m + born, n_u5 - to5 + born, n_ad + to15
        if n_u5 == 0:
            mal = 0

        # IPC-like phase: the worse of a consumption phase and a coping phase
        if gap >= 0.5:
            phase = 5
        elif gap >= 0.2:
            phase = 4
        elif gap >= 0.05:
            phase = 3
        elif gap > 1e-6:
            phase = 2
        else:
            phase = 1
        phase = max(phase, cope + 1 if cope > 0 else 1)

        self.members, self.u5, self.adults = m, n_u5, n_ad
        self.herd_tlu, self.assets_usd, self.food_stock_kg = herd, assets, stock
        self.adequacy, self.gap, self.gap_months = adeq, gap, gm
        self.coping, self.malnutrition, self.ipc_phase = cope, mal, phase
        self.consumption_usd_pc_day = cons / (m_start * p.days_per_month)
        self.people_month = m_start
        self.deaths_baseline, self.deaths_starvation = deaths_b, deaths_s
        self.short = short

    def _feed(self, need_kg, stock_kg, cash_usd, price, nonfood_usd, value_usd, trap_usd, value_cap_usd,
              support_capacity, members):
        """Feed the household for one month, climbing the coping ladder as needed
        (own stock, then cash; a shortfall is met by stress, crisis and emergency
        strategies in that order; see ``hssim.kernels.household.food_and_coping``).
        Updates savings and debt; returns (adequacy, coping, stock, sold, invest,
        consumption_usd, short)."""
        p = self.model.p
        savings, debt = self.savings_usd, self.debt_usd
        eat_own = min(stock_kg, need_kg)
        stock_kg -= eat_own
        buy_kg = need_kg - eat_own
        required = buy_kg * price + nonfood_usd
        shortfall = required - cash_usd
        coping = 0
        sold = invest = food_cut_usd = 0.0
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
                invest = trap_usd - value_usd  # a lumpy purchase back up to the trap line
                savings -= invest
                value_after = trap_usd
            if trap_usd <= value_after < value_cap_usd:
                more = min(surplus * p.invest_frac, value_cap_usd - value_after)
                invest += more
                surplus -= more
            cap = p.savings_cap_months * required
            if value_after < trap_usd:
                cap = max(cap, trap_usd - value_after)  # saving towards the purchase
            if savings > cap:
                surplus += savings - cap
                savings = cap
            nonfood_spent += surplus
        else:
            food_cost = buy_kg * price
            # 1. stress: savings, informal support, borrowing, smaller meals
            use = min(savings, shortfall)
            if use > 0.0:
                savings -= use
                shortfall -= use
                coping = 1
            support = shortfall * p.support_max_frac * support_capacity
            if support > 0.0:
                shortfall -= support
                coping = 1
            if shortfall > 0.0:
                borrow = min(max(p.credit_limit_usd - debt, 0.0), shortfall)
                if borrow > 0.0:
                    debt += borrow
                    shortfall -= borrow
                    coping = 1
            if shortfall > 0.0:
                cut = min(shortfall, p.meal_cut_stress_frac * food_cost)
                food_cut_usd += cut
                shortfall -= cut
                coping = max(coping, 1)
            # 2. crisis: cut health and education spending, sell assets down to the trap line, fewer meals
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
            # 3. emergency: the last productive assets, begging and distress migration
            if shortfall > 1e-9:
                coping = 3
                if dp > 0.0:
                    sell = min(p.crisis_sell_frac * (value_usd - sold), shortfall / dp)
                    sold += sell
                    shortfall -= sell * dp
                shortfall -= min(shortfall, p.emergency_income_usd_per_person * members)
                # non-food down to the survival items before going without food (HEA)
                cut = min(shortfall, max(0.0, nonfood_spent - p.nonfood_survival_frac * nonfood_usd))
                if cut > 0.0:
                    nonfood_spent -= cut
                    shortfall -= cut
            food_cut_usd += max(shortfall, 0.0)
            # beyond the whole food bill, the rest comes out of non-food spending
            excess = food_cut_usd - food_cost
            if excess > 0.0:
                nonfood_spent = max(0.0, nonfood_spent - excess)
                food_cut_usd = food_cost
        bought_kg = max(0.0, buy_kg - food_cut_usd / price)
        adequacy = min(1.0, (eat_own + bought_kg) / need_kg) if need_kg > 0 else 1.0
        consumption = (eat_own + bought_kg) * price + nonfood_spent
        self.savings_usd, self.debt_usd = savings, debt
        return adequacy, coping, stock_kg, sold, invest, consumption, short

    def _malnutrition(self, state: int, gap: float, gap_months: int) -> int:
        """0 none, 1 MAM, 2 SAM: onset after two gap months, worsening with the gap,
        untreated recovery falling linearly with the gap to 0 at ``recovery_gap_zero``."""
        p, rnd = self.model.p, self.random
        u_onset = rnd.random()
        if state == 0:
            p_on = p.p_mam_base + (p.p_mam_per_gap * gap if gap_months >= 2 else 0.0)
            return 1 if u_onset < p_on else 0
        u_recover = rnd.random()
        food = max(0.0, 1.0 - gap / p.recovery_gap_zero)
        if state == 1:
            if u_onset < p.p_sam_base + p.p_sam_per_gap * gap:
                return 2
            if u_recover < p.p_recover_mam * food:
                return 0
            return 1
        if u_recover < p.p_recover_sam * food:
            return 1
        return 2


# -- the model -----------------------------------------------------------------------------
class DroughtHouseholdModel(mesa.Model):
    """Drought -> food system -> households, one Mesa agent per household.

    Parameters
    ----------
    cfg : hssim Config, DictConfig or mapping, optional
        validated by :func:`load` (default: ``hssim.compose(DROUGHT_ONLY)``)
    seed : int, optional  seed of ``model.random`` and ``model.rng`` (default: ``cfg.seed``)
    anomaly : float64[spinup + months, D], optional
        exogenous standardised rainfall anomalies (replace the model's own drought
        process and storyline, e.g. the engine's series for the same seed)
    scenario : hssim Scenario, optional  (with ``cfg`` already validated)
    **params : float
        household parameters to change after loading (``households.<name>`` fields,
        ``crop_yield_kg_per_ha``); for experiments and the test's power check
    """

    def __init__(self, cfg: Any = None, seed: int | None = None, anomaly: np.ndarray | None = None,
                 scenario=None, **params):
        if scenario is None:
            cfg, scenario = load(cfg)
        super().__init__(seed=cfg.seed if seed is None else seed)
        self.cfg, self.scenario = cfg, scenario
        sc, hc, fc = scenario, cfg.households, cfg.food_system
        self.dcfg = next(h for h in cfg.hazards.values() if h.kind == "drought")
        D = sc.n_districts
        self.spinup, self.months = cfg.spinup_months, cfg.months
        self.n_ticks = self.spinup + self.months
        self.ti = 0

        # household parameters (plus derived constants), as plain attributes
        p = {f: getattr(hc, f) for f in hc.__dataclass_fields__}
        p["crop_yield_kg_per_ha"] = fc.crop_yield_kg_per_ha
        p.update(params)
        p["need_kg_per_person"] = p["kcal_per_person_day"] * p["days_per_month"] / p["kcal_per_kg"]
        p["p_famine_excess"] = p["famine_excess_cdr_per_10k_day"] * 1e-4 * p["days_per_month"]
        p["livestock_price_norm"] = fc.livestock_price_usd_per_tlu
        self.p = p = SimpleNamespace(**p)
        lp = fc.livestock_price_usd_per_tlu
        herds = [p.herd_tlu_pastoral, p.herd_tlu_agropastoral, p.herd_tlu_crop, 0.0]
        assets = [p.assets_usd_rural] * 3 + [p.assets_usd_urban]
        work = [p.work_days_pastoral, p.work_days_agropastoral, p.work_days_crop, p.work_days_urban]
        # per livelihood: trap line, investment cap, herd cap, labour days per adult
        self.lv_table = [
            (p.trap_frac_of_median * (h * lp + a), p.saturation_multiple * (h * lp + a),
             p.saturation_multiple * max(h, 1.0), wd)
            for h, a, wd in zip(herds, assets, work)
        ]
        self.land_median = [0.0, p.land_ha_agropastoral, p.land_ha_crop, 0.0]
        self.herd_median = herds
        self.assets_median = assets
        self.livelihood_cum = np.cumsum(sc.livelihood_shares, axis=1).tolist()
        nd = NormalDist()
        self.wealth_shift = [-p.poverty_wealth_shift * nd.inv_cdf(min(max(x, 0.01), 0.99)) for x in sc.poverty_rate]

        # drought: own process (+ storyline) or an exogenous series
        self.rainfall = RainfallField(self.dcfg, sc.xy_km, sc.rain_clim_mm, self.rng)
        self.anomaly_input = None if anomaly is None else np.asarray(anomaly, dtype=np.float64)
        self.forcing = np.full((self.n_ticks, D), np.nan)
        index = {n: i for i, n in enumerate(sc.names)}
        for ev in cfg.storyline.events:
            cols = [index[n] for n in ev.districts] if ev.districts else slice(None)
            end = ev.end if ev.end is not None else ev.start
            self.forcing[self.spinup + ev.start - 1: self.spinup + end, cols] = ev.anomaly
        self.rain_mm = sc.rain_clim_mm[:, 0].copy()
        self.anomaly = np.zeros(D)
        self.spi = np.zeros(D)
        self.in_drought = np.zeros(D, dtype=bool)

        # food system state
        clim = sc.rain_clim_mm
        self.wet = clim >= 0.6 * clim.mean(axis=1, keepdims=True)
        self.harvest_month = ~self.wet & np.roll(self.wet, 1, axis=1)
        self.season_rain = np.zeros(D)
        self.season_clim = np.zeros(D)
        self.rain3 = [np.zeros(D)] * 3  # last three months, newest first
        self.clim3 = [np.zeros(D)] * 3
        self.harvest_log = [(np.ones(D), np.zeros(D, bool))] * 12  # (yield share, harvest?) newest first
        self.pasture_state = np.ones(D)
        self.district_weights = sc.households / sc.households.sum()
        self.harvest_now = [False] * D
        self.harvest_yield_frac = [0.0] * D
        self.pasture = [1.0] * D
        self.p_livestock_death = [fc.p_livestock_death_base] * D
        self.livestock_price = [lp] * D
        self.food_price = [fc.food_price_usd_per_kg] * D
        self.labour_demand = [1.0] * D
        self.production_index = np.ones(D)

        self._create_households()
        C = self.n_communities
        self.comm_short = np.zeros(C)
        self.comm_active = np.ones(C)
        self.support_capacity = [1.0] * C
        self.stats: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, name=name: m.stats[name]) for name in OUTCOMES}
        )

    # -- set-up ----------------------------------------------------------------------------
    def _create_households(self) -> None:
        """Households by district (largest remainder of the scenario's weights), in
        communities of about ``households_per_community``."""
        sc, pop = self.scenario, self.cfg.population
        c = 0
        for d, n_d in enumerate(allocate(pop.households, sc.households)):
            k = max(1, round(n_d / pop.households_per_community)) if n_d > 0 else 0
            for size in (allocate(n_d, [1.0] * k) if k else []):
                for _ in range(size):
                    Household(self, d, c)
                c += 1
        self.n_communities = c
        # poorest quintile by initial wealth per person
        lp = self.cfg.food_system.livestock_price_usd_per_tlu
        wpc = [(a.herd_tlu * lp + a.assets_usd + a.land_ha * LAND_VALUE_USD_PER_HA + a.savings_usd) / a.members
               for a in self.agents]
        q20 = float(np.quantile(wpc, 0.2))
        # demographic rates of the districts (the engine's function of the initial population)
        dist = np.array([a.district for a in self.agents])
        self.p_birth, self.p_u5_base, self.p_old_base = (
            x.tolist() for x in demographic_rates(sc, dist, np.array([a.members for a in self.agents]),
                                                  np.array([a.u5 for a in self.agents]))
        )
        for a, w in zip(self.agents, wpc):
            a.poorest_quintile = 1 if w <= q20 else 0

    # -- one month -------------------------------------------------------------------------
    def calendar_month(self, ti: int) -> int:
        return (self.cfg.scenario.start_calendar_month - 1 + ti - self.spinup) % 12

    def climate(self, ti: int, cal: int) -> None:
        """Rain, anomaly, SPI-like index and drought flag of every district."""
        clim = self.scenario.rain_clim_mm[:, cal]
        if not self.dcfg.enabled:
            self.rain_mm, self.anomaly, self.spi = clim.copy(), np.zeros_like(clim), np.zeros_like(clim)
            self.in_drought = np.zeros(len(clim), bool)
            return
        if self.anomaly_input is not None:
            a = self.anomaly_input[ti]
            spi = self.rainfall.index(a, cal)
        else:
            decades = max(0, ti - self.spinup) / 120.0
            a, spi = self.rainfall.advance(cal, decades, self.forcing[ti])
        s = self.dcfg.rain_log_sd
        self.rain_mm = clim * np.exp(s * a - 0.5 * s * s)
        self.anomaly, self.spi = a, spi
        self.in_drought = spi <= self.dcfg.drought_spi

    def food_system(self, cal: int) -> None:
        """Harvests, pasture, livestock mortality and price, cereal prices, labour demand."""
        fc, cp = self.cfg.food_system, self.cfg.couplings
        clim = self.scenario.rain_clim_mm[:, cal]
        rain = self.rain_mm
        # harvest of a season that ended last month (FAO-33 yield response)
        harvest = self.harvest_month[:, cal]
        ratio = np.divide(self.season_rain, self.season_clim, out=np.ones_like(self.season_rain),
                          where=self.season_clim > 0)
        deficit_w = 1.0 - np.minimum(1.0, ratio / fc.crop_full_water_frac)
        yield_frac = np.clip(1.0 - cp.drought_to_production * fc.crop_ky * deficit_w, 0.0, 1.0)
        self.season_rain = np.where(harvest, 0.0, self.season_rain)
        self.season_clim = np.where(harvest, 0.0, self.season_clim)
        wet = self.wet[:, cal]
        self.season_rain = self.season_rain + np.where(wet, rain, 0.0)
        self.season_clim = self.season_clim + np.where(wet, clim, 0.0)
        self.harvest_log = [(yield_frac, harvest), *self.harvest_log[:11]]
        logs = np.array([h[0] for h in self.harvest_log])
        mask = np.array([h[1] for h in self.harvest_log])
        n = mask.sum(axis=0)
        prod = np.where(n > 0, (logs * mask).sum(axis=0) / np.maximum(n, 1), 1.0)
        self.production_index = prod
        # pasture (memory tau) and livestock
        self.rain3 = [rain, *self.rain3[:2]]
        self.clim3 = [clim, *self.clim3[:2]]
        q = np.clip(sum(self.rain3) / np.maximum(sum(self.clim3), 1e-9), 0.0, 2.0)
        target = np.clip(1.0 - cp.drought_to_production * (1.0 - q), 0.0, 2.0)
        self.pasture_state = self.pasture_state + (target - self.pasture_state) / fc.pasture_memory_months
        stress = np.maximum(0.0, fc.pasture_stress - self.pasture_state) / fc.pasture_stress
        p_death = np.clip(fc.p_livestock_death_base + fc.p_livestock_death_drought * stress**2, 0.0, 1.0)
        lo = fc.livestock_price_min_frac
        lprice = fc.livestock_price_usd_per_tlu * np.clip(lo + (1 - lo) * self.pasture_state, lo, 1.2)
        # cereal prices: local and regional deficits blended by market access (no conflict here)
        local = 1.0 - prod
        regional = float(self.district_weights @ local)
        deficit = self.scenario.market_access * regional + (1.0 - self.scenario.market_access) * local
        cap = fc.price_max_frac
        price = fc.food_price_usd_per_kg * np.clip(np.exp(cp.drought_to_prices * fc.price_elasticity * deficit),
                                                   1.0 / cap, cap)
        demand = np.clip(1.0 - cp.drought_to_prices * fc.labour_demand_sensitivity * np.maximum(local, 0.0), 0.0, 1.0)
        # plain Python lists: what the agents read
        self.harvest_now = harvest.tolist()
        self.harvest_yield_frac = np.where(harvest, yield_frac, 0.0).tolist()
        self.pasture = self.pasture_state.tolist()
        self.p_livestock_death = p_death.tolist()
        self.livestock_price = lprice.tolist()
        self.food_price = price.tolist()
        self.labour_demand = demand.tolist()

    def step(self) -> None:
        ti = self.ti
        cal = self.calendar_month(ti)
        self.climate(ti, cal)
        self.food_system(cal)
        # informal support fails when much of the community was short last month
        s = self.cfg.couplings.covariate_to_informal_support
        share = self.comm_short / np.maximum(self.comm_active, 1)
        self.support_capacity = np.clip(1.0 - s * share, 0.0, 1.0).tolist()
        self.agents.shuffle_do("step")
        self.tally()
        if ti >= self.spinup:
            self.datacollector.collect(self)
        self.ti += 1
        if self.ti >= self.n_ticks:
            self.running = False

    def tally(self) -> None:
        """Community shortfalls (for next month's support) and the month's indicators."""
        cols = self.agents.get(["active", "community", "short", "people_month", "ipc_phase", "coping", "gap",
                                "consumption_usd_pc_day", "u5", "malnutrition", "deaths_baseline",
                                "deaths_starvation", "herd_tlu", "assets_usd", "district", "livelihood"])
        (active, comm, short, people, phase, coping, gap, pc, u5, mal, db, ds, herd, assets, dist,
         lv) = (np.array(c) for c in zip(*cols))
        active = active.astype(bool)
        C = self.n_communities
        self.comm_short = np.bincount(comm[active & short.astype(bool)], minlength=C).astype(float)
        self.comm_active = np.bincount(comm[active], minlength=C).astype(float)
        p = self.p
        n_people = people.sum()
        value = herd * np.asarray(self.livestock_price)[dist] + assets
        trap = np.array([t[0] for t in self.lv_table])[lv]
        n_hh = active.sum()
        u5a = np.where(active, u5, 0)
        self.stats = {
            "ipc3plus_frac": people[phase >= 3].sum() / n_people,
            "poverty_frac": people[active & (pc < p.poverty_line_usd_per_person_day)].sum() / n_people,
            "negative_coping_frac": people[coping >= 2].sum() / n_people,
            "consumption_gap": (people * gap).sum() / n_people,
            "acute_malnutrition_frac": u5a[mal > 0].sum() / max(u5a.sum(), 1),
            "deaths": float((db + ds).sum()),
            "assets_usd_per_household": value[active].sum() / n_hh,
            "below_trap_frac": (active & (herd * p.livestock_price_norm + assets < trap)).sum() / n_hh,
            "people": float(n_people),
            "drought_districts": float(self.in_drought.sum()),
            "food_price_usd_per_kg": float(np.mean(self.food_price)),
            "production_index": float(self.production_index.mean()),
            "pasture_index": float(self.pasture_state.mean()),
        }

    def outcomes(self) -> dict[str, np.ndarray]:
        """float64[months] per outcome, from the DataCollector."""
        df = self.datacollector.get_model_vars_dataframe()
        return {k: df[k].to_numpy(dtype=np.float64) for k in OUTCOMES}

    def household_table(self) -> dict[str, np.ndarray]:
        """End-of-run household state (every household, in creation order)."""
        names = ["members", "u5", "livelihood", "herd_tlu", "assets_usd", "savings_usd", "debt_usd",
                 "food_stock_kg", "ipc_phase", "coping", "malnutrition", "land_ha"]
        return {n: np.array(v, dtype=np.float64) for n, v in zip(names, zip(*self.agents.get(names)))}


# -- helpers for the comparison (engine side and peer side) -----------------------------------
def peer_outcomes(cfg, scenario, seed: int, anomaly: np.ndarray | None = None, **params):
    """Run the peer; returns (outcomes, household table)."""
    model = DroughtHouseholdModel(cfg, seed=seed, anomaly=anomaly, scenario=scenario, **params)
    model.run_model()
    return model.outcomes(), model.household_table()


def engine_anomaly(cfg, scenario) -> np.ndarray:
    """float64[spinup + months, D]: the engine's anomaly series for ``cfg.seed``
    (storyline included), bit-identical to what its drought module writes."""
    from hssim.engine import Engine
    from hssim.hazards.drought import simulate_index

    dcfg = next(h for h in cfg.hazards.values() if h.kind == "drought")
    eng = Engine(cfg, scenario, [])  # only for its storyline forcing table
    a, _ = simulate_index(dcfg, scenario.xy_km, scenario.rain_clim_mm, cfg.seed, eng.n_ticks, cfg.spinup_months,
                          cfg.scenario.start_calendar_month, forcing=eng.storyline_forcing)
    return a


def engine_outcomes(cfg, engine=None):
    """Run hssim's engine (``cfg`` validated, drought-only) and return the same
    outcomes as the peer plus its end-of-run household table: (outcomes, table).
    Pass an ``engine`` already built (and possibly initialised) to time set-up apart."""
    from hssim.config.build import build_engine
    from hssim.results import derived_sums

    eng = build_engine(cfg) if engine is None else engine
    while not eng.done:
        eng.step()
    s = derived_sums(eng.recorder.sums.sum(axis=(1, 2)))  # [months]
    people = s["people"]
    names = eng.recorder.district_names
    dist = eng.recorder.district  # [months, D, fields]
    col = lambda n: dist[:, :, names.index(n)]
    out = {
        "ipc3plus_frac": s["people_ipc3plus"] / people,
        "poverty_frac": s["people_poor"] / people,
        "negative_coping_frac": s["people_negative_coping"] / people,
        "consumption_gap": s["gap_people_milli"] * 1e-3 / people,
        "acute_malnutrition_frac": s["u5_malnourished"] / np.maximum(s["u5"], 1),
        "deaths": s["deaths"],
        "assets_usd_per_household": s["assets_usd"] / s["households"],
        "below_trap_frac": s["households_below_trap"] / s["households"],
        "people": people,
        "drought_districts": col("in_drought").sum(axis=1),
        "food_price_usd_per_kg": col("food_price_usd_per_kg").mean(axis=1),
        "production_index": col("production_index").mean(axis=1),
        "pasture_index": col("pasture_index").mean(axis=1),
    }
    hh = eng.households
    table = {n: hh[n].astype(np.float64) for n in ("members", "u5", "livelihood", "herd_tlu", "assets_usd",
                                                  "savings_usd", "debt_usd", "food_stock_kg", "ipc_phase",
                                                  "coping", "malnutrition", "land_ha")}
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}, table
