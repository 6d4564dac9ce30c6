"""Checking that arms are comparable before anything runs: the same scenario and horizon
in every arm, and no arm with a seed of its own (every arm runs the design's seeds, so
differences between arms are on common random numbers)."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from ..validate import to_dict

__all__ = ["check_comparable"]


def check_comparable(configs: Mapping[str, Any], seed: int | None = None) -> None:
    """Raise :class:`ConfigError` naming the first arm that differs from the first arm.

    Parameters
    ----------
    configs : arm name -> validated Config
    seed : the seed every arm's config must hold (the common overrides' seed); None: not checked
    """
    first = None
    for name, cfg in configs.items():
        if seed is not None and cfg.seed != seed:
            raise ConfigError(
                f"arms[{name!r}]", f"seed={cfg.seed}",
                "no seed in an arm: every arm runs the same seeds (common random numbers); "
                "set the seed for all arms with seed=N",
            )
        first = cfg if first is None else first
        for key in ("months", "spinup_months"):
            if getattr(cfg, key) != getattr(first, key):
                raise ConfigError(
                    f"arms[{name!r}]", f"{key}={getattr(cfg, key)}",
                    f"the same {key} in every arm ({getattr(first, key)}): outcomes are totals over the horizon",
                )
        if to_dict(cfg.scenario) != to_dict(first.scenario):
            raise ConfigError(f"arms[{name!r}]", cfg.scenario.name, "the same scenario in every arm")
