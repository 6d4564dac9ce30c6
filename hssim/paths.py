"""Where hssim's data lives, for an editable checkout and an installed wheel alike.

A wheel carries ``configs/`` and ``scenarios/`` inside the package as
``hssim/_data/``; an editable install or a source checkout uses the folders at the
repository root. Either way the CLI finds them from any working directory.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "configs_dir", "scenarios_dir", "group_file", "group_names"]

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"hssim data folder {name!r} not found next to {_PKG}")


def configs_dir() -> Path:
    return data_dir("configs")


def scenarios_dir() -> Path:
    return data_dir("scenarios")


def group_file(group: str, name: str, config_dirs=()) -> Path | None:
    """``<dir>/<group>/<name>.yaml`` of the first of ``config_dirs`` (then hssim's configs)
    that has it, as Hydra's search path finds a config group's option; None if none has."""
    for d in [*config_dirs, configs_dir()]:
        f = Path(d) / group / f"{name}.yaml"
        if f.is_file():
            return f
    return None


def group_names(group: str, config_dirs=()) -> list[str]:
    """The options of a config group across ``config_dirs`` and hssim's configs, sorted."""
    return sorted({f.stem for d in [*config_dirs, configs_dir()] for f in (Path(d) / group).glob("*.yaml")})
