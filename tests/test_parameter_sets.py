"""Comparisons and sweeps that draw parameter uncertainty from a calibration's plausible
sets (``parameters=calibrated``): which set each replicate runs at, that arms share it,
that resuming uses the stored sets, and clear errors for files that do not fit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hssim.compare.planning import plan
from hssim.compare.running import compare, resume
from hssim.errors import ConfigError, UserError
from hssim.paths import scenarios_dir
from hssim.runs import compose_arm
from hssim.runs.parameter_sets import ParameterSets, load_parameter_sets
from hssim.sweep.runner import _model_of, evaluate_chunk
from hssim.sweep.runner import plan as sweep_plan
from hssim.sweep.schema import SweepConfig
from hssim.validate import from_mapping, to_dict

TINY = ["scenario=turkana", "population.households=200", "months=12", "spinup_months=3"]
TURKANA = scenarios_dir() / "turkana" / "calibration"


def _plausible() -> pd.DataFrame:
    return pd.read_csv(TURKANA / "plausible.csv")


def test_calibrated_reads_the_scenarios_plausible_sets_best_first():
    sets = load_parameter_sets("calibrated", {"name": "turkana", "path": "turkana"})
    table = _plausible()
    names = [n for n, _ in sets.paths]
    assert len(sets) == len(table) > 1
    np.testing.assert_array_equal(np.array(sets.sets), table[names].to_numpy())
    # replicate r runs at set r mod K
    k = len(sets)
    assert sets.index(0) == 0 and sets.index(k) == 0 and sets.index(k + 3) == 3
    assert dict(sets.paths)["p_mam_per_gap"] == "households.p_mam_per_gap"
    assert ParameterSets.from_json(json.loads(json.dumps(sets.to_json()))) == sets


def test_comparison_replicate_runs_at_its_set_in_every_arm_and_equals_the_overridden_run():
    p = plan(["none", "reactive_integrated"], replicates=3, overrides=TINY, parameters="calibrated")
    sets = p.parameter_sets
    for r in range(3):
        want = sets.values(r)
        for arm in p.arms:
            cfg = to_dict(p.config(arm, r))
            got = {path: cfg[path.split(".")[0]][path.split(".")[1]] for path in want}
            assert got == pytest.approx(want, rel=0, abs=0)
            # the same config as composing the set's values as overrides
            ov = [f"{path}={v!r}" for path, v in want.items()]
            ref, _ = compose_arm([*TINY, *ov], [f"policy={arm}"])
            ref_d = to_dict(ref)
            ref_d["seed"] = cfg["seed"]
            assert ref_d == cfg
    # different replicates run at different sets
    a0, a1 = to_dict(p.config("none", 0)), to_dict(p.config("none", 1))
    assert a0["households"]["p_mam_per_gap"] != a1["households"]["p_mam_per_gap"]


def test_comparison_over_sets_records_them_and_resumes_with_the_stored_sets(tmp_path):
    run_dir = tmp_path / "cmp"
    first = compare(["none", "reactive_integrated"], replicates=2, overrides=TINY, run_dir=run_dir,
                    parameters="calibrated", n_boot=200)
    meta = first.meta["parameter_sets"]
    assert meta["calibration"] == "turkana" and meta["count"] == len(_plausible())
    spec = json.loads((run_dir / "spec.json").read_text())
    assert len(spec["parameter_sets"]["sets"]) == len(_plausible())
    # the sets in the spec decide, not the file: edit the stored sets, resume with one more
    # replicate; the new replicate (r = 2) runs at the stored set 2
    spec["parameter_sets"]["sets"][2][0] = 0.123
    (run_dir / "spec.json").write_text(json.dumps(spec))
    res = resume(run_dir, replicates=3, n_boot=200)
    assert res.meta["runs_executed"] == 2 and res.meta["runs_stored"] == 4
    p = plan(["none", "reactive_integrated"], 3, first.meta["base_seed"], None, TINY,
             parameters=ParameterSets.from_json(spec["parameter_sets"]))
    assert to_dict(p.config("none", 2))["households"]["p_mam_per_gap"] == 0.123
    stored = json.loads(next((run_dir / "runs").glob("none__r2*.json")).read_text())
    assert stored["fingerprint"] == p.fingerprint("none", 2)  # run at the edited, stored set
    # runs differ from a comparison without sets (the sets change the model)
    plain = compare(["none", "reactive_integrated"], replicates=2, overrides=TINY, n_boot=200)
    with_sets = first.runs.set_index(["arm", "replicate", "outcome"])["value"]
    without = plain.runs.set_index(["arm", "replicate", "outcome"])["value"]
    assert not np.allclose(with_sets.to_numpy(), without.reindex(with_sets.index).to_numpy(), equal_nan=True)


def test_sets_of_another_scenario_or_without_a_calibration_are_refused(tmp_path):
    with pytest.raises(ConfigError) as e:
        plan(["none", "reactive_integrated"], 2, overrides=TINY, parameters=str(scenarios_dir() / "lesotho" / "calibration"))
    assert "parameters" in str(e.value) and "it fits 'lesotho'" in str(e.value)
    folder = tmp_path / "mine"
    shutil.copytree(scenarios_dir() / "turkana", folder, ignore=shutil.ignore_patterns("calibration"))
    with pytest.raises(ConfigError, match="shipped calibration"):
        load_parameter_sets("calibrated", {"name": "mine", "path": str(folder)})
    with pytest.raises(ConfigError, match="no such file"):
        load_parameter_sets(str(tmp_path / "nowhere"), {"name": "turkana", "path": "turkana"})
    old = json.loads((TURKANA / "calibration.json").read_text())
    old.pop("scenario_name")
    (tmp_path / "calibration.json").write_text(json.dumps(old))
    with pytest.raises(ConfigError, match="scenario_name"):
        load_parameter_sets(str(tmp_path), {"name": "turkana", "path": "turkana"})
    old["scenario_name"] = "turkana"
    old["plausible_sets"] = [{"p_mam_per_gap": 0.5}]
    (tmp_path / "calibration.json").write_text(json.dumps(old))
    with pytest.raises(ConfigError, match="a value for every parameter"):
        load_parameter_sets(str(tmp_path), {"name": "turkana", "path": "turkana"})
    # a set the run config refuses is named before anything runs
    old["plausible_sets"] = [{k: (7.0 if k == "p_recover_mam" else 0.2) for k in old["parameters"]}]
    (tmp_path / "calibration.json").write_text(json.dumps(old))
    with pytest.raises(ConfigError, match="set 0 of"):
        plan(["none", "reactive_integrated"], 2, overrides=TINY, parameters=str(tmp_path))


def test_cli_names_a_bad_parameters_option_and_exits_2(tmp_path):
    env = {**os.environ}
    env.pop("HSSIM_DEBUG", None)
    r = subprocess.run([sys.executable, "-c", "from hssim.cli.compare import main; main()", "--parameters",
                        str(tmp_path / "nowhere"), "--arms", "none,reactive_integrated", *TINY],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "parameters" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "outputs").exists()


def _sweep(tmp_path: Path, **extra) -> SweepConfig:
    exp = {"name": "t", "method": "monte_carlo", "n": 2, "replicates": 3, "parameter_sets": "calibrated",
           "overrides": TINY, "sample_seed": 5,
           "parameters": {"mam": {"path": "households.p_mam_per_gap", "bounds": [0.2, 0.3]}},
           "outputs": {"deaths": {"summary": "deaths_total"}}, **extra}
    return from_mapping(SweepConfig, {"store": str(tmp_path / "store"), "experiment": exp}, "")


def test_sweep_replicates_run_at_their_sets_and_the_swept_value_holds(tmp_path):
    p = sweep_plan(_sweep(tmp_path))
    h = p.header
    assert h["parameter_sets"]["calibration"] == "turkana"
    model = _model_of(p.store)  # rebuilt from the header, as a Slurm job does
    sets = model.sets
    x = np.array(h["sample"][0])
    for r in range(3):
        cfg = model.config("run", x, 1, replicate=r)
        want = sets.values(r)
        assert cfg["households"]["support_max_frac"] == want["households.support_max_frac"]
        assert cfg["households"]["p_mam_per_gap"] == x[0]  # the swept parameter wins over the set
    out = evaluate_chunk(p.store.root, 0)
    assert out["status"] == "done"
    # a store records the sets' values: other values, another experiment
    other = json.loads((TURKANA / "calibration.json").read_text())
    other["plausible_sets"] = other["plausible_sets"][1:]
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "calibration.json").write_text(json.dumps(other))
    with pytest.raises(UserError, match="another experiment"):
        sweep_plan(_sweep(tmp_path, parameter_sets=str(tmp_path / "cal")))


def test_analytic_model_takes_no_parameter_sets(tmp_path):
    with pytest.raises(ConfigError, match="parameter_sets"):
        from_mapping(SweepConfig, {"experiment": {
            "name": "i", "model": "ishigami", "method": "monte_carlo", "n": 4, "parameter_sets": "calibrated",
            "parameters": {k: {"path": k, "bounds": [-3, 3]} for k in ("x1", "x2", "x3")},
            "outputs": {"y": {"summary": "y"}}}}, "")
