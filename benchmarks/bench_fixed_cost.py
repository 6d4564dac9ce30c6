#!/usr/bin/env python
"""The fixed cost of a month: what each module spends whatever the population size.

A Sobol-study run (10,000 households, 132 months) spends a large share of its time in
Python and NumPy between kernels: per-month work on district arrays that does not
grow with the households. This script measures it where kernels cost almost nothing
(``--small`` households, 200 by default) and sets it beside a run of ``--large``
households (10,000), both on one thread, with and without the integrated anticipatory
response, best of ``--repeats`` fresh engines each, side by side in one process:
milliseconds per month for every module (``engine.timings_s``) and in all.

    python benchmarks/bench_fixed_cost.py                 # about a minute
    python benchmarks/bench_fixed_cost.py --months 24 --repeats 2 --output /tmp/fixed.json

Writes ``benchmarks/results/fixed_cost.json`` atomically. A benchmark, not a test: it
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
from pathlib import Path

from benchlib import write_result

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "fixed_cost.json"
POLICIES = ("none", "anticipatory_integrated")


def one(households: int, months: int, policy: str) -> tuple[float, dict[str, float], int]:
    """Seconds stepping a fresh engine (init not timed), each module's seconds, ticks stepped."""
    import hssim
    from hssim.config.build import build_engine

    cfg = hssim.compose([f"policy={policy}", f"population.households={households}", f"months={months}",
                         "output.figure=false"])
    engine = build_engine(cfg)
    engine.init()
    t0 = time.perf_counter()
    while not engine.done:
        engine.step()
    return time.perf_counter() - t0, dict(engine.timings_s), engine.n_ticks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=200, help="households where kernels cost almost nothing")
    ap.add_argument("--large", type=int, default=10_000, help="households of a Sobol-study run")
    ap.add_argument("--months", type=int, default=120, help="recorded months (spin-up as configured)")
    ap.add_argument("--repeats", type=int, default=3, help="fresh engines per case; the fastest is kept")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    import numba

    numba.set_num_threads(1)  # the study's workers run one thread each
    load_before = os.getloadavg()
    one(args.small, 2, POLICIES[-1])  # numba's cache loaded
    cases = []
    for households in (args.small, args.large):
        for policy in POLICIES:
            best = None
            for _ in range(args.repeats):
                wall, modules, ticks = one(households, args.months, policy)  # spin-up ticks included
                if best is None or wall < best[0]:
                    best = (wall, modules, ticks)
            wall, modules, ticks = best
            case = {
                "households": households,
                "policy": policy,
                "ticks": ticks,
                "ms_per_month": 1e3 * wall / ticks,
                "modules_ms_per_month": {k: 1e3 * v / ticks for k, v in sorted(modules.items()) if v > 0.0},
            }
            cases.append(case)
            print(f"{households:>7,} households, {policy:<24} {case['ms_per_month']:.2f} ms a month")
    by = {(c["households"], c["policy"]): c["ms_per_month"] for c in cases}
    share = {p: by[(args.small, p)] / by[(args.large, p)] for p in POLICIES}
    for p in POLICIES:
        print(f"fixed share of a {args.large:,}-household month, {p}: {share[p]:.0%}")
    write_result(args.output, {
        "benchmark": "fixed_cost",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor(), "load_average_before": list(load_before),
                    "load_average_after": list(os.getloadavg())},
        "threads": 1,
        "months": args.months,
        "repeats": args.repeats,
        "cases": cases,
        "fixed_share_of_large_month": share,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
