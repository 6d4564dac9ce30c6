"""The public Python API: compose a config, run it, get results.

Composition lives in :mod:`hssim.runs.compose` (below the analyses, which compose arms
the same way); it is re-exported here with the helpers the command lines use.
"""

from __future__ import annotations

from typing import Any

from .results import Results
from .runs.compose import (  # noqa: F401  the public face of the composition core
    ALLOWED_CALLBACKS,
    _hydra_reason,
    _offending_override,
    compose,
    hydra_quote,
    hydra_searchpath,
    refuse_code,
)
from .runs.execute import run_results

__all__ = ["compose", "run"]


def run(cfg: Any = None, validate: bool = False, progress=None) -> Results:
    """Run one simulation and return its :class:`~hssim.results.Results`.

    Parameters
    ----------
    cfg : DictConfig, mapping or Config, optional  (default: ``compose()``)
    validate : bool  check state invariants after every month (slower)
    progress : callable, optional  ``progress(tick, n_ticks)`` after each month
    """
    return run_results(compose() if cfg is None else cfg, validate=validate, progress=progress)
