"""Scenario files: every problem is reported with file, row and column."""

from __future__ import annotations

import shutil

import pytest

from hssim.errors import ScenarioError
from hssim.scenario import load_scenario

from .conftest import REPO


@pytest.fixture
def region(tmp_path):
    dst = tmp_path / "region"
    shutil.copytree(REPO / "scenarios" / "synthetic_region", dst)
    return dst


def _edit(path, row, column, value):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_builtin_scenario_loads():
    sc = load_scenario("synthetic_region")
    assert sc.n_districts == 12
    assert (sc.adjacency == sc.adjacency.T).all() and not sc.adjacency.diagonal().any()
    assert abs(sc.livelihood_shares.sum(axis=1) - 1).max() < 1e-3


@pytest.mark.parametrize(
    "row,column,value,expect",
    [
        (3, "poverty_rate", "abc", "not a number"),
        (5, "market_access", "-0.2", "out of range"),
        (2, "rain_apr", "", "empty"),
        (7, "district", "North Plains", "already named in row 2"),
        (4, "share_pastoral", "0.9", "sum to"),
        (2, "households", "0", "out of range"),
    ],
)
def test_district_errors_name_file_row_column(region, row, column, value, expect):
    _edit(region / "districts.csv", row, column, value)
    with pytest.raises(ScenarioError) as err:
        load_scenario(region)
    msg = str(err.value)
    assert "districts.csv" in msg and f"row {row}" in msg and expect in msg
    if column != "share_pastoral":
        assert f"'{column}'" in msg
    else:
        assert "'share_pastoral'" in msg


def test_missing_and_unknown_columns(region):
    text = (region / "districts.csv").read_text()
    (region / "districts.csv").write_text(text.replace("poverty_rate", "povrate", 1))
    with pytest.raises(ScenarioError, match=r"row 1, column 'povrate': unknown column"):
        load_scenario(region)


def test_optional_column_takes_default(region):
    lines = (region / "districts.csv").read_text().splitlines()
    header = lines[0].split(",")
    k = header.index("health_access")
    lines = [",".join(c for j, c in enumerate(line.split(",")) if j != k) for line in lines]
    (region / "districts.csv").write_text("\n".join(lines) + "\n")
    assert (load_scenario(region).health_access == 0.5).all()


def test_a_table_without_the_demographic_columns_still_loads_and_runs(region):
    import math

    import numpy as np

    import hssim

    demographic = ("people_per_household", "birth_rate_per_1000", "death_rate_per_1000", "u5_mortality_per_1000")
    lines = (region / "districts.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = {header.index(c) for c in demographic}
    lines = [",".join(c for j, c in enumerate(line.split(",")) if j not in drop) for line in lines]
    (region / "districts.csv").write_text("\n".join(lines) + "\n")
    sc = load_scenario(region)
    assert np.isnan(sc.people_per_household).all()  # the run's population.mean_household_size
    assert (sc.birth_rate_per_1000 == 35).all() and (sc.death_rate_per_1000 == 8).all()
    assert (sc.u5_mortality_per_1000 == 75).all()
    res = hssim.run(hssim.compose(["scenario=custom", f"scenario.path={region}", "population.households=400", "months=3",
                                   "spinup_months=0", "population.mean_household_size=4.5", "output.figure=false"]))
    size = res.summary["people_start"] / 400
    assert math.isclose(size, 4.5, abs_tol=0.35)


def test_adjacency_errors(region):
    with open(region / "adjacency.csv", "a") as fh:
        fh.write("North Plains,Atlantis\n")
    with pytest.raises(ScenarioError, match=r"adjacency\.csv, row 19, column 'district_b': 'Atlantis' is not a district"):
        load_scenario(region)


def test_self_loop_and_short_rows(region):
    (region / "adjacency.csv").write_text("district_a,district_b\nDry Hills,Dry Hills\n")
    with pytest.raises(ScenarioError, match="row 2.*neighbour itself"):
        load_scenario(region)
    (region / "adjacency.csv").write_text("district_a,district_b\nDry Hills\n")
    with pytest.raises(ScenarioError, match="row 2: 1 fields; the header has 2"):
        load_scenario(region)


def test_missing_folder_and_file(tmp_path, region):
    with pytest.raises(ScenarioError, match="scenario folder not found"):
        load_scenario(tmp_path / "nope")
    (region / "adjacency.csv").unlink()
    with pytest.raises(ScenarioError, match="adjacency.csv: file not found"):
        load_scenario(region)
