"""Poly-risk decomposition: each hazard alone, all together, and the excess.

The human-security claim that threats compound is made testable here. With the
hazards ``h_1..h_n`` of a configuration, :func:`polyrisk` runs ``2 + n``
simulations on the same seed:

``baseline``      every analysed hazard switched off
``<h>_alone``     only hazard ``h`` switched on (one run per hazard)
``all``           every analysed hazard switched on

and, for each outcome ``Y`` (a total or mean over the horizon)::

    impact_h     = Y(h alone) - Y(baseline)          isolated impact of h
    sum_isolated = sum_h impact_h                    (summed in hazard order)
    joint        = Y(all) - Y(baseline)              joint impact
    excess       = joint - sum_isolated              poly-risk excess
    excess_share = excess / joint                    (NaN when joint == 0)

A positive excess means the hazards compound (together they do more harm than the
sum of their separate harms); a negative one means they are sub-additive (they hit
the same people, or one pre-empts the other). Every outcome below is "higher is
worse", so the sign reads the same way for all of them.

Common random numbers: every draw is a pure function of (seed, stream, tick,
household, slot), and hazard streams never depend on what else is switched on, so
the drought of the ``drought_alone`` run is the drought of the ``all`` run. With a
single hazard the ``<h>_alone`` and ``all`` runs are separate simulations of the
same configuration, so their excess is exactly 0 (a determinism check).

Hazards not analysed (named in the config but left out of ``hazards=``, or
disabled in the config when ``hazards`` is not given) keep their configured state
in every run: they are part of the background.

Outcomes: :data:`hssim.outcomes.RUN_OUTCOMES` of the outcome catalogue
(:func:`outcome_values`): ``deaths_total`` and ``deaths_<cause>_total`` (baseline,
disease, starvation, violence); ``ipc3plus_person_months``; ``acute_malnutrition_u5_months``;
``negative_coping_frac_mean``, ``poverty_frac_mean`` (means over the horizon);
``displaced_person_months``, ``violence_exposed_person_months`` (recorded people
counts summed over the months); ``new_infections_total``, ``conflict_events_total``.

Command line (same overrides and checks as ``hssim``; :mod:`hssim.cli.polyrisk`)::

    hssim-polyrisk [--hazards drought,conflict] [--debug] [OVERRIDES...]

writes ``outputs/polyrisk/<date>/<time>/`` with ``polyrisk.csv``,
``polyrisk.json`` and ``polyrisk.png``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError
from .outcomes import CATALOGUE, RUN_OUTCOMES, run_outcomes
from .outcomes import describe as describe_outcome
from .outcomes import regional as _regional
from .results import Results, atomic_write
from .runs.store import jsonable

__all__ = [
    "FIGURE_OUTCOMES",
    "OUTCOME_DESCRIPTIONS",
    "PolyRiskResult",
    "outcome_values",
    "polyrisk",
    "run_configs",
    "select_hazards",
]

BASELINE = "baseline"
ALL = "all"

#: description of each outcome the decomposition builds (from the outcome catalogue)
OUTCOME_DESCRIPTIONS: dict[str, str] = {n: CATALOGUE[n].description for n in RUN_OUTCOMES}

#: outcomes the figure shows by default (those present, in this order)
FIGURE_OUTCOMES: tuple[str, ...] = (
    "deaths_total",
    "ipc3plus_person_months",
    "acute_malnutrition_u5_months",
    "negative_coping_frac_mean",
    "poverty_frac_mean",
    "displaced_person_months",
    "new_infections_total",
    "conflict_events_total",
)

def alone(hazard: str) -> str:
    """Name of the run with only ``hazard`` switched on."""
    return f"{hazard}_alone"


# -- outcomes of one run ---------------------------------------------------------


def outcome_values(results) -> dict[str, float]:
    """Outcome totals and means over the horizon of one run: the catalogue's
    :data:`hssim.outcomes.RUN_OUTCOMES` (see :func:`hssim.outcomes.run_outcomes`).

    Parameters
    ----------
    results : Results  (or any object with ``timeseries``, ``summary`` and optionally ``sums``)

    Returns
    -------
    dict  outcome name -> value (float64), in a stable order; outcomes whose
    indicators the run does not have are left out.
    """
    return run_outcomes(results)


def describe(outcome: str) -> str:
    """A one-line description of an outcome name (:func:`hssim.outcomes.describe`)."""
    return describe_outcome(outcome)


# -- the result --------------------------------------------------------------------


@dataclass
class PolyRiskResult:
    """The decomposition of a set of runs.

    Attributes
    ----------
    table : DataFrame  one row per outcome, columns ``indicator, description,
        baseline, impact_<h>`` (one per hazard, in hazard order) ``, sum_isolated,
        joint, excess, excess_share``
    values : DataFrame  outcome x run: the raw outcome of every run
        (columns ``baseline, <h>_alone..., all``)
    hazards : tuple of str  the analysed hazards, in order
    runs : dict  run name -> :class:`~hssim.results.Results` (empty for a result
        built from values alone)
    series : DataFrame  month x run: regional ``ipc3plus_frac`` of every run
        (empty when the runs do not have it)
    meta : dict  seed, scenario, horizon, run time
    """

    table: pd.DataFrame
    values: pd.DataFrame
    hazards: tuple[str, ...]
    runs: dict[str, Any] = field(default_factory=dict, repr=False)
    series: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    # -- construction ------------------------------------------------------------
    @classmethod
    def from_values(cls, values: pd.DataFrame, hazards: Sequence[str], **kwargs) -> "PolyRiskResult":
        """Decompose a frame of outcomes (index: outcome; columns: ``baseline``,
        ``<h>_alone`` for each hazard, ``all``)."""
        hazards = tuple(hazards)
        need = [BASELINE, *(alone(h) for h in hazards), ALL]
        missing = [c for c in need if c not in values.columns]
        if missing:
            raise ValueError(f"values lack the runs {missing}; expected columns {need}")
        v = values[need].astype(np.float64)
        base = v[BASELINE].to_numpy()
        table = pd.DataFrame(
            {"indicator": [str(i) for i in v.index], "description": [describe(str(i)) for i in v.index]}
        )
        table["baseline"] = base
        sum_iso = np.zeros_like(base)
        for h in hazards:
            impact = v[alone(h)].to_numpy() - base
            table[f"impact_{h}"] = impact
            sum_iso = sum_iso + impact
        joint = v[ALL].to_numpy() - base
        excess = joint - sum_iso
        table["sum_isolated"] = sum_iso
        table["joint"] = joint
        table["excess"] = excess
        with np.errstate(invalid="ignore", divide="ignore"):
            table["excess_share"] = np.where(joint != 0, excess / np.where(joint != 0, joint, 1.0), np.nan)
        return cls(table=table, values=v, hazards=hazards, **kwargs)

    @classmethod
    def from_runs(
        cls, runs: Mapping[str, Any], hazards: Sequence[str], indicators: Sequence[str] | None = None, **kwargs
    ) -> "PolyRiskResult":
        """Decompose runs (``baseline``, ``<h>_alone``..., ``all`` -> Results)."""
        hazards = tuple(hazards)
        names = [BASELINE, *(alone(h) for h in hazards), ALL]
        missing = [n for n in names if n not in runs]
        if missing:
            raise ValueError(f"runs lack {missing}; expected {names}")
        per_run = {n: outcome_values(runs[n]) for n in names}
        common = [k for k in per_run[BASELINE] if all(k in per_run[n] for n in names)]
        if indicators is not None:
            unknown = [i for i in indicators if i not in common]
            if unknown:
                raise ValueError(f"unknown outcome(s) {unknown}; available: {', '.join(common)}")
            common = list(indicators)
        values = pd.DataFrame(
            {n: [per_run[n][k] for k in common] for n in names}, index=pd.Index(common, name="indicator")
        )
        series = {}
        for n in names:
            reg = _regional(runs[n].timeseries)
            if "ipc3plus_frac" in reg.columns:
                series[n] = reg["ipc3plus_frac"]
        frame = pd.DataFrame(series)
        frame.index.name = "month"
        return cls.from_values(values, hazards, runs=dict(runs), series=frame, **kwargs)

    # -- output ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready view (NaN -> null)."""
        runs = {}
        for name, res in self.runs.items():
            cfg = getattr(res, "config", {}) or {}
            hz = cfg.get("hazards", {}) if isinstance(cfg, Mapping) else {}
            runs[name] = {
                "hazards_enabled": sorted(
                    k for k, v in hz.items() if isinstance(v, Mapping) and v.get("enabled", True)
                ),
                "summary": getattr(res, "summary", {}),
            }
        config = {}
        if ALL in self.runs:
            config = getattr(self.runs[ALL], "config", {}) or {}
        return jsonable(
            {
                "hazards": list(self.hazards),
                "runs": [BASELINE, *(alone(h) for h in self.hazards), ALL],
                "meta": self.meta,
                "definitions": {
                    "impact_<h>": "outcome(<h> alone) - outcome(baseline)",
                    "sum_isolated": "sum of impact_<h> over hazards",
                    "joint": "outcome(all) - outcome(baseline)",
                    "excess": "joint - sum_isolated (positive: compounding; negative: sub-additive)",
                    "excess_share": "excess / joint",
                },
                "table": self.table.to_dict(orient="records"),
                "values": {str(k): v for k, v in self.values.to_dict(orient="index").items()},
                "run_summaries": runs,
                "config": config,
            }
        )

    def save(self, path: str | os.PathLike, extras: Mapping[str, Any] | None = None) -> Path:
        """Write ``polyrisk.csv`` and ``polyrisk.json`` into the folder ``path`` (created
        if needed), each under a temporary name and renamed; ``polyrisk.json`` comes last
        and marks a complete folder. ``extras`` (file name -> ``write(temporary_path)``)
        are written before it: the report layer's figure
        (:func:`hssim.report.polyrisk_figure.save_polyrisk`)."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "polyrisk.csv", lambda p: self.table.to_csv(p, index=False))
        for name, write in (extras or {}).items():
            atomic_write(out / name, write)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        atomic_write(out / "polyrisk.json", lambda p: p.write_text(text))
        return out

    def format_table(self) -> str:
        """The table as compact text (for the console)."""
        cols = ["baseline", *(f"impact_{h}" for h in self.hazards), "sum_isolated", "joint", "excess"]
        head = ["indicator", "baseline", *self.hazards, "sum isol.", "joint", "excess", "excess/joint"]
        rows = []
        for _, r in self.table.iterrows():
            share = r["excess_share"]
            rows.append(
                [
                    r["indicator"],
                    *(_fmt(r[c], signed=c != "baseline") for c in cols),
                    "-" if not np.isfinite(share) else f"{share:+.1%}",
                ]
            )
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))]
        for row in rows:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        return "\n".join(lines)


def _fmt(x: float, signed: bool = False) -> str:
    if not np.isfinite(x):
        return "-"
    sign = "+" if signed and x > 0 else ""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{sign}{x:,.0f}"
    if abs(x) >= 1:
        return f"{sign}{x:.1f}"
    return f"{sign}{x:.4f}"


# -- configurations of the runs --------------------------------------------------


def select_hazards(cfg, hazards: Iterable[str] | None = None) -> tuple[str, ...]:
    """The hazards to analyse: ``hazards`` (checked against the config), or every
    hazard of the config that is enabled.

    ``cfg`` is a validated :class:`~hssim.config.schema.Config`.

    Raises
    ------
    ConfigError  for a name that is not a configured hazard, a repeated name, a
        hazard without an ``enabled`` switch, or when no hazard is left to analyse.
    """
    configured = dict(cfg.hazards)
    if hazards is None:
        chosen = [n for n, h in configured.items() if getattr(h, "enabled", True)]
        if not chosen:
            raise ConfigError(
                "hazards",
                ", ".join(configured) or "{}",
                "at least one enabled hazard to decompose (enable one, or name them with --hazards)",
            )
    else:
        chosen = [str(h).strip() for h in hazards if str(h).strip()]
        if not chosen:
            raise ConfigError("--hazards", "", "one or more hazard names")
        for h in chosen:
            if h not in configured:
                raise ConfigError(
                    "--hazards", h, "a configured hazard (one of " + ", ".join(repr(k) for k in configured) + ")"
                )
        dupes = sorted({h for h in chosen if chosen.count(h) > 1})
        if dupes:
            raise ConfigError("--hazards", dupes[0], "each hazard named once")
    for h in chosen:
        if not any(f.name == "enabled" for f in dataclasses.fields(configured[h])):
            raise ConfigError(
                f"hazards.{h}", configured[h].kind, "a hazard that can be switched off (an 'enabled' field)"
            )
    return tuple(chosen)


def run_configs(cfg, hazards: Sequence[str]) -> dict[str, Any]:
    """Run name -> Config: ``baseline`` (analysed hazards off), ``<h>_alone``
    (only ``h`` of them on), ``all`` (all of them on). Everything else, seed
    included, is ``cfg``."""

    def with_on(on: set[str]):
        hz = {n: (dataclasses.replace(h, enabled=(n in on)) if n in hazards else h) for n, h in cfg.hazards.items()}
        return dataclasses.replace(cfg, hazards=types.MappingProxyType(hz))

    out = {BASELINE: with_on(set())}
    for h in hazards:
        out[alone(h)] = with_on({h})
    out[ALL] = with_on(set(hazards))
    return out


def polyrisk(
    cfg: Any = None,
    indicators: Sequence[str] | None = None,
    hazards: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> PolyRiskResult:
    """Run baseline, each hazard alone and all together on the same seed, and decompose.

    Parameters
    ----------
    cfg : DictConfig, mapping or Config, optional  (default: ``hssim.compose()``)
    indicators : list of str, optional  outcomes to report (default: every outcome
        the runs support, see :func:`outcome_values`)
    hazards : iterable of str, optional  hazards to analyse (default: those present
        and enabled in ``cfg.hazards``); a named hazard is switched on in its runs
        even if the config disables it
    progress : callable, optional  ``progress(k, n_runs, run_name)`` after run ``k``
        (1-based) finishes

    Returns
    -------
    PolyRiskResult

    Raises
    ------
    hssim.errors.UserError  for an invalid config or hazard selection (before any run).
    ValueError  for an unknown outcome name in ``indicators``.
    """
    from .config.build import prepare
    from .runs import Design, Job, compose, execute, run_results

    if cfg is None:
        cfg = compose()
    config, scenario = prepare(cfg)
    chosen = select_hazards(config, hazards)
    configs = run_configs(config, chosen)
    # one replicate of every run on the config's seed: common random numbers across the runs
    design = Design(tuple(configs), replicates=1, base_seed=int(config.seed))
    jobs = [Job(key, configs[key.arm]) for key in design.runs()]
    report = None
    if progress is not None:
        def report(k: int, total: int, job: Job, stored: bool) -> None:
            progress(k, total, job.key.arm)
    t0 = time.perf_counter()
    done, _ = execute(jobs, run_results, progress=report)
    runs: dict[str, Results] = {job.key.arm: done[job.key] for job in jobs}
    meta = {
        "seed": int(config.seed),
        "scenario": config.scenario.name,
        "storyline": config.storyline.name,
        "households": int(config.population.households),
        "months": int(config.months),
        "spinup_months": int(config.spinup_months),
        "districts": list(scenario.names),
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    return PolyRiskResult.from_runs(runs, chosen, indicators=indicators, meta=meta)


# -- command line ------------------------------------------------------------------
