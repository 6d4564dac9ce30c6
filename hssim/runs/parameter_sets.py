"""Parameter uncertainty for comparisons and sweeps: the plausible parameter sets of a
calibration, drawn replicate by replicate.

A calibration (``hssim-calibrate``) keeps every trial that lands in all its bands (or
the closest ones) as *plausible sets* and writes them to ``calibration.json``; each
shipped scenario carries its own in ``scenarios/<folder>/calibration/``. Asking for
``parameters=calibrated`` (``hssim-compare --parameters calibrated``, an experiment's
``parameter_sets: calibrated``) runs replicate ``r`` at plausible set ``r mod K``
(best first), the same set in every arm of a replicate, so:

- a comparison stays paired (every arm of a replicate shares its seed *and* its
  parameter set), and its intervals now span parameter uncertainty as well as the
  draws: with R replicates and K sets, each set is used ``R // K`` or ``R // K + 1``
  times; take R a multiple of K for equal weights;
- the sets are stored in the comparison's spec or the sweep's header, so resuming (or a
  Slurm job) uses the very sets the work began with, even if the file changes.

Where a swept parameter sets a path a plausible set also sets, the swept value holds
(the set is applied first).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .paths import set_path

__all__ = ["ParameterSets", "load_parameter_sets"]
#: most parameter sets one file may hold (a guard against a runaway file)
MAX_SETS = 10_000


@dataclass(frozen=True)
class ParameterSets:
    """The plausible parameter sets of one calibration.

    Attributes
    ----------
    source : str  the file they were read from (as given)
    calibration : str  the calibration's name
    scenario : str  the scenario's name (``scenario.name`` of the runs it fits)
    paths : tuple of (name, dotted path)  the free parameters, in order
    sets : tuple of tuple of float  [K][n_parameters], best first
    all_in_bands : bool  every set lands in every calibration band (else: the closest trials)
    """

    source: str
    calibration: str
    scenario: str
    paths: tuple[tuple[str, str], ...]
    sets: tuple[tuple[float, ...], ...]
    all_in_bands: bool = True

    def __len__(self) -> int:
        return len(self.sets)

    def index(self, replicate: int) -> int:
        """The set replicate ``replicate`` runs at: ``replicate mod K``."""
        return int(replicate) % len(self.sets)

    def values(self, replicate: int) -> dict[str, float]:
        """Dotted path -> value of the set replicate ``replicate`` runs at."""
        row = self.sets[self.index(replicate)]
        return {path: v for (_, path), v in zip(self.paths, row)}

    def apply(self, cfg: MutableMapping, replicate: int, where: str = "parameters") -> None:
        """Set replicate ``replicate``'s values on the plain run config ``cfg`` in place.

        Raises
        ------
        ConfigError  at ``where`` when a path does not exist in ``cfg``.
        """
        for path, v in self.values(replicate).items():
            set_path(cfg, path, v, where=where)

    def describe(self) -> str:
        kind = "plausible" if self.all_in_bands else "closest (no trial met every band)"
        return (f"{len(self)} {kind} parameter set(s) of calibration {self.calibration!r} "
                f"({', '.join(n for n, _ in self.paths)}; {self.source})")

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "calibration": self.calibration, "scenario": self.scenario,
                "paths": [list(p) for p in self.paths], "sets": [list(s) for s in self.sets],
                "all_in_bands": self.all_in_bands}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str = "parameter_sets") -> "ParameterSets":
        """Read back :meth:`to_json` (a comparison's spec, a sweep's header), checked."""
        try:
            paths = tuple((str(n), str(p)) for n, p in doc["paths"])
            sets = tuple(tuple(float(v) for v in s) for s in doc["sets"])
            out = cls(str(doc["source"]), str(doc["calibration"]), str(doc["scenario"]), paths, sets,
                      bool(doc.get("all_in_bands", True)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(where, str(doc)[:80], f"stored parameter sets ({type(exc).__name__}: {exc})") from None
        _check_sets(out.paths, out.sets, where)
        return out


def _check_sets(paths, sets, where: str) -> None:
    if not paths:
        raise ConfigError(where, "[]", "a calibration with at least one free parameter")
    if not sets:
        raise ConfigError(where, "[]", "at least one plausible parameter set")
    if len(sets) > MAX_SETS:
        raise ConfigError(where, len(sets), f"at most {MAX_SETS:,} parameter sets")
    for i, s in enumerate(sets):
        if len(s) != len(paths) or not all(math.isfinite(v) for v in s):
            raise ConfigError(f"{where}.plausible_sets[{i}]", list(s),
                              f"a finite value for each of {', '.join(n for n, _ in paths)}")


def _calibration_file(spec: str, scenario_cfg: Mapping[str, Any], where: str) -> Path:
    """The calibration.json that ``spec`` names for a run of ``scenario_cfg``."""
    from ..scenario import resolve_scenario_path

    if spec == "calibrated":
        folder = resolve_scenario_path(str(scenario_cfg.get("path") or scenario_cfg.get("name") or ""))
        f = folder / "calibration" / "calibration.json"
        if not f.is_file():
            raise ConfigError(where, spec,
                              f"a scenario with a shipped calibration ({f} does not exist: run hssim-calibrate "
                              "for this scenario and pass its folder, parameters=<folder>)")
        return f
    p = Path(spec).expanduser()
    f = p / "calibration.json" if p.is_dir() else p
    if not f.is_file():
        raise ConfigError(where, spec, "none, calibrated, or a calibration folder or calibration.json "
                                              "written by hssim-calibrate (no such file)")
    return f


def load_parameter_sets(spec: str | None, scenario_cfg: Mapping[str, Any], where: str = "parameters") -> ParameterSets | None:
    """The parameter sets ``spec`` names for runs of the scenario ``scenario_cfg`` (the
    ``scenario`` section of a plain run config), or None for ``none`` / empty.

    Parameters
    ----------
    spec : ``"none"``, ``"calibrated"`` (``<scenario folder>/calibration/calibration.json``)
        or the path of a calibration folder or of its ``calibration.json``

    Raises
    ------
    ConfigError  naming ``where``: no such file, not a calibration written by
        hssim-calibrate, no plausible set, or a calibration of another scenario.
    """
    spec = "" if spec is None else str(spec).strip()
    if spec in ("", "none"):
        return None
    f = _calibration_file(spec, scenario_cfg, where)
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(where, str(f), f"a readable calibration.json ({type(exc).__name__}: {exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict) or not isinstance(doc.get("plausible_sets"), list):
        raise ConfigError(where, str(f), "a calibration.json written by hssim-calibrate "
                                                "(with 'parameters' and 'plausible_sets')")
    run_scenario = str(scenario_cfg.get("name", ""))
    fitted = doc.get("scenario_name")
    if not fitted:
        raise ConfigError(where, str(f), "a calibration.json naming the scenario it fits ('scenario_name'; "
                                                "files written before it: run the same hssim-calibrate command "
                                                "again, which only re-saves a finished study)")
    if str(fitted) != run_scenario:
        raise ConfigError(where, str(f), f"a calibration of this run's scenario {run_scenario!r} "
                                                f"(it fits {fitted!r})")
    try:
        paths = tuple((str(n), str(p["path"])) for n, p in doc["parameters"].items())
        sets = tuple(tuple(float(s[n]) for n, _ in paths) for s in doc["plausible_sets"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(where, str(f), f"plausible sets with a value for every parameter ({exc})") from None
    _check_sets(paths, sets, where)
    return ParameterSets(str(f), str(doc.get("calibration", "")), str(fitted), paths, sets,
                         bool(doc.get("all_in_bands", True)))
