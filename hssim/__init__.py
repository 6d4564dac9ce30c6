"""hssim: a numba-accelerated agent-based model of human security under poly-risk.

Public API::

    import hssim
    cfg = hssim.compose(["seed=7", "months=60"])
    res = hssim.run(cfg)
    res.timeseries      # tidy frame: month, district, group, indicator, value
    res.summary         # dict of scalar outcomes
    hssim.save_run(res, "out/")   # parquet, json, yaml, png, report.html
    res.save("data/")             # the data only

Importing hssim has no side effects (no thread counts, RNG seeds or start methods
are set).
"""

from __future__ import annotations

from .api import compose, run
from .config.build import build_engine, load_config
from .errors import ConfigError, ScenarioError, UserError
from .report.run_report import save_run
from .results import Results
from .version import __version__

__all__ = [
    "compose",
    "run",
    "save_run",
    "Results",
    "build_engine",
    "load_config",
    "UserError",
    "ConfigError",
    "ScenarioError",
    "__version__",
]
