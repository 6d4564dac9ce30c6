#!/usr/bin/env python
"""Which of hssim's numba kernels LLVM compiled with masked vector memory operations.

On AVX-512 machines LLVM vectorises a loop whose stores are conditional into masked
stores (``llvm.masked.store``). AMD's Zen 4 family runs those far slower than the
scalar loop: ``apply_moves`` took 30 ms at 10^6 households with them and 0.6 ms
without (2026-12-07, AMD EPYC, znver4). Masked gathers are slow there too, though not
pathologically. This script compiles every kernel afresh (a temporary, empty
``NUMBA_CACHE_DIR``: cached code cannot be inspected), runs two short models so that
each kernel has its signatures, and lists the kernels whose LLVM IR holds masked
stores, loads, gathers or scatters. A diagnostic, not a test: the answer depends on
the CPU numba compiles for (``llvmlite.binding.get_host_cpu_name()``, printed).

    python benchmarks/masked_stores.py            # a few minutes (compiles everything)
    python benchmarks/masked_stores.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

KINDS = ("masked.store", "masked.load", "masked.gather", "masked.scatter", "masked.compressstore", "masked.expandload")

_CHILD = r"""
import importlib, json, pkgutil, sys
import llvmlite.binding as ll
from numba.core.registry import CPUDispatcher
import hssim
for policy, algorithm in (("anticipatory_integrated", "event"), ("reactive_siloed", "chain_binomial")):
    hssim.run(hssim.compose([f"policy={policy}", "population.households=2000", "months=13", "output.figure=false",
                             f"hazards.disease.algorithm={algorithm}"]))
found, seen = {}, set()
for info in pkgutil.walk_packages(hssim.__path__, "hssim."):
    try:
        mod = importlib.import_module(info.name)
    except Exception:  # optional parts (dashboard, Slurm) need extras
        continue
    for name, obj in vars(mod).items():
        if isinstance(obj, CPUDispatcher) and id(obj) not in seen:
            seen.add(id(obj))
            for sig in obj.signatures:
                ir = obj.inspect_llvm(sig)
                counts = {k: ir.count("llvm." + k) for k in KINDS}
                if any(counts.values()):
                    found[f"{obj.py_func.__module__}.{name}"] = {k: v for k, v in counts.items() if v}
print(json.dumps({"cpu": ll.get_host_cpu_name(), "kernels": found}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="hssim-numba-")
    try:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        code = f"KINDS = {KINDS!r}\n" + _CHILD
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"cpu: {result['cpu']}")
    if not result["kernels"]:
        print("no kernel holds masked vector memory operations")
    for name, counts in sorted(result["kernels"].items()):
        print(f"{name}: " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
