"""Poly-risk decomposition: identities, common random numbers, arithmetic, CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hssim
from hssim.cli.polyrisk import _write_run_dir
from hssim.polyrisk import ALL, BASELINE, PolyRiskResult, outcome_values, polyrisk
from hssim.report.polyrisk_figure import save_polyrisk

from .conftest import small_cfg

FIXED = ["indicator", "description", "baseline"]
TAIL = ["sum_isolated", "joint", "excess", "excess_share"]


def _only(cfg, *keep: str):
    """The validated config with every hazard but ``keep`` switched off."""
    c = hssim.load_config(cfg)
    hz = {n: h if n in keep else dataclasses.replace(h, enabled=False) for n, h in c.hazards.items()}
    return dataclasses.replace(c, hazards=types.MappingProxyType(hz))


@pytest.fixture(scope="module")
def single():
    """Only drought enabled: hazards are picked from the config."""
    calls = []
    res = polyrisk(_only(small_cfg(), "drought"), progress=lambda k, n, name: calls.append((k, n, name)))
    res.meta["progress"] = calls
    return res


@pytest.fixture(scope="module")
def full():
    """Every hazard the default config has (drought today; conflict and disease as they land)."""
    return polyrisk(small_cfg())


def _check_identities(res: PolyRiskResult) -> None:
    t, v = res.table, res.values
    base = v[BASELINE].to_numpy()
    assert np.array_equal(t["baseline"].to_numpy(), base)
    sum_iso = np.zeros_like(base)
    for h in res.hazards:
        impact = v[f"{h}_alone"].to_numpy() - base
        assert np.array_equal(t[f"impact_{h}"].to_numpy(), impact)
        sum_iso = sum_iso + impact
    joint = v[ALL].to_numpy() - base
    assert np.array_equal(t["sum_isolated"].to_numpy(), sum_iso)
    assert np.array_equal(t["joint"].to_numpy(), joint)
    assert np.array_equal(t["excess"].to_numpy(), joint - sum_iso)
    nz = joint != 0
    assert np.array_equal(t["excess_share"].to_numpy()[nz], (joint - sum_iso)[nz] / joint[nz])
    assert t["excess_share"][~nz].isna().all()
    # the raw values are the outcomes of the runs
    for name, r in res.runs.items():
        o = outcome_values(r)
        assert [o[i] for i in t["indicator"]] == v[name].tolist()


def test_single_hazard_table_shape_and_exact_identities(single):
    assert single.hazards == ("drought",)
    assert list(single.runs) == [BASELINE, "drought_alone", ALL]
    assert [c[2] for c in single.meta["progress"]] == [BASELINE, "drought_alone", ALL]
    assert [c[:2] for c in single.meta["progress"]] == [(1, 3), (2, 3), (3, 3)]
    t = single.table
    assert list(t.columns) == [*FIXED, "impact_drought", *TAIL]
    assert t["indicator"].is_unique and len(t) == len(single.values)
    for name in (
        "deaths_total",
        "ipc3plus_person_months",
        "acute_malnutrition_u5_months",
        "negative_coping_frac_mean",
        "poverty_frac_mean",
    ):
        assert name in set(t["indicator"]), name
    assert "deaths_starvation_total" in set(t["indicator"])
    _check_identities(single)
    # one hazard: 'drought alone' and 'all' are separate runs of the same configuration
    assert single.runs["drought_alone"] is not single.runs[ALL]
    assert (t["excess"] == 0).all()
    assert np.array_equal(t["joint"].to_numpy(), t["impact_drought"].to_numpy())
    # the switch did something: drought off in the baseline, on in the others, and it hurts
    assert single.runs[BASELINE].config["hazards"]["drought"]["enabled"] is False
    assert single.runs[ALL].config["hazards"]["drought"]["enabled"] is True
    row = t.set_index("indicator").loc["ipc3plus_person_months"]
    assert row["joint"] > 0
    assert row["baseline"] == single.runs[BASELINE].summary["ipc3plus_person_months"]
    # every run on the same seed and horizon
    assert {r.config["seed"] for r in single.runs.values()} == {42}
    assert {r.summary["months"] for r in single.runs.values()} == {24}
    assert list(single.series.columns) == [BASELINE, "drought_alone", ALL]


def test_all_configured_hazards_are_included_and_share_draws(full):
    cfg = hssim.load_config(small_cfg())
    assert full.hazards == tuple(n for n, h in cfg.hazards.items() if h.enabled)
    assert list(full.runs) == [BASELINE, *(f"{h}_alone" for h in full.hazards), ALL]
    assert list(full.table.columns) == [*FIXED, *(f"impact_{h}" for h in full.hazards), *TAIL]
    _check_identities(full)
    # district rain (the regional 'all' row is population-weighted, and other hazards move people)
    rain = {
        n: r.timeseries[(r.timeseries.indicator == "rain_mm") & (r.timeseries.district != "all")].reset_index(drop=True)
        for n, r in full.runs.items()
    }
    assert len(rain[ALL]) == 24 * len(full.runs[ALL].districts)
    # common random numbers: the drought of 'drought alone' is the drought of 'all'
    pd.testing.assert_frame_equal(rain["drought_alone"], rain[ALL], check_exact=True)
    # and the baseline really had no drought (climatological rain)
    assert not rain[BASELINE]["value"].equals(rain[ALL]["value"])
    for h in full.hazards:
        enabled = {n for n, hz in full.runs[f"{h}_alone"].config["hazards"].items() if hz["enabled"]}
        assert h in enabled and not (enabled & set(full.hazards)) - {h}


# -- arithmetic on synthetic runs ---------------------------------------------------


def _fake(deaths: list[float], poverty: list[float], ipc: list[float], population: float = 1000.0):
    """A Results-like object: two districts, regional totals, no raw sums."""
    rows = []
    for m, (d, p, i) in enumerate(zip(deaths, poverty, ipc), start=1):
        for name, val in (("deaths", d), ("poverty_frac", p), ("ipc3plus_frac", i), ("population", population)):
            rows.append((m, "all", "all", name, val))
        for dist, share in (("A", 0.25), ("B", 0.75)):
            rows.append((m, dist, "all", "conflict_events", 4.0 * share * m))
    ts = pd.DataFrame(rows, columns=["month", "district", "group", "indicator", "value"])
    return types.SimpleNamespace(timeseries=ts, summary={}, sums=None, config={"seed": 1})


def test_synthetic_three_hazards_exact_arithmetic():
    runs = {
        BASELINE: _fake([4, 6], [0.5, 0.5], [0.25, 0.25]),
        "drought_alone": _fake([6, 9], [0.75, 0.5], [0.5, 0.25]),  # deaths 15, poverty 0.625
        "conflict_alone": _fake([5, 8], [0.5, 0.75], [0.25, 0.5]),  # deaths 13
        "disease_alone": _fake([5, 6], [0.5, 0.5], [0.25, 0.25]),  # deaths 11
        ALL: _fake([20, 20], [0.75, 0.75], [0.5, 0.5]),  # deaths 40
    }
    res = PolyRiskResult.from_runs(runs, ["drought", "conflict", "disease"])
    t = res.table.set_index("indicator")
    assert list(t.columns) == ["description", "baseline", "impact_drought", "impact_conflict", "impact_disease", *TAIL]
    d = t.loc["deaths_total"]
    assert (d.baseline, d.impact_drought, d.impact_conflict, d.impact_disease) == (10, 5, 3, 1)
    assert (d.sum_isolated, d.joint, d.excess, d.excess_share) == (9, 30, 21, 0.7)
    p = t.loc["poverty_frac_mean"]
    assert (p.baseline, p.impact_drought, p.impact_conflict, p.impact_disease) == (0.5, 0.125, 0.125, 0)
    assert (p.sum_isolated, p.joint, p.excess, p.excess_share) == (0.25, 0.25, 0, 0)
    # people-months from shares x population
    i = t.loc["ipc3plus_person_months"]
    assert (i.baseline, i.joint, i.sum_isolated, i.excess) == (500, 500, 500, 0)
    # counts summed over districts (not the 'all' row): 4 * (1 + 2) in every run
    c = t.loc["conflict_events_total"]
    assert c.baseline == 12 and c.joint == 0 and np.isnan(c.excess_share)
    # no raw sums: no child-months of malnutrition
    assert "acute_malnutrition_u5_months" not in t.index
    assert list(res.series.columns) == list(runs)
    # a chosen subset of outcomes, in the order asked
    sub = PolyRiskResult.from_runs(
        runs, ["drought", "conflict", "disease"], indicators=["poverty_frac_mean", "deaths_total"]
    )
    assert sub.table["indicator"].tolist() == ["poverty_frac_mean", "deaths_total"]
    assert sub.table.set_index("indicator").loc["deaths_total", "excess"] == 21
    with pytest.raises(ValueError, match="no_such_outcome"):
        PolyRiskResult.from_runs(runs, ["drought", "conflict", "disease"], indicators=["no_such_outcome"])


def test_synthetic_two_hazards_sub_additive_and_outputs(tmp_path):
    values = pd.DataFrame(
        {BASELINE: [100.0, 0.5], "a_alone": [160.0, 0.5], "b_alone": [140.0, 0.75], ALL: [180.0, 0.75]},
        index=pd.Index(["deaths_total", "poverty_frac_mean"], name="indicator"),
    )
    res = PolyRiskResult.from_values(values, ["a", "b"])
    t = res.table.set_index("indicator")
    assert t.loc["deaths_total", ["impact_a", "impact_b", "sum_isolated", "joint", "excess"]].tolist() == [
        60,
        40,
        100,
        80,
        -20,
    ]
    assert t.loc["deaths_total", "excess_share"] == -0.25
    assert t.loc["poverty_frac_mean", ["sum_isolated", "joint", "excess", "excess_share"]].tolist() == [
        0.25,
        0.25,
        0,
        0,
    ]
    with pytest.raises(ValueError, match="b_alone"):
        PolyRiskResult.from_values(values.drop(columns="b_alone"), ["a", "b"])
    data = res.save(tmp_path / "data")  # the analysis: data only, the figure is the report layer's
    assert sorted(p.name for p in data.iterdir()) == ["polyrisk.csv", "polyrisk.json"]
    out = save_polyrisk(res, tmp_path / "pr")
    assert sorted(p.name for p in out.iterdir()) == ["polyrisk.csv", "polyrisk.json", "polyrisk.png"]
    doc = json.loads((out / "polyrisk.json").read_text())
    assert doc["hazards"] == ["a", "b"] and doc["runs"] == [BASELINE, "a_alone", "b_alone", ALL]
    assert doc["table"][0]["excess"] == -20
    csv = pd.read_csv(out / "polyrisk.csv")
    assert csv["excess"].tolist() == [-20, 0]
    assert (out / "polyrisk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hazard_selection_errors_are_user_errors():
    with pytest.raises(hssim.ConfigError, match="flood"):
        polyrisk(small_cfg(), hazards=["flood"])
    with pytest.raises(hssim.ConfigError, match="at least one enabled hazard"):
        polyrisk(_only(small_cfg()))


def test_failed_write_leaves_no_folder(tmp_path, monkeypatch):
    values = pd.DataFrame({BASELINE: [1.0], "a_alone": [2.0], ALL: [3.0]}, index=["deaths_total"])
    res = PolyRiskResult.from_values(values, ["a"])

    def broken(result, path, **kw):
        Path(path).write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr("hssim.report.polyrisk_figure.polyrisk_figure", broken)
    root = tmp_path / "outputs" / "polyrisk"
    with pytest.raises(RuntimeError, match="disk full"):
        _write_run_dir(res, root, __import__("time").localtime(), figure=True, dpi=50)
    assert not (tmp_path / "outputs").exists()


# -- command line ---------------------------------------------------------------------

TINY = ["population.households=800", "months=6", "spinup_months=2"]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HSSIM_DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", "from hssim.cli.polyrisk import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_writes_run_folder_and_prints_table(tmp_path):
    out = _cli([*TINY, "seed=3", "--hazards", "drought"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    dirs = [p for p in (tmp_path / "outputs" / "polyrisk").glob("*/*") if p.is_dir()]
    assert len(dirs) == 1 and not dirs[0].name.startswith(".")
    assert sorted(p.name for p in dirs[0].iterdir()) == ["polyrisk.csv", "polyrisk.json", "polyrisk.png"]
    doc = json.loads((dirs[0] / "polyrisk.json").read_text())
    assert doc["hazards"] == ["drought"] and doc["meta"]["seed"] == 3 and doc["meta"]["months"] == 6
    table = pd.read_csv(dirs[0] / "polyrisk.csv")
    assert "deaths_total" in set(table["indicator"]) and (table["excess"] == 0).all()
    assert "excess" in out.stdout and "ipc3plus_person_months" in out.stdout and str(dirs[0].name) in out.stdout


BAD = [
    (["households.p_recover_mam=1.7"], "households.p_recover_mam"),
    (["population.householdz=5"], "population.householdz"),
    (["months=0"], "months"),
    (["--hazards", "flood"], "flood"),
    (["-m", "seed=1,2"], "-m"),
]


@pytest.mark.parametrize("args,field", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_cli_user_error_exits_2_with_one_line_and_no_output(tmp_path, args, field):
    out = _cli([*TINY, *args], cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in out.stderr
    assert out.stdout == ""
    assert not (tmp_path / "outputs").exists()
