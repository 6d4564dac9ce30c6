"""Calibration: fit free parameters to a scenario's calibration targets with Optuna,
keep the plausible parameter sets, and say how well each parameter is identified.

::

    from hssim.calibrate import load_calibration, calibrate
    cal = load_calibration("turkana", ["trials=40"])
    res = calibrate(cal, out="calibration/turkana", workers=2)
    res.plausible; res.identification; res.fit; res.save("calibration/turkana")

Modules: :mod:`~hssim.calibrate.schema` (what a calibration declares),
:mod:`~hssim.calibrate.objective` (a trial: runs over the seeds, the distance to the
bands), :mod:`~hssim.calibrate.study` (the Optuna study on persistent storage, workers,
resuming), :mod:`~hssim.calibrate.result` (plausible sets, identification, fit). The
command line is :mod:`hssim.cli.calibrate` (``hssim-calibrate``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from ..errors import UserError
from .result import CalibrationResult, summarise
from .schema import CalibrationConfig, FreeParameter
from .setup import calibration_targets, check_calibration, load_calibration

__all__ = ["CalibrationConfig", "FreeParameter", "CalibrationResult", "load_calibration", "check_calibration",
           "calibration_targets", "calibrate", "result_of", "validate"]


def result_of(cal: CalibrationConfig, storage: str, targets, scenario_name: str = "") -> CalibrationResult:
    """The :class:`CalibrationResult` of the study ``cal`` in ``storage`` as it stands
    (``scenario_name``: ``scenario.name`` of the fitted runs, recorded with the sets)."""
    from .study import hide_password, open_study, trial_records

    study = open_study(cal, storage)
    return summarise(cal, trial_records(study), targets, storage=hide_password(storage),
                     scenario_name=scenario_name)


def calibrate(cal: CalibrationConfig, out: str | Path | None = None, workers: int = 1, storage: str | None = None,
              config_dirs: Sequence[str] = ()) -> CalibrationResult:
    """Run (or continue) the calibration and return its result (saved to ``out`` when given).

    Parameters
    ----------
    cal : CalibrationConfig  (:func:`load_calibration`)
    out : folder of the study (default storage ``sqlite:///<out>/study.db``) and results
    workers : processes adding trials to the one study
    storage : a study storage URL (default: SQLite in ``out``; required without ``out``)
    """
    from .study import default_storage, optimize

    if storage is None and out is None:
        raise UserError("calibrate: give an output folder (out=) or a study storage (storage=)")
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    url = storage or default_storage(out)
    base, scenario, targets = check_calibration(cal, config_dirs)
    optimize(cal, url, targets, scenario, workers=workers, config_dirs=config_dirs)
    res = result_of(cal, url, targets, base["scenario"]["name"])
    if out is not None:
        res.save(out)
    return res


def validate(cal: CalibrationConfig, result: CalibrationResult, config_dirs: Sequence[str] = (), progress=None):
    """Every target of the scenario (both roles, no-shock and crisis hindcasts) against the
    model at the best ``cal.validation_sets`` plausible sets
    (:func:`hssim.calibrate.validation.validate_fit`)."""
    from .validation import validate_fit

    base, scenario, _ = check_calibration(cal, config_dirs)
    if not cal.targets:  # the scenario's own table
        cal = dataclasses.replace(cal, targets=base["scenario"].get("path") or base["scenario"]["name"])
    every = calibration_targets(cal, scenario, role=None, config_dirs=config_dirs)
    sets = result.parameter_sets()[: max(1, cal.validation_sets)]
    return validate_fit(cal, sets, every, scenario, config_dirs, progress=progress)
