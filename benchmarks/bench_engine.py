#!/usr/bin/env python
"""Engine benchmark: start-up (compile or cache load), throughput, thread scaling, memory.

Run from the repository root::

    python benchmarks/bench_engine.py                      # full: 1e4, 1e5, 1e6 households, 24 months
    python benchmarks/bench_engine.py --sizes 1e4,2e4 --months 6   # quick check
    python benchmarks/bench_engine.py --cold               # fresh, empty numba cache (compile included)

Writes ``benchmarks/results/engine.json`` (``--output`` to change). What each number
means is in ``benchmarks/README.md``. This is a benchmark, not a test: it asserts
nothing about time and exits non-zero only when a run fails.

Everything is measured in this one process, in this order:

1. ``import hssim``;
2. start-up: a tiny engine (``--warmup-households``) is built and its first
   ``init()`` + first ``step()`` timed (numba compiles, or loads its on-disk cache,
   here); then an identical second tiny engine is timed the same way (everything
   warm), so the difference is the compile / cache-load cost;
3. throughput at each size (ascending): ``init()`` is not timed, every tick is;
4. thread scaling at the largest size: the same config with ``numba.set_num_threads(k)``
   for each k, and a check that the recorded sums are bit-identical;
5. memory at the largest size: state bytes per household, RSS increase and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = HERE / "results" / "engine.json"
SCHEMA = "hssim-bench-engine/1"


# -- small helpers ---------------------------------------------------------------------
def parse_sizes(text: str) -> list[int]:
    """``"1e4,1e5"`` -> ``[10000, 100000]`` (sorted ascending, duplicates dropped)."""
    sizes = set()
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part:
            continue
        value = float(part)
        if value < 1 or value != int(value):
            raise argparse.ArgumentTypeError(f"not a positive whole number of households: {part!r}")
        sizes.add(int(value))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted(sizes)


def parse_ints(text: str) -> list[int]:
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"positive integers expected: {text!r}")
    return values


def rss_bytes() -> int | None:
    """Current resident set size of this process."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pass
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _proc_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def peak_rss_bytes() -> int:
    """Peak RSS: ``VmHWM`` where Linux has it (resettable), else ``ru_maxrss``."""
    hwm = _proc_status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss if sys.platform == "darwin" else maxrss * 1024)  # bytes on macOS, KiB elsewhere


def reset_peak_rss() -> bool:
    """Reset the peak-RSS mark (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``)."""
    if _proc_status_kib("VmHWM") is None:
        return False
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def git_commit() -> str | None:
    """The checked-out commit (read-only ``git rev-parse``), or None."""
    if shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def write_json(path: Path, data: dict) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _r(x: float | None, nd: int = 6):
    return None if x is None else round(float(x), nd)


# -- numba cache state -------------------------------------------------------------------
def numba_dispatchers() -> dict:
    """Every numba dispatcher defined in an imported ``hssim`` module, by qualified name."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for modname, mod in list(sys.modules.items()):
        if mod is None or not (modname == "hssim" or modname.startswith("hssim.")):
            continue
        for obj in list(vars(mod).values()):
            if isinstance(obj, Dispatcher):
                py = obj.py_func
                found[f"{py.__module__}.{py.__qualname__}"] = obj
    return found


def numba_cache_report() -> dict:
    """Cache hits / misses of the hssim dispatchers compiled so far in this process.

    A *hit* means the machine code was loaded from numba's on-disk cache; a *miss* that
    it was compiled (and then written to the cache). ``state`` is ``warm`` (all hits),
    ``cold`` (all misses), ``mixed``, or ``unknown`` (caching off or nothing compiled).
    """
    hits = misses = 0
    per = {}
    cache_paths = set()
    for name, d in sorted(numba_dispatchers().items()):
        if not d.signatures:
            continue
        st = d.stats
        h, m = sum(st.cache_hits.values()), sum(st.cache_misses.values())
        hits += h
        misses += m
        per[name] = {"signatures": len(d.signatures), "cache_hits": h, "cache_misses": m}
        if st.cache_path:
            cache_paths.add(str(st.cache_path))
    if hits and not misses:
        state = "warm"
    elif misses and not hits:
        state = "cold"
    elif hits and misses:
        state = "mixed"
    else:
        state = "unknown"
    return {
        "state": state,
        "cache_hits": hits,
        "cache_misses": misses,
        "numba_cache_dir_env": os.environ.get("NUMBA_CACHE_DIR"),
        "cache_paths": sorted(cache_paths),
        "dispatchers": per,
    }


# -- one run -----------------------------------------------------------------------------
def overrides_for(n: int, months: int, seed: int | None, extra: list[str]) -> list[str]:
    ov = [f"population.households={n}", f"months={months}", "spinup_months=0", "output.figure=false"]
    if seed is not None:
        ov.append(f"seed={seed}")
    return ov + list(extra)


def timed_run(n: int, months: int, seed: int | None, extra: list[str], memory: bool = False, keep_sums: bool = False):
    """Build, init (untimed), step every tick (timed). Returns (record, sums or None)."""
    import numpy as np

    import hssim

    gc.collect()
    rss0 = rss_bytes() if memory else None
    t = time.perf_counter()
    cfg = hssim.compose(overrides_for(n, months, seed, extra))
    compose_s = time.perf_counter() - t
    t = time.perf_counter()
    engine = hssim.build_engine(cfg)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    engine.init()
    init_s = time.perf_counter() - t
    rss_init = rss_bytes() if memory else None
    for k in engine.timings_s:  # init() does not step, but be safe
        engine.timings_s[k] = 0.0

    steps = []
    t0 = time.perf_counter()
    while not engine.done:
        ts = time.perf_counter()
        engine.step()
        steps.append(time.perf_counter() - ts)
    total_s = time.perf_counter() - t0
    rss_run = rss_bytes() if memory else None

    hh_months = n * engine.n_ticks
    kernel_s = engine.timings_s.get("households")
    rec = {
        "households": n,
        "ticks": engine.n_ticks,
        "household_months": hh_months,
        "compose_s": _r(compose_s),
        "build_s": _r(build_s),
        "init_s": _r(init_s),
        "step_total_s": _r(total_s),
        "step_mean_s": _r(total_s / max(len(steps), 1)),
        "step_min_s": _r(min(steps)) if steps else None,
        "step_max_s": _r(max(steps)) if steps else None,
        "household_months_per_s": _r(hh_months / total_s, 1),
        "households_module_s": _r(kernel_s),
        "kernel_household_months_per_s": _r(hh_months / kernel_s, 1) if kernel_s else None,
        "module_timings_s": {k: _r(v) for k, v in engine.timings_s.items()},
        "state_bytes_per_household": engine.households.nbytes_per_element,
        "state_fields": len(engine.households.names()),
    }
    if memory:
        rec["rss_before_build_bytes"] = rss0
        rec["rss_after_init_bytes"] = rss_init
        rec["rss_after_run_bytes"] = rss_run
        if rss0 is not None and rss_init is not None:
            rec["rss_increase_after_init_bytes_per_household"] = _r((rss_init - rss0) / n, 2)
        if rss0 is not None and rss_run is not None:
            rec["rss_increase_after_run_bytes_per_household"] = _r((rss_run - rss0) / n, 2)
    sums = np.array(engine.recorder.sums, copy=True) if keep_sums else None
    district = np.array(engine.recorder.district, copy=True) if keep_sums else None
    del engine
    gc.collect()
    return rec, (sums, district)


def summarise_repeats(records: list[dict]) -> dict:
    """The best (fastest) repeat, with every repeat's throughput alongside."""
    best = max(records, key=lambda r: r["household_months_per_s"])
    out = dict(best)
    out["repeats"] = len(records)
    out["household_months_per_s_all"] = [r["household_months_per_s"] for r in records]
    out["kernel_household_months_per_s_all"] = [r["kernel_household_months_per_s"] for r in records]
    return out


# -- sections ----------------------------------------------------------------------------
def startup(args) -> dict:
    """First init + first step of a tiny engine (compile or cache load), then the same warm."""
    import hssim

    n, months = args.warmup_households, 2
    out = {"warmup_households": n, "warmup_months": months}
    for label in ("first", "second"):
        cfg = hssim.compose(overrides_for(n, months, args.seed, args.override))
        engine = hssim.build_engine(cfg)
        t = time.perf_counter()
        engine.init()
        init_s = time.perf_counter() - t
        t = time.perf_counter()
        engine.step()
        step_s = time.perf_counter() - t
        t = time.perf_counter()
        engine.step()
        next_step_s = time.perf_counter() - t
        out[f"{label}_init_s"] = _r(init_s)
        out[f"{label}_step_s"] = _r(step_s)
        out[f"{label}_next_step_s"] = _r(next_step_s)
        del engine
    first = out["first_init_s"] + out["first_step_s"]
    second = out["second_init_s"] + out["second_step_s"]
    out["compile_or_cache_load_s"] = _r(first)
    out["warm_init_plus_step_s"] = _r(second)
    out["excess_over_warm_s"] = _r(first - second)
    out["warm_step_s"] = out["first_next_step_s"]
    out["numba_cache"] = numba_cache_report()
    return out


def throughput(args) -> tuple[list[dict], dict | None]:
    largest = max(args.sizes)
    results, memory = [], None
    for n in args.sizes:
        months = args.months_largest if (n == largest and args.months_largest) else args.months
        recs = []
        for r in range(args.repeats):
            is_mem = n == largest and r == 0
            peak_reset = reset_peak_rss() if is_mem else False
            rec, _ = timed_run(n, months, args.seed, args.override, memory=is_mem)
            if is_mem:
                memory = {
                    "households": n,
                    "state_bytes_per_household": rec["state_bytes_per_household"],
                    "state_bytes_total": rec["state_bytes_per_household"] * n,
                    "rss_before_build_bytes": rec.pop("rss_before_build_bytes"),
                    "rss_after_init_bytes": rec.pop("rss_after_init_bytes"),
                    "rss_after_run_bytes": rec.pop("rss_after_run_bytes"),
                    "rss_increase_after_init_bytes_per_household": rec.pop(
                        "rss_increase_after_init_bytes_per_household", None),
                    "rss_increase_after_run_bytes_per_household": rec.pop(
                        "rss_increase_after_run_bytes_per_household", None),
                    "peak_rss_bytes": peak_rss_bytes(),
                    "note": ("RSS differences are only meaningful for large sizes: small arrays come from "
                             "memory the allocator already holds (earlier runs), large ones are fresh pages"),
                    "peak_rss_scope": ("this run (peak mark reset just before it)" if peak_reset
                                       else "whole process so far (peak mark could not be reset)"),
                    "ru_maxrss_process_bytes": (
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)),
                }
                if peak_reset and memory["rss_before_build_bytes"] is not None:
                    memory["peak_increase_bytes_per_household"] = _r(
                        (memory["peak_rss_bytes"] - memory["rss_before_build_bytes"]) / n, 2)
            recs.append(rec)
            if args.verbose:
                print(f"  {n:>10,} households x {rec['ticks']} months: "
                      f"{rec['household_months_per_s'] / 1e6:8.2f} M hh-months/s "
                      f"(households module {rec['kernel_household_months_per_s'] / 1e6:8.2f} M/s)", flush=True)
        results.append(summarise_repeats(recs))
    return results, memory


def thread_scaling(args) -> dict:
    import numba
    import numpy as np

    n = max(args.sizes)
    months = args.months_largest or args.months
    available = numba.config.NUMBA_NUM_THREADS
    wanted = args.threads
    usable = [k for k in wanted if k <= available]
    out = {"households": n, "months": months, "numba_num_threads": available, "threads_requested": wanted}
    if len(usable) < 2:
        out["skipped"] = f"fewer than two usable thread counts (NUMBA_NUM_THREADS={available})"
        return out
    default = numba.get_num_threads()
    runs, ref, identical = {}, None, True
    try:
        for k in usable:
            numba.set_num_threads(k)
            recs, sums = [], None
            for _ in range(args.repeats):
                rec, sums = timed_run(n, months, args.seed, args.override, keep_sums=True)
                recs.append(rec)
            best = summarise_repeats(recs)
            runs[str(k)] = {
                "household_months_per_s": best["household_months_per_s"],
                "kernel_household_months_per_s": best["kernel_household_months_per_s"],
                "step_total_s": best["step_total_s"],
                "households_module_s": best["households_module_s"],
                "household_months_per_s_all": best["household_months_per_s_all"],
            }
            if ref is None:
                ref = sums
            else:
                same = np.array_equal(ref[0], sums[0]) and np.array_equal(ref[1], sums[1], equal_nan=True)
                identical = identical and bool(same)
            if args.verbose:
                print(f"  {k} thread(s): {best['household_months_per_s'] / 1e6:8.2f} M hh-months/s", flush=True)
    finally:
        numba.set_num_threads(default)
    lo, hi = str(min(usable)), str(max(usable))
    out["threads"] = runs
    out["ratio"] = _r(runs[hi]["household_months_per_s"] / runs[lo]["household_months_per_s"], 3)
    out["kernel_ratio"] = _r(runs[hi]["kernel_household_months_per_s"] / runs[lo]["kernel_household_months_per_s"], 3)
    out["ratio_definition"] = f"household-months/s at {hi} threads / at {lo} thread(s)"
    out["identical"] = identical
    out["identical_checks"] = "engine.recorder.sums (int64) and engine.recorder.district (float64), bit for bit"
    return out


def metadata(args, t_import: float) -> dict:
    import numba
    import numpy

    import hssim

    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = None
    try:
        import psutil

        mem_total = int(psutil.virtual_memory().total)
        psutil_version = psutil.__version__
    except ImportError:
        mem_total, psutil_version = None, None
    return {
        "schema": SCHEMA,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "hssim_version": hssim.__version__,
        "git_commit": git_commit(),
        "numba_version": numba.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "psutil_version": psutil_version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_bytes": mem_total,
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer": layer,
        "import_hssim_s": _r(t_import),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "options": {
            "sizes": args.sizes,
            "months": args.months,
            "months_largest": args.months_largest,
            "repeats": args.repeats,
            "threads": args.threads,
            "seed": args.seed,
            "override": args.override,
            "warmup_households": args.warmup_households,
            "cold": args.cold,
        },
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Benchmark the hssim engine: start-up, throughput, thread scaling, memory.",
    )
    p.add_argument("--sizes", type=parse_sizes, default="1e4,1e5,1e6",
                   help="comma-separated household counts, 1e5 notation allowed (default: %(default)s)")
    p.add_argument("--months", type=int, default=24,
                   help="months stepped at each size, spin-up is 0 (default: %(default)s)")
    p.add_argument("--months-largest", type=int, default=None,
                   help="months at the largest size (and for thread scaling); default: --months")
    p.add_argument("--repeats", type=int, default=1,
                   help="runs per size; the fastest is reported, all are listed (default: %(default)s)")
    p.add_argument("--threads", type=parse_ints, default="1,2",
                   help="thread counts compared at the largest size, capped at NUMBA_NUM_THREADS "
                        "(default: %(default)s)")
    p.add_argument("--no-threads", action="store_true", help="skip the thread-scaling section")
    p.add_argument("--seed", type=int, default=None, help="seed override (default: the config's)")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Hydra override for every run (repeatable), e.g. scenario=default")
    p.add_argument("--warmup-households", type=int, default=1000,
                   help="size of the tiny start-up engine (default: %(default)s)")
    p.add_argument("--cold", action="store_true",
                   help="use a fresh, empty NUMBA_CACHE_DIR (removed afterwards) so start-up includes compilation")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                   help="JSON file to write (default: benchmarks/results/engine.json)")
    p.add_argument("-q", "--quiet", dest="verbose", action="store_false", help="print only the output path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.months < 1 or (args.months_largest is not None and args.months_largest < 1) or args.repeats < 1:
        build_parser().error("--months, --months-largest and --repeats must be >= 1")

    load_start = loadavg()
    cold_dir = None
    if args.cold:  # must happen before numba is imported
        cold_dir = tempfile.mkdtemp(prefix="hssim-bench-numba-cache-")
        os.environ["NUMBA_CACHE_DIR"] = cold_dir
    try:
        t = time.perf_counter()
        import hssim  # noqa: F401  (timed: import cost is part of start-up)

        t_import = time.perf_counter() - t

        if args.verbose:
            print("start-up (tiny engine: first init+step, then the same warm) ...", flush=True)
        start = startup(args)
        if args.verbose:
            nc = start["numba_cache"]
            print(f"  compile_or_cache_load_s = {start['compile_or_cache_load_s']:.2f} s "
                  f"(numba cache {nc['state']}: {nc['cache_hits']} hits, {nc['cache_misses']} misses); "
                  f"warm init+step {start['warm_init_plus_step_s']:.4f} s", flush=True)
            print("throughput ...", flush=True)
        sizes, memory = throughput(args)
        if args.no_threads:
            threads = {"skipped": "--no-threads"}
        else:
            if args.verbose:
                print(f"thread scaling at {max(args.sizes):,} households ...", flush=True)
            threads = thread_scaling(args)

        result = {
            "meta": metadata(args, t_import),
            "startup": start,
            "sizes": sizes,
            "memory": memory,
            "threads": threads,
        }
        result["meta"]["loadavg_start"] = load_start
        result["meta"]["loadavg_end"] = loadavg()
        write_json(args.output, result)
    finally:
        if cold_dir is not None:
            shutil.rmtree(cold_dir, ignore_errors=True)
    if args.verbose:
        if memory:
            print(f"memory at {memory['households']:,}: {memory['state_bytes_per_household']} B state/household, "
                  f"RSS +{memory['rss_increase_after_run_bytes_per_household']} B/household, "
                  f"peak RSS {memory['peak_rss_bytes'] / 2**20:.0f} MiB", flush=True)
        if "ratio" in threads:
            print(f"threads: ratio {threads['ratio']} ({threads['ratio_definition']}), "
                  f"identical={threads['identical']}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
