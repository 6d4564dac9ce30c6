#!/usr/bin/env python
"""Time the plain ``hssim`` command, with a cold and then a warm numba cache.

Run from the repository root::

    python benchmarks/bench_cli.py                       # the default run (config.yaml)
    python benchmarks/bench_cli.py -- months=12          # extra overrides after --
    python benchmarks/bench_cli.py --warm-runs 3         # best of three warm runs

Each run is a subprocess ``hssim [OVERRIDES]`` started in its own fresh, empty
working directory (so Hydra's ``outputs/`` folder lands there and is deleted
afterwards), with ``NUMBA_CACHE_DIR`` pointing at one fresh, empty folder:

* cold: the first run, with the empty cache: includes numba compilation of every kernel;
* warm: the next run(s), with the cache the cold run filled.

The wall time of the whole process (interpreter start, imports, Hydra, compile or
cache load, the simulation, writing results and the figure) is reported, and also
the simulation's own time as the command prints it (``run time`` line). Writes
``benchmarks/results/cli.json`` (``--output`` to change). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "cli.json"
SCHEMA = "hssim-bench-cli/1"

sys.path.insert(0, str(HERE))
from bench_engine import cpu_model, git_commit, loadavg, write_json  # noqa: E402

# e.g. "run time   17.1 s (0.000703 M household-months/s, compile or cache load included)"
_RUN_TIME = re.compile(r"run time\s+([0-9.]+)\s*s\s*\(\s*([0-9.eE+-]+)\s*M household-months/s")


def find_hssim(explicit: str | None) -> str:
    """The ``hssim`` console script: ``--hssim``, else next to this Python, else on PATH."""
    if explicit:
        return explicit
    bindir = Path(sys.executable).parent
    for name in ("hssim", "hssim.exe"):
        cand = bindir / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("hssim")
    if found:
        return found
    raise SystemExit("bench_cli: cannot find the `hssim` command (install the package, or pass --hssim PATH)")


def run_once(cmd: list[str], cache_dir: str, label: str, timeout: float) -> dict:
    """One ``hssim`` process in a fresh working directory; returns its timings."""
    workdir = tempfile.mkdtemp(prefix=f"hssim-bench-cli-{label}-")
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache_dir
    env.pop("HSSIM_DEBUG", None)
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - t0
        n_cache_files = sum(1 for p in Path(cache_dir).rglob("*") if p.is_file())
        rec = {
            "label": label,
            "wall_s": round(wall, 3),
            "returncode": proc.returncode,
            "numba_cache_files_after": n_cache_files,
        }
        m = _RUN_TIME.search(proc.stdout)
        if m:
            rec["reported_run_time_s"] = float(m.group(1))
            rec["reported_household_months_per_s"] = float(m.group(2)) * 1e6
            rec["outside_run_s"] = round(wall - float(m.group(1)), 3)
        if proc.returncode != 0:
            rec["stderr_tail"] = proc.stderr[-2000:]
            rec["stdout_tail"] = proc.stdout[-2000:]
        else:
            rec["stdout"] = proc.stdout.splitlines()
        return rec
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Time the `hssim` command cold (empty numba cache) and warm.",
    )
    p.add_argument("overrides", nargs="*", help="Hydra overrides passed to hssim (put them after --)")
    p.add_argument("--hssim", default=None,
                   help="path of the hssim command (default: next to this Python, else on PATH)")
    p.add_argument("--warm-runs", type=int, default=1,
                   help="warm runs after the cold one; the fastest is reported (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per run (default: %(default)s)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                   help="JSON file to write (default: benchmarks/results/cli.json)")
    p.add_argument("-q", "--quiet", dest="verbose", action="store_false", help="print only the output path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.warm_runs < 1:
        build_parser().error("--warm-runs must be >= 1")
    exe = find_hssim(args.hssim)
    cmd = [exe, *args.overrides]
    load_start = loadavg()
    cache_dir = tempfile.mkdtemp(prefix="hssim-bench-numba-cache-")
    runs = []
    try:
        for i in range(1 + args.warm_runs):
            label = "cold" if i == 0 else "warm"
            if args.verbose:
                print(f"{label}: {' '.join(cmd)} ...", end=" ", flush=True)
            rec = run_once(cmd, cache_dir, label, args.timeout)
            runs.append(rec)
            if args.verbose:
                print(f"{rec['wall_s']:.2f} s (exit {rec['returncode']})", flush=True)
            if rec["returncode"] != 0:
                print(rec.get("stderr_tail", ""), file=sys.stderr)
                break
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    ok = all(r["returncode"] == 0 for r in runs) and len(runs) == 1 + args.warm_runs
    cold = runs[0]
    warm = min(runs[1:], key=lambda r: r["wall_s"]) if len(runs) > 1 else None
    try:
        import numba
        import numpy

        import hssim

        versions = {"hssim_version": hssim.__version__, "numba_version": numba.__version__,
                    "numpy_version": numpy.__version__}
    except ImportError:
        versions = {}
    result = {
        "meta": {
            "schema": SCHEMA,
            "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **versions,
            "git_commit": git_commit(),
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "hssim_command": exe,
            "command": [Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)],
            "overrides": args.overrides,
            "numba_num_threads_env": os.environ.get("NUMBA_NUM_THREADS"),
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
        },
        "ok": ok,
        "cold_s": cold["wall_s"],
        "warm_s": warm["wall_s"] if warm else None,
        "cold_minus_warm_s": round(cold["wall_s"] - warm["wall_s"], 3) if warm else None,
        "cold_run_time_s": cold.get("reported_run_time_s"),
        "warm_run_time_s": warm.get("reported_run_time_s") if warm else None,
        "runs": runs,
    }
    write_json(args.output, result)
    if args.verbose and warm:
        print(f"cold {result['cold_s']:.2f} s, warm {result['warm_s']:.2f} s "
              f"(compile cost about {result['cold_minus_warm_s']:.2f} s)")
    print(f"wrote {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
