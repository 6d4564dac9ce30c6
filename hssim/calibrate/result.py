"""What a calibration found: the plausible parameter sets, how well each parameter is
identified, and how each target is fitted.

**Plausible sets** (``plausible: in_bands``, the default): the complete trials whose
every calibration target lies in its band (distance 0): history matching with the
published bands as the cut-off. When no trial lands in every band, the best
``best_fraction`` of the trials (at least one) are kept and the result says so
(``all_in_bands`` false): the model cannot reach every band with these free parameters,
which is a finding, not something to hide. ``plausible: best_fraction`` always keeps the
best fraction.

**Identification** of a parameter: the spread of its plausible values against its prior
range (``range_ratio``: 1 = the targets say nothing about it, near 0 = pinned down), with
the plausible median and 5-95% range.

**Fit** of a target: the band, the best trial's value, and the range of the plausible
sets' values (seeds' means), with the share of all trials that landed in the band.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..results import atomic_write
from ..targets import Target
from ..validate import to_dict
from .schema import CalibrationConfig

__all__ = ["CalibrationResult", "load_result", "summarise"]


@dataclass
class CalibrationResult:
    """The outcome of a calibration (see the module docstring).

    Attributes
    ----------
    config : CalibrationConfig
    trials : DataFrame  one row per complete trial: ``number``, ``distance``, ``in_bands``,
        one column per parameter, one per target (``indicator|district|period``)
    plausible : DataFrame  the plausible rows of ``trials``, best first
    all_in_bands : bool  the plausible sets land in every band (else: the best fraction)
    identification : DataFrame  one row per parameter
    fit : DataFrame  one row per calibration target
    storage : str  the study's storage URL (password hidden)
    scenario_name : str  ``scenario.name`` of the fitted runs (what
        :func:`hssim.runs.parameter_sets.load_parameter_sets` checks a run against)
    """

    config: CalibrationConfig
    trials: pd.DataFrame
    plausible: pd.DataFrame
    all_in_bands: bool
    identification: pd.DataFrame
    fit: pd.DataFrame
    storage: str = ""
    scenario_name: str = ""
    #: complete trials of the study (0: ``len(trials)``; a result read back without its
    #: trials.csv keeps the count here)
    n_trials: int = 0

    @property
    def complete_trials(self) -> int:
        return self.n_trials or int(len(self.trials))

    @property
    def best(self) -> dict[str, float]:
        """The parameter values of the trial with the smallest distance."""
        if self.trials.empty:
            return {}
        row = self.trials.sort_values(["distance", "number"]).iloc[0]
        return {k: float(row[k]) for k in self.config.parameters}

    def parameter_sets(self) -> list[dict[str, float]]:
        """The plausible sets, best first: name -> value."""
        return [{k: float(r[k]) for k in self.config.parameters} for _, r in self.plausible.iterrows()]

    def to_json(self) -> dict[str, Any]:
        cal = self.config
        return {
            "calibration": cal.name,
            "scenario": cal.scenario,
            "scenario_name": self.scenario_name,
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "config": to_dict(cal),
            "storage": self.storage,
            "complete_trials": self.complete_trials,
            "all_in_bands": bool(self.all_in_bands),
            "best": self.best,
            "parameters": {k: {"path": p.path, "low": p.low, "high": p.high, "log": p.log, "source": p.source}
                           for k, p in cal.parameters.items()},
            "plausible_sets": self.parameter_sets(),
            "identification": self.identification.to_dict(orient="records"),
            "fit": _records(self.fit),
        }

    def fitted_yaml(self, command: str = "") -> str:
        """The best parameter set as a Hydra config (``# @package _global_``): copy it to
        ``configs/fitted/<name>.yaml`` and run with ``fitted=<name>``."""
        cal = self.config
        today = _dt.date.today().isoformat()
        lines = ["# @package _global_",
                 f"# Fitted by hssim-calibrate on {today}: calibration {cal.name!r}, scenario {cal.scenario!r},",
                 f"# {self.complete_trials} trials, seeds {list(cal.seeds)}, {cal.households} households, {cal.months} months.",
                 f"# {'Every calibration band met' if self.all_in_bands else 'No trial met every calibration band'}"
                 f" ({len(self.plausible)} plausible set(s); this is the best).",
                 "# Command: " + (command or f"hssim-calibrate calibration={cal.name}"),
                 "# Plausible 5-95% ranges: see calibration.json / identification.csv of that run."]
        tree: dict = {}
        for k, v in self.best.items():
            node = tree
            parts = cal.parameters[k].path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = float(f"{v:.4g}")
        import yaml

        return "\n".join(lines) + "\n" + yaml.safe_dump(tree, sort_keys=False)

    def save(self, path: str | Path, command: str = "") -> Path:
        """Write ``trials.csv``, ``plausible.csv``, ``identification.csv``, ``fit.csv``,
        ``fitted.yaml`` (:meth:`fitted_yaml`) and ``calibration.json`` (last) into ``path``
        (each to a temporary name, then renamed)."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if len(self.trials):
            text_yaml = self.fitted_yaml(command)
            atomic_write(out / "fitted.yaml", lambda p: p.write_text(text_yaml, encoding="utf-8"))
        for name, frame in (("trials.csv", self.trials), ("plausible.csv", self.plausible),
                            ("identification.csv", self.identification), ("fit.csv", self.fit)):
            atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False))
        text = json.dumps(self.to_json(), indent=2, allow_nan=False, default=_plain)
        atomic_write(out / "calibration.json", lambda p: p.write_text(text + "\n", encoding="utf-8"))
        return out


def load_result(folder: str | Path) -> CalibrationResult:
    """A saved calibration read back (``calibration.json``, ``plausible.csv``,
    ``identification.csv``, ``fit.csv`` and, when present, ``trials.csv``: a shipped
    scenario's ``calibration/`` folder holds no trials, and the plausible sets stand in).

    Raises
    ------
    UserError  naming the folder and the file that is missing or unreadable.
    """
    from ..errors import UserError
    from ..validate import from_mapping

    root = Path(folder)
    f = root / "calibration.json"
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        cal = from_mapping(CalibrationConfig, doc["config"], "config")
        frames = {n: pd.read_csv(root / f"{n}.csv") for n in ("plausible", "identification", "fit")}
        trials = pd.read_csv(root / "trials.csv") if (root / "trials.csv").is_file() else frames["plausible"]
    except FileNotFoundError as exc:
        raise UserError(f"{root}: not a calibration folder written by hssim-calibrate ({exc.filename} is missing)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{root}: unreadable calibration ({type(exc).__name__}: {exc})") from None
    return CalibrationResult(cal, trials, frames["plausible"], bool(doc.get("all_in_bands", False)),
                             frames["identification"], frames["fit"], str(doc.get("storage", "")),
                             str(doc.get("scenario_name", "")), int(doc.get("complete_trials", 0) or 0))


def _plain(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(type(x).__name__)


def _records(frame: pd.DataFrame) -> list[dict]:
    # JSON has no NaN: an open bound is null
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def _key(t: Target) -> str:
    """The target's column in :attr:`CalibrationResult.trials`: indicator|district|period|storyline
    (the storyline empty for the no-shock run)."""
    return f"{t.indicator}|{t.district}|{t.period}|{t.storyline}"


def summarise(cal: CalibrationConfig, records: Sequence[dict], targets: Sequence[Target], storage: str = "",
              scenario_name: str = "") -> CalibrationResult:
    """Turn the study's complete trials (:func:`hssim.calibrate.study.trial_records`)
    into a :class:`CalibrationResult`."""
    names = list(cal.parameters)
    keys = [_key(t) for t in targets]
    rows = []
    for r in records:
        row = {"number": r["number"], "distance": r["distance"], "in_bands": r["in_bands"]}
        row.update({k: r["params"].get(k, math.nan) for k in names})
        row.update({k: r["model"].get(k, math.nan) for k in keys})
        rows.append(row)
    trials = pd.DataFrame(rows, columns=["number", "distance", "in_bands", *names, *keys])
    trials = trials.sort_values("number", kind="stable").reset_index(drop=True)
    ranked = trials.sort_values(["distance", "number"], kind="stable")
    inside = ranked[ranked["in_bands"].astype(bool)]
    if cal.plausible == "in_bands" and len(inside):
        plausible, all_in = inside, True
    else:
        k = max(1, int(math.ceil(cal.best_fraction * len(ranked)))) if len(ranked) else 0
        plausible = ranked.head(k)
        all_in = bool(len(plausible)) and bool(plausible["in_bands"].all())
    plausible = plausible.reset_index(drop=True)

    ident = []
    for k, p in cal.parameters.items():
        v = plausible[k].to_numpy(dtype=np.float64) if len(plausible) else np.array([])
        span = (math.log(p.high) - math.log(p.low)) if p.log else (p.high - p.low)
        if len(v):
            lo5, med, hi95 = np.quantile(v, [0.05, 0.5, 0.95])
            spread = (math.log(hi95) - math.log(lo5)) if p.log else (hi95 - lo5)
        else:
            lo5 = med = hi95 = spread = math.nan
        ident.append({"parameter": k, "path": p.path, "prior_low": p.low, "prior_high": p.high,
                      "plausible_median": float(med), "plausible_p05": float(lo5), "plausible_p95": float(hi95),
                      "range_ratio": float(spread / span) if span > 0 else math.nan, "plausible_sets": int(len(v))})
    identification = pd.DataFrame(ident)

    fit = []
    best = ranked.iloc[0] if len(ranked) else None
    for t, key in zip(targets, keys):
        vals = plausible[key].to_numpy(dtype=np.float64) if len(plausible) else np.array([])
        share = float(np.mean([t.contains(float(x)) for x in trials[key]])) if len(trials) else math.nan
        fit.append({"indicator": t.indicator, "district": t.district, "period": t.period, "storyline": t.storyline,
                    "role": t.role,
                    "low": t.low, "high": t.high, "value": t.value,
                    "best": float(best[key]) if best is not None else math.nan,
                    "plausible_min": float(np.nanmin(vals)) if len(vals) else math.nan,
                    "plausible_max": float(np.nanmax(vals)) if len(vals) else math.nan,
                    "best_in_band": bool(best is not None and t.contains(float(best[key]))),
                    "trials_in_band_frac": share, "source": t.source})
    return CalibrationResult(cal, trials, plausible, all_in, identification, pd.DataFrame(fit), storage, scenario_name)
