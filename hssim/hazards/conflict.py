"""Conflict hazard: a self-exciting (Hawkes-type) process of monthly events per district.

Events ``N_d(t) ~ Poisson(lambda_d(t))`` with::

    lambda_d(t) = mu_d(t) + sum_j K_dj x_j(t)
    x_j(t)      = phi x_j(t-1) + (1 - phi) N_j(t-1)        (memory kernel, sums to 1)
    K           = alpha I + sigma A D^-1                    (A adjacency, D degrees)

so an event in district j begets on average ``alpha`` events in j and ``sigma``
spread over its neighbours: every column of K sums to ``alpha + sigma``, which is the
branching ratio (the spectral radius of K) and must be below 1 for stationarity
(checked at configuration). Because the intensity is linear in past events, the
long-run mean is ``E[N] = (I - K)^-1 E[mu]`` whatever the drivers do (the
multivariate form of a Hawkes process's ``mu / (1 - n)``).

**The scenario's rate is the long-run mean.** ``conflict_baseline`` (e.g. an ACLED
average over several years) is what the district sees on average, excitation and
the usual drivers included. The background rate is set so that the stationary mean
with the calm-years drivers equals it::

    mu_d(t) = b_d (1 - security_effect_d) exp(min(drv_d(t), log max_driver_multiple))
    b_d     = baseline_scale [(I - K) r]_d / M_d             r = conflict_baseline
    drv_d   = (1 - rule_of_law_effect rule_of_law_d)
              ( s_scarcity e_s water_scarcity (1 - committee_effect)
              + s_price e_p log(price / normal)^+
              + s_influx e_i influx_frac )
            + s_grievance e_g ((poverty - 0.5) + marginalised_share)

where ``M_d`` is the mean of the drivers' multiplier in calm years of the configured
world (:func:`calm_multiplier`): water scarcity over the stationary climate (the SPI
is N(0, 1) without storylines or trend, and ``water_scarcity = clip(-SPI/3, 0, 1)``;
none without a drought hazard), prices as the food system makes them from that
climate, grievance as tabled, no influx, no interventions, every term at the run's
coupling strengths. So in every configuration the long-run mean of a no-shock run
equals the table (times ``baseline_scale``): the observed rate is a fact about the
place, and a coupling or a hazard decides *when* the events come (with droughts,
after price rises, with influx), not how many there are on average; a storyline's
drought raises the rate above it, a wet spell lowers it; to study a calmer or more
violent place, change ``baseline_scale``. (A consequence, also for the CRN tests:
with every drought link cut, the drought settings change nothing.) Rule of law,
already reflected in the observed rate, damps how strongly shocks (scarcity, prices,
influx) turn into violence. Where the neighbours' spillover alone would exceed a district's
table rate, ``(I - K) r`` is negative and its background is 0 (the district's mean
is then above the table; :attr:`Conflict.clipped` lists such districts).

``security_effect`` (policing, dialogue: the share of the background rate removed)
and ``committee_effect`` (community resource-management committees: the share of the
drought -> conflict link removed, as in Turkana) are district fields written by
interventions in the INTERVENTION phase, so the conflict step reads the values of the
month before; both are clipped to [0, 1] and are 0 (no effect) without
interventions. The district's usual level (:meth:`Conflict.usual_rate`, against which
displacement judges a district safe to return to) leaves both out: it is the level
the district knows, not this month's.

Events hit households in communities (see :mod:`hssim.kernels.conflict`): each event
lands in one community of its district and hits ``households_hit_per_event`` real
households there on average, so deaths and exposure per event do not scale with the
district's population. Effects on markets and health care are computed in the IMPACT
phase (:mod:`hssim.couplings.food_system`).

Random streams: ``conflict.events`` (index = district), ``conflict.place``,
``conflict.households``, ``conflict.deaths``.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass

import numba as nb
import numpy as np

from .. import rng
from ..couplings.food_system import FoodSystem, FoodSystemConfig
from ..couplings.strengths import CouplingsConfig
from ..errors import ConfigError
from ..kernels.conflict import exposure_month, p_hit_tables, place_events
from ..module import Module
from ..phases import Phase
from ..registry import register
from ..state import DISTRICT_FIELDS, Arrays
from ..sums import N_CELLS, N_SUMS
from ..validate import field_range as fr
from .drought import DroughtConfig, DroughtProcess

__all__ = ["ConflictConfig", "Conflict", "kernel_matrix", "stationary_mean", "calm_multiplier", "poisson_inv_vec"]


@dataclass(frozen=True)
class ConflictConfig:
    kind: str = "conflict"
    enabled: bool = True
    baseline_scale: float = fr(1.0, 0.0, 100.0, "multiplier on the scenario's calm-years (long-run mean) event rates")
    self_excitation: float = fr(0.35, 0.0, 0.999, "alpha: events begotten in the same district per event")
    spillover: float = fr(0.15, 0.0, 0.999, "sigma: events begotten in neighbouring districts per event")
    memory: float = fr(0.5, 0.0, 0.99, "phi: monthly persistence of excitation")
    scarcity_elasticity: float = fr(1.5, 0.0, 20.0, "log-rate rise per unit water scarcity")
    price_elasticity: float = fr(1.0, 0.0, 20.0, "log-rate rise per unit log food-price ratio above normal")
    grievance_elasticity: float = fr(0.5, 0.0, 20.0, "log-rate rise per unit of poverty above 50% plus marginalised share")
    influx_elasticity: float = fr(1.0, 0.0, 50.0, "log-rate rise per unit influx (displaced hosted / residents)")
    max_driver_multiple: float = fr(5.0, 1.0, 1000.0, "cap on the drivers' combined multiplier of the baseline rate")
    rule_of_law_effect: float = fr(0.6, 0.0, 1.0, "share of the shock drivers' effect (scarcity, prices, influx) removed by full rule of law")
    households_hit_per_event: float = fr(20.0, 0.0, 1e5, "real households hit by one event, in the community where it lands")
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


#: years of calm climate simulated to average the drivers (after two years of warm-up)
CALM_YEARS = 400
#: seed of that simulation: fixed, so the background is a property of the configuration
#: (scenario, climate, food system), the same for every run seed
CALM_SEED = 20240514


def grievance(scenario) -> np.ndarray:
    """float64[D] grievance index ``(poverty_rate - 0.5) + marginalised_share`` (can be negative)."""
    return (scenario.poverty_rate - 0.5) + scenario.marginalised_share


class _CalmWorld:
    """The district arrays and calendar a drought process and food system need (no households)."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.districts = Arrays(scenario.n_districts, DISTRICT_FIELDS)

    def calendar_month(self, ti: int) -> int:
        return ti % 12


_CALM_CACHE: dict[tuple, np.ndarray] = {}


def _calm_multiplier(cfg: ConflictConfig, scenario, drought: DroughtConfig | None, food: FoodSystemConfig,
                     couplings: CouplingsConfig) -> np.ndarray:
    relevant = (cfg.baseline_scale, cfg.scarcity_elasticity, cfg.price_elasticity, cfg.grievance_elasticity,
                cfg.max_driver_multiple, cfg.rule_of_law_effect)
    key = (relevant, drought, food, couplings, hashlib.sha256(pickle.dumps(scenario)).hexdigest())
    if key not in _CALM_CACHE:
        if len(_CALM_CACHE) >= 64:
            _CALM_CACHE.clear()
        _CALM_CACHE[key] = _simulate_calm(cfg, scenario, drought, food, couplings)
    return _CALM_CACHE[key]


def _simulate_calm(cfg, scenario, drought, food, cp) -> np.ndarray:
    D = scenario.n_districts
    world = _CalmWorld(scenario)
    ds = world.districts
    market = FoodSystem(food, cp)
    market.init(world)
    damp = 1.0 - cfg.rule_of_law_effect * scenario.rule_of_law
    g = cp.grievance_to_conflict * cfg.grievance_elasticity * grievance(scenario)
    cap = np.log(cfg.max_driver_multiple)
    # markets are disrupted by the district's usual number of events (the table's rate)
    ds.conflict_events[:] = cfg.baseline_scale * scenario.conflict_baseline
    warm = 24
    # without a drought hazard the climate is its climatology: a few years are exact
    n = 12 * (CALM_YEARS if drought is not None else 3)
    climate = DroughtProcess(drought, scenario.xy_km, scenario.rain_clim_mm, CALM_SEED) if drought is not None else None
    free = np.full(D, np.nan)
    y = np.empty((n, D))  # the multiplier
    x = np.zeros((n, D))  # the SPI, whose mean is exactly 0
    w = np.zeros((n, D))  # water scarcity clip(-SPI/3, 0, 1), whose mean is known exactly
    for ti in range(warm + n):
        cal = ti % 12
        if climate is not None:
            a, spi = climate.advance(ti, cal, 0.0, free)
            ds.rain_mm[:] = scenario.rain_clim_mm[:, cal] * np.exp(drought.rain_log_sd * a - 0.5 * drought.rain_log_sd**2)
        else:
            spi = np.zeros(D)
            ds.rain_mm[:] = scenario.rain_clim_mm[:, cal]
        market.step(world, ti)
        if ti >= warm:
            scarcity = np.clip(-spi / 3.0, 0.0, 1.0)
            log_price = np.log(ds.food_price_usd_per_kg / food.food_price_usd_per_kg)
            drv = damp * (cp.drought_to_conflict * cfg.scarcity_elasticity * scarcity
                          + cp.prices_to_conflict * cfg.price_elasticity * np.maximum(log_price, 0.0)) + g
            y[ti - warm] = np.exp(np.minimum(drv, cap))
            x[ti - warm] = spi
            w[ti - warm] = scarcity
    # control variates: the climate's slow regional driver makes a century's mean SPI and
    # water scarcity wander by several per cent; regressing the multiplier on both and
    # correcting by their known means (SPI ~ N(0, 1): 0 and E[clip(-Z/3, 0, 1)]) removes
    # most of that error
    z = np.linspace(-8.0, 8.0, 16001)
    pz = np.exp(-0.5 * z * z)
    known = np.array([0.0, float((np.clip(-z / 3.0, 0.0, 1.0) * pz).sum() / pz.sum())]) if climate is not None else np.zeros(2)
    out = np.empty(D)
    for d in range(D):
        X = np.stack([x[:, d], w[:, d]], axis=1)
        Xc = X - X.mean(axis=0)
        beta = np.linalg.lstsq(Xc, y[:, d] - y[:, d].mean(), rcond=None)[0] if np.any(Xc) else np.zeros(2)
        out[d] = y[:, d].mean() - beta @ (X.mean(axis=0) - known)
    out.setflags(write=False)
    return out


def calm_multiplier(cfg: ConflictConfig, engine) -> np.ndarray:
    """float64[D] mean of the drivers' multiplier ``exp(min(drv, log max))`` in calm years
    of the configured world.

    Averaged over ``CALM_YEARS`` of the scenario's climate without storylines or trend
    (the run's drought settings, seed ``CALM_SEED``; climatology if the run has no
    drought hazard) and the food system's prices as they follow it (markets disrupted
    by the table's usual number of events), at the run's coupling strengths: water
    scarcity, price rises and grievance as tabled; no influx, no intervention. Cached
    per configuration.
    """
    drought = next((h for h in engine.cfg.hazards.values() if getattr(h, "kind", "") == "drought" and h.enabled), None)
    return _calm_multiplier(cfg, engine.scenario, drought, engine.cfg.food_system, engine.cfg.couplings)


@register("conflict", ConflictConfig, group="hazards")
class Conflict(Module):
    """Writes ``conflict_events`` and ``conflict_rate``; exposes households (deaths,
    looting, raiding, fear)."""

    phase = Phase.HAZARD
    reads = (
        # the background rate's drivers (last month's prices, influx and intervention effects)
        "water_scarcity", "food_price_usd_per_kg", "influx_frac", "security_effect", "committee_effect",
        # where the events land and whom they hit
        "district", "community", "location", "displaced", "livelihood", "female_head", "marginalised",
        "poorest_quintile", "members", "dead", "u5", "adults", "herd_tlu", "assets_usd", "fear",
    )  # fmt: skip
    writes = ("conflict_events", "conflict_rate",
              "members", "dead", "u5", "adults", "herd_tlu", "assets_usd", "fear", "violence_exposed")  # fmt: skip

    def __init__(self, cfg: ConflictConfig, name: str = "conflict"):
        self.cfg = cfg
        self.name = name

    def init(self, engine) -> None:
        sc = engine.scenario
        self.K = kernel_matrix(self.cfg, sc.adjacency)
        self.x = np.zeros(sc.n_districts)  # excitation memory
        self.last_events = np.zeros(sc.n_districts)
        self.acc = np.zeros((nb.config.NUMBA_NUM_THREADS, sc.n_districts, N_CELLS, N_SUMS), np.int64)
        self.clipped = ()
        self.background = np.zeros(sc.n_districts)
        if not self.cfg.enabled:
            return
        # background rate: the stationary mean with calm-years drivers equals the table
        immigrant = (np.eye(sc.n_districts) - self.K) @ (self.cfg.baseline_scale * sc.conflict_baseline)
        #: districts whose neighbours' spillover alone exceeds their table rate (background 0)
        self.clipped = tuple(n for n, v in zip(sc.names, immigrant) if v < 0)
        self.background = np.maximum(immigrant, 0.0) / calm_multiplier(self.cfg, engine)
        self._communities = None

    def _community_layout(self, engine):
        """First community and number of communities of each district (households are
        sorted by district, then community; computed once the population exists)."""
        hh = engine.households
        D = engine.scenario.n_districts
        C = int(hh.community.max()) + 1 if hh.n else 0
        comm_district = np.full(C, -1, np.int64)
        comm_district[hh.community] = hh.district
        n_comm = np.bincount(comm_district[comm_district >= 0], minlength=D).astype(np.int64)
        first = np.zeros(D, np.int64)
        for d in range(D):
            ids = np.flatnonzero(comm_district == d)
            first[d] = ids[0] if ids.size else 0
            if ids.size and ids[-1] - ids[0] + 1 != ids.size:
                raise RuntimeError("conflict: a district's communities must be numbered contiguously")
        self._communities = (first, n_comm, C)
        return self._communities

    def baseline(self, engine) -> np.ndarray:
        """float64[D] mu_d(t) from last month's district state (prices, influx, the
        interventions' ``security_effect`` and ``committee_effect``) and this month's
        ``water_scarcity``."""
        cfg, cp, sc, ds = self.cfg, engine.cfg.couplings, engine.scenario, engine.districts
        normal_price = engine.cfg.food_system.food_price_usd_per_kg
        log_price = np.log(np.maximum(ds.food_price_usd_per_kg, 1e-12) / normal_price)
        # committees weaken the scarcity -> conflict link only; security removes a share
        # of the background rate (both neutral at 0: x * 1.0 is exact)
        committee = 1.0 - np.clip(ds.committee_effect, 0.0, 1.0)
        security = 1.0 - np.clip(ds.security_effect, 0.0, 1.0)
        damp = 1.0 - cfg.rule_of_law_effect * sc.rule_of_law  # rule of law damps shocks' effect
        drivers = damp * (
            cp.drought_to_conflict * cfg.scarcity_elasticity * ds.water_scarcity * committee
            + cp.prices_to_conflict * cfg.price_elasticity * np.maximum(log_price, 0.0)
            + cp.displacement_to_conflict * cfg.influx_elasticity * ds.influx_frac
        ) + cp.grievance_to_conflict * cfg.grievance_elasticity * grievance(sc)
        # the drivers' multiplier is capped: feedbacks (influx, prices) cannot run away
        multiple = np.exp(np.minimum(drivers, np.log(cfg.max_driver_multiple)))
        return self.calm_rate(engine) * security * multiple

    def calm_rate(self, engine) -> np.ndarray:
        """float64[D] background rate ``b`` with every driver at zero (multiplier 1) and
        no intervention effects."""
        return self.background

    def usual_rate(self, engine) -> np.ndarray:
        """float64[D] the district's usual conflict level: the long-run (stationary) mean
        with calm-years drivers, ``baseline_scale x conflict_baseline`` (more where a
        district's background is clipped at 0)."""
        return stationary_mean(self.K, self.background * calm_multiplier(self.cfg, engine))

    def step(self, engine, ti: int) -> None:
        ds = engine.districts
        if not self.cfg.enabled:
            return
        cfg, cp = self.cfg, engine.cfg.couplings
        self.x = cfg.memory * self.x + (1.0 - cfg.memory) * self.last_events
        lam = self.baseline(engine) + self.K @ self.x
        n_events = poisson_inv_vec(rng.stream_key(engine.seed, "conflict.events", ti), lam)
        events = n_events.astype(np.float64)
        self.last_events = events
        ds.conflict_rate[:] = lam
        ds.conflict_events[:] = events
        hh = engine.households
        first, n_comm, C = self._communities or self._community_layout(engine)
        D = engine.scenario.n_districts
        alive = hh.members > 0
        # a community's size counts its members who fled: an event in an emptied
        # settlement hits fewer people (those still at home, each with the same chance)
        n_members = np.bincount(hh.community[alive], minlength=C)
        n_present = np.bincount(hh.location[alive], minlength=D)
        comm_events = place_events(rng.stream_key(engine.seed, "conflict.place", ti), n_events, first, n_comm, C)
        hits_sim = cfg.households_hit_per_event * hh.n / engine.scenario.households.sum()  # real -> simulated
        p_home, p_away = p_hit_tables(comm_events, n_members, events, n_present, hits_sim, cp.conflict_to_households)
        self.acc[:] = 0
        exposure_month(
            rng.stream_key(engine.seed, "conflict.households", ti),
            rng.stream_key(engine.seed, "conflict.deaths", ti),
            p_home,
            p_away,
            cp.conflict_to_households * cfg.fear_per_event * events,
            cfg.p_death_member,
            cfg.looting_frac,
            cfg.raiding_frac,
            cfg.fear_per_exposure,
            cfg.fear_retention,
            hh.district,
            hh.community,
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
