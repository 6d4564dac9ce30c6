"""A real single-node Slurm cluster for tests, started and stopped with ``.ci/slurm.sh``.

``slurm_available()`` says why one cannot run here (``None`` when it can); ``SlurmCluster.start(state_dir)``
starts munged, MariaDB, slurmdbd, slurmctld and slurmd and waits for an idle node; clients (``sbatch``,
``sacct``, submitit) need ``cluster.env`` (``SLURM_CONF``) in their environment; ``cluster.stop()`` stops
every daemon.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Self

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "slurm.sh"

#: Programs ``.ci/slurm.sh`` needs (Debian 12: slurmctld slurmd slurm-client munge slurmdbd mariadb-server).
REQUIRED_PROGRAMS = (
    "munged",
    "mariadbd",
    "mariadb-install-db",
    "mariadb-admin",
    "slurmdbd",
    "slurmctld",
    "slurmd",
    "sacctmgr",
    "sacct",
    "sinfo",
    "squeue",
    "scontrol",
    "sbatch",
    "srun",
    "scancel",
    "setpriv",
)
INSTALL_HINT = "apt-get install -y slurmctld slurmd slurm-client munge slurmdbd mariadb-server"

# The daemons live in sbin, which a non-login PATH may lack.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def slurm_available() -> str | None:
    """``None`` if a local Slurm cluster can be started here, else the reason why not."""
    if not sys.platform.startswith("linux"):
        return f"a local Slurm cluster needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "a local Slurm cluster needs root (its daemons run as root and as user munge)"
    if not SCRIPT.is_file():
        return f"{SCRIPT} is missing"
    missing = [p for p in REQUIRED_PROGRAMS if shutil.which(p, path=_SEARCH_PATH) is None]
    if missing:
        return f"Slurm/munge/MariaDB programs missing: {', '.join(missing)} (install: {INSTALL_HINT})"
    return None


class SlurmClusterError(RuntimeError):
    """``.ci/slurm.sh`` failed; the message carries its output (with the daemons' log tails)."""


class SlurmCluster:
    """A running cluster whose configuration, logs and data live under ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.conf = self.state_dir / "slurm.conf"
        self._running = False

    @property
    def env(self) -> dict[str, str]:
        """What a client (``sbatch``, ``sacct``, submitit, ...) needs in its environment."""
        return {"SLURM_CONF": str(self.conf)}

    @classmethod
    def start(cls, state_dir: Path, timeout: float = 300) -> SlurmCluster:
        cluster = cls(state_dir)
        cluster._run("start", timeout)
        cluster._running = True
        return cluster

    def stop(self, timeout: float = 180) -> None:
        """Stop every daemon started from ``state_dir`` (safe to call twice)."""
        self._run("stop", timeout)
        self._running = False

    def status(self) -> str:
        """``.ci/slurm.sh status`` output; raises :class:`SlurmClusterError` if a daemon is down."""
        return self._run("status", 60)

    def _run(self, action: str, timeout: float) -> str:
        env = {**os.environ, "PATH": _SEARCH_PATH}
        try:
            proc = subprocess.run(
                ["bash", str(SCRIPT), action, str(self.state_dir)],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise SlurmClusterError(f"{SCRIPT.name} {action} {self.state_dir} timed out after {timeout}s") from e
        if proc.returncode != 0:
            raise SlurmClusterError(
                f"{SCRIPT.name} {action} {self.state_dir} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        return proc.stdout + proc.stderr

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SlurmCluster({str(self.state_dir)!r}, running={self._running})"
