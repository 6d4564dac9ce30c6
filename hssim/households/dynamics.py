"""The household module: builds the population and runs the monthly kernel.

The kernel reads what interventions delivered this month (household fields
``aid_cash_usd, aid_food_kg, livestock_protected, nutrition_treated, savings_group``,
see :mod:`hssim.kernels.household` for the equations) and the programmes' constants
in :attr:`Households.nutrition_table` and :attr:`Households.savings_table`.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, fields

import numba as nb
import numpy as np
from scipy.special import ndtri

from .. import rng
from ..couplings.food_system import FoodSystemConfig
from ..kernels.household import LV_HERD_CAP_TLU, LV_TRAP_USD, LV_VALUE_CAP_USD, LV_WORK_DAYS, household_month
from ..kernels.init import allocate, init_households
from ..module import Module
from ..phases import Phase
from ..sums import N_CELLS, N_SUMS
from ..validate import field_range as fr

__all__ = ["HouseholdConfig", "PopulationConfig", "HouseholdParams", "make_params", "livelihood_table", "Households", "demographic_rates"]


@dataclass(frozen=True)
class PopulationConfig:
    households: int = fr(20_000, 1, 50_000_000, "simulated households")
    households_per_community: int = fr(100, 1, 100_000, "households per community (village)")
    mean_household_size: float = fr(
        5.5, 1.0, 15.0, "mean members per household where the scenario table has no people_per_household (assumed)"
    )


@dataclass(frozen=True)
class HouseholdConfig:
    """Livelihoods, food, coping, assets, malnutrition and mortality (monthly)."""

    kcal_per_person_day: float = fr(2100.0, 500.0, 5000.0, "food need per person per day (Sphere: 2,100)")
    kcal_per_kg: float = fr(3500.0, 1000.0, 9000.0, "energy of one kg of cereal equivalent")
    days_per_month: float = fr(30.4, 28.0, 31.0, "days in a model month")
    nonfood_usd_per_person: float = fr(6.0, 0.0, 1e4, "essential non-food spending per person per month")
    wage_usd_per_day: float = fr(2.5, 0.0, 1e4, "casual labour daily wage")
    work_days_pastoral: float = fr(3.0, 0.0, 31.0, "labour days per adult per month, pastoral")
    work_days_agropastoral: float = fr(5.0, 0.0, 31.0, "labour days per adult per month, agro-pastoral")
    work_days_crop: float = fr(5.0, 0.0, 31.0, "labour days per adult per month, crop farming")
    work_days_urban: float = fr(16.0, 0.0, 31.0, "labour days per adult per month, urban/wage")
    work_days_destitute: float = fr(
        12.0, 0.0, 31.0,
        "labour days per adult per month of a rural household with no herd or assets left (labour freed; assumed: rural casual work is scarcer than urban)",
    )
    land_ha_crop: float = fr(1.2, 0.0, 100.0, "median cultivated land, crop farming households, ha")
    land_ha_agropastoral: float = fr(0.6, 0.0, 100.0, "median cultivated land, agro-pastoral households, ha")
    herd_tlu_pastoral: float = fr(12.0, 0.0, 1000.0, "median herd, pastoral households, TLU")
    herd_tlu_agropastoral: float = fr(4.0, 0.0, 1000.0, "median herd, agro-pastoral households, TLU")
    herd_tlu_crop: float = fr(0.6, 0.0, 1000.0, "median herd, crop farming households, TLU")
    assets_usd_urban: float = fr(600.0, 0.0, 1e7, "median non-livestock productive assets, urban households")
    assets_usd_rural: float = fr(150.0, 0.0, 1e7, "median non-livestock productive assets, rural households")
    wealth_log_sd: float = fr(0.8, 0.0, 3.0, "sd of log initial assets, land and herd")
    poverty_wealth_shift: float = fr(
        0.5, 0.0, 3.0, "fall of a district's log wealth per probit unit of its poverty rate above 50%"
    )
    milk_usd_per_tlu: float = fr(8.0, 0.0, 1e4, "monthly milk and offtake value per TLU at normal pasture")
    herd_growth_frac: float = fr(0.012, 0.0, 0.2, "monthly herd growth (births) at normal pasture, viable herds only")
    asset_return_frac: float = fr(0.025, 0.0, 1.0, "monthly income from non-livestock productive assets")
    asset_depreciation_frac: float = fr(0.005, 0.0, 1.0, "monthly depreciation of non-livestock assets")
    harvest_cv: float = fr(0.3, 0.0, 2.0, "idiosyncratic (household) harvest variability, log sd")
    urban_labour_exposure: float = fr(0.3, 0.0, 1.0, "share of a fall in rural labour demand that urban workers feel")
    farmgate_price_frac: float = fr(0.8, 0.0, 1.0, "price farmers get for surplus grain, share of the local market price")
    p_work: float = fr(0.9, 0.0, 1.0, "chance an adult finds the month's work when demand is normal")
    save_frac: float = fr(0.3, 0.0, 1.0, "share of surplus cash saved")
    invest_frac: float = fr(0.2, 0.0, 1.0, "share of surplus invested in productive assets (above the trap only)")
    savings_cap_months: float = fr(6.0, 0.0, 120.0, "savings beyond this many months of needs are spent")
    credit_limit_usd: float = fr(60.0, 0.0, 1e6, "most a household can borrow in total (stress coping)")
    debt_repay_frac: float = fr(0.5, 0.0, 1.0, "share of surplus used to repay debt")
    food_stock_max_months: float = fr(9.0, 0.0, 60.0, "own harvest beyond this many months of needs is sold")
    support_max_frac: float = fr(0.35, 0.0, 1.0, "share of a shortfall informal support covers in normal times")
    meal_cut_stress_frac: float = fr(0.1, 0.0, 1.0, "share of food purchases a household forgoes at the stress stage (smaller meals)")
    meal_cut_crisis_frac: float = fr(0.3, 0.0, 1.0, "cumulative share forgone by the end of the crisis stage (fewer meals)")
    crisis_sell_frac: float = fr(0.25, 0.0, 1.0, "share of productive assets a household will sell in one month (crisis)")
    distress_price_frac: float = fr(0.7, 0.0, 1.0, "price received in distress sales, share of market value")
    trap_frac_of_median: float = fr(
        0.35, 0.0, 1.0, "poverty-trap line: productive-asset value below which a household cannot rebuild, share of its livelihood's median"
    )
    saturation_multiple: float = fr(
        4.0, 1.0, 100.0, "herds stop growing and investment stops at this multiple of the livelihood's median"
    )
    emergency_income_usd_per_person: float = fr(1.5, 0.0, 1e4, "monthly income from begging / distress migration")
    nonfood_survival_frac: float = fr(
        0.25, 0.0, 1.0,
        "share of essential non-food spending kept when a household would otherwise go without food (water, cooking fuel, salt, soap: HEA survival threshold; value assumed)",
    )
    # Acute malnutrition (state of a household's under-fives; monthly transitions, see
    # hssim.kernels.household.malnutrition_step). Onset, worsening and untreated
    # recovery rates are assumed (no survey gives monthly transition probabilities);
    # they are set so that SAM is about a fifth of GAM when food is adequate, as IPC
    # caseloads report (IPC Madagascar 2019: 35,393 SAM of 188,550 GAM; 2021: 27,137 of
    # 135,476), and worsening rises only mildly with the gap, since that ratio holds in
    # crises too.
    p_mam_base: float = fr(0.006, 0.0, 1.0, "monthly chance a household's under-fives become acutely malnourished (no gap; assumed)")
    p_mam_per_gap: float = fr(0.35, 0.0, 1.0, "extra monthly chance per unit consumption gap, after two gap months (assumed)")
    p_sam_base: float = fr(0.03, 0.0, 1.0, "monthly chance moderate becomes severe (no gap; assumed)")
    p_sam_per_gap: float = fr(0.05, 0.0, 1.0, "extra monthly chance per unit consumption gap (assumed)")
    p_recover_mam: float = fr(0.35, 0.0, 1.0, "monthly recovery from moderate, untreated, with adequate food (assumed)")
    p_recover_sam: float = fr(0.12, 0.0, 1.0, "monthly step from severe to moderate, untreated, with adequate food (assumed)")
    recovery_gap_zero: float = fr(
        1.0, 1e-3, 1.0, "consumption gap at which untreated recovery stops; it falls linearly from adequate food (assumed)"
    )
    # Mortality. Baseline (background) rates are scenario columns (crude death rate,
    # under-five mortality). Acute malnutrition multiplies the under-five hazard:
    # Olofin et al. 2013, PLoS ONE 8(5):e64636 (pooled analysis of 10 cohorts), hazard
    # ratios of death 3.4 for WHZ -3 to -2 (moderate wasting) and 11.6 for WHZ < -3
    # (severe) against WHZ >= -1.
    mam_death_hr: float = fr(3.4, 1.0, 100.0, "hazard ratio of death of a moderately wasted under-five (Olofin et al. 2013)")
    sam_death_hr: float = fr(11.6, 1.0, 100.0, "hazard ratio of death of a severely wasted under-five (Olofin et al. 2013)")
    # Famine-level excess (all ages), only where the gap is wide and sustained. IPC
    # Technical Manual 3.1 (IPC Global Partners 2019), area reference thresholds of the
    # crude death rate: 0.5 (Crisis), 1 (Emergency), 2 (Famine) / 10,000 / day; IPC
    # describes phase 4 as the first with excess mortality. The excess is 0 up to the
    # gap where the model's phase 4 begins (20%; below it the malnutrition pathway
    # carries the excess), rises linearly and adds famine_excess_cdr at the phase-5
    # gap (50%): with a background of about 0.2-0.5 the total is about 1 in the middle
    # of phase 4 and reaches the famine threshold of 2 at phase 5.
    famine_excess_cdr_per_10k_day: float = fr(
        1.5, 0.0, 1000.0, "excess crude death rate at the phase-5 consumption gap, deaths / 10,000 / day (IPC 2019 thresholds)"
    )
    famine_gap_onset: float = fr(0.2, 0.0, 1.0, "consumption gap below which there is no famine-level excess (model's phase-4 gap)")
    famine_gap_phase5: float = fr(0.5, 1e-3, 1.0, "consumption gap at which the excess equals famine_excess_cdr (model's phase-5 gap)")
    famine_after_months: int = fr(2, 0, 100, "months in a row with a gap before famine-level excess deaths begin (assumed)")
    poverty_line_usd_per_person_day: float = fr(0.8, 0.0, 1e4, "consumption poverty line, USD / person / day (nominal)")


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


_DERIVED = (
    "need_kg_per_person",  # kg cereal per person per month
    "livestock_price_norm",  # USD per TLU in normal conditions (trap line is in normal prices)
    "p_famine_excess",  # famine_excess_cdr_per_10k_day as a per person per month probability
)
HouseholdParams = namedtuple("HouseholdParams", [f.name for f in fields(HouseholdConfig)] + list(_DERIVED))


def livelihood_table(cfg: HouseholdConfig, livestock_price_usd_per_tlu: float) -> np.ndarray:
    """float64[4, 4] per-livelihood constants (rows: pastoral, agro-pastoral, crop, urban).

    Columns: the poverty-trap line (``trap_frac_of_median`` of the livelihood's
    median productive value, herd at the normal price plus other assets: a herd or
    business too small to both feed the family and grow); the value above which a
    household stops investing and the herd size at which births stop (both
    ``saturation_multiple`` x the median: labour and rangeland limits); labour days
    per adult per month.
    """
    lp = livestock_price_usd_per_tlu
    herds = np.array([cfg.herd_tlu_pastoral, cfg.herd_tlu_agropastoral, cfg.herd_tlu_crop, 0.0])
    assets = np.array([cfg.assets_usd_rural] * 3 + [cfg.assets_usd_urban])
    medians = herds * lp + assets
    table = np.empty((4, 4))
    table[:, LV_TRAP_USD] = cfg.trap_frac_of_median * medians
    table[:, LV_VALUE_CAP_USD] = cfg.saturation_multiple * medians
    table[:, LV_HERD_CAP_TLU] = cfg.saturation_multiple * np.maximum(herds, 1.0)
    table[:, LV_WORK_DAYS] = [cfg.work_days_pastoral, cfg.work_days_agropastoral, cfg.work_days_crop, cfg.work_days_urban]
    return table


def make_params(cfg: HouseholdConfig, livestock_price_usd_per_tlu: float) -> HouseholdParams:
    """Flatten the config (plus derived constants) into a numba-friendly namedtuple of floats."""
    base = {f.name: float(getattr(cfg, f.name)) for f in fields(HouseholdConfig)}
    derived = {
        "need_kg_per_person": cfg.kcal_per_person_day * cfg.days_per_month / cfg.kcal_per_kg,
        # CDR is deaths / 10,000 people / day
        "p_famine_excess": cfg.famine_excess_cdr_per_10k_day * 1e-4 * cfg.days_per_month,
        "livestock_price_norm": float(livestock_price_usd_per_tlu),
    }
    return HouseholdParams(**base, **derived)


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
    reads = (
        # the district conditions where the household lives (harvests: at home)
        "harvest_now", "harvest_yield_frac", "pasture_index", "p_livestock_death", "livestock_price_usd",
        "food_price_usd_per_kg", "labour_demand", "health_access_eff",
        # who and where the household is
        "district", "location", "displaced", "livelihood", "female_head", "marginalised", "poorest_quintile",
        "fear", "sick",
        # its state
        "members", "dead", "born", "u5", "adults", "land_ha", "herd_tlu", "assets_usd", "savings_usd", "debt_usd",
        "food_stock_kg", "adequacy", "gap_months", "malnutrition",
        # what the interventions delivered this month
        "aid_cash_usd", "aid_food_kg", "livestock_protected", "nutrition_treated", "savings_group",
    )  # fmt: skip
    writes = ("members", "dead", "born", "u5", "adults", "herd_tlu", "assets_usd", "savings_usd", "debt_usd",
              "food_stock_kg", "adequacy", "consumption_usd_pc_day", "gap_months", "coping", "malnutrition",
              "ipc_phase")  # fmt: skip

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
