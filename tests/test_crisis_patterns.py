"""Crisis-shape targets (peak level and timing, livestock losses, recovery) and
re-validating a saved fit against a targets table that gained rows."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from hssim.errors import ScenarioErrors
from hssim.paths import scenarios_dir
from hssim.targets import PATTERN_INDICATORS, TARGET_INDICATORS, _patterns, load_targets


def _sums(months: int, districts: int) -> dict[str, np.ndarray]:
    z = np.zeros((months, districts))
    return {k: z.copy() for k in ("people", "people_ipc3plus", "u5", "u5_malnourished", "herd_tlu_milli")}


def test_patterns_by_hand():
    s = _sums(5, 2)
    s["people"][:] = 100.0
    s["people_ipc3plus"][:, 0] = [10, 30, 80, 20, 90]
    s["people_ipc3plus"][:, 1] = [10, 30, 20, 40, 90]
    s["u5"][:] = 10.0
    s["u5_malnourished"][:, 0] = [1, 2, 3, 4, 9]
    s["herd_tlu_milli"][:, 0] = [1000, 900, 700, 500, 100]
    s["herd_tlu_milli"][:, 1] = [1000, 1000, 1000, 1000, 100]
    mask = np.zeros((5, 2), bool)
    mask[1:4] = True  # months 1..3 of the horizon index, both districts
    out = _patterns(s, mask)
    # monthly shares pooled over districts: 60/200, 100/200, 60/200 -> peak 0.5 at month 2
    assert out["ipc3plus_frac_peak"] == pytest.approx(0.5)
    assert out["ipc3plus_peak_month_index"] == 1.0  # one month after the period's first
    assert out["acute_malnutrition_frac_peak"] == pytest.approx(4 / 20)
    # herds: 2000 held at the end of the month before the period, 1500 at the end of its last
    assert out["livestock_loss_frac"] == pytest.approx(0.25)
    # one district: its own months only
    one = np.zeros_like(mask)
    one[1:4, 0] = True
    got = _patterns(s, one)
    assert got["ipc3plus_frac_peak"] == pytest.approx(0.8)
    assert got["livestock_loss_frac"] == pytest.approx(0.5)
    # a period from the first recorded month starts from that month's herd
    first = np.zeros_like(mask)
    first[0:2] = True
    assert _patterns(s, first)["livestock_loss_frac"] == pytest.approx(1 - 1900 / 2000)
    # nothing covered: no value
    assert all(math.isnan(v) for v in _patterns(s, np.zeros_like(mask)).values())


def test_pattern_rows_need_a_dated_period(tmp_path):
    folder = tmp_path / "sc"
    shutil.copytree(scenarios_dir() / "turkana", folder, ignore=shutil.ignore_patterns("calibration"))
    with open(folder / "targets.csv", "a", encoding="utf-8") as fh:
        fh.write("ipc3plus_frac_peak,all,normal years,0.1,0.5,,assumed,,validation,\n")
    with pytest.raises(ScenarioErrors) as e:
        load_targets(folder)
    assert "crisis's shape" in str(e.value) and "period" in str(e.value)
    assert PATTERN_INDICATORS <= set(TARGET_INDICATORS)


def test_shipped_tables_hold_crisis_patterns():
    rows = [t for f in ("turkana", "lesotho", "grand_sud") for t in load_targets(f)]
    kinds = {t.indicator for t in rows if t.indicator in PATTERN_INDICATORS}
    assert kinds == PATTERN_INDICATORS
    assert all(t.role == "validation" and t.storyline and not t.assumed for t in rows if t.indicator in PATTERN_INDICATORS)


def test_revalidate_reruns_a_saved_fit_against_the_table_as_it_is_now(tmp_path, capsys):
    """--revalidate reruns a saved fit: every row its validation table holds gets the very
    same model numbers (deterministic runs), rows added to the targets table since are
    measured, and a folder that is not a calibration exits 2 with one line."""
    import yaml

    from hssim.cli.calibrate import main

    table = tmp_path / "lesotho"
    shutil.copytree(scenarios_dir() / "lesotho", table, ignore=shutil.ignore_patterns("calibration"))
    cal = {"name": "tiny", "scenario": "lesotho", "targets": str(table), "overrides": ["policy=none", "storyline=none"],
           "households": 200, "months": 24, "seeds": [1], "trials": 2, "sampler": "random", "validation_sets": 1,
           "parameters": {"p_mam_per_gap": {"path": "households.p_mam_per_gap", "low": 0.2, "high": 0.5,
                                            "source": "assumed (test)"}}}
    (tmp_path / "calibration").mkdir()
    path = tmp_path / "calibration" / "tiny.yaml"
    path.write_text(yaml.safe_dump(cal))
    out = tmp_path / "out"
    main([f"calibration={path}", "--out", str(out)])
    first = pd.read_csv(out / "validation.csv")
    (out / "validation.csv").unlink()
    (out / "report.html").unlink()
    # a crisis-shape row added to the table since the fit
    with open(table / "targets.csv", "a", encoding="utf-8") as fh:
        fh.write("acute_malnutrition_frac_peak,all,2015-10..2016-12,0.0,0.2,,assumed (test),,validation,"
                 "lesotho_2015_2016\n")
    main(["--revalidate", str(out)])
    again = pd.read_csv(out / "validation.csv")
    key = ["indicator", "district", "period", "storyline"]
    both = first.merge(again, on=key, suffixes=("_first", "_now"))
    assert len(both) == len(first) > 0 and len(again) == len(first) + 1
    np.testing.assert_array_equal(both["model_median_first"].to_numpy(), both["model_median_now"].to_numpy())
    new = again[again["indicator"] == "acute_malnutrition_frac_peak"]
    assert len(new) == 1 and 0 < new["model_median"].iloc[0] < 1
    assert "Calibration and validation" in (out / "report.html").read_text(encoding="utf-8")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["--revalidate", str(tmp_path / "nowhere")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "calibration.json" in err and "Traceback" not in err
