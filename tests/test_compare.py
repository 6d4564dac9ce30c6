"""Policy comparison: common random numbers, paired statistics by hand, bootstrap
ratios, early vs late, resume, the HTML report, and the CLI's error handling."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hssim
from hssim.compare import (
    ComparisonResult,
    compare,
    default_pairs,
    paired_stats,
    ratio_of_means,
    resume,
    run_file,
)
from hssim.report.html import save_comparison

SMALL = ["population.households=1000", "months=12", "spinup_months=3"]
CASH = ["households.wage_usd_per_day=3"]  # a stand-in for a policy until presets exist
T975 = {2: 4.302652729911275, 3: 3.182446305284263}  # t quantile 0.975 with 2 and 3 degrees of freedom


@pytest.fixture(scope="module", autouse=True)
def one_numba_thread():
    """Small runs on a shared, busy machine: threads only add waiting (results do not
    depend on the thread count)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture(scope="module")
def sim():
    calls = []
    res = compare({"base": [], "same": [], "cash": CASH}, replicates=3, overrides=SMALL,
                  progress=lambda *a: calls.append(a))
    res.meta["calls"] = calls
    return res


def test_identical_arm_gives_exact_zero_differences_and_policy_arm_does_not(sim):
    d = sim.differences
    same = d[d["arm"] == "same"]
    assert len(same) >= 10 and (same["n"] == 3).all()
    for col in ("mean_diff", "ci_low", "ci_high", "se", "sd", "share_better"):
        assert (same[col] == 0).all(), col
    assert (same["mean_arm"] == same["mean_reference"]).all()
    cash = d[d["arm"] == "cash"].set_index("outcome")
    assert cash.loc["ipc3plus_person_months", "mean_diff"] < 0  # higher wages: less food insecurity
    # the table is the paired difference of the stored runs
    w = sim.runs[sim.runs["outcome"] == "deaths_total"].pivot(index="replicate", columns="arm", values="value")
    assert cash.loc["deaths_total", "mean_diff"] == pytest.approx((w["cash"] - w["base"]).mean(), abs=1e-12)
    # every arm ran the same seeds, replicate by replicate, base seed from the config
    seeds = sim.runs.groupby("arm")["seed"].unique()
    assert all(list(s) == [42, 43, 44] for s in seeds)
    assert [(c[0], c[2], c[3], c[4]) for c in sim.meta["calls"][:4]] == [
        (1, "base", 0, False), (2, "same", 0, False), (3, "cash", 0, False), (4, "base", 1, False)]
    assert len(sim.meta["calls"]) == 9 and sim.meta["runs_executed"] == 9
    # cost_usd_total is 0 where no response spends, not missing
    assert (sim.runs[sim.runs["outcome"] == "cost_usd_total"]["value"] == 0).all()
    assert sim.runs.groupby("arm")["replicate"].nunique().to_dict() == {"base": 3, "cash": 3, "same": 3}


def test_same_arm_same_seed_is_identical_across_calls(sim):
    again = compare({"base": [], "cash": CASH}, replicates=2, overrides=SMALL)
    old = sim.runs[sim.runs["arm"].isin(["base", "cash"]) & (sim.runs["replicate"] < 2)]
    key = ["arm", "replicate", "outcome"]
    a = again.runs.sort_values(key).reset_index(drop=True)
    b = old.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) > 0
    assert a[key].equals(b[key])
    assert np.array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_policy_presets_costs_add_up_and_cost_per_death_uses_the_real_population():
    from hssim.compare import available_presets

    assert {"none", "anticipatory_integrated"} <= set(available_presets())
    res = compare(["none", "anticipatory_integrated"], replicates=2, overrides=SMALL)
    assert res.arms == {"none": ["policy=none"], "anticipatory_integrated": ["policy=anticipatory_integrated"]}
    cost = res.costs.set_index("arm")["cost_usd_mean"]
    assert cost["none"] == 0 and cost["anticipatory_integrated"] > 0
    # the cost table by intervention adds up to the run's total
    br = res.cost_breakdown
    assert (br["arm"] == "anticipatory_integrated").all() and br["intervention"].nunique() >= 2
    assert br["cost_usd_mean"].sum() == pytest.approx(cost["anticipatory_integrated"], rel=1e-9)
    # deaths are counted in simulated households, money in the real population
    scale = res.meta["real_households_per_simulated"]
    assert scale > 1
    d = res.difference("anticipatory_integrated", "deaths_total")
    ce = res.cost_effectiveness.set_index("metric").loc["cost_per_death_averted"]
    if d["ci_high"] < 0:  # clearly averted
        assert ce["value"] == pytest.approx(cost["anticipatory_integrated"] / (-d["mean_diff"] * scale), rel=1e-9)
    elif -d["mean_diff"] <= 0:
        assert ce["value"] == math.inf and ce["note"] == "not averted"
    else:  # the averted deaths' interval includes zero: no number, the reason instead
        assert math.isnan(ce["value"]) and ce["note"].startswith("undefined: deaths_total averted")
    # prevalence next to counts: the share-months are the mean IPC3+ share x months, per run
    wide = res.runs.pivot_table(index=["arm", "replicate"], columns="outcome", values="value")
    months = int(res.meta["months"])
    np.testing.assert_allclose(wide["ipc3plus_share_months"], wide["ipc3plus_frac_mean"] * months, rtol=1e-12)
    assert wide["acute_malnutrition_frac_mean"].between(0, 1).all()
    # per dollar: the total averted (real population) over the spend in millions, whatever its interval
    pdl = res.per_dollar.set_index("metric").loc["deaths_averted_per_musd"]
    assert pdl["value"] == pytest.approx(-d["mean_diff"] * scale / (cost["anticipatory_integrated"] / 1e6), rel=1e-9)
    assert (pdl["ci_low"], pdl["ci_high"]) == pytest.approx(
        (-d["ci_high"] * scale / (cost["anticipatory_integrated"] / 1e6),
         -d["ci_low"] * scale / (cost["anticipatory_integrated"] / 1e6)), rel=1e-9)


# -- analysis on made-up runs ----------------------------------------------------------------


def _runs(table: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    rows = []
    for arm, outcomes in table.items():
        for outcome, values in outcomes.items():
            for r, v in enumerate(values):
                rows.append((arm, r, 100 + r, outcome, v))
    return pd.DataFrame(rows, columns=["arm", "replicate", "seed", "outcome", "value"])


def test_paired_t_interval_matches_hand_computation():
    runs = _runs({
        "ref": {"deaths_total": [10, 12, 15, 11], "assets_end_usd": [100, 100, 100, 100]},
        "arm": {"deaths_total": [8, 12, 11, 6], "assets_end_usd": [101, 99, 105, 100], "trigger_hits": [1, 2, 3, 4]},
    })
    res = ComparisonResult.from_runs(runs, reference="ref")
    d = res.differences.set_index("outcome")
    diff = np.array([-2.0, 0.0, -4.0, -5.0])
    mean = -2.75
    sd = math.sqrt(((diff - mean) ** 2).sum() / 3)
    half = T975[3] * sd / 2.0
    r = d.loc["deaths_total"]
    assert r["mean_diff"] == pytest.approx(mean) and r["sd"] == pytest.approx(sd) and r["se"] == pytest.approx(sd / 2)
    assert r["ci_low"] == pytest.approx(mean - half, rel=1e-9) and r["ci_high"] == pytest.approx(mean + half, rel=1e-9)
    assert r["share_better"] == 0.75 and r["n"] == 4 and r["better"] == "lower"  # a tie is not better
    a = d.loc["assets_end_usd"]  # more assets is better
    assert a["better"] == "higher" and a["share_better"] == 0.5 and a["mean_diff"] == pytest.approx(1.25)
    assert "trigger_hits" not in d.index  # the reference never recorded it: no pairs
    # costs were not recorded: 0, not missing
    c = res.costs.set_index("arm")
    assert c.loc["arm", "cost_usd_mean"] == 0 and c.loc["arm", "n"] == 4
    st = paired_stats([1.0, 2.0, 6.0])
    assert st["ci_high"] - st["mean_diff"] == pytest.approx(T975[2] * np.std([1, 2, 6], ddof=1) / math.sqrt(3))


def test_cost_per_death_averted_bootstrap_not_averted_and_bcr():
    cost = np.array([100.0, 120.0, 90.0, 110.0])
    d_ref = np.array([10.0, 12.0, 15.0, 11.0])
    d_arm = np.array([8.0, 10.0, 11.0, 8.0])
    scale = {"real_households_per_simulated": [10.0] * 4}  # counts x 10 = real population, like the money
    runs = _runs({
        "none": {**scale, "deaths_total": d_ref, "ipc3plus_person_months": [50, 50, 50, 50],
                 "food_gap_usd": [1000, 1200, 900, 1100], "assets_end_usd": [5000, 5000, 5000, 5000]},
        "good": {**scale, "deaths_total": d_arm, "ipc3plus_person_months": [40, 45, 50, 41], "cost_usd_total": cost,
                 "food_gap_usd": [900, 1000, 850, 1000], "assets_end_usd": [5100, 5050, 5000, 5120]},
        "bad": {**scale, "deaths_total": d_ref + 1, "ipc3plus_person_months": [50, 50, 50, 50], "cost_usd_total": cost,
                "food_gap_usd": [1000, 1200, 900, 1100], "assets_end_usd": [5000, 5000, 5000, 5000]},
    })
    res = ComparisonResult.from_runs(runs, n_boot=500, bootstrap_seed=7)
    ce = res.cost_effectiveness.set_index(["arm", "metric"])
    r = ce.loc[("good", "cost_per_death_averted")]
    averted = (d_ref - d_arm) * 10  # [2, 2, 4, 3] simulated deaths, x 10 real
    assert r["value"] == pytest.approx(cost.mean() / averted.mean()) and r["note"] == ""
    idx = np.random.default_rng(7).integers(0, 4, size=(500, 4))
    den = averted[idx].mean(1)
    boot = np.where(den > 0, cost[idx].mean(1) / np.where(den > 0, den, 1), np.inf)
    assert r["n_invalid"] == int((den <= 0).sum())
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), rel=1e-12)
    # nothing averted: inf and a note, never a negative cost per death
    b = ce.loc[("bad", "cost_per_death_averted")]
    assert b["value"] == math.inf and b["note"] == "not averted"
    assert ce.loc[("bad", "cost_per_ipc3plus_person_month_averted"), "note"] == "not averted"
    # benefit = food gap avoided + assets kept; BCR = mean benefit / mean cost
    benefit = (np.array([1000, 1200, 900, 1100]) - [900, 1000, 850, 1000]) + (np.array([5100, 5050, 5000, 5120]) - 5000)
    bcr = ce.loc[("good", "benefit_cost_ratio")]
    assert bcr["numerator_mean"] == pytest.approx(benefit.mean())
    assert bcr["value"] == pytest.approx(benefit.mean() / cost.mean())
    assert ce.loc[("bad", "benefit_cost_ratio"), "value"] == 0.0
    assert ratio_of_means([1.0, 1.0], [0.0, -1.0], n_boot=10)["value"] == math.inf
    # IPC3+ person-months averted [10, 5, 0, 9]: a positive mean whose interval includes zero;
    # a cost per unit averted is then undefined, with the reason, never a number
    u = ce.loc[("good", "cost_per_ipc3plus_person_month_averted")]
    assert math.isnan(u["value"]) and math.isnan(u["ci_low"]) and "not distinguishable from zero" in u["note"]
    # per million USD: averted (real population) over the extra spend, with the averted
    # count's paired t interval over the mean spend
    p = res.per_dollar.set_index(["arm", "metric"]).loc[("good", "deaths_averted_per_musd")]
    assert p["value"] == pytest.approx(averted.mean() / (cost.mean() / 1e6))
    st = paired_stats(averted)
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((st["ci_low"] / (cost.mean() / 1e6),
                                                         st["ci_high"] / (cost.mean() / 1e6)))
    # a programme with no effect adds no benefit and averts nothing per dollar
    assert ce.loc[("bad", "benefit_cost_ratio"), "numerator_mean"] == 0.0
    zero = res.per_dollar.set_index(["arm", "metric"]).loc[("bad", "ipc3plus_person_months_averted_per_musd")]
    assert zero["value"] == 0.0 and zero["ci_low"] == 0.0 and zero["ci_high"] == 0.0

    # reported in the findings and as null in the JSON
    good, bad = res.summary_sentences()[:2]
    assert good.startswith("good ") and "USD 3.82 per death averted" in good and "benefit-cost ratio of 1.71" in good
    assert "real_households_per_simulated" not in set(res.differences["outcome"])
    assert bad.startswith("bad had 1 more deaths per run than none") and "per death averted" not in bad
    doc = res.to_dict()
    row = next(x for x in doc["cost_effectiveness"] if x["arm"] == "bad" and x["metric"] == "cost_per_death_averted")
    assert row["value"] is None and row["note"] == "not averted"


def test_shares_fall_when_deaths_are_averted_even_as_person_months_rise():
    """Survivors add person-months in IPC3+: a programme that averts deaths can raise the
    count while the share falls. The per-dollar table reports both, each with its sign."""
    runs = _runs({
        "none": {"deaths_total": [30, 32, 31, 29], "ipc3plus_person_months": [1000, 1010, 990, 1005],
                 "ipc3plus_share_months": [3.0, 3.1, 2.9, 3.05]},
        "cash": {"deaths_total": [20, 21, 22, 20], "ipc3plus_person_months": [1040, 1050, 1030, 1041],
                 "ipc3plus_share_months": [2.5, 2.6, 2.4, 2.55], "cost_usd_total": [2e6, 2e6, 2e6, 2e6]},
    })
    res = ComparisonResult.from_runs(runs, n_boot=100)
    p = res.per_dollar.set_index("metric")
    assert p.loc["deaths_averted_per_musd", "value"] == pytest.approx(9.75 / 2)
    assert p.loc["ipc3plus_person_months_averted_per_musd", "value"] == pytest.approx(-39.0 / 2)
    assert p.loc["ipc3plus_share_months_averted_per_musd", "value"] == pytest.approx(0.5 / 2)
    assert p.loc["ipc3plus_share_months_averted_per_musd", "ci_low"] > 0  # the share clearly fell


def test_a_ratio_over_equal_spend_is_undefined_with_the_reason():
    """Two arms spending the same money: per-dollar figures and the BCR of one against the
    other are undefined (the denominator's interval includes zero), never a huge number."""
    runs = _runs({
        "siloed": {"deaths_total": [10, 12, 11, 13], "cost_usd_total": [1e6, 1e6, 1e6, 1e6],
                   "food_gap_usd": [500, 520, 510, 530], "assets_end_usd": [100, 100, 100, 100]},
        "integrated": {"deaths_total": [9, 12, 10, 12], "cost_usd_total": [1e6 + 0.5, 1e6 - 0.3, 1e6 + 0.2, 1e6],
                       "food_gap_usd": [490, 515, 500, 520], "assets_end_usd": [100, 101, 100, 100]},
    })
    res = ComparisonResult.from_runs(runs, n_boot=200)
    bcr = res.cost_effectiveness.set_index(["arm", "metric"]).loc[("integrated", "benefit_cost_ratio")]
    assert math.isnan(bcr["value"]) and bcr["note"].startswith("undefined")
    pdl = res.per_dollar.set_index("metric")
    assert pdl["value"].isna().all() and pdl["note"].str.startswith("undefined").all()
    # the page says so in words, and still gives the difference
    from hssim.compare.narrative import decision_sentences

    text = " ".join(decision_sentences(res))
    assert "undefined" in text and "deaths changed by" in text


def test_early_vs_late_pairs_incremental_bcr_and_equal_costs():
    fg = {"none": [1000, 1000, 1000], "reactive_integrated": [800, 850, 900],
          "anticipatory_integrated": [700, 700, 720], "x_early": [700, 700, 700], "x_late": [800, 800, 800]}
    assets = {"none": [500, 500, 500], "reactive_integrated": [510, 520, 500],
              "anticipatory_integrated": [560, 540, 560], "x_early": [500, 500, 500], "x_late": [500, 500, 500]}
    cost = {"none": [0, 0, 0], "reactive_integrated": [100, 100, 100], "anticipatory_integrated": [150, 140, 160],
            "x_early": [100, 100, 100], "x_late": [100, 100, 100]}
    runs = _runs({a: {"deaths_total": [5, 5, 5], "food_gap_usd": fg[a], "assets_end_usd": assets[a],
                      "cost_usd_total": cost[a]} for a in fg})
    assert default_pairs(fg) == [("anticipatory_integrated", "reactive_integrated")]
    res = ComparisonResult.from_runs(runs, pairs=[("x_early", "x_late")], n_boot=200)
    e = res.early_vs_late.set_index(["early", "late", "quantity"])
    key = ("anticipatory_integrated", "reactive_integrated")
    dben = (np.array(fg["reactive_integrated"]) - fg["anticipatory_integrated"]) + (
        np.array(assets["anticipatory_integrated"]) - assets["reactive_integrated"])
    dcost = np.array(cost["anticipatory_integrated"]) - cost["reactive_integrated"]
    assert e.loc[(*key, "benefit_usd"), "estimate"] == pytest.approx(dben.mean())
    assert e.loc[(*key, "incremental_bcr"), "estimate"] == pytest.approx(dben.mean() / dcost.mean())
    ben_e = (1000 - np.array(fg["anticipatory_integrated"])) + (np.array(assets["anticipatory_integrated"]) - 500)
    ben_l = (1000 - np.array(fg["reactive_integrated"])) + (np.array(assets["reactive_integrated"]) - 500)
    bcr_e, bcr_l = ben_e.mean() / np.mean(cost["anticipatory_integrated"]), ben_l.mean() / 100.0
    assert e.loc[(*key, "bcr_ratio"), "estimate"] == pytest.approx(bcr_e / bcr_l)
    assert e.loc[(*key, "cost_usd_total"), "estimate"] == pytest.approx(dcost.mean())
    # equal costs: no ratio, a note that says so
    eq = e.loc[("x_early", "x_late", "incremental_bcr")]
    assert math.isnan(eq["estimate"]) and "equal costs" in eq["note"] and "100" in eq["note"]


# -- resume --------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def test_resume_skips_finished_runs_and_reruns_changed_configs(tmp_path, sim):
    arms = {"base": [], "cash": CASH}

    def stop_after_three(k, n, arm, r, stored):
        if k == 3:
            raise _Stop

    with pytest.raises(_Stop):
        compare(arms, replicates=2, overrides=SMALL, run_dir=tmp_path, progress=stop_after_three)
    assert sorted(p.name for p in (tmp_path / "runs").glob("*.json")) == ["base__r0.json", "base__r1.json",
                                                                          "cash__r0.json"]
    calls = []
    res = resume(tmp_path, progress=lambda *a: calls.append(a))
    assert [(c[2], c[3], c[4]) for c in calls] == [("base", 0, True), ("cash", 0, True), ("base", 1, True),
                                                   ("cash", 1, False)]
    assert res.meta["runs_executed"] == 1 and res.meta["runs_stored"] == 3
    # stored runs read back equal to fresh ones
    old = sim.runs[sim.runs["arm"].isin(list(arms)) & (sim.runs["replicate"] < 2)]
    key = ["arm", "replicate", "outcome"]
    assert np.array_equal(res.runs.sort_values(key)["value"].to_numpy(), old.sort_values(key)["value"].to_numpy())
    # a changed arm config has another fingerprint: only its runs run again
    calls.clear()
    compare({"base": [], "cash": ["households.wage_usd_per_day=3.5"]}, replicates=2, overrides=SMALL,
            run_dir=tmp_path, progress=lambda *a: calls.append(a))
    assert [(c[2], c[4]) for c in calls] == [("base", True), ("cash", False), ("base", True), ("cash", False)]
    # file names stay inside runs/ whatever the label
    assert run_file(tmp_path, "../../etc/x", 0).parent == tmp_path / "runs"


# -- report ----------------------------------------------------------------------------------

EVIL = '<script>alert("x")</script>&'


def test_html_report_is_self_contained_and_escapes_labels(tmp_path):
    runs = _runs({
        "none": {"deaths_total": [10, 12, 11], "ipc3plus_person_months": [90, 95, 99], "food_gap_usd": [10, 12, 11],
                 "assets_end_usd": [50, 50, 50]},
        EVIL: {"deaths_total": [8, 9, 9], "ipc3plus_person_months": [70, 80, 85], "cost_usd_total": [5, 6, 7],
               "food_gap_usd": [8, 9, 9], "assets_end_usd": [51, 52, 50], "trigger_hits": [2, 1, 2],
               "trigger_misses": [0, 1, 0], "trigger_false_alarms": [1, 0, 0]},
    })
    cost_runs = pd.DataFrame({"arm": [EVIL] * 3, "replicate": [0, 1, 2], "intervention": ["cash <b>"] * 3,
                              "kind": ["protection"] * 3, "sector": ["food_security"] * 3,
                              "cost_usd": [5.0, 6.0, 7.0], "household_months_served": [10.0, 12.0, 14.0]})
    res = ComparisonResult.from_runs(runs, {"none": ["policy=none"], EVIL: ["x=<i>"]}, cost_runs=cost_runs,
                                     meta={"scenario": "default", "months": 12, "seeds": [100, 101, 102]}, n_boot=100)
    out = save_comparison(res, tmp_path / "cmp", dpi=40)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["runs.csv", "differences.csv", "costs.csv", "cost_breakdown.csv",
                            "cost_effectiveness.csv", "per_dollar.csv", "avoided_losses.csv", "early_vs_late.csv",
                            "compare_decision.png", "compare_differences.png",
                            "compare_costs.png", "compare_cost_effectiveness.png", "report.html", "comparison.json"])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page and "cash &lt;b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page.lower() and "@import" not in page
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(imgs) == 4 and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)
    # the decision summary opens the page: before the arms, the findings and the other figures
    top = page.index("Decision summary")
    assert top < page.index("What was compared") < page.index("Main findings")
    assert page.index("compare_decision.png") < page.index("What was compared")
    assert "deaths averted per million USD" in page[top:page.index("What was compared")]
    assert "none" in page and "Trigger performance" in page and "illustrative" in page
    assert "Common random numbers" in page
    doc = json.loads((out / "comparison.json").read_text())
    assert list(doc["arms"]) == ["none", EVIL] and doc["reference"] == "none"
    assert pd.read_csv(out / "differences.csv")["arm"].eq(EVIL).all()


# -- validation and the command line ------------------------------------------------------------


def test_every_arm_is_validated_before_anything_runs():
    calls = []
    with pytest.raises(hssim.UserError, match="arm 'b' .*months"):
        compare({"a": [], "b": ["months=0"]}, replicates=2, overrides=SMALL, progress=lambda *a: calls.append(a))
    with pytest.raises(hssim.ConfigError, match="seed"):
        compare({"a": [], "b": ["seed=3"]}, replicates=2, overrides=SMALL, progress=lambda *a: calls.append(a))
    with pytest.raises(hssim.ConfigError, match="replicates"):
        compare({"a": [], "b": []}, replicates=1, overrides=SMALL)
    with pytest.raises(hssim.ConfigError, match="reference"):
        compare({"a": [], "b": []}, replicates=2, reference="c", overrides=SMALL)
    with pytest.raises(hssim.UserError, match="no_such_policy.*available presets"):
        compare(["none", "no_such_policy"], replicates=2, overrides=SMALL)
    assert calls == []


TINY = ["population.households=1000", "months=12", "spinup_months=2"]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HSSIM_DEBUG"}
    env["NUMBA_NUM_THREADS"] = "1"
    return subprocess.run([sys.executable, "-c", "from hssim.cli.compare import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, check=False, text=True, timeout=600)


BAD = [
    (["--arms", "none,bogus_arm"], "bogus_arm"),
    (["population.householdz=5"], "population.householdz"),
    (["--replicates", "1"], "replicates"),
    (["--arm", "a:", "--out"], "--out"),
]


@pytest.mark.parametrize("args,field", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_cli_user_errors_exit_2_with_one_line_and_no_output(tmp_path, args, field):
    out = _cli([*TINY, *args], cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in out.stderr, out.stderr
    if field == "bogus_arm":
        assert "available presets" in lines[0]
    assert out.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_cli_runs_writes_folder_and_resumes(tmp_path):
    args = ["--arm", "base:", "--arm", "cash:households.wage_usd_per_day=3", "--replicates", "2", *TINY,
            "output.figure_dpi=40"]
    out = _cli(args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    dirs = [p for p in (tmp_path / "outputs" / "compare").glob("*/*") if p.is_dir()]
    assert len(dirs) == 1
    d = dirs[0]
    files = {p.name for p in d.iterdir()}
    assert {"comparison.json", "report.html", "differences.csv", "runs.csv", "spec.json", "runs"} <= files
    assert not [p for p in d.rglob(".*") if p.name != ".hssim-run"]  # no temporary files left (the marker says complete)
    assert json.loads((d / ".hssim-run").read_text())["status"] == "complete"
    assert len(re.findall(r"\[\d/4\] .* s$", out.stderr, re.MULTILINE)) == 4
    assert "cash" in out.stdout and "deaths vs base" in out.stdout and str(d.name) in out.stdout
    first = json.loads((d / "comparison.json").read_text())
    again = _cli(["--resume", str(d)], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(re.findall(r"\[\d/4\] .*: stored$", again.stderr, re.MULTILINE)) == 4
    second = json.loads((d / "comparison.json").read_text())
    assert second["differences"] == first["differences"] and second["meta"]["runs_executed"] == 0


def test_worker_processes_give_the_same_runs_as_one_process():
    """Runs in two worker processes (one numba thread each) equal runs here: a run
    depends only on its config and seed."""
    arms = {"base": [], "cash": ["households.wage_usd_per_day=3.5"]}
    here = compare(arms, replicates=2, overrides=SMALL, workers=1)
    pool = compare(arms, replicates=2, overrides=SMALL, workers=2)
    pd.testing.assert_frame_equal(here.runs, pool.runs)
    assert here.runs["value"].notna().any()


def test_equal_spend_arms_spend_the_same_to_within_a_tranche(tmp_path):
    """With equal_spend every responding arm of a replicate is capped at the least any of
    them spent uncapped: their spends then agree to within one monthly tranche of the
    budget, and no arm spends above its cap."""
    arms = ["none", "reactive_siloed", "reactive_integrated"]
    res = compare(arms, replicates=2, overrides=SMALL, run_dir=tmp_path, equal_spend=True, n_boot=100)
    caps = res.meta["equal_spend"]["caps_usd"]
    assert len(caps) == 2 and all(c > 0 for c in caps)
    cost = res.runs[res.runs["outcome"] == "cost_usd_total"].pivot_table(index="replicate", columns="arm",
                                                                          values="value")
    tranche = 20e6 / 12  # the presets' budget, one month of it
    for r, cap in enumerate(caps):
        assert cost.loc[r, "none"] == 0.0
        for arm in arms[1:]:
            assert cost.loc[r, arm] <= cap * (1 + 1e-9) + 1e-6
        assert abs(cost.loc[r, "reactive_siloed"] - cost.loc[r, "reactive_integrated"]) <= tranche
    # the uncapped pass is stored apart and read back on resume, as are the capped runs
    assert sorted(p.name for p in (tmp_path / "pilot" / "runs").glob("*.json"))
    again = resume(tmp_path, n_boot=100)
    assert again.meta["runs_executed"] == 0 and again.meta["equal_spend"]["caps_usd"] == caps
    # a comparison with no response to cap is refused before anything runs
    with pytest.raises(hssim.ConfigError, match="equal_spend"):
        compare({"a": ["policy=none"], "b": ["policy=none", "households.wage_usd_per_day=3"]}, replicates=2, overrides=SMALL,
                equal_spend=True)


def test_avoided_losses_are_counted_discounted_component_by_component():
    """The benefit counts what anticipatory-action studies count (food gap avoided, assets
    and livestock kept, need averted at its response cost), each month discounted, and a
    programme with no effect adds no benefit."""
    res = compare(["none", "reactive_integrated"], replicates=2, overrides=SMALL, n_boot=100)
    wide = res.runs.pivot_table(index=["arm", "replicate"], columns="outcome", values="value")
    al = res.avoided_losses.set_index("component")
    want = {"food_gap_avoided_usd": wide.loc["none", "food_gap_usd_pv"] - wide.loc["reactive_integrated", "food_gap_usd_pv"],
            "assets_kept_usd": wide.loc["reactive_integrated", "assets_end_usd_pv"] - wide.loc["none", "assets_end_usd_pv"],
            "savings_kept_usd": wide.loc["reactive_integrated", "savings_end_usd_pv"] - wide.loc["none", "savings_end_usd_pv"],
            "debt_avoided_usd": wide.loc["none", "debt_end_usd_pv"] - wide.loc["reactive_integrated", "debt_end_usd_pv"],
            "need_averted_usd": wide.loc["none", "need_usd_pv"] - wide.loc["reactive_integrated", "need_usd_pv"]}
    for k, v in want.items():
        assert al.loc[k, "mean"] == pytest.approx(v.mean(), rel=1e-9)
    assert al.loc["total_usd", "mean"] == pytest.approx(sum(v.mean() for v in want.values()), rel=1e-9)
    # distress-sale losses are a memo, not in the total (they are inside the assets kept)
    memo = wide.loc["none", "distress_loss_usd_pv"] - wide.loc["reactive_integrated", "distress_loss_usd_pv"]
    assert al.loc["distress_loss_avoided_usd", "mean"] == pytest.approx(memo.mean(), rel=1e-9)
    assert (wide["debt_end_usd_pv"] > 0).all() and (wide["distress_loss_usd_pv"] >= 0).all()
    # discounting: at a zero rate the discounted food gap is the food gap
    flat = compare(["none", "reactive_integrated"], replicates=2, overrides=[*SMALL, "valuation.discount_rate_per_year=0"],
                   n_boot=100)
    w0 = flat.runs.pivot_table(index=["arm", "replicate"], columns="outcome", values="value")
    np.testing.assert_allclose(w0["food_gap_usd_pv"], w0["food_gap_usd"], rtol=1e-9)
    np.testing.assert_allclose(w0.loc["reactive_integrated", "cost_usd_pv"], w0.loc["reactive_integrated", "cost_usd_total"],
                               rtol=1e-9)
    assert (wide["food_gap_usd_pv"] < wide["food_gap_usd"]).all()  # 5% a year makes later losses worth less
    # the BCR divides the discounted total by the discounted extra cost
    bcr = res.cost_effectiveness.set_index(["arm", "metric"]).loc[("reactive_integrated", "benefit_cost_ratio")]
    assert bcr["numerator_mean"] == pytest.approx(al.loc["total_usd", "mean"], rel=1e-9)
    # an arm identical to the reference avoids nothing
    same = compare({"a": ["policy=none"], "b": ["policy=none", "valuation.response_cost_usd_per_person_month=8"]},
                   replicates=2, overrides=SMALL, n_boot=100)
    assert (same.avoided_losses.set_index("component").loc[["food_gap_avoided_usd", "assets_kept_usd",
                                                            "savings_kept_usd", "debt_avoided_usd",
                                                            "need_averted_usd", "total_usd",
                                                            "distress_loss_avoided_usd"], "mean"] == 0).all()
