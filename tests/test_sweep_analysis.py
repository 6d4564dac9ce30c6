"""Sensitivity analysis layer of the sweep: indices against analytic values, tables, files."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from SALib.sample import fast_sampler, latin
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from hssim.report.sweep_report import save_analysis
from hssim.sweep.analysis import (
    CONDITION_COLUMNS,
    DISTRIBUTION_COLUMNS,
    INDEX_COLUMNS,
    SECOND_ORDER_COLUMNS,
    SweepAnalysis,
    analyse,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Ishigami: f = sin x1 + a sin^2 x2 + b x3^4 sin x1, x_i ~ U(-pi, pi)
A, B = 7.0, 0.1
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}


def ishigami(X: np.ndarray) -> np.ndarray:
    return np.sin(X[:, 0]) + A * np.sin(X[:, 1]) ** 2 + B * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_analytic() -> tuple[np.ndarray, np.ndarray, float]:
    """Analytic (S1, ST, S13) of the Ishigami function.

    With E[sin^2] = 1/2, E[sin^4] = 3/8 and E[x^4] = pi^4/5, E[x^8] = pi^8/9 for
    x ~ U(-pi, pi): V1 = Var(E[f|x1]) = Var(sin x1 (1 + b pi^4/5)) = (1 + b pi^4/5)^2 / 2;
    V2 = a^2 Var(sin^2 x2) = a^2 (3/8 - 1/4) = a^2/8; V3 = 0;
    V13 = Var(b sin x1 (x3^4 - pi^4/5)) = b^2/2 (pi^8/9 - pi^8/25) = b^2 pi^8 (1/18 - 1/50).
    """
    v1 = 0.5 * (1.0 + B * math.pi**4 / 5.0) ** 2
    v2 = A**2 / 8.0
    v13 = B**2 * math.pi**8 * (1.0 / 18.0 - 1.0 / 50.0)
    v = A**2 / 8.0 + B * math.pi**4 / 5.0 + B**2 * math.pi**8 / 18.0 + 0.5
    assert v == pytest.approx(v1 + v2 + v13, rel=1e-12)  # the decomposition is complete
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v, v13 / v


def values(res: SweepAnalysis, output: str, index: str) -> pd.DataFrame:
    """Rows of one output and index, indexed by parameter."""
    sel = res.indices[(res.indices["output"] == output) & (res.indices["index"] == index)]
    return sel.set_index("parameter")


def assert_within_ci(rows: pd.DataFrame, expected: np.ndarray, names: list[str], floor: float) -> None:
    for name, exp in zip(names, expected):
        value, conf = rows.loc[name, "value"], rows.loc[name, "conf"]
        tol = max(1.5 * conf, floor)
        assert abs(value - exp) <= tol, f"{name}: {value:.4f} vs analytic {exp:.4f} (tolerance {tol:.4f})"


# ----------------------------------------------------------------------- indices


def test_sobol_recovers_ishigami_first_total_and_second_order():
    X = sobol_sample.sample(ISHIGAMI, 1024, calc_second_order=True, seed=11)
    Y = pd.DataFrame({"f": ishigami(X)})
    res = analyse(ISHIGAMI, "sobol", X, Y, second_order=True, num_resamples=200, seed=3)
    s1, st, s13 = ishigami_analytic()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)

    assert list(res.indices.columns) == list(INDEX_COLUMNS)
    assert set(res.indices["index"]) == {"S1", "ST", "spearman"}
    assert_within_ci(values(res, "f", "S1"), s1, ISHIGAMI["names"], 0.03)
    assert_within_ci(values(res, "f", "ST"), st, ISHIGAMI["names"], 0.03)
    st_rows = values(res, "f", "ST")
    assert np.allclose(st_rows["conf_low"], st_rows["value"] - st_rows["conf"])
    assert np.allclose(st_rows["conf_high"], st_rows["value"] + st_rows["conf"])
    assert (st_rows["conf"] > 0).all()

    s2 = res.second_order
    assert list(s2.columns) == list(SECOND_ORDER_COLUMNS)
    assert list(zip(s2["parameter_a"], s2["parameter_b"])) == [("x1", "x2"), ("x1", "x3"), ("x2", "x3")]
    by_pair = s2.set_index(["parameter_a", "parameter_b"])
    for pair, exp in [(("x1", "x3"), s13), (("x1", "x2"), 0.0), (("x2", "x3"), 0.0)]:
        value, conf = by_pair.loc[pair, "value"], by_pair.loc[pair, "conf"]
        assert abs(value - exp) <= max(1.5 * conf, 0.05), (pair, value, exp, conf)
    assert res.notes == ()


def test_fast_recovers_ishigami():
    X = fast_sampler.sample(ISHIGAMI, 1000, M=4, seed=5)
    res = analyse(ISHIGAMI, "fast", X, pd.DataFrame({"f": ishigami(X)}), num_resamples=100, seed=1)
    s1, st, _ = ishigami_analytic()
    assert_within_ci(values(res, "f", "S1"), s1, ISHIGAMI["names"], 0.05)
    assert_within_ci(values(res, "f", "ST"), st, ISHIGAMI["names"], 0.05)
    assert any("indicative" in n for n in res.notes)  # SALib's caveat on eFAST intervals


def test_morris_linear_elementary_effects_are_exact():
    # y = sum c_i x_i on [lo_i, hi_i]. SALib's unscaled elementary effect divides the output
    # change by the step Delta in the unit hypercube; x moves by Delta (hi - lo), so
    # EE_i = c_i (hi - lo) on every trajectory: mu = c_i (hi - lo), mu* = |mu|, sigma = 0.
    coef = np.array([2.0, -3.0, 0.5])
    bounds = [[0.0, 1.0], [-1.0, 1.0], [10.0, 20.0]]
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": bounds}
    X = morris_sample.sample(dict(problem), 20, num_levels=4, seed=2)  # the sampler adds "groups" to its dict
    Y = pd.DataFrame({"lin": X @ coef})
    snapshot = copy.deepcopy(problem)
    res = analyse(problem, "morris", X, Y, second_order=True, morris_levels=4, num_resamples=100)
    assert res.notes == ("second_order applies to method sobol only; ignored for morris",)
    assert problem == snapshot  # SALib's morris analyser adds "groups" to the dict it gets; not to ours
    expected_mu = coef * np.array([hi - lo for lo, hi in bounds])  # 2, -6, 5

    assert values(res, "lin", "mu")["value"].to_numpy() == pytest.approx(expected_mu, abs=1e-9)
    mu_star = values(res, "lin", "mu_star")
    assert mu_star["value"].to_numpy() == pytest.approx(np.abs(expected_mu), abs=1e-9)
    assert mu_star["conf"].to_numpy() == pytest.approx(0.0, abs=1e-9)  # every effect identical
    assert values(res, "lin", "sigma")["value"].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert values(res, "lin", "mu")["conf"].isna().all() and values(res, "lin", "sigma")["conf"].isna().all()
    # rank correlation carries the sign the variance-based indices lack
    rho = values(res, "lin", "spearman")["value"]
    assert rho["b"] < -0.5 and rho["c"] > 0.3 and rho["a"] > 0.0


def test_sobol_groups_report_one_row_per_group():
    problem = {**ISHIGAMI, "groups": ["sin_part", "square", "sin_part"]}
    X = sobol_sample.sample(problem, 128, calc_second_order=False, seed=1)
    res = analyse(problem, "sobol", X, pd.DataFrame({"f": ishigami(X)}), num_resamples=50)
    assert list(values(res, "f", "ST").index) == ["sin_part", "square"]
    # x1 and x3 together carry V1 + V13: their group's total index is ST1 + ST3 - S13 = ST1
    assert values(res, "f", "ST").loc["sin_part", "value"] == pytest.approx(ishigami_analytic()[1][0], abs=0.1)
    assert list(values(res, "f", "spearman").index) == ["x1", "x2", "x3"]  # per parameter
    Xm = morris_sample.sample(dict(problem), 10, num_levels=4, seed=1)  # trajectories of 3 points
    res = analyse(problem, "morris", Xm, pd.DataFrame({"f": ishigami(Xm)}), num_resamples=20)
    assert list(values(res, "f", "mu_star").index) == ["sin_part", "square"]


@pytest.fixture(scope="module")
def latin_result():
    """A small latin-hypercube sweep on y = x1 + 0.01 x2, one output with missing values."""
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = latin.sample(problem, 300, seed=4)
    y = X[:, 0] + 0.01 * X[:, 1]
    y_nan = y.copy()
    y_nan[::30] = np.nan  # 10 failed runs
    Y = pd.DataFrame({"y": y, "y_nan": y_nan})
    formatwarning = warnings.formatwarning
    res = analyse(problem, "latin", X, Y, num_resamples=5, seed=0)
    assert warnings.formatwarning is formatwarning  # SALib's delta replaces it; restored
    return problem, X, Y, res


def test_latin_ranks_parameters_and_drops_missing_rows(latin_result):
    _, _, _, res = latin_result
    assert set(res.indices["index"]) == {"S1", "delta", "S1_delta", "spearman"}
    for output in ("y", "y_nan"):
        for index in ("S1", "delta", "S1_delta"):
            v = values(res, output, index)["value"]
            assert v["x1"] > v["x2"] + 0.3, (output, index, v.to_dict())
        assert values(res, output, "S1").loc["x1", "value"] == pytest.approx(1.0, abs=0.05)
        rho = values(res, output, "spearman")
        assert rho.loc["x1", "value"] > 0.99 and rho.loc["x1", "conf_low"] > 0.98
        assert abs(rho.loc["x2", "value"]) < 0.2
    assert any(n.startswith("y_nan: 10 of 300 values missing") for n in res.notes)
    dist = res.distributions.set_index("output")
    assert dist.loc["y_nan", "n"] == 290 and dist.loc["y_nan", "n_missing"] == 10


def test_monte_carlo_delta_and_s1_rank_parameters():
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = np.random.default_rng(8).uniform(0.0, 1.0, size=(300, 2))
    res = analyse(problem, "monte_carlo", X, pd.DataFrame({"y": X[:, 0] + 0.01 * X[:, 1]}), num_resamples=5)
    assert set(res.indices["index"]) == {"delta", "S1", "spearman"}
    for index in ("delta", "S1"):
        v = values(res, "y", index)["value"]
        assert v["x1"] > v["x2"] + 0.3
    assert values(res, "y", "S1").loc["x1", "value"] > 0.9
    assert values(res, "y", "spearman").loc["x1", "value"] > 0.99


# ------------------------------------------------------- distributions, conditions


def test_conditions_bins_are_sample_quantiles_and_split_the_sign():
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = sobol_sample.sample(problem, 256, calc_second_order=False, seed=6)  # 1024 rows
    y = X[:, 0] - 0.5
    res = analyse(problem, "sobol", X, pd.DataFrame({"gain": y}), num_resamples=20)
    cond = res.conditions
    assert list(cond.columns) == list(CONDITION_COLUMNS)
    c1 = cond[(cond["output"] == "gain") & (cond["parameter"] == "x1")].set_index("bin")
    edges = np.quantile(X[:, 0], [0.0, 1 / 3, 2 / 3, 1.0])
    assert c1["lo"].to_numpy() == pytest.approx(edges[:-1]) and c1["hi"].to_numpy() == pytest.approx(edges[1:])
    assert c1["n"].sum() == len(X)
    assert c1.loc[0, "share_negative"] == 1.0  # x1 in its low third: always a loss
    assert c1.loc[2, "share_negative"] == 0.0  # high third: never
    low = X[:, 0] < edges[1]
    assert c1.loc[0, "mean"] == pytest.approx(y[low].mean()) and c1.loc[0, "n"] == low.sum()
    assert c1.loc[0, "sd"] == pytest.approx(y[low].std(ddof=1))
    c2 = cond[cond["parameter"] == "x2"]
    assert c2["share_negative"].to_numpy() == pytest.approx(0.5, abs=0.15)  # x2 does not matter


def test_distributions_match_numpy():
    problem = {"num_vars": 1, "names": ["p"], "bounds": [[0.0, 1.0]]}
    X = sobol_sample.sample(problem, 256, calc_second_order=False, seed=2)
    y = 3.0 * X[:, 0] - 1.0
    y_miss = y.copy()
    y_miss[:7] = np.nan
    y_miss[7] = np.inf  # a diverged run counts as missing
    res = analyse(problem, "sobol", X, pd.DataFrame({"diff:a-b:deaths": y, "partial": y_miss}), num_resamples=20)
    d = res.distributions.set_index("output")
    assert list(res.distributions.columns) == list(DISTRIBUTION_COLUMNS)
    row = d.loc["diff:a-b:deaths"]
    assert row["n"] == y.size and row["n_missing"] == 0
    assert row["mean"] == pytest.approx(y.mean()) and row["sd"] == pytest.approx(y.std(ddof=1))
    q = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95])
    assert row[["q05", "q25", "median", "q75", "q95"]].to_numpy(float) == pytest.approx(q)
    assert row["share_negative"] == pytest.approx((y < 0).mean()) and row["share_positive"] == pytest.approx(
        (y > 0).mean()
    )
    part = d.loc["partial"]
    assert part["n"] == y.size - 8 and part["n_missing"] == 8
    assert part["mean"] == pytest.approx(y[8:].mean())


def test_missing_and_constant_outputs_give_notes_not_crashes():
    X = sobol_sample.sample(ISHIGAMI, 64, calc_second_order=False, seed=1)
    f = ishigami(X)
    f_nan = f.copy()
    f_nan[3] = np.nan
    Y = pd.DataFrame({"f": f, "f_nan": f_nan, "flat": np.full(f.size, 2.5), "dead": np.full(f.size, np.nan)})
    res = analyse(ISHIGAMI, "sobol", X, Y, num_resamples=20)
    idx = res.indices
    assert set(idx.loc[idx["output"] == "f", "index"]) == {"S1", "ST", "spearman"}
    assert set(idx.loc[idx["output"] == "f_nan", "index"]) == {"spearman"}  # no Sobol' on a broken design
    assert not idx["output"].isin(["flat", "dead"]).any()
    notes = "\n".join(res.notes)
    assert "f_nan: 1 of 320 values missing; no sobol indices" in notes
    assert "flat: constant (2.5)" in notes and "dead: fewer than 2 finite values" in notes
    d = res.distributions.set_index("output")
    assert d.loc["flat", "sd"] == 0.0 and d.loc["flat", "share_positive"] == 1.0
    assert d.loc["dead", "n"] == 0 and d.loc["dead", "n_missing"] == 320 and np.isnan(d.loc["dead", "mean"])
    assert len(res.conditions[res.conditions["output"] == "dead"]) == 3 * 3  # rows kept, n = 0
    assert (res.conditions.loc[res.conditions["output"] == "dead", "n"] == 0).all()


def test_same_seed_same_tables_and_global_rng_untouched():
    X = fast_sampler.sample(ISHIGAMI, 300, M=4, seed=5)
    Y = pd.DataFrame({"f": ishigami(X)})
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = analyse(ISHIGAMI, "fast", X, Y, num_resamples=30, seed=7)  # eFAST draws from the global RNG
    assert np.random.random() == before  # global state restored
    second = analyse(ISHIGAMI, "fast", X, Y, num_resamples=30, seed=7)
    pd.testing.assert_frame_equal(first.indices, second.indices)
    other = analyse(ISHIGAMI, "fast", X, Y, num_resamples=30, seed=8)
    assert not np.allclose(first.indices["conf"].fillna(0), other.indices["conf"].fillna(0))


def test_inconsistent_inputs_are_refused():
    X = sobol_sample.sample(ISHIGAMI, 64, calc_second_order=False, seed=1)  # 64 * (3 + 2) = 320 rows
    Y = pd.DataFrame({"f": ishigami(X)})
    # 320 is also a multiple of 2 D + 2 = 8: only the row structure gives the wrong flag away
    with pytest.raises(ValueError, match="calc_second_order=True"):
        analyse(ISHIGAMI, "sobol", X, Y, second_order=True)
    X2 = sobol_sample.sample(ISHIGAMI, 64, calc_second_order=True, seed=1)  # 512 rows, not a multiple of 5
    with pytest.raises(ValueError, match="calc_second_order=False"):
        analyse(ISHIGAMI, "sobol", X2, pd.DataFrame({"f": ishigami(X2)}))
    shuffled = np.random.default_rng(0).permutation(len(X))  # e.g. chunks put back out of order
    with pytest.raises(ValueError, match="reordered"):
        analyse(ISHIGAMI, "sobol", X[shuffled], Y)
    Xm = morris_sample.sample(dict(ISHIGAMI), 10, num_levels=4, seed=1)
    with pytest.raises(ValueError, match="reordered"):
        analyse(ISHIGAMI, "morris", np.roll(Xm, 1, axis=0), pd.DataFrame({"f": ishigami(Xm)}))
    with pytest.raises(ValueError, match="unknown method"):
        analyse(ISHIGAMI, "saltelli", X, Y)
    with pytest.raises(ValueError, match="rows"):
        analyse(ISHIGAMI, "sobol", X, Y.iloc[:-1])
    with pytest.raises(ValueError, match="shape"):
        analyse(ISHIGAMI, "sobol", X[:, :2], Y)


# ------------------------------------------------------------------------- files


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert len(data) > 5_000, (path, len(data))  # axes, bars and text, not an empty canvas


def test_save_analysis_sobol_writes_every_file_atomically(tmp_path):
    X = sobol_sample.sample(ISHIGAMI, 64, calc_second_order=True, seed=1)
    f = ishigami(X)
    Y = pd.DataFrame({"f": f, "diff:integrated-siloed:deaths_total": f - 3.0, "flat": np.ones(f.size)})
    res = analyse(ISHIGAMI, "sobol", X, Y, second_order=True, num_resamples=20)
    out = tmp_path / "analysis"
    paths = save_analysis(res, ISHIGAMI, X, Y, out, method="sobol", dpi=60)
    expected = {
        "indices.csv",
        "second_order.csv",
        "distributions.csv",
        "conditions.csv",
        "notes.txt",
        "sobol_indices.png",
        "distributions.png",
        "conditions.png",
    }
    assert {p.name for p in paths} == expected
    assert {p.name for p in out.iterdir()} == expected  # nothing else: no temporary left behind
    for p in paths:
        if p.suffix == ".png":
            assert_png(p)
    back = pd.read_csv(out / "indices.csv")
    assert list(back.columns) == list(INDEX_COLUMNS) and len(back) == len(res.indices)
    assert back["value"].to_numpy() == pytest.approx(res.indices["value"].to_numpy(), nan_ok=True)
    assert len(pd.read_csv(out / "second_order.csv")) == 2 * 3  # 3 pairs, 2 non-constant outputs
    assert "flat: constant" in (out / "notes.txt").read_text()


def test_save_analysis_one_output_one_parameter_morris(tmp_path):
    problem = {"num_vars": 1, "names": ["rate_per_year"], "bounds": [[0.0, 2.0]]}
    X = morris_sample.sample(problem, 10, num_levels=4, seed=1)
    Y = pd.DataFrame({"deaths_total": 5.0 * X[:, 0] ** 2})
    res = analyse(problem, "morris", X, Y, num_resamples=20)
    paths = save_analysis(res, problem, X, Y, tmp_path, method="morris", dpi=60)
    assert {p.name for p in paths} == {
        "indices.csv",
        "distributions.csv",
        "conditions.csv",
        "notes.txt",
        "morris.png",
        "distributions.png",
        "conditions.png",
    }
    assert (tmp_path / "notes.txt").read_text() == ""
    assert_png(tmp_path / "morris.png")
    assert not list(tmp_path.glob(".*"))


def test_save_analysis_latin_draws_indices_figure(tmp_path, latin_result):
    problem, X, Y, res = latin_result
    paths = save_analysis(res, problem, X, Y, tmp_path, method="latin", dpi=60)
    names = {p.name for p in paths}
    assert "indices.png" in names and "sobol_indices.png" not in names and "second_order.csv" not in names
    assert_png(tmp_path / "indices.png")
    assert not list(tmp_path.glob(".*"))
