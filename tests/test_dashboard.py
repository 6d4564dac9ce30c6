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


def test_the_view_reads_every_panel_at_one_month_and_the_money_from_the_response():
    pair = Pair(Settings(households=1200, months=30, seed=4))
    v0 = pair.view()
    assert v0.month == 0 and v0.headline == {} and v0.money.empty and v0.triggers.empty
    pair.step(30)
    v = pair.view()
    assert v.month == 30 == v.headline["month"] == int(v.frame["month"].max()) == int(v.money["month"].max())
    assert int(v.triggers["month"].max()) == 30 and len(v.triggers) == 2 * 30
    for arm in ARMS:
        m = v.money[v.money.arm == arm]
        f = v.frame[v.frame.arm == arm]
        # cumulative spending is the reporters' cumulative cost (real USD)
        np.testing.assert_allclose(m["spent_usd"].to_numpy(), f["cost_usd_cumulative"].to_numpy(), rtol=1e-9)
        res = pair.lockstep.results(arm)
        money = res.tables["money"]
        np.testing.assert_allclose(m["held_usd"].to_numpy(), money["held_usd"].to_numpy())
        np.testing.assert_allclose(m["appeal_received_usd"].to_numpy(), money["appeal_received_usd"].cumsum().to_numpy())
    # the reserve not yet released: a year's reserve, less the year's releases, plus returns
    prev = v.money[v.money.arm == "prevention"].reset_index(drop=True)
    reserve = pair.lockstep.configs["prevention"].policy.finance.reserve_usd_per_year
    assert reserve > 0 and v.money[v.money.arm == "late"]["reserve_available_usd"].eq(0).all()
    money = pair.lockstep.results("prevention").tables["money"]
    year = (money["month"] - 1) // 12
    want = reserve - (money["reserve_released_usd"] - money["reserve_returned_usd"]).groupby(year).cumsum()
    np.testing.assert_allclose(prev["reserve_available_usd"].to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-6)
    # the per-dollar headline: deaths averted / extra spend, only when prevention spent clearly more
    h = v.headline
    assert h["extra_cost_usd"] == pytest.approx(h["cost_usd_prevention"] - h["cost_usd_late"])
    if h["extra_cost_usd"] > 0.01 * h["cost_usd_late"]:
        assert h["deaths_averted_per_musd"] == pytest.approx(h["deaths_averted"] / (h["extra_cost_usd"] / 1e6))
    else:
        assert np.isnan(h["deaths_averted_per_musd"])
    # the trigger counts are the district fields of the month, both arms
    ds = pair.engines["late"].districts
    last = v.triggers[(v.triggers.arm == "late") & (v.triggers.month == 30)].iloc[0]
    assert last["alert_food"] == int((ds["alert_food"] > 0).sum())


def test_the_per_dollar_card_never_divides_by_nothing():
    pytest.importorskip("solara")
    from hssim.dashboard.app import per_dollar_text

    base = {"deaths_averted": 40.0, "cost_usd_late": 10e6}
    defined = per_dollar_text({**base, "extra_cost_usd": 2e6, "deaths_averted_per_musd": 20.0})
    assert "20 deaths averted per million USD" in defined
    worse_per = per_dollar_text({**base, "deaths_averted": -4.0, "extra_cost_usd": 2e6, "deaths_averted_per_musd": -2.0})
    assert "2 more deaths per million USD" in worse_per
    same = per_dollar_text({**base, "extra_cost_usd": 5e3, "deaths_averted_per_musd": float("nan")})
    assert "undefined" in same and "per million" not in same
    less = per_dollar_text({**base, "extra_cost_usd": -3e6, "deaths_averted_per_musd": float("nan")})
    assert "3.0 M USD less and averted 40 deaths" in less
    worse = per_dollar_text({**base, "deaths_averted": -7.0, "extra_cost_usd": -3e6, "deaths_averted_per_musd": float("nan")})
    assert "had 7 more deaths" in worse


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
            assert month.inner_text() == "Month 7 of 36"

            # play to the horizon: label, cards and every chart end on the same month, and
            # nothing changes once play has stopped
            page.click(".hssim-play")
            wait_month(36)
            page.wait_for_function("document.querySelector('.hssim-charts-month').innerText === '36'", timeout=60_000)
            assert "At month 36." in page.inner_text(".hssim-headline-month")
            assert page.locator(".hssim-play").is_disabled() and page.locator(".hssim-step").is_disabled()
            headline = page.inner_text(".hssim-headline")
            assert "Per dollar" in headline and "Triggers this month" in headline
            # the last redraw's images reach the browser after the label: let them land (a
            # chart is its PNG's bytes: an identical image sent again is no change)
            charts = (*before, "money", "triggers")

            def pictures() -> dict:
                return page.evaluate(
                    """async (charts) => {
                        const out = {};
                        for (const c of charts) {
                            const img = document.querySelector(`.hssim-chart-${c} img`);
                            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
                            let h = 0;
                            for (const b of bytes) h = (Math.imul(h, 31) + b) | 0;
                            out[c] = `${bytes.length}:${h}`;
                        }
                        return out;
                    }""",
                    list(charts),
                )

            end, calm = pictures(), 0
            for _ in range(60):  # until three readings a second apart agree
                page.wait_for_timeout(1_000)
                now = pictures()
                calm = calm + 1 if now == end else 0
                end = now
                if calm == 3:
                    break
            headline = page.inner_text(".hssim-headline")
            page.wait_for_timeout(3_000)
            assert pictures() == end, "a chart changed after play ended"
            assert page.inner_text(".hssim-headline") == headline, "the cards changed after play ended"
            assert month.inner_text() == "Month 36 of 36"
            shot = _artifacts() / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
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
