#!/usr/bin/env python
"""Paired-comparison benchmark: the planner's command at full size, warm cache.

Run from the repository root::

    python benchmarks/bench_compare.py                       # 5 arms x 20 replicates, 20,000 households, 120 months
    python benchmarks/bench_compare.py --replicates 2 --override months=12   # quick check

Measures, in this one process: a warm-up comparison (tiny, so numba's cache is
loaded or compiled in every worker and here), then the full comparison with
``hssim.compare.compare`` exactly as ``hssim-compare`` runs it (worker processes,
one numba thread each), and for reference one policy run and one no-response run in
this process, so the response's share of a run is visible side by side. Writes
``benchmarks/results/compare.json``. A benchmark, not a test: it asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "compare.json"
ARMS = ["none", "reactive_siloed", "reactive_integrated", "anticipatory_siloed", "anticipatory_integrated"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: the cores available)")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    import hssim
    from hssim.compare import compare, default_workers

    workers = args.workers or default_workers()
    t = time.perf_counter()
    compare(ARMS, replicates=2, overrides=["population.households=1000", "months=3", *args.override], workers=workers)
    warmup_s = time.perf_counter() - t

    def one(policy: str) -> float:
        c = hssim.compose([f"policy={policy}", *args.override])
        t0 = time.perf_counter()
        r = hssim.run(c)
        return time.perf_counter() - t0, r.timings_s.get("response", 0.0)

    one("anticipatory_integrated")  # warm this process too
    none_s, _ = one("none")
    policy_s, response_s = one("anticipatory_integrated")

    times = []
    t = time.perf_counter()
    res = compare(ARMS, replicates=args.replicates, overrides=args.override, workers=workers,
                  progress=lambda k, n, arm, r, stored: times.append(time.perf_counter()))
    wall_s = time.perf_counter() - t
    first = hssim.config.build.load_config(hssim.compose(args.override))
    out = {
        "schema": "hssim-bench-compare/1",
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "arms": ARMS,
        "replicates": args.replicates,
        "runs": args.replicates * len(ARMS),
        "households": first.population.households,
        "months": first.months,
        "spinup_months": first.spinup_months,
        "workers": workers,
        "warmup_s": round(warmup_s, 2),
        "wall_s": round(wall_s, 2),
        "runs_per_s": round(args.replicates * len(ARMS) / wall_s, 3),
        "household_months_per_s": round(args.replicates * len(ARMS) * first.population.households
                                        * (first.months + first.spinup_months) / wall_s),
        "single_run_in_process_s": {"none": round(none_s, 2), "anticipatory_integrated": round(policy_s, 2),
                                    "of_which_response": round(response_s, 2)},
        "target_s": 120,
        "deaths_averted_mean": {a: float(res.differences.query("arm == @a and outcome == 'deaths_total'")["mean_diff"].iloc[0])
                                for a in ARMS[1:]},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.output.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.output)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
