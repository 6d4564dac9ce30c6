"""Displacement: flight on fear or survival need, destination choice, camps, return.

Each month (phase MOVEMENT, after the household update) households decide; moves
take effect for the next month. A household keeps its origin ``district``; its
``location`` is where it lives now, ``displaced`` is 0 at home, 1 hosted in another
district, 2 in a camp. Households are never created, lost or duplicated: a move
changes ``location`` and ``displaced`` only.

Destination utility of moving from ``o`` to ``j``::

    u = -w_safety log(1 + conflict_rate_j) - w_dist dist_oj / 100 km + w_services health_access_j
        (+ camp_bonus - crowding for a camp) + choice_noise * Gumbel

Camps have finite capacity (scenario ``camp_capacity`` households, scaled to the
simulated population). When more households choose a camp than it has room for,
the room goes to those with the smallest priority hash (a fixed, seed-dependent
order) and the others go to their best hosted destination. A displaced household
returns home with ``p_return`` per month once its origin is safe: over the last
``return_safe_months`` months its harvests (production index) averaged at least
``return_min_production`` of normal and its expected conflict rate averaged at most
``safe_rate_multiple`` times its usual level (the long-run mean of the conflict
process, :meth:`hssim.hazards.conflict.Conflict.usual_rate`). Averages, not every
month: a self-exciting rate jumps after any single event, so "every month below the
line" would keep a district with a low rate unsafe most of the time and its
displaced away for years.
On flight a household loses ``herd_loss_on_flight_frac`` of its herd.

Flight on fear: a household at home flees when ``s_conflict * fear >= threshold *
(1 - flight_early_frac)``; ``flight_early_frac`` (household field, written by early
warning in the INTERVENTION phase of the same month, 0 when not warned) lets a
warned household move before violence reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import rng
from ..kernels.displacement import apply_moves, decide_moves, district_counts, draw_thresholds, uniform_at
from ..module import Module
from ..phases import Phase
from ..state import FieldSpec
from ..validate import field_range as fr

__all__ = ["DisplacementConfig", "Displacement"]


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


class Displacement(Module):
    phase = Phase.MOVEMENT
    reads = (
        "conflict_rate", "production_index", "health_access_eff", "camp_households",  # is the origin safe; destinations
        "flight_threshold", "flight_early_frac", "fear", "coping", "gap_months",  # who flees
        "district", "location", "displaced", "displaced_months", "members", "herd_tlu",
    )  # fmt: skip
    writes = ("location", "displaced", "displaced_months", "herd_tlu", "influx_frac", "camp_households")

    def __init__(self, cfg: DisplacementConfig, name: str = "displacement"):
        self.cfg = cfg
        self.name = name

    def household_fields(self):
        return (FieldSpec("flight_threshold", "float32", "frac", "fear at which the household flees (fixed)"),)

    def init(self, engine) -> None:
        sc = engine.scenario
        D = sc.n_districts
        A = sc.adjacency
        self.nbr_start = np.concatenate([[0], np.cumsum(A.sum(axis=1))]).astype(np.int64)
        self.nbr = np.concatenate([np.flatnonzero(A[d]) for d in range(D)] + [np.zeros(0, np.int64)]).astype(np.int64)
        self.dist = sc.distance_km
        scale = engine.households.n / sc.households.sum()  # real households -> simulated
        self.capacity = np.floor(sc.camp_capacity * scale).astype(np.int64)
        W = max(1, self.cfg.return_safe_months)
        self.rate_hist = np.zeros((W, D))  # conflict rate of the last W months (ring buffer)
        self.prod_hist = np.zeros((W, D))  # production index of the last W months
        self.n_hist = 0
        # the origin's usual conflict level (stationary mean without shocks); 0 without conflict
        self.usual_rate = np.zeros(D)
        for m in engine.modules:
            if m.kind == "conflict" and m.cfg.enabled:
                self.usual_rate = m.usual_rate(engine)
        n = engine.households.n
        self.dest = np.empty(n, np.int64)
        self.fallback = np.empty(n, np.int64)
        self.returning = np.empty(n, np.int8)
        draw_thresholds(rng.stream_key(engine.seed, "displacement.threshold", 0), self.cfg.flight_fear_median,
                        self.cfg.flight_threshold_log_sd, engine.households.flight_threshold)
        self.update_district_counts(engine)

    def update_district_counts(self, engine) -> None:
        hh = engine.households
        counts = district_counts(hh.location, hh.displaced, hh.members, engine.scenario.n_districts)
        ds = engine.districts
        ds.influx_frac[:] = counts[:, 1] / np.maximum(counts[:, 0], 1)
        ds.camp_households[:] = counts[:, 2]

    def step(self, engine, ti: int) -> None:
        cfg, cp = self.cfg, engine.cfg.couplings
        hh, ds = engine.households, engine.districts
        D = engine.scenario.n_districts
        s_conflict = cp.conflict_to_displacement  # conflict drives flight, destination safety and return
        W = self.rate_hist.shape[0]
        self.rate_hist[ti % W] = ds.conflict_rate
        self.prod_hist[ti % W] = ds.production_index
        self.n_hist = min(self.n_hist + 1, W)
        if cfg.return_safe_months == 0:
            origin_safe = np.ones(D, dtype=bool)
        elif self.n_hist < W:
            origin_safe = np.zeros(D, dtype=bool)
        else:
            calm = (self.rate_hist.mean(axis=0) <= cfg.safe_rate_multiple * self.usual_rate) | (s_conflict == 0)
            origin_safe = calm & (self.prod_hist.mean(axis=0) >= cfg.return_min_production)
        if not cfg.enabled:
            self.update_district_counts(engine)
            return
        rate = np.log1p(ds.conflict_rate)
        base = (
            -s_conflict * cfg.safety_weight * rate[None, :]
            - cfg.distance_weight_per_100km * self.dist / 100.0
            + cfg.services_weight * ds.health_access_eff[None, :]
        )
        space = np.maximum(self.capacity - ds.camp_households, 0)
        crowding = 1.0 - space / np.maximum(self.capacity, 1)
        has_camp = space > 0
        camp_u = np.where(has_camp[None, :], base + cfg.camp_bonus - crowding[None, :], -np.inf)
        decide_moves(
            rng.stream_key(engine.seed, "displacement", ti),
            hh.flight_threshold,
            hh.flight_early_frac,
            cp.conflict_to_displacement,
            cp.food_insecurity_to_displacement * cfg.p_distress_migration,
            cfg.p_return,
            hh.district,
            hh.location,
            hh.displaced,
            hh.displaced_months,
            hh.members,
            hh.fear,
            hh.coping,
            hh.gap_months,
            origin_safe,
            self.nbr_start,
            self.nbr,
            base,
            camp_u,
            has_camp,
            cfg.choice_noise,
            self.dest,
            self.fallback,
            self.returning,
        )
        dest = self.dest
        # camp capacity: admit applicants in a fixed priority order; the rest go hosted
        idx = np.flatnonzero(dest >= D)
        if idx.size:
            where = dest[idx] - D
            prio = uniform_at(rng.stream_key(engine.seed, "displacement.priority", ti), idx, 0)
            order = np.lexsort((prio, where))
            idx, where = idx[order], where[order]
            first = np.searchsorted(where, np.arange(D))
            rank = np.arange(idx.size) - first[where]
            rejected = idx[rank >= space[where]]
            dest[rejected] = self.fallback[rejected]
        apply_moves(dest, self.returning, D, np.float32(1.0 - cfg.herd_loss_on_flight_frac), hh.district, hh.location,
                    hh.displaced, hh.displaced_months, hh.herd_tlu)
        self.update_district_counts(engine)
