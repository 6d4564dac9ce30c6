"""The golden baseline: a small set of configurations whose results are stored here.

Each configuration in :data:`CONFIGS` has a record ``tests/golden/<name>.json`` with
its overrides, its summary (``Results.summary``, every value as ``repr`` text, so it
is compared exactly) and a SHA-256 of each of its tidy frames (``timeseries``,
``hs_distribution()``, ``district_risk()`` and each module table, ``tables.<name>``).
``tests/test_golden.py`` runs every configuration and compares; any difference in any
bit of any number fails it, naming the configuration, the summary keys and the frames
(for the time series, the indicators) that differ.

When a change is *meant* to alter results, regenerate the records (from the repository
root) and commit them with the change::

    .venv/bin/python -m tests.golden regenerate              # every configuration
    .venv/bin/python -m tests.golden regenerate NAME [NAME]  # only these

``regenerate`` prints, per configuration, what moved. ``.venv/bin/python -m tests.golden
check`` compares without pytest; ``list`` prints the configurations.

Canonical form of a frame (what is hashed): a header line of ``name:kind`` for every
column, columns sorted by name, kind one of ``int``, ``float``, ``bool``, ``text``
(categorical and string columns are ``text``; the integer width and the category
order are not part of the result); then one line per row, tab-separated, the lines
sorted (so the hash describes the rows, not their order). Floats are written with
``repr``, the shortest text that reads back to the same double (``-0.0`` as ``0.0``;
``nan``, ``inf``); integers and booleans as Python writes them; text as JSON strings;
missing values as ``null``. A frame's record also holds its row count, its columns
and, for a frame with an ``indicator`` column, one short hash per indicator, so a
mismatch names what changed. The model gives identical results at any thread count,
so the records do not depend on ``NUMBA_NUM_THREADS``.

This module uses only hssim's public API (``compose``, ``run`` and ``Results``), so it
keeps working while the package is reorganised underneath.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

__all__ = ["CONFIGS", "GOLDEN_DIR", "REGENERATE", "Golden", "by_name", "compose_overrides", "differences",
           "fingerprint", "frame_record", "load", "main", "record_of", "report", "results_of", "write"]

GOLDEN_DIR = Path(__file__).resolve().parent
#: the documented command (run from the repository root)
REGENERATE = ".venv/bin/python -m tests.golden regenerate"
#: the placeholder for this folder in an override (the custom district table lives here)
HERE = "{golden}"

#: every configuration: small (a few hundred households, 24-30 months) and seeded
BASE = ("seed=42", "population.households=400", "months=24", "spinup_months=6")
_NO_DROUGHT = "hazards.drought.enabled=false"
_NO_CONFLICT = "hazards.conflict.enabled=false"
_NO_DISEASE = "hazards/disease=none"


@dataclass(frozen=True)
class Golden:
    """One golden configuration: a name (its record's file name), why it is in the set,
    and its overrides (on top of :data:`BASE`; ``{golden}`` stands for this folder)."""

    name: str
    why: str
    overrides: tuple[str, ...]

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"{self.name}.json"

    def all_overrides(self) -> list[str]:
        """:data:`BASE` (less the keys this configuration sets itself), then its own overrides."""
        own = {o.split("=", 1)[0] for o in self.overrides}
        return [*(o for o in BASE if o.split("=", 1)[0] not in own), *self.overrides]


CONFIGS: tuple[Golden, ...] = (
    Golden("synthetic_all_hazards",
           "every hazard on together (drought, conflict, cholera), no response; cholera imported twice a "
           "month so that outbreaks start in a small population",
           ("hazards.disease.importations_per_month=0.5",)),
    Golden("synthetic_drought_only", "drought alone", (_NO_CONFLICT, _NO_DISEASE)),
    Golden("synthetic_conflict_only", "conflict alone", (_NO_DROUGHT, _NO_DISEASE)),
    Golden("synthetic_disease_only", "disease alone (the measles preset, which spreads without the other hazards)",
           (_NO_DROUGHT, _NO_CONFLICT, "hazards/disease=measles")),
    Golden("synthetic_no_hazards", "no hazard at all: the households' own dynamics",
           (_NO_DROUGHT, _NO_CONFLICT, _NO_DISEASE)),
    Golden("synthetic_reactive_siloed", "preset reactive_siloed in the two_failed_seasons storyline",
           ("months=30", "storyline=two_failed_seasons", "policy=reactive_siloed")),
    Golden("synthetic_reactive_integrated", "preset reactive_integrated in the same world as reactive_siloed",
           ("months=30", "storyline=two_failed_seasons", "policy=reactive_integrated")),
    Golden("turkana_anticipatory_siloed",
           "shipped scenario turkana (cholera preset) in its 2016-17 storyline, preset anticipatory_siloed",
           ("scenario=turkana", "population.households=300", "storyline=turkana_2016_2017",
            "policy=anticipatory_siloed")),
    Golden("turkana_anticipatory_integrated", "preset anticipatory_integrated in the same world",
           ("scenario=turkana", "population.households=300", "storyline=turkana_2016_2017",
            "policy=anticipatory_integrated")),
    Golden("lesotho_reactive_integrated",
           "shipped scenario lesotho (no disease preset; starts in July) in its 2015-16 storyline, reactive response",
           ("scenario=lesotho", "storyline=lesotho_2015_2016", "policy=reactive_integrated")),
    Golden("grand_sud_anticipatory_siloed",
           "shipped scenario grand_sud (district-level storyline events) in its 2020-21 storyline, "
           "anticipatory response",
           ("scenario=grand_sud", "storyline=grand_sud_2020_2021", "policy=anticipatory_siloed")),
    Golden("custom_table",
           "a custom district table (tests/golden/custom_region: 4 districts, optional columns left empty in "
           "one row, wage_index), starting in October, anticipatory integrated response",
           ("scenario=custom", f"scenario.path={HERE}/custom_region", "scenario.start_calendar_month=10",
            "population.households=300", "policy=anticipatory_integrated")),
)


def by_name(names: Iterable[str] | None = None) -> list[Golden]:
    """The configurations called ``names`` (all when None); unknown names raise KeyError."""
    if not names:
        return list(CONFIGS)
    known = {g.name: g for g in CONFIGS}
    missing = [n for n in names if n not in known]
    if missing:
        raise KeyError(f"no golden configuration {', '.join(missing)} (known: {', '.join(known)})")
    return [known[n] for n in names]


def _hydra_quote(text: str) -> str:
    """``text`` as a single-quoted Hydra override value (a path with spaces or commas)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def compose_overrides(golden: Golden) -> list[str]:
    """The Hydra overrides of ``golden``, ``{golden}`` replaced by this folder's path."""
    out = []
    for o in golden.all_overrides():
        if HERE in o:
            key, value = o.split("=", 1)
            o = f"{key}={_hydra_quote(value.replace(HERE, str(GOLDEN_DIR)))}"
        out.append(o)
    return out


def results_of(golden: Golden):
    """Run ``golden`` with the public API; its :class:`hssim.Results`."""
    import hssim

    return hssim.run(hssim.compose(compose_overrides(golden)))


# ---- canonical form ------------------------------------------------------------------


def _kind(col: pd.Series) -> str:
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "text"


def _cells(col: pd.Series, kind: str) -> list[str]:
    """The column's values as canonical text (see the module docstring)."""
    if kind == "float":
        values = np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64) + 0.0  # -0.0 -> 0.0
        return [repr(x) for x in values.tolist()]
    if kind == "text":
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        text = np.array([json.dumps(str(u), ensure_ascii=False) for u in uniques] + ["null"], dtype=object)
        return text[codes].tolist()  # code -1 (missing) takes the last entry
    values, missing = col.astype(object).to_numpy(), pd.isna(col).to_numpy()
    if kind == "int":
        return ["null" if m else str(int(v)) for v, m in zip(values, missing)]
    return ["null" if m else str(bool(v)) for v, m in zip(values, missing)]


def frame_record(df: pd.DataFrame, part_by: str = "indicator") -> dict[str, Any]:
    """Row count, columns, SHA-256 of the canonical form and, when the frame has a
    ``part_by`` column, a short hash of each of its values' rows."""
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    names = sorted(map(str, df.columns))
    if len(set(names)) != len(names):
        raise ValueError(f"repeated column names {names}")
    by_name_ = {str(c): df[c] for c in df.columns}
    kinds = {n: _kind(by_name_[n]) for n in names}
    columns = [_cells(by_name_[n], kinds[n]) for n in names]
    rows = ["\t".join(r) for r in zip(*columns)] if names else []
    header = "\t".join(f"{n}:{kinds[n]}" for n in names)

    def digest(lines: list[str]) -> str:
        h = hashlib.sha256(header.encode())
        for line in sorted(lines):
            h.update(b"\n")
            h.update(line.encode())
        return h.hexdigest()

    out: dict[str, Any] = {"rows": len(df), "columns": kinds, "sha256": digest(rows)}
    if part_by in names:
        groups: dict[str, list[str]] = {}
        for key, row in zip(columns[names.index(part_by)], rows):
            groups.setdefault(json.loads(key) if key != "null" else "null", []).append(row)
        out["parts"] = {k: digest(v)[:16] for k, v in sorted(groups.items())}
    return out


def _summary_text(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value == 0.0:
        value = 0.0  # -0.0 -> 0.0
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def fingerprint(res) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(summary as repr text, frame name -> :func:`frame_record`) of a run's results."""
    summary = {k: _summary_text(v) for k, v in sorted(res.summary.items())}
    frames = {"timeseries": res.timeseries, "hs_distribution": res.hs_distribution(),
              "district_risk": res.district_risk(), **{f"tables.{k}": v for k, v in res.tables.items()}}
    return summary, {name: frame_record(frames[name]) for name in sorted(frames)}


def record_of(golden: Golden, res) -> dict[str, Any]:
    """The JSON record of ``golden`` run to ``res``."""
    summary, frames = fingerprint(res)
    return {
        "name": golden.name,
        "why": golden.why,
        "overrides": golden.all_overrides(),
        "summary": summary,
        "frames": frames,
    }


# ---- files ---------------------------------------------------------------------------


def load(golden: Golden) -> dict[str, Any] | None:
    """The stored record of ``golden`` (None when there is none)."""
    try:
        return json.loads(golden.path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write(golden: Golden, record: dict[str, Any]) -> None:
    """Store ``record`` through a temporary name in the same folder, then rename."""
    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{golden.path.name}.", suffix=".tmp", dir=GOLDEN_DIR)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, golden.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- comparison ----------------------------------------------------------------------


def _listed(items: list[str], limit: int = 12) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def differences(expected: dict[str, Any] | None, actual: dict[str, Any]) -> list[str]:
    """What differs between a stored record and a fresh one, one line each (empty: identical)."""
    if expected is None:
        return ["no stored record"]
    out: list[str] = []
    if expected.get("overrides") != actual["overrides"]:
        out.append(f"overrides: stored {expected.get('overrides')}, configured {actual['overrides']}")
    es, as_ = expected.get("summary", {}), actual["summary"]
    for key in sorted(set(es) | set(as_)):
        if key not in as_:
            out.append(f"summary[{key!r}]: stored {es[key]}, no longer produced")
        elif key not in es:
            out.append(f"summary[{key!r}]: new, {as_[key]}")
        elif es[key] != as_[key]:
            out.append(f"summary[{key!r}]: stored {es[key]}, now {as_[key]}")
    ef, af = expected.get("frames", {}), actual["frames"]
    for name in sorted(set(ef) | set(af)):
        if name not in af:
            out.append(f"frame {name}: no longer produced")
            continue
        if name not in ef:
            out.append(f"frame {name}: new ({af[name]['rows']} rows)")
            continue
        e, a = ef[name], af[name]
        if e["sha256"] == a["sha256"]:
            continue
        what = []
        if e["rows"] != a["rows"]:
            what.append(f"rows {e['rows']} -> {a['rows']}")
        if e["columns"] != a["columns"]:
            what.append(f"columns {e['columns']} -> {a['columns']}")
        ep, ap = e.get("parts", {}), a.get("parts", {})
        changed = sorted(k for k in set(ep) | set(ap) if ep.get(k) != ap.get(k))
        if changed:
            what.append(f"differs in {_listed(changed)}")
        out.append(f"frame {name}: " + ("; ".join(what) if what else "values differ"))
    return out


def report(golden: Golden, diffs: list[str]) -> str:
    """The message of a mismatch: which configuration, what differs, how to regenerate."""
    lines = [f"golden configuration {golden.name!r} ({golden.why}) differs from "
             f"tests/golden/{golden.path.name}:", *[f"  {d}" for d in diffs],
             f"If the change is meant to alter results, regenerate: {REGENERATE} {golden.name}"
             f"  (or without a name for every configuration)"]
    return "\n".join(lines)


# ---- command line --------------------------------------------------------------------


def _regenerate(names: list[str]) -> int:
    for golden in by_name(names):
        record = record_of(golden, results_of(golden))
        diffs = differences(load(golden), record)
        write(golden, record)
        if diffs:
            print(f"{golden.name}: written; changed:", *[f"  {d}" for d in diffs], sep="\n", flush=True)
        else:
            print(f"{golden.name}: unchanged", flush=True)
    stale = sorted(p.name for p in GOLDEN_DIR.glob("*.json") if p.stem not in {g.name for g in CONFIGS})
    if stale:
        print(f"records of no configuration (remove them): {', '.join(stale)}")
    return 0


def _check(names: list[str]) -> int:
    failed = 0
    for golden in by_name(names):
        diffs = differences(load(golden), record_of(golden, results_of(golden)))
        print(report(golden, diffs) if diffs else f"{golden.name}: identical", flush=True)
        failed += bool(diffs)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.golden {regenerate,check,list} [NAME ...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m tests.golden {regenerate,check,list} [NAME ...]"
    if not args or args[0] not in ("regenerate", "check", "list"):
        print(usage, file=sys.stderr)
        return 2
    command, names = args[0], args[1:]
    try:
        if command == "list":
            for g in by_name(names):
                print(f"{g.name}: {g.why}\n  {' '.join(g.all_overrides())}")
            return 0
        return _regenerate(names) if command == "regenerate" else _check(names)
    except KeyError as exc:
        print(f"python -m tests.golden: {exc.args[0]}", file=sys.stderr)
        return 2
