"""The sample design of an experiment: sizes per method, distributions, seeds, chunks,
and schema validation (pure functions, no model runs)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hssim.validate import from_mapping
from hssim.errors import ConfigError
from hssim.sweep import design
from hssim.sweep.schema import ExperimentConfig


def experiment(**kw) -> ExperimentConfig:
    data = {
        "model": "ishigami",
        "method": "sobol",
        "n": 16,
        "parameters": {k: {"path": k, "bounds": [-3.0, 3.0]} for k in ("x1", "x2", "x3")},
        "outputs": {"y": {"summary": "y"}},
    }
    data.update(kw)
    return from_mapping(ExperimentConfig, data, "experiment")


@pytest.mark.parametrize(
    "method, n, extra, size",
    [
        ("sobol", 16, {}, 16 * (3 + 2)),
        ("sobol", 16, {"second_order": True}, 16 * (2 * 3 + 2)),
        ("morris", 10, {}, 10 * (3 + 1)),
        ("fast", 65, {}, 65 * 3),
        ("latin", 50, {}, 50),
        ("monte_carlo", 50, {}, 50),
    ],
)
def test_sample_sizes_and_bounds(method, n, extra, size):
    exp = experiment(method=method, n=n, **extra)
    X = design.sample(exp)
    assert X.shape == (size, 3)
    assert X.min() >= -3.0 and X.max() <= 3.0
    assert np.array_equal(X, design.sample(exp))  # the design is a pure function of the experiment
    assert not np.array_equal(X, design.sample(experiment(method=method, n=n, sample_seed=99, **extra))) or method == "fast"


def test_latin_hypercube_fills_every_stratum():
    X = design.sample(experiment(method="latin", n=40))
    for j in range(3):
        strata = np.floor((X[:, j] + 3.0) / 6.0 * 40).astype(int)
        assert sorted(strata) == list(range(40))


def test_distributions_and_integer_rounding():
    pars = {
        "a": {"path": "x1", "dist": "norm", "bounds": [10.0, 2.0]},
        "b": {"path": "x2", "dist": "triang", "bounds": [0.0, 4.0, 0.25]},
        "c": {"path": "x3", "bounds": [0.5, 6.49], "integer": True},
    }
    X = design.sample(experiment(method="monte_carlo", n=4000, parameters=pars))
    assert abs(X[:, 0].mean() - 10.0) < 0.15 and abs(X[:, 0].std() - 2.0) < 0.15
    assert stats.kstest(X[:, 1], stats.triang(c=0.25, loc=0.0, scale=4.0).cdf).pvalue > 1e-3
    assert set(np.unique(X[:, 2])) == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}


def test_seeds_common_and_independent():
    common = experiment(replicates=3, base_seed=100)
    assert [design.run_seed(common, i, r) for i in (0, 5) for r in range(3)] == [100, 101, 102] * 2
    indep = experiment(replicates=3, base_seed=100, seeds="independent")
    seeds = [design.run_seed(indep, i, r) for i in range(4) for r in range(3)]
    assert seeds == list(range(100, 112))  # distinct for every (point, replicate)


def test_chunks_cover_the_points_once():
    for n_points, size in ((10, 3), (9, 3), (1, 5), (1280, 32)):
        chunks = [design.chunk_bounds(c, n_points, size) for c in range(design.n_chunks(n_points, size))]
        covered = [i for lo, hi in chunks for i in range(lo, hi)]
        assert covered == list(range(n_points))
    assert design.auto_chunk_size(1280, 2) == 32 and design.auto_chunk_size(5120, 1) == 128
    assert design.auto_chunk_size(3, 1) == 2 and design.auto_chunk_size(100_000, 1) == 256


@pytest.mark.parametrize(
    "change, field",
    [
        ({"n": 12}, "experiment.n"),
        ({"method": "morris", "parameters": {"x1": {"path": "x1", "dist": "norm", "bounds": [0, 1]},
                                             "x2": {"path": "x2", "bounds": [0, 1]}}}, "experiment.parameters.x1.dist"),
        ({"parameters": {"x1": {"path": "x1", "bounds": [1.0]}, "x2": {"path": "x2", "bounds": [0, 1]}}},
         "experiment.parameters.x1.bounds"),
        ({"parameters": {"x1": {"path": "x1", "paths": ["x2"], "bounds": [0, 1]}, "x2": {"path": "x2", "bounds": [0, 1]}}},
         "experiment.parameters.x1.path"),
        ({"parameters": {"x1": {"path": "x1", "dist": "triang", "bounds": [0, 1, 1.5]},
                         "x2": {"path": "x2", "bounds": [0, 1]}}}, "experiment.parameters.x1.bounds[2]"),
        ({"parameters": {"x1": {"path": "x1", "dist": "logunif", "bounds": [0, 1]},
                         "x2": {"path": "x2", "bounds": [0, 1]}}}, "experiment.parameters.x1.bounds"),
        ({"outputs": {"y": {"summary": "y", "indicator": "ipc3plus_frac"}}}, "experiment.outputs.y"),
        ({"outputs": {"y": {"indicator": "ipc3plus_frac", "time": "median"}}}, "experiment.outputs.y.time"),
        ({"outputs": {}}, "experiment.outputs"),
        ({"differences": [["run", "run"]]}, "experiment.differences[0]"),
        ({"arms": {"a": ["policy=none"]}}, "experiment.arms"),
        ({"parameters": {"x 1": {"path": "x1", "bounds": [0, 1]}, "x2": {"path": "x2", "bounds": [0, 1]}}},
         "experiment.<name>"),
    ],
)
def test_schema_names_the_offending_field(change, field):
    with pytest.raises(ConfigError) as err:
        experiment(**change)
    assert err.value.path == field, str(err.value)
