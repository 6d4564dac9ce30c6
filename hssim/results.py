"""Results: preallocated indicator arrays turned into a tidy frame and a summary.

``Results.timeseries`` has one row per (month, district, group, indicator) with a
``value``; ``district == "all"`` and ``group == "all"`` are totals. People-based
shares are shares of people (IPC reports populations, not households).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .kernels.record import group_sums
from .outcomes import MONEY_OUTCOMES, SUMMARY_OUTCOMES, OutcomeInputs, RunSettings, summary_values
from .state import LIVELIHOODS
from .sums import SUMS, derived_sums
from .validate import to_dict

__all__ = ["Results", "GROUPS", "INDICATORS", "DISTRICT_INDICATORS", "atomic_write"]

_S = {n: i for i, n in enumerate(SUMS)}


# groups as masks over the 64 household cells (female, marginalised, poorest, livelihood, displaced)
_cells = np.arange(64)
_FEMALE = (_cells & 1) == 1
_MARG = (_cells & 2) == 2
_POOR = (_cells & 4) == 4
_LIV = (_cells >> 3) & 3
_DISPLACED = (_cells & 32) == 32
GROUPS: dict[str, np.ndarray] = {
    "all": np.ones(64, bool),
    "female_headed": _FEMALE,
    "male_headed": ~_FEMALE,
    "marginalised": _MARG,
    "not_marginalised": ~_MARG,
    "poorest_quintile": _POOR,
    **{f"livelihood_{lv}": _LIV == k for k, lv in enumerate(LIVELIHOODS)},
    "displaced": _DISPLACED,
    "not_displaced": ~_DISPLACED,
}

#: household indicators: name -> (numerator sum, denominator sum or None, scale, description)
INDICATORS: dict[str, tuple[str, str | None, float, str]] = {
    "ipc3plus_frac": ("people_ipc3plus", "people", 1.0, "share of people in IPC-like phase 3 or worse"),
    "ipc4plus_frac": ("people_ipc4plus", "people", 1.0, "share of people in phase 4 or worse"),
    "ipc5_frac": ("people_ipc5", "people", 1.0, "share of people in phase 5"),
    "acute_malnutrition_frac": ("u5_malnourished", "u5", 1.0, "acute malnutrition (MAM or SAM) among under-fives"),
    "sam_frac": ("u5_sam", "u5", 1.0, "severe acute malnutrition among under-fives"),
    "poverty_frac": ("people_poor", "people", 1.0, "share of people below the consumption poverty line"),
    "negative_coping_frac": ("people_negative_coping", "people", 1.0, "share of people in households using crisis or emergency coping"),
    "any_coping_frac": ("people_any_coping", "people", 1.0, "share of people in households using any coping strategy"),
    "emergency_coping_hh_frac": ("households_emergency", "households", 1.0, "share of households using emergency coping"),
    "consumption_gap": ("gap_people_milli", "people", 1e-3, "mean food consumption gap per person, share of need"),
    "consumption_usd_pc_day": ("consumption_milli", "people", 1e-3, "mean consumption, USD per person per day"),
    "assets_usd_per_household": ("assets_usd", "households", 1.0, "mean productive assets at market value, USD"),
    "below_trap_frac": ("households_below_trap", "households", 1.0, "share of households below the poverty-trap line"),
    "displaced_frac": ("people_displaced", "people", 1.0, "share of people displaced (hosted or in a camp), by origin"),
    "camp_frac": ("people_in_camp", "people", 1.0, "share of people in displacement camps, by origin"),
    "violence_exposed_frac": ("people_violence_exposed", "people", 1.0, "share of people in households hit by violence this month"),
    "fear_mean": ("fear_people_milli", "people", 1e-3, "mean fear of violence, 0 none .. 1 extreme"),
    "health_access_frac": ("health_access_people_milli", "people", 1e-3, "mean access to functioning health care"),
    "hs_index": ("hs_people_milli", "people", 1e-3, "mean household human-security index (want, fear, dignity), 0..1"),
    "hs_low_frac": ("people_hs_low", "people", 1.0, "share of people with a human-security index below 0.5"),
    "new_infections": ("new_infections", None, 1.0, "new infections in the month"),
    "attack_rate": ("new_infections", "people", None, "cumulative infections since the start, share of the first month's people"),
    "infectious_frac": ("people_infectious", "people", 1.0, "share of people infectious at the end of the month"),
    "sick_frac": ("people_sick", "people", 1.0, "share of people ill at some time in the month"),
    "deaths": ("deaths", None, 1.0, "deaths in the month, all causes"),
    "deaths_baseline": ("deaths_baseline", None, 1.0, "deaths at the baseline rate"),
    "deaths_starvation": ("deaths_starvation", None, 1.0, "excess deaths from starvation and severe acute malnutrition"),
    "deaths_disease": ("deaths_disease", None, 1.0, "deaths from the epidemic disease"),
    "deaths_violence": ("deaths_violence", None, 1.0, "deaths from violence"),
    "cdr_per_10k_day": ("deaths", "people", None, "crude death rate, deaths / 10,000 people / day"),
    "births": ("births", None, 1.0, "children born in the month"),
    "assisted_frac": ("households_assisted", "households", 1.0, "share of households receiving at least one intervention"),
    "people_assisted": ("people_assisted", None, 1.0, "people in households receiving at least one intervention"),
    "duplicated_households": ("households_duplicated", None, 1.0, "households served by two programmes of the same kind"),
    "layered_households": ("households_layered", None, 1.0, "households served by programmes of two or more kinds"),
    "need_unmet_frac": ("households_need_unmet", "households_in_need", 1.0, "share of households in IPC3+ receiving nothing"),
    "population": ("people", None, 1.0, "people alive at the start of the month"),
    "households": ("households", None, 1.0, "households with members alive"),
}

#: district conditions (group "all" only); "all" districts = population-weighted mean
DISTRICT_INDICATORS: dict[str, str] = {
    "rain_mm": "rainfall, mm",
    "spi": "SPI-like standardised rainfall index",
    "in_drought": "district in drought (index at or below threshold); for 'all': share of people",
    "food_price_usd_per_kg": "local cereal price, USD/kg",
    "production_index": "last year's harvests relative to potential",
    "pasture_index": "pasture condition, 1 = normal",
    "livestock_price_usd": "price of one TLU, USD",
    "labour_demand": "rural labour demand, 1 = normal",
    "conflict_events": "conflict events in the month",
    "conflict_rate": "expected conflict events (Hawkes intensity)",
    "market_disruption": "share of market functioning lost to conflict",
    "health_access_eff": "share of people reaching functioning health care",
    "influx_frac": "displaced households hosted, share of residents",
    "drought_probability": "forecast probability of drought at the trigger's lead",
    "alert_drought": "drought trigger on (forecast or observed); for 'all': share of people",
    "alert_food": "food-insecurity alert on",
    "alert_conflict": "conflict escalation warning on",
    "alert_disease": "outbreak alert on",
    "reported_cases": "cases reported by surveillance",
    "cost_usd": "money spent on the response, USD (real population; coordination overhead is region-wide, not here)",
}

#: district indicators summed (not averaged) for district "all"
_DISTRICT_SUMMED = ("conflict_events", "conflict_rate", "reported_cases", "cost_usd")


def atomic_write(path: Path, write) -> None:
    """Write a file through a temporary name in the same folder, then rename.

    ``write(tmp_path)`` produces the file; a crash leaves no partial ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Results:
    """What a run produced.

    Attributes
    ----------
    timeseries : DataFrame  columns ``month, district, group, indicator, value`` (built
        on first access: a caller that reads only the summary, the raw sums or
        :meth:`indicator` never pays for the ~10^5-10^6-row frame)
    summary : dict[str, float]  scalar outcomes over the horizon
    config : dict  the resolved, validated configuration
    sums : int64[months, D, 32, n_sums]  raw indicator sums by household cell
    district_series : float64[months, D, n_fields]  raw district conditions
    regional : DataFrame  index month, one column per indicator: the region's totals
        (district and group "all"), the tidy frame's rows pivoted (indicators without a
        value left out)
    """

    summary: dict[str, Any]
    config: dict[str, Any]
    districts: tuple[str, ...]
    sums: np.ndarray = field(repr=False)
    district_series: np.ndarray = field(repr=False)
    timings_s: dict[str, float] = field(default_factory=dict, repr=False)
    #: module tables (``costs``, ``activations``, ``triggers``) when the run has a response
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    regional: pd.DataFrame | None = field(default=None, repr=False)
    #: what the cube of indicator values needs beyond the raw arrays: (district field
    #: names, days per month)
    _tidy_args: tuple | None = field(default=None, repr=False, compare=False)
    #: the cube the tidy frame is made from: (values[month, district, group, indicator],
    #: months, districts, groups, indicators); built when first needed
    _cube: tuple | None = field(default=None, repr=False, compare=False)
    _timeseries: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def timeseries(self) -> pd.DataFrame:
        if self._timeseries is None:
            self._timeseries = _long(*self._cube_data())
        return self._timeseries

    def _cube_data(self) -> tuple:
        if self._cube is None:
            fields, days = self._tidy_args
            self._cube = _tidy(self.sums, self.district_series, list(fields), list(self.districts), days)
        return self._cube

    @classmethod
    def from_record(cls, record, cfg) -> "Results":
        """Frames and the summary of a finished run.

        Parameters
        ----------
        record : hssim.engine.RunRecord  what the engine left
        cfg : Config  the run's validated configuration
        """
        days = cfg.households.days_per_month
        # only what the summary needs: the cube of every district and group is built when
        # a caller first reads the time series
        by_district, region, total = _summary_inputs(record.sums, record.district_series,
                                                     list(record.district_fields), days)
        summary = _summary(total, region, by_district, record.district_series, list(record.district_fields), cfg)
        scale = record.households_simulated / record.households_real  # simulated / real households
        summary.update(_money(region, cfg, scale))
        summary.update(record.summary)  # the modules' outcomes (response, early warning)
        # the regional rows as the tidy frame pivoted would give them: indicators with a
        # value, in name order
        regional_frame = total.dropna(axis=1, how="all")
        regional_frame = regional_frame[sorted(regional_frame.columns)]
        regional_frame.columns.name = "indicator"
        return cls(
            summary=summary,
            config=to_dict(cfg),
            districts=tuple(record.district_names),
            sums=record.sums,
            district_series=record.district_series,
            timings_s=dict(record.timings_s),
            tables=dict(record.tables),
            regional=regional_frame,
            _tidy_args=(tuple(record.district_fields), days),
        )

    @classmethod
    def from_engine(cls, engine) -> "Results":
        """The results of an engine's recorded months so far (:meth:`from_record`)."""
        return cls.from_record(engine.record(), engine.cfg)

    def indicator(self, name: str, district: str = "all", group: str = "all") -> pd.Series:
        """One indicator over time as a Series indexed by month (empty if not recorded),
        read from the cube (the tidy frame's rows are its non-NaN cells)."""
        values, months, districts, groups, names = self._cube_data()
        if name not in names or district not in districts or group not in groups:
            return pd.Series(np.zeros(0), index=np.zeros(0, np.int64), name=name)
        v = values[:, districts.index(district), groups.index(group), names.index(name)]
        keep = ~np.isnan(v)
        return pd.Series(v[keep], index=months[keep], name=name)

    def hs_distribution(self) -> pd.DataFrame:
        """Distribution of the household human-security index: share of people in each
        tenth of the index, per month, district (and "all") and group.

        Columns ``month, district, group, bin_lo, bin_hi, people_frac``.
        """
        groups, gs = _group_sums(self.sums)
        bins = gs[..., [_S[f"people_hs_bin{k}"] for k in range(10)]].astype(np.float64)  # [M, D+1, G, 10]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = bins / bins.sum(axis=-1, keepdims=True)
        M, Dp, G, B = frac.shape
        districts = [*self.districts, "all"]
        frame = pd.DataFrame(
            {
                "month": np.repeat(np.arange(1, M + 1), Dp * G * B),
                "district": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(Dp), G * B), M), categories=districts),
                "group": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(G), B), M * Dp), categories=groups),
                "bin_lo": np.tile(np.arange(B) / 10.0, M * Dp * G),
                "bin_hi": np.tile(np.arange(1, B + 1) / 10.0, M * Dp * G),
                "people_frac": frac.reshape(-1),
            }
        )
        return frame[np.isfinite(frame["people_frac"].to_numpy())].reset_index(drop=True)

    def district_risk(self) -> pd.DataFrame:
        """INFORM-style risk per district (see :func:`hssim.risk.district_risk`)."""
        from .risk import district_risk

        return district_risk(self)

    def save(self, path: str | os.PathLike, written: list | None = None, redact: Mapping[str, str] | None = None,
             extras: Mapping[str, Callable[[Path, "Results"], None]] | None = None) -> Path:
        """Write ``timeseries.parquet``, ``hs_distribution.parquet``,
        ``district_risk.csv``, ``summary.json``, ``config.yaml`` and the modules'
        tables into the folder ``path`` (created if needed); figures and the
        planner's report come from the report layer (:func:`hssim.report.run_report.save_run`
        writes them through ``extras``).

        Each file is written under a temporary name and renamed; ``summary.json``
        comes last, so its presence marks a complete run directory. ``written``, when
        given, receives each file's name as soon as it exists (so a caller can remove
        exactly these after a failure). ``redact`` maps dotted config paths to the text
        to record instead of their value (e.g. an unresolved ``${oc.env:...}``), in
        ``config.yaml`` and what ``extras`` receive. ``extras`` maps more file names to
        ``write(temporary_path, results)``, written (atomically) before ``summary.json``.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        view = dataclasses.replace(self, config=_redacted(self.config, redact)) if redact else self
        log = written if written is not None else []

        def put(name: str, write) -> None:
            atomic_write(out / name, write)
            log.append(name)

        put("timeseries.parquet", lambda p: self.timeseries.to_parquet(p, index=False))
        put("hs_distribution.parquet", lambda p: self.hs_distribution().to_parquet(p, index=False))
        put("district_risk.csv", lambda p: self.district_risk().to_csv(p, index=False))
        put("config.yaml", lambda p: p.write_text(_yaml(view.config)))
        for name, frame in self.tables.items():
            put(f"{name}.csv", lambda p, f=frame: f.to_csv(p, index=False))
        for name, write in (extras or {}).items():
            put(name, lambda p, w=write: w(p, view))
        put("summary.json", lambda p: p.write_text(json.dumps(self.summary, indent=2) + "\n"))
        return out


def _redacted(config: dict, redact: Mapping[str, str]) -> dict:
    """A deep copy of ``config`` with the string values at ``redact``'s paths replaced."""
    import copy
    import re

    out = copy.deepcopy(config)
    for path, text in redact.items():
        parts = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]
        node = out
        try:
            for p in parts[:-1]:
                node = node[p]
            if isinstance(node[parts[-1]], str):
                node[parts[-1]] = text
        except (KeyError, IndexError, TypeError):
            continue
    return out


def _yaml(d: dict) -> str:
    try:
        from omegaconf import OmegaConf

        return OmegaConf.to_yaml(OmegaConf.create(d))
    except ImportError:  # pragma: no cover
        return json.dumps(d, indent=2)


def _group_sums(sums: np.ndarray) -> tuple[list[str], np.ndarray]:
    """int64[months, D+1, G, n_sums]: cells summed into groups; district D is 'all'."""
    G = np.stack(list(GROUPS.values()))  # bool[G, N_CELLS]
    if sums.dtype == np.int64:
        by_group = group_sums(np.ascontiguousarray(sums), G)
    else:
        by_group = np.einsum("mdck,gc->mdgk", sums, G.astype(np.int64))
    total = by_group.sum(axis=1, keepdims=True)
    return list(GROUPS), np.concatenate([by_group, total], axis=1)


def _indicator_values(gs: np.ndarray, days: float) -> tuple[list[str], np.ndarray]:
    """float64[months, D+1, G, I] household indicators."""
    sums = derived_sums(gs)
    out = []
    for name, (num, den, scale, _) in INDICATORS.items():
        x = sums[num]
        if name == "cdr_per_10k_day":
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(sums["people"] > 0, x / sums["people"] / days * 1e4, np.nan)
        elif name == "attack_rate":
            # cumulative infections since the start over the people of the first month
            p0 = sums["people"][:1]
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(p0 > 0, np.cumsum(x, axis=0) / p0, np.nan)
        elif den is None:
            v = x * scale
        else:
            d = sums[den]
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(d > 0, x * scale / d, np.nan)
        out.append(v)
    return list(INDICATORS), np.stack(out, axis=-1)


def _district_values(district: np.ndarray, field_names: list[str], people: np.ndarray) -> tuple[list[str], np.ndarray]:
    """float64[months, D+1, I_d] district conditions with a population-weighted 'all'."""
    idx = [field_names.index(n) for n in DISTRICT_INDICATORS]
    x = district[:, :, idx]
    w = people / np.maximum(people.sum(axis=1, keepdims=True), 1)
    total = np.einsum("mdi,md->mi", x, w)[:, None, :]
    for k, n in enumerate(DISTRICT_INDICATORS):
        if n in _DISTRICT_SUMMED:
            total[:, 0, k] = x[:, :, k].sum(axis=1)
    return list(DISTRICT_INDICATORS), np.concatenate([x, total], axis=1)


def _long(values: np.ndarray, months: np.ndarray, districts: list[str], groups: list[str], indicators: list[str]) -> pd.DataFrame:
    """The cube ``values[month, district, group, indicator]`` as a long frame, in cube
    order, without its NaN cells (index 0..rows-1)."""
    M, Dp, G, I = values.shape
    valid = ~np.isnan(values)
    # each label repeated as many times as its block of the cube has values
    per_group = valid.sum(axis=3).reshape(-1)  # [month, district, group]
    per_district = per_group.reshape(-1, G).sum(axis=1)  # [month, district]
    per_month = per_district.reshape(M, Dp).sum(axis=1)

    def code(k: int) -> np.ndarray:
        return np.arange(k, dtype=np.int8 if k < 128 else np.int64)

    return pd.DataFrame(
        {
            "month": np.repeat(months, per_month),
            # (codes in range by construction: no validation pass)
            "district": pd.Categorical.from_codes(np.repeat(np.tile(code(Dp), M), per_district), categories=districts, validate=False),
            "group": pd.Categorical.from_codes(np.repeat(np.tile(code(G), M * Dp), per_group), categories=groups, validate=False),
            "indicator": pd.Categorical.from_codes(np.broadcast_to(code(I), values.shape)[valid], categories=indicators, validate=False),
            "value": values[valid],
        },
        copy=False,  # the columns are new arrays: no second copy of a million rows
    )


def _tidy(sums, district, field_names, names, days) -> tuple:
    """The tidy time series as the arguments of :func:`_long`: the cube
    ``values[month, district, group, indicator]`` (NaN where the long frame has no row),
    months, districts (``"all"`` last), groups and indicator names."""
    months = np.arange(1, sums.shape[0] + 1)
    districts = [*names, "all"]
    groups, gs = _group_sums(sums)
    ind_names, ind = _indicator_values(gs, days)
    people = gs[:, :-1, 0, _S["people"]].astype(np.float64)
    d_names, dvals = _district_values(district, field_names, people)
    # one cube [month, district, group, indicator]: district conditions sit in group "all";
    # built in order, so the frame needs no sort
    cube = np.full(ind.shape[:3] + (len(ind_names) + len(d_names),), np.nan)
    cube[..., : len(ind_names)] = ind
    g_all = groups.index("all")
    cube[:, :, g_all, len(ind_names) :] = dvals
    return cube, months, districts, list(groups), ind_names + d_names


def _summary_inputs(sums, district, field_names, days) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """What the summary reads, without the cube of every district and group: the raw sums
    over cells (group "all") by district and over districts too (int64[months, D, n_sums],
    int64[months, n_sums]), and the region's indicator values (district and group "all")
    as a wide frame (index month, one column per indicator: the cube's district and group
    "all" row, the same numbers, as every indicator is computed element by element from
    the same integer sums)."""
    by_district = sums.sum(axis=2)  # every cell: group "all" (integer sums, exact in any order)
    region = by_district.sum(axis=1)
    months = np.arange(1, sums.shape[0] + 1)
    ind_names, ind = _indicator_values(region[:, None, None, :], days)
    d_names, dvals = _district_values(district, field_names, by_district[..., _S["people"]].astype(np.float64))
    total = pd.DataFrame(np.concatenate([ind[:, 0, 0, :], dvals[:, -1, :]], axis=1), index=pd.Index(months, name="month"),
                         columns=ind_names + d_names)
    return by_district, region, total


def _money(region: np.ndarray, cfg, scale: float) -> dict[str, float]:
    """The summary's money entries for the real population (simulated / ``scale``) and
    the scale itself: :data:`hssim.outcomes.MONEY_OUTCOMES` (``region`` int64[months,
    n_sums]: raw sums over districts and cells)."""
    inputs = OutcomeInputs(regional=pd.DataFrame(), region=derived_sums(region), settings=RunSettings.of(cfg),
                           simulated_per_real=scale)
    return summary_values(inputs, MONEY_OUTCOMES)


def _summary(piv: pd.DataFrame, region, by_district, district, field_names, cfg) -> dict[str, Any]:
    """Scalar outcomes, :data:`hssim.outcomes.SUMMARY_OUTCOMES`; ``piv`` holds the region
    totals (district and group "all") of every indicator, index month (as :func:`_tidy`
    returns them); ``region`` int64[months, n_sums] and ``by_district`` int64[months, D,
    n_sums] the raw sums over cells; ``district`` float64[months, D, n_fields] the
    district conditions named by ``field_names``."""
    inputs = OutcomeInputs(regional=piv, region=derived_sums(region), by_district=derived_sums(by_district),
                           district=district, district_fields=list(field_names), settings=RunSettings.of(cfg))
    return summary_values(inputs, SUMMARY_OUTCOMES)
