"""The household module: builds the population and runs the monthly kernel.

The kernel reads what interventions delivered this month (household fields
``aid_cash_usd, aid_food_kg, livestock_protected, nutrition_treated, savings_group``,
see :mod:`hssim.kernels.household` for the equations) and the programmes' constants
in :attr:`Households.nutrition_table` and :attr:`Households.savings_table`.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from scipy.special import ndtri

from .. import rng
from ..config.schema import FoodSystemConfig, HouseholdConfig, PopulationConfig
from ..kernels.household import household_month, livelihood_table, make_params
from ..sums import N_CELLS, N_SUMS
from ..kernels.init import allocate, init_households
from ..module import Module
from ..phases import Phase

__all__ = ["Households", "demographic_rates"]

# Household composition (assumed; typical of DHS surveys in East African drylands):
# share of non-head members who are children, and of children who are under five.
P_CHILD = 0.55
P_U5_OF_CHILD = 0.35


def demographic_rates(sc, district: np.ndarray, members: np.ndarray, u5: np.ndarray):
    """Monthly birth and baseline death probabilities per district from the scenario's rates.

    ``p_birth = 1 - exp(-CBR / 1000 / 12)`` per person; the under-five hazard
    ``h5 = -ln(1 - U5MR / 1000) / 60`` (the probability of dying before five spread
    over 60 months); the hazard of older members ``ho = (hc - s5 h5) / (1 - s5)`` with
    ``hc = -ln(1 - CDR / 1000) / 12`` and ``s5`` the district's initial share of
    under-fives, so that the initial population dies at the crude death rate. The
    scenario's crude death rate is the background: starvation, disease and violence
    deaths come on top of it.

    Returns
    -------
    p_birth, p_u5_base, p_old_base : float64[D]
    """
    D = sc.n_districts
    people = np.bincount(district, weights=members.astype(np.float64), minlength=D)
    young = np.bincount(district, weights=u5.astype(np.float64), minlength=D)
    s5 = np.where(people > 0, young / np.maximum(people, 1.0), 0.0)
    s5 = np.minimum(s5, 0.99)
    h5 = -np.log1p(-np.minimum(sc.u5_mortality_per_1000, 999.0) / 1000.0) / 60.0
    hc = -np.log1p(-np.minimum(sc.death_rate_per_1000, 999.0) / 1000.0) / 12.0
    ho = np.maximum(0.0, (hc - s5 * h5) / (1.0 - s5))
    p_birth = -np.expm1(-sc.birth_rate_per_1000 / 1000.0 / 12.0)
    return p_birth.astype(np.float64), -np.expm1(-h5), -np.expm1(-ho)


class Households(Module):
    """Creates households (sorted by district, then community) and updates them monthly.

    Writes ``engine.month_sums``: int64[D, N_CELLS, N_SUMS] indicator sums of the month.

    Attributes
    ----------
    nutrition_table : float64[K, 3]  per malnutrition-treatment programme k (household
        field ``nutrition_treated = k + 1``): p_recover_mam, p_recover_sam (monthly
        probabilities when treated) and death_reduction_frac (share of the SAM child
        death probability averted); empty (K = 0) unless the build assigns one before ``init``
    savings_table : float64[K, 2]  per savings-group programme k (``savings_group = k + 1``):
        return_frac_per_month on a member's savings and extra_credit_usd beyond
        ``credit_limit_usd``; empty unless assigned
    """

    phase = Phase.HOUSEHOLD
    creates_population = True

    def __init__(
        self,
        cfg: HouseholdConfig,
        population: PopulationConfig,
        food: FoodSystemConfig,
        illness_work_loss_frac: float = 0.0,
        treatment_cost_usd: float = 0.0,
        displaced_wage_frac: float = 1.0,
        name: str = "households",
    ):
        self.cfg = cfg
        self.illness_work_loss_frac = illness_work_loss_frac
        self.treatment_cost_usd = treatment_cost_usd
        self.displaced_wage_frac = displaced_wage_frac
        self.population = population
        self.food = food
        self.name = name
        self.params = make_params(cfg, food.livestock_price_usd_per_tlu)
        self.lv_table = livelihood_table(cfg, food.livestock_price_usd_per_tlu)
        # intervention programmes' constants (assigned by the build when there are any)
        self.nutrition_table = np.zeros((0, 3))
        self.savings_table = np.zeros((0, 2))

    def init(self, engine) -> None:
        sc = engine.scenario
        hh = engine.households
        pop = self.population
        cfg = self.cfg
        D = sc.n_districts
        n = hh.n
        per_district = allocate(n, sc.households)
        hh.district[:] = np.repeat(np.arange(D, dtype=np.int16), per_district)
        # communities: consecutive blocks of about households_per_community within a district
        sizes = []
        for d in range(D):  # districts, not households
            k = max(1, int(round(per_district[d] / pop.households_per_community))) if per_district[d] > 0 else 0
            sizes.append(allocate(int(per_district[d]), np.ones(k)) if k else np.zeros(0, np.int64))
        comm_sizes = np.concatenate(sizes)
        self.comm_start = np.concatenate([[0], np.cumsum(comm_sizes)]).astype(np.int64)
        hh.community[:] = np.repeat(np.arange(comm_sizes.size, dtype=np.int32), comm_sizes)
        C = comm_sizes.size
        self.comm_short = np.zeros(C, np.int64)
        self.comm_active = np.ones(C, np.int64)

        lp = self.food.livestock_price_usd_per_tlu
        p = self.params
        land = np.array([0.0, cfg.land_ha_agropastoral, cfg.land_ha_crop, 0.0])
        herd = np.array([cfg.herd_tlu_pastoral, cfg.herd_tlu_agropastoral, cfg.herd_tlu_crop, 0.0])
        assets = np.array([cfg.assets_usd_rural] * 3 + [cfg.assets_usd_urban])
        # poverty_rate shifts the district's wealth distribution: at 50% households
        # have the livelihood medians; at a higher rate the whole distribution is lower
        shift = -cfg.poverty_wealth_shift * ndtri(np.clip(sc.poverty_rate, 0.01, 0.99))
        mean_size = np.where(np.isnan(sc.people_per_household), pop.mean_household_size, sc.people_per_household)
        init_households(
            rng.stream_key(engine.seed, "init", 0),
            hh.district,
            np.cumsum(sc.livelihood_shares, axis=1),
            sc.female_head_share,
            sc.marginalised_share,
            shift,
            mean_size.astype(np.float64),
            P_CHILD,
            P_U5_OF_CHILD,
            land,
            herd,
            assets,
            cfg.wealth_log_sd,
            p.need_kg_per_person,
            0.5 * p.need_kg_per_person * self.food.food_price_usd_per_kg,
            hh.livelihood,
            hh.female_head,
            hh.marginalised,
            hh.members,
            hh.u5,
            hh.adults,
            hh.land_ha,
            hh.herd_tlu,
            hh.assets_usd,
            hh.savings_usd,
            hh.food_stock_kg,
            hh.adequacy,
        )
        # poorest quintile by initial wealth per person (land valued at 500 USD/ha, assumed)
        wealth_pc = (hh.herd_tlu * lp + hh.assets_usd + hh.land_ha * 500.0 + hh.savings_usd) / hh.members
        q20 = np.quantile(wealth_pc, 0.2)
        hh.poorest_quintile[:] = (wealth_pc <= q20).astype(np.int8)
        hh.ipc_phase[:] = 1
        hh.location[:] = hh.district
        self.p_birth, self.p_u5_base, self.p_old_base = demographic_rates(sc, hh.district, hh.members, hh.u5)
        self.wage_index = np.ascontiguousarray(sc.wage_index, dtype=np.float64)
        self.acc = np.zeros((nb.config.NUMBA_NUM_THREADS, D, N_CELLS, N_SUMS), np.int64)
        self.crop_yield = self.food.crop_yield_kg_per_ha

    def support_capacity(self, covariate_strength: float) -> np.ndarray:
        """float64[C] informal support capacity: 1 - strength x (share of the community short last month)."""
        short_share = self.comm_short / np.maximum(self.comm_active, 1)
        return np.clip(1.0 - covariate_strength * short_share, 0.0, 1.0)

    @staticmethod
    def _programme_table(table, n_cols: int, index: np.ndarray, name: str, field: str) -> np.ndarray:
        """``table`` as C-contiguous float64[K, n_cols], checked against the largest
        programme index in ``index`` (the kernel does not check bounds)."""
        t = np.ascontiguousarray(table, dtype=np.float64)
        if t.ndim != 2 or t.shape[1] != n_cols:
            raise ValueError(f"Households.{name} must be float64[K, {n_cols}], got shape {t.shape}")
        top = int(index.max(initial=0))
        if top > t.shape[0]:
            raise ValueError(f"household field {field} = {top} names programme {top - 1}, but "
                             f"Households.{name} has {t.shape[0]} row(s)")
        return t

    def step(self, engine, ti: int) -> None:
        hh = engine.households
        ds = engine.districts
        nutrition_table = self._programme_table(self.nutrition_table, 3, hh.nutrition_treated, "nutrition_table",
                                                "nutrition_treated")
        savings_table = self._programme_table(self.savings_table, 2, hh.savings_group, "savings_table",
                                              "savings_group")
        self.acc[:] = 0
        household_month(
            self.params,
            rng.stream_key(engine.seed, "households", ti),
            rng.stream_key(engine.seed, "households.deaths", ti),
            self.comm_start,
            self.support_capacity(engine.cfg.couplings.covariate_to_informal_support),
            self.comm_short,
            self.comm_active,
            hh.district,
            hh.livelihood,
            hh.female_head,
            hh.marginalised,
            hh.poorest_quintile,
            hh.displaced,
            hh.location,
            hh.fear,
            hh.sick,
            hh.members,
            hh.dead,
            engine.dead_at_month_start,
            hh.born,
            hh.u5,
            hh.adults,
            hh.land_ha,
            hh.herd_tlu,
            hh.assets_usd,
            hh.savings_usd,
            hh.debt_usd,
            hh.food_stock_kg,
            hh.adequacy,
            hh.consumption_usd_pc_day,
            hh.gap_months,
            hh.coping,
            hh.malnutrition,
            hh.ipc_phase,
            hh.aid_cash_usd,
            hh.aid_food_kg,
            hh.livestock_protected,
            hh.nutrition_treated,
            hh.savings_group,
            ds.harvest_now,
            ds.harvest_yield_frac,
            ds.pasture_index,
            ds.p_livestock_death,
            ds.livestock_price_usd,
            ds.food_price_usd_per_kg,
            ds.labour_demand,
            ds.health_access_eff,
            self.p_birth,
            self.p_u5_base,
            self.p_old_base,
            self.wage_index,
            self.crop_yield,
            self.lv_table,
            nutrition_table,
            savings_table,
            self.illness_work_loss_frac,
            self.treatment_cost_usd,
            self.displaced_wage_frac,
            self.acc,
        )
        for rows in self.acc:  # the threads' sums (integers: exact in any order), without a temporary
            engine.month_sums += rows
