"""The golden baseline: every configuration of ``tests/golden`` gives exactly its stored
summary and tidy frames (``tests/golden/<name>.json``; the configurations, the canonical
form that is hashed and the tooling are described in ``tests/golden/__init__.py``).

A failure names the configuration, the summary keys and the frames (for the time series,
the indicators) that differ. When a change is *meant* to alter results, regenerate the
records from the repository root and commit them with the change::

    .venv/bin/python -m tests.golden regenerate              # every configuration
    .venv/bin/python -m tests.golden regenerate NAME [NAME]  # only these
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

import hssim

from . import golden
from .conftest import REPO


@pytest.mark.parametrize("config", golden.CONFIGS, ids=lambda g: g.name)
def test_results_match_the_golden_record(config):
    stored = golden.load(config)
    assert stored is not None, f"no tests/golden/{config.path.name}; create it with {golden.REGENERATE} {config.name}"
    diffs = golden.differences(stored, golden.record_of(config, golden.results_of(config)))
    if diffs:
        pytest.fail(golden.report(config, diffs), pytrace=False)


def test_every_record_belongs_to_a_configuration():
    names = {g.name for g in golden.CONFIGS}
    assert len(names) == len(golden.CONFIGS), "two golden configurations share a name"
    stale = sorted(p.name for p in golden.GOLDEN_DIR.glob("*.json") if p.stem not in names)
    assert not stale, f"records of no configuration in tests/golden (remove them): {stale}"


def test_the_set_covers_every_hazard_preset_and_shipped_scenario():
    """Every hazard alone and all together, every response preset and shipped scenario, a
    storyline and a custom district table: adding a preset or a scenario without a golden
    configuration fails here."""
    composed = [hssim.compose(golden.compose_overrides(g)) for g in golden.CONFIGS]
    on = [frozenset(k for k, h in c.hazards.items() if h.enabled) for c in composed]
    for hazard in ("drought", "conflict", "disease"):
        assert frozenset({hazard}) in on, f"no golden configuration with {hazard} alone"
    assert frozenset({"drought", "conflict", "disease"}) in on, "no golden configuration with every hazard on"
    presets = {p.stem for p in (REPO / "configs" / "policy").glob("*.yaml")} - {"base"}
    assert presets - {c.policy.name for c in composed} == set(), "response presets without a golden configuration"
    shipped = {yaml.safe_load(p.read_text())["name"] for p in (REPO / "configs" / "scenario").glob("*.yaml")}
    assert shipped - {c.scenario.name for c in composed} == set(), "scenarios without a golden configuration"
    assert any(len(c.storyline.events) > 0 for c in composed), "no golden configuration with a storyline"
    custom = [c for c in composed if c.scenario.name == "custom"]
    assert custom and all(str(golden.GOLDEN_DIR) in c.scenario.path for c in custom)


# ---- the comparison can fail (no simulation: a stored record, altered) -------------


def test_a_changed_summary_value_or_frame_is_named():
    stored = golden.load(golden.CONFIGS[0])
    now = copy.deepcopy(stored)
    now["summary"]["deaths_total"] = str(int(stored["summary"]["deaths_total"]) + 1)
    del now["summary"]["hs_index_mean"]
    ts = now["frames"]["timeseries"]
    ts["sha256"] = "0" * 64
    ts["parts"]["spi"] = "0" * 16
    del now["frames"]["district_risk"]
    diffs = golden.differences(stored, now)
    assert len(diffs) == 4, diffs
    assert any(d.startswith("summary['deaths_total']: stored") for d in diffs)
    assert any(d.startswith("summary['hs_index_mean']") and "no longer produced" in d for d in diffs)
    assert "frame timeseries: differs in spi" in diffs
    assert "frame district_risk: no longer produced" in diffs
    message = golden.report(golden.CONFIGS[0], diffs)
    assert golden.CONFIGS[0].name in message and golden.REGENERATE in message
    assert golden.differences(stored, copy.deepcopy(stored)) == []


def test_the_canonical_form_sees_every_bit_but_not_row_order():
    df = pd.DataFrame({
        "month": np.array([1, 1, 2], np.int64),
        "indicator": pd.Categorical(["a", "b", "a"]),
        "value": [0.1, 0.0, np.nan],
        "flag": [True, False, True],
    })
    base = golden.frame_record(df)
    assert base["rows"] == 3 and set(base["parts"]) == {"a", "b"}
    assert base["columns"] == {"flag": "bool", "indicator": "text", "month": "int", "value": "float"}
    # same rows in another order, -0.0 for 0.0, narrower ints, other category order: the same result
    same = df.iloc[[2, 0, 1]].reset_index(drop=True)
    same["value"] = same["value"].replace(0.0, -0.0)
    same["month"] = same["month"].astype(np.int8)
    same["indicator"] = same["indicator"].cat.reorder_categories(["b", "a"])
    assert golden.frame_record(same[["value", "flag", "indicator", "month"]]) == base
    # one ulp in one value changes the hash and names its part
    ulp = df.copy()
    ulp.loc[0, "value"] = np.nextafter(0.1, 1.0)
    changed = golden.frame_record(ulp)
    assert changed["sha256"] != base["sha256"]
    assert [k for k in base["parts"] if base["parts"][k] != changed["parts"][k]] == ["a"]
    # so do a missing value, a text value and a column name
    for other in (df.assign(flag=[True, False, False]), df.assign(value=[0.1, np.nan, np.nan]),
                  df.rename(columns={"flag": "flag2"}), df.assign(indicator=["a", "c", "a"])):
        assert golden.frame_record(other)["sha256"] != base["sha256"]
