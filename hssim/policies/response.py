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
registry catches each would-be duplicate household with probability ``c`` (drawn once), and triggers are
shared from ``c >= 0.5``. Both modes receive exactly the same money.

Money (commitment): each horizon year's allotment is ``budget_usd_per_year`` in
full with probability ``budget_reliability`` and otherwise a uniform share of it
(stream ``policy.funding``, index = year); it arrives in
``budget_cycle.tranches_per_year`` equal tranches (twelve monthly ones by default).
At a year's end ``budget_cycle.carryover_frac`` of the budget money left carries over
(all of it by default: a reserve builds up in quiet months), the rest lapses; reviews
every ``budget_cycle.review_months`` move money stranded in sector accounts to the pool,
late and at a cost (:class:`~hssim.policies.schema.BudgetCycleConfig`).
Beyond the budget, a contingency reserve released by the drought trigger and appeals
funded in part bring money earmarked to the programmes they finance (see
:class:`~hssim.policies.schema.FinanceConfig`); a programme spends its earmarked money
first. With ``spend_cap_usd`` nothing is paid once the response has spent that much over
the horizon (equal-spend comparisons). Nothing is ever spent that is not in an account: an intervention pays from its
sector's account, then from the pool; a set-up (fixed) cost that cannot be paid
cancels the activation; continuing beneficiaries are paid first, by priority, and
those that cannot be paid leave the programme; new households are enrolled in
priority order while money, the monthly delivery capacity (``capacity`` x each
intervention's) and the coverage cap of their district allow (from a shortlist of
the best ``2 x capacity + 64`` candidates of the month).

Activation: a regular programme (``activation: always``) is set up at the start
of the horizon and delivers after its set-up delay. An anticipatory action
(``anticipatory: true``) answers the drought forecast trigger only (``alert_drought``,
shared triggers or not) and never runs under an observed trigger. A triggered programme is
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

import dataclasses

import numba as nb
import numpy as np
import pandas as pd

from .. import rng
from ..kernels.response import allocate, promote, select_in_order
from ..module import Module
from ..phases import Phase
from ..sums import (
    N_CELLS,
    S_HOUSEHOLDS_ASSISTED,
    S_HOUSEHOLDS_DUPLICATED,
    S_HOUSEHOLDS_IN_NEED,
    S_HOUSEHOLDS_LAYERED,
    S_HOUSEHOLDS_NEED_UNMET,
    S_PEOPLE_ASSISTED,
    cell_of,
)
from ..interventions.base import Intervention
from ..interventions.targeting import compound_need, observe_all, true_targeting
from .early_warning import EarlyWarning
from .schema import SECTOR_SIGNALS, SECTORS, PolicyConfig

__all__ = ["Response", "select_in_order", "assistance_sums"]

NEVER = np.iinfo(np.int64).max
#: what the interventions delivered last month, cleared at the start of each month
#: (household fields, then district fields; neutral at 0)
CLEARED_HOUSEHOLD = ("aid_cash_usd", "aid_food_kg", "nutrition_treated", "livestock_protected", "savings_group",
                     "flight_early_frac", "assisted")  # fmt: skip
CLEARED_DISTRICT = ("security_effect", "committee_effect", "wash_effect", "surveillance_gain", "targeting_gain",
                    "cost_usd")  # fmt: skip
POOL = len(SECTORS)  # index of the pooled account


_ASSIST = (S_HOUSEHOLDS_IN_NEED, S_HOUSEHOLDS_NEED_UNMET, S_HOUSEHOLDS_ASSISTED, S_PEOPLE_ASSISTED,
           S_HOUSEHOLDS_DUPLICATED, S_HOUSEHOLDS_LAYERED)
#: the assistance accumulator holds the block of sums ``ASSIST_FIRST .. ASSIST_FIRST + N_ASSIST - 1``
#: (the six assistance sums, adjacent in :data:`hssim.sums.SUMS`; any other in the block stays 0)
ASSIST_FIRST = min(_ASSIST)
N_ASSIST = max(_ASSIST) - ASSIST_FIRST + 1
A_IN_NEED, A_NEED_UNMET, A_ASSISTED, A_PEOPLE, A_DUPLICATED, A_LAYERED = (s - ASSIST_FIRST for s in _ASSIST)


@nb.njit(parallel=True, cache=True)
def assistance_sums(assisted, household_bits, need_bits, kind_of_bit, ipc_phase, members, district, female_head, marginalised, poorest,
                    livelihood, displaced, acc):
    """Add the month's assistance indicators to ``acc`` int64[n_threads, D, N_CELLS, N_ASSIST]
    (columns ``A_IN_NEED .. A_LAYERED``: sum ``ASSIST_FIRST + column``).

    ``assisted`` int32[n]: bit k set when intervention k serves the household;
    ``household_bits``: the household-level programmes (district services such as
    WASH or security are counted by their coverage, not here); ``need_bits``: those
    that meet basic needs (transfers, food, nutrition treatment, livestock support);
    ``kind_of_bit`` int64[K]: the kind (0, 1, ...; fewer than 63) of each intervention. A
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
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            m = members[i]
            if m <= 0:
                continue
            a = assisted[i] & household_bits
            need = ipc_phase[i] >= 3
            if not need and a == 0:
                continue  # counts nowhere
            cell = cell_of(female_head[i], marginalised[i], poorest[i], livelihood[i], displaced[i])
            row = acc[tid, district[i], cell]
            if need:
                row[A_IN_NEED] += 1
            if need and (a & need_bits) == 0:
                row[A_NEED_UNMET] += 1
            if a == 0:
                continue
            row[A_ASSISTED] += 1
            row[A_PEOPLE] += m
            # the kinds serving the household as bit sets: once, and twice or more
            once = np.int64(0)
            twice = np.int64(0)
            for k in range(K):
                if (a >> k) & 1:
                    g = np.int64(1) << kind_of_bit[k]
                    twice |= once & g
                    once |= g
            if twice != 0:
                row[A_DUPLICATED] += 1
            if once & (once - 1) != 0:  # two or more kinds
                row[A_LAYERED] += 1


def _same_terms(a, b) -> bool:
    """Whether two :class:`~hssim.interventions.base.UnitCost` are the same terms (the
    district table by identity: a kind that rebuilds it is simply re-read)."""
    return (a.base, a.per_member, a.per_tlu, a.last_month) == (b.base, b.per_member, b.per_tlu, b.last_month) and (
        a.by_district is b.by_district)


class Response(Module):
    """Allocates the portfolio's money and places each month (phase ALLOCATION).

    Parameters
    ----------
    policy : PolicyConfig
    interventions : list of Intervention  the portfolio, in its config order
    """

    phase = Phase.ALLOCATION
    reads = (
        "targeting_gain",  # last month's, before it is cleared
        "ready_drought", "alert_drought", "alert_food", "alert_conflict", "alert_disease",  # activation
        "members", "location", "district", "herd_tlu",  # enrolment and unit costs
        # targeting: compound need and every rule's indicators (a rule reads only its own)
        "ipc_phase", "fear", "coping", "displaced", "health_access_eff", "female_head", "marginalised",
        "poorest_quintile", "livelihood", "u5", "consumption_usd_pc_day", "assets_usd", "land_ha", "savings_usd",
        "community", "malnutrition", "adequacy", "sick", "dis_s",
    )  # fmt: skip
    writes = CLEARED_HOUSEHOLD + CLEARED_DISTRICT  # ``assisted`` and ``cost_usd`` are then set for the month

    def __init__(self, policy: PolicyConfig, interventions: list, name: str = "response"):
        if len(interventions) > 31:
            raise ValueError("at most 31 interventions in a portfolio (one bit each)")
        self.policy = policy
        self.interventions = list(interventions)
        self.name = name
        for k, iv in enumerate(self.interventions):
            if isinstance(iv, Intervention) and type(iv).unit_cost_usd is not Intervention.unit_cost_usd:
                # the allocation kernel prices households from the cost terms
                raise TypeError(f"{type(iv).__name__}: define cost_terms(), not unit_cost_usd()")
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
        # candidate bits: every household observed eligible and not enrolled (and perhaps
        # a few others), so enrolment reads only those (kernels.response.shortlist)
        self.free = np.zeros((K, (n + 63) // 64), np.uint64)
        self.pending = np.zeros((K, n), np.uint8)
        self.pending_ready = np.full(K, -1, np.int64)
        self.start_at = np.full((K, D), NEVER, np.int64)
        self.end_at = np.full((K, D), -1, np.int64)
        self.activation_id = np.full((K, D), -1, np.int64)
        self.ready_at = np.full(D, -10**9, np.int64)
        self.capacity_carry = np.zeros(K)
        self.pool_quota = np.zeros(len(SECTORS))
        self.accounts = np.zeros(len(SECTORS) + 1)  # sim-USD (real x scale)
        # money beyond the budget, earmarked to one programme (sim-USD): the kernel spends
        # earmark[k] first; the tranches say where it came from and when it lapses
        self.earmark = np.zeros(K)
        self._tranches: list[list[list]] = [[] for _ in range(K)]  # [amount, expires_tick, source]
        self._appeals: list[tuple] = []  # (due_tick, k, amount sim-USD, expires_tick)
        self.reserve_left = 0.0  # sim-USD of this year's contingency reserve not yet released
        self.spent_usd = 0.0  # real USD spent so far (deliveries, set-ups, coordination)
        self._people_stats = None
        self.served_idx = [np.zeros(0, np.int64) for _ in range(K)]
        self.served_by_location = np.zeros((K, D), np.int64)
        self.alive_by_location = np.zeros(D)
        # the record (horizon months): real USD and simulated households
        self.cost = np.zeros((M, K, D))
        self.served_n = np.zeros((M, K, D), np.int64)
        self.overhead_usd = np.zeros(M)
        self.disbursed_usd = np.zeros(M)
        self.reserve_released_usd = np.zeros(M)
        self.reserve_lapsed_usd = np.zeros(M)
        self.reserve_returned_usd = np.zeros(M)
        self.appeal_asked_usd = np.zeros(M)
        self.appeal_received_usd = np.zeros(M)
        self.earmark_lapsed_usd = np.zeros(M)
        self.budget_lapsed_usd = np.zeros(M)  # budget money lapsed at a year's end (carry-over < 1)
        self.reallocated_usd = np.zeros(M)  # stranded sector money reaching the pool, net of its cost
        self.reallocation_cost_usd = np.zeros(M)  # what moving it cost (spending)
        self._moves: list[tuple[int, float]] = []  # (due tick, sim-USD) sector money on its way to the pool
        self.held_usd = np.zeros(M)  # budget money in the accounts (or moving between them) at the month's end
        self.earmarked_usd = np.zeros(M)  # earmarked money not yet spent at the month's end
        self._activations: list[dict] = []
        kinds = sorted({iv.kind for iv in self.interventions})
        self.kind_of_bit = np.array([kinds.index(iv.kind) for iv in self.interventions], np.int64)
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
            if iv.cfg.anticipatory:  # a pre-agreed action answers the forecast trigger only
                self.signals.append(("drought",))
                continue
            own = tuple(iv.cfg.trigger_on or SECTOR_SIGNALS[iv.cfg.sector])
            joint = own + tuple(s for s in iv.relevant_signals if s not in own)
            self.signals.append(joint if self.shared_triggers else own)
        self.lag = np.array(
            [int(round((1 - self.c) * p.sector_info_lag_months[iv.cfg.sector] + self.c * p.joint_info_lag_months)) for iv in self.interventions],
            np.int64,
        )
        self.need = np.zeros(n, np.float32)
        self.acc = np.zeros((nb.config.NUMBA_NUM_THREADS, D, N_CELLS, N_ASSIST), np.int64)
        # per-programme constants, built once: the config does not change during a run
        cfgs = [iv.cfg for iv in self.interventions]
        self.enabled = np.array([c.enabled for c in cfgs], bool)
        self.always = np.array([c.enabled and c.activation == "always" for c in cfgs], bool)
        # anticipatory actions act before a forecast shock: an observed trigger never starts them
        forecast = p.trigger.kind != "observed"
        self.triggered = np.array([c.enabled and c.activation != "always" and (forecast or not c.anticipatory)
                                   for c in cfgs], bool)
        self.sector = np.array([SECTORS.index(c.sector) for c in cfgs], np.int64)
        self.duration = np.array([c.duration_months for c in cfgs], np.int64)
        self.capacity_month = np.array([c.capacity_households_per_month * p.capacity * self.scale for c in cfgs])
        self.cap_frac = np.array([c.coverage_cap_frac for c in cfgs], np.float64)
        self.first_left = np.array([c.service_months if c.service_months > 0 else -1 for c in cfgs], np.int16)
        self.once = np.array([c.once for c in cfgs], bool)
        self.fixed_cost = np.array([c.fixed_cost_usd * self.scale for c in cfgs], np.float64)  # sim-USD
        # rows of `left` the registry checks for programme k (none when siloed):
        # registry_rows[registry_start[k]:registry_start[k + 1]]
        rows = [self.same_kind[k] if self.c > 0.0 else [] for k in range(K)]
        self.registry_rows = np.array([j for r in rows for j in r], np.int64)
        self.registry_start = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        self.signal_names = sorted({s for sig in self.signals for s in sig})
        self.signal_mask = np.array([[s in sig for s in self.signal_names] for sig in self.signals], bool).reshape(K, len(self.signal_names))
        self.accuracy_gap = np.array([(1.0 - c.targeting.accuracy) * (1.0 - p.consultation) for c in cfgs], np.float64)
        # stream keys of every programme at every tick: uint64[n_ticks, K]
        ticks = np.arange(engine.n_ticks)

        def keys(stream: str) -> np.ndarray:
            out = np.zeros((ticks.size, K), np.uint64)
            for k, iv in enumerate(self.interventions):
                out[:, k] = rng.stream_keys(engine.seed, f"{stream}.{iv.label}", ticks)
            return out

        self.key_targeting, self.key_selection = keys("targeting"), keys("selection")
        # whether the shared registry holds a household's record (partial coordination) is a
        # property of the household and programme, drawn once (tick 0's key at every tick):
        # redrawn each month, every would-be duplicate would slip through within a few months
        self.key_registry = np.repeat(keys("registry")[:1], ticks.size, axis=0)
        # real USD booked to each activation (row of self._activations)
        self.activation_cost = np.zeros(64)
        self._terms = None  # the unit-cost terms of last month, and their arrays

    @property
    def activations(self) -> list[dict]:
        """Programme activations in the order they were made: ``intervention``,
        ``district`` (index), ``month``, ``signals``, ``first_delivery_month``,
        ``funded``, ``fixed_paid`` and ``cost_usd`` (real USD booked so far)."""
        for a, usd in zip(self._activations, self.activation_cost):
            a["cost_usd"] = float(usd)
        return self._activations

    def acting(self, engine, ti: int) -> bool:
        """Whether the response acts at tick ``ti`` (the horizon, not the spin-up)."""
        return self.policy.enabled and ti >= engine.spinup

    # -- one month ----------------------------------------------------------------------
    def step(self, engine, ti: int) -> None:
        hh, ds = engine.households, engine.districts
        # read last month's intervention effects the assessment uses, then clear them
        targeting_gain = ds.targeting_gain.copy()
        for name in CLEARED_HOUSEHOLD:
            hh[name][:] = 0
        for name in CLEARED_DISTRICT:
            ds[name][:] = 0.0
        if not self.acting(engine, ti):
            return
        m = ti - engine.spinup
        K, D = self.start_at.shape
        alive = hh.members > 0
        self.alive_by_location = np.bincount(hh.location[alive], minlength=D).astype(np.float64)
        self._year_end(m)
        self._disburse(engine, m)
        self._review(ti, m)
        self._people_stats = None
        self._renew_reserve(m)
        self._receive_appeals(ti, m)
        self._activate(engine, ti, m)
        # an assessment made lag months ago reaches the registry (before a new one is made)
        self._promote(np.flatnonzero(self.pending_ready == ti))
        if m % self.policy.reassess_months == 0:
            self._assess(engine, ti, targeting_gain)
        # the pooled money's planned split this month (sector shares); the rest of the
        # pool opens to every programme in a second round
        self.pool_quota = np.array([self.accounts[POOL] * self.policy.sector_budget_shares[s] for s in SECTORS])
        # unused capacity does not pile up: at most one month's worth carries over
        self.capacity_carry = np.minimum(self.capacity_carry, self.capacity_month) + self.capacity_month
        # where each programme delivers, and the most households it may serve in each
        # district (coverage cap)
        active = (self.start_at <= ti) & (ti < self.end_at) & self.enabled[:, None]
        cap_d = np.floor(self.cap_frac[:, None] * self.alive_by_location).astype(np.int64)
        terms = [iv.cost_terms(engine) for iv in self.interventions]
        if self._terms is None or not all(_same_terms(t, u) for t, u in zip(terms, self._terms)):
            # (rebuilt when a programme's terms change; they rarely do)
            self._terms = terms
            self._by_district = np.zeros((K, D))
            for k, t in enumerate(terms):
                if t.by_district is not None:
                    self._by_district[k] = t.by_district
            self._term_arrays = np.array([(t.base, t.per_member, t.per_tlu, t.last_month, t.lower_bound()) for t in terms],
                                         np.float64).reshape(K, 5).T.copy()
        base, per_member, per_tlu, last_month, min_cost = self._term_arrays
        fixed_status = np.zeros((K, D), np.int8)
        cost_d = np.zeros((K, D))
        served_d = np.zeros((K, D), np.int64)
        # money and places of every programme: set-up, continuing, enrolment rounds, delivery
        earmark_before = self.earmark.copy()
        served, lo, hi = allocate(
            ti, self.accounts, self.pool_quota, self.earmark, self._cap_left(m), self.sector, self.enabled, active,
            self.start_at, self.end_at, self.fixed_cost, self.scale, self.activation_id, self.activation_cost, self.cost[m], fixed_status,
            self.left, self.ever, self.priority, hh.members, hh.location, hh.district, hh.herd_tlu,
            base, per_member, per_tlu, self._by_district, last_month, self.capacity_carry, cap_d, min_cost, self.once,
            self.first_left, self.registry_rows, self.registry_start, self.c, self.key_registry[ti],
            self.key_selection[ti], hh.assisted, cost_d, served_d, self.free,
        )
        for k, d in np.argwhere(fixed_status):  # set-ups paid or not (few)
            a = self._activations[self.activation_id[k, d]]
            if fixed_status[k, d] == 1:
                a["fixed_paid"] = True
            else:
                a["funded"] = False
        self._settle_earmarks(ti, m, earmark_before - self.earmark)
        self.held_usd[m] = float(self.accounts.sum() + self._in_transit()) / self.scale
        self.earmarked_usd[m] = float(self.earmark.sum()) / self.scale
        self.served_idx = [served[lo[k] : hi[k]] for k in range(K)]
        self.served_by_location = served_d  # households served by programme and district
        self.served_n[m] += served_d
        booked = cost_d != 0.0
        real = cost_d[booked] / self.scale
        self.cost[m][booked] += real
        act = self.activation_id[booked]  # distinct activations
        self.activation_cost[act[act >= 0]] += real[act >= 0]
        ds.cost_usd[:] = self.cost[m].sum(axis=0)
        self.spent_usd += float(self.cost[m].sum() + self.overhead_usd[m] + self.reallocation_cost_usd[m])
        self.acc[:] = 0
        assistance_sums(hh.assisted, self.household_bits, self.need_bits, self.kind_of_bit, hh.ipc_phase, hh.members, hh.district,
                        hh.female_head, hh.marginalised, hh.poorest_quintile, hh.livelihood, hh.displaced, self.acc)
        block = engine.month_sums[:, :, ASSIST_FIRST : ASSIST_FIRST + N_ASSIST]  # a view
        for rows in self.acc:  # the threads' sums (integers: exact in any order)
            block += rows

    def _disburse(self, engine, m: int) -> None:
        """This month's tranche, if one is due: the year's allotment (drawn at the year's
        start) over ``tranches_per_year``, at the start of each period."""
        p = self.policy
        tranches = p.budget_cycle.tranches_per_year
        if m % (12 // tranches):
            return
        year = m // 12
        key = rng.stream_key(engine.seed, "policy.funding", year)
        full = rng.uniform(key, 0, 0) < p.budget_reliability
        share = 1.0 if full else rng.uniform(key, 0, 1)
        real = p.budget_usd_per_year * share / float(tranches)
        overhead = self.c * p.coordination_overhead_frac * real
        if p.spend_cap_usd > 0.0:  # coordination is spending too: it stops at the cap
            overhead = min(overhead, max(0.0, p.spend_cap_usd - self.spent_usd))
        self.disbursed_usd[m] += real
        self.overhead_usd[m] += overhead
        net = (real - overhead) * self.scale
        self.accounts[POOL] += self.c * net
        for s, name in enumerate(SECTORS):
            self.accounts[s] += (1.0 - self.c) * net * p.sector_budget_shares[name]

    def _year_end(self, m: int) -> None:
        """At each horizon year's start after the first: the budget money not carried over
        lapses (every account alike, and money on its way to the pool)."""
        keep = self.policy.budget_cycle.carryover_frac
        if m == 0 or m % 12 or keep >= 1.0:
            return
        lost = (1.0 - keep) * (float(self.accounts.sum()) + self._in_transit())
        self.budget_lapsed_usd[m] += lost / self.scale
        self.accounts *= keep
        self._moves = [(due, amount * keep) for due, amount in self._moves]

    def _review(self, ti: int, m: int) -> None:
        """A budget review (every ``review_months``): each sector account's money beyond
        ``keep_months`` of its programmes' mean monthly spending since the last review
        leaves for the pool; money due from earlier reviews arrives, less its cost."""
        bc = self.policy.budget_cycle
        if bc.review_months > 0 and m > 0 and m % bc.review_months == 0:
            since = self.cost[m - bc.review_months : m].sum(axis=(0, 2))  # real USD by programme
            by_sector = np.bincount(self.sector, weights=since, minlength=len(SECTORS))
            for s in range(len(SECTORS)):
                keep = bc.keep_months * by_sector[s] / bc.review_months * self.scale
                excess = self.accounts[s] - keep
                if excess > 0.0:
                    self.accounts[s] -= excess
                    self._moves.append((ti + bc.reallocation_delay_months, excess))
        due = [mv for mv in self._moves if mv[0] <= ti]
        if not due:
            return
        self._moves = [mv for mv in self._moves if mv[0] > ti]
        for _, amount in due:
            cost = amount * bc.reallocation_cost_frac
            self.accounts[POOL] += amount - cost
            self.reallocated_usd[m] += (amount - cost) / self.scale
            self.reallocation_cost_usd[m] += cost / self.scale

    def _in_transit(self) -> float:
        """Sim-USD of sector money on its way to the pool."""
        return float(sum(amount for _, amount in self._moves)) if self._moves else 0.0

    def _cap_left(self, m: int) -> np.ndarray:
        """float64[1] sim-USD the response may still spend this month under
        ``spend_cap_usd`` (this month's coordination and reallocation counted), ``inf``
        without a cap."""
        cap = self.policy.spend_cap_usd
        if cap <= 0.0:
            return np.array([np.inf])
        return np.array([max(0.0, cap - self.spent_usd - self.overhead_usd[m] - self.reallocation_cost_usd[m]) * self.scale])

    # -- money beyond the budget: the contingency reserve and appeals -----------------------
    def _renew_reserve(self, m: int) -> None:
        """At each horizon year's start: the reserve left lapses and a new year's is agreed."""
        if m % 12:
            return
        self.reserve_lapsed_usd[m] += self.reserve_left / self.scale
        self.reserve_left = self.policy.finance.reserve_usd_per_year * self.scale

    def _earmark(self, k: int, amount: float, expires: int, source: str) -> None:
        if amount > 0.0:
            self.earmark[k] += amount
            self._tranches[k].append([amount, int(expires), source])

    def _receive_appeals(self, ti: int, m: int) -> None:
        """Appeal money due this tick reaches the programmes it was asked for."""
        due = [a for a in self._appeals if a[0] <= ti]
        if not due:
            return
        self._appeals = [a for a in self._appeals if a[0] > ti]
        for _, k, amount, expires in due:
            self.appeal_received_usd[m] += amount / self.scale
            self._earmark(k, amount, expires, "appeal")

    def _settle_earmarks(self, ti: int, m: int, spent: np.ndarray) -> None:
        """Book what each programme spent of its earmarked money against its tranches (the
        soonest to lapse first), then let tranches past their time lapse: a reserve tranche
        returns to the reserve, an appeal's money is gone."""
        for k, tranches in enumerate(self._tranches):
            if not tranches:
                continue
            ts = sorted(tranches, key=lambda t: t[1])
            left = float(spent[k])
            for t in ts:
                take = min(t[0], left)
                t[0] -= take
                left -= take
            keep = []
            for t in ts:
                if t[0] <= 1e-12:
                    continue
                if t[1] <= ti:
                    if t[2] == "reserve":
                        self.reserve_left += t[0]  # released, not spent in its window: back
                        self.reserve_returned_usd[m] += t[0] / self.scale
                    else:
                        self.earmark_lapsed_usd[m] += t[0] / self.scale
                    self.earmark[k] -= t[0]
                    continue
                keep.append(t)
            self._tranches[k] = keep
            if not keep:
                self.earmark[k] = 0.0  # no rounding dust left behind

    def _district_means(self, engine) -> tuple[np.ndarray, np.ndarray]:
        """float64[D] mean members and mean herd (TLU) of the households alive, by location."""
        if self._people_stats is None:
            hh = engine.households
            D = engine.scenario.n_districts
            alive = hh.members > 0
            n = self.alive_by_location  # households alive by location, this month
            members = np.bincount(hh.location[alive], weights=hh.members[alive].astype(np.float64), minlength=D)
            herd = np.bincount(hh.location[alive], weights=hh.herd_tlu[alive].astype(np.float64), minlength=D)
            self._people_stats = (np.divide(members, n, out=np.zeros(D), where=n > 0),
                                  np.divide(herd, n, out=np.zeros(D), where=n > 0))
        return self._people_stats

    def appeal_ask_usd(self, engine, k: int, d: int) -> float:
        """Real USD an appeal asks for programme ``k`` in district ``d``: its set-up cost plus
        the monthly unit cost at the district's mean household (members, herd) times the
        households of its coverage cap times its duration."""
        iv = self.interventions[k]
        t = iv.cost_terms(engine)
        members, herd = self._district_means(engine)
        unit = t.base + t.per_member * members[d] + t.per_tlu * herd[d]
        if t.by_district is not None:
            unit += float(t.by_district[d])
        households = self.cap_frac[k] * self.alive_by_location[d] / self.scale
        return float(iv.cfg.fixed_cost_usd + max(unit, 0.0) * households * iv.cfg.duration_months)

    def _activate(self, engine, ti: int, m: int) -> None:
        p, ds = self.policy, engine.districts
        lead = p.trigger.readiness_lead_months if p.trigger.kind == "two_stage" else 0
        self.ready_at = np.where(ds.ready_drought > 0, ti, self.ready_at)
        ready = (ti - self.ready_at) <= lead
        appeal = p.finance.appeal_delay_months + p.finance.funding_delay_months
        prearranged = p.finance.kind == "prearranged"
        # every triggered programme at once: which of its signals are on in each district
        D = engine.scenario.n_districts
        alert = np.array([ds[f"alert_{s}"] > 0 for s in self.signal_names], bool).reshape(-1, D)  # [S, D]
        fired = (self.signal_mask[:, :, None] & alert[None, :, :]).any(axis=1) & self.triggered[:, None]  # [K, D]
        running = (self.start_at <= ti) & (ti < self.end_at)
        # a warning that persists extends a running programme (no new set-up)
        self.end_at = np.where(fired & running, np.maximum(self.end_at, ti + self.duration[:, None]), self.end_at)
        new = fired & (ti >= self.end_at) & self.district_ok  # fired where not running, not pending
        fin = p.finance
        if fin.reserve_usd_per_year > 0 and "drought" in self.signal_names:
            # the programmes the drought trigger starts in each district this month share
            # the district's part of the reserve
            j = self.signal_names.index("drought")
            n_by_drought = (new & self.signal_mask[:, j][:, None] & alert[j][None, :]).sum(axis=0)
            people_share = self.alive_by_location / max(self.alive_by_location.sum(), 1.0)
        for k in np.flatnonzero(new.any(axis=1) | (self.always & (m == 0))):  # programmes, in portfolio order
            cfg = self.interventions[k].cfg
            if self.always[k]:  # a regular programme is set up at the start of the horizon
                self.start_at[k] = np.where(self.district_ok[k], ti + cfg.setup_delay_months + self.delay_coord, NEVER)
                self.end_at[k] = NEVER
                for d in np.flatnonzero(self.district_ok[k]):  # districts
                    self._new_activation(k, d, m, ("always",), int(self.start_at[k, d]) - engine.spinup + 1)
                continue
            for d in np.flatnonzero(new[k]):  # districts
                sig = tuple(s for s in self.signals[k] if alert[self.signal_names.index(s), d])
                # pre-arranged money is for the forecast trigger's pre-agreed actions;
                # anything else is financed by an appeal
                finance = 0 if prearranged and "drought" in sig else appeal
                # readiness pre-positions for the drought trigger's actions only
                setup = 0 if ready[d] and "drought" in sig else cfg.setup_delay_months
                delay = setup + finance + self.delay_coord
                self.start_at[k, d] = ti + delay
                self.end_at[k, d] = ti + delay + cfg.duration_months
                self._new_activation(k, d, m, sig, m + 1 + delay)
                if finance == 0 and prearranged and fin.reserve_usd_per_year > 0 and self.reserve_left > 0:
                    # the pre-agreed action's part of the reserve, for a limited window
                    share = fin.reserve_usd_per_year * self.scale * people_share[d] / max(int(n_by_drought[d]), 1)
                    amount = min(self.reserve_left, share)
                    self.reserve_left -= amount
                    self.reserve_released_usd[m] += amount / self.scale
                    self._earmark(k, amount, self.start_at[k, d] + fin.reserve_window_months, "reserve")
                elif finance > 0 and fin.appeal_funding_share > 0:
                    ask = self.appeal_ask_usd(engine, k, d)
                    self.appeal_asked_usd[m] += ask
                    self._appeals.append((ti + finance, k, fin.appeal_funding_share * ask * self.scale,
                                          int(self.end_at[k, d])))

    def _new_activation(self, k: int, d: int, m: int, signals: tuple, first_delivery_month: int) -> None:
        a = len(self._activations)
        self.activation_id[k, d] = a
        if a == self.activation_cost.size:
            self.activation_cost = np.concatenate([self.activation_cost, np.zeros(a)])
        self._activations.append(
            {
                "intervention": self.interventions[k].label,
                "district": int(d),
                "month": m + 1,
                "signals": "+".join(signals),
                "first_delivery_month": first_delivery_month,
                "funded": True,
                "fixed_paid": False,
                "cost_usd": 0.0,  # filled in from activation_cost (see the activations property)
            }
        )

    def _assess(self, engine, ti: int, targeting_gain: np.ndarray) -> None:
        """Targeting assessment of every enabled programme (its priorities reach the
        registry ``lag`` months later)."""
        hh = engine.households
        ds = engine.districts
        compound_need(hh.ipc_phase, hh.fear, hh.coping, hh.displaced, hh.location, ds.health_access_eff, self.need)
        rows = np.flatnonzero(self.enabled)
        # every programme's true eligibility and own need score: programmes with the same
        # rule where they run share them (the rule is a pure function of the households'
        # state; accuracy enters only when the assessment observes them)
        source = np.zeros(len(self.interventions), np.int64)  # programme -> its row of the shared
        shared: dict[tuple, int] = {}
        eligible_rows: list[np.ndarray] = []
        own_rows: list[np.ndarray] = []
        here_for: dict[bytes, np.ndarray] = {}  # alive where a programme runs, by its districts
        for k in rows:
            ok = self.district_ok[k]
            where = ok.tobytes()
            rule = dataclasses.replace(self.interventions[k].cfg.targeting, accuracy=1.0)
            j = shared.get((rule, where))
            if j is None:
                here = here_for.get(where)
                if here is None:
                    here = here_for[where] = (hh.members > 0) & ok[hh.location]
                eligible_k, own = true_targeting(rule, engine, self.need, ok, here)
                j = shared[(rule, where)] = len(eligible_rows)
                eligible_rows.append(eligible_k)
                own_rows.append(own)
            source[k] = j
        # (typed lists: the rows go to the kernel without being copied into one array)
        eligible, own_score = nb.typed.List.empty_list(nb.types.bool_[::1]), nb.typed.List.empty_list(nb.types.float32[::1])
        for e, o in zip(eligible_rows, own_rows):
            eligible.append(np.ascontiguousarray(e, np.bool_))
            own_score.append(np.ascontiguousarray(o, np.float32))
        # the accuracy gap consultation and community-based targeting leave, by district
        accuracy = 1.0 - self.accuracy_gap[:, None] * (1.0 - np.clip(targeting_gain, 0.0, 1.0))
        # the ranking score blends in compound need when coordinated (in the kernel, float32)
        observe_all(self.key_targeting[ti], rows, source, eligible, own_score, self.need, self.c, hh.members,
                    hh.location, self.district_ok, accuracy, self.pending)
        self.pending_ready[rows] = ti + self.lag[rows]
        self._promote(rows[self.lag[rows] == 0])

    def _promote(self, ks: np.ndarray) -> None:
        """The pending assessment of programmes ``ks`` (int64[j]) becomes their registry."""
        if ks.size == 0:
            return
        # (an open-ended enrolment ends when the assessment no longer sees the household)
        promote(ks, self.pending, self.priority, self.left, self.free)
        self.pending_ready[ks] = -1

    def check_invariants(self, engine) -> None:
        """Validating mode: no account is overdrawn, nothing was spent that had not
        arrived, and every household observed eligible and not enrolled has its candidate
        bit (else enrolment would miss it)."""
        from ..errors import InvariantError

        n = self.left.shape[1]
        if n:
            bits = np.unpackbits(self.free.view(np.uint8), axis=1, bitorder="little")[:, :n].astype(bool)
            missing = (self.priority > 0) & (self.left == 0) & ~bits
            if missing.any():
                k, i = np.argwhere(missing)[0]
                raise InvariantError(f"response: household {i} is a candidate of programme {k} without its bit "
                                     f"at tick {engine.ti}")

        if np.any(self.accounts < -1e-6 * max(1.0, float(np.abs(self.accounts).max()))):
            raise InvariantError(f"response: an account is overdrawn at tick {engine.ti}: {self.accounts}")
        spent = self.cost.sum() + self.overhead_usd.sum() + self.reallocation_cost_usd.sum()
        arrived = self.disbursed_usd.sum() + self.reserve_released_usd.sum() + self.appeal_received_usd.sum()
        if spent > arrived * (1 + 1e-9) + 1e-6:
            raise InvariantError(f"response: spent {spent:.2f} USD of {arrived:.2f} disbursed at tick {engine.ti}")

    # -- results ------------------------------------------------------------------------
    def tables(self, engine) -> dict[str, pd.DataFrame]:
        names = engine.scenario.names
        M, K, D = self.cost.shape
        cost = self.cost.ravel()
        served = self.served_n.ravel() / self.scale
        # the (month, programme, district) cells that cost or served something, in order
        rows = np.flatnonzero((cost > 0) | (served > 0))
        ks = (rows // D % K).tolist()
        ivs = self.interventions
        costs = pd.DataFrame(
            {
                "month": rows // (K * D) + 1,
                "district": [names[d] for d in (rows % D).tolist()],
                "intervention": [ivs[k].label for k in ks],
                "kind": [ivs[k].kind for k in ks],
                "sector": [ivs[k].cfg.sector for k in ks],
                "pillar": [ivs[k].pillar for k in ks],
                "cost_usd": cost[rows],
                "households_served": served[rows],
            }
        )
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
        moved = over.assign(intervention="reallocation", kind="reallocation", sector="reallocation",
                            pillar="reallocation", cost_usd=self.reallocation_cost_usd)
        costs = pd.concat([costs, over[over.cost_usd > 0], moved[moved.cost_usd > 0]], ignore_index=True)
        acts = pd.DataFrame(self.activations)
        if len(acts):
            acts["district"] = [names[d] for d in acts["district"]]
        money = pd.DataFrame(
            {
                "month": np.arange(1, M + 1),
                "budget_disbursed_usd": self.disbursed_usd,
                "reserve_released_usd": self.reserve_released_usd,
                "reserve_returned_usd": self.reserve_returned_usd,
                "reserve_lapsed_usd": self.reserve_lapsed_usd,
                "appeal_asked_usd": self.appeal_asked_usd,
                "appeal_received_usd": self.appeal_received_usd,
                "spent_usd": self.monthly_spend_usd(),
                "earmark_lapsed_usd": self.earmark_lapsed_usd,
                "budget_lapsed_usd": self.budget_lapsed_usd,
                "reallocated_usd": self.reallocated_usd,
                "reallocation_cost_usd": self.reallocation_cost_usd,
                "held_usd": self.held_usd,
                "earmarked_usd": self.earmarked_usd,
            }
        )
        return {"costs": costs.reset_index(drop=True), "activations": acts, "money": money}

    def monthly_spend_usd(self, months: int | None = None) -> np.ndarray:
        """float64[months] real USD spent in each month of the horizon (deliveries and set-ups,
        coordination, reallocation), the first ``months`` (all when None)."""
        m = slice(None) if months is None else slice(0, months)
        return self.cost[m].sum(axis=(1, 2)) + self.overhead_usd[m] + self.reallocation_cost_usd[m]

    def summary(self, engine) -> dict:
        spent = float(self.cost.sum() + self.overhead_usd.sum() + self.reallocation_cost_usd.sum())
        served_months = self.served_n.sum()
        return {
            "budget_disbursed_usd": float(self.disbursed_usd.sum()),
            "cost_usd_total": spent,
            "coordination_cost_usd": float(self.overhead_usd.sum()),
            "programme_activations": int(sum(1 for a in self.activations if a["signals"] != "always")),
            "cost_in_vain_usd": self.cost_in_vain(engine),
            "household_months_served": float(served_months / self.scale),
            "reserve_released_usd": float(self.reserve_released_usd.sum()),
            "reserve_returned_usd": float(self.reserve_returned_usd.sum()),
            "appeal_asked_usd": float(self.appeal_asked_usd.sum()),
            "appeal_received_usd": float(self.appeal_received_usd.sum()),
            # the budget's money never spent: stranded in sector accounts or left in the pool
            "unspent_budget_usd_end": float(self.held_usd[-1]) if self.held_usd.size else 0.0,
            # of which in sector accounts (what siloing strands; the pool is open to all)
            "stranded_sector_usd_end": float(self.accounts[:POOL].sum()) / self.scale,
            "budget_lapsed_usd": float(self.budget_lapsed_usd.sum()),
            "reallocated_usd": float(self.reallocated_usd.sum()),
            "reallocation_cost_usd": float(self.reallocation_cost_usd.sum()),
        }

    def cost_in_vain(self, engine) -> float:
        """Real USD spent by programme activations the trigger caused that turned out
        false alarms against what the trigger targets (a forecast trigger: no drought
        within its lead + 3 months; an observed-need trigger answers need that was there,
        so it is never in vain; see the early-warning module's evaluation). Each
        activation is matched to the run of the trigger in progress in its district when
        it was made."""
        ew = next((m for m in engine.modules if isinstance(m, EarlyWarning)), None)
        if ew is None or not self.activations or ew.trigger_signal != "drought":
            return 0.0
        runs = ew.activations_table()
        run_district = runs["district"].to_numpy(object)
        run_month = runs["month"].to_numpy()
        run_hit = runs["hit"].to_numpy()
        total = 0.0
        for a in self.activations:
            if "drought" not in a["signals"].split("+"):
                continue
            # the last run (in the table's order) started there by the activation's month
            here = np.flatnonzero((run_district == engine.scenario.names[a["district"]]) & (run_month <= a["month"]))
            if here.size and not bool(run_hit[here[-1]]):
                total += a["cost_usd"]
        return float(total)
