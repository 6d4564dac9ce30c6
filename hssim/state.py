"""Struct-of-arrays state: one NumPy array per field, no object per household.

Household fields are declared as :class:`FieldSpec` rows (name, dtype, unit, doc).
The core fields are below; a module that needs more (disease compartments,
displacement, interventions received, ...) declares them with
``household_fields()`` and the engine allocates them next to the core ones.
Categorical fields are small-int enums (see the ``LIVELIHOOD_*`` constants).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FieldSpec",
    "Arrays",
    "HOUSEHOLD_FIELDS",
    "DISTRICT_FIELDS",
    "HAZARD_OUTPUTS",
    "LIVELIHOODS",
    "PASTORAL",
    "AGROPASTORAL",
    "CROP",
    "URBAN",
]

#: livelihood codes (int8); the order is the order of the ``share_*`` scenario columns
LIVELIHOODS = ("pastoral", "agropastoral", "crop", "urban")
PASTORAL, AGROPASTORAL, CROP, URBAN = 0, 1, 2, 3


@dataclass(frozen=True)
class FieldSpec:
    name: str
    dtype: str
    unit: str
    doc: str


HOUSEHOLD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("district", "int16", "index", "district of residence"),
    FieldSpec("community", "int32", "index", "community (village); households of one community are contiguous"),
    FieldSpec("livelihood", "int8", "enum", "0 pastoral, 1 agro-pastoral, 2 crop farming, 3 urban/wage"),
    FieldSpec("female_head", "int8", "bool", "household head is a woman"),
    FieldSpec("marginalised", "int8", "bool", "member of a marginalised group"),
    FieldSpec("poorest_quintile", "int8", "bool", "in the poorest fifth by initial wealth (fixed group)"),
    FieldSpec("members", "int8", "people", "members alive"),
    FieldSpec("dead", "int8", "people", "members who died during the run"),
    FieldSpec("born", "int16", "people", "children born into the household during the run (members + dead - born is fixed)"),
    FieldSpec("u5", "int8", "people", "children under five alive"),
    FieldSpec("adults", "int8", "people", "working-age members"),
    FieldSpec("land_ha", "float32", "ha", "cultivated rain-fed land"),
    FieldSpec("herd_tlu", "float32", "TLU", "livestock, tropical livestock units"),
    FieldSpec("assets_usd", "float32", "USD", "non-livestock productive assets"),
    FieldSpec("savings_usd", "float32", "USD", "cash savings"),
    FieldSpec("debt_usd", "float32", "USD", "outstanding informal debt"),
    FieldSpec("food_stock_kg", "float32", "kg", "own food stock, cereal equivalent"),
    FieldSpec("adequacy", "float32", "frac", "last month's food consumption / need"),
    FieldSpec("consumption_usd_pc_day", "float32", "USD", "last month's consumption per person per day"),
    FieldSpec("gap_months", "int8", "months", "consecutive months with a consumption gap"),
    FieldSpec("coping", "int8", "enum", "highest coping stage last month: 0 none, 1 stress, 2 crisis, 3 emergency"),
    FieldSpec("malnutrition", "int8", "enum", "acute malnutrition of the household's under-fives: 0 none, 1 MAM, 2 SAM"),
    FieldSpec("ipc_phase", "int8", "enum", "IPC-like household phase 1-5"),
    FieldSpec("location", "int16", "index", "district where the household lives now (its origin unless displaced)"),
    FieldSpec("displaced", "int8", "enum", "0 at home, 1 hosted in another district, 2 in a camp"),
    FieldSpec("displaced_months", "int8", "months", "months since the household fled (0 at home)"),
    FieldSpec("fear", "float32", "frac", "fear of violence, 0 none .. 1 extreme; decays without new exposure"),
    FieldSpec("violence_exposed", "int8", "bool", "hit by violence this month"),
    FieldSpec("sick", "int8", "people", "members ill (symptomatic) at some time this month"),
    # what interventions deliver (written in the INTERVENTION phase, neutral at 0)
    FieldSpec("aid_cash_usd", "float32", "USD", "cash received this month (transfers, insurance payouts)"),
    FieldSpec("aid_food_kg", "float32", "kg", "in-kind food received this month, cereal equivalent"),
    FieldSpec("nutrition_treated", "int8", "index", "0 untreated; k + 1 = the under-fives are in treatment programme k this month"),
    FieldSpec("livestock_protected", "float32", "frac", "share of livestock mortality averted this month (feed, water, veterinary care)"),
    FieldSpec("savings_group", "int8", "index", "0 none; k + 1 = member of savings-group programme k"),
    FieldSpec("flight_early_frac", "float32", "frac", "share by which a warned household lowers its flight threshold this month"),
    FieldSpec("ew_informed", "int8", "months", "months of early-warning awareness left (0 = not informed)"),
    FieldSpec("assisted", "int32", "bits", "interventions received this month: bit k = the portfolio's k-th intervention"),
)

#: district-level state written by hazards and impacts each month, float64[n_districts]
DISTRICT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("rain_mm", "float64", "mm", "rainfall this month"),
    FieldSpec("anomaly", "float64", "sd", "standardised rainfall anomaly this month"),
    FieldSpec("spi", "float64", "sd", "SPI-like standardised multi-month rainfall index"),
    FieldSpec("in_drought", "float64", "bool", "index at or below the drought threshold"),
    FieldSpec("harvest_yield_frac", "float64", "frac", "yield of the harvest in this month, share of potential (0 if none)"),
    FieldSpec("harvest_now", "float64", "bool", "a harvest comes in this month"),
    FieldSpec("production_index", "float64", "frac", "last year's harvests relative to a normal year"),
    FieldSpec("pasture_index", "float64", "frac", "pasture and water condition, 1 = normal"),
    FieldSpec("p_livestock_death", "float64", "p", "monthly livestock mortality"),
    FieldSpec("livestock_price_usd", "float64", "USD", "price of one TLU"),
    FieldSpec("food_price_usd_per_kg", "float64", "USD", "local cereal price"),
    FieldSpec("labour_demand", "float64", "frac", "rural labour demand, 1 = normal"),
    FieldSpec("water_scarcity", "float64", "frac", "0 normal .. 1 extreme water scarcity"),
    FieldSpec("conflict_events", "float64", "events", "conflict events this month"),
    FieldSpec("conflict_rate", "float64", "events", "expected conflict events this month (Hawkes intensity)"),
    FieldSpec("market_disruption", "float64", "frac", "share of market functioning lost to conflict"),
    FieldSpec("health_access_eff", "float64", "frac", "share of people reaching functioning health care (set in IMPACT)"),
    FieldSpec("new_infections", "float64", "people", "new infections this month (written by the disease module)"),
    FieldSpec("influx_frac", "float64", "frac", "displaced households hosted, share of resident households"),
    FieldSpec("camp_households", "float64", "households", "households in the district's camp"),
    # early warning (POLICY phase): 1 when the signal is on this month
    FieldSpec("drought_probability", "float64", "p", "forecast probability of drought at the trigger's lead (NaN-free; 0 if none)"),
    FieldSpec("ready_drought", "float64", "bool", "readiness declared for drought (two-stage trigger)"),
    FieldSpec("alert_drought", "float64", "bool", "drought trigger fired (forecast or observed)"),
    FieldSpec("alert_food", "float64", "bool", "observed food insecurity above the food-security sector's threshold"),
    FieldSpec("alert_conflict", "float64", "bool", "conflict escalation warning"),
    FieldSpec("alert_disease", "float64", "bool", "outbreak alert from disease surveillance"),
    FieldSpec("reported_cases", "float64", "people", "cases reported by surveillance this month"),
    # intervention effects on district conditions (INTERVENTION phase, read next month by hazards)
    FieldSpec("security_effect", "float64", "frac", "share of the conflict baseline rate removed by security interventions"),
    FieldSpec("committee_effect", "float64", "frac", "share of the scarcity -> conflict driver removed by resource committees"),
    FieldSpec("wash_effect", "float64", "frac", "share of disease transmission removed by WASH"),
    FieldSpec("surveillance_gain", "float64", "frac", "share of undetected cases community health workers bring to surveillance"),
    FieldSpec("targeting_gain", "float64", "frac", "share of the targeting-accuracy gap closed by community-based targeting"),
    FieldSpec("cost_usd", "float64", "USD", "money spent on the response in the district this month (real population)"),
)

#: district fields that hazards write each month and that fall back to a neutral
#: value (0) when no module writes them (a hazard switched off); rain falls back
#: to climatology
HAZARD_OUTPUTS = ("anomaly", "spi", "in_drought", "water_scarcity", "conflict_events", "conflict_rate", "new_infections")


class Arrays:
    """A set of equally long named arrays (struct of arrays).

    Parameters
    ----------
    n : int  length of every array
    specs : sequence of FieldSpec  the fields to allocate (zero-initialised)
    """

    def __init__(self, n: int, specs: tuple[FieldSpec, ...] | list[FieldSpec]):
        self.n = int(n)
        self.specs = {s.name: s for s in specs}
        self._data = {s.name: np.zeros(self.n, dtype=s.dtype) for s in specs}

    def add(self, specs) -> None:
        """Allocate further fields (a module's own); a name may not be declared twice."""
        for s in specs:
            if s.name in self._data:
                raise RuntimeError(f"state field {s.name!r} declared twice")
            self.specs[s.name] = s
            self._data[s.name] = np.zeros(self.n, dtype=s.dtype)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    def names(self) -> list[str]:
        return list(self._data)

    @property
    def nbytes_per_element(self) -> int:
        """Bytes of state per element (household or district)."""
        return int(sum(np.dtype(s.dtype).itemsize for s in self.specs.values()))

    def snapshot(self) -> dict[str, np.ndarray]:
        """A copy of every array (for tests and checkpoints)."""
        return {k: v.copy() for k, v in self._data.items()}
