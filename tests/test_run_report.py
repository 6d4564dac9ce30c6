"""The planner's report of a plain run: self-contained, complete, escaped."""

from __future__ import annotations

import re

import pytest

import hssim
from hssim.report.run_report import GROUP_LABELS, run_report, save_run

from .conftest import small_cfg


@pytest.fixture(scope="module")
def policy_run():
    return hssim.run(small_cfg("policy=anticipatory_integrated", "storyline=two_failed_seasons", "months=30"))


def _section(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}</h2>")
    end = html.find("<h2>", start + 5)
    return html[start : end if end > 0 else None]


def test_report_is_self_contained_and_complete(policy_run):
    html = run_report(policy_run)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)  # nothing fetched from anywhere
    assert html.count("data:image/png;base64,") == 1
    for title in ("Context", "Key indicators", "Districts", "Who is affected: groups", "Costs of the response",
                  "What this run can and cannot say"):  # fmt: skip
        assert f"<h2>{title}</h2>" in html
    districts = _section(html, "Districts")
    assert all(d in districts for d in policy_run.districts)
    groups = _section(html, "Who is affected: groups")
    assert all(label in groups for label in GROUP_LABELS.values() if label != "displaced (while displaced)")
    costs = _section(html, "Costs of the response")
    s = policy_run.summary
    assert f"{s['cost_usd_total']:,.0f}" in costs and "By programme" in costs
    key = _section(html, "Key indicators")
    scale = s["real_households_per_simulated"]
    assert f"{s['deaths_total'] * scale:,.0f}" in key  # real-population deaths, as the note says
    context = _section(html, "Context")
    assert "two_failed_seasons" in context and "Forced rain failures" in context
    assert "The districts are synthetic" in _section(html, "What this run can and cannot say")


def test_report_without_a_response_and_escaping():
    cfg = small_cfg("policy=none", "months=6")
    cfg.scenario.description = "<script>alert(1)</script> & co"
    res = hssim.run(cfg)
    html = run_report(res)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "No response was simulated" in _section(html, "Costs of the response")


def test_a_real_place_points_to_its_sources():
    res = hssim.run(hssim.compose(["scenario=turkana", "storyline=turkana_2016_2017", "population.households=800",
                                   "months=18", "spinup_months=2"]))  # fmt: skip
    html = run_report(res)
    context = _section(html, "Context")
    assert "turkana/README.md" in context and "Turkana" in context
    assert "The districts are synthetic" not in html


def test_saved_with_the_run(tmp_path, policy_run):
    out = save_run(policy_run, tmp_path / "run", figure=False)
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert not (save_run(policy_run, tmp_path / "run2", figure=False, report=False) / "report.html").exists()
