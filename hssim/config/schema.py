"""The configuration schema: frozen dataclasses with types, defaults and ranges.

YAML files in ``configs/`` hold values only; these classes say what each value means,
its unit and its allowed range. :func:`hssim.config.validate.from_mapping` builds them
from a composed Hydra config and rejects unknown keys and out-of-range values.

Units are in the names: ``_usd`` US dollars (nominal), ``_kg`` kilograms of cereal
equivalent, ``_tlu`` tropical livestock units, ``p_`` a per-month probability,
``_frac`` a share in [0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..policies.schema import PolicyConfig
from .validate import field_range as fr

__all__ = [
    "PopulationConfig",
    "StorylineEvent",
    "StorylineConfig",
    "ScenarioConfig",
    "DroughtConfig",
    "FoodSystemConfig",
    "HouseholdConfig",
    "CouplingsConfig",
    "DisplacementConfig",
    "OutputConfig",
    "Config",
]


@dataclass(frozen=True)
class PopulationConfig:
    households: int = fr(20_000, 1, 50_000_000, "simulated households")
    households_per_community: int = fr(100, 1, 100_000, "households per community (village)")
    mean_household_size: float = fr(
        5.5, 1.0, 15.0, "mean members per household where the scenario table has no people_per_household (assumed)"
    )


@dataclass(frozen=True)
class StorylineEvent:
    """Force the standardised rainfall anomaly of given months (training storylines)."""

    start: int = fr(1, 1, None, "first forced month of the horizon (1-based)")
    end: int | None = fr(None, 1, None, "last forced month, inclusive (default: start)")
    anomaly: float = fr(-2.0, -5.0, 5.0, "standardised anomaly (sd units); -2 is a severe failure")
    districts: tuple[str, ...] = field(default=(), metadata={"doc": "district names; empty = all"})

    def validate(self, path: str) -> None:
        if self.end is not None and self.end < self.start:
            raise ConfigError(f"{path}.end", self.end, f"a month >= start ({self.start})")


@dataclass(frozen=True)
class StorylineConfig:
    name: str = "none"
    description: str = ""
    events: tuple[StorylineEvent, ...] = ()


@dataclass(frozen=True)
class ScenarioConfig:
    name: str = "synthetic_region"
    description: str = ""
    path: str = field(
        default="synthetic_region",
        metadata={"doc": "folder with districts.csv and adjacency.csv; a bare name is looked up in hssim's scenarios"},
    )
    start_calendar_month: int = fr(1, 1, 12, "calendar month of the first simulated month (1 = January)")

    def validate(self, path: str) -> None:
        if not self.path.strip():
            raise ConfigError(
                f"{path}.path", self.path, "the folder of your districts.csv and adjacency.csv (scenario.path=DIR)"
            )


@dataclass(frozen=True)
class DroughtConfig:
    """Rainfall anomalies, the SPI-like index, storylines and trend."""

    kind: str = "drought"
    enabled: bool = True
    regional_weight: float = fr(0.7, 0.0, 1.0, "share of anomaly variance from the regional (ENSO-like) driver")
    regional_persistence: float = fr(0.8, 0.0, 0.99, "lag-1 monthly autocorrelation of the regional driver")
    district_persistence: float = fr(0.3, 0.0, 0.99, "lag-1 monthly autocorrelation of district noise")
    correlation_length_km: float = fr(150.0, 1e-3, 1e5, "e-folding distance of district noise correlation, km")
    rain_log_sd: float = fr(0.5, 0.01, 2.0, "sd of log monthly rainfall per unit anomaly")
    spi_months: int = fr(3, 1, 24, "accumulation window of the SPI-like index, months")
    drought_spi: float = fr(-1.0, -4.0, 0.0, "index value at or below which a district-month is in drought")
    trend_anomaly_per_decade: float = fr(0.0, -3.0, 3.0, "shift of the mean anomaly per decade (negative = drier)")
    trend_sd_per_decade: float = fr(0.0, -0.9, 3.0, "relative change of anomaly sd per decade")


@dataclass(frozen=True)
class FoodSystemConfig:
    """Drought impacts on harvests, pasture, livestock, labour demand and local prices."""

    crop_yield_kg_per_ha: float = fr(800.0, 0.0, 20_000.0, "potential cereal yield per season, kg/ha")
    crop_ky: float = fr(1.25, 0.0, 3.0, "FAO yield response factor: relative yield loss per relative water deficit")
    crop_full_water_frac: float = fr(0.9, 0.1, 2.0, "season rainfall / climatology at which yield is full")
    pasture_memory_months: float = fr(3.0, 1.0, 24.0, "time constant of pasture condition, months")
    pasture_stress: float = fr(0.8, 0.05, 2.0, "pasture index below which livestock mortality rises")
    p_livestock_death_base: float = fr(0.004, 0.0, 1.0, "monthly livestock mortality in normal pasture")
    p_livestock_death_drought: float = fr(0.12, 0.0, 1.0, "extra monthly livestock mortality at zero pasture")
    livestock_price_usd_per_tlu: float = fr(250.0, 0.0, 1e5, "price of one TLU in normal conditions")
    livestock_price_min_frac: float = fr(0.4, 0.0, 1.0, "livestock price floor at zero pasture, share of normal")
    food_price_usd_per_kg: float = fr(0.45, 1e-3, 100.0, "cereal price in a normal year")
    price_elasticity: float = fr(1.2, 0.0, 10.0, "log price rise per unit production deficit")
    price_max_frac: float = fr(4.0, 1.0, 50.0, "cap on price relative to normal")
    labour_demand_sensitivity: float = fr(0.6, 0.0, 1.0, "fall of rural labour demand per unit production deficit")
    market_disruption_per_event: float = fr(0.05, 0.0, 10.0, "k_m: market disruption = 1 - exp(-k_m events)")
    conflict_price_rise: float = fr(0.5, 0.0, 10.0, "relative food-price rise at full market disruption")
    health_disruption_per_event: float = fr(0.05, 0.0, 10.0, "k_h: health access falls by exp(-k_h events)")


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


@dataclass(frozen=True)
class CouplingsConfig:
    """Strengths of the compounding links (1 = as calibrated, 0 = link cut).

    Every link of the model's compounding is named ``<source>_to_<target>`` here, so
    a sweep can vary any of them; each multiplies the effect of its source on its
    target, and at 0 the target no longer depends on the source at all.
    """

    drought_to_production: float = fr(1.0, 0.0, 10.0, "drought -> crop yields, pasture and livestock")
    drought_to_prices: float = fr(1.0, 0.0, 10.0, "production deficits -> local food prices and labour demand")
    drought_to_conflict: float = fr(1.0, 0.0, 10.0, "resource scarcity (water, pasture) -> conflict rate")
    prices_to_conflict: float = fr(1.0, 0.0, 10.0, "food-price shocks -> conflict rate")
    grievance_to_conflict: float = fr(1.0, 0.0, 10.0, "poverty and marginalisation -> conflict rate")
    drought_to_disease: float = fr(1.0, 0.0, 10.0, "water scarcity -> transmission of waterborne disease")
    conflict_to_markets: float = fr(1.0, 0.0, 10.0, "conflict events -> market disruption, food prices, labour demand")
    conflict_to_health: float = fr(1.0, 0.0, 10.0, "conflict events -> access to health care")
    conflict_to_households: float = fr(1.0, 0.0, 10.0, "conflict events -> household exposure: deaths, looting, raiding, fear")
    conflict_to_displacement: float = fr(1.0, 0.0, 10.0, "fear of violence -> flight")
    displacement_to_disease: float = fr(1.0, 0.0, 10.0, "camp crowding -> transmission")
    displacement_to_conflict: float = fr(1.0, 0.0, 10.0, "influx of displaced households -> host tension and conflict")
    disease_to_income: float = fr(1.0, 0.0, 10.0, "illness -> lost labour and health spending")
    malnutrition_to_disease: float = fr(1.0, 0.0, 10.0, "acute malnutrition -> susceptibility and case fatality")
    food_insecurity_to_displacement: float = fr(1.0, 0.0, 10.0, "emergency food insecurity -> distress migration")
    covariate_to_informal_support: float = fr(1.0, 0.0, 10.0, "community-wide shortfall -> collapse of informal support")


@dataclass(frozen=True)
class DisplacementConfig:
    """Flight, destination choice, life while displaced, and return."""

    enabled: bool = True
    flight_fear_median: float = fr(0.55, 0.0, 10.0, "median fear at which a household flees (thresholds vary by household)")
    flight_threshold_log_sd: float = fr(0.4, 0.0, 3.0, "sd of log flight thresholds across households")
    p_distress_migration: float = fr(0.01, 0.0, 1.0, "monthly chance of distress migration at the emergency coping stage after two or more gap months in a row")
    herd_loss_on_flight_frac: float = fr(0.5, 0.0, 1.0, "share of the herd lost or left behind when fleeing")
    displaced_wage_frac: float = fr(0.6, 0.0, 2.0, "wage earnings while displaced, share of a resident's")
    safety_weight: float = fr(1.0, 0.0, 100.0, "destination utility per unit of log conflict rate avoided")
    distance_weight_per_100km: float = fr(0.8, 0.0, 100.0, "destination utility lost per 100 km")
    services_weight: float = fr(1.0, 0.0, 100.0, "destination utility per unit of health access")
    camp_bonus: float = fr(0.5, -100.0, 100.0, "extra utility of a camp (aid, protection)")
    choice_noise: float = fr(0.5, 0.0, 100.0, "scale of idiosyncratic destination preferences (Gumbel)")
    safe_rate_multiple: float = fr(
        1.25, 0.0, 1000.0, "the origin is safe when its expected conflict rate, averaged over return_safe_months, is at most this multiple of its usual level"
    )
    return_min_production: float = fr(0.75, 0.0, 1.0, "harvests (production index, averaged over return_safe_months) the origin needs before households return")
    return_safe_months: int = fr(6, 0, 240, "window, months, over which the origin's conflict rate and harvests are averaged to judge it safe (0: always safe)")
    p_return: float = fr(0.25, 0.0, 1.0, "monthly chance of returning once the origin is safe")


@dataclass(frozen=True)
class OutputConfig:
    figure: bool = True
    figure_dpi: int = fr(110, 30, 600, "figure resolution, dots per inch")


@dataclass(frozen=True)
class Config:
    """The whole run: the frozen result of validating a composed config."""

    seed: int = fr(42, 0, 2**63 - 1, "seed of all random streams")
    months: int = fr(120, 1, 6000, "simulated horizon, months")
    spinup_months: int = fr(12, 0, 240, "months simulated before the horizon and not recorded")
    population: PopulationConfig = field(default_factory=PopulationConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    storyline: StorylineConfig = field(default_factory=StorylineConfig)
    hazards: dict[str, Any] = field(default_factory=lambda: {"drought": {"kind": "drought"}})
    food_system: FoodSystemConfig = field(default_factory=FoodSystemConfig)
    households: HouseholdConfig = field(default_factory=HouseholdConfig)
    displacement: DisplacementConfig = field(default_factory=DisplacementConfig)
    couplings: CouplingsConfig = field(default_factory=CouplingsConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    interventions: dict[str, Any] = field(
        default_factory=dict, metadata={"doc": "the portfolio: name -> {kind, sector, targeting, ...}; order = priority for money"}
    )
    output: OutputConfig = field(default_factory=OutputConfig)

    def validate(self, path: str) -> None:
        if self.households.famine_gap_phase5 <= self.households.famine_gap_onset:
            raise ConfigError(
                "households.famine_gap_phase5",
                self.households.famine_gap_phase5,
                f"a gap > households.famine_gap_onset ({self.households.famine_gap_onset})",
            )
        if self.households.meal_cut_crisis_frac < self.households.meal_cut_stress_frac:
            raise ConfigError(
                "households.meal_cut_crisis_frac",
                self.households.meal_cut_crisis_frac,
                f"a share >= households.meal_cut_stress_frac ({self.households.meal_cut_stress_frac})",
            )
        for i, ev in enumerate(self.storyline.events):
            end = ev.end if ev.end is not None else ev.start
            if end > self.months:
                raise ConfigError(
                    f"storyline.events[{i}].end", end, f"a month within the horizon (1..{self.months}; end defaults to start)"
                )


def replace(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported for frozen configs."""
    return dataclasses.replace(obj, **changes)
