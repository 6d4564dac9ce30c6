"""Sensitivity sweeps: SALib experiments declared in config, evaluated in chunks as
Hydra jobs (any launcher: basic, joblib, submitit on Slurm), stored as resumable
parquet shards, and analysed into tidy index tables and figures.

Modules: :mod:`~hssim.sweep.schema` (what an experiment declares),
:mod:`~hssim.sweep.design` (sample, seeds, chunks), :mod:`~hssim.sweep.models`
(hssim or an analytic test function), :mod:`~hssim.sweep.store` (shards and
manifest), :mod:`~hssim.sweep.runner` (plan and evaluate chunks),
:mod:`~hssim.sweep.analysis` (indices and tables; the report layer's
:mod:`~hssim.report.sweep_report` writes them with their figures); the command
lines are :mod:`hssim.cli.sweep` (``hssim-sweep``, ``hssim-sweep-analyse``).
"""

from .runner import evaluate_chunk, load_sweep_config, plan, point_table
from .schema import ExperimentConfig, OutputConfig, ParameterConfig, SweepConfig
from .store import Store

__all__ = [
    "ExperimentConfig",
    "OutputConfig",
    "ParameterConfig",
    "Store",
    "SweepConfig",
    "evaluate_chunk",
    "load_sweep_config",
    "plan",
    "point_table",
]
