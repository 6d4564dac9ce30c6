"""Shared fixtures: small configurations that run in a second or two."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hssim

from .mariadb import MariaDB, mariadb_available
from .slurm import SlurmCluster, slurm_available

REPO = Path(__file__).resolve().parents[1]
SMALL = ["population.households=2000", "months=24", "spinup_months=6"]


def small_cfg(*extra: str):
    return hssim.compose([*SMALL, *extra])


@pytest.fixture(scope="session")
def small_results():
    """One small default run shared by read-only tests."""
    return hssim.run(small_cfg(), validate=True)


def run_cli(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the ``hssim`` console entry point in a subprocess (same interpreter)."""
    full_env = {**os.environ, **(env or {})}
    if "HSSIM_DEBUG" not in (env or {}):
        full_env.pop("HSSIM_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", "from hssim.cli import main; main()", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: fixtures that start a system component once per worker: the tests that use one run on
#: one pytest-xdist worker (``--dist loadgroup``), so the component starts once per run
_SHARED_COMPONENTS = {"slurm_cluster": "slurm", "dashboard_url": "chromium", "mariadb_server": "mariadb"}


def _warm_numba_cache() -> None:
    """Compile every numba kernel once, in this process, before any worker starts: the
    kernels are cached on disk (``cache=True``), so the pytest-xdist workers and the
    command lines the tests start load them instead of each compiling them again
    (about 40 s of CPU each on a cold cache)."""
    for extra in ([], ["policy=anticipatory_integrated", "storyline=two_failed_seasons", "months=30"]):
        hssim.run(hssim.compose(["population.households=60", "months=3", "spinup_months=1", "output.figure=false",
                                 *extra]))


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        # an xdist worker: its share of the cores. Two workers with two OpenMP threads each
        # on two cores make numba's parallel kernels spin against each other (measured: a
        # test 10 times slower than alone). Tests that compare thread counts set their own.
        import numba

        from hssim.runs.execute import default_workers

        share = max(1, default_workers() // max(1, int(config.workerinput.get("workercount", 1))))
        numba.set_num_threads(min(share, numba.config.NUMBA_NUM_THREADS))
        return
    # the xdist controller compiles before its workers start; they find the cache written
    # (a run in one process compiles on demand, as every other program does)
    if config.option.help or config.option.collectonly or not getattr(config.option, "numprocesses", None):
        return
    _warm_numba_cache()


#: modules whose module-scoped fixtures are long simulations: their tests run on one worker,
#: so each fixture is built once per run instead of once per worker
_ONE_WORKER_MODULES = {"test_drought.py", "test_normal_years.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, group in _SHARED_COMPONENTS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
                break
        else:
            if item.path.name in _ONE_WORKER_MODULES:
                item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``HSSIM_REQUIRE_ALL=1``) a skipped test fails: a missing system component
    (Slurm, Chromium, ...) must be installed by ``.ci/run``, not silently skipped."""
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("HSSIM_REQUIRE_ALL") == "1" and rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"skipped, but HSSIM_REQUIRE_ALL=1 forbids skips: {rep.longrepr}"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A real single-node Slurm cluster with accounting (``.ci/slurm.sh``), shared by the session.

    ``SLURM_CONF`` is set in ``os.environ`` while it runs (restored afterwards), so ``sbatch``, ``sacct``
    and submitit find it; ``cluster.env`` holds the same for explicit subprocess environments. Skips with
    the reason when Slurm cannot run here (not Linux, not root, packages missing).
    """
    reason = slurm_available()
    if reason is not None:
        pytest.skip(reason)
    state_dir = tmp_path_factory.mktemp("slurm")
    try:
        cluster = SlurmCluster.start(state_dir)
    except BaseException:
        with contextlib.suppress(Exception):  # a failed start stops its daemons itself; this covers a timeout
            SlurmCluster(state_dir).stop()
        raise
    saved = {key: os.environ.get(key) for key in cluster.env}
    os.environ.update(cluster.env)
    try:
        yield cluster
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cluster.stop()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    """A real MariaDB server (``tests/mariadb.py``) for the session; skips with the reason
    when it cannot run here."""
    reason = mariadb_available()
    if reason is not None:
        pytest.skip(reason)
    db = MariaDB.start(tmp_path_factory.mktemp("mariadb"))
    try:
        yield db
    finally:
        db.stop()
