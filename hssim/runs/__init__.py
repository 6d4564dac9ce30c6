"""The runs layer: everything that turns configurations into finished runs, shared by
the analyses (compare, polyrisk, sweep) and the faces.

- :mod:`~hssim.runs.design`: arms x replicates (x sample points) and the seed policy
  (common random numbers across arms; common or independent across points);
- :mod:`~hssim.runs.compose`: Hydra composition and an arm's validated config;
- :mod:`~hssim.runs.paths`: setting one value of a plain config by its dotted path;
- :mod:`~hssim.runs.checks`: checking that arms are comparable;
- :mod:`~hssim.runs.execute`: one run, and many in this process or in worker
  processes, with one progress protocol;
- :mod:`~hssim.runs.store`: the one fingerprint rule and a folder of finished runs
  that lets work resume;
- :mod:`~hssim.runs.lockstep`: several arms stepped together month by month on common
  random numbers, with their monthly reporters (the dashboard and the Mesa adapter).

It imports nothing from the analyses, the report or the faces.
"""

from __future__ import annotations

from .checks import check_comparable
from .compose import compose, compose_arm
from .design import SEED_POLICIES, Design, RunKey, run_seed
from .execute import Job, ProgressFn, default_workers, execute, run_results, threads_per_worker
from .lockstep import LockStep
from .paths import get_path, set_path
from .store import RunStore, fingerprint, jsonable

__all__ = [
    "SEED_POLICIES",
    "Design",
    "Job",
    "LockStep",
    "ProgressFn",
    "RunKey",
    "RunStore",
    "check_comparable",
    "compose",
    "compose_arm",
    "default_workers",
    "execute",
    "fingerprint",
    "get_path",
    "jsonable",
    "run_results",
    "run_seed",
    "set_path",
    "threads_per_worker",
]
