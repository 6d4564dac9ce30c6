"""Conflict hazard: a self-exciting (Hawkes-type) process of monthly events per district.

Events ``N_d(t) ~ Poisson(lambda_d(t))`` with::

    lambda_d(t) = mu_d(t) + sum_j K_dj x_j(t)
    x_j(t)      = phi x_j(t-1) + (1 - phi) N_j(t-1)        (memory kernel, sums to 1)
    K           = alpha I + sigma A D^-1                    (A adjacency, D degrees)

so an event in district j begets on average ``alpha`` events in j and ``sigma``
spread over its neighbours: every column of K sums to ``alpha + sigma``, which is the
branching ratio (the spectral radius of K) and must be below 1 for stationarity
(checked at configuration). With constant drivers the stationary mean is
``E[N] = (I - K)^-1 mu``.

The baseline ``mu_d(t)`` is the district's calm-years rate (scenario column
``conflict_baseline``) less rule of law and security interventions, times the
drivers' multiplier (capped at ``max_driver_multiple``)::

    mu_d = baseline_scale conflict_baseline (1 - rule_of_law_effect * rule_of_law) (1 - security_effect)
         * exp( min( s_scarcity e_s water_scarcity (1 - committee_effect)
                     + s_price e_p log(price / normal)^+
                     + s_grievance e_g ((poverty - 0.5) + marginalised_share)
                     + s_influx e_i influx_frac,  log max_driver_multiple ) )

with this month's climate (phase CLIMATE runs first) and last month's prices and
influx. ``security_effect`` (policing, dialogue: the share of the baseline rate
removed) and ``committee_effect`` (community resource-management committees: the
share of the drought -> conflict link removed, as in Turkana) are district fields
written by interventions in the INTERVENTION phase, so the conflict step reads the
values of the month before; both are clipped to [0, 1] and are 0 (no effect)
without interventions. The district's usual level (:meth:`Conflict.calm_rate`,
:meth:`Conflict.usual_rate`, against which displacement judges a district safe to
return to) leaves both out: it is the level the district knows, not this month's.

Events hit households at their location (see :mod:`hssim.kernels.conflict`); their
effects on markets and health care are computed in the IMPACT phase
(:mod:`hssim.couplings.food_system`).

Random streams: ``conflict.events`` (index = district), ``conflict.households``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from .. import rng
from ..config.validate import field_range as fr
from ..errors import ConfigError
from ..kernels.conflict import exposure_month
from ..module import Module
from ..phases import Phase
from ..registry import register
from ..sums import N_CELLS, N_SUMS

__all__ = ["ConflictConfig", "Conflict", "kernel_matrix", "stationary_mean", "poisson_inv_vec"]


@dataclass(frozen=True)
class ConflictConfig:
    kind: str = "conflict"
    enabled: bool = True
    baseline_scale: float = fr(1.0, 0.0, 100.0, "multiplier on the scenario's calm-years event rates")
    self_excitation: float = fr(0.35, 0.0, 0.999, "alpha: events begotten in the same district per event")
    spillover: float = fr(0.15, 0.0, 0.999, "sigma: events begotten in neighbouring districts per event")
    memory: float = fr(0.5, 0.0, 0.99, "phi: monthly persistence of excitation")
    scarcity_elasticity: float = fr(1.5, 0.0, 20.0, "log-rate rise per unit water scarcity")
    price_elasticity: float = fr(1.0, 0.0, 20.0, "log-rate rise per unit log food-price ratio above normal")
    grievance_elasticity: float = fr(0.5, 0.0, 20.0, "log-rate rise per unit of poverty above 50% plus marginalised share")
    influx_elasticity: float = fr(1.0, 0.0, 50.0, "log-rate rise per unit influx (displaced hosted / residents)")
    max_driver_multiple: float = fr(5.0, 1.0, 1000.0, "cap on the drivers' combined multiplier of the baseline rate")
    rule_of_law_effect: float = fr(0.6, 0.0, 1.0, "share of the rate removed by full rule of law")
    exposure_per_event: float = fr(0.002, 0.0, 1.0, "share of a district's households hit by one event")
    p_death_member: float = fr(0.01, 0.0, 1.0, "chance each member of a hit household is killed")
    looting_frac: float = fr(0.3, 0.0, 1.0, "share of non-livestock assets lost by a hit household")
    raiding_frac: float = fr(0.35, 0.0, 1.0, "share of the herd lost by a hit household (raiding)")
    fear_per_exposure: float = fr(0.6, 0.0, 1.0, "fear added by being hit")
    fear_per_event: float = fr(0.003, 0.0, 1.0, "fear added to every resident per event in the district")
    fear_retention: float = fr(0.7, 0.0, 1.0, "share of fear kept from one month to the next")

    def validate(self, path: str) -> None:
        if self.self_excitation + self.spillover >= 1.0:
            raise ConfigError(
                f"{path}.spillover",
                self.spillover,
                f"self_excitation + spillover < 1 (branching ratio; now {self.self_excitation + self.spillover:.3g})",
            )


def kernel_matrix(cfg: ConflictConfig, adjacency: np.ndarray) -> np.ndarray:
    """float64[D, D] offspring matrix K (K[d, j]: events in d per event in j)."""
    A = adjacency.astype(np.float64)
    deg = A.sum(axis=0)
    spread = np.divide(A, deg[None, :], out=np.zeros_like(A), where=deg[None, :] > 0)
    # an isolated district keeps its spillover at home: the branching ratio stays alpha + sigma
    K = cfg.self_excitation * np.eye(len(A)) + cfg.spillover * spread
    K[np.diag_indices_from(K)] += cfg.spillover * (deg == 0)
    return K


def stationary_mean(K: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """float64[D] stationary mean events per month, ``(I - K)^-1 mu``."""
    return np.linalg.solve(np.eye(len(mu)) - K, mu)


@nb.njit(cache=True)
def poisson_inv_vec(key, lam):
    """int64[D] Poisson(lam_d) draws by inversion (index d, slot 0)."""
    out = np.zeros(lam.size, np.int64)
    for d in range(lam.size):
        if lam[d] > 700.0:
            # exp(-lam) underflows: a normal approximation (slots 1-2) is exact enough here
            out[d] = max(0, int(lam[d] + np.sqrt(lam[d]) * rng.normal(key, d, 1) + 0.5))
        else:
            out[d] = rng.poisson_inv(rng.uniform(key, d, 0), lam[d])
    return out


@register("conflict", ConflictConfig, group="hazards")
class Conflict(Module):
    """Writes ``conflict_events`` and ``conflict_rate``; exposes households (deaths,
    looting, raiding, fear)."""

    phase = Phase.HAZARD

    def __init__(self, cfg: ConflictConfig, name: str = "conflict"):
        self.cfg = cfg
        self.name = name

    def init(self, engine) -> None:
        sc = engine.scenario
        self.K = kernel_matrix(self.cfg, sc.adjacency)
        self.x = np.zeros(sc.n_districts)  # excitation memory
        self.last_events = np.zeros(sc.n_districts)
        self.acc = np.zeros((nb.config.NUMBA_NUM_THREADS, sc.n_districts, N_CELLS, N_SUMS), np.int64)

    def baseline(self, engine) -> np.ndarray:
        """float64[D] mu_d(t) from last month's district state (prices, influx, the
        interventions' ``security_effect`` and ``committee_effect``) and this month's
        ``water_scarcity``."""
        cfg, cp, sc, ds = self.cfg, engine.cfg.couplings, engine.scenario, engine.districts
        normal_price = engine.cfg.food_system.food_price_usd_per_kg
        log_price = np.log(np.maximum(ds.food_price_usd_per_kg, 1e-12) / normal_price)
        # committees weaken the scarcity -> conflict link only; security removes a share
        # of the calm-years rate (both neutral at 0: x * 1.0 is exact)
        committee = 1.0 - np.clip(ds.committee_effect, 0.0, 1.0)
        security = 1.0 - np.clip(ds.security_effect, 0.0, 1.0)
        drivers = (
            cp.drought_to_conflict * cfg.scarcity_elasticity * ds.water_scarcity * committee
            + cp.prices_to_conflict * cfg.price_elasticity * np.maximum(log_price, 0.0)
            + cp.grievance_to_conflict * cfg.grievance_elasticity * ((sc.poverty_rate - 0.5) + sc.marginalised_share)
            + cp.displacement_to_conflict * cfg.influx_elasticity * ds.influx_frac
        )
        # the drivers' multiplier is capped: feedbacks (influx, prices) cannot run away
        multiple = np.exp(np.minimum(drivers, np.log(cfg.max_driver_multiple)))
        return self.calm_rate(engine) * security * multiple

    def calm_rate(self, engine) -> np.ndarray:
        """float64[D] baseline rate with no drivers: calm-years rate less rule of law
        (no intervention effects: the district's usual level)."""
        sc = engine.scenario
        return self.cfg.baseline_scale * sc.conflict_baseline * (1.0 - self.cfg.rule_of_law_effect * sc.rule_of_law)

    def usual_rate(self, engine) -> np.ndarray:
        """float64[D] the district's usual conflict level: the stationary mean with
        grievance as it stands and no shock (no scarcity, price rise or influx)."""
        sc, cp, cfg = engine.scenario, engine.cfg.couplings, self.cfg
        grievance = cp.grievance_to_conflict * cfg.grievance_elasticity * ((sc.poverty_rate - 0.5) + sc.marginalised_share)
        mu = self.calm_rate(engine) * np.exp(np.minimum(grievance, np.log(cfg.max_driver_multiple)))
        return stationary_mean(self.K, mu)

    def step(self, engine, ti: int) -> None:
        ds = engine.districts
        if not self.cfg.enabled:
            return
        cfg, cp = self.cfg, engine.cfg.couplings
        self.x = cfg.memory * self.x + (1.0 - cfg.memory) * self.last_events
        lam = self.baseline(engine) + self.K @ self.x
        events = poisson_inv_vec(rng.stream_key(engine.seed, "conflict.events", ti), lam).astype(np.float64)
        self.last_events = events
        ds.conflict_rate[:] = lam
        ds.conflict_events[:] = events
        hh = engine.households
        self.acc[:] = 0
        exposure_month(
            rng.stream_key(engine.seed, "conflict.households", ti),
            rng.stream_key(engine.seed, "conflict.deaths", ti),
            events,
            cp.conflict_to_households * cfg.fear_per_event * events,
            cfg.exposure_per_event,
            cp.conflict_to_households,
            cfg.p_death_member,
            cfg.looting_frac,
            cfg.raiding_frac,
            cfg.fear_per_exposure,
            cfg.fear_retention,
            hh.district,
            hh.location,
            hh.livelihood,
            hh.female_head,
            hh.marginalised,
            hh.poorest_quintile,
            hh.displaced,
            hh.members,
            hh.dead,
            hh.u5,
            hh.adults,
            hh.herd_tlu,
            hh.assets_usd,
            hh.fear,
            hh.violence_exposed,
            self.acc,
        )
        engine.month_sums += self.acc.sum(axis=0)
