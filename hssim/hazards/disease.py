"""Disease hazard: an SEIR epidemic in individuals grouped into households.

Each household carries the counts of its members alive in four compartments,
``dis_s + dis_e + dis_i + dis_r = members`` (int8 household fields declared here).
Each month is resolved in ``substeps_per_month`` substeps of ``dt = days_per_month
/ substeps`` days; a substep is a discrete-time chain binomial with synchronous
update (see :mod:`hssim.kernels.disease` for the equations, the draws and their
slots). The force of infection on a susceptible in household ``h`` is::

    lambda_h = beta * mult_h * (w_household I_h/n_h + w_community I_loc/N_loc
                                + w_district I_d/N_d + w_region I/N)

where the local pool ``loc`` is the household's community when at home, the camp
of its current district when in a camp, and its current district when hosted; ``d``
is its current district (``location``). ``beta = r0 p_rem / dt`` with ``p_rem = 1 -
exp(-dt / infectious_days)``, so that one case in a wholly susceptible, well-mixed
population infects ``r0`` people on average, exactly, in the discrete scheme. (With
a household weight, within-household saturation makes the realised reproduction
number smaller than ``r0``: ``r0`` is that of the equivalent well-mixed population.)

Multipliers (each coupling strength ``s`` from ``engine.cfg.couplings``, default 1;
``s = 0`` removes the link exactly)::

    mult_h = (1 + water_scarcity_rr * s_drought * water_scarcity[d])        drought -> disease
           * (1 - wash_effect[d])                                           WASH intervention
           * (1 + s_displacement (camp_crowding_rr - 1))  if in a camp        displacement -> disease
           * (1 + s_malnutrition (malnutrition_susceptibility_rr - 1))  if the household's
                                                             under-fives are acutely malnourished

``wash_effect`` (water trucking, chlorination: the share of transmission removed in
the district, clipped to [0, 1]) is written by interventions in the INTERVENTION
phase and read here the month after; 0 without interventions (no effect, exactly).
At 1 nobody is infected in the district; importations are still seeded.

A share ``symptomatic_frac`` of infections make the person ill (the rest are
infectious without symptoms: they neither lose work nor die of it). An ill case dies,
when it leaves I, with::

    care = 1 - (1 - health_access_eff[d]) (1 - care_outside_facilities)
    cfr = min(1, cfr_untreated (1 - treatment_efficacy * care)
                 * (1 + s_malnutrition (malnutrition_fatality_rr - 1) if malnourished))

drawn per infection as ``cfr * symptomatic_frac`` (the infection fatality ratio);
dead members leave ``members`` (under-fives first in households with malnourished
under-fives) and join ``dead``. Each substep ``Poisson(importations /
substeps)`` imported infections are seeded into households chosen by hash, with
``importations = importations_per_month + importations_per_100k_month x people /
100,000`` (:meth:`Disease.importations_this_month`; the per-head term keeps real
incidence the same at any simulated population size).

Conditions read: this month's ``water_scarcity`` (written by the drought module in
the CLIMATE phase, before this HAZARD-phase module) and last month's state: household
``members, u5, adults, malnutrition, location, displaced``, district
``health_access_eff`` (set in the IMPACT phase) and ``wash_effect`` (INTERVENTION).

Written: the compartments; ``members, u5, adults, dead`` (disease deaths); ``sick``,
members alive who were ill at some time this month (ill among those infectious at
the start of the month, ``Binomial(I, symptomatic_frac)``, plus those who fell ill
since; the household update reads it with ``illness_days`` and
``treatment_cost_usd_per_case``); the month's sums ``new_infections`` (importations
included), ``deaths_disease``, ``people_infectious`` (at the end of the month) and
``people_sick`` (ill at some time this month, including those who died of it), by
district of origin and household cell; and the district field ``new_infections``
(infections this month by current district, where they happen).

Members who die of other causes (the household update runs later in the month)
leave the compartments at the start of the next disease step, each from a
compartment chosen in proportion to its count (stream ``disease.reconcile``).

A substep in which nobody is exposed or infectious (and no immunity can wane) is
skipped: nothing could happen in it and nothing would be drawn, so the run is the
same (``Disease.skip_quiet_substeps``; the last substep of a month always runs).

``algorithm`` chooses how the month is drawn: ``event`` (default) steps only households
with someone exposed or infectious substep by substep and draws a quiet household's
next infection from outside or waning once, as an event (the same process; see the
event section of :mod:`hssim.kernels.disease` and ``docs/ODD.md`` 7.5);
``chain_binomial`` draws every household in every substep (the reference).

Compartments are initialised on the first step if households are not yet
populated when :meth:`Disease.init` runs (the engine initialises hazards before
the household module); the draws are the same either way.

Only one disease module per run: the compartment field names are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from .. import rng
from ..errors import ConfigError
from ..kernels.disease import (
    A_DEATHS,
    A_INFECTIOUS,
    A_NEW_INFECTIONS,
    A_SICK,
    N_ACC,
    N_POOL,
    NEVER,
    DiseaseParams,
    beta_for_r0,
    disease_month,
    disease_month_event,
    init_seir,
    p_transition,
)
from ..module import Module
from ..phases import Phase
from ..registry import register
from ..state import FieldSpec
from ..sums import N_CELLS, S_DEATHS_DISEASE, S_NEW_INFECTIONS, S_PEOPLE_INFECTIOUS, S_PEOPLE_SICK
from ..validate import field_range as fr

__all__ = ["DISEASE_FIELDS", "SUBSTEPS_MAX", "Disease", "DiseaseConfig", "coupling_mult", "make_params", "run_alone"]

#: substeps are keyed ``ti * SUBSTEPS_MAX + substep``
SUBSTEPS_MAX = 64

#: where each accumulator column goes in ``engine.month_sums``
_SUM_COLUMNS = np.empty(N_ACC, np.int64)
_SUM_COLUMNS[A_NEW_INFECTIONS] = S_NEW_INFECTIONS
_SUM_COLUMNS[A_DEATHS] = S_DEATHS_DISEASE
_SUM_COLUMNS[A_INFECTIOUS] = S_PEOPLE_INFECTIOUS
_SUM_COLUMNS[A_SICK] = S_PEOPLE_SICK

DISEASE_FIELDS = (
    FieldSpec("dis_s", "int8", "people", "members susceptible to the disease"),
    FieldSpec("dis_e", "int8", "people", "members infected, not yet infectious (exposed)"),
    FieldSpec("dis_i", "int8", "people", "members infectious"),
    FieldSpec("dis_r", "int8", "people", "members recovered or otherwise immune"),
)


@dataclass(frozen=True)
class DiseaseConfig:
    """A pathogen and its transmission setting (defaults: cholera-like; presets in
    ``configs/hazards/disease/``)."""

    kind: str = "disease"
    enabled: bool = True
    r0: float = fr(1.5, 0.0, 50.0, "basic reproduction number in a wholly susceptible, well-mixed population")
    latent_days: float = fr(1.4, 0.01, 120.0, "mean time from infection to infectiousness, days")
    infectious_days: float = fr(5.0, 0.05, 365.0, "mean time infectious, days")
    substeps_per_month: int = fr(4, 1, SUBSTEPS_MAX, "disease substeps per month (dt = days_per_month / substeps)")
    w_household: float = fr(0.3, 0.0, 1.0, "share of contacts within the household")
    w_community: float = fr(0.5, 0.0, 1.0, "share of contacts within the community (or camp, or host district)")
    w_district: float = fr(0.15, 0.0, 1.0, "share of contacts within the current district")
    w_region: float = fr(0.05, 0.0, 1.0, "share of contacts across the whole region")
    camp_crowding_rr: float = fr(2.0, 0.0, 50.0, "transmission multiplier for households in a camp")
    symptomatic_frac: float = fr(
        0.1, 0.0, 1.0, "share of infections that make the person ill (sick, unable to work, at risk of death)"
    )
    cfr_untreated: float = fr(0.1, 0.0, 1.0, "probability an ill case dies without treatment")
    treatment_efficacy: float = fr(0.9, 0.0, 1.0, "share of deaths averted when a case is treated")
    care_outside_facilities: float = fr(
        0.0, 0.0, 1.0, "share of ill cases without facility access who still get effective care (e.g. oral rehydration at home or in the community)"
    )
    malnutrition_susceptibility_rr: float = fr(
        1.5, 0.0, 50.0, "susceptibility multiplier, households with acutely malnourished under-fives"
    )
    malnutrition_fatality_rr: float = fr(
        2.0, 0.0, 50.0, "case-fatality multiplier, households with acutely malnourished under-fives"
    )
    water_scarcity_rr: float = fr(
        1.0, 0.0, 50.0, "relative rise of transmission at extreme water scarcity (waterborne; 0 for airborne)"
    )
    initial_immune_frac: float = fr(0.0, 0.0, 1.0, "share of people immune at the start (vaccination, prior infection)")
    initial_exposed_frac: float = fr(0.0, 0.0, 1.0, "share of non-immune people infected (exposed) at the start")
    immunity_waning_months: float = fr(
        0.0, 0.0, 1200.0, "mean duration of immunity after infection, months (0 = lifelong)"
    )
    importations_per_month: float = fr(0.5, 0.0, 200.0, "expected imported infections per month in the whole simulated region")
    importations_per_100k_month: float = fr(
        0.0, 0.0, 1e4, "expected imported infections per month per 100,000 people alive (added; the same per head at any simulated size)"
    )
    algorithm: str = field(default="event", metadata={"choices": ("event", "chain_binomial"), "doc": (
        "how a month is resolved: 'event' draws a quiet household's next infection or waning once"
        " (fast); 'chain_binomial' draws every household's transitions in every substep (the"
        " reference: the same process)")})
    illness_days: float = fr(4.0, 0.0, 31.0, "days a sick person cannot work")
    treatment_cost_usd_per_case: float = fr(10.0, 0.0, 1e5, "household cost of treating one case, USD")

    def validate(self, path: str) -> None:
        prefix = f"{path}." if path else ""
        total = self.w_household + self.w_community + self.w_district + self.w_region
        if abs(total - 1.0) > 1e-6:
            for name in ("w_household", "w_community", "w_district", "w_region"):
                if getattr(self, name) > 0:  # name the first non-zero weight
                    break
            raise ConfigError(
                prefix + name,
                getattr(self, name),
                "mixing weights w_household + w_community + w_district + w_region"
                f" summing to 1 (they sum to {total:.6g})",
            )


def coupling_mult(strength: float, rr: float) -> float:
    """Multiplier of a coupled effect: ``max(0, 1 + strength (rr - 1))`` (1 at strength 0)."""
    return max(0.0, 1.0 + strength * (rr - 1.0))


def make_params(
    cfg: DiseaseConfig, days_per_month: float, s_malnutrition: float = 1.0, s_displacement: float = 1.0
) -> DiseaseParams:
    """Per-substep constants of the kernels (coupling strengths applied)."""
    dt = days_per_month / cfg.substeps_per_month
    p_rem = p_transition(dt, cfg.infectious_days)
    wane_days = cfg.immunity_waning_months * days_per_month
    return DiseaseParams(
        beta=float(beta_for_r0(cfg.r0, p_rem, dt)),
        dt=float(dt),
        p_ei=float(p_transition(dt, cfg.latent_days)),
        p_rem=float(p_rem),
        p_wane=float(p_transition(dt, wane_days)) if wane_days > 0 else 0.0,
        w_h=float(cfg.w_household),
        w_c=float(cfg.w_community),
        w_d=float(cfg.w_district),
        w_r=float(cfg.w_region),
        camp_mult=coupling_mult(s_displacement, cfg.camp_crowding_rr),
        mal_sus_mult=coupling_mult(s_malnutrition, cfg.malnutrition_susceptibility_rr),
        mal_fat_mult=coupling_mult(s_malnutrition, cfg.malnutrition_fatality_rr),
        sym_frac=float(cfg.symptomatic_frac),
    )


def _coupling(engine, name: str) -> float:
    return float(getattr(engine.cfg.couplings, name, 1.0))


@register("disease", DiseaseConfig, group="hazards")
class Disease(Module):
    """SEIR in households on sub-monthly steps; writes compartments, disease deaths,
    ``sick`` and the month's disease sums."""

    phase = Phase.HAZARD
    reads = (
        "water_scarcity", "wash_effect", "health_access_eff",  # transmission and case fatality by district
        "dis_s", "dis_e", "dis_i", "dis_r", "members", "dead", "u5", "adults", "malnutrition",
        "location", "displaced", "district", "female_head", "marginalised", "poorest_quintile", "livelihood",
        "community",  # on a late set-up only (no household alive at init)
        "born",  # kept for the invariant check
    )  # fmt: skip
    writes = ("dis_s", "dis_e", "dis_i", "dis_r", "sick", "members", "dead", "u5", "adults", "new_infections")
    #: skip substeps in which nothing can happen (exact; tests switch it off to check)
    skip_quiet_substeps = True

    def __init__(self, cfg: DiseaseConfig, name: str = "disease"):
        self.cfg = cfg
        self.name = name
        self._ready = False

    def household_fields(self) -> tuple[FieldSpec, ...]:
        return DISEASE_FIELDS

    # -- set-up ---------------------------------------------------------------------
    def init(self, engine) -> None:
        self._ready = False
        if self.cfg.enabled and engine.households.members.any():
            self._setup(engine)

    def _setup(self, engine) -> None:
        hh = engine.households
        cfg = self.cfg
        community = hh.community.astype(np.int64)
        if community.size and np.any(np.diff(community) < 0):
            raise RuntimeError("disease: households of a community must be contiguous (sorted by community)")
        C = int(community.max()) + 1 if community.size else 0
        self.comm_start = np.concatenate([[0], np.cumsum(np.bincount(community, minlength=C))]).astype(np.int64)
        D = engine.scenario.n_districts
        T = nb.config.NUMBA_NUM_THREADS
        self.comm_tot = np.zeros((C, 2), np.int64)
        self.comm_next = np.zeros((C, 2), np.int64)
        self.pool_acc = np.zeros((T, D, N_POOL), np.int64)
        self.acc = np.zeros((T, D, N_CELLS, N_ACC), np.int64)
        self.loc_new = np.zeros((T, D), np.int64)
        if cfg.algorithm == "event":
            # at home a household mixes with its community, in its community's district
            district = hh.district.astype(np.int64)
            self.comm_district = np.zeros(C, np.int64)
            if community.size:
                self.comm_district[community] = district
                if np.any(self.comm_district[community] != district):
                    raise RuntimeError("disease: every household of a community must be in its community's district")
            n = hh.members.size
            # each household's waits, carried from month to month (kernels.disease.month_start_event)
            self.group = np.zeros(n, np.int32)
            self.thr = np.full(n, np.nan)  # NaN, -1: nothing carried into the first month
            self.wane_at = np.full(n, NEVER, np.int32)
            self.r_end = np.full(n, -1, np.int8)
            self.block = np.zeros((C, 4), np.float64)  # each community's summary (kernels.disease.event_substep)
            self.lam = np.zeros(2 * C + 4 * D, np.float64)
            self.clock = np.zeros(2 * C + 4 * D, np.float64)
        self.params = make_params(
            cfg,
            engine.cfg.households.days_per_month,
            _coupling(engine, "malnutrition_to_disease"),
            _coupling(engine, "displacement_to_disease"),
        )
        self.s_drought = _coupling(engine, "drought_to_disease")
        init_seir(
            rng.stream_key(engine.seed, "disease.init", 0),
            hh.members,
            cfg.initial_immune_frac,
            cfg.initial_exposed_frac,
            hh.dis_s,
            hh.dis_e,
            hh.dis_i,
            hh.dis_r,
        )
        self._keys = {}  # tick -> the month's stream keys (see _month_keys)
        self.imported = 0  # importations seeded so far (diagnostic)
        self.substeps_skipped = 0  # quiet substeps skipped so far (diagnostic)
        self._members_after = None
        self._ready = True

    # -- district conditions ----------------------------------------------------------
    def district_multipliers(self, engine) -> tuple[np.ndarray, np.ndarray]:
        """float64[D] transmission multiplier (water scarcity, WASH) and case fatality
        after treatment access, by current district."""
        cfg = self.cfg
        ws = engine.districts.water_scarcity
        # WASH removes a share of transmission (x 1.0 without it: exact)
        wash = 1.0 - np.clip(engine.districts.wash_effect, 0.0, 1.0)
        d_mult = np.maximum(0.0, 1.0 + cfg.water_scarcity_rr * self.s_drought * ws) * wash
        access = np.clip(engine.districts.health_access_eff, 0.0, 1.0)
        # care reaches the share with facility access and, of the rest, those cared for outside
        care = 1.0 - (1.0 - access) * (1.0 - cfg.care_outside_facilities)
        d_cfr = cfg.cfr_untreated * (1.0 - cfg.treatment_efficacy * care)
        return d_mult, d_cfr

    # -- one month -------------------------------------------------------------------
    def step(self, engine, ti: int) -> None:
        cfg = self.cfg
        if not cfg.enabled:
            return
        if not self._ready:
            self._setup(engine)
        hh = engine.households
        p = self.params
        d_mult, d_cfr = self.district_multipliers(engine)
        self.acc[:] = 0
        self.loc_new[:] = 0
        n_sub = cfg.substeps_per_month
        keys, keys_who, keys_import, keys_evt, key_rec, key_ill, key_clock = self._month_keys(engine, ti)
        households = (hh.members, hh.dead, hh.u5, hh.adults, hh.malnutrition, hh.district, hh.location, hh.displaced,
                      hh.female_head, hh.marginalised, hh.poorest_quintile, hh.livelihood, hh.dis_s, hh.dis_e,
                      hh.dis_i, hh.dis_r, hh.sick)
        mean_import = self.importations_this_month(hh) / n_sub
        # the whole month (start, substeps, importations) in one kernel call
        if cfg.algorithm == "event":
            imported, skipped, swapped = disease_month_event(
                p, keys, keys_who, keys_import, keys_evt, key_rec, key_ill, key_clock, mean_import,
                bool(self.skip_quiet_substeps), self.comm_start, self.comm_district, self.comm_tot, self.comm_next,
                d_mult, d_cfr, *households, self.group, self.thr, self.wane_at, self.r_end, self.block, self.lam, self.clock,
                self.pool_acc, self.acc, self.loc_new)
        else:
            imported, skipped, swapped = disease_month(
                p, keys, keys_who, keys_import, key_rec, key_ill, mean_import, bool(self.skip_quiet_substeps),
                self.comm_start, self.comm_tot, self.comm_next, d_mult, d_cfr, *households, self.pool_acc, self.acc,
                self.loc_new)
        if swapped:  # the latest community totals are in comm_next
            self.comm_tot, self.comm_next = self.comm_next, self.comm_tot
        self.imported += imported
        self.substeps_skipped += skipped
        engine.month_sums[:, :, _SUM_COLUMNS] += self.acc.sum(axis=0)
        if "new_infections" in engine.districts.names():
            engine.districts.new_infections[:] = self.loc_new.sum(axis=0)
        self._members_after = hh.members.copy()
        self._born_after = hh.born.copy()  # births since then join S at the next step

    def importations_this_month(self, hh) -> float:
        """Expected imported infections this month in the simulated population:
        ``importations_per_month + importations_per_100k_month x people alive / 100,000``
        (a simulated person stands for as many real people as the population is scaled,
        so a per-head rate gives the same real incidence at any simulated size)."""
        cfg = self.cfg
        if cfg.importations_per_100k_month == 0.0:
            return cfg.importations_per_month
        return cfg.importations_per_month + cfg.importations_per_100k_month * float(hh.members.sum(dtype=np.int64)) / 1e5

    def _month_keys(self, engine, ti: int) -> tuple:
        """Stream keys of tick ``ti``: uint64[substeps] ``disease``, ``disease.who`` and
        ``disease.import`` (substep ticks ``ti * 64 + s``), and ``disease.reconcile``,
        ``disease.ill`` (tick ``ti``). Hashed for the whole run at once on first use."""
        if ti not in self._keys:
            n_sub = self.cfg.substeps_per_month
            ticks = np.arange(ti, max(ti + 1, engine.n_ticks))
            sub = (ticks[:, None] * SUBSTEPS_MAX + np.arange(n_sub)[None, :]).ravel()
            per_sub = [rng.stream_keys(engine.seed, s, sub).reshape(ticks.size, n_sub)
                       for s in ("disease", "disease.who", "disease.import", "disease.event")]
            per_tick = [rng.stream_keys(engine.seed, s, ticks)
                        for s in ("disease.reconcile", "disease.ill", "disease.clock")]
            for j, t in enumerate(ticks.tolist()):
                self._keys[t] = (*(k[j] for k in per_sub), *(k[j] for k in per_tick))
        return self._keys.pop(ti)

    # -- checks ----------------------------------------------------------------------
    def check_invariants(self, engine) -> None:
        """Raise ``InvariantError`` unless the compartments are non-negative and sum to
        the members alive at the end of this module's last step, members have only
        decreased since (other causes of death; reconciled at the next step), and
        ``0 <= sick <= members`` then. Valid at any time between ticks."""
        from ..errors import InvariantError

        hh = engine.households
        comps = [hh[f.name].astype(np.int64) for f in DISEASE_FIELDS]
        if not self.cfg.enabled:
            if any(c.any() for c in comps) or hh.sick.any():
                raise InvariantError("disease disabled but compartments or sick are non-zero")
            return
        after = getattr(self, "_members_after", None)
        if after is None:  # not stepped yet
            return
        after = after.astype(np.int64)
        if min(c.min(initial=0) for c in comps) < 0:
            raise InvariantError(f"negative disease compartment at tick {engine.ti}")
        if not np.array_equal(sum(comps), after):
            raise InvariantError(f"disease compartments do not sum to members at tick {engine.ti}")
        if np.any(hh.members - (hh.born - self._born_after) > after):
            raise InvariantError(f"members rose since the disease step (births aside) at tick {engine.ti}")
        if hh.sick.min(initial=0) < 0 or np.any(hh.sick > after):
            raise InvariantError(f"sick outside [0, members] at tick {engine.ti}")


def run_alone(engine, n_ticks: int, check: bool = False) -> dict[str, np.ndarray]:
    """Step only the disease module of an initialised engine (validation, benchmarks).

    The engine is initialised if needed; no other module is stepped, so members
    change only by disease deaths. District conditions stay as they are.

    Returns
    -------
    dict of int64[n_ticks] region totals per tick: ``new_infections``, ``deaths``,
    ``infectious`` (end of tick), ``sick``, and ``S``, ``E``, ``I``, ``R`` (end of tick);
    plus ``people0`` (int, people alive at the start) and ``E0`` (exposed at the start).
    """
    if not engine._initialised:
        engine.init()
    mod = next(m for m in engine.modules if isinstance(m, Disease))
    hh = engine.households
    if mod.cfg.enabled and not mod._ready:
        mod._setup(engine)
    out = {
        k: np.zeros(n_ticks, np.int64) for k in ("new_infections", "deaths", "infectious", "sick", "S", "E", "I", "R")
    }
    out["people0"] = int(hh.members.astype(np.int64).sum())
    out["E0"] = int(hh.dis_e.astype(np.int64).sum())
    for t in range(n_ticks):
        engine.month_sums[:] = 0
        mod.step(engine, t)
        tot = engine.month_sums.sum(axis=(0, 1))
        out["new_infections"][t] = tot[S_NEW_INFECTIONS]
        out["deaths"][t] = tot[S_DEATHS_DISEASE]
        out["infectious"][t] = tot[S_PEOPLE_INFECTIOUS]
        out["sick"][t] = tot[S_PEOPLE_SICK]
        for k, f in zip("SEIR", DISEASE_FIELDS):
            out[k][t] = int(hh[f.name].astype(np.int64).sum())
        if check:
            mod.check_invariants(engine)
    return out
