"""The configuration schema: frozen dataclasses with types, defaults and ranges.

YAML files in ``configs/`` hold values only; these classes say what each value means,
its unit and its allowed range. Each model module owns its section's class (drought:
:mod:`hssim.hazards.drought`, food system: :mod:`hssim.couplings.food_system`, coupling
strengths: :mod:`hssim.couplings.strengths`, households and population:
:mod:`hssim.households.dynamics`, displacement: :mod:`hssim.households.displacement`,
policy: :mod:`hssim.policies.schema`); the root :class:`Config` composes them here and
re-exports them. :func:`hssim.validate.from_mapping` builds them
from a composed Hydra config and rejects unknown keys and out-of-range values.

Units are in the names: ``_usd`` US dollars (nominal), ``_kg`` kilograms of cereal
equivalent, ``_tlu`` tropical livestock units, ``p_`` a per-month probability,
``_frac`` a share in [0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..couplings.food_system import FoodSystemConfig
from ..couplings.strengths import CouplingsConfig
from ..errors import ConfigError
from ..hazards.drought import DroughtConfig
from ..households.displacement import DisplacementConfig
from ..households.dynamics import HouseholdConfig, PopulationConfig
from ..policies.schema import PolicyConfig
from ..validate import field_range as fr
from ..validate import year_month

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
    "ValuationConfig",
    "Config",
]


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
    #: the calendar month of horizon month 1, "YYYY-MM" (a storyline that replays a
    #: documented crisis; crisis targets name calendar months); "" = not dated
    first_month: str = ""

    def validate(self, path: str) -> None:
        if self.first_month and year_month(self.first_month) is None:
            raise ConfigError(f"{path}.first_month", self.first_month, "a calendar month 'YYYY-MM' (or empty)")


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
class ValuationConfig:
    """How a comparison values what a response avoided, the way anticipatory-action
    cost-benefit studies count it (``hssim.compare``): the food gap avoided, productive
    assets and livestock kept, and humanitarian need averted valued at what answering it
    costs, each month discounted to the start of the horizon, against the discounted
    spending."""

    discount_rate_per_year: float = fr(0.05, 0.0, 0.5, "annual discount rate of losses and spending (assumed)")
    response_cost_usd_per_person_month: float = fr(
        8.0, 0.0, 1e4, "cost of answering one person-month in IPC phase 3+ (the standard portfolio's cash ration, "
                       "'the cost of a full ration at normal prices'; assumed)")


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
    valuation: ValuationConfig = field(default_factory=ValuationConfig)

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
        if self.storyline.first_month:
            month = year_month(self.storyline.first_month) % 12 + 1
            if month != self.scenario.start_calendar_month:
                raise ConfigError(
                    "storyline.first_month", self.storyline.first_month,
                    f"a month that agrees with scenario.start_calendar_month ({self.scenario.start_calendar_month})",
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
