"""District tables: read, check and hold a scenario's input data.

A scenario is a folder with

``districts.csv``
    one row per district (columns below);
``adjacency.csv``
    one row per pair of neighbouring districts: ``district_a,district_b``.

Every problem is reported with the file, the row (as a spreadsheet numbers it,
header = row 1) and the column, before any simulation starts.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ScenarioError, ScenarioErrors
from .paths import scenarios_dir
from .state import LIVELIHOODS

__all__ = ["Scenario", "load_scenario", "resolve_scenario_path", "DISTRICT_COLUMNS"]

#: district names the results use for totals: a district cannot be called so
RESERVED_NAMES = ("all",)
#: longest cell accepted: a name or a number longer than this is a pasting accident
MAX_CELL_CHARS = 100

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# column -> (kind, lo, hi, default or None if required, description)
DISTRICT_COLUMNS: dict[str, tuple] = {
    "district": ("name", None, None, None, "unique district name"),
    "households": ("float", 1.0, 1e9, None, "households living in the district (weights the simulated population)"),
    "x_km": ("float", -1e5, 1e5, None, "centroid easting, km (any local origin)"),
    "y_km": ("float", -1e5, 1e5, None, "centroid northing, km"),
    **{f"share_{lv}": ("float", 0.0, 1.0, None, f"share of households whose main livelihood is {lv}") for lv in LIVELIHOODS},
    "poverty_rate": ("float", 0.0, 1.0, None, "share of households below the poverty line at baseline"),
    "market_access": ("float", 0.0, 1.0, None, "integration with regional markets, 0 isolated .. 1 fully integrated"),
    "health_access": ("float", 0.0, 1.0, 0.5, "share of people within reach of a functioning health facility"),
    "female_head_share": ("float", 0.0, 1.0, 0.3, "share of female-headed households"),
    "marginalised_share": ("float", 0.0, 1.0, 0.15, "share of households of marginalised groups"),
    "conflict_baseline": ("float", 0.0, 1000.0, 0.5, "conflict events per month in calm years (e.g. ACLED average)"),
    "rule_of_law": ("float", 0.0, 1.0, 0.5, "security and justice capacity, 0 none .. 1 strong"),
    "camp_capacity": ("float", 0.0, 1e9, 0.0, "households a displacement camp in the district can hold (0 = no camp)"),
    "people_per_household": ("float", 1.0, 15.0, math.nan,
                             "mean household size, people (census); default: population.mean_household_size (5.5)"),
    "birth_rate_per_1000": ("float", 0.0, 80.0, 35.0, "crude birth rate, births per 1,000 people per year"),
    "death_rate_per_1000": ("float", 0.0, 100.0, 8.0, "crude death rate in normal years, deaths per 1,000 people per year"),
    "u5_mortality_per_1000": ("float", 0.0, 500.0, 75.0,
                              "under-five mortality, deaths before age five per 1,000 live births"),
    "wage_index": ("float", 0.0, 20.0, 1.0,
                   "casual labour daily wage relative to the run's households.wage_usd_per_day (2.5 USD by default)"),
    **{f"rain_{m}": ("float", 0.0, 2000.0, None, f"mean rainfall in {m.capitalize()}, mm") for m in MONTHS},
}


@dataclass(frozen=True)
class Scenario:
    """Validated district data. Arrays are indexed by district in table order.

    Attributes
    ----------
    names : tuple[str, ...]  district names, length D
    households : float64[D]  households per district (weights)
    xy_km : float64[D, 2]  centroids
    livelihood_shares : float64[D, 4]  pastoral, agro-pastoral, crop, urban
    poverty_rate, market_access, health_access, female_head_share, marginalised_share : float64[D]
    conflict_baseline, rule_of_law, camp_capacity : float64[D]
    people_per_household : float64[D]  mean household size (NaN: the run's
        ``population.mean_household_size``)
    birth_rate_per_1000, death_rate_per_1000 : float64[D]  crude rates, per 1,000 people per year
    u5_mortality_per_1000 : float64[D]  under-five mortality per 1,000 live births
    wage_index : float64[D]  casual daily wage relative to ``households.wage_usd_per_day``
    rain_clim_mm : float64[D, 12]  mean monthly rainfall by calendar month (Jan..Dec)
    adjacency : bool[D, D]  symmetric, no self loops
    source : str  folder the data came from
    """

    names: tuple[str, ...]
    households: np.ndarray
    xy_km: np.ndarray
    livelihood_shares: np.ndarray
    poverty_rate: np.ndarray
    market_access: np.ndarray
    health_access: np.ndarray
    female_head_share: np.ndarray
    marginalised_share: np.ndarray
    conflict_baseline: np.ndarray
    rule_of_law: np.ndarray
    camp_capacity: np.ndarray
    rain_clim_mm: np.ndarray
    adjacency: np.ndarray
    source: str
    people_per_household: np.ndarray | None = None
    birth_rate_per_1000: np.ndarray | None = None
    death_rate_per_1000: np.ndarray | None = None
    u5_mortality_per_1000: np.ndarray | None = None
    wage_index: np.ndarray | None = None

    def __post_init__(self):
        # tables built in code without the demographic columns take the loader's defaults
        D = len(self.names)
        for name in ("people_per_household", "birth_rate_per_1000", "death_rate_per_1000", "u5_mortality_per_1000",
                     "wage_index"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(D, float(DISTRICT_COLUMNS[name][3])))

    @property
    def n_districts(self) -> int:
        return len(self.names)

    @property
    def distance_km(self) -> np.ndarray:
        """float64[D, D] distances between district centroids."""
        return np.linalg.norm(self.xy_km[:, None, :] - self.xy_km[None, :, :], axis=-1)


def resolve_scenario_path(path: str) -> Path:
    """A bare name is a folder of hssim's ``scenarios/``; anything else is a path."""
    p = Path(path).expanduser()
    if not p.is_absolute() and len(p.parts) == 1:
        builtin = scenarios_dir() / p
        if builtin.is_dir():
            return builtin
    return p.resolve()


def _read_csv(file: Path) -> tuple[list[str], list[list[str]]]:
    if not file.is_file():
        raise ScenarioError(str(file), "file not found")
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(file), f"not UTF-8 text ({exc.reason})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are allowed
    if not rows:
        raise ScenarioError(str(file), "empty file (a header row is expected)")
    header = [h.strip() for h in rows[0]]
    return header, rows[1:]


def _parse(file: str, row: int, col: str, text: str, spec: tuple):
    kind, lo, hi, default, desc = spec
    text = text.strip()
    if len(text) > MAX_CELL_CHARS:
        raise ScenarioError(file, f"{len(text)} characters; expected at most {MAX_CELL_CHARS} ({desc})", row, col)
    if kind == "name":
        if not text:
            raise ScenarioError(file, f"empty; expected {desc}", row, col)
        if text.lower() in RESERVED_NAMES:
            raise ScenarioError(file, f"{text!r} is reserved for totals in the results; expected another name", row, col)
        if any(not c.isprintable() for c in text):
            raise ScenarioError(file, f"{text!r} holds control characters; expected {desc}", row, col)
        return text
    if text == "":
        if default is not None:
            return float(default)
        raise ScenarioError(file, f"empty; expected {desc}", row, col)
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(file, f"{text!r} is not a number; expected {desc}", row, col) from None
    if not math.isfinite(value):
        raise ScenarioError(file, f"{text!r} is not a finite number", row, col)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if lo is not None and hi is not None else (f">= {lo}" if lo is not None else f"<= {hi}")
        raise ScenarioError(file, f"{text} is out of range; expected {rng} ({desc})", row, col)
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario folder.

    Every problem is collected (all cells of all rows of both files) before
    anything is raised, so a planner fixes a file in one pass.

    Raises
    ------
    ScenarioErrors
        listing every problem with its file, row and column (``.problems``); a
        missing folder or file, or an unreadable one, stops the reading at once.
    """
    folder = resolve_scenario_path(str(path))
    if not folder.is_dir():
        raise ScenarioError(str(folder), "scenario folder not found (expected districts.csv and adjacency.csv in it)")
    problems: list[ScenarioError] = []

    def problem(file: str, message: str, row: int | None = None, column: str | None = None) -> None:
        problems.append(ScenarioError(file, message, row, column))

    dfile = folder / "districts.csv"
    header, rows = _read_csv(dfile)
    fname = str(dfile)
    for h in dict.fromkeys(header):
        if h not in DISTRICT_COLUMNS:
            problem(fname, f"unknown column; allowed: {', '.join(DISTRICT_COLUMNS)}", 1, h)
        elif header.count(h) > 1:
            problem(fname, "column appears more than once", 1, h)
    for col, spec in DISTRICT_COLUMNS.items():
        if col not in header and spec[3] is None:
            problem(fname, f"required column missing ({spec[4]})", 1, col)
    if not rows:
        problem(fname, "no districts (at least one data row is expected)")
    values: dict[str, list] = {c: [] for c in DISTRICT_COLUMNS}
    bad_rows: set[int] = set()
    for i, r in enumerate(rows):
        rowno = i + 2
        if len(r) != len(header):
            problem(fname, f"{len(r)} fields; the header has {len(header)}", rowno)
            bad_rows.add(rowno)
            continue
        cells = dict(zip(header, r))
        row_ok = True
        for col, spec in DISTRICT_COLUMNS.items():
            if col not in header and spec[3] is None:
                values[col].append(math.nan)  # reported once, in the header
                row_ok = False
                continue
            try:
                values[col].append(_parse(fname, rowno, col, cells.get(col, ""), spec))
            except ScenarioError as exc:
                problems.append(exc)
                values[col].append(math.nan)
                row_ok = False
        if not row_ok:
            bad_rows.add(rowno)
            continue
        shares = [values[f"share_{lv}"][-1] for lv in LIVELIHOODS]
        if abs(sum(shares) - 1.0) > 1e-3:
            problem(fname, f"livelihood shares sum to {sum(shares):.4g}; expected 1 (within 0.001)", rowno, "share_pastoral")
        if sum(values[f"rain_{m}"][-1] for m in MONTHS) <= 0:
            problem(fname, "no rain in any month; expected a positive annual total", rowno, "rain_jan")
    names = values["district"]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if not isinstance(n, str):
            continue
        if n in seen:
            problem(fname, f"district {n!r} already named in row {seen[n]}", i + 2, "district")
        else:
            seen[n] = i + 2

    D = len(names)
    adjacency = np.zeros((D, D), dtype=bool)
    afile = folder / "adjacency.csv"
    aheader, arows = _read_csv(afile)
    aname = str(afile)
    a_ok = True
    for col in ("district_a", "district_b"):
        if col not in aheader:
            problem(aname, "required column missing (a district name)", 1, col)
            a_ok = False
    for h in aheader:
        if h not in ("district_a", "district_b"):
            problem(aname, "unknown column; allowed: district_a, district_b", 1, h)
    index = {n: i for i, n in enumerate(names) if isinstance(n, str)}
    k = header.index("district") if "district" in header else None
    unparsed = {rows[r - 2][k].strip() for r in bad_rows if k is not None and len(rows[r - 2]) > k}
    for i, r in enumerate(arows if a_ok else []):
        rowno = i + 2
        if len(r) != len(aheader):
            problem(aname, f"{len(r)} fields; the header has {len(aheader)}", rowno)
            continue
        cells = dict(zip(aheader, (c.strip() for c in r)))
        ab = []
        for col in ("district_a", "district_b"):
            if cells[col] in index:
                ab.append(index[cells[col]])
            elif cells[col] in unparsed:
                pass  # its row in districts.csv is malformed, reported above
            else:
                problem(aname, f"{cells[col]!r} is not a district of {dfile.name}", rowno, col)
        if len(ab) == 2:
            if ab[0] == ab[1]:
                problem(aname, "a district cannot neighbour itself", rowno, "district_b")
            else:
                adjacency[ab[0], ab[1]] = adjacency[ab[1], ab[0]] = True
    if problems:
        raise ScenarioErrors(problems)

    arr = lambda c: np.asarray(values[c], dtype=np.float64)  # noqa: E731
    return Scenario(
        names=tuple(names),
        households=arr("households"),
        xy_km=np.stack([arr("x_km"), arr("y_km")], axis=1),
        livelihood_shares=np.stack([arr(f"share_{lv}") for lv in LIVELIHOODS], axis=1),
        poverty_rate=arr("poverty_rate"),
        market_access=arr("market_access"),
        health_access=arr("health_access"),
        female_head_share=arr("female_head_share"),
        marginalised_share=arr("marginalised_share"),
        conflict_baseline=arr("conflict_baseline"),
        rule_of_law=arr("rule_of_law"),
        camp_capacity=arr("camp_capacity"),
        rain_clim_mm=np.stack([arr(f"rain_{m}") for m in MONTHS], axis=1),
        adjacency=adjacency,
        source=str(folder),
        people_per_household=arr("people_per_household"),
        birth_rate_per_1000=arr("birth_rate_per_1000"),
        death_rate_per_1000=arr("death_rate_per_1000"),
        u5_mortality_per_1000=arr("u5_mortality_per_1000"),
        wage_index=arr("wage_index"),
    )
