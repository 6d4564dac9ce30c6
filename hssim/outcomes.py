"""The outcome catalogue: every outcome of a run, defined once.

An :class:`Outcome` holds a name, its unit, a description, which direction is better,
how it scales to the scenario's real population and how it is computed from a run
(a :class:`OutcomeInputs`). A :class:`Reporter` is the same for one month while a run is
stepped (the Mesa adapter's DataCollector, the dashboard). Everything that turns a run
into numbers reads this module:

- :func:`summary_values`: ``Results.summary`` (the engine-derived part; modules such as
  the response add their own entries, described here under :data:`RESPONSE_OUTCOMES`);
- :func:`run_outcomes`: the outcomes of one finished run that analyses compare
  (:mod:`hssim.polyrisk`, :mod:`hssim.compare`), :data:`RUN_OUTCOMES` then
  :data:`RESPONSE_OUTCOMES`;
- :func:`value`: one outcome by name (the sweep's ``summary:`` outputs);
- :func:`month_reporters`: the monthly reporters :data:`REPORTERS` of a stepped engine,
  and :func:`district_reporters` by district.

Scaling (:attr:`Outcome.scaling`):

``count``   a count of simulated people, households or person-months: multiply by
            ``real_households_per_simulated`` for the real population
``money``   USD for the real population already (costs are paid for real households)
``rate``    a share, mean, per-capita rate or index: the same for any population size
``none``    not scaled: settings, region-level events (conflict events, district-months)
            and the scale factor itself

Person-months (``ipc3plus_person_months``, ``displaced_person_months``, ...) are the
recorded integer people counts summed over the months of the horizon. A run-like
object without raw sums (only a tidy time series) falls back on share x population
from the time series, which equals the count up to rounding.

This module sits in the results layer: it imports nothing above it (no analysis,
report, runs layer or API).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .state import DISTRICT_FIELDS
from .sums import N_SUMS, derived_sums
from .sums import I as SUM_INDEX

__all__ = [
    "CATALOGUE",
    "DISTRICT_REPORTERS",
    "KEY_OUTCOMES",
    "MONEY_OUTCOMES",
    "REPORTERS",
    "RESPONSE_OUTCOMES",
    "RUN_OUTCOMES",
    "SCALE",
    "SUMMARY_OUTCOMES",
    "MonthRecord",
    "MonthlyReporting",
    "Outcome",
    "OutcomeInputs",
    "Reporter",
    "describe",
    "district_reporters",
    "higher_is_better",
    "month_reporters",
    "programme_costs",
    "regional",
    "run_outcomes",
    "summary_values",
    "to_real",
    "value",
]

#: summary entry holding real households per simulated household (the ``count`` scale)
SCALE = "real_households_per_simulated"
BETTER = ("lower", "higher", "neither")
SCALINGS = ("count", "money", "rate", "none")


@dataclass(frozen=True)
class RunSettings:
    """The few config values outcomes need (plain numbers, from a Config or its dict)."""

    households: int  # simulated households asked for (``population.households``)
    months: int  # horizon, months
    days_per_month: float
    food_price_usd_per_kg: float  # normal cereal price
    kcal_per_person_day: float
    kcal_per_kg: float

    @classmethod
    def of(cls, cfg: Any) -> "RunSettings":
        """From a validated Config (attributes) or its plain dict (keys)."""
        get = (lambda d, k: d[k]) if isinstance(cfg, Mapping) else getattr
        hh, fs, pop = get(cfg, "households"), get(cfg, "food_system"), get(cfg, "population")
        return cls(
            households=int(get(pop, "households")),
            months=int(get(cfg, "months")),
            days_per_month=get(hh, "days_per_month"),
            food_price_usd_per_kg=get(fs, "food_price_usd_per_kg"),
            kcal_per_person_day=get(hh, "kcal_per_person_day"),
            kcal_per_kg=get(hh, "kcal_per_kg"),
        )


@dataclass
class OutcomeInputs:
    """What a run's outcomes are computed from.

    Attributes
    ----------
    regional : DataFrame  index month, one column per indicator: the region totals
        (district ``all``, group ``all``) of the tidy time series
    region : dict name -> float64[months] or None  derived sums over districts and cells
        (:func:`hssim.sums.derived_sums`); None for a run-like object without raw sums
    by_district : dict name -> float64[months, D] or None  derived sums over cells
    district : float64[months, D, n_fields] or None  district conditions
    district_fields : list of str  field names of ``district``'s last axis
    settings : RunSettings or None
    simulated_per_real : float or None  simulated / real households (known while the
        engine is at hand; money outcomes of a finished run are read from ``recorded``)
    recorded : mapping  what the run already recorded (``Results.summary``, with the
        modules' entries); empty while the summary is being built
    tables : mapping  the run's module tables (``costs``, ...)
    timeseries : DataFrame or None  the tidy frame (district sums of a run without raw sums)
    """

    regional: pd.DataFrame
    region: dict[str, np.ndarray] | None = None
    by_district: dict[str, np.ndarray] | None = None
    district: np.ndarray | None = field(default=None, repr=False)
    district_fields: list[str] = field(default_factory=list)
    settings: RunSettings | None = None
    simulated_per_real: float | None = None
    recorded: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, Any] = field(default_factory=dict, repr=False)
    timeseries: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def of(cls, results: Any) -> "OutcomeInputs":
        """The record of a finished run: a :class:`hssim.results.Results`, or any object
        with a tidy ``timeseries`` and optionally ``summary``, ``sums``,
        ``district_series``, ``config`` and ``tables``."""
        if isinstance(results, OutcomeInputs):
            return results
        # a Results carries its regional totals: its tidy frame need not be built
        reg = getattr(results, "regional", None)
        ts = None if isinstance(reg, pd.DataFrame) else results.timeseries
        sums = getattr(results, "sums", None)
        region = by_district = None
        if isinstance(sums, np.ndarray) and sums.ndim == 4 and sums.shape[-1] == N_SUMS and sums.size:
            # int64 sums add up exactly in any order: the same totals the summary was built from
            region = derived_sums(sums.sum(axis=(1, 2)))
            by_district = derived_sums(sums.sum(axis=2))
        district = getattr(results, "district_series", None)
        fields = [f.name for f in DISTRICT_FIELDS]
        if not (isinstance(district, np.ndarray) and district.ndim == 3 and district.shape[-1] == len(fields)):
            district, fields = None, []
        config = getattr(results, "config", None)
        try:
            settings = RunSettings.of(config) if config else None
        except (KeyError, AttributeError, TypeError):
            settings = None
        tables = getattr(results, "tables", None)
        return cls(
            regional=reg if isinstance(reg, pd.DataFrame) else regional(ts),
            region=region,
            by_district=by_district,
            district=district,
            district_fields=fields,
            settings=settings,
            recorded=getattr(results, "summary", None) or {},
            tables=tables if isinstance(tables, Mapping) else {},
            timeseries=ts,
        )

    def conditions(self, name: str) -> np.ndarray | None:
        """float64[months, D] of one district condition, or None."""
        if self.district is None or name not in self.district_fields:
            return None
        return self.district[:, :, self.district_fields.index(name)]


def regional(ts: pd.DataFrame) -> pd.DataFrame:
    """month x indicator frame of the regional totals (district 'all', group 'all')."""
    sel = ts[(ts["district"].astype(str) == "all") & (ts["group"].astype(str) == "all")]
    piv = sel.pivot_table(index="month", columns=sel["indicator"].astype(str), values="value", aggfunc="first")
    return piv.sort_index()


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run.

    Attributes
    ----------
    name : str
    unit : str  e.g. ``"deaths"``, ``"person-months"``, ``"USD"``, ``"share"``
    description : str  one line, as tables and reports show it
    better : ``"lower"``, ``"higher"`` or ``"neither"`` (a setting or a descriptor)
    scaling : ``"count"``, ``"money"``, ``"rate"`` or ``"none"`` (module docstring)
    compute : callable  ``compute(record: OutcomeInputs) -> int | float | None``; None when
        the run does not record what the outcome needs
    """

    name: str
    unit: str
    description: str
    better: str
    scaling: str
    compute: Callable[[OutcomeInputs], Any] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.better not in BETTER:
            raise ValueError(f"outcome {self.name}: better must be one of {BETTER}, not {self.better!r}")
        if self.scaling not in SCALINGS:
            raise ValueError(f"outcome {self.name}: scaling must be one of {SCALINGS}, not {self.scaling!r}")


def _f(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else float("nan")


# -- how outcomes are computed ----------------------------------------------------------------


def _total(sum_name: str, integer: bool = True, share: str | None = None):
    """A recorded count summed over the horizon (an int; a float with ``integer=False``).
    Without raw sums: the regional column ``share`` x population (people-months), or
    the column ``sum_name`` itself, summed."""

    def compute(r: OutcomeInputs):
        if r.region is not None:
            total = r.region[sum_name].sum()
            return int(total) if integer else float(total)
        col = r.regional
        if share is not None:
            if share in col.columns and "population" in col.columns:
                return float((col[share] * col["population"]).sum())
            return None
        return float(col[sum_name].sum()) if sum_name in col.columns else None

    return compute


def _district_total(sum_name: str):
    """A count summed over months and districts: the raw sums, else the tidy frame's
    district rows (not the 'all' row), group 'all'."""

    def compute(r: OutcomeInputs):
        if r.region is not None:
            return int(r.region[sum_name].sum())
        ts = r.timeseries
        if ts is None or not len(ts) or sum_name not in set(ts["indicator"].astype(str).unique()):
            return None
        sel = ts[(ts["indicator"].astype(str) == sum_name) & (ts["group"].astype(str) == "all")
                 & (ts["district"].astype(str) != "all")]
        return float(sel["value"].sum())

    return compute


def _conflict_events(r: OutcomeInputs):
    x = r.conditions("conflict_events")
    if x is not None:
        return int(x.sum())  # whole events (a float field of integer counts)
    return _district_total("conflict_events")(r)


def _series(indicator: str, how: str):
    """A statistic of the regional monthly series of ``indicator``: ``mean``, ``max``,
    ``first``, ``last``, ``first_year`` / ``last_year`` (mean of the first / last 12 months)."""

    def compute(r: OutcomeInputs):
        if indicator not in r.regional.columns:
            return None
        s = r.regional[indicator]
        if how == "mean":
            return _f(s.mean())
        if how == "max":
            return _f(s.max())
        if how == "first":
            return _f(s.iloc[0])
        if how == "last":
            return _f(s.iloc[-1])
        if how == "first_year":
            return _f(s.iloc[:12].mean())
        if how == "last_year":
            return _f(s.iloc[-12:].mean())
        raise ValueError(how)

    return compute


def _needs_region(fn):
    return lambda r: None if r.region is None else fn(r)


def _people_end(r: OutcomeInputs) -> int:
    t = r.region
    # people alive after the last month: its start minus its deaths plus its births
    return int(t["people"][-1] - t["deaths"][-1] + t["births"][-1])


def _cdr_mean(r: OutcomeInputs) -> float | None:
    if r.settings is None:
        return None
    t = r.region
    # deaths / 10,000 people / day over the horizon: total deaths over total person-days
    return _f(t["deaths"].sum() / (t["people"].sum() * r.settings.days_per_month) * 1e4)


def _cdr_by_district(r: OutcomeInputs) -> np.ndarray:
    """float64[months, D] crude death rate per district-month, deaths / 10,000 / day (0 where empty)."""
    d = r.by_district
    people = d["people"]
    return np.divide(d["deaths"], people * r.settings.days_per_month, out=np.zeros_like(people), where=people > 0) * 1e4


def _district_months_cdr_above(limit: float):
    def compute(r: OutcomeInputs):
        if r.by_district is None or r.settings is None:
            return None
        return int((_cdr_by_district(r) > limit).sum())

    return compute


def _drought_district_months(r: OutcomeInputs):
    x = r.conditions("in_drought")
    return None if x is None else _f(x.mean())


def _food_price_peak_ratio(r: OutcomeInputs):
    if "food_price_usd_per_kg" not in r.regional.columns or r.settings is None:
        return None
    return _f(r.regional["food_price_usd_per_kg"].max() / r.settings.food_price_usd_per_kg)


def _recorded(name: str, missing: Any = None):
    """An entry the run recorded itself (a module's summary); ``missing`` when absent."""

    def compute(r: OutcomeInputs):
        v = r.recorded.get(name)
        if v is None:
            return missing
        try:
            return float(v)
        except (TypeError, ValueError):
            return missing

    return compute


def _scale(r: OutcomeInputs):
    if r.simulated_per_real is not None:
        return 1.0 / r.simulated_per_real
    return _recorded(SCALE)(r)


def _food_gap_usd(r: OutcomeInputs):
    if r.simulated_per_real is None or r.region is None or r.settings is None:
        return _recorded("food_gap_usd")(r)
    s = r.settings
    need_kg = s.kcal_per_person_day * s.days_per_month / s.kcal_per_kg  # kg of cereal per person-month
    gap_person_months = r.region["gap_people_milli"].sum() / 1000.0
    # the food not eaten over the horizon at the normal cereal price, real population
    return float(gap_person_months * need_kg * s.food_price_usd_per_kg / r.simulated_per_real)


def _assets_end_usd(r: OutcomeInputs):
    if r.simulated_per_real is None or r.region is None:
        return _recorded("assets_end_usd")(r)
    return float(r.region["assets_usd"][-1] / r.simulated_per_real)


def _cost_usd_total(r: OutcomeInputs):
    v = _recorded("cost_usd_total")(r)
    if v is not None:
        return v
    # a run-like object with a cost table but no summary entry: the table's total
    return float(sum(c["cost_usd"] for c in programme_costs(r)))


def _setting(name: str):
    return lambda r: None if r.settings is None else int(getattr(r.settings, name))


def _o(name, unit, description, better, scaling, compute) -> Outcome:
    return Outcome(name, unit, description, better, scaling, compute)


_DEATH_CAUSES = ("baseline", "disease", "starvation", "violence")  # the regional frame's column order

#: every outcome, by name
CATALOGUE: dict[str, Outcome] = {
    o.name: o
    for o in (
        _o("households", "households", "simulated households asked for (population.households)", "neither", "none",
           _setting("households")),
        _o("months", "months", "months of the horizon", "neither", "none", _setting("months")),
        _o("people_start", "people", "people alive at the start of the horizon", "neither", "count",
           _needs_region(lambda r: int(r.region["people"][0]))),
        _o("people_end", "people", "people alive at the end of the horizon", "neither", "count",
           _needs_region(_people_end)),
        _o("deaths_total", "deaths", "deaths over the horizon, all causes modelled", "lower", "count",
           _total("deaths")),
        _o("births_total", "births", "children born over the horizon", "neither", "count", _total("births")),
        *(
            _o(f"deaths_{c}_total", "deaths", f"deaths over the horizon: {c}", "lower", "count",
               _total(f"deaths_{c}", integer=False))
            for c in _DEATH_CAUSES
        ),
        # the summary's names of three of them (kept: stored summaries and sweeps read them)
        *(
            _o(f"deaths_{c}", "deaths", f"deaths over the horizon: {c}", "lower", "count", _total(f"deaths_{c}"))
            for c in ("starvation", "disease", "violence")
        ),
        _o("new_infections_total", "infections", "new infections over the horizon", "lower", "count",
           _district_total("new_infections")),
        _o("attack_rate", "share", "new infections over the horizon, share of the first month's people", "lower",
           "rate", _needs_region(lambda r: _f(r.region["new_infections"].sum() / r.region["people"][0]))),
        _o("conflict_events_total", "events", "conflict events over the horizon, all districts", "lower", "none",
           _conflict_events),
        _o("displaced_frac_peak", "share", "largest monthly share of people displaced", "lower", "rate",
           _series("displaced_frac", "max")),
        _o("displaced_person_months", "person-months", "people-months displaced", "lower", "count",
           _total("people_displaced", share="displaced_frac")),
        _o("violence_exposed_person_months", "person-months", "people-months in households hit by violence", "lower",
           "count", _total("people_violence_exposed", share="violence_exposed_frac")),
        _o("hs_index_mean", "index 0..1", "mean household human-security index over the horizon", "higher", "rate",
           _series("hs_index", "mean")),
        _o("cdr_per_10k_day_mean", "deaths / 10,000 people / day", "crude death rate over the horizon", "lower",
           "rate", _needs_region(_cdr_mean)),
        _o("cdr_per_10k_day_peak", "deaths / 10,000 people / day", "highest monthly crude death rate", "lower", "rate",
           _series("cdr_per_10k_day", "max")),
        _o("district_months_cdr_above_1", "district-months",
           "district-months with a crude death rate above 1 / 10,000 / day (emergency threshold)", "lower", "none",
           _district_months_cdr_above(1.0)),
        _o("district_months_cdr_above_2", "district-months",
           "district-months with a crude death rate above 2 / 10,000 / day", "lower", "none",
           _district_months_cdr_above(2.0)),
        _o("ipc3plus_frac_mean", "share", "mean share of people in IPC-like phase 3 or worse", "lower", "rate",
           _series("ipc3plus_frac", "mean")),
        _o("ipc3plus_frac_peak", "share", "largest monthly share of people in IPC-like phase 3 or worse", "lower",
           "rate", _series("ipc3plus_frac", "max")),
        _o("ipc3plus_person_months", "person-months", "people-months in IPC-like phase 3 or worse", "lower", "count",
           _total("people_ipc3plus", share="ipc3plus_frac")),
        _o("ipc4plus_person_months", "person-months", "people-months in IPC-like phase 4 or worse", "lower", "count",
           _total("people_ipc4plus", share="ipc4plus_frac")),
        _o("acute_malnutrition_u5_months", "child-months",
           "under-five child-months of acute malnutrition (MAM or SAM)", "lower", "count",
           _needs_region(lambda r: float(r.region["u5_malnourished"].sum()))),
        _o("acute_malnutrition_frac_mean", "share", "mean share of under-fives acutely malnourished", "lower", "rate",
           _series("acute_malnutrition_frac", "mean")),
        _o("acute_malnutrition_frac_peak", "share", "largest monthly share of under-fives acutely malnourished",
           "lower", "rate", _series("acute_malnutrition_frac", "max")),
        _o("poverty_frac_mean", "share", "mean share of people below the consumption poverty line", "lower", "rate",
           _series("poverty_frac", "mean")),
        _o("poverty_frac_first_year", "share", "mean share of people below the poverty line, first 12 months",
           "lower", "rate", _series("poverty_frac", "first_year")),
        _o("poverty_frac_last_year", "share", "mean share of people below the poverty line, last 12 months",
           "lower", "rate", _series("poverty_frac", "last_year")),
        _o("negative_coping_frac_mean", "share",
           "mean share of people in households using crisis or emergency coping", "lower", "rate",
           _series("negative_coping_frac", "mean")),
        _o("below_trap_frac_start", "share", "share of households below the poverty-trap line, first month", "lower",
           "rate", _series("below_trap_frac", "first")),
        _o("below_trap_frac_end", "share", "share of households below the poverty-trap line, last month", "lower",
           "rate", _series("below_trap_frac", "last")),
        _o("drought_district_month_frac", "share", "share of district-months in drought", "lower", "rate",
           _drought_district_months),
        _o("food_price_peak_ratio", "ratio", "highest monthly cereal price over the normal price", "lower", "rate",
           _food_price_peak_ratio),
        _o(SCALE, "households", "real households per simulated household (multiply counts by it)", "neither", "none",
           _scale),
        _o("food_gap_usd", "USD", "value of the food consumption gap over the horizon, USD", "lower", "money",
           _food_gap_usd),
        _o("assets_end_usd", "USD", "productive assets of the population at the end, USD", "higher", "money",
           _assets_end_usd),
        _o("cost_usd_total", "USD", "cost of the response over the horizon, USD", "lower", "money", _cost_usd_total),
        _o("cost_in_vain_usd", "USD", "cost of actions taken on triggers that proved false alarms, USD", "lower",
           "money", _recorded("cost_in_vain_usd", missing=0.0)),
        _o("trigger_hits", "triggers", "triggers followed by the shock", "higher", "none", _recorded("trigger_hits")),
        _o("trigger_misses", "shocks", "shocks without a trigger", "lower", "none", _recorded("trigger_misses")),
        _o("trigger_false_alarms", "triggers", "triggers without the shock", "lower", "none",
           _recorded("trigger_false_alarms")),
        _o("households_duplicated_months", "household-months", "household-months served twice by separate sectors",
           "lower", "count", _recorded("households_duplicated_months")),
        _o("households_need_unmet_months", "household-months", "household-months in need and not served", "lower",
           "count", _recorded("households_need_unmet_months")),
    )
}

#: ``Results.summary`` as the engine's record makes it, in this order, then :data:`MONEY_OUTCOMES`
#: (the modules add their entries after these)
SUMMARY_OUTCOMES: tuple[str, ...] = (
    "households", "months", "people_start", "people_end", "deaths_total", "births_total", "deaths_starvation",
    "deaths_disease", "deaths_violence", "new_infections_total", "attack_rate", "conflict_events_total",
    "displaced_frac_peak", "displaced_person_months", "hs_index_mean", "cdr_per_10k_day_mean",
    "cdr_per_10k_day_peak", "district_months_cdr_above_1", "district_months_cdr_above_2", "ipc3plus_frac_mean",
    "ipc3plus_frac_peak", "ipc3plus_person_months", "ipc4plus_person_months", "acute_malnutrition_frac_mean",
    "acute_malnutrition_frac_peak", "poverty_frac_first_year", "poverty_frac_last_year", "negative_coping_frac_mean",
    "below_trap_frac_start", "below_trap_frac_end", "drought_district_month_frac", "food_price_peak_ratio",
)
#: the summary's money entries (real population) and the scale that turns counts into real ones
MONEY_OUTCOMES: tuple[str, ...] = (SCALE, "food_gap_usd", "assets_end_usd", "cost_usd_total")
#: the outcomes analyses compare between runs (polyrisk, compare), in this order
RUN_OUTCOMES: tuple[str, ...] = (
    "deaths_total", *(f"deaths_{c}_total" for c in _DEATH_CAUSES), "ipc3plus_person_months",
    "acute_malnutrition_u5_months", "negative_coping_frac_mean", "poverty_frac_mean", "displaced_person_months",
    "violence_exposed_person_months", "new_infections_total", "conflict_events_total",
)
#: what a run with a response adds (money and triggers), compared after :data:`RUN_OUTCOMES`
RESPONSE_OUTCOMES: tuple[str, ...] = (
    "cost_usd_total", "food_gap_usd", "assets_end_usd", "cost_in_vain_usd", "trigger_hits", "trigger_misses",
    "trigger_false_alarms", "households_duplicated_months", "households_need_unmet_months",
)
#: outcomes shown first in tables and figures (those present, in this order)
KEY_OUTCOMES: tuple[str, ...] = (
    "deaths_total", "ipc3plus_person_months", "acute_malnutrition_u5_months", "displaced_person_months",
    "food_gap_usd", "assets_end_usd", "cost_usd_total",
)
#: summary entries with no money before the modules add theirs: what a run without a response spent
_SUMMARY_PLACEHOLDERS = {"cost_usd_total": 0.0}


def summary_values(inputs: OutcomeInputs, names: tuple[str, ...] = (*SUMMARY_OUTCOMES, *MONEY_OUTCOMES)) -> dict[str, Any]:
    """The engine's part of ``Results.summary``: ``names`` in order (counts as int, the
    rest as float; ``cost_usd_total`` 0 until a response module records its spending)."""
    return {n: _SUMMARY_PLACEHOLDERS[n] if n in _SUMMARY_PLACEHOLDERS else CATALOGUE[n].compute(inputs) for n in names}


def run_outcomes(results: Any, names: tuple[str, ...] = RUN_OUTCOMES) -> dict[str, float]:
    """Outcomes of one finished run as floats, in the order of ``names``; an outcome
    the run does not record is left out.

    Parameters
    ----------
    results : Results, OutcomeInputs or a run-like object (see :meth:`OutcomeInputs.of`)
    names : outcome names (default :data:`RUN_OUTCOMES`)
    """
    record = OutcomeInputs.of(results)
    out: dict[str, float] = {}
    for name in names:
        v = CATALOGUE[name].compute(record)
        if v is not None:
            out[name] = float(v)
    return out


def value(results: Any, name: str) -> float:
    """One outcome of a finished run; raises KeyError for an unknown name and
    ValueError when the run does not record it."""
    v = CATALOGUE[name].compute(OutcomeInputs.of(results))
    if v is None:
        raise ValueError(f"the run does not record what {name!r} needs")
    return float(v)


def describe(name: str) -> str:
    """A one-line description of an outcome (or reporter) name; the name itself when unknown."""
    o = CATALOGUE.get(name) or REPORTERS.get(name)
    return o.description if o is not None else name


def higher_is_better(name: str) -> bool:
    """True for an outcome where more is better; False otherwise (less is better, or unknown)."""
    o = CATALOGUE.get(name) or REPORTERS.get(name)
    return o is not None and o.better == "higher"


def to_real(name: str, x, real_households_per_simulated: float):
    """``x`` of outcome (or reporter) ``name`` for the scenario's real population: counts
    multiplied by ``real_households_per_simulated``, everything else as it is."""
    o = CATALOGUE.get(name) or REPORTERS[name]
    return x * real_households_per_simulated if o.scaling == "count" else x


def programme_costs(results: Any) -> list[dict[str, Any]]:
    """The run's cost table summed over months and districts: a list of
    ``{intervention, kind, sector, cost_usd, household_months_served}`` (empty when
    the run has no ``tables["costs"]``); USD for the real population."""
    tables = getattr(results, "tables", None) or {}
    costs = tables.get("costs") if isinstance(tables, Mapping) else None
    if not isinstance(costs, pd.DataFrame) or costs.empty or "cost_usd" not in costs.columns:
        return []
    frame = costs.copy()
    for k in ("intervention", "kind", "sector"):
        if k not in frame.columns:
            frame[k] = "all" if k == "intervention" else ""
    frame[["intervention", "kind", "sector"]] = frame[["intervention", "kind", "sector"]].astype(str)
    served = "households_served" in frame.columns
    agg = {"cost_usd": ("cost_usd", "sum")}
    if served:
        agg["household_months_served"] = ("households_served", "sum")
    g = frame.groupby(["intervention", "kind", "sector"], sort=True, observed=True).agg(**agg).reset_index()
    if not served:
        g["household_months_served"] = np.nan
    return [
        {
            "intervention": str(r.intervention),
            "kind": str(r.kind),
            "sector": str(r.sector),
            "cost_usd": float(r.cost_usd),
            "household_months_served": float(r.household_months_served),
        }
        for r in g.itertuples(index=False)
    ]


# -- monthly reporters -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRecord:
    """One simulated month, for the reporters: the region as scalars, or each district
    as float64[D] arrays (the same reporter functions read both).

    Attributes
    ----------
    month : int  month of the horizon, 1-based
    sums : dict name -> float64 or float64[D]  derived sums of the month (simulated people)
    conditions : dict field -> float64[D]  district conditions of the month
    people_by_district : float64[D]  people alive at the start of the month
    cost_usd : float or float64[D]  money spent in the month, real USD (the region's total
        includes coordination, which is region-wide; a district's does not)
    displaced_households : int  households displaced with members alive after the month
        (region only; 0 by district)
    """

    month: int
    sums: Mapping[str, Any]
    conditions: Mapping[str, np.ndarray]
    people_by_district: np.ndarray
    cost_usd: Any
    displaced_households: int = 0


@dataclass(frozen=True)
class Reporter:
    """One monthly reporter: like :class:`Outcome`, computed from a :class:`MonthRecord`.
    ``cumulative_of`` names the reporter it adds up since the start of the horizon
    (``compute`` is then unused)."""

    name: str
    unit: str
    description: str
    better: str
    scaling: str
    compute: Callable[[MonthRecord], Any] | None = field(repr=False, compare=False, default=None)
    cumulative_of: str | None = None


def _share(x, den):
    """x / den where den > 0, else NaN (float or float64[D])."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(den > 0, x / np.where(den > 0, den, 1.0), np.nan)
    return float(v) if v.ndim == 0 else v


def _in_drought_frac(m: MonthRecord) -> float:
    people = m.people_by_district
    return float(m.conditions["in_drought"] @ people) / people.sum() if people.sum() > 0 else float("nan")


def _r(name, unit, description, better, scaling, compute=None, cumulative_of=None) -> Reporter:
    return Reporter(name, unit, description, better, scaling, compute, cumulative_of)


#: monthly reporters of a stepped run, by name (the Mesa adapter's model reporters)
REPORTERS: dict[str, Reporter] = {
    r.name: r
    for r in (
        _r("month", "month", "month of the horizon (1-based)", "neither", "none", lambda m: m.month),
        _r("ipc3plus_frac", "share", "share of people in IPC-like phase 3 or worse", "lower", "rate",
           lambda m: _share(m.sums["people_ipc3plus"], m.sums["people"])),
        _r("ipc4plus_frac", "share", "share of people in phase 4 or worse", "lower", "rate",
           lambda m: _share(m.sums["people_ipc4plus"], m.sums["people"])),
        _r("acute_malnutrition_frac", "share", "acute malnutrition (MAM or SAM) among under-fives", "lower", "rate",
           lambda m: _share(m.sums["u5_malnourished"], m.sums["u5"])),
        _r("poverty_frac", "share", "share of people below the consumption poverty line", "lower", "rate",
           lambda m: _share(m.sums["people_poor"], m.sums["people"])),
        _r("hs_index", "index 0..1", "mean household human-security index (want, fear, dignity), 0..1", "higher",
           "rate", lambda m: _share(m.sums["hs_people_milli"] * 1e-3, m.sums["people"])),
        _r("deaths", "deaths", "deaths in the month, all causes (simulated people)", "lower", "count",
           lambda m: m.sums["deaths"]),
        _r("deaths_cumulative", "deaths", "deaths since the start of the horizon (simulated people)", "lower", "count",
           cumulative_of="deaths"),
        _r("displaced_households", "households",
           "households displaced (hosted or in a camp) with members alive (simulated)", "lower", "count",
           lambda m: m.displaced_households),
        _r("displaced_frac", "share", "share of people displaced, by origin", "lower", "rate",
           lambda m: _share(m.sums["people_displaced"], m.sums["people"])),
        _r("new_infections", "infections", "new infections in the month (simulated people)", "lower", "count",
           lambda m: float(m.sums["new_infections"])),
        _r("conflict_events", "events", "conflict events in the month, whole region", "lower", "none",
           lambda m: float(m.conditions["conflict_events"].sum())),
        _r("in_drought_frac", "share", "share of people living in a district in drought", "lower", "rate",
           _in_drought_frac),
        _r("households_assisted", "households", "households receiving at least one intervention (simulated)",
           "neither", "count", lambda m: float(m.sums["households_assisted"])),
        _r("cost_usd", "USD", "money spent on the response in the month, coordination included (real USD)", "lower",
           "money", lambda m: m.cost_usd),
        _r("cost_usd_cumulative", "USD", "money spent since the start of the horizon (real USD)", "lower", "money",
           cumulative_of="cost_usd"),
    )
}
#: reporters also given by district (:func:`district_reporters`)
DISTRICT_REPORTERS: tuple[str, ...] = ("ipc3plus_frac", "deaths", "displaced_frac", "cost_usd")


def _response(engine):
    return next((m for m in engine.modules if m.name == "response"), None)


def month_record(engine, m: int, by_district: bool = False) -> MonthRecord:
    """The :class:`MonthRecord` of recorded month ``m`` (0-based month of the horizon)
    of a stepped engine: the region's, or with ``by_district`` each district's."""
    rec = engine.recorder
    sums = rec.sums[m]  # int64[D, N_CELLS, N_SUMS]
    fields = rec.district_names
    conditions = {n: rec.district[m, :, k] for k, n in enumerate(fields)}
    people_d = sums[:, :, SUM_INDEX["people"]].sum(axis=1).astype(np.float64)
    if by_district:
        return MonthRecord(m + 1, derived_sums(sums.sum(axis=1)), conditions, people_d,
                           conditions["cost_usd"].copy())
    response = _response(engine)
    cost = 0.0
    if response is not None:
        cost = float(response.cost[m].sum() + response.overhead_usd[m])
    hh = engine.households
    displaced = int(np.count_nonzero((hh.displaced > 0) & (hh.members > 0)))
    return MonthRecord(m + 1, derived_sums(sums.sum(axis=(0, 1))), conditions, people_d, cost, displaced)


def _plain(x):
    return x.item() if isinstance(x, np.generic) else x


class MonthlyReporting:
    """The reporters of one run month by month: keeps the running totals of the
    cumulative reporters. ``collect(record)`` -> name -> value, in :data:`REPORTERS` order."""

    def __init__(self) -> None:
        self.totals = {r.cumulative_of: 0.0 for r in REPORTERS.values() if r.cumulative_of}

    def collect(self, record: MonthRecord) -> dict[str, Any]:
        values = {n: _plain(r.compute(record)) for n, r in REPORTERS.items() if r.compute is not None}
        out = {}
        for n, r in REPORTERS.items():
            if r.cumulative_of is not None:
                self.totals[r.cumulative_of] += values[r.cumulative_of]
                out[n] = self.totals[r.cumulative_of]
            else:
                out[n] = values[n]
        return out


def month_reporters(engine, m: int, reporting: MonthlyReporting) -> dict[str, Any]:
    """:data:`REPORTERS` of month ``m`` (0-based) of a stepped engine."""
    return reporting.collect(month_record(engine, m))


def district_reporters(engine, m: int) -> dict[str, np.ndarray]:
    """:data:`DISTRICT_REPORTERS` of month ``m`` (0-based) by district (float64[D] each)."""
    record = month_record(engine, m, by_district=True)
    return {n: np.asarray(REPORTERS[n].compute(record), dtype=np.float64) for n in DISTRICT_REPORTERS}
