#!/usr/bin/env python
"""Roofline: what this machine can do at most, and how far each module's kernels are from it.

Run from the repository root::

    python benchmarks/roofline.py                         # 200,000 households, 24 months, full model + response
    python benchmarks/roofline.py --households 1e6 --policy none
    python benchmarks/roofline.py --quick                 # small arrays and runs (a check that it works)

Measured in this one process, with all numba threads and with one:

1. memory bandwidth: a streaming read (sum of a float64 array) and a triad
   ``a = b + s c`` (two reads, one write) over arrays far larger than the caches,
   best of 5, in GB/s;
2. the cost of a random draw: ``hssim.rng.uniform`` (the counter-based hash every
   kernel draws with), a ``log`` of it (exponential waits), and a rare-event
   ``binomial_inv`` (the chain binomial's common case), in ns per draw;
3. each module of a full run: its time per household-month (the engine's own
   per-module timers), the bytes of household state it declares it reads and writes
   (``Module.reads`` / ``writes``: each field's item size, read once and written once
   per month), the time that traffic takes at the measured triad bandwidth (the
   bandwidth floor) and the ratio of the two (distance from the floor); and what the
   time would buy in draws (time / cost of one draw): a kernel that draws ``k`` times
   per household-month cannot be faster than ``k`` of those.

Writes ``benchmarks/results/roofline.json``. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from benchlib import write_result

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "roofline.json"


def _kernels():
    import numba as nb
    import numpy as np

    from hssim.kernels.household import binomial_inv
    from hssim.rng import uniform

    @nb.njit(parallel=True, cache=True)
    def read_sum(a):
        s = 0.0
        for i in nb.prange(a.size):
            s += a[i]
        return s

    @nb.njit(parallel=True, cache=True)
    def triad(a, b, c, x):
        for i in nb.prange(a.size):
            a[i] = b[i] + x * c[i]

    @nb.njit(parallel=True, cache=True)
    def draws(key, n):
        s = 0.0
        for i in nb.prange(n):
            s += uniform(key, i, 0)
        return s

    @nb.njit(parallel=True, cache=True)
    def log_draws(key, n):
        s = 0.0
        for i in nb.prange(n):
            s += np.log(uniform(key, i, 0))
        return s

    @nb.njit(parallel=True, cache=True)
    def binomial_draws(key, n, k, p):
        s = 0
        for i in nb.prange(n):
            s += binomial_inv(uniform(key, i, 0), k, p)
        return s

    return read_sum, triad, draws, log_draws, binomial_draws


def _best(f, reps: int = 5) -> float:
    f()  # compile / warm
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def machine_floors(threads: int, n_bytes: int, n_draws: int) -> dict:
    """Bandwidth (GB/s) and draw costs (ns) with ``threads`` numba threads."""
    import numba
    import numpy as np

    read_sum, triad, draws, log_draws, binomial_draws = _kernels()
    numba.set_num_threads(threads)
    n = n_bytes // 8
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    t_read = _best(lambda: read_sum(b))
    t_triad = _best(lambda: triad(a, b, c, 3.0))
    key = np.uint64(0x9E3779B97F4A7C15)
    t_u = _best(lambda: draws(key, n_draws))
    t_log = _best(lambda: log_draws(key, n_draws))
    t_bin = _best(lambda: binomial_draws(key, n_draws, 4, 0.001))
    return {
        "threads": threads,
        "read_gb_s": n * 8 / t_read / 1e9,
        "triad_gb_s": 3 * n * 8 / t_triad / 1e9,
        "uniform_ns": t_u / n_draws * 1e9,
        "log_uniform_ns": t_log / n_draws * 1e9,
        "binomial_rare_ns": t_bin / n_draws * 1e9,
    }


def module_costs(households: int, months: int, policy: str, threads: int) -> dict:
    """Per-module time and declared household traffic in one full run."""
    import numba

    import hssim

    numba.set_num_threads(threads)
    over = [f"population.households={households}", f"months={months}", f"policy={policy}"]
    hssim.build_engine(hssim.compose([*over[1:], "population.households=2000"])).run()  # warm the cache
    cfg = hssim.compose(over)
    eng = hssim.build_engine(cfg)
    t0 = time.perf_counter()
    rec = eng.run()
    wall = time.perf_counter() - t0
    hh_months = households * eng.n_ticks
    hh = eng.households
    names = set(hh.names())
    out = {}
    for mod in eng.modules:
        secs = rec.timings_s.get(mod.name)
        if secs is None:
            continue
        read = [f for f in getattr(mod, "reads", ()) if f in names]
        written = [f for f in getattr(mod, "writes", ()) if f in names]
        nbytes = sum(hh[f].itemsize for f in read) + sum(hh[f].itemsize for f in written)
        out[mod.name] = {"s": secs, "ns_per_household_month": secs / hh_months * 1e9,
                         "household_bytes_per_month": nbytes}
    return {"households": households, "ticks": eng.n_ticks, "policy": policy, "threads": threads, "wall_s": wall,
            "ns_per_household_month": wall / hh_months * 1e9, "modules": out}


def main(argv=None) -> int:
    import numba

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=float, default=2e5)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--policy", default="anticipatory_integrated", help="response preset (none: no response)")
    ap.add_argument("--quick", action="store_true", help="small arrays and run: checks the script, not the machine")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    cores = numba.config.NUMBA_NUM_THREADS
    n_bytes, n_draws = (8 << 20, 1 << 20) if args.quick else (256 << 20, 1 << 26)
    households = 5000 if args.quick else int(args.households)
    months = 3 if args.quick else args.months
    load_before = os.getloadavg()
    floors = {t: machine_floors(t, n_bytes, n_draws) for t in sorted({cores, 1}, reverse=True)}
    runs = {t: module_costs(households, months, args.policy, t) for t in sorted({cores, 1}, reverse=True)}
    numba.set_num_threads(cores)
    for t, run in runs.items():
        f = floors[t]
        for m in run["modules"].values():
            floor_ns = m["household_bytes_per_month"] / f["triad_gb_s"]  # bytes / (GB/s) = ns
            m["bandwidth_floor_ns"] = floor_ns
            m["times_bandwidth_floor"] = m["ns_per_household_month"] / floor_ns if floor_ns > 0 else None
            m["draw_equivalents"] = m["ns_per_household_month"] / f["uniform_ns"]
    result = {
        "benchmark": "roofline",
        "machine": {"cpus": os.cpu_count(), "numba_threads": cores, "python": platform.python_version(),
                    "platform": platform.platform(), "load_average_before": list(load_before),
                    "load_average_after": list(os.getloadavg())},
        "array_bytes": n_bytes, "draws": n_draws, "quick": args.quick,
        "floors": {f"{t}_threads": v for t, v in floors.items()},
        "runs": {f"{t}_threads": v for t, v in runs.items()},
    }
    for t in floors:
        f, run = floors[t], runs[t]
        print(f"{t} thread(s): read {f['read_gb_s']:.1f} GB/s, triad {f['triad_gb_s']:.1f} GB/s; "
              f"uniform {f['uniform_ns']:.2f} ns, log(uniform) {f['log_uniform_ns']:.2f} ns, "
              f"rare binomial {f['binomial_rare_ns']:.2f} ns")
        print(f"  full run {run['households']:,} households x {run['ticks']} months ({run['policy']}): "
              f"{run['ns_per_household_month']:.0f} ns per household-month")
        print(f"  {'module':<38}{'ns/hh-month':>12}{'bytes':>8}{'bw floor ns':>13}{'x floor':>9}{'draws':>8}")
        for name, m in sorted(run["modules"].items(), key=lambda kv: -kv[1]["s"]):
            x = m["times_bandwidth_floor"]
            print(f"  {name:<38}{m['ns_per_household_month']:>12.1f}{m['household_bytes_per_month']:>8d}"
                  f"{m['bandwidth_floor_ns']:>13.2f}{(f'{x:.0f}' if x else '-'):>9}{m['draw_equivalents']:>8.0f}")
    write_result(args.output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
