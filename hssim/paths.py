"""Where hssim's data lives, for an editable checkout and an installed wheel alike.

A wheel carries ``configs/`` and ``scenarios/`` inside the package as
``hssim/_data/``; an editable install or a source checkout uses the folders at the
repository root. Either way the CLI finds them from any working directory.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "configs_dir", "scenarios_dir"]

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
