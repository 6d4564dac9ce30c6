"""Failure injection for the sweep tests, kept out of the package.

:func:`install` makes one chunk fail inside :func:`hssim.sweep.runner.evaluate_chunk`,
after the chunk has claimed its ``started`` file, where a real failure would happen:

* ``raise``: the chunk's computation raises ``RuntimeError`` (the runner writes the
  chunk's ``error.json`` and the sweep goes on);
* ``kill``: the process evaluating the chunk dies by SIGKILL (no result, no error file:
  the chunk is *lost*, as when Slurm or the kernel kills a job).

In this process (the basic launcher) a test calls :func:`install` itself. For worker
processes (a Slurm job), :func:`fault_env` gives the environment that makes every
Python process started with it install the fault at start-up (``tests/faults`` holds a
``sitecustomize`` that reads :data:`ENV_VAR`). hssim's configs cannot do this: the
sweep refuses any ``_target_`` or Hydra callback an override names.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: ``"<chunk>:<mode>"``: the fault a process started with :func:`fault_env` installs
ENV_VAR = "HSSIM_TEST_FAULT"


def install(chunk: int, mode: str = "raise") -> Callable[[], None]:
    """Make chunk ``chunk`` fail (``mode`` 'raise' or 'kill') in this process; returns
    the function that takes the fault away again."""
    from hssim.sweep import runner

    if mode not in ("raise", "kill"):
        raise ValueError(f"mode must be 'raise' or 'kill', not {mode!r}")
    compute = runner._compute

    def failing(store: Any, lo: int, hi: int):
        if store.chunk_bounds(chunk)[0] != lo:  # another chunk: compute it
            return compute(store, lo, hi)
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError(f"chunk {chunk} failed on purpose (test fault)")

    runner._compute = failing

    def restore() -> None:
        runner._compute = compute

    return restore


def install_from_env() -> None:
    """Install the fault :data:`ENV_VAR` names, if any (called by ``tests/faults/sitecustomize.py``)."""
    spec = os.environ.get(ENV_VAR, "")
    if spec:
        chunk, mode = spec.split(":")
        install(int(chunk), mode)


def fault_env(chunk: int, mode: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) plus what makes Python processes started with
    it fail chunk ``chunk`` the ``mode`` way."""
    env = dict(os.environ if env is None else env)
    path = [str(REPO / "tests" / "faults"), str(REPO), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in path if p), ENV_VAR: f"{chunk}:{mode}"}
