"""Configuration of the response: money, coordination, early warning and triggers.

``policy`` in the run config. With ``enabled: false`` (preset ``policy=none``)
nothing is delivered: the interventions of the portfolio exist but never spend.

The four enabling conditions of the HSPR methodology are parameters here:

- **commitment**: ``budget_usd_per_year`` (size) and ``budget_reliability``;
- **capacity**: ``capacity``, a multiplier on every intervention's delivery throughput;
- **consultation**: ``consultation``, closing part of the gap between each
  intervention's targeting accuracy and 1;
- **coordination**: ``coordination`` in [0, 1], 0 = siloed, 1 = integrated (the
  default follows ``mode``).

Money is in real US dollars for the scenario's real households: the engine scales
budgets, capacities and costs to the simulated population and back, so results do
not depend on how many households are simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..validate import field_range as fr

__all__ = [
    "SECTORS",
    "SIGNALS",
    "ForecastConfig",
    "TriggerConfig",
    "WarningConfig",
    "FinanceConfig",
    "PolicyConfig",
]

#: agencies / sectors; each has a budget share and an information lag when siloed
SECTORS = ("food_security", "health", "protection", "livelihoods")
#: early-warning signals (district fields ``alert_<signal>``); ``drought`` is the
#: trigger (forecast-based when anticipatory, observed when reactive)
SIGNALS = ("drought", "food", "conflict", "disease")
#: the signals each sector watches when it acts alone (siloed)
SECTOR_SIGNALS = {
    "food_security": ("drought", "food"),
    "health": ("disease",),
    "protection": ("conflict",),
    "livelihoods": ("drought",),
}


def _choice(default: str, choices: tuple[str, ...], doc: str):
    return field(default=default, metadata={"choices": choices, "doc": doc})


@dataclass(frozen=True)
class ForecastConfig:
    """Drought forecasts generated from the simulated future.

    The forecast of the drought index ``z`` at lead ``L`` months is
    ``f = rho_L z + sqrt(1 - rho_L^2) eps`` with ``rho_L = skill exp(-L / skill_decay_months)``
    and ``eps`` standard normal (stream ``ew.forecast``, never policy-dependent);
    the issued probability of drought is ``P(z <= drought_spi | f)``, which is
    reliable (calibrated) for a stationary climate.
    """

    skill: float = fr(0.8, 0.0, 0.999, "forecast-truth correlation at lead 0")
    skill_decay_months: float = fr(6.0, 0.1, 1e4, "e-folding lead time of the forecast-truth correlation, months")


@dataclass(frozen=True)
class TriggerConfig:
    """When the drought signal fires.

    ``kind``:

    - ``probability``: forecast probability of drought at ``lead_months`` >= ``probability``;
    - ``two_stage``: readiness when the probability at ``readiness_lead_months`` >=
      ``readiness_probability`` (funds and supplies pre-positioned: no set-up delay),
      activation as ``probability``;
    - ``calibrated``: as ``probability``, with the threshold set on a hindcast of
      ``hindcast_years`` simulated years so the trigger would have fired in
      ``target_frequency`` of district-years;

    ``return_periods: true`` (with ``probability`` or ``two_stage``) sets the thresholds
    as trigger designers do (IRI 2022, Ethiopia Somali region FbF: actions in the most
    probable 30% and 20% of years): activation on the hindcast at ``target_frequency``
    of district-years (0.2: 1-in-5 years), readiness at ``readiness_frequency`` (0.3),
    instead of the fixed probabilities;
    - ``observed`` (reactive): an observed indicator crosses ``observed_threshold``
      (``spi`` at or below it, ``ipc3plus_frac`` at or above it).

    With ``area_fraction`` > 0 the trigger fires in every district once districts
    holding at least that share of the region's people meet the condition;
    with 0 each district fires on its own.
    """

    kind: str = _choice("probability", ("probability", "two_stage", "calibrated", "observed"), "trigger rule")
    lead_months: int = fr(3, 0, 12, "lead time of the activation forecast, months")
    probability: float = fr(0.5, 0.0, 1.0, "forecast probability of drought at which the trigger activates")
    readiness_lead_months: int = fr(6, 0, 12, "lead time of the readiness forecast (two_stage), months")
    readiness_probability: float = fr(0.3, 0.0, 1.0, "forecast probability at which readiness is declared (two_stage)")
    target_frequency: float = fr(0.25, 0.01, 0.99, "share of district-years the calibrated trigger fires in the hindcast")
    return_periods: bool = field(default=False, metadata={"doc": (
        "probability / two_stage: thresholds from the hindcast (target_frequency, readiness_frequency) "
        "instead of probability / readiness_probability")})
    readiness_frequency: float = fr(0.3, 0.01, 0.99, "share of district-years readiness is declared in the hindcast "
                                                     "(two_stage with return_periods)")
    hindcast_years: int = fr(30, 5, 2000, "length of the hindcast used to calibrate the threshold, years")
    area_fraction: float = fr(0.0, 0.0, 1.0, "share of the region's people in districts meeting the condition for a region-wide trigger")
    observed_indicator: str = _choice("ipc3plus_frac", ("ipc3plus_frac", "spi"), "indicator of an observed (reactive) trigger")
    observed_threshold: float = fr(0.2, -5.0, 1.0, "threshold of the observed indicator")

    def validate(self, path: str) -> None:
        if self.return_periods and self.kind not in ("probability", "two_stage"):
            raise ConfigError(f"{path}.return_periods", True, "false unless kind is probability or two_stage "
                                                              "(calibrated sets its own threshold; observed has none)")
        if self.return_periods and self.kind == "two_stage" and self.readiness_frequency < self.target_frequency:
            raise ConfigError(f"{path}.readiness_frequency", self.readiness_frequency,
                              f"a frequency >= target_frequency ({self.target_frequency}): readiness is declared "
                              "at least as often as the trigger activates")
        if self.kind == "two_stage" and self.readiness_lead_months < self.lead_months:
            raise ConfigError(
                f"{path}.readiness_lead_months",
                self.readiness_lead_months,
                f"a lead >= lead_months ({self.lead_months}): readiness comes before activation",
            )


@dataclass(frozen=True)
class WarningConfig:
    """The other sectors' signals: observed food insecurity, conflict escalation,
    disease surveillance."""

    food_ipc3plus_threshold: float = fr(0.2, 0.0, 1.0, "district IPC3+ share at which the food-security sector alerts")
    conflict_escalation_multiple: float = fr(
        2.0, 1.0, 1000.0, "events last month / the district's usual monthly rate that raise a conflict warning"
    )
    conflict_min_events: int = fr(2, 1, 100_000, "fewest events last month for a conflict warning")
    surveillance_delay_months: int = fr(1, 0, 12, "months from infections to their report")
    surveillance_sensitivity: float = fr(0.3, 0.0, 1.0, "share of infections detected and reported")
    disease_alert_per_10k: float = fr(5.0, 0.0, 1e4, "reported cases per 10,000 people in a month that raise an outbreak alert")


@dataclass(frozen=True)
class FinanceConfig:
    """How money for triggered actions is released.

    ``prearranged``: funds agreed in advance are released when the drought trigger
    fires, for the actions it activates (activations by other warnings still go
    through an appeal); ``appeal`` (the reactive baseline): an appeal is launched
    when a warning or trigger fires and money arrives
    ``appeal_delay_months + funding_delay_months`` later.

    Money beyond the budget, as humanitarian finance provides it:

    - a **contingency reserve** (``reserve_usd_per_year``, with ``prearranged``): extra,
      pre-arranged money renewed each horizon year and released only by the drought
      trigger, for the programmes it activates (the pre-agreed actions): at each such
      activation the district's share of the year's reserve (its share of the people),
      split among the programmes the trigger starts there that month, is earmarked to
      them; what is not spent within ``reserve_window_months`` of the first delivery
      returns to the reserve, and the reserve left at a year's end lapses;
    - **appeals** (``appeal_funding_share`` > 0): every activation financed by an appeal
      asks for its planned cost (set-up, plus the monthly unit cost at the district's
      means times the coverage cap times the duration) and receives that share of it,
      new money earmarked to the programme, when the appeal's delays have passed; what
      is unspent when the activation ends lapses.

    Earmarked money is spent before the budget. With both 0 (the default) the response
    lives on its budget alone.
    """

    kind: str = _choice("prearranged", ("prearranged", "appeal"), "release of funds for triggered actions")
    appeal_delay_months: int = fr(2, 0, 24, "months from the trigger to the appeal's launch (assessment, drafting)")
    funding_delay_months: int = fr(2, 0, 24, "months from the appeal to money on the ground")
    reserve_usd_per_year: float = fr(0.0, 0.0, 1e13, "pre-arranged contingency money per year, released only by the "
                                                     "drought trigger for its pre-agreed actions, USD")
    reserve_window_months: int = fr(6, 1, 60, "months a released reserve tranche may be spent, from the first delivery")
    appeal_funding_share: float = fr(0.0, 0.0, 1.0, "share of an appeal's ask that arrives (new money); 0: appeals "
                                                    "bring no money and the budget pays")

    def validate(self, path: str) -> None:
        if self.reserve_usd_per_year > 0 and self.kind != "prearranged":
            raise ConfigError(f"{path}.reserve_usd_per_year", self.reserve_usd_per_year,
                              "0 unless kind is prearranged (a contingency reserve is pre-arranged finance)")


@dataclass(frozen=True)
class BudgetCycleConfig:
    """The budget's planning cycle: how a year's allotment arrives, what happens to money
    left at the year's end, and whether money stranded in sector accounts is moved.

    Each horizon year's allotment (``budget_usd_per_year``, drawn for reliability at the
    year's start) is disbursed in ``tranches_per_year`` equal tranches at the start of
    each period (12: monthly, 4: quarterly instalments, 1: all at the year's start).
    At each year's end, ``carryover_frac`` of the budget money left in the accounts
    carries over into the next year; the rest lapses (returned to the donor).

    With ``review_months`` > 0, a review every that many months finds the money each
    sector account holds beyond ``keep_months`` of its own spending (its mean monthly
    spending since the last review) and moves it to the pooled account, open to every
    programme: the money leaves the sector's account at the review and arrives
    ``reallocation_delay_months`` later, less ``reallocation_cost_frac`` of it (the cost
    of revising grant agreements and plans, booked as spending). Defaults: monthly
    tranches, everything carries over, no reallocation (the response before the cycle
    existed). Sizes are assumed, not sourced: they are for sensitivity analysis.
    """

    tranches_per_year: int = fr(12, 1, 12, "equal budget tranches per year, each at the start of its period "
                                           "(a divisor of 12)")
    carryover_frac: float = fr(1.0, 0.0, 1.0, "share of the budget left at a year's end that carries over; the "
                                              "rest lapses")
    review_months: int = fr(0, 0, 120, "months between reviews that move stranded sector money to the pool; 0 = none")
    keep_months: float = fr(3.0, 0.0, 120.0, "months of its own mean spending a sector keeps at a review")
    reallocation_delay_months: int = fr(2, 0, 24, "months from a review to the moved money's arrival in the pool")
    reallocation_cost_frac: float = fr(0.05, 0.0, 1.0, "share of the moved money lost to the reallocation (assumed)")

    def validate(self, path: str) -> None:
        if 12 % self.tranches_per_year:
            raise ConfigError(f"{path}.tranches_per_year", self.tranches_per_year, "a divisor of 12 (1, 2, 3, 4, 6 or 12)")


@dataclass(frozen=True)
class PolicyConfig:
    name: str = "none"
    description: str = ""
    enabled: bool = False
    mode: str = _choice("siloed", ("siloed", "integrated"), "response mode; sets the default coordination (0 or 1)")
    coordination: float | None = fr(None, 0.0, 1.0, "coordination level: 0 siloed .. 1 integrated (default from mode)")
    budget_usd_per_year: float = fr(0.0, 0.0, 1e13, "commitment: money for the portfolio per year, USD")
    budget_reliability: float = fr(
        1.0, 0.0, 1.0, "commitment: chance a year's budget arrives in full (else a uniform share of it arrives)"
    )
    spend_cap_usd: float = fr(0.0, 0.0, 1e15, "most the response may spend over the horizon, budget, reserve and "
                                               "appeal money together (USD); 0 = no cap (equal-spend comparisons)")
    capacity: float = fr(1.0, 0.0, 1000.0, "capacity: multiplier on every intervention's delivery throughput")
    consultation: float = fr(0.0, 0.0, 1.0, "consultation: share of the targeting-accuracy gap (1 - accuracy) closed")
    sector_budget_shares: dict[str, float] = field(
        default_factory=lambda: {"food_security": 0.4, "health": 0.25, "protection": 0.15, "livelihoods": 0.2},
        metadata={"doc": "split of the budget between sectors when it is not pooled"},
    )
    sector_info_lag_months: dict[str, int] = field(
        default_factory=lambda: {"food_security": 2, "health": 1, "protection": 1, "livelihoods": 3},
        metadata={"doc": "months between a sector's data collection and its use, siloed"},
    )
    joint_info_lag_months: int = fr(2, 0, 24, "months between the joint assessment's data collection and its use")
    reassess_months: int = fr(3, 1, 60, "months between targeting assessments (registry updates)")
    coordination_overhead_frac: float = fr(0.05, 0.0, 0.9, "share of the budget spent on coordination at full coordination")
    coordination_delay_months: int = fr(1, 0, 24, "extra months to agree a joint response at full coordination")
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    trigger: TriggerConfig = field(default_factory=TriggerConfig)
    warnings: WarningConfig = field(default_factory=WarningConfig)
    finance: FinanceConfig = field(default_factory=FinanceConfig)
    budget_cycle: BudgetCycleConfig = field(default_factory=BudgetCycleConfig)

    def validate(self, path: str) -> None:
        for name, value in (("sector_budget_shares", self.sector_budget_shares), ("sector_info_lag_months", self.sector_info_lag_months)):
            for k, v in value.items():
                if k not in SECTORS:
                    raise ConfigError(f"{path}.{name}.{k}", v, "one of the sectors " + ", ".join(SECTORS), problem="unknown sector")
                if v < 0:
                    raise ConfigError(f"{path}.{name}.{k}", v, "a value >= 0")
            missing = [s for s in SECTORS if s not in value]
            if missing:
                raise ConfigError(f"{path}.{name}", dict(value), "a value for every sector (missing " + ", ".join(missing) + ")")
        total = sum(self.sector_budget_shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"{path}.sector_budget_shares", dict(self.sector_budget_shares), f"shares summing to 1 (sum {total:.6g})")
        for k, v in self.sector_info_lag_months.items():
            if v != int(v) or v > self.reassess_months:
                raise ConfigError(f"{path}.sector_info_lag_months.{k}", v, f"whole months <= reassess_months ({self.reassess_months})")
        if self.joint_info_lag_months > self.reassess_months:
            raise ConfigError(f"{path}.joint_info_lag_months", self.joint_info_lag_months, f"months <= reassess_months ({self.reassess_months})")

    @property
    def coordination_level(self) -> float:
        """The coordination in effect: ``coordination`` if set, else 0 (siloed) or 1 (integrated)."""
        if self.coordination is not None:
            return float(self.coordination)
        return 1.0 if self.mode == "integrated" else 0.0
