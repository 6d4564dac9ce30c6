"""The local Slurm cluster of ``.ci/slurm.sh`` (fixture ``slurm_cluster``) behaves like a real one:
jobs run and are accounted, impossible requests are refused at submission, jobs share the node core by
core, and submitit both gets results back and notices a job that died without one."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import submitit
from submitit.core.utils import FailedJobError, UncompletedJobError

from .slurm import SlurmCluster

DEATH_NOTICE_LIMIT_S = 120  # submitit must raise for a job killed hard within this (measured: ~20 s)


def _run(args: list[str], cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _sacct_state(job_id: str, timeout: float = 30) -> str:
    """The job's final state in accounting (slurmctld sends the record to slurmdbd asynchronously)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        proc = _run(["sacct", "-j", job_id, "-X", "-n", "-P", "-o", "State"])
        assert proc.returncode == 0, proc.stderr
        state = proc.stdout.strip()
        if state and state not in {"PENDING", "RUNNING", "COMPLETING"}:
            return state
        time.sleep(0.5)
    return state


def _node_cpus() -> int:
    proc = _run(["sinfo", "-h", "-o", "%c"])
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[0])


def _executor(folder: Path) -> submitit.AutoExecutor:
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    executor.update_parameters(timeout_min=5, slurm_partition="debug", cpus_per_task=1)
    return executor


def _result_within(job: submitit.Job, timeout: float):
    """``job.result()``, but fail the test (and cancel the job) if it neither returns nor raises in time."""
    box: dict = {}

    def wait() -> None:
        try:
            box["value"] = job.result()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(timeout)
    if waiter.is_alive():
        job.cancel(check=False)
        pytest.fail(f"submitit job {job.job_id} neither returned nor raised within {timeout:.0f}s (state {job.state})")
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_sbatch_runs_a_job_and_sacct_reports_it_completed(slurm_cluster, tmp_path):
    # (~10 s: `sbatch --wait` polls after 2 s, then 8 s later, though the job takes a fraction of a second.)
    assert os.environ["SLURM_CONF"] == slurm_cluster.env["SLURM_CONF"]
    assert "idle" in slurm_cluster.status()
    out = tmp_path / "job.out"
    proc = _run(
        [
            "sbatch",
            "--parsable",
            "--wait",
            "-o",
            str(out),
            "--wrap",
            'echo "hello from $SLURM_JOB_ID on $SLURMD_NODENAME"',
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip().split(";")[0]
    assert out.read_text().strip() == f"hello from {job_id} on localhost"
    assert _sacct_state(job_id) == "COMPLETED"


def test_more_cpus_than_the_node_has_is_rejected_at_submission(slurm_cluster, tmp_path):
    cpus = _node_cpus()
    proc = _run(["sbatch", "--parsable", f"--cpus-per-task={cpus + 1}", "--wrap", "true"], cwd=tmp_path, timeout=30)
    assert proc.returncode != 0, f"sbatch accepted an impossible job: {proc.stdout}"
    assert "submission failed" in proc.stderr, proc.stderr
    assert "More processors requested than permitted" in proc.stderr, proc.stderr


def test_two_one_cpu_jobs_run_at_once(slurm_cluster, tmp_path):
    if _node_cpus() < 2:
        pytest.skip("the node has a single CPU")
    # Each job announces itself, then waits for the other: both complete only if they run side by side.
    script = "touch {me}; for i in $(seq 300); do [ -e {other} ] && exit 0; sleep 0.1; done; exit 1"
    jobs = []
    for me, other in (("a", "b"), ("b", "a")):
        wrap = script.format(me=tmp_path / me, other=tmp_path / other)
        proc = _run(
            ["sbatch", "--parsable", "-c", "1", "-o", str(tmp_path / f"{me}.out"), "--wrap", wrap], cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stderr
        jobs.append(proc.stdout.strip().split(";")[0])
    assert [_sacct_state(job_id, timeout=60) for job_id in jobs] == ["COMPLETED", "COMPLETED"]


def test_submitit_runs_a_function_and_returns_its_value(slurm_cluster, tmp_path):
    def square_in_job(x: int) -> tuple[int, str]:  # local: pickled by value, nothing to import in the job
        return x * x, os.environ["SLURM_JOB_ID"]

    job = _executor(tmp_path / "submitit").submit(square_in_job, 7)
    value, job_id = _result_within(job, timeout=120)
    assert value == 49
    assert job_id == job.job_id
    assert _sacct_state(job.job_id) == "COMPLETED"


def test_submitit_raises_for_a_job_killed_hard(slurm_cluster, tmp_path):
    def die_hard() -> None:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)

    job = _executor(tmp_path / "submitit").submit(die_hard)
    start = time.monotonic()
    with pytest.raises((UncompletedJobError, FailedJobError)):
        _result_within(job, timeout=DEATH_NOTICE_LIMIT_S)
    assert time.monotonic() - start < DEATH_NOTICE_LIMIT_S
    assert _sacct_state(job.job_id) in {"FAILED", "CANCELLED", "NODE_FAIL"}


def test_a_second_cluster_starts_beside_the_first_and_stops_cleanly(slurm_cluster, tmp_path):
    state_dir = tmp_path / "second"
    second = SlurmCluster.start(state_dir)
    try:
        assert second.env["SLURM_CONF"] != slurm_cluster.env["SLURM_CONF"]
        SlurmCluster.start(state_dir)  # already running: just reports it
        proc = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%N %T"],
            env={**os.environ, **second.env},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.stdout.split() == ["localhost", "idle"], proc.stderr
    finally:
        second.stop()
    marker = f"HSSIM_SLURM_STATE_DIR={state_dir.resolve()}".encode()
    left = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                left.append(environ.parent.name)
        except OSError:
            pass
    assert not left, f"processes of the stopped cluster remain: {left}"
    with pytest.raises(RuntimeError):
        second.status()
    # The first cluster is untouched.
    assert "idle" in slurm_cluster.status()
