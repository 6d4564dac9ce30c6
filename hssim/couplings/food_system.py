"""Drought -> food system: harvests, pasture, livestock, labour demand and prices.

District-level (arrays of length D; no per-household work here). Couplings scale
the links: ``s_prod`` = ``couplings.drought_to_production``, ``s_price`` =
``couplings.drought_to_prices``; at 0 the link is cut.

Growing seasons come from the climatology: a calendar month is a *wet* month when
its mean rain is at least 60% of the monthly mean; a season is a run of wet months
and its harvest comes in the first month after it. At harvest, with ``R`` the
season's rain over its climatological rain::

    yield_frac = clip(1 - s_prod * Ky * (1 - min(1, R / R_full)), 0, 1)   (FAO-33 form)

Pasture follows the rain of the last three months relative to normal, ``q``, with
memory ``tau``: ``pasture(t) = pasture(t-1) + (1 - s_prod (1 - q) - pasture(t-1)) / tau``;
livestock die at ``p_base + p_drought * (max(0, stress - pasture) / stress)^2``;
the livestock price falls towards ``min_frac`` of normal as pasture fails (distress
sales everywhere at once).

``production_index`` is the mean yield share of the harvests of the last 12
months. Local cereal prices rise with the production deficit seen by the district
market, a blend of the local and the region's deficit by market access::

    deficit = access * regional_deficit + (1 - access) * local_deficit
    price   = base * clip(exp(s_price * elasticity * deficit) * (1 + rise * disruption), 1/cap, cap)

Conflict disrupts markets and health care in the district of the events
(``s_markets`` = ``couplings.conflict_to_markets``, ``s_health`` =
``couplings.conflict_to_health``)::

    disruption        = 1 - exp(-s_markets k_m events)
    labour_demand     = (1 - s_price sens local_deficit^+) (1 - disruption)   (rural work is local)
    health_access_eff = health_access exp(-s_health k_h events)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..module import Module
from ..phases import Phase
from ..validate import field_range as fr
from .strengths import CouplingsConfig

__all__ = ["FoodSystemConfig", "FoodSystem", "growing_seasons"]


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


def growing_seasons(clim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wet months and harvest months from climatology.

    Parameters
    ----------
    clim : float64[D, 12]  mean rain by calendar month, mm

    Returns
    -------
    wet : bool[D, 12]  month belongs to a growing season
    harvest : bool[D, 12]  a season's harvest comes in this month (first month after it)
    """
    wet = clim >= 0.6 * clim.mean(axis=1, keepdims=True)
    harvest = ~wet & np.roll(wet, 1, axis=1)
    return wet, harvest


class FoodSystem(Module):
    phase = Phase.IMPACT
    reads = ("rain_mm", "conflict_events")
    writes = ("harvest_now", "harvest_yield_frac", "production_index", "pasture_index", "p_livestock_death",
              "livestock_price_usd", "market_disruption", "food_price_usd_per_kg", "labour_demand",
              "health_access_eff")  # fmt: skip

    def __init__(self, cfg: FoodSystemConfig, couplings: CouplingsConfig, name: str = "food_system"):
        self.cfg = cfg
        self.couplings = couplings
        self.name = name

    def init(self, engine) -> None:
        sc = engine.scenario
        D = sc.n_districts
        self.clim = sc.rain_clim_mm
        self.wet, self.harvest = growing_seasons(self.clim)
        self.season_rain = np.zeros(D)
        self.season_clim = np.zeros(D)
        self.rain3 = np.zeros((3, D))
        self.clim3 = np.zeros((3, D))
        self.harvest_log = np.ones((12, D))  # yield share of harvests in the last 12 months
        self.harvest_mask = np.zeros((12, D), dtype=bool)
        self.pasture = np.ones(D)
        self.weights = sc.households / sc.households.sum()
        self.access = sc.market_access

    def step(self, engine, ti: int) -> None:
        cfg, cp = self.cfg, self.couplings
        ds = engine.districts
        cal = engine.calendar_month(ti)
        rain = ds.rain_mm
        clim = self.clim[:, cal]

        # harvest of a season that ended last month
        harvest_now = self.harvest[:, cal]
        ratio = np.divide(self.season_rain, self.season_clim, out=np.ones_like(self.season_rain), where=self.season_clim > 0)
        water_deficit = 1.0 - np.minimum(1.0, ratio / cfg.crop_full_water_frac)
        yield_frac = np.clip(1.0 - cp.drought_to_production * cfg.crop_ky * water_deficit, 0.0, 1.0)
        ds.harvest_now[:] = harvest_now
        ds.harvest_yield_frac[:] = np.where(harvest_now, yield_frac, 0.0)
        self.season_rain = np.where(harvest_now, 0.0, self.season_rain)
        self.season_clim = np.where(harvest_now, 0.0, self.season_clim)
        wet = self.wet[:, cal]
        self.season_rain = self.season_rain + np.where(wet, rain, 0.0)
        self.season_clim = self.season_clim + np.where(wet, clim, 0.0)

        self.harvest_log = np.roll(self.harvest_log, 1, axis=0)
        self.harvest_mask = np.roll(self.harvest_mask, 1, axis=0)
        self.harvest_log[0] = yield_frac
        self.harvest_mask[0] = harvest_now
        n = self.harvest_mask.sum(axis=0)
        prod = np.where(n > 0, (self.harvest_log * self.harvest_mask).sum(axis=0) / np.maximum(n, 1), 1.0)
        ds.production_index[:] = prod

        # pasture and livestock
        self.rain3 = np.roll(self.rain3, 1, axis=0)
        self.clim3 = np.roll(self.clim3, 1, axis=0)
        self.rain3[0], self.clim3[0] = rain, clim
        q = np.clip(self.rain3.sum(axis=0) / np.maximum(self.clim3.sum(axis=0), 1e-9), 0.0, 2.0)
        target = np.clip(1.0 - cp.drought_to_production * (1.0 - q), 0.0, 2.0)
        self.pasture = self.pasture + (target - self.pasture) / cfg.pasture_memory_months
        ds.pasture_index[:] = self.pasture
        stress = np.maximum(0.0, cfg.pasture_stress - self.pasture) / cfg.pasture_stress
        ds.p_livestock_death[:] = np.clip(cfg.p_livestock_death_base + cfg.p_livestock_death_drought * stress**2, 0.0, 1.0)
        lo = cfg.livestock_price_min_frac
        ds.livestock_price_usd[:] = cfg.livestock_price_usd_per_tlu * np.clip(lo + (1 - lo) * self.pasture, lo, 1.2)

        # prices and labour demand
        local = 1.0 - prod
        regional = float(self.weights @ local)
        deficit = self.access * regional + (1.0 - self.access) * local
        cap = cfg.price_max_frac
        events = ds.conflict_events
        disruption = 1.0 - np.exp(-cp.conflict_to_markets * cfg.market_disruption_per_event * events)
        ds.market_disruption[:] = disruption
        ds.food_price_usd_per_kg[:] = cfg.food_price_usd_per_kg * np.clip(
            np.exp(cp.drought_to_prices * cfg.price_elasticity * deficit) * (1.0 + cfg.conflict_price_rise * disruption),
            1.0 / cap,
            cap,
        )
        demand = np.clip(1.0 - cp.drought_to_prices * cfg.labour_demand_sensitivity * np.maximum(local, 0.0), 0.0, 1.0)
        ds.labour_demand[:] = demand * (1.0 - disruption)
        ds.health_access_eff[:] = engine.scenario.health_access * np.exp(
            -cp.conflict_to_health * cfg.health_disruption_per_event * events
        )
