"""The trainer dashboard: what it simulates (the pair of arms on common draws) and the
real page served by ``hssim-dashboard``, driven in headless Chromium.

The browser test needs Debian's ``chromium`` (``/usr/bin/chromium``) and the
``playwright`` Python package (never ``playwright install``); without them it skips
with the reason, and CI (``HSSIM_REQUIRE_ALL=1``) turns that skip into a failure.
The screenshot is kept in ``test-artifacts/`` (``HSSIM_TEST_ARTIFACTS`` to change).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hssim.config.build import load_config
from hssim.dashboard.session import ARMS, INTERVENTION_GROUPS, Pair, Settings, arm_config
from hssim.errors import ConfigError

from .browser import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]


# -- what the page simulates ------------------------------------------------------------
def test_arms_differ_only_in_the_policy_and_carry_the_controls():
    s = Settings(households=1500, months=36, seed=9, lead_months=5, forecast_skill=0.6, coordination=0.4,
                 budget_musd_per_year=12.0, drought_severity_sd=2.5, interventions=("cash", "nutrition"))  # fmt: skip
    cfgs = {arm: arm_config(s, arm) for arm in ARMS}
    a, b = ({k: v for k, v in cfgs[arm].items() if k != "policy"} for arm in ARMS)
    assert a == b  # seed, population, storyline, hazards, interventions: identical
    pol = {arm: load_config(cfgs[arm]).policy for arm in ARMS}
    assert pol["prevention"].name == "anticipatory_integrated" and pol["late"].name == "reactive_integrated"
    for p in pol.values():
        assert p.coordination == 0.4 and p.budget_usd_per_year == 12e6 and p.forecast.skill == 0.6
    assert pol["prevention"].trigger.lead_months == 5 and pol["prevention"].trigger.readiness_lead_months == 8
    cfg = load_config(cfgs["prevention"])
    assert [(e.start, e.end, e.anomaly) for e in cfg.storyline.events] == [(22, 24, -2.5), (27, 29, -2.5)]
    on = {n for n, c in cfg.interventions.items() if c.enabled}
    assert {"cash_food", "cash_protection", "nutrition"} <= on
    assert not on & {n for g in ("food_aid", "health_wash", "security") for n in INTERVENTION_GROUPS[g]}


def test_the_pair_sees_the_same_draws_and_steps_together():
    pair = Pair(Settings(households=1200, months=30, preset="two_failed_seasons", seed=4))
    assert pair.month == 0 and pair.headline() == {}
    pair.step(2)
    pair.advance_to(30)
    assert pair.month == 30 and pair.done and pair.step(1) == 0
    recs = {arm: pair.engines[arm].recorder for arm in ARMS}
    names = recs["prevention"].district_names
    rain = {arm: recs[arm].district[:, :, names.index("rain_mm")] for arm in ARMS}
    np.testing.assert_array_equal(rain["prevention"], rain["late"])  # common random numbers
    spi = names.index("spi")
    assert recs["prevention"].district[21:24, :, spi].max() < -1  # the forced failure is in the draws
    frame = pair.frame()
    assert len(frame) == 2 * 30 and set(frame["arm"]) == set(ARMS)
    # the arms must differ somewhere: only the response does, so the costs' timing does
    costs = {arm: frame[frame.arm == arm]["cost_usd"].to_numpy() for arm in ARMS}
    assert not np.array_equal(costs["prevention"], costs["late"])
    h = pair.headline()
    late, prev = (frame[frame.arm == arm]["deaths_cumulative"].iloc[-1] for arm in ("late", "prevention"))
    assert h["deaths_averted"] == pytest.approx((late - prev) * pair.real_households_per_simulated)
    d = pair.districts()
    assert len(d) == 2 * len(pair.engines["late"].scenario.names)


def test_the_dashboard_steps_its_arms_without_mesa():
    code = (
        "import sys\n"
        "from hssim.dashboard.session import Pair, Settings\n"
        "p = Pair(Settings(households=300, months=30)); p.step(2)\n"
        "assert p.month == 2 and len(p.frame()) == 4\n"
        "assert 'mesa' not in sys.modules, 'mesa imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"months": 20}, "dashboard.months"),  # the storyline forces months 22-29
        ({"preset": "nope"}, "dashboard.preset"),
        ({"coordination": 1.5}, "dashboard.coordination"),
        ({"interventions": ("cash", "magic")}, "dashboard.interventions"),
        ({"households": 10}, "dashboard.households"),
    ],
)
def test_bad_settings_name_the_control(changes, field):
    with pytest.raises(ConfigError) as err:
        Settings(**changes)
    assert field in str(err.value)


def test_cli_rejects_bad_defaults_without_a_traceback():
    p = subprocess.run([sys.executable, "-m", "hssim.dashboard.cli", "--months", "12"], check=False, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "dashboard.months" in p.stderr and "Traceback" not in p.stderr


# -- the real page in headless Chromium ---------------------------------------------------
def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (Debian package 'chromium'; .ci/run installs it)"
    for mod in ("playwright", "solara", "solara_assets"):
        with contextlib.suppress(ImportError):
            __import__(mod)
            continue
        return f"python package {mod!r} not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from hssim.dashboard.serve import served

    try:
        with served(households=2000, log=tmp_path_factory.mktemp("dashboard") / "server.log") as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _artifacts() -> Path:
    d = Path(os.environ.get("HSSIM_TEST_ARTIFACTS", REPO / "test-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_dashboard_in_headless_chromium(dashboard_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            page.on("response", lambda r: failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(dashboard_url)
            month = page.locator(".hssim-month")

            def wait_month(k: int) -> None:
                page.wait_for_function(
                    f"(document.querySelector('.hssim-month') || {{}}).innerText === 'Month {k} of 36'", timeout=120_000
                )

            def src(chart: str) -> str:
                return page.get_attribute(f".hssim-chart-{chart} img", "src")

            page.wait_for_selector(".hssim-chart-costs img", timeout=180_000)
            wait_month(0)
            assert page.locator("text=What prevention buys").count() == 1
            before = {c: src(c) for c in ("ipc3plus", "deaths", "displaced", "costs", "districts")}

            # stepping: both arms advance, every chart is redrawn with the new month
            page.click("text=Step 6 months")
            wait_month(6)
            page.wait_for_function(f"document.querySelector('.hssim-chart-costs img').src !== {before['costs']!r}", timeout=60_000)
            stepped = {c: src(c) for c in before}
            assert all(stepped[c] != before[c] for c in before), "a chart did not change after stepping"
            assert "Deaths" in page.inner_text(".hssim-headline")

            # a slider: the budget to 0 -> both arms rebuilt, caught up to month 6, nothing spent
            budget = page.locator(".v-slider").nth(4)
            budget.locator(".v-slider__thumb-container").focus()
            page.keyboard.press("Home")
            page.wait_for_function("document.body.innerText.includes('Budget: 0 million USD per year')", timeout=60_000)
            wait_month(6)
            page.wait_for_function(f"document.querySelector('.hssim-chart-costs img').src !== {stepped['costs']!r}", timeout=60_000)
            page.wait_for_function("document.querySelector('.hssim-headline') && document.querySelector('.hssim-headline').innerText.includes('prevention 0.0 M USD, late 0.0 M USD')", timeout=60_000)
            assert src("costs") != stepped["costs"]

            # and stepping again after the slider
            after_slider = src("ipc3plus")
            page.click(".hssim-step")
            wait_month(7)
            page.wait_for_function(f"document.querySelector('.hssim-chart-ipc3plus img').src !== {after_slider!r}", timeout=60_000)
            shot = _artifacts() / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert month.inner_text() == "Month 7 of 36"
            assert failed == [], f"failed requests: {failed}"
            assert errors == [], f"page errors: {errors}"
        finally:
            browser.close()


def test_a_bad_control_value_is_shown_not_raised(monkeypatch):
    pytest.importorskip("solara")
    from hssim.dashboard import app

    class Box:  # a stand-in for solara.reactive, outside a page
        def __init__(self, value):
            self.value = value

    monkeypatch.setattr(app, "settings", Box(Settings(households=500, months=36)))
    monkeypatch.setattr(app, "error", Box(""))
    monkeypatch.setattr(app, "_rebuild", lambda new: pytest.fail("must not rebuild with a bad value"))
    app._change(seed=-3)
    assert "dashboard.seed" in app.error.value
