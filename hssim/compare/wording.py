"""Numbers in words, for the terminal table, the notes of the tables and the
plain-language findings."""

from __future__ import annotations

import math

import numpy as np

# -- numbers in words --------------------------------------------------------------------


def _money(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def _count(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or x == round(x):
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _signed(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    return ("+" if x > 0 else "-") + _count(abs(x))


def _ci_words(lo: float, hi: float) -> str:
    if math.isinf(lo) and math.isinf(hi):
        return "95% CI unbounded"
    return f"95% CI {_ratio(lo)} to {_ratio(hi)}"


def _ratio(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.2f}"

