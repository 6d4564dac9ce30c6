#!/usr/bin/env python
"""Sweep benchmark: the sweep's throughput against single runs, side by side.

Run from the repository root::

    python benchmarks/bench_sweep.py                  # 6 points x 2 arms at 10,000 households x 120 months
    python benchmarks/bench_sweep.py --study          # and the full Sobol study (8 parameters, N = 128, 2 arms)
    python benchmarks/bench_sweep.py --points 2 --override months=12   # quick check

In this one process: single runs of both arms of ``experiment=integrated_vs_siloed``
(warm numba cache; with all cores' threads, and with one thread), then the same
runs as a sweep (a Monte Carlo design of ``--points`` points of the experiment's
parameters) with the basic launcher (one process, all threads) and with the joblib
launcher (one worker per core, one thread each). The sweep's household-months per
second is compared with the single runs' (target: at least 80%). ``--study`` then
runs the study itself with the joblib launcher and records its wall time (target:
under 10 minutes). Writes ``benchmarks/results/sweep.json``. A benchmark, not a
test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from benchlib import write_result

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "sweep.json"
ARMS = ("anticipatory_siloed", "anticipatory_integrated")


def _sweep(args: list[str]) -> dict:
    from hssim.cli.sweep import main

    try:
        main(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise RuntimeError(f"hssim-sweep {' '.join(args)} exited {exc.code}") from None
    store = Path([a for a in args if a.startswith("store=")][0].split("=", 1)[1])
    manifest = json.loads((store / "manifest.json").read_text())
    return manifest["last_launch"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=6, help="sample points of the overhead sweep (x 2 arms)")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                    help="run-config override added to the experiment's (e.g. months=12)")
    ap.add_argument("--study", action="store_true", help="also run the full integrated_vs_siloed study")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    import numba

    import hssim
    from hssim.config.build import build_engine

    run_ovr = ["population.households=10000", "months=120", *args.override]
    quoted = "[" + ",".join(f'"{o}"' for o in run_ovr) + "]"
    cores = numba.config.NUMBA_NUM_THREADS

    def single(policy: str, threads: int) -> float:
        numba.set_num_threads(threads)
        cfg = hssim.compose([*run_ovr, f"policy={policy}"])
        hh_months = cfg.population.households * (cfg.months + cfg.spinup_months)
        t0 = time.perf_counter()
        build_engine(cfg).run()
        return hh_months / (time.perf_counter() - t0)

    single(ARMS[0], cores)  # numba cache loaded in this process
    rates = {}
    for threads in sorted({cores, 1}, reverse=True):
        per_arm = [single(a, threads) for a in ARMS for _ in range(2)]
        rates[threads] = len(per_arm) / sum(1 / r for r in per_arm)  # harmonic mean: the rate of the runs together
    numba.set_num_threads(cores)

    tmp = Path(tempfile.mkdtemp(prefix="hssim-bench-sweep-"))
    common = ["experiment=integrated_vs_siloed", "experiment.method=monte_carlo", f"experiment.n={args.points}",
              f"experiment.overrides={quoted}", "progress=false", "analyse=false", "chunk_size=1"]
    basic = _sweep([*common, f"store={tmp / 'basic'}"])
    joblib = _sweep([*common, f"store={tmp / 'joblib'}", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={cores}"])
    result = {
        "benchmark": "sweep",
        "machine": {"cpus": os.cpu_count(), "numba_threads": cores, "python": platform.python_version(),
                    "platform": platform.platform()},
        "run_overrides": run_ovr,
        "arms": list(ARMS),
        "single_run_household_months_per_s": {f"{k}_threads": v for k, v in rates.items()},
        "sweep_basic": {**basic, "threads_per_worker": cores, "workers": 1},
        "sweep_joblib": {**joblib, "threads_per_worker": 1, "workers": cores},
        "ratio_basic_to_single": basic["household_months_per_s"] / rates[cores],
        "ratio_joblib_to_single": joblib["household_months_per_s"] / rates[cores],
        "target_ratio": 0.8,
    }
    print(f"single run ({cores} threads): {rates[cores] / 1e6:.3f} M household-months/s; "
          f"1 thread: {rates[1] / 1e6:.3f} M")
    print(f"sweep, basic launcher:  {basic['household_months_per_s'] / 1e6:.3f} M/s "
          f"({result['ratio_basic_to_single']:.0%} of a single run)")
    print(f"sweep, joblib x{cores}:      {joblib['household_months_per_s'] / 1e6:.3f} M/s "
          f"({result['ratio_joblib_to_single']:.0%} of a single run)")
    if args.study:
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        study = _sweep(["experiment=integrated_vs_siloed", f"store={tmp / 'study'}", "hydra/launcher=joblib",
                        f"hydra.launcher.n_jobs={cores}", "progress=false"])
        study["total_wall_s"] = time.perf_counter() - t0  # with planning and analysis
        # the machine is shared: the load averages (1, 5, 15 min) say what else ran beside it
        study["load_average_before"], study["load_average_after"] = list(load_before), list(os.getloadavg())
        result["study"] = {**study, "target_s": 600}
        print(f"study: {study['runs']} runs in {study['total_wall_s']:.0f} s (target 600 s)")
    else:
        # what the study would take at the joblib sweep's rate (2,560 runs of 1.32 M household-months)
        runs = 128 * (8 + 2) * 2
        result["study_projection_s"] = runs * 10000 * 132 / joblib["household_months_per_s"]
        print(f"study (projected from the joblib rate): {result['study_projection_s']:.0f} s (target 600 s)")
    write_result(args.output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
