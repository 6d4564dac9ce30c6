"""Coupling strengths: how strongly each compounding link acts (1 = as calibrated, 0 = cut).

Every module that carries a link reads its strength from :class:`CouplingsConfig`
(``couplings.<link>`` in a run's config), so one switch cuts a link everywhere it acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validate import field_range as fr

__all__ = ["CouplingsConfig"]


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
