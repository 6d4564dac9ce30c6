"""hssim-calibrate: recovering known parameters, resuming a study, several workers on one
SQLite or MariaDB study, and bad calibration files refused with the field named.

The targets of the recovery test are made by the model itself at known parameter values
(bands of +-10% around what it measured), so the truth is known and lies inside every band.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

import hssim
from hssim.calibrate import calibrate, load_calibration
from hssim.calibrate.objective import target_distance
from hssim.calibrate.study import open_study
from hssim.cli.calibrate import main
from hssim.errors import ConfigError
from hssim.scenario import load_scenario
from hssim.targets import Target, measure

TRUTH = {"p_mam_per_gap": 0.35, "conflict_scale": 1.0}
SMALL = {"scenario": "default", "overrides": ["policy=none", "storyline=none"], "households": 200, "months": 24,
         "seeds": [1]}
PARAMETERS = {
    "p_mam_per_gap": {"path": "households.p_mam_per_gap", "low": 0.1, "high": 0.8, "source": "assumed (test)"},
    "conflict_scale": {"path": "hazards.conflict.baseline_scale", "low": 0.3, "high": 3.0, "log": True,
                       "source": "assumed (test)"},
}
INDICATORS = ("acute_malnutrition_frac", "conflict_events_per_month")


@pytest.fixture(scope="module")
def made_targets(tmp_path_factory):
    """targets.csv measured from the model at TRUTH (one seed, the calibration's runs)."""
    folder = tmp_path_factory.mktemp("targets")
    cfg = hssim.compose(["scenario=default", "policy=none", "storyline=none", "months=24",
                         "population.households=200", "output.figure=false", "seed=1",
                         f"households.p_mam_per_gap={TRUTH['p_mam_per_gap']}",
                         f"hazards.conflict.baseline_scale={TRUTH['conflict_scale']}"])
    m = measure([hssim.run(cfg)], load_scenario("synthetic_region"), periods=("all years",))["mean"]
    rows = ["indicator,district,period,low,high,value,source,note,role"]
    for ind in INDICATORS:
        v = float(m[(ind, "all", "all years")])
        rows.append(f"{ind},all,all years,{v * 0.9!r},{v * 1.1!r},{v!r},the model at known values,,calibration")
    # a held-out row: never used by the fit
    rows.append("ipc3plus_frac,all,all years,0.0,0.01,,assumed (held out),,validation")
    (folder / "targets.csv").write_text("\n".join(rows) + "\n")
    return folder


def read_table(path):
    """A result table with its storyline column as text ("" for the no-shock rows)."""
    import pandas as pd

    frame = pd.read_csv(path)
    frame["storyline"] = ["" if pd.isna(x) else str(x) for x in frame["storyline"]]
    return frame


def write_cal(folder, name="recover", **changes):
    data = {"name": name, **SMALL, "parameters": PARAMETERS, "trials": 24, "startup_trials": 8, **changes}
    (folder / "calibration").mkdir(parents=True, exist_ok=True)
    path = folder / "calibration" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_distance_is_zero_in_the_band_and_grows_with_the_gap():
    t = Target("ipc3plus_frac", "all", "normal years", 0.1, 0.3, math.nan, "assumed", "", 2)
    assert target_distance(t, 0.1) == 0 and target_distance(t, 0.3) == 0 and target_distance(t, 0.2) == 0
    assert target_distance(t, 0.4) == pytest.approx(1.0)  # one half-width above: (0.1 / 0.1) ** 2
    assert target_distance(t, 0.0) == pytest.approx(1.0) and target_distance(t, 0.5) == pytest.approx(4.0)
    one_sided = Target("ipc5_frac", "all", "all years", math.nan, 0.02, math.nan, "assumed", "", 3)
    assert target_distance(one_sided, 0.0) == 0 and target_distance(one_sided, 0.03) == pytest.approx(4.0)
    assert target_distance(t, math.nan) > 1e5


def test_recovers_known_parameters_from_targets_made_by_the_model(made_targets, tmp_path):
    cal = load_calibration(str(write_cal(tmp_path, targets=str(made_targets))))
    res = calibrate(cal, out=tmp_path / "out")
    assert len(res.trials) == 24
    # the held-out row is not fitted
    assert list(res.fit["indicator"]) == list(INDICATORS) and set(res.fit["role"]) == {"calibration"}
    assert res.all_in_bands and len(res.plausible) >= 1 and res.plausible["in_bands"].all()
    best = res.best
    assert abs(best["p_mam_per_gap"] - TRUTH["p_mam_per_gap"]) < 0.1, best
    assert abs(math.log(best["conflict_scale"] / TRUTH["conflict_scale"])) < math.log(1.25), best
    # conflict events answer the conflict scale closely: it is identified far better than the prior says
    ident = res.identification.set_index("parameter")
    assert ident.loc["conflict_scale", "plausible_p05"] > 0.3 * 1.5 and ident.loc["conflict_scale", "plausible_p95"] < 2.0
    doc = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert doc["complete_trials"] == 24 and doc["all_in_bands"] and doc["plausible_sets"][0] == res.parameter_sets()[0]
    for name in ("trials.csv", "plausible.csv", "identification.csv", "fit.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    # the same command again finds the study complete and adds nothing
    again = calibrate(cal, out=tmp_path / "out")
    assert len(again.trials) == 24  # nothing to add


def test_resuming_adds_trials_and_loses_none(made_targets, tmp_path):
    path = write_cal(tmp_path, targets=str(made_targets), trials=3, sampler="random")
    first = calibrate(load_calibration(str(path)), out=tmp_path / "out")
    assert list(first.trials["number"]) == [0, 1, 2]
    more = calibrate(load_calibration(str(path), ["trials=5"]), out=tmp_path / "out")
    assert list(more.trials["number"]) == [0, 1, 2, 3, 4]
    cols = ["number", *PARAMETERS, "distance"]
    np.testing.assert_array_equal(more.trials[cols].iloc[:3].to_numpy(), first.trials[cols].to_numpy())
    # a study made with other free parameters is refused, not mixed
    other = write_cal(tmp_path, name="recover", targets=str(made_targets), trials=5,
                      parameters={"p_mam_per_gap": PARAMETERS["p_mam_per_gap"]})
    with pytest.raises(hssim.UserError, match="other free parameters"):
        calibrate(load_calibration(str(other)), out=tmp_path / "out")


def _two_workers(cal, url):
    import optuna

    calibrate(cal, storage=url, workers=2)
    study = open_study(cal, url)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    # each worker stops once the study holds `trials` complete ones: at most one more may finish
    assert cal.trials <= len(complete) <= cal.trials + 1
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials), [t.state for t in trials]
    assert len({t.number for t in trials}) == len(trials)
    # both workers wrote to the one study: the trials come from two processes
    return complete


def test_two_workers_share_one_sqlite_study(made_targets, tmp_path):
    cal = load_calibration(str(write_cal(tmp_path, targets=str(made_targets), trials=6, sampler="random")))
    complete = _two_workers(cal, f"sqlite:///{tmp_path / 'study.db'}")
    assert len({tuple(t.params.values()) for t in complete}) == len(complete)


def test_a_storage_whose_tables_another_process_is_making_is_opened_on_retry(tmp_path, monkeypatch):
    """Two processes opening a new SQLite study at once: the loser's CREATE TABLE fails with
    SQLite's "table ... already exists" (not an IntegrityError, as on a server); it retries
    and opens the tables the winner made instead of failing the worker (seen once in CI)."""
    import sqlalchemy.exc
    from optuna import storages

    from hssim.calibrate import study as study_mod

    real, calls = storages.RDBStorage, []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            real(url, **kwargs)  # the other process wins the race and makes the tables ...
            raise sqlalchemy.exc.OperationalError("CREATE TABLE studies", {},
                                                  Exception("table studies already exists"))
        return real(url, **kwargs)  # ... and this one finds them made

    monkeypatch.setattr(storages, "RDBStorage", racing)
    monkeypatch.setattr(study_mod.time, "sleep", lambda s: None)
    storage = study_mod._rdb(f"sqlite:///{tmp_path / 'study.db'}", 1)
    assert len(calls) == 2 and storage.get_all_studies() == []

    def broken(url, **kwargs):  # any other database error is still the user's, at once
        calls.append(url)
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    monkeypatch.setattr(storages, "RDBStorage", broken)
    calls.clear()
    with pytest.raises(study_mod.UserError, match="unable to open database file"):
        study_mod._rdb(f"sqlite:///{tmp_path / 'other.db'}", 1)
    assert len(calls) == 1


def test_two_workers_share_one_mariadb_study(mariadb_server, made_targets, tmp_path):
    url = mariadb_server.create_database("hssim_calibration", "hssim", "calibrate-test")
    cal = load_calibration(str(write_cal(tmp_path, targets=str(made_targets), trials=6, sampler="random")))
    complete = _two_workers(cal, url)
    assert len({tuple(t.params.values()) for t in complete}) == len(complete)
    # another process (the command line) continues the same server study and reports it
    main(["calibration=" + str(tmp_path / "calibration" / "recover.yaml"), "--storage", url, "--out",
          str(tmp_path / "report"), "trials=7"])
    doc = json.loads((tmp_path / "report" / "calibration.json").read_text())
    assert doc["complete_trials"] >= 7 and "calibrate-test" not in json.dumps(doc)  # the password is not written


def test_a_killed_workers_trial_is_retried_with_its_parameters(made_targets, tmp_path):
    """A worker killed mid-trial (SIGKILL: no clean-up) leaves a RUNNING trial; once its
    heartbeat is stale the next worker marks it failed and re-queues its parameters, so
    the study loses no trial."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import optuna

    path = write_cal(tmp_path, targets=str(made_targets), trials=400, sampler="random", heartbeat_s=1)
    cal = load_calibration(str(path))
    out = tmp_path / "out"
    url = f"sqlite:///{out / 'study.db'}"
    env = {k: v for k, v in os.environ.items() if k != "HSSIM_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-c", "from hssim.cli.calibrate import main; main()",
                             f"calibration={path}", "--out", str(out), "--no-validation"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline, running = time.monotonic() + 300, []
        while time.monotonic() < deadline and not running:
            time.sleep(0.3)
            if (out / "study.db").exists():
                trials = open_study(cal, url).get_trials(deepcopy=False)
                running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING and t.number >= 1]
        assert running, "the worker never started a trial"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = open_study(cal, url).get_trials(deepcopy=False)
    lost = [t for t in killed if t.state == optuna.trial.TrialState.RUNNING]
    assert len(lost) == 1
    done_before = sum(t.state == optuna.trial.TrialState.COMPLETE for t in killed)
    time.sleep(3 * cal.heartbeat_s + 1)  # the heartbeat is stale after three beats
    calibrate(load_calibration(str(path), [f"trials={done_before + 2}"]), out=out)
    after = {t.number: t for t in open_study(cal, url).get_trials(deepcopy=False)}
    assert after[lost[0].number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in after.values() if t.system_attrs.get("failed_trial") == lost[0].number]
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    assert retried[0].params == lost[0].params  # the same parameters, run again


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"parameters": {"x": {"path": "households.no_such_field", "low": 0, "high": 1}}}, "parameters.x.path", None),
        ({"parameters": {"x": {"path": "households.p_mam_per_gap", "low": 0.8, "high": 0.1}}}, "parameters.x.high",
         "above low"),
        ({"parameters": {"x": {"path": "households", "low": 0, "high": 1}}}, "parameters.x.path", "a number"),
        ({"targets_used": ["no_such_indicator"]}, "targets_used[0]", None),
        ({"trials": 0}, "trials", None),
        ({"seeds": [1, 1]}, "seeds", "distinct"),
        ({"no_such_key": 1}, "no_such_key", None),
        ({"overrides": ["seed=3"]}, "overrides[0]", None),
    ],
)
def test_bad_calibration_exits_2_naming_the_field(made_targets, tmp_path, capsys, change, field, expected):
    data = {"targets": str(made_targets), **change}
    if "parameters" not in change:
        data["parameters"] = PARAMETERS
    path = write_cal(tmp_path, **data)
    if "parameters" in change:
        d = yaml.safe_load(path.read_text())
        d["parameters"] = change["parameters"]
        path.write_text(yaml.safe_dump(d))
    with pytest.raises(SystemExit) as e:
        main(["calibration=recover", "--config-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err, err
    assert field in err, err
    if expected:
        assert expected in err, err
    assert not (tmp_path / "out" / "calibration.json").exists()


def test_bad_targets_table_exits_2_with_file_row_and_column(tmp_path, capsys):
    folder = tmp_path / "targets"
    folder.mkdir()
    (folder / "targets.csv").write_text("indicator,district,period,low,high,value,source,note,role\n"
                                        "ipc3plus_frac,Nowhere,normal years,0.1,0.3,,assumed,,calibration\n"
                                        "ipc5_frac,all,normal years,,0.01,,assumed,,maybe\n")
    write_cal(tmp_path, targets=str(folder))
    with pytest.raises(SystemExit) as e:
        main(["calibration=recover", "--config-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "targets.csv" in err and "'Nowhere' is not a district" in err, err
    assert "'maybe' is not a role" in err and "row 3" in err, err


def test_unknown_calibration_name_lists_the_group(capsys):
    with pytest.raises(ConfigError, match="calibration"):
        load_calibration("no_such_calibration")


def test_shipped_calibrations_are_valid():
    from hssim.calibrate import check_calibration
    from hssim.paths import configs_dir

    names = sorted(p.stem for p in (configs_dir() / "calibration").glob("*.yaml"))
    assert names, "configs/calibration/ ships calibrations"
    for name in names:
        cal = load_calibration(name, ["households=100", "months=12"])
        _, scenario, targets = check_calibration(cal)
        assert targets and all(t.role == "calibration" for t in targets), name
        assert all(p.source for p in cal.parameters.values()), f"{name}: every free parameter names its source"


def test_validation_runs_every_target_with_crisis_hindcasts_and_writes_the_page(tmp_path, capsys):
    """Turkana, tiny: two trials, then the best set against every row of its table (both
    roles), the crisis rows as hindcasts of their dated storylines."""
    import pandas as pd

    from hssim.targets import load_targets

    out = tmp_path / "out"
    main(["calibration=turkana", "--out", str(out), "households=150", "months=24", "trials=2", "seeds=[1]",
          "startup_trials=2", "validation_sets=1"])
    printed = capsys.readouterr().out
    table = read_table(out / "validation.csv")  # no-shock rows: empty
    every = load_targets("turkana", load_scenario("turkana"))
    assert len(table) == len(every) and set(table["role"]) == {"calibration", "validation"}
    crisis = table[table["storyline"] != ""]
    assert set(crisis["storyline"]) == {t.storyline for t in every if t.storyline}
    # every row keeps its role: the crisis row the fit sees, the held-out ones
    roles = {(t.indicator, t.district, t.period, t.storyline): t.role for t in every}
    assert [roles[(r.indicator, r.district, r.period, r.storyline)] for r in table.itertuples()] == list(table["role"])
    assert set(crisis["role"]) == {"calibration", "validation"}
    fit = read_table(out / "fit.csv")
    assert (fit["role"] == "calibration").all() and (fit["storyline"] != "").sum() == 1  # the fitted crisis row
    assert table["coverage"].between(0, 1).all() and table["model_median"].notna().all()
    k, n = int(table[table.role == "validation"]["in_band"].sum()), int((table.role == "validation").sum())
    assert f"validation targets inside their band at the plausible sets' median: {k} of {n}" in printed
    # the hindcast's months carry their calendar month: horizon month 1 is the storyline's first month
    series = pd.read_csv(out / "hindcasts.csv")
    first = series[(series.storyline == "turkana_2016_2017") & (series.month == 1)]["calendar"].unique()
    assert list(first) == ["2016-01"]
    last = series[series.storyline == "turkana_2016_2017"]["month"].max()
    assert last == 24 + 12  # the last dated row (the GAM peak over Oct 2016-Dec 2017: month 24) and a year
    html = (out / "report.html").read_text()
    assert "Validation targets (held out" in html and html.count("data:image/png;base64,") == 2
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["storyline"]) == {"no shock", "turkana_2016_2017", "turkana_2020_2022"}


def test_shipped_fitted_parameters_still_land_in_their_calibration_bands():
    """Each shipped fitted set (configs/fitted/<scenario>.yaml) rerun with its calibration's
    runs: every calibration target its fit met (scenarios/<folder>/calibration/fit.csv)
    is still in its band, so a model change that moves a fitted scenario shows up here."""
    import pandas as pd

    from hssim.calibrate import check_calibration
    from hssim.calibrate.objective import evaluate, run_bases, target_key
    from hssim.paths import configs_dir, scenarios_dir

    fitted = sorted(p.stem for p in (configs_dir() / "fitted").glob("*.yaml") if p.stem != "none")
    assert fitted, "configs/fitted/ ships fitted parameter sets"
    for name in fitted:
        cal = load_calibration(name, ["overrides=[policy=none,storyline=none,fitted=" + name + "]"])
        _, scenario, targets = check_calibration(cal)
        met = read_table(scenarios_dir() / cal.targets / "calibration" / "fit.csv")
        expected = {(r.indicator, r.district, r.period, r.storyline) for r in met.itertuples() if r.best_in_band}
        assert expected, name
        runs = evaluate(cal, run_bases(cal, targets), {}, targets, scenario)  # the fitted file sets the values
        missed = [target_key(t) for t in targets if target_key(t) in expected and not t.contains(runs.model[target_key(t)])]
        assert not missed, (name, missed, {k: runs.model[k] for k in missed})
