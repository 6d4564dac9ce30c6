#!/usr/bin/env python
"""Peer comparison: hssim's disease module alone vs Starsim, same homogeneous SEIR (and SEIRS).

Run from the repository root (needs ``pip install starsim``)::

    python benchmarks/bench_starsim.py                   # 10^5 people, SEIR at R0 1.5, 2, 3, SEIRS at 2; 3 replicates
    python benchmarks/bench_starsim.py --people 2e4 --r0 2 --reps 1 --output /tmp/starsim.json   # quick
    python benchmarks/bench_starsim.py --only waning        # the waning-immunity (SEIRS) case alone

Writes ``benchmarks/results/starsim.json`` (``--output`` to change), atomically. A
benchmark, not a test: it asserts nothing and exits non-zero only when a run fails.

Two cases, each run in both models (in one process, side by side): an SEIR epidemic
with lifelong immunity (``cases`` in the JSON) and the same with waning immunity, an
SEIRS that settles into endemic transmission (``waning``; the representative case
for timing: hssim's disease presets let immunity wane, and then every recovered
household keeps drawing). ``--only seir`` or ``--only waning`` runs one of them (the
other's key is then empty: ``cases`` an empty list, ``waning`` null).

The epidemic, identical in both:

* a closed population of ``--people`` (hssim builds its households first; Starsim
  gets exactly as many agents), no births, deaths or importation;
* well-mixed transmission: hssim with ``w_region = 1`` (all other mixing weights 0),
  Starsim with one ``ss.MixingPool`` over everyone (one contact per step, so the
  per-step infection probability of a susceptible is ``p_step x`` the infectious
  share);
* latent and infectious periods exponential with means ``--latent-days`` and
  ``--infectious-days`` (hssim: geometric numbers of substeps, ``1 / (1 - exp(-dt /
  mean))`` of them on average, about ``mean / dt + 1/2``);
* time step ``dt = days_per_month / --substeps`` days in both (30 substeps: ~1 day),
  horizon ``--months`` months;
* hssim skips substeps in which nobody is exposed or infectious (exact: nothing
  could happen); it is also timed with every substep computed, as Starsim does
  (``..._no_skipping``), at the first thread count;
* Starsim's kernels are serial; hssim is timed at each of ``--hssim-threads``
  (same seed: identical epidemics, checked). On a machine shared with other work a
  second thread can make short parallel kernels slower (a thread waiting for a busy
  core at each barrier): the load average is recorded;
* R0 matched: hssim ``beta = r0 p_rem / dt`` (exact in its scheme); Starsim
  ``p_step = r0 dt / infectious_days`` per step as a ``ss.perday`` rate (an agent is
  infectious for ``infectious_days / dt`` steps on average);
* a share ``--seed-frac`` of people infected (exposed) at the start.

Reported per R0: attack rate of each (share ever infected, seeds included), their
difference, the analytic final size ``z = 1 - s0 exp(-r0 z)`` (``s0`` = 1 - seeded
share of each run), and wall times: set-up (build + init) and run, each model
warmed up first (numba compile / cache load excluded), the fastest of ``--reps``.

The waning case (SEIRS), as above except:

* immunity wanes: recovered people become susceptible again after an exponential
  time with mean ``--waning-months`` months (default 6). hssim:
  ``immunity_waning_months`` (``R -> S ~ Binomial(R, p_wane)`` per substep,
  ``p_wane = 1 - exp(-dt / (M days_per_month))``, a geometric number of substeps;
  the default ``event`` algorithm draws a quiet household's next waning as an
  event). Starsim: ``SEIRS`` below, a minimal ``ss.SEIR`` subclass with a
  ``dur_wane = ss.expon(scale=ss.days(M days_per_month))`` drawn at infection with
  the other durations (Starsim's way of scheduling), counted from the end of the
  infectious period (``ti_susceptible = ti_recovered + dur_wane``), and a
  recovered -> susceptible transition in ``step_state`` (after E -> I and I -> R,
  before transmission, as Starsim's other transitions). Starsim has no SEIRS of
  its own (``ss.SIS`` wanes a continuous immunity, not a compartment);
* horizon ``--waning-horizon`` months (default 36), R0 ``--waning-r0`` (default 2),
  the same seeding: a first wave, then damped waves towards the endemic
  equilibrium. With 6 months the trough after the first wave keeps about 170
  infectious people at 10^5 (no fade-out; with 12 months about 6) and the waves are
  mostly damped by the second half of 36 months. hssim's presets wane slower
  (cholera 36 months) and would need a horizon of a decade to reach the endemic
  state; 6 months exercises the same code (waning drawn in every household with
  someone immune) at a higher rate. Below about 10^4 people a run can still fade
  out (few seeds);
* no final size: reported per R0 instead, for both, the mean infectious share at
  the ends of the months in the last half of the horizon (both models sampled at
  the same instants), the mean susceptible share there, the infections over the
  horizon (seeds excluded; reinfections count) and per person-month over the last
  half; and the endemic equilibrium of the SEIRS without births or deaths:
  ``S* = 1/R0``, and with incidence ``c`` per day flowing through E, I and R in turn,
  ``E* = c D_lat, I* = c D_inf, R* = c D_wane``, so
  ``I* = (1 - 1/R0) D_inf / (D_lat + D_inf + D_wane)`` and ``c = (1 - 1/R0) / (D_lat +
  D_inf + D_wane)``. ``analytic_endemic_ode`` uses the mean periods as given;
  ``analytic_endemic_hssim_scheme`` the mean stays of hssim's discrete scheme,
  ``dt / (1 - exp(-dt / D))`` (a geometric number of substeps: about ``D + dt/2``,
  i.e. 5.5 days infectious instead of 5 at daily steps; its ``S*`` is ``1/R0`` to
  first order). Starsim's stays are ``ceil`` of the continuous draws counted on the
  step grid: its latent stay is hssim's, its infectious stay about ``D_inf`` (the
  fractional part carries over from the latent draw). So with R0 matched both have
  the same ``S*`` and almost the same incidence (the waning period dominates), but
  hssim's infectious share is higher by about ``dt / (2 D_inf)`` (~10% at daily
  steps): ``analytic_endemic_hssim_scheme`` is its reference, ``..._ode`` Starsim's.
  The waves are noisy: at 2 x 10^4 people the last-half means vary by a few per
  cent between seeds.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = HERE / "results" / "starsim.json"
SCHEMA = "hssim-bench-starsim/1"


def final_size(r0: float, s0: float) -> float:
    """Root z > 0 of ``z = 1 - s0 exp(-r0 z)`` (bisection; the initial infected share is 1 - s0)."""
    lo, hi = 1e-12, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid - (1.0 - s0 * math.exp(-r0 * mid)) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def endemic_equilibrium(r0: float, latent: float, infectious: float, wane: float, days_per_month: float) -> dict:
    """Endemic equilibrium of the SEIRS without births or deaths, mean stays in days.

    ``S* = 1/R0``; the incidence ``c`` (per person-day) flows through E, I and R in
    turn, so ``E* = c latent``, ``I* = c infectious``, ``R* = c wane`` and
    ``c = (1 - S*) / (latent + infectious + wane)``. No endemic state when R0 <= 1.
    """
    s = min(1.0, 1.0 / r0) if r0 > 0 else 1.0
    c = (1.0 - s) / (latent + infectious + wane)
    return {
        "S": s,
        "E": c * latent,
        "I": c * infectious,
        "R": c * wane,
        "incidence_per_person_month": c * days_per_month,
    }


def scheme_stay_days(dt: float, mean_days: float) -> float:
    """Mean stay, days, of hssim's geometric number of substeps: ``dt / (1 - exp(-dt / mean))``."""
    return dt / -math.expm1(-dt / mean_days)


def endemic_metrics(inf_month_end, sus_month_end, new_inf_by_month, people: int) -> dict:
    """The waning case's figures of one run, from month-end counts and monthly infections.

    The last half of the horizon is months ``[months // 2, months)`` (month-end samples).
    """
    months = len(inf_month_end)
    h = months // 2
    last = range(h, months)
    return {
        "infectious_prevalence_last_half_mean": sum(inf_month_end[t] for t in last) / (len(last) * people),
        "susceptible_share_last_half_mean": sum(sus_month_end[t] for t in last) / (len(last) * people),
        "new_infections": int(sum(new_inf_by_month)),
        "new_infections_per_person": int(sum(new_inf_by_month)) / people,
        "incidence_last_half_per_person_month": sum(new_inf_by_month[t] for t in last) / (len(last) * people),
        "infectious_by_month_end": [int(x) for x in inf_month_end],
    }


# -- hssim -------------------------------------------------------------------------------
def _disease_group() -> str:
    text = (REPO / "configs" / "config.yaml").read_text()
    listed = re.search(r"^\s*-\s*hazards/disease\s*:", text, re.MULTILINE)
    return "hazards/disease=cholera" if listed else "+hazards/disease=cholera"


def hssim_overrides(args, r0: float, households: int, seed: int, waning_months: float = 0.0) -> list[str]:
    d = "hazards.disease."
    return [
        _disease_group(),
        f"seed={seed}",
        f"population.households={households}",
        f"months={args.months}",
        "spinup_months=0",
        f"{d}r0={r0}",
        f"{d}latent_days={args.latent_days}",
        f"{d}infectious_days={args.infectious_days}",
        f"{d}substeps_per_month={args.substeps}",
        f"{d}w_household=0",
        f"{d}w_community=0",
        f"{d}w_district=0",
        f"{d}w_region=1",
        f"{d}initial_exposed_frac={args.seed_frac}",
        f"{d}initial_immune_frac=0",
        f"{d}immunity_waning_months={waning_months}",
        f"{d}importations_per_month=0",
        f"{d}importations_per_100k_month=0",
        f"{d}cfr_untreated=0",
        f"{d}malnutrition_susceptibility_rr=1",
    ]


def hssim_households_for(args, people: int) -> int:
    """Households that give about ``people`` people (one trial build to learn the mean size)."""
    import hssim

    trial = max(100, int(people / 5.5))
    eng = hssim.build_engine(hssim.compose(hssim_overrides(args, 2.0, trial, 1)))
    eng.init()
    mean_size = eng.households.members.astype("int64").sum() / trial
    return max(1, round(people / mean_size))


def run_hssim(args, r0: float, households: int, seed: int, skip: bool = True, waning_months: float = 0.0) -> dict:
    import hssim
    from hssim.hazards.disease import Disease, run_alone

    t0 = time.perf_counter()
    eng = hssim.build_engine(hssim.compose(hssim_overrides(args, r0, households, seed, waning_months)))
    eng.init()
    mod = next(m for m in eng.modules if isinstance(m, Disease))
    mod.skip_quiet_substeps = skip
    t1 = time.perf_counter()
    out = run_alone(eng, args.months)
    t2 = time.perf_counter()
    n = out["people0"]
    seeded = out["E0"]
    r = {"people": int(n), "seeded": int(seeded)}
    if waning_months > 0:
        r.update(endemic_metrics(out["I"], out["S"], out["new_infections"], n))
        r["still_infected_at_end"] = int(out["E"][-1] + out["I"][-1])
    else:
        ever = seeded + int(out["new_infections"].sum())
        r["attack_rate"] = ever / n
        r["still_infected_at_end"] = int(out["E"][-1] + out["I"][-1])
        r["analytic_final_size"] = final_size(r0, 1.0 - seeded / n)
    return {
        **r,
        # substeps with nobody exposed or infectious (nor anyone immune, with waning) are
        # skipped (exactly); Starsim steps them all
        "substeps_skipped": int(mod.substeps_skipped),
        "substeps": args.months * args.substeps,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
    }


# -- Starsim -----------------------------------------------------------------------------
@functools.cache
def starsim_seirs():
    """``SEIRS``: ``ss.SEIR`` whose recovered become susceptible again after ``dur_wane``.

    Defined on first use (Starsim is imported lazily). The waning time is drawn with
    the other durations when the infection is set, in one ``rvs`` call for all the
    step's new infections (as ``ss.SEIR`` draws ``dur_exp`` and ``dur_inf``), and
    counted from the end of the infectious period.
    """
    import starsim as ss

    class SEIRS(ss.SEIR):
        def __init__(self, pars=None, dur_wane=None, **kwargs):
            super().__init__()
            self.define_pars(dur_wane=ss.expon(scale=ss.years(1)))
            self.update_pars(pars, **kwargs)  # picks dur_wane from this frame, as Starsim's own diseases
            self.define_states(ss.FloatArr("ti_susceptible", label="Time immunity wanes"))

        def set_progression(self, uids):
            super().set_progression(uids)  # ti_recovered (no deaths here: p_death 0)
            self.ti_susceptible[uids] = self.ti_recovered[uids] + self.pars.dur_wane.rvs(uids)

        def step_state(self):
            super().step_state()  # E -> I, I -> R
            waned = (self.recovered & (self.ti_susceptible <= self.ti)).uids
            self.recovered[waned] = False
            self.susceptible[waned] = True

    return SEIRS


def run_starsim(args, r0: float, people: int, seed: int, dt_days: float, waning_months: float = 0.0,
                days_per_month: float = 0.0) -> dict:
    import numpy as np
    import starsim as ss

    p_step = r0 * dt_days / args.infectious_days  # per-step infection probability at full prevalence
    if p_step >= 1.0:
        raise SystemExit(
            f"r0 {r0} needs a shorter time step for Starsim: p_step = {p_step:.2f} >= 1 (raise --substeps)"
        )
    n_steps = args.months * args.substeps
    t0 = time.perf_counter()
    pars = dict(
        # a rate whose per-step probability 1 - exp(-rate dt) is exactly p_step
        beta=ss.perday(-math.log(1.0 - p_step) / dt_days),
        init_prev=ss.bernoulli(p=args.seed_frac),
        dur_exp=ss.expon(scale=ss.days(args.latent_days)),
        dur_inf=ss.expon(scale=ss.days(args.infectious_days)),
        p_death=ss.bernoulli(p=0.0),
    )
    if waning_months > 0:
        disease = starsim_seirs()(dur_wane=ss.expon(scale=ss.days(waning_months * days_per_month)), **pars)
    else:
        disease = ss.SEIR(**pars)
    sim = ss.Sim(
        n_agents=people,
        start=0,
        dur=ss.days(n_steps * dt_days),
        dt=ss.days(dt_days),
        rand_seed=seed,
        verbose=0,
        people_results=False,  # documented light mode for ODE-style sims; not needed here
        diseases=disease,
        networks=ss.MixingPool(beta=1.0, n_contacts=ss.constant(1), diseases=disease.name),
    )
    sim.init()
    t1 = time.perf_counter()
    d = sim.diseases[disease.name]
    seeded = int(np.count_nonzero(d.exposed))  # init_prev is applied by init()
    sim.run()
    t2 = time.perf_counter()
    r = {"people": int(people), "seeded": seeded}
    if waning_months > 0:
        # step k (from 0) is hssim's substep k + 1: month t ends with step substeps (t + 1) - 1
        res = d.results
        ends = [args.substeps * (t + 1) - 1 for t in range(args.months)]
        inf = np.asarray(res.n_infectious)
        sus = np.asarray(res.n_susceptible)
        new = np.asarray(res.new_infections)[:n_steps].reshape(args.months, args.substeps).sum(axis=1)
        r.update(endemic_metrics(inf[ends], sus[ends], new, people))
        r["still_infected_at_end"] = int(np.count_nonzero(d.exposed) + np.count_nonzero(d.infectious))
    else:
        ever = people - int(np.count_nonzero(d.susceptible))
        r["attack_rate"] = ever / people
        r["still_infected_at_end"] = int(np.count_nonzero(d.exposed) + np.count_nonzero(d.infectious))
        r["analytic_final_size"] = final_size(r0, 1.0 - seeded / people)
    return {**r, "p_step": p_step, "setup_s": t1 - t0, "run_s": t2 - t1}


# -- main --------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--people", type=float, default=1e5, help="people in the population (default 1e5)")
    ap.add_argument("--r0", type=str, default="1.5,2,3", help="comma-separated R0 values (default 1.5,2,3)")
    ap.add_argument("--months", type=int, default=12, help="horizon, months (default 12)")
    ap.add_argument("--substeps", type=int, default=30, help="disease substeps per month (default 30: dt ~ 1 day)")
    ap.add_argument("--latent-days", type=float, default=2.0)
    ap.add_argument("--infectious-days", type=float, default=5.0)
    ap.add_argument("--seed-frac", type=float, default=0.002, help="share of people exposed at the start")
    ap.add_argument("--reps", type=int, default=3, help="replicates per model and R0 (different seeds)")
    ap.add_argument(
        "--hssim-threads",
        type=str,
        default="1,2",
        help="numba thread counts to time hssim at (default 1,2; Starsim's kernels are serial)",
    )
    ap.add_argument(
        "--waning-months",
        type=float,
        default=6.0,
        help="waning case: mean duration of immunity, months (default 6; hssim's immunity_waning_months)",
    )
    ap.add_argument("--waning-horizon", type=int, default=36, help="waning case: horizon, months (default 36)")
    ap.add_argument("--waning-r0", type=str, default="2", help="waning case: comma-separated R0 values (default 2)")
    ap.add_argument(
        "--only",
        choices=("seir", "waning"),
        default=None,
        help="run only the SEIR case (lifelong immunity) or only the waning (SEIRS) case; default both",
    )
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    if args.waning_months <= 0:
        ap.error("--waning-months must be > 0 (the SEIR case is the one without waning)")
    if args.waning_horizon < 2:
        ap.error("--waning-horizon must be at least 2 months")
    return args


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".starsim-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def time_runs(args, r0: float, households: int, threads: list[int], default_threads: int, dt_days: float,
              days_per_month: float, waning_months: float = 0.0) -> dict:
    """``--reps`` replicates of hssim (each thread count, and without skipping) and Starsim
    at one R0; returns the runs by model. ``args.months`` is the horizon."""
    import numba

    runs = {"starsim": [], "hssim_noskip": [], **{f"hssim_{k}t": [] for k in threads}}
    w = waning_months
    for rep in range(args.reps):
        for k in threads:
            numba.set_num_threads(k)
            h = run_hssim(args, r0, households, seed=rep + 1, waning_months=w)
            h["threads"] = k
            runs[f"hssim_{k}t"].append(h)
        # every substep computed, as Starsim does (skipping quiet substeps is exact)
        numba.set_num_threads(threads[0])
        h0 = run_hssim(args, r0, households, seed=rep + 1, skip=False, waning_months=w)
        h0["threads"] = threads[0]
        runs["hssim_noskip"].append(h0)
        numba.set_num_threads(default_threads)
        # same seed at any thread count: identical epidemics (only the time may differ)
        if w > 0:
            last = (*(runs[f"hssim_{k}t"][-1] for k in threads), h0)
            same = {(r["new_infections"], tuple(r["infectious_by_month_end"])) for r in last}
        else:
            same = {runs[f"hssim_{k}t"][-1]["attack_rate"] for k in threads} | {h0["attack_rate"]}
        if len(same) != 1:
            what = "epidemic" if w > 0 else "attack rate"
            raise SystemExit(f"hssim {what} depends on the thread count: {sorted(same)[:2]}")
        s = run_starsim(args, r0, h["people"], seed=rep + 1, dt_days=dt_days, waning_months=w,
                        days_per_month=days_per_month)
        runs["starsim"].append(s)
        times = ", ".join(f"{k}t {runs[f'hssim_{k}t'][-1]['run_s']:.2f}s" for k in threads)
        times += f", {threads[0]}t no skipping {h0['run_s']:.2f}s"
        if w > 0:
            print(
                f"waning r0={r0:g} rep={rep}: hssim infectious {h['infectious_prevalence_last_half_mean']:.4f}"
                f" infections {h['new_infections_per_person']:.3f}/person run {times} | starsim infectious"
                f" {s['infectious_prevalence_last_half_mean']:.4f}"
                f" infections {s['new_infections_per_person']:.3f}/person"
                f" run {s['run_s']:.2f}s",
                flush=True,
            )
        else:
            print(
                f"r0={r0:g} rep={rep}: hssim attack {h['attack_rate']:.4f} (analytic {h['analytic_final_size']:.4f})"
                f" run {times} | starsim attack {s['attack_rate']:.4f} (analytic {s['analytic_final_size']:.4f})"
                f" run {s['run_s']:.2f}s",
                flush=True,
            )
    return runs


def timing_summary(rs: list[dict]) -> dict:
    return {
        "setup_s_min": min(r["setup_s"] for r in rs),
        "run_s_min": min(r["run_s"] for r in rs),
        "total_s_min": min(r["setup_s"] + r["run_s"] for r in rs),
    }


def add_ratios(case: dict, runs: dict, threads: list[int], summary) -> None:
    """Per-model summaries and the Starsim / hssim time ratios, under the keys of the SEIR case."""
    ss_ = case["starsim"] = summary(runs["starsim"])
    for k in threads:
        hs = summary(runs[f"hssim_{k}t"])
        case[f"hssim_{k}_threads"] = hs
        case[f"run_time_ratio_starsim_over_hssim_{k}_threads"] = ss_["run_s_min"] / hs["run_s_min"]
        case[f"total_time_ratio_starsim_over_hssim_{k}_threads"] = ss_["total_s_min"] / hs["total_s_min"]
    hs = summary(runs["hssim_noskip"])
    case[f"hssim_{threads[0]}_threads_no_skipping"] = hs
    case[f"run_time_ratio_starsim_over_hssim_{threads[0]}_threads_no_skipping"] = ss_["run_s_min"] / hs["run_s_min"]


def seir_case(args, r0, households, threads, default_threads, dt_days, days_per_month) -> dict:
    runs = time_runs(args, r0, households, threads, default_threads, dt_days, days_per_month)

    def summary(rs):
        ar = [r["attack_rate"] for r in rs]
        return {
            "attack_rate_mean": sum(ar) / len(ar),
            "attack_rate_minus_analytic_mean": sum(r["attack_rate"] - r["analytic_final_size"] for r in rs) / len(rs),
            **timing_summary(rs),
            "runs": rs,
        }

    case = {"r0": r0, "analytic_final_size": final_size(r0, 1.0 - args.seed_frac)}
    add_ratios(case, runs, threads, summary)
    case["attack_rate_difference_hssim_minus_starsim"] = (
        case[f"hssim_{threads[0]}_threads"]["attack_rate_mean"] - case["starsim"]["attack_rate_mean"]
    )
    return case


def waning_case(args, r0, households, threads, default_threads, dt_days, days_per_month) -> dict:
    wargs = argparse.Namespace(**{**vars(args), "months": args.waning_horizon})
    runs = time_runs(wargs, r0, households, threads, default_threads, dt_days, days_per_month, args.waning_months)
    keys = (
        "infectious_prevalence_last_half_mean",
        "susceptible_share_last_half_mean",
        "new_infections_per_person",
        "incidence_last_half_per_person_month",
    )

    def summary(rs):
        return {**{k: sum(r[k] for r in rs) / len(rs) for k in keys}, **timing_summary(rs), "runs": rs}

    wane_days = args.waning_months * days_per_month
    case = {
        "r0": r0,
        "analytic_endemic_ode": endemic_equilibrium(
            r0, args.latent_days, args.infectious_days, wane_days, days_per_month
        ),
        "analytic_endemic_hssim_scheme": endemic_equilibrium(
            r0,
            scheme_stay_days(dt_days, args.latent_days),
            scheme_stay_days(dt_days, args.infectious_days),
            scheme_stay_days(dt_days, wane_days),
            days_per_month,
        ),
    }
    add_ratios(case, runs, threads, summary)
    h1, s = case[f"hssim_{threads[0]}_threads"], case["starsim"]
    case["infectious_prevalence_ratio_hssim_over_starsim"] = (
        h1["infectious_prevalence_last_half_mean"] / s["infectious_prevalence_last_half_mean"]
        if s["infectious_prevalence_last_half_mean"] > 0
        else None
    )
    case["new_infections_ratio_hssim_over_starsim"] = (
        h1["new_infections_per_person"] / s["new_infections_per_person"] if s["new_infections_per_person"] > 0 else None
    )
    return case


def main(argv=None) -> int:
    args = parse_args(argv)
    r0s = [float(x) for x in args.r0.split(",") if x.strip()] if args.only != "waning" else []
    waning_r0s = [float(x) for x in args.waning_r0.split(",") if x.strip()] if args.only != "seir" else []
    os.environ.setdefault("STARSIM_INSTALL_FONTS", "0")

    t0 = time.perf_counter()
    import numba

    import hssim

    t1 = time.perf_counter()
    import starsim as ss

    t2 = time.perf_counter()
    import_s = {"hssim": t1 - t0, "starsim": t2 - t1}
    threads = [int(x) for x in args.hssim_threads.split(",") if x.strip()]
    load_before = os.getloadavg()

    # warm-up: numba compile / cache load of both, untimed in the comparison
    small = argparse.Namespace(**{**vars(args), "months": 1})
    w0 = time.perf_counter()
    run_hssim(small, 2.0, 200, 0)
    if waning_r0s:
        run_hssim(small, 2.0, 200, 0, waning_months=args.waning_months)
    w1 = time.perf_counter()
    run_starsim(small, 2.0, 1000, 0, 30.4 / args.substeps)
    if waning_r0s:
        run_starsim(small, 2.0, 1000, 0, 30.4 / args.substeps, waning_months=args.waning_months, days_per_month=30.4)
    w2 = time.perf_counter()
    warmup_s = {"hssim": w1 - w0, "starsim": w2 - w1}

    households = hssim_households_for(args, int(args.people))
    days_per_month = hssim.load_config(
        hssim.compose(hssim_overrides(args, 2.0, households, 1))
    ).households.days_per_month
    dt_days = days_per_month / args.substeps
    default_threads = numba.get_num_threads()
    common = (households, threads, default_threads, dt_days, days_per_month)
    cases = [seir_case(args, r0, *common) for r0 in r0s]
    waning_cases = [waning_case(args, r0, *common) for r0 in waning_r0s]

    data = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "numba_threads_default": default_threads,
            "hssim_threads_timed": threads,
            "load_average_1_5_15_min_before": list(load_before),
            "load_average_1_5_15_min_after": list(os.getloadavg()),
            "versions": {"hssim": hssim.__version__, "starsim": ss.__version__, "numba": numba.__version__},
        },
        "settings": {
            "people_target": int(args.people),
            "households": households,
            "months": args.months,
            "substeps_per_month": args.substeps,
            "dt_days": dt_days,
            "latent_days": args.latent_days,
            "infectious_days": args.infectious_days,
            "seed_frac": args.seed_frac,
            "reps": args.reps,
            "starsim": "ss.SEIR + one ss.MixingPool(beta=1, n_contacts=constant(1)) over all agents, "
            "beta = perday rate with per-step probability r0*dt/infectious_days, expon latent and infectious periods, "
            "people_results=False",
            "hssim": "disease module alone (run_alone), w_region=1, chain binomial in households (active ones; "
                     "quiet ones by events: the default algorithm, event)",
        },
        "import_s": import_s,
        "warmup_s": warmup_s,
        "cases": cases,
        "waning": None
        if not waning_r0s
        else {
            "settings": {
                "immunity_waning_months": args.waning_months,
                "months": args.waning_horizon,
                "last_half_months": [args.waning_horizon // 2, args.waning_horizon],
                "r0": waning_r0s,
                "starsim": "SEIRS (ss.SEIR subclass: dur_wane = ss.expon(scale=ss.days(waning_months * days_per_month))"
                " drawn at infection, counted from recovery; recovered -> susceptible in step_state), otherwise as the "
                "SEIR case",
                "hssim": "as the SEIR case with immunity_waning_months (R -> S per substep with p_wane = "
                "1 - exp(-dt / (waning_months days_per_month)))",
                "prevalences": "shares of people at the ends of the months in the last half of the horizon; "
                "new_infections exclude the seeds and count reinfections",
            },
            "cases": waning_cases,
        },
    }
    write_json(args.output, data)
    t0 = threads[0]

    def times_of(c):
        times = ", ".join(
            f"{k}t {c[f'hssim_{k}_threads']['run_s_min']:.3f}s"
            f" (starsim/hssim {c[f'run_time_ratio_starsim_over_hssim_{k}_threads']:.1f}x)"
            for k in threads
        )
        return times + (
            f", {t0}t no skipping {c[f'hssim_{t0}_threads_no_skipping']['run_s_min']:.3f}s"
            f" ({c[f'run_time_ratio_starsim_over_hssim_{t0}_threads_no_skipping']:.1f}x)"
        )

    for c in cases:
        h1 = c[f"hssim_{t0}_threads"]
        print(
            f"r0={c['r0']:g}: analytic {c['analytic_final_size']:.4f}; hssim {h1['attack_rate_mean']:.4f}, "
            f"starsim {c['starsim']['attack_rate_mean']:.4f},"
            f" diff {c['attack_rate_difference_hssim_minus_starsim']:+.4f};"
            f" run starsim {c['starsim']['run_s_min']:.3f}s, hssim {times_of(c)}"
        )
    for c in waning_cases:
        h1, s = c[f"hssim_{t0}_threads"], c["starsim"]
        ode, sch = c["analytic_endemic_ode"], c["analytic_endemic_hssim_scheme"]
        print(
            f"waning {args.waning_months:g} months, r0={c['r0']:g}, months {args.waning_horizon // 2}-"
            f"{args.waning_horizon}: infectious share hssim {h1['infectious_prevalence_last_half_mean']:.4f}"
            f" (analytic, hssim's scheme {sch['I']:.4f}), starsim {s['infectious_prevalence_last_half_mean']:.4f}"
            f" (analytic, ODE {ode['I']:.4f}); susceptible hssim {h1['susceptible_share_last_half_mean']:.3f},"
            f" starsim {s['susceptible_share_last_half_mean']:.3f} (1/R0 {ode['S']:.3f}); infections per"
            f" person-month hssim {h1['incidence_last_half_per_person_month']:.4f}, starsim"
            f" {s['incidence_last_half_per_person_month']:.4f} (analytic {sch['incidence_per_person_month']:.4f},"
            f" ODE {ode['incidence_per_person_month']:.4f}); infections per person over the horizon hssim"
            f" {h1['new_infections_per_person']:.3f}, starsim {s['new_infections_per_person']:.3f}"
        )
        print(f"waning r0={c['r0']:g}: run starsim {s['run_s_min']:.3f}s, hssim {times_of(c)}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
