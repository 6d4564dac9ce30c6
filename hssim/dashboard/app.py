"""The trainer dashboard: prevention and late response side by side, on the same draws.

Start it with ``hssim-dashboard`` (see :mod:`hssim.dashboard.cli`); this module is
the Solara page (``solara run hssim.dashboard.app``).

Every control change rebuilds the pair of runs (:class:`~hssim.dashboard.session.Pair`)
and brings it back to the month on screen, so the trainer compares the what-if at
the same point of the story. Step, play and run-to-end advance both arms together.

Everything on the page (the month label, the cards, every chart) is drawn from one
:class:`~hssim.dashboard.session.View`, read from the pair at one month under its lock
and replaced only when a redraw is due: the page never shows two months at once, and
nothing changes once the pair has stopped.
State lives in Solara reactive variables, which are per browser session: two trainers
on one server do not share runs.
"""

from __future__ import annotations

import os
import time

import solara

from ..errors import UserError
from .charts import CHARTS, district_figure, money_figure, time_figure, trigger_figure
from .session import ARM_LABELS, INTERVENTION_GROUPS, INTERVENTION_LABELS, PRESETS, Pair, Settings, View

__all__ = ["Page", "default_settings"]


def default_settings() -> Settings:
    """Settings from the environment the launcher sets (``HSSIM_DASHBOARD_*``), else the defaults."""
    env = os.environ
    kw = {}
    for name, key, cast in (
        ("households", "HSSIM_DASHBOARD_HOUSEHOLDS", int),
        ("months", "HSSIM_DASHBOARD_MONTHS", int),
        ("seed", "HSSIM_DASHBOARD_SEED", int),
        ("preset", "HSSIM_DASHBOARD_PRESET", str),
    ):
        if env.get(key):
            kw[name] = cast(env[key])
    return Settings(**kw)


settings = solara.reactive(default_settings())
pair_ref: solara.Reactive[Pair | None] = solara.reactive(None)
#: what the page shows: the pair on screen read at one month (None before the first build)
view: solara.Reactive[View | None] = solara.reactive(None)
#: a rebuilt pair being brought to the month on screen, off screen: (pair, month, t0)
pending: solara.Reactive[tuple | None] = solara.reactive(None)
target = solara.reactive(0)  # the month the trainer asked for; a worker thread steps the pair there
version = solara.reactive(0)  # bumped with every new view: redraws the cards and charts
status = solara.reactive("building the runs ...")
error = solara.reactive("")

#: while playing, redraw at most this often (a redraw of the five charts takes ~0.3-0.5 s)
REDRAW_EVERY_S = 0.5


def _rebuild(new: Settings) -> None:
    """Rebuild both arms with ``new`` settings.

    At month 0 the new pair is shown at once. Later in the story it is first brought
    to the month on screen by the worker thread, while the page keeps showing the
    previous charts (a chart never goes blank), and then swapped in.
    """
    t0 = time.perf_counter()
    old = pair_ref.value
    job = pending.value
    month = job[1] if job is not None else (old.month if old is not None else 0)
    try:
        pair = Pair(new)
    except UserError as exc:
        error.value = str(exc)
        return
    error.value = ""
    settings.value = new
    if month == 0:
        pending.value = None
        target.value = 0
        _show(pair, f"updated in {time.perf_counter() - t0:.1f} s")
    else:
        status.value = f"recomputing both arms to month {month} ..."
        pending.value = (pair, month, t0)


def _show(pair: Pair, message: str) -> None:
    pair_ref.value = pair
    _publish(pair)
    status.value = message


def _publish(pair: Pair) -> None:
    """Put ``pair`` read at its current month on screen (the view, then the version: the
    cards and charts redraw once, from the new view)."""
    view.value = pair.view()
    version.value += 1


def _change(**changes) -> None:
    try:
        new = settings.value.replace(**changes)  # validated: a bad value names the control
    except UserError as exc:
        error.value = str(exc)
        return
    _rebuild(new)


def _go(month: int) -> None:
    pair = pair_ref.value
    if pair is not None and pending.value is None:
        target.value = max(pair.month, min(pair.months, month))


def _pause() -> None:
    pair = pair_ref.value
    if pair is not None:
        target.value = pair.month


def _reset() -> None:
    pair_ref.value = None  # month 0: rebuild from the end of the spin-up
    view.value = None
    pending.value = None
    _rebuild(settings.value)


def _worker(cancel) -> None:
    """Bring a rebuilt pair to its month and swap it in; else step the pair on screen to
    the target month, redrawing at most every REDRAW_EVERY_S."""
    job = pending.value
    if job is not None:
        pair, month, t0 = job
        while not cancel.is_set() and pending.value is job and pair.month < month:
            pair.step(1)
        if not cancel.is_set() and pending.value is job:
            pending.value = None
            target.value = month
            _show(pair, f"updated in {time.perf_counter() - t0:.1f} s (both arms rebuilt and run to month {month})")
        return
    pair = pair_ref.value
    if pair is None:
        return
    t0 = last = time.perf_counter()
    start = pair.month
    while not cancel.is_set() and pair is pair_ref.value and pair.month < target.value:
        pair.step(1)
        now = time.perf_counter()
        if now - last >= REDRAW_EVERY_S or pair.month >= target.value:
            last = now
            k = pair.month - start
            _publish(pair)
            status.value = f"{k} month{'s' * (k != 1)} in {now - t0:.1f} s"
    # stopped (target reached, paused or cancelled): the screen shows the month the pair is at
    v = view.value
    if pair is pair_ref.value and pending.value is None and (v is None or v.month != pair.month):
        _publish(pair)


def _heading(text: str, level: int = 3):
    # not solara.Markdown: it pulls KaTeX, which the bundled offline assets do not carry
    return solara.v.Html(tag=f"h{level}", children=[text], style_="margin: 0.6em 0 0.2em 0")


@solara.component
def Controls():
    s = settings.value
    labels = {p.label: key for key, p in PRESETS.items()}
    _heading("Storyline")
    solara.Select("Preset", values=list(labels), value=PRESETS[s.preset].label, on_value=lambda lab: _change(preset=labels[lab]))
    solara.Text(PRESETS[s.preset].description, style={"font-size": "0.85em"})
    solara.SliderFloat(f"Drought severity: {s.drought_severity_sd:g} sd below normal", value=s.drought_severity_sd, min=0.5, max=3.0, step=0.25, on_value=lambda v: _change(drought_severity_sd=float(v)))
    _heading("Early warning")
    solara.SliderInt(f"Forecast lead time: {s.lead_months} months", value=s.lead_months, min=1, max=9, on_value=lambda v: _change(lead_months=int(v)))
    solara.SliderFloat(f"Forecast skill: {s.forecast_skill:.2f} (correlation)", value=s.forecast_skill, min=0.0, max=0.95, step=0.05, on_value=lambda v: _change(forecast_skill=round(float(v), 2)))
    _heading("Response (both arms)")
    solara.SliderFloat(f"Coordination: {s.coordination:.1f} (0 siloed, 1 integrated)", value=s.coordination, min=0.0, max=1.0, step=0.1, on_value=lambda v: _change(coordination=round(float(v), 2)))
    solara.SliderInt(f"Budget: {s.budget_musd_per_year:g} million USD per year", value=int(s.budget_musd_per_year), min=0, max=60, step=5, on_value=lambda v: _change(budget_musd_per_year=float(v)))
    for key, label in INTERVENTION_LABELS.items():
        def toggle(on: bool, key=key) -> None:
            chosen = [k for k in INTERVENTION_GROUPS if (k == key and on) or (k != key and k in settings.value.interventions)]
            _change(interventions=tuple(chosen))

        solara.Checkbox(label=label, value=key in s.interventions, on_value=toggle)
    _heading("Run")
    sizes = [2_000, 5_000, 10_000, 20_000, 50_000]
    solara.Select("Households simulated", values=[str(n) for n in sorted({*sizes, s.households})], value=str(s.households), on_value=lambda v: _change(households=int(v)))
    solara.InputInt("Seed (same draws for both arms)", value=s.seed, on_value=lambda v: _change(seed=int(v)))


def per_dollar_text(h: dict) -> str:
    """The per-dollar card: deaths averted per million USD of extra spend where prevention
    spent clearly more; otherwise what the money difference was (a ratio over a difference
    near zero, or negative, means nothing)."""
    extra = h["extra_cost_usd"]
    deaths = h["deaths_averted"]
    per = h["deaths_averted_per_musd"]
    if extra == extra and per == per:  # defined
        what = f"{per:,.0f} deaths averted" if per >= 0 else f"{-per:,.0f} more deaths"
        return f"{what} per million USD of extra spend ({extra / 1e6:,.1f} M USD more than the late response)"
    if extra < -max(0.01 * h["cost_usd_late"], 1.0):
        outcome = f"averted {deaths:,.0f} deaths" if deaths >= 0 else f"had {-deaths:,.0f} more deaths"
        return f"prevention spent {-extra / 1e6:,.1f} M USD less and {outcome}: no extra cost to divide by"
    return f"about the same money (difference {extra / 1e6:+,.2f} M USD): per-dollar figure undefined"


def trigger_text(v: View) -> str:
    """The trigger card: districts on each signal in the view's month."""
    t = v.triggers
    if t.empty:
        return ""
    now = t[t["month"] == v.month].set_index("arm")
    if now.empty:
        return ""
    p, late = now.loc["prevention"], now.loc["late"]
    return (f"prevention: readiness in {int(p['ready_drought'])}, forecast trigger active in {int(p['alert_drought'])} "
            f"of {v.n_districts} districts; late: food-insecurity alert in {int(late['alert_food'])}")


@solara.component
def Headline(v: View, tick: int):
    h = v.headline
    if not h:
        solara.Info("Step or play to start the horizon: both arms have finished their spin-up and see the same draws from here.")
        return
    deaths = h["deaths_averted"]
    gap = 100 * h["ipc3plus_frac_gap_mean"]
    disp = h["displaced_household_months_averted"]
    verb = "averted" if deaths >= 0 else "more with prevention"
    with solara.Row(classes=["hssim-headline"], style={"flex-wrap": "wrap"}):
        for title, text in (
            ("Deaths", f"{abs(deaths):,.0f} {verb}"),
            ("IPC3+ share", f"{abs(gap):.1f} points {'lower' if gap >= 0 else 'higher'} with prevention (mean over months)"),
            ("Displacement", f"{abs(disp):,.0f} household-months {'averted' if disp >= 0 else 'more with prevention'}"),
            ("Spent", f"prevention {h['cost_usd_prevention'] / 1e6:,.1f} M USD, late {h['cost_usd_late'] / 1e6:,.1f} M USD"),
            ("Per dollar", per_dollar_text(h)),
            ("Triggers this month", trigger_text(v)),
        ):
            with solara.Card(title, style={"min-width": "220px", "max-width": "320px"}):
                solara.Text(text)
    solara.Text(f"At month {v.month}. Counts are for the region's real population (simulated households scaled up); "
                "one run on one seed, so no interval: hssim-compare gives them.",
                classes=["hssim-headline-month"], style={"font-size": "0.8em"})


#: the time charts beside the outcome charts
EXTRA_CHARTS: tuple[str, ...] = ("money", "triggers")


@solara.component
def Charts(v: View, droughts: tuple, tick: int):
    def draw():
        figs = {key: time_figure(v.frame, key, v.months, droughts) for key in CHARTS}
        figs["money"] = money_figure(v.money, v.months)
        figs["triggers"] = trigger_figure(v.triggers, v.months, v.n_districts, droughts)
        figs["districts"] = district_figure(v.districts, v.month)
        return figs

    figs = solara.use_memo(draw, [tick])  # every new view bumps the version
    with solara.ColumnsResponsive(12, large=6):
        for key in (*CHARTS, *EXTRA_CHARTS):
            with solara.Div(classes=[f"hssim-chart-{key}"]):
                solara.FigureMatplotlib(figs[key], format="png", dependencies=[tick, key])
    with solara.Div(classes=["hssim-chart-districts"]):
        solara.FigureMatplotlib(figs["districts"], format="png", dependencies=[tick, "districts"])
    # the month every chart above was drawn at (what the browser test reads)
    solara.Text(str(v.month), classes=["hssim-charts-month"], style={"display": "none"})


@solara.component
def Page():
    solara.Title("hssim: prevention vs late response")
    tick = version.value
    pair = pair_ref.value

    def first_build():
        if pair_ref.value is None:
            _rebuild(settings.value)

    solara.use_effect(first_build, [])
    solara.use_thread(_worker, dependencies=[target.value, id(pair), id(pending.value)], intrusive_cancel=False)

    with solara.Sidebar():
        Controls()
    _heading("What prevention buys", level=2)
    solara.Text(
        f"{ARM_LABELS['prevention']} and {ARM_LABELS['late']} on the same random draws: "
        "the same droughts, raids and epidemics; only the timing of the response differs."
    )
    if error.value:
        solara.Error(error.value)
    v = view.value
    if pair is None or v is None:
        solara.Text("building the runs ...", classes=["hssim-status"])
        return
    with solara.Row(style={"align-items": "center"}):
        busy = pair.month < target.value
        frozen = pair.done or pending.value is not None
        solara.Button("Step 1 month", on_click=lambda: _go(max(target.value, pair.month) + 1), disabled=frozen, classes=["hssim-step"])
        solara.Button("Step 6 months", on_click=lambda: _go(max(target.value, pair.month) + 6), disabled=frozen)
        if busy:
            solara.Button("Pause", on_click=_pause, classes=["hssim-pause"])
        else:
            solara.Button("Play", on_click=lambda: _go(pair.months), disabled=frozen, classes=["hssim-play"])
        solara.Button("Reset", on_click=_reset)
        solara.Text(f"Month {v.month} of {v.months}", classes=["hssim-month"])
        solara.Text(status.value, classes=["hssim-status"], style={"color": "#666"})
        solara.Text(str(tick), classes=["hssim-version"], style={"display": "none"})  # what the browser test waits on
    Headline(v, tick)
    Charts(v, PRESETS[pair.settings.preset].droughts, tick)
