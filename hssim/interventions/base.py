"""What every intervention shares: sector, targeting, coverage, capacity, timing, cost.

An intervention is a module of the INTERVENTION phase. Who it serves each month is
decided the phase before (ALLOCATION) by the response (:mod:`hssim.policies.response`),
which owns money, targeting assessments, the registry and enrolment; the
intervention itself says what one served household costs (:meth:`Intervention.unit_cost_usd`)
and what serving it does to household or district state (:meth:`Intervention.step`).

Costs and capacities are in real units (US dollars, real households of the
scenario); the response converts them to the simulated population.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np

from ..errors import ConfigError
from ..module import Module
from ..phases import Phase
from ..policies.schema import SECTORS, SIGNALS
from ..validate import field_range as fr

__all__ = [
    "UnitCost",
    "RULES",
    "CATEGORIES",
    "NEED_INDICATORS",
    "TargetingConfig",
    "InterventionConfig",
    "Intervention",
    "covered_frac",
]

#: targeting rules (MODEL.md): geographic; categorical; means; proxy-means; need on
#: an indicator; community-based; ``all`` serves every household where it runs
RULES = ("all", "geographic", "categorical", "means", "proxy_means", "need", "community")
#: categories a categorical rule can name (a household qualifies if it is in any)
CATEGORIES = (
    "female_head",
    "marginalised",
    "displaced",
    "with_u5",
    "poorest_quintile",
    "pastoral",
    "agropastoral",
    "crop",
    "urban",
)
#: indicators a need rule can name; eligible when indicator >= threshold
#: (``consumption_gap`` = 1 - adequacy; ``herd_tlu`` needs a herd of at least threshold TLU)
NEED_INDICATORS = ("ipc_phase", "malnutrition", "coping", "consumption_gap", "fear", "sick", "susceptible", "herd_tlu", "compound")


def _choice(default: str, choices: tuple[str, ...], doc: str):
    return field(default=default, metadata={"choices": choices, "doc": doc})


@dataclass(frozen=True)
class TargetingConfig:
    """Who is eligible and who comes first.

    Every rule is applied where the programme runs (``districts``, empty = all) to
    households alive there (by current location). ``accuracy`` is the chance the
    assessment classifies a household correctly; otherwise its classification is
    a coin with the district's eligible share (so errors neither add nor remove
    eligible households on average: exclusion and inclusion errors balance). At
    accuracy 1 the observed eligible set is exactly the eligible set.
    """

    rule: str = _choice("need", RULES, "targeting rule")
    districts: tuple[str, ...] = field(default=(), metadata={"doc": "districts where the programme runs; empty = all"})
    categories: tuple[str, ...] = field(default=(), metadata={"doc": "categorical rule: eligible if in any of these"})
    indicator: str = _choice("ipc_phase", NEED_INDICATORS, "need rule: the indicator")
    threshold: float = fr(3.0, -1e9, 1e9, "need rule: eligible when the indicator is at least this")
    poverty_line_usd_per_person_day: float = fr(1.0, 0.0, 1e6, "means rule: eligible below this consumption")
    share: float = fr(0.3, 0.0, 1.0, "proxy_means / community rules: share of households ranked neediest that are eligible")
    accuracy: float = fr(1.0, 0.0, 1.0, "chance a household is classified correctly")

    def validate(self, path: str) -> None:
        for i, c in enumerate(self.categories):
            if c not in CATEGORIES:
                raise ConfigError(f"{path}.categories[{i}]", c, "one of " + ", ".join(CATEGORIES))
        if self.rule == "categorical" and not self.categories:
            raise ConfigError(f"{path}.categories", list(self.categories), "at least one category for the categorical rule")
        if self.rule == "geographic" and not self.districts:
            raise ConfigError(f"{path}.districts", list(self.districts), "at least one district for the geographic rule")


@dataclass(frozen=True)
class InterventionConfig:
    """Fields every intervention has (each kind adds its effects)."""

    kind: str = ""
    enabled: bool = True
    sector: str = _choice("food_security", SECTORS, "the agency / sector that runs it")
    targeting: TargetingConfig = field(default_factory=TargetingConfig)
    activation: str = _choice("trigger", ("always", "trigger"), "a regular programme, or one a warning or trigger activates")
    trigger_on: tuple[str, ...] = field(
        default=(), metadata={"doc": "signals that activate it when siloed (default: its sector's); integrated responses share all"}
    )
    anticipatory: bool = field(default=False, metadata={
        "doc": "a pre-agreed anticipatory action: only a drought forecast trigger activates it (never an observed "
               "signal, whatever the coordination); with an observed trigger it never runs"})
    coverage_cap_frac: float = fr(0.3, 0.0, 1.0, "most households served at once, share of a district's households")
    capacity_households_per_month: float = fr(5000.0, 0.0, 1e9, "new households it can enrol per month, region-wide (real)")
    setup_delay_months: int = fr(1, 0, 60, "months from activation (or the start) to the first delivery")
    duration_months: int = fr(6, 1, 6000, "months a triggered activation delivers")
    service_months: int = fr(0, 0, 6000, "months each enrolled household is served (0 = while eligible at reassessment)")
    once: bool = field(default=False, metadata={"doc": "a household is served in at most one enrolment (one-off delivery)"})
    fixed_cost_usd: float = fr(0.0, 0.0, 1e12, "cost of setting it up in a district, per activation, USD")
    cost_per_household_usd: float = fr(2.0, 0.0, 1e9, "delivery cost per household served per month, USD")

    def validate(self, path: str) -> None:
        for i, s in enumerate(self.trigger_on):
            if s not in SIGNALS:
                raise ConfigError(f"{path}.trigger_on[{i}]", s, "one of " + ", ".join(SIGNALS))
        if self.anticipatory and self.trigger_on:
            raise ConfigError(f"{path}.trigger_on", list(self.trigger_on), "empty for an anticipatory action (only the "
                              "drought forecast trigger starts it)")
        if self.anticipatory and self.activation != "trigger":
            raise ConfigError(f"{path}.anticipatory", True, "false for a regular programme (activation: always); "
                              "an anticipatory action is activated by the forecast trigger")


class UnitCost(NamedTuple):
    """What serving one household for one month costs, real USD::

        base + per_member x members + per_tlu x herd_tlu + by_district[district]
             + last_month x (months of service left == 1)

    (``district`` is the household's home district; ``by_district`` float64[D] or
    None). The response evaluates it in a kernel, term by term in this order;
    :meth:`Intervention.unit_cost_usd` evaluates the same in NumPy.
    """

    base: float
    per_member: float = 0.0
    per_tlu: float = 0.0
    by_district: np.ndarray | None = None
    last_month: float = 0.0

    def lower_bound(self) -> float:
        """At most the cost of any household alive (at least one member, no herd, the
        cheapest district, not the last month), added in the same order."""
        low = self.base + self.per_member * 1.0
        low = low + self.per_tlu * 0.0
        low = low + (float(np.min(self.by_district)) if self.by_district is not None and len(self.by_district) else 0.0)
        return low + 0.0


class Intervention(Module):
    """Base class: subclasses set ``pillar`` and implement :meth:`apply`.

    ``self.index`` (the position in the portfolio) and ``self.response`` are set by
    the response when the engine is built.
    """

    phase = Phase.INTERVENTION
    pillar: ClassVar[str] = "protection"  # or "empowerment"
    #: kinds whose effect is on districts (coverage share), not on each household
    district_level: ClassVar[bool] = False
    #: kinds that meet basic needs (food, cash, nutrition, herds): what "need unmet" counts
    meets_need: ClassVar[bool] = False
    #: the signals of the hazards this kind addresses: a joint (integrated) analysis
    #: activates it on any of them, a sector alone only on its own
    relevant_signals: ClassVar[tuple[str, ...]] = ("drought", "food", "conflict", "disease")
    # whom to serve comes from the response, not from state: each kind declares the
    # fields its :meth:`apply` (or its own :meth:`step`) reads and writes
    reads = ()
    writes = ()

    def __init__(self, cfg: InterventionConfig, name: str):
        self.cfg = cfg
        self.label = name  # the name in the portfolio (config key), used in streams and tables
        self.name = f"interventions.{name}"  # the engine's module name, distinct from other modules
        self.index = -1
        self.response = None

    # -- what the response asks -------------------------------------------------------
    def cost_terms(self, engine) -> UnitCost:
        """This month's unit cost (see :class:`UnitCost`); a flat ``cost_per_household_usd``
        unless a kind prices households by size, herd, district or month of service."""
        return UnitCost(base=self.cfg.cost_per_household_usd)

    def unit_cost_usd(self, engine, idx: np.ndarray, left: np.ndarray) -> np.ndarray:
        """float64[len(idx)] real USD to serve each household ``idx`` this month.

        ``left`` : int16[len(idx)]  months of service left including this one (-1 open-ended).
        Kinds define :meth:`cost_terms`, not this.
        """
        t = self.cost_terms(engine)
        hh = engine.households
        x = t.base + t.per_member * hh.members[idx].astype(np.float64)
        x = x + t.per_tlu * hh.herd_tlu[idx].astype(np.float64)
        x = x + (t.by_district[hh.district[idx]] if t.by_district is not None else 0.0)
        return x + np.where(left == 1, t.last_month, 0.0)

    def min_unit_cost_usd(self, engine) -> float:
        """A lower bound of :meth:`unit_cost_usd` this month (:meth:`UnitCost.lower_bound`):
        a programme with less money cannot enrol anyone."""
        return self.cost_terms(engine).lower_bound()

    # -- effects ---------------------------------------------------------------------
    def step(self, engine, ti: int) -> None:
        if self.response is None or not self.response.acting(engine, ti):
            return
        idx = self.response.served_idx[self.index]
        self.apply(engine, ti, idx)

    def coverage(self, engine, idx: np.ndarray) -> np.ndarray:
        """float64[D] share of the households living in each district (alive) that are
        among ``idx``: :func:`covered_frac`, from the response's count by district when
        ``idx`` is this month's delivery (the households it served)."""
        r = self.response
        if idx is r.served_idx[self.index]:
            served = r.served_by_location[self.index].astype(np.float64)
            return served / np.maximum(r.alive_by_location, 1.0)
        return covered_frac(engine, r, idx)

    @staticmethod
    def add_share(values: np.ndarray, effect: np.ndarray) -> None:
        """Close a share ``effect`` of what is missing, in place: ``a <- a + (1 - a) b``.

        Order-free (``1 - (1 - a)(1 - b)``), so programmes acting on the same district
        field combine whatever their order; ``b = 0`` leaves ``a`` bit for bit."""
        values += (1.0 - values) * np.clip(effect, 0.0, 1.0)

    def apply(self, engine, ti: int, idx: np.ndarray) -> None:
        """Effects of serving households ``idx`` (int64, distinct, in no particular order) this month."""
        raise NotImplementedError


def covered_frac(engine, response, idx: np.ndarray) -> np.ndarray:
    """float64[D] share of the households living in each district (alive) that are among ``idx``."""
    D = engine.scenario.n_districts
    served = np.bincount(engine.households.location[idx], minlength=D).astype(np.float64)
    return served / np.maximum(response.alive_by_location, 1.0)
