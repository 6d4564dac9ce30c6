#!/usr/bin/env python
"""Peer comparison: hssim's disease module alone vs Starsim, same homogeneous SEIR.

Run from the repository root (needs ``pip install starsim``)::

    python benchmarks/bench_starsim.py                       # 10^5 people, R0 1.5, 2, 3, 3 replicates
    python benchmarks/bench_starsim.py --people 2e4 --r0 2 --reps 1 --output /tmp/starsim.json   # quick

Writes ``benchmarks/results/starsim.json`` (``--output`` to change), atomically. A
benchmark, not a test: it asserts nothing and exits non-zero only when a run fails.

The epidemic, identical in both (in one process, side by side):

* a closed population of ``--people`` (hssim builds its households first; Starsim
  gets exactly as many agents), no births, deaths or importation;
* well-mixed transmission: hssim with ``w_region = 1`` (all other mixing weights 0),
  Starsim with one ``ss.MixingPool`` over everyone (one contact per step, so the
  per-step infection probability of a susceptible is ``p_step x`` the infectious
  share);
* latent and infectious periods exponential with means ``--latent-days`` and
  ``--infectious-days`` (hssim: geometric numbers of substeps with those means);
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
"""

from __future__ import annotations

import argparse
import datetime as _dt
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


# -- hssim -------------------------------------------------------------------------------
def _disease_group() -> str:
    text = (REPO / "configs" / "config.yaml").read_text()
    listed = re.search(r"^\s*-\s*hazards/disease\s*:", text, re.MULTILINE)
    return "hazards/disease=cholera" if listed else "+hazards/disease=cholera"


def hssim_overrides(args, r0: float, households: int, seed: int) -> list[str]:
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
        f"{d}immunity_waning_months=0",
        f"{d}importations_per_month=0",
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


def run_hssim(args, r0: float, households: int, seed: int, skip: bool = True) -> dict:
    import hssim
    from hssim.hazards.disease import Disease, run_alone

    t0 = time.perf_counter()
    eng = hssim.build_engine(hssim.compose(hssim_overrides(args, r0, households, seed)))
    eng.init()
    mod = next(m for m in eng.modules if isinstance(m, Disease))
    mod.skip_quiet_substeps = skip
    t1 = time.perf_counter()
    out = run_alone(eng, args.months)
    t2 = time.perf_counter()
    n = out["people0"]
    seeded = out["E0"]
    ever = seeded + int(out["new_infections"].sum())
    return {
        "people": int(n),
        "seeded": int(seeded),
        "attack_rate": ever / n,
        "still_infected_at_end": int(out["E"][-1] + out["I"][-1]),
        "analytic_final_size": final_size(r0, 1.0 - seeded / n),
        # substeps with nobody exposed or infectious are skipped (exactly); Starsim steps them all
        "substeps_skipped": int(mod.substeps_skipped),
        "substeps": args.months * args.substeps,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
    }


# -- Starsim -----------------------------------------------------------------------------
def run_starsim(args, r0: float, people: int, seed: int, dt_days: float) -> dict:
    import numpy as np
    import starsim as ss

    p_step = r0 * dt_days / args.infectious_days  # per-step infection probability at full prevalence
    if p_step >= 1.0:
        raise SystemExit(
            f"r0 {r0} needs a shorter time step for Starsim: p_step = {p_step:.2f} >= 1 (raise --substeps)"
        )
    n_steps = args.months * args.substeps
    t0 = time.perf_counter()
    sim = ss.Sim(
        n_agents=people,
        start=0,
        dur=ss.days(n_steps * dt_days),
        dt=ss.days(dt_days),
        rand_seed=seed,
        verbose=0,
        people_results=False,  # documented light mode for ODE-style sims; not needed here
        diseases=ss.SEIR(
            # a rate whose per-step probability 1 - exp(-rate dt) is exactly p_step
            beta=ss.perday(-math.log(1.0 - p_step) / dt_days),
            init_prev=ss.bernoulli(p=args.seed_frac),
            dur_exp=ss.expon(scale=ss.days(args.latent_days)),
            dur_inf=ss.expon(scale=ss.days(args.infectious_days)),
            p_death=ss.bernoulli(p=0.0),
        ),
        networks=ss.MixingPool(beta=1.0, n_contacts=ss.constant(1), diseases="seir"),
    )
    sim.init()
    t1 = time.perf_counter()
    d = sim.diseases.seir
    seeded = int(np.count_nonzero(d.exposed))  # init_prev is applied by init()
    sim.run()
    t2 = time.perf_counter()
    ever = people - int(np.count_nonzero(d.susceptible))
    return {
        "people": int(people),
        "seeded": seeded,
        "attack_rate": ever / people,
        "still_infected_at_end": int(np.count_nonzero(d.exposed) + np.count_nonzero(d.infectious)),
        "analytic_final_size": final_size(r0, 1.0 - seeded / people),
        "p_step": p_step,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
    }


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
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return ap.parse_args(argv)


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


def main(argv=None) -> int:
    args = parse_args(argv)
    r0s = [float(x) for x in args.r0.split(",") if x.strip()]
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
    w1 = time.perf_counter()
    run_starsim(small, 2.0, 1000, 0, 30.4 / args.substeps)
    w2 = time.perf_counter()
    warmup_s = {"hssim": w1 - w0, "starsim": w2 - w1}

    households = hssim_households_for(args, int(args.people))
    days_per_month = hssim.load_config(
        hssim.compose(hssim_overrides(args, 2.0, households, 1))
    ).households.days_per_month
    dt_days = days_per_month / args.substeps
    default_threads = numba.get_num_threads()
    cases = []
    for r0 in r0s:
        runs = {"starsim": [], "hssim_noskip": [], **{f"hssim_{k}t": [] for k in threads}}
        for rep in range(args.reps):
            for k in threads:
                numba.set_num_threads(k)
                h = run_hssim(args, r0, households, seed=rep + 1)
                h["threads"] = k
                runs[f"hssim_{k}t"].append(h)
            # every substep computed, as Starsim does (skipping quiet substeps is exact)
            numba.set_num_threads(threads[0])
            h0 = run_hssim(args, r0, households, seed=rep + 1, skip=False)
            h0["threads"] = threads[0]
            runs["hssim_noskip"].append(h0)
            numba.set_num_threads(default_threads)
            # same seed at any thread count: identical epidemics (only the time may differ)
            same = {runs[f"hssim_{k}t"][-1]["attack_rate"] for k in threads} | {h0["attack_rate"]}
            if len(same) != 1:
                raise SystemExit(f"hssim attack rate depends on the thread count: {same}")
            s = run_starsim(args, r0, h["people"], seed=rep + 1, dt_days=dt_days)
            runs["starsim"].append(s)
            times = ", ".join(f"{k}t {runs[f'hssim_{k}t'][-1]['run_s']:.2f}s" for k in threads)
            times += f", {threads[0]}t no skipping {h0['run_s']:.2f}s"
            print(
                f"r0={r0:g} rep={rep}: hssim attack {h['attack_rate']:.4f} (analytic {h['analytic_final_size']:.4f})"
                f" run {times} | starsim attack {s['attack_rate']:.4f} (analytic {s['analytic_final_size']:.4f})"
                f" run {s['run_s']:.2f}s",
                flush=True,
            )

        def summary(rs):
            ar = [r["attack_rate"] for r in rs]
            return {
                "attack_rate_mean": sum(ar) / len(ar),
                "attack_rate_minus_analytic_mean": sum(r["attack_rate"] - r["analytic_final_size"] for r in rs)
                / len(rs),
                "setup_s_min": min(r["setup_s"] for r in rs),
                "run_s_min": min(r["run_s"] for r in rs),
                "total_s_min": min(r["setup_s"] + r["run_s"] for r in rs),
                "runs": rs,
            }

        ss_ = summary(runs["starsim"])
        case = {"r0": r0, "analytic_final_size": final_size(r0, 1.0 - args.seed_frac), "starsim": ss_}
        for k in threads:
            hs = summary(runs[f"hssim_{k}t"])
            case[f"hssim_{k}_threads"] = hs
            case[f"run_time_ratio_starsim_over_hssim_{k}_threads"] = ss_["run_s_min"] / hs["run_s_min"]
            case[f"total_time_ratio_starsim_over_hssim_{k}_threads"] = ss_["total_s_min"] / hs["total_s_min"]
        hs = summary(runs["hssim_noskip"])
        case[f"hssim_{threads[0]}_threads_no_skipping"] = hs
        case[f"run_time_ratio_starsim_over_hssim_{threads[0]}_threads_no_skipping"] = ss_["run_s_min"] / hs["run_s_min"]
        case["attack_rate_difference_hssim_minus_starsim"] = (
            case[f"hssim_{threads[0]}_threads"]["attack_rate_mean"] - ss_["attack_rate_mean"]
        )
        cases.append(case)

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
            "hssim": "disease module alone (run_alone), w_region=1, chain binomial in households",
        },
        "import_s": import_s,
        "warmup_s": warmup_s,
        "cases": cases,
    }
    write_json(args.output, data)
    for c in cases:
        h1 = c[f"hssim_{threads[0]}_threads"]
        times = ", ".join(
            f"{k}t {c[f'hssim_{k}_threads']['run_s_min']:.3f}s"
            f" (starsim/hssim {c[f'run_time_ratio_starsim_over_hssim_{k}_threads']:.1f}x)"
            for k in threads
        )
        t0 = threads[0]
        times += (
            f", {t0}t no skipping {c[f'hssim_{t0}_threads_no_skipping']['run_s_min']:.3f}s"
            f" ({c[f'run_time_ratio_starsim_over_hssim_{t0}_threads_no_skipping']:.1f}x)"
        )
        print(
            f"r0={c['r0']:g}: analytic {c['analytic_final_size']:.4f}; hssim {h1['attack_rate_mean']:.4f}, "
            f"starsim {c['starsim']['attack_rate_mean']:.4f},"
            f" diff {c['attack_rate_difference_hssim_minus_starsim']:+.4f};"
            f" run starsim {c['starsim']['run_s_min']:.3f}s, hssim {times}"
        )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
