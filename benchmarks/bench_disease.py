#!/usr/bin/env python
"""Disease algorithms side by side: the event-driven month against the chain binomial.

Run from the repository root::

    python benchmarks/bench_disease.py                      # 10^4, 10^5, 10^6 households, 24 months
    python benchmarks/bench_disease.py --sizes 1e4 --months 6 --output /tmp/disease.json   # quick

The full model (the synthetic region: drought, conflict, cholera with waning immunity,
displacement; no response) is run at each size with ``hazards.disease.algorithm``
``chain_binomial`` and ``event``, alternately, in this one process (warm numba cache),
best of ``--reps``. Reported: the whole run's household-months per second and the
disease module's time per household-month (the engine's per-module timers), and the
ratios. The two algorithms draw the same process with different random numbers, so
the runs are not identical (``tests/test_disease_event.py`` shows their ensembles
agree). Writes ``benchmarks/results/disease.json``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench_engine import parse_sizes
from benchlib import write_result

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "disease.json"
ALGORITHMS = ("chain_binomial", "event")


def one_run(households: int, months: int, algorithm: str) -> dict:
    import hssim

    cfg = hssim.compose([f"population.households={households}", f"months={months}",
                         f"hazards.disease.algorithm={algorithm}"])
    eng = hssim.build_engine(cfg)
    eng.init()
    t0 = time.perf_counter()
    rec = eng.run()
    wall = time.perf_counter() - t0
    hh_months = households * eng.n_ticks
    return {"wall_s": wall, "household_months_per_s": hh_months / wall,
            "disease_ns_per_household_month": rec.timings_s["disease"] / hh_months * 1e9}


def main(argv=None) -> int:
    import numba

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e4,1e5,1e6"))
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    for algorithm in ALGORITHMS:
        one_run(2000, 2, algorithm)  # numba cache loaded
    rows = []
    for n in args.sizes:
        best = {a: None for a in ALGORITHMS}
        for _ in range(args.reps):
            for a in ALGORITHMS:  # alternately: the machine's load falls on both
                r = one_run(n, args.months, a)
                if best[a] is None or r["wall_s"] < best[a]["wall_s"]:
                    best[a] = r
        chain, event = best["chain_binomial"], best["event"]
        row = {"households": n, **{a: best[a] for a in ALGORITHMS},
               "run_speedup": chain["wall_s"] / event["wall_s"],
               "disease_speedup": chain["disease_ns_per_household_month"] / event["disease_ns_per_household_month"]}
        rows.append(row)
        print(f"{n:>10,} households: run {chain['household_months_per_s'] / 1e6:.2f} -> "
              f"{event['household_months_per_s'] / 1e6:.2f} M hh-months/s ({row['run_speedup']:.2f}x); disease "
              f"{chain['disease_ns_per_household_month']:.1f} -> {event['disease_ns_per_household_month']:.1f} ns per "
              f"household-month ({row['disease_speedup']:.1f}x)")
    result = {"benchmark": "disease_algorithms",
              "machine": {"cpus": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
                          "python": platform.python_version(), "platform": platform.platform(),
                          "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
              "months": args.months, "reps": args.reps, "sizes": rows}
    write_result(args.output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
