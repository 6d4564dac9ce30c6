"""Normal-years targets: what a scenario's world looks like before any shock.

Each shipped scenario folder holds ``targets.csv``, one row per target::

    indicator,district,period,low,high,value,source,note

``indicator`` is a name of :data:`TARGET_INDICATORS`; ``district`` a district of the
scenario's ``districts.csv`` or ``all``; ``period`` is ``normal years`` (the months of a
run without storyline and without response that are away from the model's own random
droughts: see :func:`normal_months`) or ``all years`` (the whole horizon of such a run,
its droughts included); ``low`` and
``high`` the band the model must land in (either may be empty: no bound); ``value``
the published figure the band is built around (may be empty); ``source`` the
publisher, year and document, or ``assumed`` where the band is a modelling
judgement. An optional ``role`` column says what a fit may do with the row
(:data:`ROLES`: ``calibration``, the default, or ``validation``: held out, never used
by :mod:`hssim.calibrate`), and an optional ``storyline`` column names the dated storyline
whose hindcast a row with calendar months (``2021-04..2021-09``) in ``period`` is measured
on. Such crisis rows may also describe a crisis's shape (:data:`PATTERN_INDICATORS`: peak
level, peak timing, livestock lost). :func:`load_targets` checks the file as :func:`hssim.scenario.load_scenario`
checks the district table (every problem with its file, row and column, at once).

:func:`measure` turns the results of no-shock runs (several seeds) into the same
indicators, so a test or a user compares the two tables (:func:`compare`).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ScenarioError, ScenarioErrors
from .results import derived_sums
from .scenario import Scenario, resolve_scenario_path
from .state import DISTRICT_FIELDS
from .validate import year_month, year_month_text

__all__ = ["TARGET_INDICATORS", "TARGET_COLUMNS", "OPTIONAL_COLUMNS", "ROLES", "parse_calendar_period",
           "calendar_month", "horizon_months", "PERIODS", "HORIZON_INDICATORS", "DROUGHT_AFTERMATH_MONTHS", "Target",
           "load_targets", "normal_months", "measure", "compare", "PATTERN_INDICATORS"]

#: indicator -> what it measures (all from a no-shock run over the recorded horizon)
TARGET_INDICATORS: dict[str, str] = {
    "population_growth_pct_per_year": "growth of the people alive, first to last month, % per year (compound)",
    "cdr_per_10k_day": "crude death rate, all causes, deaths / 10,000 / day",
    "cdr_baseline_per_10k_day": "crude death rate from the background (baseline) hazard",
    "cdr_starvation_per_10k_day": "crude death rate from acute malnutrition and famine-level excess",
    "cdr_disease_per_10k_day": "crude death rate from the epidemic disease",
    "cdr_violence_per_10k_day": "crude death rate from violence",
    "starvation_death_share": "share of all deaths from acute malnutrition and famine-level excess",
    "ipc3plus_frac": "mean share of people in IPC-like phase 3 or worse",
    "ipc5_frac": "mean share of people in IPC-like phase 5",
    "acute_malnutrition_frac": "mean GAM (MAM or SAM) prevalence among under-fives",
    "sam_over_gam": "SAM prevalence / GAM prevalence (means over the horizon)",
    "poverty_frac": "mean share of people below the consumption poverty line",
    "displaced_frac": "mean share of people displaced",
    "conflict_events_per_month": "mean conflict events per month (the districts' sum for 'all')",
    "violence_deaths_per_event": "violence deaths (scaled to the real population) / conflict events over the horizon",
    "infections_per_1000_per_year": "new infections of the epidemic disease per 1,000 people per year",
    "household_size_start": "mean members alive per household with members, first month",
    "household_size_end": "mean members alive per household with members, last month",
    "households_died_out_frac": "share of households alive in the first month with nobody alive in the last",
    "real_population_start": "people the simulated population stands for (simulated people x real / simulated households), first month",
    # crisis patterns (dated periods only: see PATTERN_INDICATORS)
    "ipc3plus_frac_peak": "highest monthly share of people in IPC-like phase 3 or worse within the period",
    "acute_malnutrition_frac_peak": "highest monthly GAM prevalence among under-fives within the period",
    "ipc3plus_peak_month_index": "months from the period's first month to its month with the highest IPC3+ share "
                                 "(0 = the first month)",
    "livestock_loss_frac": "share of the livestock (TLU) held at the end of the month before the period that is "
                           "gone by the end of its last month (deaths, raids, sales and flight, net of births)",
}

TARGET_COLUMNS = ("indicator", "district", "period", "low", "high", "value", "source", "note")
#: columns a table may add: ``role`` (empty = calibration) and ``storyline`` (empty = the
#: no-shock run; else a storyline of ``configs/storyline/`` that replays a dated crisis)
OPTIONAL_COLUMNS = ("role", "storyline")
#: ``calibration``: a fit may use the target; ``validation``: held out, never used by a fit
ROLES = ("calibration", "validation")
#: indicators of a crisis's shape (peak level, peak timing, losses over it): measured on a
#: dated period of a storyline hindcast only
PATTERN_INDICATORS = frozenset({"ipc3plus_frac_peak", "acute_malnutrition_frac_peak", "ipc3plus_peak_month_index",
                                "livestock_loss_frac"})
#: "normal years": the district-months away from droughts (see :func:`normal_months`);
#: "all years": the whole horizon, the model's own random droughts included
PERIODS = ("normal years", "all years")


@dataclass(frozen=True)
class Target:
    """One row of ``targets.csv`` (``low``/``high``/``value`` NaN where empty)."""

    indicator: str
    district: str
    period: str
    low: float
    high: float
    value: float
    source: str
    note: str
    row: int
    role: str = "calibration"
    storyline: str = ""

    @property
    def calendar(self) -> tuple[int, int] | None:
        """(first, last) calendar month of a dated period as ``year * 12 + month - 1``;
        None for "normal years" and "all years"."""
        return parse_calendar_period(self.period)

    @property
    def assumed(self) -> bool:
        return self.source.strip().lower().startswith("assumed")

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the band (bounds inclusive; a NaN ``x`` never does)."""
        if not math.isfinite(x):
            return False
        return (math.isnan(self.low) or x >= self.low) and (math.isnan(self.high) or x <= self.high)


def load_targets(path: str | Path, scenario: Scenario | None = None, config_dirs=()) -> list[Target]:
    """Read and check ``targets.csv`` of a scenario folder (or a bare scenario name).

    ``config_dirs``: folders searched, before hssim's configs, for the storylines that
    crisis rows name (``<dir>/storyline/<name>.yaml``).

    Checked: missing and unknown columns, rows with too few or too many fields,
    unknown indicators and periods, districts not in the scenario (when given),
    numbers that are not numbers, a row without any bound, ``low > high``, an empty
    source, and a repeated (indicator, district, period).

    Raises
    ------
    ScenarioErrors  every problem with its file, row and column
    """
    folder = resolve_scenario_path(str(path))
    file = folder / "targets.csv"
    fname = str(file)
    if not file.is_file():
        raise ScenarioError(fname, "file not found (normal-years targets: indicator,district,period,low,high,value,source,note)")
    with open(file, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    if not rows:
        raise ScenarioError(fname, "empty file (a header row is expected)")
    header = [h.strip() for h in rows[0]]
    problems: list[ScenarioError] = []

    def problem(message: str, row: int | None = None, column: str | None = None) -> None:
        problems.append(ScenarioError(fname, message, row, column))

    for h in header:
        if h not in TARGET_COLUMNS + OPTIONAL_COLUMNS:
            problem(f"unknown column; allowed: {', '.join(TARGET_COLUMNS + OPTIONAL_COLUMNS)}", 1, h)
    for c in TARGET_COLUMNS:
        if c not in header:
            problem("required column missing", 1, c)
    if problems:
        raise ScenarioErrors(problems)
    districts = None if scenario is None else set(scenario.names)
    out: list[Target] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for i, r in enumerate(rows[1:]):
        rowno = i + 2
        if len(r) != len(header):
            problem(f"{len(r)} fields; the header has {len(header)}", rowno)
            continue
        cells = {h: c.strip() for h, c in zip(header, r)}
        ok = True
        if cells["indicator"] not in TARGET_INDICATORS:
            problem(f"{cells['indicator']!r} is not an indicator; allowed: {', '.join(TARGET_INDICATORS)}", rowno, "indicator")
            ok = False
        d = cells["district"]
        if not d:
            problem("empty; expected a district name or 'all'", rowno, "district")
            ok = False
        elif d != "all" and districts is not None and d not in districts:
            problem(f"{d!r} is not a district of the scenario", rowno, "district")
            ok = False
        storyline = cells.get("storyline", "")
        dated = parse_calendar_period(cells["period"])
        if cells["period"] not in PERIODS and dated is None:
            problem(f"{cells['period']!r} is not a period; allowed: {', '.join(PERIODS)}, or calendar months "
                    "'YYYY-MM..YYYY-MM' (first..last, with a storyline)", rowno, "period")
            ok = False
        elif dated is not None and dated[1] < dated[0]:
            problem(f"{cells['period']!r} ends before it starts", rowno, "period")
            ok = False
        elif dated is not None and not storyline:
            problem("a calendar period needs the storyline that replays it (column storyline)", rowno, "storyline")
            ok = False
        elif dated is None and cells["indicator"] in PATTERN_INDICATORS:
            problem(f"{cells['indicator']} describes a crisis's shape: a calendar period 'YYYY-MM..YYYY-MM' "
                    "with its storyline", rowno, "period")
            ok = False
        elif dated is not None and cells["indicator"] in HORIZON_INDICATORS:
            problem(f"{cells['indicator']} describes the whole horizon: period 'normal years' or 'all years'",
                    rowno, "period")
            ok = False
        if storyline and not _storyline_exists(storyline, config_dirs):
            problem(f"{storyline!r} is not a storyline of configs/storyline/ (or of a config folder given)",
                    rowno, "storyline")
            ok = False
        nums = {}
        for c in ("low", "high", "value"):
            t = cells[c]
            if t == "":
                nums[c] = math.nan
                continue
            try:
                nums[c] = float(t)
            except ValueError:
                problem(f"{t!r} is not a number", rowno, c)
                ok = False
                continue
            if not math.isfinite(nums[c]):
                problem(f"{t!r} is not a finite number", rowno, c)
                ok = False
        if ok and math.isnan(nums["low"]) and math.isnan(nums["high"]):
            problem("no bound; expected a number in low, high or both", rowno, "low")
            ok = False
        if ok and not math.isnan(nums["low"]) and not math.isnan(nums["high"]) and nums["low"] > nums["high"]:
            problem(f"low {nums['low']:g} is above high {nums['high']:g}", rowno, "low")
            ok = False
        if not cells["source"]:
            problem("empty; expected the publisher, year and document, or 'assumed'", rowno, "source")
            ok = False
        role = cells.get("role", "") or "calibration"
        if role not in ROLES:
            problem(f"{role!r} is not a role; allowed: {', '.join(ROLES)} (empty = calibration)", rowno, "role")
            ok = False
        key = (cells["indicator"], d, cells["period"], storyline)
        if key in seen:
            problem(f"the same indicator, district, period and storyline as row {seen[key]}", rowno, "indicator")
            ok = False
        else:
            seen[key] = rowno
        if ok:
            out.append(Target(cells["indicator"], d, cells["period"], nums["low"], nums["high"], nums["value"],
                              cells["source"], cells["note"], rowno, role, storyline))
    if problems:
        raise ScenarioErrors(problems)
    return out


def parse_calendar_period(period: str) -> tuple[int, int] | None:
    """``'YYYY-MM..YYYY-MM'`` -> (first, last) month counts (:func:`hssim.validate.year_month`);
    None otherwise."""
    parts = period.split("..")
    ends = [year_month(p) for p in parts] if len(parts) == 2 else [None]
    return None if None in ends else (ends[0], ends[1])


def _storyline_exists(name: str, config_dirs=()) -> bool:
    from .paths import group_file

    return group_file("storyline", name, config_dirs) is not None


def calendar_month(first_month: str, month: int) -> str:
    """'YYYY-MM' of 1-based horizon ``month`` in a run whose month 1 is ``first_month``."""
    return year_month_text(year_month(first_month) + month - 1)


def horizon_months(first_month: str, period: str) -> tuple[int, int]:
    """The 1-based horizon months (first, last) a dated ``period`` covers in a run whose
    horizon month 1 is the calendar month ``first_month`` ('YYYY-MM').

    Raises
    ------
    ValueError  when the period starts before horizon month 1.
    """
    start = year_month(first_month)
    a, b = parse_calendar_period(period)
    if a < start:
        raise ValueError(f"period {period} starts before the storyline's first month {first_month}")
    return a - start + 1, b - start + 1


#: indicators of the whole horizon whatever the period: growth, sizes and the scale of the
#: population describe the decade as a whole, droughts included
HORIZON_INDICATORS = frozenset({"population_growth_pct_per_year", "household_size_start", "household_size_end",
                                "households_died_out_frac", "real_population_start"})

#: "normal years" leave out a district's months in drought and this many months after
#: each (the next harvest and the herd's recovery): the published normal-years figures
#: (IPC analyses outside a crisis, surveys of ordinary years) describe such months
DROUGHT_AFTERMATH_MONTHS = 12


def normal_months(res) -> np.ndarray:
    """bool[months, D]: the district-months of a run that count as normal years.

    A month is left out when its district was in drought (the drought index at or
    below its threshold) that month or in any of the :data:`DROUGHT_AFTERMATH_MONTHS`
    before it (recorded months only: the spin-up is not looked at).
    """
    field_names = [f.name for f in DISTRICT_FIELDS]
    dry = res.district_series[:, :, field_names.index("in_drought")] > 0.5  # [M, D]
    affected = np.zeros_like(dry)
    for lag in range(DROUGHT_AFTERMATH_MONTHS + 1):
        affected[lag:] |= dry[: dry.shape[0] - lag]
    return ~affected


def _period_mask(res, period: str) -> np.ndarray:
    """bool[months, D]: the recorded district-months a period covers."""
    shape = res.district_series.shape[:2]
    if period == "normal years":
        return normal_months(res)
    if period == "all years":
        return np.ones(shape, bool)
    first = res.config["storyline"].get("first_month", "")
    if not first:
        raise ValueError(f"period {period!r} needs a dated storyline (storyline.first_month); the run has none")
    a, b = horizon_months(first, period)
    if b > shape[0]:
        raise ValueError(f"period {period} ends in horizon month {b}; the run has {shape[0]} months")
    mask = np.zeros(shape, bool)
    mask[a - 1 : b] = True
    return mask


def _one_run(res, district: str, real_per_sim: float, period: str) -> dict[str, float]:
    """The indicators of one run in one district (or 'all') over one period.

    Rates and shares pool the period's district-months (numerators and denominators
    summed over them); the whole-horizon indicators (:data:`HORIZON_INDICATORS`) read
    the region's or district's monthly series.
    """
    g = lambda k: res.indicator(k, district=district).to_numpy(dtype=np.float64)  # noqa: E731
    days = float(res.config["households"]["days_per_month"])
    cols = list(range(len(res.districts))) if district == "all" else [list(res.districts).index(district)]
    mask = _period_mask(res, period)[:, cols]
    sums = derived_sums(res.sums[:, cols].sum(axis=2))  # name -> [months, len(cols)]
    field_names = [f.name for f in DISTRICT_FIELDS]
    events = res.district_series[:, cols, field_names.index("conflict_events")]  # [months, len(cols)]

    def s(name: str) -> float:
        return float(sums[name][mask].sum())

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else math.nan

    out: dict[str, float] = {}
    person_days = s("people") * days
    deaths = s("deaths")
    out["cdr_per_10k_day"] = ratio(deaths, person_days) * 1e4
    for cause in ("baseline", "starvation", "disease", "violence"):
        out[f"cdr_{cause}_per_10k_day"] = ratio(s(f"deaths_{cause}"), person_days) * 1e4
    out["starvation_death_share"] = ratio(s("deaths_starvation"), deaths) if deaths > 0 else 0.0
    out["ipc3plus_frac"] = ratio(s("people_ipc3plus"), s("people"))
    out["ipc5_frac"] = ratio(s("people_ipc5"), s("people"))
    out["poverty_frac"] = ratio(s("people_poor"), s("people"))
    out["displaced_frac"] = ratio(s("people_displaced"), s("people"))
    out["acute_malnutrition_frac"] = ratio(s("u5_malnourished"), s("u5"))
    out["sam_over_gam"] = ratio(s("u5_sam"), s("u5_malnourished")) if s("u5_malnourished") > 0 else 0.0
    # events per month: each district's mean over its normal months, summed over districts
    n_months = mask.sum(axis=0)
    per_district = np.where(n_months > 0, (events * mask).sum(axis=0) / np.maximum(n_months, 1), np.nan)
    out["conflict_events_per_month"] = float(per_district.sum()) if n_months.any() else math.nan
    # deaths are counted among the simulated people, events in the real district: deaths
    # scaled to the real population, per event
    n_events = float((events * mask).sum())
    out["violence_deaths_per_event"] = s("deaths_violence") * real_per_sim / n_events if n_events > 0 else 0.0
    # person-months / 12 = person-years
    out["infections_per_1000_per_year"] = ratio(s("new_infections"), s("people") / 12.0) * 1000.0
    if period not in PERIODS:
        out.update(_patterns(sums, mask))

    # the whole horizon
    people = g("population")
    n = people.size
    out["population_growth_pct_per_year"] = 100.0 * ((people[-1] / people[0]) ** (12.0 / max(n - 1, 1)) - 1.0)
    hh = g("households")
    out["household_size_start"] = people[0] / hh[0]
    # people alive at the end: the last month's people less its deaths plus its births
    out["household_size_end"] = (people[-1] - g("deaths")[-1] + g("births")[-1]) / hh[-1]
    out["households_died_out_frac"] = 1.0 - hh[-1] / hh[0]
    out["real_population_start"] = people[0] * real_per_sim
    return out


def _patterns(sums: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, float]:
    """The crisis-shape indicators (:data:`PATTERN_INDICATORS`) over the months ``mask``
    covers (bool[months, districts]): each month's share pooled over its covered
    districts, then the peak over months; the livestock held before the first covered
    month against the end of the last one."""
    rows = np.flatnonzero(mask.any(axis=1))
    out = dict.fromkeys(PATTERN_INDICATORS, math.nan)
    if rows.size == 0:
        return out

    def monthly(num: str, den: str) -> np.ndarray:
        n = (sums[num] * mask).sum(axis=1)[rows]
        d = (sums[den] * mask).sum(axis=1)[rows]
        return np.where(d > 0, n / np.maximum(d, 1e-300), np.nan)

    ipc = monthly("people_ipc3plus", "people")
    gam = monthly("u5_malnourished", "u5")
    if np.isfinite(ipc).any():
        out["ipc3plus_frac_peak"] = float(np.nanmax(ipc))
        # the first month at the peak, counted from the period's first month
        out["ipc3plus_peak_month_index"] = float(rows[int(np.nanargmax(ipc))] - rows[0])
    if np.isfinite(gam).any():
        out["acute_malnutrition_frac_peak"] = float(np.nanmax(gam))
    # herds are recorded at the end of each month: the month before the period is its start
    herd = sums["herd_tlu_milli"]  # [months, districts]
    before = herd[max(rows[0] - 1, 0)][mask[rows[0]]].sum()
    after = herd[rows[-1]][mask[rows[-1]]].sum()
    out["livestock_loss_frac"] = float(1.0 - after / before) if before > 0 else math.nan
    return out


def measure(results, scenario: Scenario, districts=("all",), periods=PERIODS) -> pd.DataFrame:
    """The target indicators of no-shock runs, one column per run and their mean.

    Parameters
    ----------
    results : sequence of Results  runs of one scenario (different seeds)
    scenario : Scenario  its district table (for the real-population scale)
    districts : sequence of str  'all' and/or district names
    periods : sequence of str  of :data:`PERIODS`, or calendar periods of a dated storyline run
        (these add the crisis-shape :data:`PATTERN_INDICATORS`)

    Returns
    -------
    DataFrame indexed by (indicator, district, period), columns ``run0 .. runK-1`` and
    ``mean`` (the runs' mean, NaN-skipping: a run may have no normal month in a district)
    """
    rows = {}
    for period in periods:
        for district in districts:
            per_run = []
            for res in results:
                real_per_sim = float(scenario.households.sum()) / float(res.config["population"]["households"])
                if district != "all":
                    d = scenario.names.index(district)
                    real_per_sim = float(scenario.households[d]) / _simulated_households(res, district)
                per_run.append(_one_run(res, district, real_per_sim, period))
            for name in TARGET_INDICATORS:
                if name in PATTERN_INDICATORS and period in PERIODS:
                    continue  # a crisis's shape: dated periods only
                rows[(name, district, period)] = [r[name] for r in per_run]
    df = pd.DataFrame.from_dict(rows, orient="index", columns=[f"run{k}" for k in range(len(results))])
    df.index = pd.MultiIndex.from_tuples(df.index, names=["indicator", "district", "period"])
    df["mean"] = df.mean(axis=1)
    return df


def _simulated_households(res, district: str) -> float:
    return float(res.indicator("households", district=district).to_numpy()[0])


def compare(targets: list[Target], measured: pd.DataFrame) -> pd.DataFrame:
    """One row per target: the band, the model's mean and whether it lies in the band."""
    out = []
    for t in targets:
        x = float(measured.loc[(t.indicator, t.district, t.period), "mean"])
        out.append({"indicator": t.indicator, "district": t.district, "period": t.period, "low": t.low, "high": t.high, "value": t.value,
                    "model": x, "ok": t.contains(x), "assumed": t.assumed, "role": t.role, "row": t.row})
    return pd.DataFrame(out)
