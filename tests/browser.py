"""Headless Chromium for the browser tests (and the dashboard benchmark).

Debian's ``chromium`` driven by playwright, never a browser download; run headless and
offline, with no first-run or background traffic.
"""

from __future__ import annotations

__all__ = ["CHROMIUM", "CHROMIUM_ARGS"]

#: Debian's chromium (``.ci/run`` installs it)
CHROMIUM = "/usr/bin/chromium"
#: headless, offline, no first-run or background traffic
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")  # fmt: skip
