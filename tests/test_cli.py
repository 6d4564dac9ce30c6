"""The hssim command: run directory, summary, overrides, multirun, user errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO, run_cli

TINY = ["population.households=800", "months=6", "spinup_months=2"]


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("summary.json"))


def test_plain_run_writes_run_directory_and_prints_summary(tmp_path):
    out = run_cli([*TINY, "seed=5"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    dirs = _run_dirs(tmp_path / "outputs")
    assert len(dirs) == 1
    run_dir = dirs[0]
    for name in ("timeseries.parquet", "summary.json", "config.yaml", "indicators.png"):
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["households"] == 800 and summary["months"] == 6
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert ts["month"].max() == 6
    assert "seed: 5" in (run_dir / "config.yaml").read_text()
    assert "IPC3+ share" in out.stdout and str(run_dir.name) in out.stdout
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))


def test_run_with_a_response_writes_costs_and_triggers(tmp_path):
    out = run_cli([*TINY, "policy=anticipatory_integrated", "output.figure=false"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    run_dir = _run_dirs(tmp_path / "outputs")[0]
    costs = pd.read_csv(run_dir / "costs.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["cost_usd_total"] == pytest.approx(costs["cost_usd"].sum())
    assert summary["cost_usd_total"] <= summary["budget_disbursed_usd"]
    assert (run_dir / "triggers.csv").is_file() and (run_dir / "activations.csv").is_file()
    assert "spent / budget" in out.stdout and "drought trigger" in out.stdout


def test_bad_policy_value_exits_2(tmp_path):
    out = run_cli([*TINY, "policy=anticipatory_siloed", "policy.trigger.probability=1.5"], cwd=tmp_path)
    assert out.returncode == 2
    assert "policy.trigger.probability" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "outputs").exists()


def test_multirun_runs_each_seed(tmp_path):
    out = run_cli(["-m", "seed=1,2", *TINY], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    dirs = _run_dirs(tmp_path / "multirun")
    assert len(dirs) == 2
    seeds = sorted(json.loads(json.dumps(pd.read_parquet(d / "timeseries.parquet")["value"].sum())) for d in dirs)
    assert seeds[0] != seeds[1]


BAD = [
    (["seed=-1"], "seed", "-1"),
    (["hazards.drought.rain_log_sd=7"], "hazards.drought.rain_log_sd", "[0.01, 2.0]"),
    (["households.p_recover_mam=1.7"], "households.p_recover_mam", "[0.0, 1.0]"),
    (["+population.householdz=5"], "population.householdz", "unknown key"),
    (["population.householdz=5"], "population.householdz", "valid override"),
    (["population.households=abc"], "population.households", "integer"),
    (["scenario=atlantis"], "scenario", "Available options"),
    (["months=0"], "months", "[1, 6000]"),
    (["hazards.drought.kind=flood"], "hazards.drought.kind", "'drought'"),
    (["storyline.events=[{start:5,anomaly:-9}]"], "storyline.events[0].anomaly", "[-5.0, 5.0]"),
    (["households.meal_cut_stress_frac=0.5", "households.meal_cut_crisis_frac=0.2"], "meal_cut_crisis_frac", ">="),
]


@pytest.mark.parametrize("args,field,allowed", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_config_exits_2_with_one_clear_line_and_no_outputs(tmp_path, args, field, allowed):
    out = run_cli([*TINY, *args], cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert field in lines[0] and allowed in lines[0]
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()


def test_bad_value_in_a_multirun_sweep_is_caught_before_any_job(tmp_path):
    out = run_cli(["-m", "seed=1,2", "months=6,0", *TINY[:1]], cwd=tmp_path)
    assert out.returncode == 2
    assert "months" in out.stderr
    assert not (tmp_path / "multirun").exists()


def test_debug_switch_shows_the_traceback(tmp_path):
    out = run_cli([*TINY, "months=0", "--debug"], cwd=tmp_path)
    assert out.returncode != 0
    assert "Traceback" in out.stderr and "ConfigError" in out.stderr


def test_malformed_scenario_file_names_file_row_and_column(tmp_path):
    bad = tmp_path / "myregion"
    shutil.copytree(REPO / "scenarios" / "synthetic_region", bad)
    lines = (bad / "districts.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("poverty_rate")] = "1.4"
    lines[3] = ",".join(row)
    (bad / "districts.csv").write_text("\n".join(lines) + "\n")
    out = run_cli([*TINY, f"scenario.path={bad}"], cwd=tmp_path)
    assert out.returncode == 2
    msg = out.stderr.strip()
    assert "districts.csv" in msg and "row 4" in msg and "'poverty_rate'" in msg and "1.4" in msg
    assert not (tmp_path / "outputs").exists()


def test_installed_data_found_from_any_directory(tmp_path):
    """The CLI runs from a folder that has no configs/ or scenarios/ of its own."""
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    out = run_cli([*TINY], cwd=elsewhere)
    assert out.returncode == 0, out.stderr
    assert _run_dirs(elsewhere / "outputs")
