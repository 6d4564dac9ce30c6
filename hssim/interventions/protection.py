"""Protection (top-down) interventions: transfers, food, health, WASH, security,
early-warning dissemination, livestock support.

Each acts only on the households the response serves this month (``idx``) or,
for district-level services, through the share of a district's households they
cover. Effects enter the model where the mechanism is (see each class); nothing
here knows which policy arm is running.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from .. import rng
from ..kernels.household import binomial_inv
from ..registry import register
from ..validate import field_range as fr
from .base import Intervention, InterventionConfig, UnitCost

__all__ = [
    "CashTransfer",
    "FoodAssistance",
    "HealthResponse",
    "Vaccination",
    "MalnutritionTreatment",
    "Wash",
    "Security",
    "EarlyWarningDissemination",
    "informed_act",
    "LivestockSupport",
]


# -- cash ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CashTransferConfig(InterventionConfig):
    """Shock-responsive cash transfers / social-protection scale-up."""

    amount_usd_per_person: float = fr(8.0, 0.0, 1e6, "monthly transfer per household member, USD")


@register("cash_transfer", CashTransferConfig, group="interventions")
class CashTransfer(Intervention):
    """Adds ``amount x members`` to the household's cash this month (spent by the
    household update on food first, then needs, savings)."""

    relevant_signals = ("drought", "food", "conflict")
    reads = ("members", "aid_cash_usd")
    writes = ("aid_cash_usd",)

    meets_need = True

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, per_member=self.cfg.amount_usd_per_person)

    def apply(self, engine, ti, idx):
        hh = engine.households
        hh.aid_cash_usd[idx] += (self.cfg.amount_usd_per_person * hh.members[idx]).astype(np.float32)


# -- food ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FoodAssistanceConfig(InterventionConfig):
    """In-kind general food distribution."""

    ration_kg_per_person: float = fr(12.0, 0.0, 1e4, "monthly ration per member, kg cereal equivalent (need ~19 kg)")
    food_cost_usd_per_kg: float = fr(0.7, 0.0, 1e4, "procured, transported and distributed cost per kg, USD")


@register("food_assistance", FoodAssistanceConfig, group="interventions")
class FoodAssistance(Intervention):
    """Adds a ration to the household's food stock this month (eaten, not sold)."""

    relevant_signals = ("drought", "food", "conflict")
    reads = ("members", "aid_food_kg")
    writes = ("aid_food_kg",)

    meets_need = True

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, per_member=self.cfg.ration_kg_per_person * self.cfg.food_cost_usd_per_kg)

    def apply(self, engine, ti, idx):
        hh = engine.households
        hh.aid_food_kg[idx] += (self.cfg.ration_kg_per_person * hh.members[idx]).astype(np.float32)


# -- health -------------------------------------------------------------------------------
@dataclass(frozen=True)
class HealthResponseConfig(InterventionConfig):
    """Treatment centres and mobile clinics."""

    access_gain: float = fr(0.6, 0.0, 1.0, "share of a covered household's missing access to care it closes")


@register("health_response", HealthResponseConfig, group="interventions")
class HealthResponse(Intervention):
    """Raises the district's effective access to health care by ``gain x covered``
    of what is missing: ``h <- h + (1 - h) gain covered``. Access lowers case
    fatality (disease module, next month), treatment costs reach more cases, and
    it counts in the dignity dimension of the human-security index this month."""

    relevant_signals = ("disease",)
    reads = writes = ("health_access_eff",)

    district_level = True

    def apply(self, engine, ti, idx):
        self.add_share(engine.districts.health_access_eff, self.cfg.access_gain * self.coverage(engine, idx))


@dataclass(frozen=True)
class VaccinationConfig(InterventionConfig):
    """Vaccination campaign (measles-like, vaccine-preventable pathogens)."""

    efficacy: float = fr(0.9, 0.0, 1.0, "share of vaccinated susceptibles who become immune")
    cost_per_person_usd: float = fr(2.0, 0.0, 1e6, "vaccine and delivery per member vaccinated, USD")


@nb.njit(cache=True)
def vaccinate(key, idx, efficacy, dis_s, dis_r):
    """Each susceptible member of households ``idx`` becomes immune with ``efficacy``
    (Binomial by inversion, slot 0 of ``key`` at the household's index)."""
    for j in range(idx.size):
        i = idx[j]
        s = np.int64(dis_s[i])
        if s <= 0:
            continue
        k = binomial_inv(rng.uniform(key, i, 0), s, efficacy)
        dis_s[i] = s - k
        dis_r[i] = np.int64(dis_r[i]) + k


@register("vaccination", VaccinationConfig, group="interventions")
class Vaccination(Intervention):
    """Moves vaccinated susceptibles to the immune compartment of the disease module
    (no effect without a disease hazard)."""

    relevant_signals = ("disease",)
    reads = writes = ("dis_s", "dis_r")  # where the disease hazard declares them

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, per_member=self.cfg.cost_per_person_usd)

    def apply(self, engine, ti, idx):
        hh = engine.households
        if "dis_s" not in hh.names():
            return
        vaccinate(rng.stream_key(engine.seed, f"vaccination.{self.label}", ti), idx, self.cfg.efficacy, hh.dis_s, hh.dis_r)


@dataclass(frozen=True)
class MalnutritionTreatmentConfig(InterventionConfig):
    """Community management of acute malnutrition (therapeutic and supplementary feeding)."""

    p_recover_mam: float = fr(0.6, 0.0, 1.0, "monthly recovery from MAM under treatment")
    p_recover_sam: float = fr(0.6, 0.0, 1.0, "monthly step from SAM to MAM under treatment")
    death_reduction_frac: float = fr(
        0.8, 0.0, 1.0, "share of the excess death hazard of wasting (MAM, SAM) averted for treated under-fives; the background hazard remains"
    )


@register("malnutrition_treatment", MalnutritionTreatmentConfig, group="interventions")
class MalnutritionTreatment(Intervention):
    """Flags the household's under-fives as treated this month (programme row
    ``self.row`` of the household module's nutrition table); treatment needs no
    household food (therapeutic food), but a child in a household that still lacks
    food can relapse."""

    relevant_signals = ("food", "drought", "disease")
    reads = ()
    writes = ("nutrition_treated",)

    meets_need = True

    row = 0

    def apply(self, engine, ti, idx):
        engine.households.nutrition_treated[idx] = self.row + 1

    def table_row(self) -> list[float]:
        c = self.cfg
        return [c.p_recover_mam, c.p_recover_sam, c.death_reduction_frac]


# -- WASH ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WashConfig(InterventionConfig):
    """Water trucking, chlorination, sanitation."""

    transmission_reduction: float = fr(0.5, 0.0, 1.0, "share of transmission removed for covered households")


@register("wash", WashConfig, group="interventions")
class Wash(Intervention):
    """Removes ``reduction x covered`` of disease transmission in the district
    (read by the disease module next month)."""

    relevant_signals = ("disease", "drought")
    reads = writes = ("wash_effect",)

    district_level = True

    def apply(self, engine, ti, idx):
        self.add_share(engine.districts.wash_effect, self.cfg.transmission_reduction * self.coverage(engine, idx))


# -- security -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SecurityConfig(InterventionConfig):
    """Policing, patrols and dialogue (security and rule of law)."""

    rate_reduction: float = fr(0.4, 0.0, 1.0, "share of the conflict baseline rate removed at full coverage")


@register("security", SecurityConfig, group="interventions")
class Security(Intervention):
    """Removes ``reduction x covered`` of the district's conflict baseline rate
    (read by the conflict hazard next month); excitation by past events is not
    removed."""

    relevant_signals = ("conflict",)
    reads = writes = ("security_effect",)

    district_level = True

    def apply(self, engine, ti, idx):
        self.add_share(engine.districts.security_effect, self.cfg.rate_reduction * self.coverage(engine, idx))


# -- early warning ------------------------------------------------------------------------
@dataclass(frozen=True)
class EarlyWarningDisseminationConfig(InterventionConfig):
    """Risk information and warnings that reach households (radio, SMS, committees)."""

    awareness_months: int = fr(12, 1, 120, "months a reached household stays informed")
    destock_frac: float = fr(0.2, 0.0, 1.0, "share of the herd an informed household sells when a drought warning starts")
    early_flight_frac: float = fr(0.4, 0.0, 1.0, "share by which an informed household lowers its flight threshold under a conflict warning")


@nb.njit(cache=True)
def informed_act(idx, awareness_months, destock, started, destock_frac, livestock_price, alert_conflict, early_frac,
                 ew_informed, members, location, herd_tlu, savings_usd, flight_early_frac):
    """This month's early-warning dissemination, household by household.

    Households ``idx`` (reached now) are informed for ``awareness_months``. Every
    informed household alive: where a drought warning started (``started[location]``,
    when ``destock``) sells ``destock_frac`` of its herd at the local livestock price
    into savings; where a conflict warning is on lowers its flight threshold by at
    least ``early_frac``; then one month of awareness passes. (float32 state, as
    the NumPy version computed it: ``sold`` float32, its value float64 -> float32.)
    """
    for j in range(idx.size):
        ew_informed[idx[j]] = awareness_months
    for i in range(members.size):
        if ew_informed[i] <= 0 or members[i] <= 0:
            continue
        d = location[i]
        if destock and started[d] and herd_tlu[i] > 0:
            sold = herd_tlu[i] * destock_frac
            savings_usd[i] += np.float32(sold * livestock_price[d])
            herd_tlu[i] -= sold
        if alert_conflict[d] > 0:
            flight_early_frac[i] = max(flight_early_frac[i], early_frac)
        ew_informed[i] -= 1


@register("early_warning", EarlyWarningDisseminationConfig, group="interventions")
class EarlyWarningDissemination(Intervention):
    """Informed households act early.

    When a drought warning (``alert_drought``) starts where an informed household
    lives, it sells ``destock_frac`` of its herd at this month's livestock price,
    before pasture and prices fall (commercial destocking; the cash is saved).
    Under a conflict warning at its location it lowers its flight threshold by
    ``early_flight_frac`` (it moves before violence reaches it).
    """

    reads = ("alert_drought", "alert_conflict", "livestock_price_usd",
             "ew_informed", "members", "location", "herd_tlu", "savings_usd", "flight_early_frac")  # fmt: skip
    writes = ("ew_informed", "herd_tlu", "savings_usd", "flight_early_frac")

    def init(self, engine) -> None:
        self.was_on = np.zeros(engine.scenario.n_districts, bool)

    def step(self, engine, ti: int) -> None:
        hh, ds = engine.households, engine.districts
        if self.response is None or not self.response.acting(engine, ti):
            return
        idx = self.response.served_idx[self.index]
        on = ds.alert_drought > 0
        started = on & ~self.was_on
        self.was_on = on
        informed_act(idx, self.cfg.awareness_months, bool(started.any() and self.cfg.destock_frac > 0), started,
                     np.float32(self.cfg.destock_frac), ds.livestock_price_usd, ds.alert_conflict,
                     np.float32(self.cfg.early_flight_frac), hh.ew_informed, hh.members, hh.location, hh.herd_tlu,
                     hh.savings_usd, hh.flight_early_frac)

    def apply(self, engine, ti, idx):  # pragma: no cover - step does the work
        pass


# -- livestock ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LivestockSupportConfig(InterventionConfig):
    """Emergency feed, water and veterinary care for core breeding herds."""

    mortality_reduction: float = fr(0.5, 0.0, 1.0, "share of livestock deaths averted for a served household")
    cost_per_tlu_usd: float = fr(3.0, 0.0, 1e6, "feed and care per TLU per month, USD")


@register("livestock_support", LivestockSupportConfig, group="interventions")
class LivestockSupport(Intervention):
    """Lowers the served household's livestock mortality this month by ``mortality_reduction``."""

    relevant_signals = ("drought",)
    reads = writes = ("livestock_protected",)

    meets_need = True

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, per_tlu=self.cfg.cost_per_tlu_usd)

    def apply(self, engine, ti, idx):
        hh = engine.households
        hh.livestock_protected[idx] = np.maximum(hh.livestock_protected[idx], np.float32(self.cfg.mortality_reduction))


# -- destocking ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DestockingConfig(InterventionConfig):
    """Commercial destocking: traders brought to the district buy animals at the market
    price before the drought's pasture loss and price fall (Abebe et al. 2008, Disasters
    32(2): Moyale, Ethiopia, 2006: 20,000 cattle bought from about 5,405 households, USD
    186 per household on average, most of it spent on food, livestock care, debts and
    savings). The programme pays the facilitation (transport, market links), the buyers
    pay for the animals."""

    offtake_frac: float = fr(0.3, 0.0, 1.0, "share of a served household's herd bought (assumed)")
    max_tlu_per_household: float = fr(3.0, 0.0, 1e6, "most TLU bought from one household (Abebe et al. 2008: about "
                                                      "3.7 cattle, 2.6 TLU, per household)")
    price_frac: float = fr(1.0, 0.0, 10.0, "price paid, share of this month's local livestock price")
    cost_per_tlu_usd: float = fr(4.0, 0.0, 1e6, "facilitation cost per TLU of the served household's herd, times "
                                                "offtake_frac (assumed), USD")


@nb.njit(cache=True)
def destock(idx, location, offtake_frac, max_tlu, price_frac, livestock_price, herd_tlu, savings_usd):
    """Households ``idx`` sell ``min(offtake_frac x herd, max_tlu)`` TLU at ``price_frac``
    x their location's livestock price, into savings (float32 state)."""
    for j in range(idx.size):
        i = idx[j]
        sold = min(np.float64(herd_tlu[i]) * offtake_frac, max_tlu)
        if sold <= 0.0:
            continue
        savings_usd[i] += np.float32(sold * price_frac * livestock_price[location[i]])
        herd_tlu[i] = np.float32(max(np.float64(herd_tlu[i]) - sold, 0.0))


@register("destocking", DestockingConfig, group="interventions")
class Destocking(Intervention):
    """A served household sells part of its herd now, at this month's price, into savings:
    fewer animals to die or to sell in distress at the drought's low prices, and cash to
    buy food when the lean months come. Serve each household once per activation
    (``service_months: 1``, a one-month ``duration_months``)."""

    relevant_signals = ("drought",)
    reads = ("location", "livestock_price_usd", "herd_tlu", "savings_usd")
    writes = ("herd_tlu", "savings_usd")

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, per_tlu=self.cfg.cost_per_tlu_usd * self.cfg.offtake_frac)

    def apply(self, engine, ti, idx):
        hh = engine.households
        destock(idx, hh.location, float(self.cfg.offtake_frac), float(self.cfg.max_tlu_per_household),
                float(self.cfg.price_frac), engine.districts.livestock_price_usd, hh.herd_tlu, hh.savings_usd)
