"""Sweeps end to end: plan, chunks as Hydra jobs, the resumable store, determinism
whatever the chunking and the launcher, failures reported and re-run, user errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import hssim
from hssim.config.build import build_engine
from hssim.results import Results
from hssim.sweep import Store
from hssim.cli.sweep import main
from hssim.sweep.models import HssimModel
from tests.conftest import REPO
from tests.sweep_faults import install

DATA = REPO / "tests" / "data" / "sweep"
TINY = ["--config-dir", str(DATA), "experiment=tiny", "progress=false"]


def sweep(*args, expect: int = 0):
    """Run ``hssim-sweep`` in this process; returns the exit status."""
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    assert code == expect, f"exit status {code}, expected {expect}"
    return code


def results(store) -> pd.DataFrame:
    """The store's runs without the timing columns (which differ between runs)."""
    return Store(store).load().drop(columns=["wall_s"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny experiment run in one process, one chunk per sample point."""
    store = tmp_path_factory.mktemp("sweep") / "reference"
    sweep(*TINY, f"store={store}", "chunk_size=1", "analyse=false")
    return store


def _ran(engine):
    """The engine, run to its horizon (its results: ``Results.from_engine``)."""
    engine.run()
    return engine


def test_store_holds_every_run_with_its_seed_and_values(reference):
    st = Store(reference)
    h = st.header()
    df = results(reference)
    n_points, R = 4, 2
    assert h["n_points"] == n_points and h["n_chunks"] == n_points
    assert len(df) == n_points * R * 2
    # common random numbers: seed = base_seed + replicate, the same for both arms and every point
    assert set(df["seed"]) == {1, 2}
    assert (df.groupby(["point", "replicate"])["seed"].nunique() == 1).all()
    # integer parameters are rounded in the design and the runs
    assert np.array_equal(df["x:lead"], np.round(df["x:lead"]))
    X = st.sample()
    assert np.allclose(df["x:budget"].to_numpy(), X[df["point"].to_numpy(), 0])
    # real-population counts are the simulated counts times real households per simulated one
    ratio = df["y:deaths_real"] / df["y:deaths"]
    assert np.allclose(ratio[df["y:deaths"] > 0], ratio[df["y:deaths"] > 0].iloc[0])
    manifest = json.loads(st.manifest_file.read_text())
    assert manifest["complete"] and manifest["counts"]["done"] == n_points
    assert not list(st.shards.glob("*.tmp*")) and not list(st.shards.glob("*.started.json"))


def test_a_stored_row_equals_a_direct_run_of_its_config(reference):
    """The parameter paths are applied as declared: a run built by hand from the arm's
    composed config, with the point's values set, gives the stored outputs."""
    st = Store(reference)
    df = results(reference)
    row = df[(df["point"] == 2) & (df["arm"] == "integrated") & (df["replicate"] == 1)].iloc[0]
    base = hssim.compose(["population.households=300", "months=12", "spinup_months=3", "policy=reactive_integrated"])
    base.seed = int(row["seed"])
    base.hazards.conflict.baseline_scale = float(row["x:conflict"])
    base.policy.trigger.lead_months = int(row["x:lead"])
    base.policy.budget_usd_per_year = base.policy.budget_usd_per_year * float(row["x:budget"])
    res = Results.from_engine(_ran(build_engine(base)))
    assert row["y:deaths"] == res.summary["deaths_total"]
    assert row["y:cost"] == res.summary["cost_usd_total"]
    assert math.isclose(row["y:ipc3_mean"], res.indicator("ipc3plus_frac").mean(), rel_tol=0, abs_tol=1e-15)
    # and the model's own config for that point is that config
    model = HssimModel(st.header() and hssim.sweep.ExperimentConfig(), st.header()["arms"])
    assert model.arms["integrated"]["policy"]["budget_usd_per_year"] == base.policy.budget_usd_per_year / float(row["x:budget"])


def test_results_do_not_depend_on_chunking_or_workers(reference, tmp_path):
    other = tmp_path / "joblib"
    sweep(*TINY, f"store={other}", "chunk_size=3", "analyse=false", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert Store(other).header()["n_chunks"] == 2
    pd.testing.assert_frame_equal(results(other), results(reference))
    # joblib workers ran with one numba thread each (2 cores / 2 workers)
    metas = [Store(other).shard_meta(c) for c in range(2)]
    assert {m["threads"] for m in metas} == {1} and {m["launcher"] for m in metas} == {"JoblibLauncher"}


def test_failed_chunk_is_reported_and_rerun_alone(reference, tmp_path, capsys):
    store = tmp_path / "resume"
    restore = install(2, "raise")  # chunks run in this process (basic launcher)
    try:
        sweep(*TINY, f"store={store}", "chunk_size=1", "analyse=false", expect=1)
    finally:
        restore()
    out = capsys.readouterr().out
    assert "3 of 4 done" in out and "1 failed" in out
    assert "chunk 2" in out and "RuntimeError: chunk 2 failed on purpose (test fault)" in out and "only=[2]" in out
    st = Store(store)
    err = json.loads(st.error_file(2).read_text())
    assert "Traceback" in err["traceback"] and err["chunk"] == 2
    manifest = json.loads(st.manifest_file.read_text())
    assert manifest["counts"] == {"done": 3, "failed": 1, "lost": 0, "pending": 0} and not manifest["complete"]
    before = {c: st.shard(c).stat().st_mtime_ns for c in (0, 1, 3)}
    sweep(*TINY, f"store={store}", "chunk_size=1", "analyse=false", "only=[2]")
    out = capsys.readouterr().out
    assert "4 of 4 done (1 computed now, 3 already stored)" in out
    assert {c: st.shard(c).stat().st_mtime_ns for c in (0, 1, 3)} == before  # nothing recomputed
    assert not st.error_file(2).exists()
    pd.testing.assert_frame_equal(results(store), results(reference))


def test_lost_and_corrupt_chunks_are_recomputed(reference, tmp_path, capsys):
    store = tmp_path / "lost"
    sweep(*TINY, f"store={store}", "chunk_size=1", "analyse=false")
    st = Store(store)
    # chunk 1: a worker was killed mid-chunk (a start marker, no result); chunk 3: a damaged file
    st.shard(1).unlink()
    st.started_file(1).write_text(json.dumps({"chunk": 1, "job_id": "77_1", "pid": 1, "host": "node", "started": "t"}))
    st.shard(3).write_bytes(st.shard(3).read_bytes()[:100])
    status = {c.chunk: c for c in st.status()}
    assert status[1].status == "lost" and "Slurm job 77_1" in status[1].error
    assert status[3].status == "pending"
    capsys.readouterr()
    sweep(*TINY, f"store={store}", "chunk_size=1", "analyse=false")
    assert "(2 computed now, 2 already stored)" in capsys.readouterr().out
    pd.testing.assert_frame_equal(results(store), results(reference))


def test_store_refuses_another_experiment_or_chunking(reference, capsys):
    sweep(*TINY, f"store={reference}", "experiment.n=5", expect=2)
    assert "holds another experiment" in capsys.readouterr().err
    sweep(*TINY, f"store={reference}", "chunk_size=2", expect=2)
    assert "chunk_size=1" in capsys.readouterr().err


def test_paired_differences_and_point_means(reference):
    from hssim.sweep import point_table

    st = Store(reference)
    X, Y = point_table(st)
    df = results(reference)
    assert X.shape == (4, 3)
    a = df[df.arm == "integrated"].set_index(["point", "replicate"])["y:deaths"]
    b = df[df.arm == "siloed"].set_index(["point", "replicate"])["y:deaths"]
    expected = (a - b).groupby(level="point").mean()
    assert np.allclose(Y["diff:integrated-siloed:deaths"], expected.to_numpy())
    assert np.allclose(Y["siloed:deaths"], b.groupby(level="point").mean().to_numpy())
    assert list(Y.columns[:4]) == ["siloed:deaths", "siloed:deaths_real", "siloed:ipc3_mean", "siloed:cost"]


@pytest.mark.parametrize(
    "override, field",
    [
        ("experiment.parameters.budget.path=policy.budget_usd", "experiment.parameters.budget.path"),
        ("experiment.parameters.conflict.bounds=[2.0,0.5]", "experiment.parameters.conflict.bounds"),
        ("experiment.parameters.conflict.bounds=[0.5,500]", "experiment.parameters.conflict"),
        ("experiment.outputs.deaths.summary=deaths_everywhere", "experiment.outputs.deaths.summary"),
        ("experiment.outputs.ipc3_mean.indicator=ipc9_frac", "experiment.outputs.ipc3_mean.indicator"),
        ("experiment.method=fast", "experiment.n"),
        ("experiment.differences=[[integrated,late]]", "experiment.differences[0][1]"),
        ("experiment.replicates=0", "experiment.replicates"),
        ("experiment.unknown_key=1", "experiment.unknown_key"),
        ("experiment=nonexistent", "experiment"),
        ("hydra/launcher=nonexistent", "hydra/launcher"),
    ],
)
def test_bad_experiments_exit_2_naming_the_field_before_writing(tmp_path, capsys, override, field):
    store = tmp_path / "bad"
    sweep(*TINY, f"store={store}", override, expect=2)
    err = capsys.readouterr().err
    assert err.startswith("hssim-sweep: error:") and field in err and "Traceback" not in err
    assert not store.exists()


def test_unknown_config_dir_and_option(tmp_path, capsys):
    sweep("--config-dir", str(tmp_path / "nowhere"), "experiment=tiny", expect=2)
    assert "--config-dir" in capsys.readouterr().err
    sweep("--frobnicate", expect=2)
