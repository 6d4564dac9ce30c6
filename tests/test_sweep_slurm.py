"""A sweep on a real Slurm through Hydra's submitit launcher (``.ci/slurm.sh``
starts the single-node cluster; CI installs it, a bare laptop skips).

Every chunk must run as a Slurm job whose id is in its shard's metadata and in
``sacct``; the results must equal the local run's; a chunk killed hard must be
reported as lost with its job id, not waited on forever, and re-running the
command must compute it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pandas as pd
import pytest

from hssim.sweep import Store
from tests.conftest import REPO
from tests.sweep_faults import fault_env

DATA = REPO / "tests" / "data" / "sweep"
TINY = ["--config-dir", str(DATA), "experiment=tiny", "progress=false", "analyse=false", "chunk_size=2"]
SLURM = ["hydra/launcher=submitit_slurm", "hydra.launcher.timeout_min=10", "hydra.launcher.cpus_per_task=1"]


def hssim_sweep(args: list[str], cwd, timeout: float = 420, env: dict | None = None) -> subprocess.CompletedProcess:
    """``hssim-sweep`` in a subprocess: a hang fails the test instead of blocking CI."""
    return subprocess.run([sys.executable, "-c", "from hssim.cli.sweep import main; main()", *args], cwd=cwd,
                          env=dict(os.environ) if env is None else env, capture_output=True, text=True,
                          timeout=timeout)


def runs(store) -> pd.DataFrame:
    return Store(store).load().drop(columns=["wall_s"])


@pytest.fixture(scope="module")
def local_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("local") / "store"
    p = hssim_sweep([*TINY, f"store={store}"], cwd=store.parent)
    assert p.returncode == 0, p.stdout + p.stderr
    return store


def sacct_states(job_ids: list[str], wait_s: float = 60) -> dict[str, str]:
    """Final accounting states of ``job_ids``. Accounting lags the jobs by a few
    seconds (a job can still read RUNNING or be missing right after its result
    arrived), so poll until every job has left the transient states."""
    array_ids = sorted({j.split("_")[0] for j in job_ids})
    deadline = time.monotonic() + wait_s
    while True:
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(array_ids)],
                             capture_output=True, text=True, check=True, env=dict(os.environ)).stdout
        states = dict(line.split("|", 1) for line in out.split())
        settled = all(states.get(j) not in (None, "PENDING", "RUNNING", "COMPLETING") for j in job_ids)
        if settled or time.monotonic() > deadline:
            return states
        time.sleep(1)


def test_sweep_runs_every_chunk_as_a_slurm_job_and_equals_the_local_run(slurm_cluster, local_store, tmp_path):
    store = tmp_path / "slurm"
    p = hssim_sweep([*TINY, *SLURM, f"store={store}"], cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 of 2 done (2 computed now" in p.stdout
    st = Store(store)
    metas = [st.shard_meta(c) for c in range(st.header()["n_chunks"])]
    ids = [m["job_id"] for m in metas]
    assert all(re.fullmatch(r"\d+_\d+", j) for j in ids), ids  # array jobs JOB_TASK
    assert {m["launcher"] for m in metas} == {"SlurmLauncher"}
    assert {m["threads"] for m in metas} == {1}  # the job's one CPU, not the machine's cores
    states = sacct_states(ids)
    assert all(states.get(j) == "COMPLETED" for j in ids), states
    pd.testing.assert_frame_equal(runs(store), runs(local_store))


def test_a_chunk_killed_on_slurm_is_reported_then_recomputed(slurm_cluster, local_store, tmp_path):
    store = tmp_path / "killed"
    p = hssim_sweep([*TINY, *SLURM, f"store={store}"], cwd=tmp_path, env=fault_env(1, "kill"))
    assert p.returncode == 1, p.stdout + p.stderr
    st = Store(store)
    lost = {c.chunk: c for c in st.status()}[1]
    assert lost.status == "lost" and re.fullmatch(r"\d+_\d+", lost.job_id)
    assert re.search(rf"chunk 1 +lost: started as Slurm job {lost.job_id}", p.stdout), p.stdout
    # submitit noticed the death through sacct; Hydra printed its error, the driver points to it
    assert "launcher     the launcher stopped" in p.stdout and "UncompletedJobError" in p.stderr, p.stderr
    manifest = json.loads(st.manifest_file.read_text())
    assert manifest["counts"]["lost"] == 1 and not manifest["complete"]
    assert sacct_states([lost.job_id]).get(lost.job_id) not in (None, "COMPLETED")
    # the same command again computes the lost chunk only
    p = hssim_sweep([*TINY, *SLURM, f"store={store}"], cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "(1 computed now, 1 already stored)" in p.stdout
    pd.testing.assert_frame_equal(runs(store), runs(local_store))
