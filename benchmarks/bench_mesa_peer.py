#!/usr/bin/env python
"""Peer comparison: hssim's engine (drought only) vs an idiomatic Mesa peer of the same model.

Run from the repository root (needs ``mesa``)::

    python benchmarks/bench_mesa_peer.py                          # 10,000 households x 120 months (+ spin-up)
    python benchmarks/bench_mesa_peer.py --households 2000 --months 24 --output /tmp/mesa_peer.json   # quick

Writes ``benchmarks/results/mesa_peer.json`` (``--output`` to change), atomically. A
benchmark, not a test: it asserts nothing about time and exits non-zero only when a
run fails. The issue's target is an engine at least 500x faster than the Mesa peer.

Both run side by side in this one process, on the same validated config
(``mesa_peer.DROUGHT_ONLY``: conflict, disease, displacement and policy off; the
default scenario and storyline; the config's spin-up, which is simulated and counted):

* **engine**: ``build_engine`` + ``init()`` timed as set-up, every tick timed as run,
  after a warm-up engine has compiled or loaded the numba kernels (compile excluded);
  once per thread count in ``--threads`` (``numba.set_num_threads``), with a check
  that the recorded outcomes are identical whatever the thread count;
* **peer** (``benchmarks/mesa_peer.py``): ``DroughtHouseholdModel(...)`` (creating the
  agents) timed as set-up, ``run_model()`` as run. Its own drought process, so its
  drought is a different realisation of the same statistical model. Unless
  ``--no-paired``, the peer is run once more on the engine's own anomaly series
  (``peer_on_engine_drought``; not used in the ratios), so that outcome means can be
  read side by side on the same drought.

Reported: set-up and run seconds (fastest of ``--reps``), household-months per second
(households x ticks, spin-up included, over run seconds), the run-time ratio
peer / engine at each thread count, the mean over months of each outcome for each
side, and the 1-minute load average before and after each timed section (the
machine may be shared).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import _r, cpu_model, git_commit, loadavg, write_json

DEFAULT_OUTPUT = HERE / "results" / "mesa_peer.json"
SCHEMA = "hssim-bench-mesa-peer/1"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=float, default=10_000, help="households (default 10000)")
    ap.add_argument("--months", type=int, default=120, help="recorded months, after the config's spin-up (default 120)")
    ap.add_argument("--reps", type=int, default=1, help="timed runs of each model; the fastest is reported (default 1)")
    ap.add_argument("--threads", type=str, default="1,2", help="engine numba thread counts (default 1,2)")
    ap.add_argument("--seed", type=int, default=None, help="seed (default: the config's)")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                    help="extra Hydra override for both (repeatable), e.g. storyline=two_failed_seasons")
    ap.add_argument("--no-paired", dest="paired", action="store_false",
                    help="skip the extra peer run on the engine's drought series")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return ap.parse_args(argv)


def overrides(args) -> list[str]:
    ov = [f"population.households={int(args.households)}", f"months={args.months}", "output.figure=false"]
    if args.seed is not None:
        ov.append(f"seed={args.seed}")
    return ov + list(args.override)


def load1() -> float | None:
    la = loadavg()
    return None if la is None else la[0]


def time_engine(mp, cfg, threads: int) -> dict:
    import numba

    from hssim.config.build import build_engine

    numba.set_num_threads(threads)
    gc.collect()
    la0 = load1()
    t0 = time.perf_counter()
    eng = build_engine(cfg)
    eng.init()
    t1 = time.perf_counter()
    while not eng.done:
        eng.step()
    t2 = time.perf_counter()
    outcomes, _ = mp.engine_outcomes(cfg, engine=eng)
    hm = cfg.population.households * eng.n_ticks
    return {"threads": threads, "setup_s": t1 - t0, "run_s": t2 - t1, "household_months": hm,
            "household_months_per_s": hm / (t2 - t1), "loadavg_1min_before": la0, "loadavg_1min_after": load1(),
            "outcomes": outcomes}


def time_peer(mp, cfg, scenario, anomaly=None) -> dict:
    gc.collect()
    la0 = load1()
    t0 = time.perf_counter()
    model = mp.DroughtHouseholdModel(cfg, scenario=scenario, anomaly=anomaly)
    t1 = time.perf_counter()
    model.run_model()
    t2 = time.perf_counter()
    hm = cfg.population.households * model.n_ticks
    out = {"setup_s": t1 - t0, "run_s": t2 - t1, "household_months": hm, "household_months_per_s": hm / (t2 - t1),
           "loadavg_1min_before": la0, "loadavg_1min_after": load1(), "outcomes": model.outcomes(),
           "agents": len(model.agents)}
    del model
    return out


def best(runs: list[dict]) -> dict:
    """The fastest run (by run seconds), with every run's times alongside; outcome means over months."""
    b = dict(min(runs, key=lambda r: r["run_s"]))
    b["run_s_all"] = [_r(r["run_s"]) for r in runs]
    b["setup_s_all"] = [_r(r["setup_s"]) for r in runs]
    b["outcome_means"] = {k: _r(float(v.mean()), 6) for k, v in b.pop("outcomes").items()}
    for k in ("setup_s", "run_s"):
        b[k] = _r(b[k])
    b["household_months_per_s"] = _r(b["household_months_per_s"], 1)
    return b


def main(argv=None) -> int:
    args = parse_args(argv)
    load_start = loadavg()
    t = time.perf_counter()
    import numba
    import numpy as np

    import hssim

    t_hssim = time.perf_counter() - t
    t = time.perf_counter()
    import mesa
    import mesa_peer as mp

    t_mesa = time.perf_counter() - t
    threads = [k for k in (int(x) for x in args.threads.split(",") if x.strip()) if k <= numba.config.NUMBA_NUM_THREADS]

    # validated config, shared by both
    t = time.perf_counter()
    cfg, scenario = mp.load(overrides=overrides(args))
    config_s = time.perf_counter() - t

    # warm-up (numba compile or cache load; Mesa's first agents), untimed
    t = time.perf_counter()
    wcfg, wsc = mp.load(overrides=["population.households=500", "months=2", "spinup_months=0", "output.figure=false"])
    mp.engine_outcomes(wcfg)
    mp.DroughtHouseholdModel(wcfg, scenario=wsc).run_model()
    warmup_s = time.perf_counter() - t
    print(f"{cfg.population.households:,} households x {cfg.spinup_months} + {cfg.months} months; "
          f"warm-up {warmup_s:.1f} s; load {load_start}", flush=True)

    engine_runs = {k: [] for k in threads}
    peer_runs = []
    for rep in range(args.reps):
        for k in threads:
            r = time_engine(mp, cfg, k)
            engine_runs[k].append(r)
            print(f"rep {rep}: engine {k}t set-up {r['setup_s']:.3f} s run {r['run_s']:.3f} s "
                  f"({r['household_months_per_s']:,.0f} household-months/s)", flush=True)
        same = [all(np.array_equal(engine_runs[threads[0]][-1]["outcomes"][n], engine_runs[k][-1]["outcomes"][n])
                    for n in mp.OUTCOMES) for k in threads]
        if not all(same):
            raise SystemExit("engine outcomes depend on the thread count")
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        r = time_peer(mp, cfg, scenario)
        peer_runs.append(r)
        print(f"rep {rep}: Mesa peer set-up {r['setup_s']:.3f} s run {r['run_s']:.1f} s "
              f"({r['household_months_per_s']:,.0f} household-months/s)", flush=True)

    result = {
        "meta": {
            "schema": SCHEMA,
            "date_utc": __import__("datetime").datetime.now(__import__("datetime").timezone.utc).isoformat(
                timespec="seconds"),
            "hssim_version": hssim.__version__,
            "mesa_version": mesa.__version__,
            "git_commit": git_commit(),
            "numba_version": numba.__version__,
            "numpy_version": np.__version__,
            "python_version": __import__("platform").python_version(),
            "platform": __import__("platform").platform(),
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
            "import_hssim_s": _r(t_hssim),
            "import_mesa_and_peer_s": _r(t_mesa),
            "config_s": _r(config_s),
            "warmup_s": _r(warmup_s),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
            "options": {"households": int(args.households), "months": args.months, "reps": args.reps,
                        "threads": threads, "seed": args.seed, "override": args.override, "paired": args.paired},
            "overrides": [*mp.DROUGHT_ONLY, *overrides(args)],
            "loadavg_start": load_start,
        },
        "settings": {
            "households": cfg.population.households,
            "months": cfg.months,
            "spinup_months": cfg.spinup_months,
            "ticks": cfg.spinup_months + cfg.months,
            "seed": cfg.seed,
            "storyline": cfg.storyline.name,
            "household_months_definition": "households x ticks (spin-up included: both simulate it)",
            "engine": "hssim build_engine + init (set-up), Engine.step for every tick (run); numba warm",
            "peer": "benchmarks/mesa_peer.py DroughtHouseholdModel: mesa.Model + one mesa.Agent per household, "
                    "agents.shuffle_do('step'), DataCollector model reporters; its own drought process",
        },
        "engine": {f"{k}_threads": best(engine_runs[k]) for k in threads},
        "peer": best(peer_runs),
    }
    peer_run = result["peer"]["run_s"]
    result["run_time_ratio_peer_over_engine"] = {
        f"{k}_threads": _r(peer_run / result["engine"][f"{k}_threads"]["run_s"], 1) for k in threads}
    result["total_time_ratio_peer_over_engine"] = {
        f"{k}_threads": _r((peer_run + result["peer"]["setup_s"]) / (result["engine"][f"{k}_threads"]["run_s"]
                                                                    + result["engine"][f"{k}_threads"]["setup_s"]), 1)
        for k in threads}
    result["target_ratio"] = 500
    if args.paired:
        # same drought as the engine: outcome means comparable month for month
        r = time_peer(mp, cfg, scenario, anomaly=mp.engine_anomaly(cfg, scenario))
        result["peer_on_engine_drought"] = best([r])
        print(f"Mesa peer on the engine's drought: run {r['run_s']:.1f} s", flush=True)
    result["meta"]["loadavg_end"] = loadavg()
    write_json(args.output, result)

    e1 = result["engine"][f"{threads[0]}_threads"]["outcome_means"]
    cols = [("engine", e1), ("peer", result["peer"]["outcome_means"])]
    if args.paired:
        cols.append(("peer/engine drought", result["peer_on_engine_drought"]["outcome_means"]))
    print("outcome means over months: " + " | ".join(c[0] for c in cols))
    for n in mp.OUTCOMES:
        print(f"  {n:28s} " + "  ".join(f"{c[1][n]:12.4f}" for c in cols))
    print("run-time ratio peer / engine: " + ", ".join(f"{k} {v}x" for k, v in
                                                      result["run_time_ratio_peer_over_engine"].items()))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
