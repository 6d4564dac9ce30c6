"""Indicator sums: the integer counters every module adds to each month.

Each month the engine zeroes ``engine.month_sums`` (int64[D, N_CELLS, N_SUMS]);
modules add their households' contributions, by district of residence-of-origin
and household *cell*; the recorder keeps one copy per month; results turn them into
group totals and indicators. Integer sums make totals identical whatever the
thread count (float sums are stored as fixed-point thousandths, ``_milli``).

A cell packs the household's group memberships into 6 bits::

    cell = female_head + 2 marginalised + 4 poorest_quintile + 8 livelihood + 32 displaced
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["SUMS", "N_SUMS", "N_CELLS", "cell_of", "I", "derived_sums"]  # plus S_<NAME> constants

SUMS: tuple[str, ...] = (
    "households",  # households with members alive
    "people",  # people alive at the start of the month
    *(f"people_phase{k}" for k in range(1, 6)),  # by IPC-like phase
    *(f"people_coping{k}" for k in range(4)),  # by coping stage
    *(f"u5_mal{k}" for k in range(3)),  # under-fives by malnutrition state
    "people_poor",
    "deaths_baseline",
    "deaths_starvation",
    "deaths_disease",
    "deaths_violence",
    "births",  # children born in the month
    "gap_people_milli",  # sum over people of consumption gap, x1000
    "assets_usd",  # productive asset value, USD, rounded
    "households_below_trap",
    "consumption_milli",  # sum over people of consumption USD/person/day, x1000
    "households_emergency",
    "people_displaced",
    "people_in_camp",
    "people_violence_exposed",  # in households hit by violence this month
    "fear_people_milli",  # sum over people of fear (0..1), x1000
    "new_infections",
    "people_infectious",  # at the end of the month
    "people_sick",  # ill at some point during the month
    "health_access_people_milli",  # sum over people of health-care access at their location, x1000
    "hs_people_milli",  # sum over people of the household human-security index, x1000
    *(f"people_hs_bin{k}" for k in range(10)),  # people by human-security index decile bin [k/10, (k+1)/10)
    # the response (ALLOCATION phase), by the household's origin and cell
    "households_assisted",  # receiving at least one intervention this month
    "people_assisted",
    "households_duplicated",  # receiving the same kind of intervention from two programmes
    "households_layered",  # receiving two or more different kinds
    "households_in_need",  # in IPC-like phase 3+ last month (what any responder should reach)
    "households_need_unmet",  # in need and receiving nothing
    "herd_tlu_milli",  # livestock held at the end of the month, TLU x1000 (crisis livestock losses)
    "savings_usd",  # cash savings held at the end of the month, USD, rounded (destocking proceeds among them)
    "debt_usd",  # debt owed at the end of the month, USD, rounded
    "distress_loss_usd",  # value lost selling productive assets below market value this month, USD, rounded
)
N_SUMS = len(SUMS)
N_CELLS = 64


#: column of each sum by name
I: dict[str, int] = {n: j for j, n in enumerate(SUMS)}

# Module-level integer constants ``S_<NAME>`` (e.g. ``S_PEOPLE``): numba kernels
# read globals as compile-time constants, so kernels index sums by name at no cost.
for _n, _j in I.items():
    globals()[f"S_{_n.upper()}"] = _j
S_PHASE0 = I["people_phase1"] - 1  # + phase (1..5)
S_COPING0 = I["people_coping0"]  # + stage (0..3)
S_MAL0 = I["u5_mal0"]  # + state (0..2)
S_HS_BIN0 = I["people_hs_bin0"]  # + bin (0..9)


@nb.njit(inline="always", cache=True)
def cell_of(female_head, marginalised, poorest, livelihood, displaced):
    return female_head + 2 * marginalised + 4 * poorest + 8 * livelihood + 32 * (displaced > 0)


def derived_sums(x: np.ndarray) -> dict[str, np.ndarray]:
    """Named float64 sums from raw sums ``x[..., N_SUMS]`` (phase, coping and
    malnutrition counts are recorded by category and added up here).

    Parameters
    ----------
    x : int64[..., N_SUMS]  raw sums, any leading shape (months, districts, cells)

    Returns
    -------
    dict  name -> float64[...]: every raw sum, plus ``people_ipc3plus``,
    ``people_ipc4plus``, ``people_ipc5``, ``people_negative_coping``,
    ``people_any_coping``, ``u5``, ``u5_malnourished``, ``u5_sam``, ``deaths`` (all
    causes) and ``people_hs_low`` (human-security index below 0.5)
    """
    xf = np.asarray(x).astype(np.float64)  # one conversion; the sums below are views of it
    col = lambda n: xf[..., I[n]]  # noqa: E731
    out = {n: col(n) for n in SUMS}
    out["people_ipc3plus"] = sum(col(f"people_phase{k}") for k in (3, 4, 5))
    out["people_ipc4plus"] = col("people_phase4") + col("people_phase5")
    out["people_ipc5"] = col("people_phase5")
    out["people_negative_coping"] = col("people_coping2") + col("people_coping3")
    out["people_any_coping"] = out["people_negative_coping"] + col("people_coping1")
    out["u5"] = col("u5_mal0") + col("u5_mal1") + col("u5_mal2")
    out["u5_malnourished"] = col("u5_mal1") + col("u5_mal2")
    out["u5_sam"] = col("u5_mal2")
    out["deaths"] = col("deaths_baseline") + col("deaths_starvation") + col("deaths_disease") + col("deaths_violence")
    out["people_hs_low"] = sum(col(f"people_hs_bin{k}") for k in range(5))
    return out
