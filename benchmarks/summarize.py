#!/usr/bin/env python
"""Print the benchmark results as Markdown tables (for the README).

    python benchmarks/summarize.py                  # reads benchmarks/results/*.json
    python benchmarks/summarize.py --results DIR
    python benchmarks/summarize.py --template       # the same tables with every figure "TBD"

Reads the files written by ``bench_engine.py`` (``engine.json``) and ``bench_cli.py``
(``cli.json``), recognised by their ``meta.schema``; a missing file gives "TBD" cells.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TBD = "TBD"
DASH = "–"


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        print(f"summarize: skipping {path}: {exc}", file=sys.stderr)
        return None


def load_results(folder: Path) -> tuple[dict | None, dict | None]:
    """``engine.json`` / ``cli.json`` if present, else the newest file of each schema in the folder."""
    found: dict[str, list[tuple[int, str, dict]]] = {"engine": [], "cli": []}
    for path in sorted(folder.glob("*.json")):
        data = _read(path)
        if not isinstance(data, dict):
            continue
        meta = data.get("meta", {})
        schema = str(meta.get("schema", ""))
        for kind in found:
            if schema.startswith(f"hssim-bench-{kind}/"):
                canonical = int(path.name == f"{kind}.json")
                found[kind].append((canonical, str(meta.get("date_utc", "")), data))
    pick = {k: max(v, key=lambda t: t[:2])[2] if v else None for k, v in found.items()}
    return pick["engine"], pick["cli"]


def rate(x) -> str:
    return TBD if x is None else f"{x / 1e6:.2f} M"


def mib(x) -> str:
    return TBD if x is None else f"{x / 2**20:,.0f} MiB"


def num(x, fmt="{:,.0f}") -> str:
    return TBD if x is None else fmt.format(x)


def secs(x) -> str:
    return TBD if x is None else f"{x:.2f} s"


def size_label(n: int) -> str:
    exp = len(str(n)) - 1
    return f"10^{exp}" if n == 10**exp else f"{n:,}"


def throughput_table(engine: dict | None, template_sizes=(10**4, 10**5, 10**6)) -> list[str]:
    head = ["households", "household-months/s", "household module only, household-months/s",
            "state bytes/household", "RSS increase/household", "peak RSS", "2 / 1 threads", "identical"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    if engine is None:
        for i, n in enumerate(template_sizes):
            last = i == len(template_sizes) - 1
            cells = [size_label(n), TBD, TBD, TBD, TBD if last else DASH, TBD if last else DASH,
                     TBD if last else DASH, TBD if last else DASH]
            lines.append("| " + " | ".join(cells) + " |")
        return lines
    mem = engine.get("memory") or {}
    thr = engine.get("threads") or {}
    for row in engine.get("sizes", []):
        n = row["households"]
        is_mem = mem.get("households") == n
        is_thr = thr.get("households") == n and "ratio" in thr
        cells = [
            size_label(n),
            rate(row.get("household_months_per_s")),
            rate(row.get("kernel_household_months_per_s")),
            num(row.get("state_bytes_per_household")),
            num(mem.get("rss_increase_after_run_bytes_per_household"), "{:,.0f} B") if is_mem else DASH,
            mib(mem.get("peak_rss_bytes")) if is_mem else DASH,
            num(thr.get("ratio"), "{:.2f}x") if is_thr else DASH,
            ("yes" if thr.get("identical") else "**no**") if is_thr else DASH,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def startup_table(engine: dict | None, cli: dict | None) -> list[str]:
    head = ["start-up", "seconds", "what it includes"]
    st = (engine or {}).get("startup") or {}
    state = (st.get("numba_cache") or {}).get("state")
    rows = [
        ("engine: first init + step" + (f" (numba cache {state})" if state else ""),
         secs(st.get("compile_or_cache_load_s")), "numba compile or cache load, tiny population"),
        ("engine: same, warm", num(st.get("warm_init_plus_step_s"), "{:.3f} s"),
         "init + one step, everything compiled"),
        ("`hssim` command, cold", secs((cli or {}).get("cold_s")), "whole process, empty numba cache"),
        ("`hssim` command, warm", secs((cli or {}).get("warm_s")), "whole process, numba cache filled"),
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def machine_line(engine: dict | None, cli: dict | None) -> str:
    meta = (engine or cli or {}).get("meta") or {}
    if not meta:
        return "Machine: TBD (CPU, cores, numba version, date)."
    months = (meta.get("options") or {}).get("months")
    parts = [
        f"{meta.get('cpu_model', '?')}, {meta.get('cpu_count', '?')} cores",
        f"numba {meta.get('numba_version', '?')} ({meta.get('numba_threading_layer') or '?'} threads: "
        f"{meta.get('numba_num_threads', '?')})",
        f"numpy {meta.get('numpy_version', '?')}, Python {meta.get('python_version', '?')}",
        f"hssim {meta.get('hssim_version', '?')}",
        f"{months} months per size" if months else None,
        str(meta.get("date_utc", "?"))[:10],
    ]
    cli_ov = (cli or {}).get("meta", {}).get("overrides")
    if cli is not None:
        parts.append("CLI: `hssim" + ("".join(" " + o for o in cli_ov) if cli_ov else "") + "`")
    return "Machine: " + "; ".join(p for p in parts if p) + "."


def render(engine: dict | None, cli: dict | None) -> str:
    out = ["#### Throughput and memory", ""]
    out += throughput_table(engine)
    out += ["", "#### Start-up", ""]
    out += startup_table(engine, cli)
    out += ["", machine_line(engine, cli)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Print benchmark results as Markdown tables.")
    p.add_argument("--results", type=Path, default=HERE / "results", help="folder with engine.json and cli.json")
    p.add_argument("--engine", type=Path, default=None, help="engine result file (overrides --results)")
    p.add_argument("--cli", type=Path, default=None, help="CLI result file (overrides --results)")
    p.add_argument("--template", action="store_true", help="print the tables with every figure TBD")
    args = p.parse_args(argv)
    if args.template:
        engine, cli = None, None
    else:
        engine, cli = load_results(args.results) if args.results.is_dir() else (None, None)
        if args.engine is not None:
            engine = _read(args.engine)
        if args.cli is not None:
            cli = _read(args.cli)
    print(render(engine, cli))
    return 0


if __name__ == "__main__":
    sys.exit(main())
