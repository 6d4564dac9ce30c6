"""An INFORM-style district risk score from a run.

INFORM (the Inter-Agency Standing Committee's Index for Risk Management) rates
risk on three dimensions, each 0 (best) to 10 (worst), combined geometrically so
that a district is at high risk only where hazard, vulnerability and weak coping
meet. :func:`district_risk` builds the same three dimensions from what a run
recorded, per district, over the whole horizon:

Hazard & exposure (H)
    ``drought_frequency``
        share of months the district is in drought (``in_drought``); range [0, 0.5]
    ``conflict_events_per_1000_hh_year``
        conflict events per 1,000 households per year (``conflict_events``; the
        households are the district's real households from the scenario table,
        the scale conflict counts refer to); range [0, 5]
    ``infections_per_1000_people_year``
        new infections per 1,000 people per year (``new_infections`` / mean
        ``population``); range [0, 100]

Vulnerability (V)
    ``poverty``  mean ``poverty_frac``; range [0, 1]
    ``acute_malnutrition``  mean ``acute_malnutrition_frac`` (under-fives); range [0, 0.3]
        (0.15, the WHO emergency threshold of global acute malnutrition, scores 5)
    ``below_poverty_trap``  mean ``below_trap_frac``; range [0, 1]
    ``marginalised_ipc3plus``  mean ``ipc3plus_frac`` of the group ``marginalised``; range [0, 1]

Lack of coping capacity (L)
    ``lack_of_health_access``  1 - health access: the run's ``health_access_frac``
        (people-based), else its ``health_access_eff``, else the scenario's
        ``health_access``; range [0, 1]
    ``negative_coping``  mean ``negative_coping_frac``; range [0, 1]
    ``emergency_coping``  mean ``emergency_coping_hh_frac``; range [0, 0.25]
    ``lack_of_market_access``  1 - the scenario's ``market_access``, times
        (1 - mean ``market_disruption``) when the run records it; range [0, 1]

Scaling. Each component is scaled min-max over the *fixed* range stated above,
not over the districts of the run, so that scores can be compared between runs,
seeds, policies and scenarios::

    score = 10 * clip((x - lo) / (hi - lo), 0, 1)

Each dimension is the arithmetic mean of its available component scores, and::

    risk = (H * V * L) ** (1/3)

(geometric, as INFORM). ``rank`` 1 is the district at highest risk.

Missing components. A component whose indicator the run does not have, or whose
hazard module is not in the run's config (no ``kind: conflict`` or ``kind:
disease`` hazard; a configured but disabled hazard counts, with zero exposure),
or that needs a scenario table that cannot be read, is skipped, and a district
for which a component is undefined (e.g. no marginalised households) averages the
components it has. ``DataFrame.attrs["components"]`` lists every component with
its dimension, range and source, and ``attrs["skipped"]`` the skipped ones with
the reason. A dimension with no component at all is NaN, and so is the risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["district_risk", "COMPONENTS", "DIMENSIONS", "Component", "scale"]

DIMENSIONS = ("hazard_exposure", "vulnerability", "lack_of_coping_capacity")


@dataclass(frozen=True)
class Component:
    name: str
    dimension: str
    lo: float
    hi: float
    doc: str


COMPONENTS: tuple[Component, ...] = (
    Component("drought_frequency", "hazard_exposure", 0.0, 0.5, "share of months in drought"),
    Component(
        "conflict_events_per_1000_hh_year", "hazard_exposure", 0.0, 5.0, "conflict events per 1,000 households per year"
    ),
    Component(
        "infections_per_1000_people_year", "hazard_exposure", 0.0, 100.0, "new infections per 1,000 people per year"
    ),
    Component("poverty", "vulnerability", 0.0, 1.0, "mean share of people below the poverty line"),
    Component("acute_malnutrition", "vulnerability", 0.0, 0.3, "mean acute malnutrition prevalence, under-fives"),
    Component("below_poverty_trap", "vulnerability", 0.0, 1.0, "mean share of households below the poverty-trap line"),
    Component(
        "marginalised_ipc3plus", "vulnerability", 0.0, 1.0, "mean IPC3+ share of people in marginalised households"
    ),
    Component("lack_of_health_access", "lack_of_coping_capacity", 0.0, 1.0, "1 - share of people reaching health care"),
    Component(
        "negative_coping", "lack_of_coping_capacity", 0.0, 1.0, "mean share of people using crisis or emergency coping"
    ),
    Component(
        "emergency_coping", "lack_of_coping_capacity", 0.0, 0.25, "mean share of households using emergency coping"
    ),
    Component(
        "lack_of_market_access",
        "lack_of_coping_capacity",
        0.0,
        1.0,
        "1 - market access (scenario, less conflict disruption)",
    ),
)


def scale(x, lo: float, hi: float):
    """Min-max score on a fixed range: ``10 * clip((x - lo) / (hi - lo), 0, 1)`` (NaN stays NaN)."""
    return 10.0 * np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)


def _frame(results) -> pd.DataFrame:
    ts = results if isinstance(results, pd.DataFrame) else results.timeseries
    # only district rows of the groups used here (filtering the categoricals first is
    # much cheaper than turning a whole run's frame into strings)
    keep = ts["group"].isin(["all", "marginalised"]).to_numpy() & (ts["district"] != "all").to_numpy()
    ts = ts[keep]
    return pd.DataFrame(
        {
            "month": ts["month"].to_numpy(),
            "district": ts["district"].astype(str).to_numpy(),
            "group": ts["group"].astype(str).to_numpy(),
            "indicator": ts["indicator"].astype(str).to_numpy(),
            "value": ts["value"].to_numpy(dtype=np.float64),
        }
    )


def _by_district(
    ts: pd.DataFrame, indicator: str, districts: list[str], group: str = "all", how: str = "mean"
) -> pd.Series | None:
    """Per-district mean (or sum) over months of one indicator; None if the run lacks it."""
    sel = ts[(ts["indicator"] == indicator) & (ts["group"] == group) & (ts["district"] != "all")]
    if sel.empty:
        return None
    g = sel.groupby("district")["value"]
    s = g.mean() if how == "mean" else g.sum()
    return s.reindex(districts)


def _hazard_kinds(results) -> set[str] | None:
    """Kinds of the hazard modules in the run's config (enabled or not); None if unknown."""
    cfg = getattr(results, "config", None)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("hazards"), dict):
        return None
    return {str(v.get("kind", k)) if isinstance(v, dict) else str(k) for k, v in cfg["hazards"].items()}


def _load_scenario(results, scenario):
    """The scenario object, or None (with the reason)."""
    if scenario is not None:
        return scenario, ""
    cfg = getattr(results, "config", None)
    path = None
    if isinstance(cfg, dict):
        path = (cfg.get("scenario") or {}).get("path")
    if not path:
        return None, "no scenario table (pass scenario=)"
    try:
        from .scenario import load_scenario

        return load_scenario(path), ""
    except Exception as exc:  # noqa: BLE001 - a missing table only removes components
        return None, f"scenario table not readable ({exc})"


def district_risk(results, scenario: Any = None, components: bool = False) -> pd.DataFrame:
    """INFORM-style risk per district (see the module docstring for components and scaling).

    Parameters
    ----------
    results : Results or tidy DataFrame  (columns ``month, district, group, indicator, value``)
    scenario : Scenario, optional  district table for household counts, market and
        health access (default: read from ``results.config["scenario"]["path"]``;
        ``False`` for none)
    components : bool  also return each component's 0-10 score as a column

    Returns
    -------
    DataFrame  one row per district in scenario order: ``district, hazard_exposure,
    vulnerability, lack_of_coping_capacity, risk, rank`` (scores 0-10; rank 1 =
    highest risk), plus the component scores if asked. ``attrs["components"]`` and
    ``attrs["skipped"]`` document what was used.
    """
    ts = _frame(results)
    if scenario is False:
        scen, why_no_scen = None, "no scenario table (scenario=False)"
    else:
        scen, why_no_scen = _load_scenario(results, scenario)
    districts = list(getattr(results, "districts", ()) or ())
    if not districts:
        districts = list(dict.fromkeys(d for d in ts["district"] if d != "all"))
    if scen is not None and list(scen.names) != districts:
        missing = set(districts) - set(scen.names)
        if missing:
            scen, why_no_scen = None, f"scenario table does not name districts {sorted(missing)}"
    n_months = int(ts["month"].nunique()) if len(ts) else 0

    def scen_col(name: str) -> pd.Series:
        idx = {n: i for i, n in enumerate(scen.names)}
        return pd.Series([float(getattr(scen, name)[idx[d]]) for d in districts], index=districts)

    raw: dict[str, pd.Series] = {}
    source: dict[str, str] = {}
    skipped: dict[str, str] = {}

    def put(name: str, value: pd.Series | None, src: str, why: str) -> None:
        if value is None:
            skipped[name] = why
        else:
            raw[name] = value.astype(np.float64)
            source[name] = src

    # hazard & exposure: a hazard's component needs its indicator and, when the run's
    # config is known, a hazard module of that kind (configured, enabled or not)
    kinds = _hazard_kinds(results)

    def modelled(kind: str) -> str:
        return "" if kinds is None or kind in kinds else f"no {kind} hazard in the run's config"

    why = modelled("drought")
    put(
        "drought_frequency",
        None if why else _by_district(ts, "in_drought", districts),
        "mean in_drought",
        why or "run has no in_drought",
    )
    events = _by_district(ts, "conflict_events", districts, how="sum")
    if modelled("conflict"):
        put("conflict_events_per_1000_hh_year", None, "", modelled("conflict"))
    elif events is None:
        put("conflict_events_per_1000_hh_year", None, "", "run has no conflict_events")
    elif scen is None:
        put("conflict_events_per_1000_hh_year", None, "", f"households unknown: {why_no_scen}")
    else:
        rate = events / max(n_months, 1) * 12.0 / scen_col("households") * 1000.0
        put("conflict_events_per_1000_hh_year", rate, "conflict_events x 12 / months / scenario households x 1000", "")
    inf = _by_district(ts, "new_infections", districts, how="sum")
    pop = _by_district(ts, "population", districts)
    if modelled("disease"):
        put("infections_per_1000_people_year", None, "", modelled("disease"))
    elif inf is None or pop is None:
        put(
            "infections_per_1000_people_year",
            None,
            "",
            "run has no new_infections" if inf is None else "run has no population",
        )
    else:
        rate = inf / max(n_months, 1) * 12.0 / pop.where(pop > 0) * 1000.0
        put("infections_per_1000_people_year", rate, "new_infections x 12 / months / mean population x 1000", "")

    # vulnerability
    for name, ind, group in (
        ("poverty", "poverty_frac", "all"),
        ("acute_malnutrition", "acute_malnutrition_frac", "all"),
        ("below_poverty_trap", "below_trap_frac", "all"),
        ("marginalised_ipc3plus", "ipc3plus_frac", "marginalised"),
    ):
        where = f"mean {ind}" + (f" (group {group})" if group != "all" else "")
        put(
            name,
            _by_district(ts, ind, districts, group=group),
            where,
            f"run has no {ind}" + (f" for group {group}" if group != "all" else ""),
        )

    # lack of coping capacity
    health = _by_district(ts, "health_access_frac", districts)
    hsrc = "1 - mean health_access_frac"
    if health is None:
        health, hsrc = _by_district(ts, "health_access_eff", districts), "1 - mean health_access_eff"
    if health is None and scen is not None:
        health, hsrc = scen_col("health_access"), "1 - scenario health_access"
    put(
        "lack_of_health_access",
        None if health is None else 1.0 - health,
        hsrc,
        f"run has no health access indicator and {why_no_scen}",
    )
    put(
        "negative_coping",
        _by_district(ts, "negative_coping_frac", districts),
        "mean negative_coping_frac",
        "run has no negative_coping_frac",
    )
    put(
        "emergency_coping",
        _by_district(ts, "emergency_coping_hh_frac", districts),
        "mean emergency_coping_hh_frac",
        "run has no emergency_coping_hh_frac",
    )
    if scen is None:
        put("lack_of_market_access", None, "", why_no_scen)
    else:
        access = scen_col("market_access")
        disruption = _by_district(ts, "market_disruption", districts)
        msrc = "1 - scenario market_access"
        if disruption is not None:
            access = access * (1.0 - disruption.fillna(0.0))
            msrc += " x (1 - mean market_disruption)"
        put("lack_of_market_access", 1.0 - access, msrc, "")

    out = pd.DataFrame({"district": districts})
    scores: dict[str, np.ndarray] = {}
    for c in COMPONENTS:
        if c.name in raw:
            scores[c.name] = scale(raw[c.name].reindex(districts).to_numpy(), c.lo, c.hi)
    for dim in DIMENSIONS:
        cols = [scores[c.name] for c in COMPONENTS if c.dimension == dim and c.name in scores]
        if cols:
            stack = np.vstack(cols)
            n = np.sum(~np.isnan(stack), axis=0)
            total = np.nansum(stack, axis=0)
            out[dim] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        else:
            out[dim] = np.nan
    h, v, l_ = (out[d].to_numpy(dtype=np.float64) for d in DIMENSIONS)
    out["risk"] = (h * v * l_) ** (1.0 / 3.0)
    out["rank"] = out["risk"].rank(ascending=False, method="min").astype("Int64")
    if components:
        for name, s in scores.items():
            out[name] = s
    out.attrs["components"] = {
        c.name: {"dimension": c.dimension, "range": [c.lo, c.hi], "doc": c.doc, "source": source.get(c.name)}
        for c in COMPONENTS
        if c.name in raw
    }
    out.attrs["skipped"] = {c.name: skipped[c.name] for c in COMPONENTS if c.name in skipped}
    return out
