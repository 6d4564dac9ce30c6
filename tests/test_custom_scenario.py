"""Planners' own districts: ``scenario=custom scenario.path=DIR``, every problem of the
files reported at once with file, row and column, nothing run or written; the
documented format stays in step with the loader."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

import hssim
from hssim.errors import ConfigError, ScenarioErrors
from hssim.scenario import DISTRICT_COLUMNS, load_scenario

from .conftest import REPO, run_cli


@pytest.fixture
def region(tmp_path) -> Path:
    dst = tmp_path / "my region"  # a space in the path, as planners' folders have
    shutil.copytree(REPO / "scenarios" / "synthetic_region", dst)
    return dst


def _set(path: Path, edits: dict[tuple[int, str], str]) -> None:
    rows = list(csv.reader(path.open(newline="")))
    header = rows[0]
    for (row, col), value in edits.items():
        rows[row - 1][header.index(col)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_custom_scenario_runs_from_its_folder(region):
    _set(region / "districts.csv", {(2, "district"): "Lodwar"})
    (region / "adjacency.csv").write_text((region / "adjacency.csv").read_text().replace("North Plains", "Lodwar"))
    res = hssim.run(hssim.compose(["scenario=custom", f"scenario.path={region}", "population.households=600", "months=3", "spinup_months=0"]))
    assert res.districts[0] == "Lodwar" and res.config["scenario"]["name"] == "custom"


def test_every_problem_is_reported_at_once(region):
    _set(region / "districts.csv", {(3, "poverty_rate"): "abc", (4, "market_access"): "1.4", (6, "rain_jan"): "",
                                    (8, "share_crop"): "0.9"})  # fmt: skip
    lines = (region / "districts.csv").read_text().splitlines()
    (region / "districts.csv").write_text("\n".join([*lines, lines[1]]) + "\n")  # row 14 repeats row 2
    with open(region / "adjacency.csv", "a") as fh:
        fh.write("North Plains,Atlantis\nMarket Town,Market Town\n")
    with pytest.raises(ScenarioErrors) as err:
        load_scenario(region)
    found = {(Path(e.file).name, e.row, e.column) for e in err.value.problems}
    assert found == {
        ("districts.csv", 3, "poverty_rate"),
        ("districts.csv", 4, "market_access"),
        ("districts.csv", 6, "rain_jan"),
        ("districts.csv", 8, "share_pastoral"),  # the shares' sum, reported on the first share column
        ("districts.csv", 14, "district"),  # already named in row 2
        ("adjacency.csv", 19, "district_b"),
        ("adjacency.csv", 20, "district_b"),
    }
    msg = str(err.value)
    assert msg.startswith("7 problems in the scenario files:")
    assert "'abc' is not a number" in msg and "1.4 is out of range; expected [0.0, 1.0]" in msg
    assert "livelihood shares sum to" in msg and "'Atlantis' is not a district" in msg and "neighbour itself" in msg


def test_header_problems_are_all_listed(region):
    text = (region / "districts.csv").read_text()
    text = text.replace("poverty_rate", "povrate", 1).replace("market_access", "marketaccess", 1)
    (region / "districts.csv").write_text(text)
    with pytest.raises(ScenarioErrors) as err:
        load_scenario(region)
    found = {(e.row, e.column, e.args[0].split(": ", 1)[1].split(";")[0]) for e in err.value.problems}
    assert (1, "povrate", "unknown column") in found and (1, "marketaccess", "unknown column") in found
    assert {(1, "poverty_rate"), (1, "market_access")} <= {(r, c) for r, c, _ in found}  # required, missing
    assert all(e.row == 1 for e in err.value.problems)  # no cell-level noise from the missing columns


def test_a_short_row_does_not_hide_the_others(region):
    rows = (region / "districts.csv").read_text().splitlines()
    rows[2] = ",".join(rows[2].split(",")[:5])  # row 3 cut short
    (region / "districts.csv").write_text("\n".join(rows) + "\n")
    _set(region / "districts.csv", {(5, "households"): "-3"})
    with pytest.raises(ScenarioErrors) as err:
        load_scenario(region)
    assert [(e.row, e.column) for e in err.value.problems] == [(3, None), (5, "households")]


def test_cli_reports_every_problem_and_writes_nothing(region, tmp_path):
    _set(region / "districts.csv", {(3, "poverty_rate"): "abc", (4, "health_access"): "2"})
    p = run_cli(["scenario=custom", f"scenario.path={region}", "months=3", "population.households=500"], cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if "districts.csv" in ln]
    assert len(lines) == 2 and "row 3, column 'poverty_rate'" in lines[0] and "row 4, column 'health_access'" in lines[1]
    assert not (tmp_path / "outputs").exists()


def test_custom_needs_a_path():
    with pytest.raises(ConfigError, match=r"scenario\.path"):
        hssim.run(hssim.compose(["scenario=custom", "months=2"]))


def test_the_documented_format_matches_the_loader():
    doc = (REPO / "docs" / "scenario-format.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9_]+)` \| (yes|no) \|", doc, flags=re.M))
    assert set(rows) == set(DISTRICT_COLUMNS)
    for col, (_, _, _, default, _) in DISTRICT_COLUMNS.items():
        assert rows[col] == ("yes" if default is None else "no"), col
