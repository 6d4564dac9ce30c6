"""The scenario library: turkana, lesotho, grand_sud and their crisis storylines.

Each scenario must load and validate, run at small size with its storyline, show
drought where and when the storyline forces it, report the districts of its table
with households in proportion to the table's weights, and document a source for
every column of its districts.csv in its README.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import hssim
from hssim.scenario import DISTRICT_COLUMNS, load_scenario

REPO = Path(__file__).resolve().parents[1]

# scenario -> (storyline, months enough to include the storyline)
LIBRARY = {
    "turkana": ("turkana_2016_2017", 18),
    "lesotho": ("lesotho_2015_2016", 12),
    "grand_sud": ("grand_sud_2020_2021", 22),
}
# every storyline of the library: (scenario, storyline)
STORYLINES = [
    ("turkana", "turkana_2016_2017"),
    ("turkana", "turkana_2020_2022"),
    ("lesotho", "lesotho_2015_2016"),
    ("grand_sud", "grand_sud_2020_2021"),
]


def _table(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(REPO / "scenarios" / name / "districts.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return list(rows[0].keys()), rows


def _storyline(story: str) -> dict:
    return yaml.safe_load((REPO / "configs" / "storyline" / f"{story}.yaml").read_text())


@pytest.fixture(scope="module", params=sorted(LIBRARY))
def library_run(request):
    name = request.param
    story, months = LIBRARY[name]
    cfg = hssim.compose(
        [f"scenario={name}", f"storyline={story}", "population.households=1500", f"months={months}", "spinup_months=3"]
    )
    return name, story, hssim.run(cfg)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_scenario_loads_and_validates(name):
    sc = load_scenario(name)
    header, rows = _table(name)
    assert set(header) >= {c for c, spec in DISTRICT_COLUMNS.items() if spec[3] is None}
    assert sc.names == tuple(r["district"] for r in rows)
    assert sc.n_districts >= 7
    assert sc.adjacency.any(axis=1).all(), "every district has a neighbour"
    cfg = yaml.safe_load((REPO / "configs" / "scenario" / f"{name}.yaml").read_text())
    assert cfg["name"] == name and cfg["path"] == name and 1 <= cfg["start_calendar_month"] <= 12


@pytest.mark.parametrize("name,story", STORYLINES)
def test_storyline_names_districts_of_its_scenario(name, story):
    names = set(load_scenario(name).names)
    events = _storyline(story)["events"]
    assert events
    for ev in events:
        assert set(ev.get("districts", [])) <= names


def _forced_months(story: str, districts: tuple[str, ...]) -> dict[str, dict[int, float]]:
    """district -> {horizon month: forced anomaly}, later events overriding earlier ones."""
    forced: dict[str, dict[int, float]] = {d: {} for d in districts}
    for ev in _storyline(story)["events"]:
        end = ev.get("end") or ev["start"]
        for d in ev.get("districts") or districts:
            for m in range(ev["start"], end + 1):
                forced[d][m] = ev["anomaly"]
    return forced


def test_storyline_forces_drought_in_named_districts(library_run):
    name, story, res = library_run
    ts = res.timeseries
    sel = ts[(ts.group == "all") & (ts.district != "all")]
    drought = sel[sel.indicator == "in_drought"].pivot(index="month", columns="district", values="value")
    spi = sel[sel.indicator == "spi"].pivot(index="month", columns="district", values="value")
    forced = _forced_months(story, load_scenario(name).names)
    checked = 0
    for d, months in forced.items():
        for m in months:
            # the SPI window (3 months) lies wholly in forced months of at most -1 sd:
            # the index is then at or below -1, whatever the random draws
            window = [m - k for k in range(3)]
            if all(months.get(w, 0.0) <= -1.0 for w in window):
                assert drought.loc[m, d] == 1, (story, d, m, spi.loc[m, d])
                assert spi.loc[m, d] <= -1.0
                checked += 1
    assert checked >= 3
    # named (local) events: their districts are drier than the rest over the event
    for ev in _storyline(story)["events"]:
        named = ev.get("districts") or []
        others = [d for d in forced if d not in named]
        if named and others:
            end = ev.get("end") or ev["start"]
            rows = spi.loc[ev["start"] : end]
            assert rows[named].to_numpy().mean() < rows[others].to_numpy().mean()


def test_results_name_the_table_districts_in_proportion(library_run):
    name, _, res = library_run
    _, rows = _table(name)
    names = [r["district"] for r in rows]
    ts = res.timeseries
    assert set(ts.district.unique()) - {"all"} == set(names)
    hh = ts[(ts.indicator == "households") & (ts.group == "all") & (ts.month == 1) & (ts.district != "all")]
    sim = hh.set_index("district")["value"].reindex(names).to_numpy()
    weights = np.array([float(r["households"]) for r in rows])
    assert np.abs(sim / sim.sum() - weights / weights.sum()).max() < 0.02


def _readme_sources(name: str) -> dict[str, str]:
    """column -> source cell of the README's column table (first cell names the column)."""
    text = (REPO / "scenarios" / name / "README.md").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
        if len(cells) >= 3:
            for col in re.findall(r"`([a-z0-9_]+)`", cells[0]):
                out[col] = cells[-1]
    return out


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_readme_gives_a_source_for_every_column(name):
    header, _ = _table(name)
    sources = _readme_sources(name)
    missing = [c for c in header if c not in sources]
    assert not missing, f"README of {name} has no table row for {missing}"
    for col in header:
        src = sources[col]
        # a publisher with a year, or an explicit "assumed"
        assert re.search(r"(19|20)\d\d", src) or "assumed" in src.lower(), (name, col, src)
