"""Never lose a user's data (issue 13): run folders that are never deleted or shared,
no crash after a finished simulation, every bad input refused up front, signals,
no code from config files, and fuzzing of overrides and scenario tables.

Each test names the finding of the issue it covers (F1 .. F7).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hssim.cliutil import MARKER, RunFolder
from hssim.errors import UserError

from .conftest import REPO, run_cli

TINY = ["population.households=60", "months=2", "spinup_months=0", "output.figure=false"]
SWEEP_DATA = REPO / "tests" / "data" / "sweep"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time (ns)."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file():
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def main_in_process(module_main, argv: list[str]) -> int:
    """Run a console entry point in this process; its exit status (a traceback fails the test)."""
    saved = sys.argv
    try:
        module_main(list(argv))
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved


def hssim_main(argv: list[str]) -> int:
    from hssim.cli import main

    return main_in_process(main, argv)


# -- F1: a failed or interrupted run never deletes what it did not write -----------------------------------------


def test_f1_run_into_a_users_folder_is_refused_and_touches_nothing(tmp_path):
    (tmp_path / "thesis.txt").write_text("years of work")
    before = snapshot(tmp_path)
    out = run_cli([*TINY, "hydra.run.dir=."], cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "exists and is not empty" in out.stderr and "Traceback" not in out.stderr
    assert snapshot(tmp_path) == before


def test_f1_failure_after_the_simulation_removes_only_the_runs_files(tmp_path, monkeypatch):
    """A disk that fills up while saving: exit 2, one line; the run's files go, the
    user's file in the (pre-existing, empty at the start) folder stays."""
    from hssim.results import Results

    real_save = Results.save

    def full_disk(self, path, *args, written=None, **kwargs):
        real_save(self, path, *args, written=written, **kwargs)  # everything written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(path) / "summary.json"))

    monkeypatch.setattr(Results, "save", full_disk)
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    code = hssim_main([*TINY, "hydra.run.dir=mine"])
    assert code == 2
    assert mine.is_dir() and list(mine.iterdir()) == []  # the folder was the user's: kept, emptied of the run's files
    code = hssim_main([*TINY, "hydra.run.dir=fresh/run"])
    assert code == 2
    assert not (tmp_path / "fresh").exists()  # made by the run, removed with it (only because empty)


def test_f1_run_folder_claims_are_exclusive_and_never_recursive(tmp_path):
    a = RunFolder.claim(tmp_path / "x" / "y", tool="t")
    assert a.created and (tmp_path / "x" / "y" / MARKER).is_file()
    with pytest.raises(UserError, match="not empty"):
        RunFolder.claim(tmp_path / "x" / "y", tool="t")
    b = RunFolder.claim(tmp_path / "x" / "y", tool="t", unique=True)
    assert b.path.name == "y-1"
    (a.path / "result.csv").write_text("1")
    (a.path / "users-note.txt").write_text("keep me")
    assert not a.discard(["result.csv"])  # the folder holds a file the run did not write
    assert (a.path / "users-note.txt").read_text() == "keep me" and not (a.path / "result.csv").exists()
    assert b.discard() and not b.path.exists() and (tmp_path / "x").is_dir()


def _wait_for(predicate, timeout: float = 120.0, what: str = "") -> None:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_f1_interrupted_run_says_what_it_kept_and_leaves_nothing(tmp_path, sig, code):
    proc = subprocess.Popen(
        [sys.executable, "-c", "from hssim.cli import main; main()", "population.households=20000", "months=600",
         "output.figure=false", "hydra.run.dir=run"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _wait_for(lambda: (tmp_path / "run" / ".hydra" / "config.yaml").exists(), what="the run to start")
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert ("interrupted" if sig == signal.SIGINT else "terminated") in err
    assert not (tmp_path / "run").exists()


# -- F2: runs started in the same second never share a folder ----------------------------------------------------


@pytest.mark.slow
def test_f2_concurrent_runs_get_their_own_folders(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", "from hssim.cli import main; main()", *TINY, f"seed={s}"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (11, 12, 13)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    dirs = sorted(p.parent for p in (tmp_path / "outputs").rglob("summary.json"))
    assert len(dirs) == 3
    seeds = set()
    for d in dirs:
        cfg = (d / "config.yaml").read_text()
        seed = int(next(line.split(":")[1] for line in cfg.splitlines() if line.startswith("seed:")))
        assert f"seed={seed}" in (d / ".hydra" / "overrides.yaml").read_text()  # one run's files only
        assert json.loads((d / MARKER).read_text())["status"] == "complete"
        seeds.add(seed)
    assert seeds == {11, 12, 13}


# -- F3: a run never writes beside another run's results ---------------------------------------------------------


def test_f3_second_run_into_a_finished_run_folder_is_refused(tmp_path):
    monkey = [*TINY, "hydra.run.dir=r"]
    assert run_cli(monkey, cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "r")
    out = run_cli([*monkey, "seed=99", "households.p_recover_mam=1.7"], cwd=tmp_path)  # also bad: refused first
    assert out.returncode == 2
    out = run_cli([*monkey, "seed=99"], cwd=tmp_path)
    assert out.returncode == 2 and "not empty" in out.stderr
    assert snapshot(tmp_path / "r") == before


# -- F4: valid inputs never crash after the simulation -----------------------------------------------------------


@pytest.mark.parametrize("households", [1, 2])
def test_f4_districts_without_simulated_households_still_report(tmp_path, households):
    out = run_cli(["population.households=%d" % households, "months=3", "spinup_months=0", "hydra.run.dir=r"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "r" / "report.html").is_file() and (tmp_path / "r" / "summary.json").is_file()


def _custom_table(tmp_path: Path, edit) -> Path:
    src = REPO / "scenarios" / "synthetic_region"
    dst = tmp_path / "table"
    dst.mkdir()
    lines = (src / "districts.csv").read_text().splitlines()
    adjacency = (src / "adjacency.csv").read_text()
    lines, adjacency = edit(lines, adjacency)
    (dst / "districts.csv").write_text("\n".join(lines) + "\n")
    (dst / "adjacency.csv").write_text(adjacency)
    return dst


def _rename_first(new: str):
    def edit(lines, adjacency):
        old = lines[1].split(",")[0]
        lines[1] = new + lines[1][len(old):] if "," not in new else f'"{new}"' + lines[1][len(old):]
        adj = "\n".join(",".join((f'"{new}"' if "," in new else new) if c == old else c for c in row.split(","))
                        for row in adjacency.splitlines())
        return lines, adj + "\n"
    return edit


def test_f4_mathtext_in_district_names_is_drawn_literally(tmp_path):
    table = _custom_table(tmp_path, _rename_first("Zone $A$ \\frac{1}{2}$"))
    out = run_cli(["scenario=custom", f"scenario.path={table}", "population.households=200", "months=3",
                   "spinup_months=0", "hydra.run.dir=r"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Zone $A$" in (tmp_path / "r" / "report.html").read_text()
    assert (tmp_path / "r" / "indicators.png").stat().st_size > 0


@pytest.mark.parametrize("edit, words", [
    (_rename_first("all"), "reserved"),
    (_rename_first("x" * 500), "at most 100"),
    (lambda lines, adj: ([lines[0], lines[1].replace(lines[1].split(",")[1], "1e300", 1), *lines[2:]], adj), "out of range"),
])
def test_f4_table_values_that_would_break_a_run_are_refused_first(tmp_path, edit, words):
    table = _custom_table(tmp_path, edit)
    out = run_cli(["scenario=custom", f"scenario.path={table}", *TINY], cwd=tmp_path)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "outputs").exists()


# -- F5: one line and exit 2 instead of a traceback --------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["seed=${nope}"], "seed"),
    (["seed=${oc.env:HSSIM_SURELY_UNSET_VARIABLE}"], "HSSIM_SURELY_UNSET_VARIABLE"),
    (["scenario=3"], "scenario"),
    (["--config-dir", "/nonexistent/hssim-configs"], "--config-dir"),
    (["hydra.run.dir=/proc/hssim-cannot-write-here"], "cannot create"),
])
def test_f5_user_errors_are_one_line(tmp_path, args, words):
    out = run_cli([*TINY, *args], cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr
    assert not (tmp_path / "outputs").exists()


def test_f5_sweep_yaml_syntax_error(tmp_path, capsys):
    from hssim.cli.sweep import main

    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "broken.yaml").write_text("name: broken\nparameters: {a: [1, 2\n")
    assert main_in_process(main, ["--config-dir", str(tmp_path), "experiment=broken"]) == 2
    assert "valid YAML" in capsys.readouterr().err
    assert not (Path.cwd() / "sweeps" / "broken").exists()


def test_f5_incomplete_resume_spec(tmp_path, capsys):
    from hssim.cli.compare import main

    (tmp_path / "spec.json").write_text(json.dumps({"arms": {"a": ["policy=none"], "b": ["policy=none"]}}))
    assert main_in_process(main, ["--resume", str(tmp_path)]) == 2
    assert "'replicates' is missing" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["99999", "0"])
def test_f5_impossible_dashboard_port(port):
    out = subprocess.run([sys.executable, "-m", "hssim.dashboard.cli", "--port", port], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "port" in out.stderr and "Traceback" not in out.stderr


def test_f5_busy_dashboard_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "hssim.dashboard.cli", "--port", str(port)], capture_output=True,
                             text=True, timeout=120)
    assert out.returncode == 2 and "cannot listen" in out.stderr


# -- F6: size and path limits checked before anything is written -------------------------------------------------


def test_f6_huge_replicate_count_refused_before_planning(tmp_path, capsys, monkeypatch):
    from hssim.cli.compare import main

    monkeypatch.chdir(tmp_path)
    assert main_in_process(main, ["--replicates", "100000000", *TINY]) == 2
    assert "replicates" in capsys.readouterr().err and not (tmp_path / "outputs").exists()


def test_f6_memory_estimate_refuses_runs_that_cannot_fit(tmp_path):
    out = run_cli(["population.households=50000000", "months=6000"], cwd=tmp_path,
                  env={"HSSIM_MEMORY_LIMIT_GB": "8"})
    assert out.returncode == 2 and "memory" in out.stderr
    assert not (tmp_path / "outputs").exists()


def test_f6_huge_sobol_design_refused_before_sampling(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HSSIM_MEMORY_LIMIT_GB", "1")
    assert main_in_process(main, ["experiment=integrated_vs_siloed", "experiment.n=8388608"]) == 2
    assert "memory" in capsys.readouterr().err and not (tmp_path / "sweeps").exists()


def test_f6_experiment_name_cannot_leave_the_working_folder(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert main_in_process(main, [*_tiny_sweep(), "experiment.name=../../x"]) == 2
    assert "experiment.name" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (work / "sweeps").exists()


def _tiny_sweep() -> list[str]:
    return ["--config-dir", str(SWEEP_DATA), "experiment=tiny", "progress=false", "analyse=false"]


def test_f6_joint_constraints_checked_on_the_whole_sample(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "ordered.yaml").write_text(
        "name: ordered\nmodel: hssim\nmethod: monte_carlo\nn: 64\nsample_seed: 3\n"
        "overrides: ['population.households=100', 'months=3', 'spinup_months=0']\n"
        "parameters:\n"
        "  stress: {path: households.meal_cut_stress_frac, bounds: [0.0, 0.3]}  # alone: fine at both ends\n"
        "  crisis: {path: households.meal_cut_crisis_frac, bounds: [0.1, 0.6]}  # together: not always\n"
        "outputs:\n  deaths: {summary: deaths_total}\n")
    monkeypatch.chdir(tmp_path)
    assert main_in_process(main, ["--config-dir", str(tmp_path), "experiment=ordered", "progress=false"]) == 2
    err = capsys.readouterr().err
    assert "sample point" in err and "meal_cut" in err
    assert not (tmp_path / "sweeps").exists()


def test_f6_only_a_missing_chunk_refused_before_the_store(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    monkeypatch.chdir(tmp_path)
    assert main_in_process(main, [*_tiny_sweep(), "only=[999]"]) == 2
    assert "only" in capsys.readouterr().err and not (tmp_path / "sweeps").exists()


@pytest.mark.slow
def test_f6_quote_in_the_working_path(tmp_path, monkeypatch):
    from hssim.cli.sweep import main

    work = tmp_path / "it's a, folder"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main_in_process(main, [*_tiny_sweep(), "chunk_size=4"]) == 0
    assert (work / "sweeps" / "tiny" / "manifest.json").is_file()


# -- F7: no code from config files, no secrets in outputs, workers die with their parent --------------------------


def test_f7_callbacks_and_targets_in_config_files_are_refused(tmp_path):
    marker = tmp_path / "PWNED"
    (tmp_path / "cfg" / "storyline").mkdir(parents=True)
    (tmp_path / "cfg" / "storyline" / "evil.yaml").write_text(
        "# @package _global_\nhydra:\n  callbacks:\n    x:\n      _target_: os.system\n"
        f"      _args_: ['touch {marker}']\nstoryline:\n  name: evil\n")
    out = run_cli(["--config-dir", str(tmp_path / "cfg"), "storyline=evil", *TINY], cwd=tmp_path)
    assert out.returncode == 2 and "hydra.callbacks" in out.stderr
    assert not marker.exists()
    out = run_cli([*TINY, "+hydra.callbacks.x._target_=os.system"], cwd=tmp_path)
    assert out.returncode == 2 and not marker.exists()


def test_f7_sweep_experiment_cannot_install_callbacks(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    marker = tmp_path / "PWNED"
    (tmp_path / "experiment").mkdir()
    text = (SWEEP_DATA / "experiment" / "tiny.yaml").read_text()
    (tmp_path / "experiment" / "evil.yaml").write_text(
        "# @package _global_\nhydra:\n  callbacks:\n    x:\n      _target_: os.system\n"
        f"      _args_: ['touch {marker}']\nexperiment:\n" + "".join(f"  {line}\n" for line in text.splitlines()
                                                               if line and not line.startswith("#")))
    monkeypatch.chdir(tmp_path)
    assert main_in_process(main, ["--config-dir", str(tmp_path), "experiment=evil", "progress=false"]) == 2
    assert "hydra.callbacks" in capsys.readouterr().err and not marker.exists()


def test_f7_dependency_floors_exclude_known_vulnerable_releases():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    deps = {Requirement(d).name: Requirement(d).specifier for d in
            tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert not deps["pyarrow"].contains(Version("14.0.0"))  # CVE-2023-47248
    assert not deps["hydra-core"].contains(Version("1.3.2"))


def test_f7_environment_values_are_recorded_unresolved(tmp_path):
    secret = "s3cr3t-token-value"
    out = run_cli([*TINY, "output.figure=true", "scenario.description=${oc.env:HSSIM_TEST_SECRET}", "hydra.run.dir=r"],
                  cwd=tmp_path, env={"HSSIM_TEST_SECRET": secret})
    assert out.returncode == 0, out.stderr
    for p in (tmp_path / "r").rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p
    assert "${oc.env:HSSIM_TEST_SECRET}" in (tmp_path / "r" / "config.yaml").read_text()


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(d.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to list a process's children")
def test_f7_compare_workers_die_with_a_killed_parent(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hssim.cli.compare", "--workers", "2", "--replicates", "4", "--arms", "none,reactive_siloed",
         "population.households=20000", "months=600"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(lambda: proc.poll() is not None or len([k for k in _children(proc.pid) if _alive(k)]) >= 2,
                  what="the worker processes")
        assert proc.poll() is None, proc.communicate()[1]
        workers = _children(proc.pid)
        time.sleep(2.0)
        proc.kill()
        proc.wait(timeout=30)
        _wait_for(lambda: not any(_alive(w) for w in workers), timeout=30, what="the workers to end")
    finally:
        if proc.poll() is None:
            proc.kill()


# -- fuzz: overrides and scenario tables -------------------------------------------------------------------------

_KEYS = ["seed", "months", "spinup_months", "population.households", "households.p_recover_mam",
         "hazards.drought.rain_cv", "couplings.drought_to_prices", "policy", "storyline", "scenario",
         "scenario.start_calendar_month", "output.figure", "nonexistent.key", "hydra.run.dir",
         "scenario.description", "policy.budget_usd_per_year"]
_VALUES = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "none", "null", "true", "abc", "${nope}", "'quoted'", "[1,2]", "{a: 1}", "x,y", "$x$",
                     "../../escape", "/", "two_failed_seasons", "anticipatory_integrated", "default", "1e400"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(st.sampled_from(_KEYS), _VALUES), max_size=3))
def test_fuzz_overrides_exit_0_or_2_and_touch_only_the_run_folder(tmp_path_factory, pairs):
    work = tmp_path_factory.mktemp("fuzz")
    (work / "keep.txt").write_text("user data")
    # small and fast whatever the fuzz says: the fuzzed pairs come first, the limits last
    argv = [f"{k}={v}" for k, v in pairs if "\n" not in v] + \
           ["population.households=40", "months=2", "spinup_months=0", "hydra.run.dir=run"]
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code = hssim_main(argv)
    finally:
        os.chdir(cwd)
    assert code in (0, 2)
    assert (work / "keep.txt").read_text() == "user data"
    assert {p.name for p in work.iterdir()} <= {"keep.txt", "run"}
    if code == 2:
        assert not (work / "run").exists()


_CELLS = st.one_of(st.sampled_from(["", "-1", "0", "1e308", "nan", "inf", "all", "ALL", "x" * 120, "$a$", "1,2", '"',
                                    "0.5", "12", "Nord", "\t"]),
                   st.floats(allow_nan=True).map(repr), st.text(max_size=8))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 29), _CELLS), min_size=1, max_size=4))
def test_fuzz_scenario_tables_exit_0_or_2(tmp_path_factory, edits):
    import csv
    import io

    work = tmp_path_factory.mktemp("table")
    src = REPO / "scenarios" / "synthetic_region"
    rows = list(csv.reader(io.StringIO((src / "districts.csv").read_text())))
    for r, c, text in edits:
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = text
    (work / "t").mkdir()
    with open(work / "t" / "districts.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    (work / "t" / "adjacency.csv").write_text((src / "adjacency.csv").read_text())
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code = hssim_main(["scenario=custom", f"scenario.path={work / 't'}", "population.households=60", "months=2",
                           "spinup_months=0", "hydra.run.dir=run"])
    finally:
        os.chdir(cwd)
    assert code in (0, 2)
    assert {p.name for p in work.iterdir()} <= {"t", "run"}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to list a process's children")
def test_f1_interrupted_comparison_keeps_finished_runs_and_says_how_to_resume(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hssim.cli.compare", "--workers", "2", "--replicates", "400", "--arms", "none,reactive_siloed",
         "--out", "cmp", "population.households=300", "months=12", "spinup_months=0", "output.figure=false"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    runs = tmp_path / "cmp" / "runs"
    _wait_for(lambda: proc.poll() is not None or (runs.is_dir() and len(list(runs.glob("*.json"))) >= 2),
              what="two finished runs")
    assert proc.poll() is None, proc.communicate()[1]
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert json.loads((tmp_path / "cmp" / MARKER).read_text())["status"] == "incomplete"
    _wait_for(lambda: not any(_alive(w) for w in workers), timeout=30, what="the workers to end")
    kept = len(list(runs.glob("*.json")))
    assert kept >= 2


def test_f6_sweep_runs_that_cannot_fit_together_are_refused(tmp_path, capsys, monkeypatch):
    from hssim.cli.sweep import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HSSIM_MEMORY_LIMIT_GB", "1")  # one run of these needs about 2 GB
    args = [*_tiny_sweep(), "experiment.overrides=['population.households=2000000','months=600']"]
    assert main_in_process(main, args) == 2
    assert "memory" in capsys.readouterr().err and not (tmp_path / "sweeps").exists()
