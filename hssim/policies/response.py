"""The response: money, coordination, targeting assessments, the registry, enrolment.

One module of the ALLOCATION phase decides, each month of the horizon, which
households each intervention of the portfolio serves; the interventions (phase
INTERVENTION) then apply their effects. The response is the same code for
siloed and integrated modes; the coordination level ``c`` in [0, 1]
(``policy.coordination_level``) moves continuously between them:

============================  =====================================  ==================================
mechanism                     siloed (c = 0)                         integrated (c = 1)
============================  =====================================  ==================================
money                         sector accounts (``sector_budget_      one pooled account; a share
                              shares``)                              ``c * coordination_overhead_frac``
                                                                     of each disbursement pays for
                                                                     coordination
information                   each sector's own lag                  the joint assessment's lag
                              (``sector_info_lag_months``)           (``joint_info_lag_months``)
ranking among the eligible    the intervention's own need score      compound need (1 - human-security
                                                                     index: want, fear, dignity), so
                                                                     complementary interventions layer
                                                                     on the same households
registry                      none: a household can be enrolled by   shared: a household already
                              two programmes of the same kind        receiving a kind is not enrolled in
                              (duplicates), others missed (gaps)     another programme of that kind
triggers                      each sector's own signals              shared: a programme is activated
                                                                     by the signal of any hazard it
                                                                     addresses, whichever sector sees it
delay                         none                                   ``round(c * coordination_delay_months)``
                                                                     more months before delivery
============================  =====================================  ==================================

In between, money is split ``c`` pooled / ``1 - c`` by sector, the ranking score is
``(1 - c) own + c compound``, the lag is ``round((1 - c) sector + c joint)``, the
registry catches each would-be duplicate with probability ``c``, and triggers are
shared from ``c >= 0.5``. Both modes receive exactly the same money.

Money (commitment): each horizon year's allotment is ``budget_usd_per_year`` in
full with probability ``budget_reliability`` and otherwise a uniform share of it
(stream ``policy.funding``, index = year); it arrives in twelve monthly tranches.
Unspent money carries over (a reserve builds up in quiet months).
Nothing is ever spent that is not in an account: an intervention pays from its
sector's account, then from the pool; a set-up (fixed) cost that cannot be paid
cancels the activation; continuing beneficiaries are paid first, by priority, and
those that cannot be paid leave the programme; new households are enrolled in
priority order while money, the monthly delivery capacity (``capacity`` x each
intervention's) and the coverage cap of their district allow (from a shortlist of
the best ``2 x capacity + 64`` candidates of the month).

Activation: a regular programme (``activation: always``) is set up at the start
of the horizon and delivers after its set-up delay. A triggered programme is
activated in a district when one of its signals (district fields ``alert_*``,
written by the early-warning module in the POLICY phase) is on and it is not
already running or pending there; it delivers from ``t + delay`` for
``duration_months``, with ``delay`` = set-up delay (0 for an activation by the
drought trigger if readiness was declared in the district within the readiness
lead: supplies pre-positioned; readiness itself costs nothing here) + the appeal
and funding delays (unless finance is ``prearranged`` and the drought trigger
caused the activation: pre-arranged money is released for the trigger's pre-agreed
actions only; other warnings go through an appeal) + the coordination delay.

Targeting assessments run every ``reassess_months`` and are used ``lag`` months
later (the registry's information is that old); an open-ended enrolment ends at
an assessment that no longer sees the household as eligible.

Costs, capacities and budgets are real (scenario) quantities; the simulated
population represents ``scale = n_simulated / n_real`` of the real households, so
accounts hold ``scale x`` real dollars and a simulated household served costs its
real unit cost in those units. Reported costs are real dollars.

Random streams (none depends on anything but the seed, the tick and the
intervention's name): ``policy.funding``, ``targeting.<name>`` (assessment),
``selection.<name>`` (tie-breaks), ``registry.<name>`` (duplicate detection).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

from .. import rng
from ..rng import uniform
from ..module import Module
from ..phases import Phase
from ..sums import (
    N_CELLS,
    N_SUMS,
    S_HOUSEHOLDS_ASSISTED,
    S_HOUSEHOLDS_DUPLICATED,
    S_HOUSEHOLDS_IN_NEED,
    S_HOUSEHOLDS_LAYERED,
    S_HOUSEHOLDS_NEED_UNMET,
    S_PEOPLE_ASSISTED,
    cell_of,
)
from ..interventions.targeting import compound_need, observe, true_targeting
from .schema import SECTOR_SIGNALS, SECTORS, PolicyConfig

__all__ = ["Response", "select_in_order", "assistance_sums"]

NEVER = np.iinfo(np.int64).max
POOL = len(SECTORS)  # index of the pooled account


@nb.njit(cache=True)
def select_in_order(order, location, cost, cap_d, capacity, money):
    """Take households in ``order`` while capacity, money and district caps allow.

    Parameters
    ----------
    order : int64[m]  candidates, best first
    location : int16[n]
    cost : float64[m]  cost of each candidate (same order)
    cap_d : int64[D]  places left in each district (updated in place)
    capacity : int64  most households to take (-1 = no limit)
    money : float64  money available

    Returns
    -------
    take : bool[m]
    spent : float64
    """
    take = np.zeros(order.size, np.bool_)
    spent = 0.0
    n_taken = 0
    for j in range(order.size):
        if capacity >= 0 and n_taken >= capacity:
            break
        d = location[order[j]]
        if cap_d[d] <= 0:
            continue
        if spent + cost[j] > money:
            continue  # a cheaper (smaller) household further down may still fit
        take[j] = True
        spent += cost[j]
        cap_d[d] -= 1
        n_taken += 1
    return take, spent


@nb.njit(cache=True)
def keep_enrolled(left, members, location, active, counts):
    """End enrolments of households that died or whose location the programme does not
    run in; return the continuing beneficiaries (int64 indices) and count them by
    district into ``counts`` int64[D]."""
    out = np.empty(left.size, np.int64)
    c = 0
    counts[:] = 0
    for i in range(left.size):
        if left[i] != 0:
            if members[i] > 0 and active[location[i]]:
                out[c] = i
                c += 1
                counts[location[i]] += 1
            else:
                left[i] = 0
    return out[:c]


@nb.njit(cache=True)
def enrolment_candidates(priority, left, ever, once, members, location, active, other_left, key_registry, registry_p):
    """Households a programme could enrol now (int64 indices, ascending).

    Observed eligible (``priority > 0``), not enrolled, alive where the programme
    runs, never served before when ``once``, and not seen by the registry as
    enrolled in another programme of the same kind (``other_left`` int16[J, n]): a
    registry shared with probability ``registry_p`` catches each such household
    when ``uniform(key_registry, i, 0) < registry_p``.
    """
    out = np.empty(left.size, np.int64)
    c = 0
    J = other_left.shape[0]
    for i in range(left.size):
        if priority[i] == 0 or left[i] != 0 or members[i] <= 0 or not active[location[i]]:
            continue
        if once and ever[i]:
            continue
        dup = False
        for j in range(J):
            if other_left[j, i] != 0 and (registry_p >= 1.0 or uniform(key_registry, i, 0) < registry_p):
                dup = True
                break
        if not dup:
            out[c] = i
            c += 1
    return out[:c]


@nb.njit(parallel=True, cache=True)
def assistance_sums(assisted, household_bits, need_bits, kind_of_bit, n_kinds, ipc_phase, members, district, female_head, marginalised, poorest,
                    livelihood, displaced, acc):
    """Add the month's assistance indicators to ``acc`` int64[n_threads, D, N_CELLS, N_SUMS].

    ``assisted`` int32[n]: bit k set when intervention k serves the household;
    ``household_bits``: the household-level programmes (district services such as
    WASH or security are counted by their coverage, not here); ``need_bits``: those
    that meet basic needs (transfers, food, nutrition treatment, livestock support);
    ``kind_of_bit`` int64[K]: the kind (0..n_kinds-1) of each intervention. A
    household is *assisted* when a household-level programme serves it,
    *duplicated* when two programmes of the same kind do, *layered* when
    programmes of two or more kinds do, *in need* in IPC-like phase 3 or worse
    (last month), and *unmet* in need and served by no programme meeting needs.
    """
    n = assisted.size
    K = kind_of_bit.size
    chunk = 4096
    for c in nb.prange((n + chunk - 1) // chunk):
        tid = nb.get_thread_id()
        seen = np.zeros(n_kinds, np.int64)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            m = members[i]
            if m <= 0:
                continue
            a = assisted[i] & household_bits
            cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], displaced[i])
            row = acc[tid, district[i], cell]
            need = ipc_phase[i] >= 3
            if need:
                row[S_HOUSEHOLDS_IN_NEED] += 1
            if need and (a & need_bits) == 0:
                row[S_HOUSEHOLDS_NEED_UNMET] += 1
            if a == 0:
                continue
            row[S_HOUSEHOLDS_ASSISTED] += 1
            row[S_PEOPLE_ASSISTED] += m
            seen[:] = 0
            for k in range(K):
                if (a >> k) & 1:
                    seen[kind_of_bit[k]] += 1
            dup = False
            kinds = 0
            for g in range(n_kinds):
                if seen[g] > 1:
                    dup = True
                if seen[g] > 0:
                    kinds += 1
            if dup:
                row[S_HOUSEHOLDS_DUPLICATED] += 1
            if kinds > 1:
                row[S_HOUSEHOLDS_LAYERED] += 1


class Response(Module):
    """Allocates the portfolio's money and places each month (phase ALLOCATION).

    Parameters
    ----------
    policy : PolicyConfig
    interventions : list of Intervention  the portfolio, in its config order
    """

    phase = Phase.ALLOCATION

    def __init__(self, policy: PolicyConfig, interventions: list, name: str = "response"):
        if len(interventions) > 31:
            raise ValueError("at most 31 interventions in a portfolio (one bit each)")
        self.policy = policy
        self.interventions = list(interventions)
        self.name = name
        for k, iv in enumerate(self.interventions):
            iv.index = k
            iv.response = self

    # -- set-up -------------------------------------------------------------------------
    def init(self, engine) -> None:
        p = self.policy
        hh = engine.households
        sc = engine.scenario
        n, D, K, M = hh.n, sc.n_districts, len(self.interventions), engine.months
        self.c = p.coordination_level
        self.scale = n / float(sc.households.sum())
        self.shared_triggers = self.c >= 0.5
        self.delay_coord = int(round(self.c * p.coordination_delay_months))
        self.left = np.zeros((K, n), np.int16)  # months of service left; -1 open-ended; 0 not enrolled
        self.ever = np.zeros((K, n), np.bool_)
        self.priority = np.zeros((K, n), np.uint8)
        self.pending = np.zeros((K, n), np.uint8)
        self.pending_ready = np.full(K, -1, np.int64)
        self.start_at = np.full((K, D), NEVER, np.int64)
        self.end_at = np.full((K, D), -1, np.int64)
        self.activation_id = np.full((K, D), -1, np.int64)
        self.ready_at = np.full(D, -10**9, np.int64)
        self.capacity_carry = np.zeros(K)
        self.pool_quota = np.zeros(len(SECTORS))
        self.accounts = np.zeros(len(SECTORS) + 1)  # sim-USD (real x scale)
        self.served_idx = [np.zeros(0, np.int64) for _ in range(K)]
        self.alive_by_location = np.zeros(D)
        # the record (horizon months): real USD and simulated households
        self.cost = np.zeros((M, K, D))
        self.served_n = np.zeros((M, K, D), np.int64)
        self.overhead_usd = np.zeros(M)
        self.disbursed_usd = np.zeros(M)
        self.activations: list[dict] = []
        kinds = sorted({iv.kind for iv in self.interventions})
        self.kind_of_bit = np.array([kinds.index(iv.kind) for iv in self.interventions], np.int64)
        self.n_kinds = len(kinds)
        bits = lambda pred: np.int32(sum(1 << k for k, iv in enumerate(self.interventions) if pred(iv)))
        self.household_bits = bits(lambda iv: not iv.district_level)
        self.need_bits = bits(lambda iv: iv.meets_need)
        self.same_kind = [[j for j in range(K) if j != k and self.interventions[j].kind == self.interventions[k].kind] for k in range(K)]
        index = {name: i for i, name in enumerate(sc.names)}
        self.district_ok = np.ones((K, D), bool)
        for k, iv in enumerate(self.interventions):
            if iv.cfg.targeting.districts:
                self.district_ok[k] = False
                self.district_ok[k, [index[d] for d in iv.cfg.targeting.districts]] = True
        self.signals = []
        for iv in self.interventions:
            own = tuple(iv.cfg.trigger_on or SECTOR_SIGNALS[iv.cfg.sector])
            joint = own + tuple(s for s in iv.relevant_signals if s not in own)
            self.signals.append(joint if self.shared_triggers else own)
        self.lag = np.array(
            [int(round((1 - self.c) * p.sector_info_lag_months[iv.cfg.sector] + self.c * p.joint_info_lag_months)) for iv in self.interventions],
            np.int64,
        )
        self.need = np.zeros(n, np.float32)
        self._no_others = np.zeros((0, n), np.int16)
        self.acc = np.zeros((nb.config.NUMBA_NUM_THREADS, D, N_CELLS, N_SUMS), np.int64)

    def acting(self, engine, ti: int) -> bool:
        """Whether the response acts at tick ``ti`` (the horizon, not the spin-up)."""
        return self.policy.enabled and ti >= engine.spinup

    # -- one month ----------------------------------------------------------------------
    def step(self, engine, ti: int) -> None:
        hh, ds = engine.households, engine.districts
        # read last month's intervention effects the assessment uses, then clear them
        targeting_gain = ds.targeting_gain.copy()
        for name in ("aid_cash_usd", "aid_food_kg", "nutrition_treated", "livestock_protected", "savings_group",
                     "flight_early_frac", "assisted"):
            hh[name][:] = 0
        for name in ("security_effect", "committee_effect", "wash_effect", "surveillance_gain", "targeting_gain", "cost_usd"):
            ds[name][:] = 0.0
        if not self.acting(engine, ti):
            return
        m = ti - engine.spinup
        D = engine.scenario.n_districts
        alive = hh.members > 0
        self.alive_by_location = np.bincount(hh.location[alive], minlength=D).astype(np.float64)
        self._disburse(engine, m)
        self._activate(engine, ti, m)
        # an assessment made lag months ago reaches the registry (before a new one is made)
        for k in range(len(self.interventions)):
            if self.pending_ready[k] == ti:
                self._promote(k)
        if m % self.policy.reassess_months == 0:
            self._assess(engine, ti, targeting_gain)
        K = len(self.interventions)
        self._served, self._costs, self._active = [None] * K, [None] * K, [None] * K
        self._counts = [np.zeros(D, np.int64) for _ in range(K)]  # enrolled by district
        # the pooled money's planned split this month (sector shares); the rest of the
        # pool opens to every programme in a second round
        self.pool_quota = np.array([self.accounts[POOL] * self.policy.sector_budget_shares[s] for s in SECTORS])
        for k in range(K):
            self._continue(engine, ti, m, k)
        for k in range(K):
            cap = self.interventions[k].cfg.capacity_households_per_month * self.policy.capacity * self.scale
            # unused capacity does not pile up: at most one month's worth carries over
            self.capacity_carry[k] = min(self.capacity_carry[k], cap) + cap
            self._enrol(engine, ti, k, open_pool=False)
        if self.accounts[POOL] > 0.0:
            for k in range(K):
                self._enrol(engine, ti, k, open_pool=True)
        for k in range(K):
            self._deliver(engine, m, k)
        ds.cost_usd[:] = self.cost[m].sum(axis=0)
        self.acc[:] = 0
        assistance_sums(hh.assisted, self.household_bits, self.need_bits, self.kind_of_bit, self.n_kinds, hh.ipc_phase, hh.members, hh.district,
                        hh.female_head, hh.marginalised, hh.poorest_quintile, hh.livelihood, hh.displaced, self.acc)
        engine.month_sums += self.acc.sum(axis=0)

    def _disburse(self, engine, m: int) -> None:
        """This month's tranche: a twelfth of the year's allotment (drawn at the year's start)."""
        p = self.policy
        year = m // 12
        key = rng.stream_key(engine.seed, "policy.funding", year)
        full = rng.uniform(key, 0, 0) < p.budget_reliability
        share = 1.0 if full else rng.uniform(key, 0, 1)
        real = p.budget_usd_per_year * share / 12.0
        overhead = self.c * p.coordination_overhead_frac * real
        self.disbursed_usd[m] += real
        self.overhead_usd[m] += overhead
        net = (real - overhead) * self.scale
        self.accounts[POOL] += self.c * net
        for s, name in enumerate(SECTORS):
            self.accounts[s] += (1.0 - self.c) * net * p.sector_budget_shares[name]

    def available(self, sector: int, open_pool: bool = True) -> float:
        """Money (sim-USD) a programme of ``sector`` can spend now."""
        pool = self.accounts[POOL] if open_pool else min(self.pool_quota[sector], self.accounts[POOL])
        return float(self.accounts[sector] + pool)

    def _pay(self, sector: int, amount: float, open_pool: bool = True) -> bool:
        """Take ``amount`` (sim-USD) from the sector's account, then the pool; False (and
        nothing taken) if it is not there."""
        if amount > self.available(sector, open_pool) + 1e-9:
            return False
        own = min(amount, self.accounts[sector])
        self.accounts[sector] -= own
        from_pool = amount - own
        self.accounts[POOL] = max(0.0, self.accounts[POOL] - from_pool)
        self.pool_quota[sector] = max(0.0, self.pool_quota[sector] - from_pool)
        return True

    def _spend(self, sector: int, amount: float, open_pool: bool) -> None:
        if not self._pay(sector, amount, open_pool):  # pragma: no cover - selection never exceeds the money
            raise RuntimeError("the response tried to spend money it does not have")

    def _activate(self, engine, ti: int, m: int) -> None:
        p, ds = self.policy, engine.districts
        D = engine.scenario.n_districts
        lead = p.trigger.readiness_lead_months if p.trigger.kind == "two_stage" else 0
        self.ready_at = np.where(ds.ready_drought > 0, ti, self.ready_at)
        ready = (ti - self.ready_at) <= lead
        appeal = p.finance.appeal_delay_months + p.finance.funding_delay_months
        prearranged = p.finance.kind == "prearranged"
        for k, iv in enumerate(self.interventions):
            cfg = iv.cfg
            if not cfg.enabled:
                continue
            if cfg.activation == "always":
                if m == 0:
                    self.start_at[k] = np.where(self.district_ok[k], ti + cfg.setup_delay_months + self.delay_coord, NEVER)
                    self.end_at[k] = NEVER
                    for d in np.flatnonzero(self.district_ok[k]):  # districts
                        self._new_activation(k, d, m, ("always",), int(self.start_at[k, d]) - engine.spinup + 1)
                continue
            fired = np.zeros(D, bool)
            for s in self.signals[k]:
                fired |= ds[f"alert_{s}"] > 0
            running = (self.start_at[k] <= ti) & (ti < self.end_at[k])
            # a warning that persists extends a running programme (no new set-up)
            self.end_at[k] = np.where(fired & running, np.maximum(self.end_at[k], ti + cfg.duration_months), self.end_at[k])
            idle = (ti >= self.end_at[k]) & self.district_ok[k]  # not running, not pending
            for d in np.flatnonzero(fired & idle):  # districts
                sig = tuple(s for s in self.signals[k] if ds[f"alert_{s}"][d] > 0)
                # pre-arranged money is for the trigger's pre-agreed actions; anything
                # else is financed by an appeal
                finance = 0 if prearranged and "drought" in sig else appeal
                # readiness pre-positions for the drought trigger's actions only
                setup = 0 if ready[d] and "drought" in sig else cfg.setup_delay_months
                delay = setup + finance + self.delay_coord
                self.start_at[k, d] = ti + delay
                self.end_at[k, d] = ti + delay + cfg.duration_months
                self._new_activation(k, d, m, sig, m + 1 + delay)

    def _new_activation(self, k: int, d: int, m: int, signals: tuple, first_delivery_month: int) -> None:
        self.activation_id[k, d] = len(self.activations)
        self.activations.append(
            {
                "intervention": self.interventions[k].label,
                "district": int(d),
                "month": m + 1,
                "signals": "+".join(signals),
                "first_delivery_month": first_delivery_month,
                "funded": True,
                "fixed_paid": False,
                "cost_usd": 0.0,
            }
        )

    def _assess(self, engine, ti: int, targeting_gain: np.ndarray) -> None:
        hh, ds = engine.households, engine.districts
        p = self.policy
        compound_need(hh.ipc_phase, hh.fear, hh.coping, hh.displaced, hh.location, ds.health_access_eff, self.need)
        D = engine.scenario.n_districts
        for k, iv in enumerate(self.interventions):
            if not iv.cfg.enabled:
                continue
            t = iv.cfg.targeting
            eligible, score = true_targeting(t, engine, self.need, self.district_ok[k])
            here = (hh.members > 0) & self.district_ok[k][hh.location]
            if self.c > 0.0:
                score = ((1.0 - self.c) * score + self.c * self.need).astype(np.float32)
            n_here = np.bincount(hh.location[here], minlength=D)
            n_elig = np.bincount(hh.location[eligible & here], minlength=D)
            share = n_elig / np.maximum(n_here, 1)
            gap = (1.0 - t.accuracy) * (1.0 - p.consultation) * (1.0 - np.clip(targeting_gain, 0.0, 1.0))
            observe(rng.stream_key(engine.seed, f"targeting.{iv.label}", ti), eligible, here, score, hh.location,
                    1.0 - gap, share, self.pending[k])
            self.pending_ready[k] = ti + self.lag[k]
            if self.lag[k] == 0:
                self._promote(k)

    def _promote(self, k: int) -> None:
        self.priority[k] = self.pending[k]
        self.pending_ready[k] = -1
        # an open-ended enrolment ends when the assessment no longer sees the household
        self.left[k][(self.left[k] < 0) & (self.priority[k] == 0)] = 0

    def _continue(self, engine, ti: int, m: int, k: int) -> None:
        """Start deliveries due this month (set-up cost) and pay continuing beneficiaries."""
        hh = engine.households
        iv = self.interventions[k]
        cfg = iv.cfg
        D = engine.scenario.n_districts
        sector = SECTORS.index(cfg.sector)
        self._served[k] = [np.zeros(0, np.int64)]
        self._costs[k] = [np.zeros(0)]
        self._active[k] = np.zeros(D, bool)
        if not cfg.enabled:
            return
        active = (self.start_at[k] <= ti) & (ti < self.end_at[k])
        # set-up costs are paid when delivery starts; unpaid, the activation is cancelled
        for d in np.flatnonzero(self.start_at[k] == ti):  # districts
            a = self.activations[self.activation_id[k, d]]
            fixed = cfg.fixed_cost_usd * self.scale
            if fixed > 0.0 and not self._pay(sector, fixed, open_pool=True):
                a["funded"] = False
                active[d] = False
                self.end_at[k, d] = ti  # idle again: a later signal can re-activate
                continue
            a["fixed_paid"] = True
            self._book(m, k, d, fixed)
        self._active[k] = active
        left = self.left[k]
        # enrolments end where the programme does not run (ended, or the household moved away)
        self._counts[k] = np.zeros(D, np.int64)
        cont = keep_enrolled(left, hh.members, hh.location, active, self._counts[k])
        if cont.size == 0:
            return
        # continuing beneficiaries first (commitments), best first while money lasts
        cost = iv.unit_cost_usd(engine, cont, left[cont])
        if cost.sum() > self.available(sector, open_pool=True):
            order = self._order(engine, ti, k, cont)
            cont, cost = cont[order], cost[order]
            cap = np.full(D, np.iinfo(np.int64).max // 4, np.int64)
            keep, _ = select_in_order(cont, hh.location, cost, cap, -1, self.available(sector, open_pool=True))
            left[cont[~keep]] = 0
            self._counts[k] -= np.bincount(hh.location[cont[~keep]], minlength=D)
            cont, cost = cont[keep], cost[keep]
        self._spend(sector, float(cost.sum()), open_pool=True)
        self._served[k].append(cont)
        self._costs[k].append(cost)

    def _enrol(self, engine, ti: int, k: int, open_pool: bool) -> None:
        """Enrol new households in priority order while capacity, caps and money allow.

        First round (``open_pool=False``): a programme may use its sector's account
        and its sector's share of the pooled money; second round: whatever the pool
        still holds is open to every programme (the flexibility pooling buys).
        """
        hh = engine.households
        iv = self.interventions[k]
        cfg = iv.cfg
        active = self._active[k]
        if not cfg.enabled or not active.any():
            return
        D = engine.scenario.n_districts
        sector = SECTORS.index(cfg.sector)
        money = self.available(sector, open_pool)
        if money <= 0.0:
            return
        capacity = int(np.floor(self.capacity_carry[k]))
        if capacity <= 0:
            return
        left = self.left[k]
        others = self.left[self.same_kind[k]] if self.c > 0.0 and self.same_kind[k] else self._no_others
        new = enrolment_candidates(self.priority[k], left, self.ever[k], cfg.once, hh.members, hh.location, active,
                                   others, rng.stream_key(engine.seed, f"registry.{iv.label}", ti), self.c)
        if new.size == 0:
            return
        cap_d = np.floor(cfg.coverage_cap_frac * self.alive_by_location).astype(np.int64)
        cap_d = np.maximum(cap_d - self._counts[k], 0)
        first_left = np.int16(cfg.service_months if cfg.service_months > 0 else -1)
        # the programme shortlists its best 2 x capacity + 64 candidates (keys are unique,
        # so the shortlist is well defined) and enrols from it in order
        limit = 2 * capacity + 64
        if new.size > limit:
            # keys order by priority first: only priorities down to the level where the
            # shortlist fills can be in it (saves hashing and sorting every candidate)
            counts = np.bincount(self.priority[k][new], minlength=256)
            cutoff = int(np.searchsorted(np.cumsum(counts[::-1]), limit))  # levels from the top
            new = new[self.priority[k][new] >= 255 - cutoff]
        key = self._sort_key(engine, ti, k, new)
        if new.size > limit:
            best = np.argpartition(key, limit)[:limit]
            new = new[best[np.argsort(key[best])]]
        else:
            new = new[np.argsort(key)]
        cost = iv.unit_cost_usd(engine, new, np.full(new.size, first_left, np.int16))
        take, spent = select_in_order(new, hh.location, cost, cap_d, capacity, money)
        picked = new[take], cost[take], spent
        new, cost, spent = picked
        self.capacity_carry[k] -= new.size
        self._spend(sector, float(spent), open_pool)
        self._counts[k] += np.bincount(hh.location[new], minlength=D)
        left[new] = first_left
        self.ever[k][new] = True
        self._served[k].append(new)
        self._costs[k].append(cost)

    def _deliver(self, engine, m: int, k: int) -> None:
        """Record who is served this month, and what it cost, by district."""
        hh = engine.households
        D = engine.scenario.n_districts
        served = np.concatenate(self._served[k])
        costs = np.concatenate(self._costs[k])
        self.served_idx[k] = served
        hh.assisted[served] |= np.int32(1 << k)
        by_d = np.bincount(hh.location[served], weights=costs, minlength=D)
        for d in np.flatnonzero(by_d):  # districts
            self._book(m, k, d, by_d[d])
        self.served_n[m, k] += np.bincount(hh.location[served], minlength=D)
        # months of service: count down fixed-length enrolments after this month's delivery
        left = self.left[k]
        left[served[left[served] > 0]] -= 1

    def _book(self, m: int, k: int, d: int, sim_usd: float) -> None:
        real = sim_usd / self.scale
        self.cost[m, k, d] += real
        a = self.activation_id[k, d]
        if a >= 0:
            self.activations[a]["cost_usd"] += real

    def _sort_key(self, engine, ti: int, k: int, idx: np.ndarray) -> np.ndarray:
        """uint64[len(idx)] unique keys, ascending = best first: priority (high first),
        then a hash of (seed, intervention, tick, household), then the index.

        Bits: 8 for 255 - priority, 29 for the hash, 26 for the index (< 2^26 households)."""
        u = _uniform_at(rng.stream_key(engine.seed, f"selection.{self.interventions[k].label}", ti), idx)
        p = (255 - self.priority[k][idx].astype(np.uint64)) << np.uint64(55)
        h = (u * 536870912.0).astype(np.uint64) << np.uint64(26)
        return p | h | idx.astype(np.uint64)

    def _order(self, engine, ti: int, k: int, idx: np.ndarray) -> np.ndarray:
        """Positions of ``idx`` by priority (highest first), ties broken by a hash."""
        return np.argsort(self._sort_key(engine, ti, k, idx))

    def check_invariants(self, engine) -> None:
        """Validating mode: no account is overdrawn and nothing was spent that had not arrived."""
        from ..engine import InvariantError

        if np.any(self.accounts < -1e-6 * max(1.0, float(np.abs(self.accounts).max()))):
            raise InvariantError(f"response: an account is overdrawn at tick {engine.ti}: {self.accounts}")
        spent = self.cost.sum() + self.overhead_usd.sum()
        arrived = self.disbursed_usd.sum()
        if spent > arrived * (1 + 1e-9) + 1e-6:
            raise InvariantError(f"response: spent {spent:.2f} USD of {arrived:.2f} disbursed at tick {engine.ti}")

    # -- results ------------------------------------------------------------------------
    def tables(self, engine) -> dict[str, pd.DataFrame]:
        names = engine.scenario.names
        M, K, D = self.cost.shape
        mm, kk, dd = np.meshgrid(np.arange(M), np.arange(K), np.arange(D), indexing="ij")
        costs = pd.DataFrame(
            {
                "month": (mm + 1).ravel(),
                "district": [names[d] for d in dd.ravel()],
                "intervention": [self.interventions[k].label for k in kk.ravel()],
                "kind": [self.interventions[k].kind for k in kk.ravel()],
                "sector": [self.interventions[k].cfg.sector for k in kk.ravel()],
                "pillar": [self.interventions[k].pillar for k in kk.ravel()],
                "cost_usd": self.cost.ravel(),
                "households_served": self.served_n.ravel() / self.scale,
            }
        )
        costs = costs[(costs.cost_usd > 0) | (costs.households_served > 0)]
        over = pd.DataFrame(
            {
                "month": np.arange(1, M + 1),
                "district": "region",
                "intervention": "coordination",
                "kind": "coordination",
                "sector": "coordination",
                "pillar": "coordination",
                "cost_usd": self.overhead_usd,
                "households_served": 0.0,
            }
        )
        costs = pd.concat([costs, over[over.cost_usd > 0]], ignore_index=True)
        acts = pd.DataFrame(self.activations)
        if len(acts):
            acts["district"] = [names[d] for d in acts["district"]]
        return {"costs": costs.reset_index(drop=True), "activations": acts}

    def summary(self, engine) -> dict:
        spent = float(self.cost.sum() + self.overhead_usd.sum())
        served_months = self.served_n.sum()
        return {
            "budget_disbursed_usd": float(self.disbursed_usd.sum()),
            "cost_usd_total": spent,
            "coordination_cost_usd": float(self.overhead_usd.sum()),
            "programme_activations": int(sum(1 for a in self.activations if a["signals"] != "always")),
            "cost_in_vain_usd": self.cost_in_vain(engine),
            "household_months_served": float(served_months / self.scale),
        }

    def cost_in_vain(self, engine) -> float:
        """Real USD spent by programme activations a drought warning caused that turned out
        false alarms (no drought within the trigger's lead + 3 months; see the early-warning
        module's evaluation). Each activation is matched to the run of the drought alert
        in progress in its district when it was made."""
        ew = next((m for m in engine.modules if hasattr(m, "activations_table")), None)
        if ew is None or not self.activations:
            return 0.0
        runs = ew.activations_table()
        total = 0.0
        for a in self.activations:
            if "drought" not in a["signals"].split("+"):
                continue
            here = runs[(runs.district == engine.scenario.names[a["district"]]) & (runs.month <= a["month"])]
            if len(here) and not bool(here.iloc[-1]["hit"]):
                total += a["cost_usd"]
        return float(total)


def _uniform_at(key, idx: np.ndarray) -> np.ndarray:
    from ..kernels.displacement import uniform_at

    return uniform_at(key, idx.astype(np.int64), 0)
