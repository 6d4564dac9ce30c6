#!/usr/bin/env python
"""Dashboard benchmark: how fast the trainer page answers a slider change.

Run from the repository root (needs the ``dashboard`` and ``test`` extras and Debian's
``chromium``)::

    python benchmarks/bench_dashboard.py                      # 20,000 households
    python benchmarks/bench_dashboard.py --households 5000 --changes 3 --output /tmp/d.json

Two measurements, both at ``--households``:

* **in the browser** (the number the target is about): ``hssim-dashboard`` is served
  on 127.0.0.1 and driven in headless Chromium. For each of ``--changes`` slider
  changes (the budget slider, one notch left or right with the keyboard) the time from the
  key press to the moment the page shows the charts of the rebuilt pair is recorded,
  first at month 0, then with the page at month ``--at-month`` (both arms rebuilt
  and run again to that month before they replace the charts on screen);
* **in process**, the parts: building the pair of runs (config, engines, spin-up of
  both arms), stepping both one month, and drawing the five charts to PNG.

Writes ``benchmarks/results/dashboard.json`` (atomically). Target: updated charts
within 2 s of a slider change at 20,000 households. A benchmark, not a test: it
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from hssim.dashboard.serve import served
from hssim.results import atomic_write

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root: the browser set-up the tests use
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DEFAULT_OUTPUT = HERE / "results" / "dashboard.json"


def in_process(households: int, reps: int) -> dict:
    from hssim.dashboard.charts import CHARTS as TIME_CHARTS
    from hssim.dashboard.charts import district_figure, time_figure
    from hssim.dashboard.session import Pair, Settings

    Pair(Settings(households=households, months=36))  # numba cache and the composed configs loaded
    build, step, draw = [], [], []
    for k in range(reps):
        s = Settings(households=households, months=36, budget_musd_per_year=20.0 - 5 * k)
        t0 = time.perf_counter()
        pair = Pair(s)
        build.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pair.step(1)
        step.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        frame, districts = pair.frame(), pair.districts()
        for key in TIME_CHARTS:
            time_figure(frame, key, pair.months).savefig(io.BytesIO(), format="png")
        district_figure(districts, pair.month).savefig(io.BytesIO(), format="png")
        draw.append(time.perf_counter() - t0)
    med = statistics.median
    return {
        "build_pair_s": med(build),
        "step_pair_one_month_s": med(step),
        "draw_five_charts_s": med(draw),
        "estimate_slider_at_month0_s": med(build) + med(draw),
    }


def in_browser(households: int, changes: int, at_month: int) -> dict:
    from playwright.sync_api import sync_playwright

    with served(households) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t_open = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(".hssim-chart-costs img", timeout=300_000)
        page.wait_for_function("document.querySelector('.hssim-month').innerText === 'Month 0 of 36'", timeout=300_000)
        first_charts = time.perf_counter() - t_open
        slider = page.locator(".v-slider").nth(4).locator(".v-slider__thumb-container")

        def change_and_time(key: str) -> float:
            """Key press -> the page shows charts redrawn from the rebuilt pair, at the month on screen."""
            old = page.inner_text(".hssim-version")
            slider.focus()
            t0 = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(
                "old => document.querySelector('.hssim-version').textContent !== old &&"
                " document.querySelector('.hssim-status').innerText.startsWith('updated in')",
                arg=old, timeout=120_000,
            )  # fmt: skip
            elapsed = time.perf_counter() - t0
            time.sleep(0.5)  # let the page settle between changes
            return elapsed

        keys = ("ArrowLeft", "ArrowRight")  # one notch down, one up: always a change
        at0 = [change_and_time(keys[k % 2]) for k in range(changes)]
        # go to the month and measure again: the first redraw, then the catch-up
        slider.focus()
        page.keyboard.press("End")
        page.wait_for_function("document.body.innerText.includes('Budget: 60 million')", timeout=300_000)
        for _ in range(at_month // 6):
            page.click("text=Step 6 months")
        page.wait_for_function(f"document.querySelector('.hssim-month').innerText === 'Month {at_month} of 36'", timeout=300_000)
        time.sleep(1.0)
        later = [change_and_time(keys[k % 2]) for k in range(changes)]  # from the top of the range
        browser.close()
    return {
        "page_open_to_first_charts_s": first_charts,
        "slider_to_charts_at_month0_s": at0,
        f"slider_to_charts_at_month{at_month}_s": later,
        "median_slider_to_charts_at_month0_s": statistics.median(at0),
        f"median_slider_to_charts_at_month{at_month}_s": statistics.median(later),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=20_000)
    ap.add_argument("--changes", type=int, default=5, help="slider changes timed at each point")
    ap.add_argument("--at-month", type=int, default=12, help="the month of the second series (a multiple of 6)")
    ap.add_argument("--no-browser", action="store_true", help="only the in-process parts")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    import numba

    result = {
        "benchmark": "dashboard",
        "machine": {"cpus": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
                    "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": os.getloadavg()},  # fmt: skip
        "households": args.households,
        "months": 36,
        "target_s": 2.0,
        "in_process": in_process(args.households, args.changes),
    }
    print("in process:", json.dumps(result["in_process"], indent=1))
    if not args.no_browser:
        result["in_browser"] = in_browser(args.households, args.changes, args.at_month)
        print("in browser:", json.dumps(result["in_browser"], indent=1))
    result["machine"]["load_average_at_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.output, lambda p: p.write_text(json.dumps(result, indent=2) + "\n"))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
