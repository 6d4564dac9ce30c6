"""Reading and checking a calibration: the YAML file of the ``calibration`` group, its
overrides, its targets, and everything a trial needs (checked before any trial runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, UserError
from .schema import CalibrationConfig

__all__ = ["load_calibration", "calibration_targets", "check_calibration"]


def _find(name: str, config_dirs: Sequence[str]) -> Path:
    from ..paths import group_file, group_names

    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise UserError(f"calibration file not found: {p}")
        return p
    found = group_file("calibration", name, config_dirs)
    if found is not None:
        return found
    have = group_names("calibration", config_dirs)
    raise ConfigError("calibration", name, "a calibration of the group 'calibration' (" + ", ".join(have) + ")"
                      if have else "a calibration file")


def load_calibration(name: str, overrides: Sequence[str] = (), config_dirs: Sequence[str] = ()) -> CalibrationConfig:
    """Read, override and validate a calibration.

    Parameters
    ----------
    name : str  a name of the ``calibration`` group (``configs/calibration/<name>.yaml``
        or ``<config_dir>/calibration/<name>.yaml``) or a path to a YAML file
    overrides : list of str  ``key=value`` on the calibration's fields (``trials=20``,
        ``parameters.p_mam_per_gap.high=0.9``)
    config_dirs : folders searched before the shipped configs

    Raises
    ------
    hssim.ConfigError  naming the field (unknown key, wrong type, out of range, bounds
        reversed, unknown config path, target or district).
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from ..validate import from_mapping

    file = _find(name, config_dirs)
    try:
        for o in overrides:
            if "=" not in o:
                raise ConfigError("override", o, "key=value")
        # values parse as YAML (seeds=[1,2], trials=80), as in a Hydra override
        data = OmegaConf.merge(OmegaConf.load(file), OmegaConf.from_dotlist(list(overrides)))
        plain = OmegaConf.to_container(data, resolve=True)
    except OmegaConfBaseException as exc:
        raise UserError(f"{file}: {exc}") from None
    if not isinstance(plain, dict):
        raise ConfigError("calibration", plain, f"a mapping in {file}")
    cal = from_mapping(CalibrationConfig, plain, "")
    cal.validate()
    return cal


def calibration_targets(cal: CalibrationConfig, scenario=None, role: str | None = "calibration",
                        config_dirs: Sequence[str] = ()):
    """The targets of ``cal`` with ``role`` (None: every row; ``targets_used`` narrows the
    calibration ones).

    """
    from ..targets import load_targets

    folder = cal.targets or getattr(scenario, "folder", "") or cal.scenario
    every = load_targets(folder, scenario, config_dirs)
    targets = [t for t in every if role is None or t.role == role]

    if role == "calibration" and cal.targets_used:
        by = {f"{t.indicator}|{t.district}|{t.period}|{t.storyline}": t for t in targets}
        by.update({f"{t.indicator}|{t.district}|{t.period}": t for t in targets if not t.storyline})
        by.update({t.indicator: t for t in targets if sum(u.indicator == t.indicator for u in targets) == 1})
        for i, u in enumerate(cal.targets_used):
            if u not in by:
                raise ConfigError(f"targets_used[{i}]", u,
                                  "a calibration target of the table: an indicator, indicator|district|period, "
                                  "or indicator|district|period|storyline")
        chosen = {id(by[u]) for u in cal.targets_used}
        targets = [t for t in targets if id(t) in chosen]
    if role == "calibration" and not targets:
        raise ConfigError("targets", folder, "a targets table with at least one calibration row")
    return targets


def check_calibration(cal: CalibrationConfig, config_dirs: Sequence[str] = ()):
    """Everything a calibration needs, checked before any trial: the composed base config,
    every parameter path in it (a number), the scenario and its calibration targets.

    Returns
    -------
    (base config dict, Scenario, targets)
    """
    from ..runs.paths import get_path
    from ..scenario import load_scenario
    from .objective import base_config

    base = base_config(cal, config_dirs)
    for k, p in cal.parameters.items():
        v = get_path(base, p.path, where=f"parameters.{k}.path")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"parameters.{k}.path", p.path, "the path of a number in the run config")
    sc = base["scenario"]
    folder = sc.get("path") or sc["name"]
    scenario = load_scenario(folder)
    if not cal.targets:  # the scenario's own table
        import dataclasses

        cal = dataclasses.replace(cal, targets=folder)
    targets = calibration_targets(cal, scenario, config_dirs=config_dirs)
    return base, scenario, targets
