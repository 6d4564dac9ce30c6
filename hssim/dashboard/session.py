"""What the trainer dashboard simulates, free of any web framework.

A :class:`Pair` holds two runs, stepped together month by month by the runs layer's
:class:`~hssim.runs.lockstep.LockStep` (no Mesa), that differ **only in their response
policy**:

* ``prevention``: an anticipatory response on a forecast trigger (policy preset
  ``anticipatory_integrated``: readiness, then activation ``lead_months`` ahead);
* ``late``: a reactive response once food insecurity is observed, after an appeal
  (policy preset ``reactive_integrated``).

Both get the same seed, scenario, storyline, hazards, budget, coordination and
interventions. hssim's hazard streams never depend on the policy, so the two runs
see the same droughts, conflict events and epidemics draw for draw (common random
numbers): any gap between the two curves is what the earlier action did.

The dashboard's controls are a frozen :class:`Settings`; :func:`arm_config` turns
them into each arm's config (composed once per policy preset, then edited as a
plain mapping, so a slider change costs no Hydra composition), validated by hssim's
config schema like any run.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..outcomes import to_real
from ..runs.lockstep import LockStep
from ..runs.paths import set_path

__all__ = [
    "ARMS",
    "View",
    "ARM_LABELS",
    "ARM_POLICIES",
    "INTERVENTION_GROUPS",
    "PRESETS",
    "Pair",
    "Preset",
    "Settings",
    "arm_config",
    "money_frame",
]

#: the two arms, in display order
ARMS: tuple[str, ...] = ("prevention", "late")
ARM_LABELS: dict[str, str] = {"prevention": "Prevention (anticipatory)", "late": "Late response (reactive)"}
ARM_POLICIES: dict[str, str] = {"prevention": "anticipatory_integrated", "late": "reactive_integrated"}

#: the dashboard's intervention switches: label -> programmes of the standard portfolio
#: (each switch holds the reactive programmes and the pre-agreed anticipatory actions of
#: its kind: only the prevention arm's forecast trigger starts the ``aa_*`` ones)
INTERVENTION_GROUPS: dict[str, tuple[str, ...]] = {
    "cash": ("cash_food", "cash_protection", "aa_cash"),
    "food_aid": ("food_aid",),
    "nutrition": ("nutrition", "aa_nutrition"),
    "health_wash": ("health_response", "vaccination", "wash", "aa_wash"),
    "security": ("security",),
    "livestock": ("livestock", "aa_livestock", "aa_destocking"),
}
INTERVENTION_LABELS: dict[str, str] = {
    "cash": "Cash transfers",
    "food_aid": "Food assistance",
    "nutrition": "Malnutrition treatment",
    "health_wash": "Health, vaccination and WASH",
    "security": "Security and protection",
    "livestock": "Livestock support and destocking",
}


@dataclass(frozen=True)
class Preset:
    """A storyline preset: forced rain failures (1-based months of the horizon, inclusive)
    and the hazard settings that make the story."""

    label: str
    description: str
    droughts: tuple[tuple[int, int], ...]
    overrides: tuple[tuple[str, Any], ...] = ()


#: storyline presets; the drought severity slider sets every forced anomaly (sd below normal)
PRESETS: dict[str, Preset] = {
    "two_failed_seasons": Preset(
        "Two failed rainy seasons",
        "The October-December rains of year 2 and the March-May rains of year 3 fail everywhere "
        "(as in the Horn of Africa in 2010-11 and 2016-17).",
        ((22, 24), (27, 29)),
    ),
    "drought_then_cholera": Preset(
        "Drought then cholera",
        "The March-May rains of year 2 fail; water scarcity, crowding and malnutrition then meet a "
        "cholera strain imported more often and spreading faster than usual.",
        ((15, 17),),
        (("hazards.disease.importations_per_month", 4.0), ("hazards.disease.r0", 2.0)),
    ),
    "drought_raids_displacement": Preset(
        "Drought, raids and displacement",
        "Two failed seasons in a region with more livestock raiding and fragile security: scarcity "
        "fuels conflict, raids take herds, and fear drives households from home.",
        ((22, 24), (27, 29)),
        (
            ("hazards.conflict.baseline_scale", 2.5),
            ("hazards.conflict.raiding_frac", 0.6),
            ("couplings.drought_to_conflict", 2.0),
            ("couplings.conflict_to_displacement", 1.5),
        ),
    ),
    "no_forced_shock": Preset("No forced shock", "Rainfall as the climate draws it: no forced failure.", ()),
}


@dataclass(frozen=True)
class Settings:
    """The dashboard's controls.

    Parameters
    ----------
    preset : str  key of :data:`PRESETS`
    households : int  simulated households
    months : int  horizon, months (the storylines fit in 36)
    seed : int  seed of every random stream, shared by both arms
    drought_severity_sd : float  how far below normal the forced seasons fall, sd (0.5..3)
    lead_months : int  lead of the prevention arm's activation forecast, months (1..9);
        readiness is declared ``min(12, lead + 3)`` months ahead
    forecast_skill : float  forecast-truth correlation at lead 0 (0..0.99)
    coordination : float  0 siloed .. 1 integrated (both arms)
    budget_musd_per_year : float  money for the portfolio, million USD per year (both arms)
    interventions : tuple of str  switched-on keys of :data:`INTERVENTION_GROUPS`
    """

    preset: str = "two_failed_seasons"
    households: int = 20_000
    months: int = 36
    seed: int = 1
    drought_severity_sd: float = 2.0
    lead_months: int = 3
    forecast_skill: float = 0.8
    coordination: float = 1.0
    budget_musd_per_year: float = 20.0
    interventions: tuple[str, ...] = tuple(INTERVENTION_GROUPS)

    def __post_init__(self) -> None:
        def check(name: str, ok: bool, expected: str) -> None:
            if not ok:
                raise ConfigError(f"dashboard.{name}", getattr(self, name), expected)

        check("preset", self.preset in PRESETS, f"one of {', '.join(PRESETS)}")
        check("households", isinstance(self.households, int) and 100 <= self.households <= 1_000_000, "an integer in [100, 1000000]")
        last = max((b for _, b in PRESETS[self.preset].droughts), default=1) if self.preset in PRESETS else 1
        check("months", isinstance(self.months, int) and last <= self.months <= 240, f"an integer in [{last}, 240] (the storyline's last forced month is {last})")
        check("seed", isinstance(self.seed, int) and 0 <= self.seed < 2**63, "an integer >= 0")
        check("drought_severity_sd", 0.0 <= self.drought_severity_sd <= 5.0, "a number in [0, 5]")
        check("lead_months", isinstance(self.lead_months, int) and 0 <= self.lead_months <= 12, "an integer in [0, 12]")
        check("forecast_skill", 0.0 <= self.forecast_skill <= 0.999, "a number in [0, 0.999]")
        check("coordination", 0.0 <= self.coordination <= 1.0, "a number in [0, 1]")
        check("budget_musd_per_year", 0.0 <= self.budget_musd_per_year <= 1e6, "a number in [0, 1000000]")
        bad = [k for k in self.interventions if k not in INTERVENTION_GROUPS]
        check("interventions", not bad, f"keys among {', '.join(INTERVENTION_GROUPS)}")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@functools.lru_cache(maxsize=8)
def _composed(policy: str) -> dict:
    """The composed default config with a policy preset, as a plain mapping (cached:
    Hydra composition takes a few tenths of a second)."""
    from omegaconf import OmegaConf

    from ..runs.compose import compose

    return OmegaConf.to_container(compose([f"policy={policy}"]), resolve=True)


def arm_config(settings: Settings, arm: str) -> dict:
    """The config mapping of one arm (validated later by ``hssim.load_config``)."""
    if arm not in ARM_POLICIES:
        raise ValueError(f"arm must be one of {ARMS}, not {arm!r}")
    s = settings
    cfg = copy.deepcopy(_composed(ARM_POLICIES[arm]))
    preset = PRESETS[s.preset]
    cfg["seed"] = s.seed
    cfg["months"] = s.months
    cfg["population"]["households"] = s.households
    cfg["storyline"] = {
        "name": s.preset,
        "description": preset.description,
        "events": [{"start": a, "end": b, "anomaly": -float(s.drought_severity_sd)} for a, b in preset.droughts],
    }
    for path, value in preset.overrides:
        set_path(cfg, path, value, where=f"dashboard.preset.{s.preset}")
    pol = cfg["policy"]
    pol["coordination"] = float(s.coordination)
    pol["budget_usd_per_year"] = float(s.budget_musd_per_year) * 1e6
    pol["forecast"]["skill"] = float(s.forecast_skill)
    pol["trigger"]["lead_months"] = int(s.lead_months)
    pol["trigger"]["readiness_lead_months"] = min(12, int(s.lead_months) + 3)
    for group, programmes in INTERVENTION_GROUPS.items():
        for name in programmes:
            if name in cfg["interventions"]:
                cfg["interventions"][name]["enabled"] = group in s.interventions
    cfg["output"]["figure"] = False
    return cfg


class Pair:
    """The two arms on the same draws, stepped together one month at a time.

    A thin layer over :class:`~hssim.runs.lockstep.LockStep` (arms :data:`ARMS`, one
    seed) that never steps past the horizon. Thread-safe: the dashboard steps it from a
    play thread while a page event may read it.

    Parameters
    ----------
    settings : Settings

    Attributes
    ----------
    lockstep : hssim.runs.LockStep  the two arms (engines, reporters, results)
    build_s : float  seconds spent building both arms (configs, engines, spin-up)
    """

    def __init__(self, settings: Settings) -> None:
        t0 = time.perf_counter()
        self.settings = settings
        self.lock = threading.RLock()
        self.lockstep = LockStep({arm: arm_config(settings, arm) for arm in ARMS}, seed=settings.seed)
        self._trigger_rows: list[dict] = []  # one per arm and month: districts under each signal
        self.build_s = time.perf_counter() - t0

    @property
    def engines(self) -> dict:
        """arm -> :class:`hssim.engine.Engine`."""
        return self.lockstep.engines

    @property
    def real_households_per_simulated(self) -> float:
        """Real households per simulated one (the same in both arms)."""
        return self.lockstep.real_households_per_simulated[ARMS[0]]

    @property
    def month(self) -> int:
        return self.lockstep.month

    @property
    def months(self) -> int:
        return self.settings.months

    @property
    def done(self) -> bool:
        return self.month >= self.months

    def step(self, n: int = 1) -> int:
        """Advance both arms ``n`` months (fewer at the horizon); returns the months stepped."""
        with self.lock:
            k = max(0, min(n, self.months - self.month))
            for _ in range(k):
                self.lockstep.step(1)
                for arm in ARMS:  # the trigger's state this month (district fields of the month)
                    ds = self.engines[arm].districts
                    self._trigger_rows.append({"arm": arm, "month": self.month,
                                               **{sig: int((ds[sig] > 0).sum()) for sig in TRIGGER_SIGNALS}})
            return k

    def advance_to(self, month: int) -> None:
        self.step(max(0, min(month, self.months) - self.month))

    def frame(self) -> pd.DataFrame:
        """Reporters of both arms: one row per arm and month (columns ``arm`` + the reporters)."""
        with self.lock:
            return self.lockstep.frame()

    def districts(self) -> pd.DataFrame:
        """The latest month by district for both arms (empty before the first month)."""
        with self.lock:
            return self.lockstep.district_frame()

    def triggers(self) -> pd.DataFrame:
        """Per arm and month, how many districts were under each signal of
        :data:`TRIGGER_SIGNALS` (readiness, the drought trigger's activation, the observed
        food-insecurity alert)."""
        with self.lock:
            return pd.DataFrame(self._trigger_rows, columns=["arm", "month", *TRIGGER_SIGNALS])

    def money(self) -> pd.DataFrame:
        """Both arms' money month by month (:func:`money_frame`), real USD."""
        with self.lock:
            parts = [money_frame(self.engines[arm], self.month).assign(arm=arm) for arm in ARMS]
        return pd.concat(parts, ignore_index=True)

    def view(self) -> View:
        """Everything the page shows, read at one month (under the lock: a play thread
        stepping the pair cannot move it half-way through)."""
        with self.lock:
            frame = self.frame()
            return View(month=self.month, months=self.months, frame=frame, districts=self.districts(),
                        money=self.money(), triggers=self.triggers(), headline=self.headline(frame),
                        n_districts=int(self.engines[ARMS[0]].scenario.n_districts))

    def headline(self, frame: pd.DataFrame | None = None) -> dict[str, float]:
        """What prevention bought so far: late minus prevention (positive = prevention better),
        and per million USD of extra spend where prevention spent clearly more."""
        f = self.frame() if frame is None else frame
        if f.empty:
            return {}
        by = {arm: f[f.arm == arm] for arm in ARMS}
        scale = self.real_households_per_simulated

        def last(arm: str, col: str) -> float:
            return float(by[arm][col].iloc[-1])

        def total(arm: str, col: str) -> float:
            return float(by[arm][col].sum())

        people = {arm: by[arm]["ipc3plus_frac"].to_numpy() for arm in ARMS}
        # reporters of simulated counts scaled to the real population as the catalogue says
        h = {
            "month": int(f["month"].max()),
            "deaths_averted": to_real("deaths_cumulative", last("late", "deaths_cumulative") - last("prevention", "deaths_cumulative"), scale),
            "ipc3plus_frac_gap_mean": float(np.mean(people["late"] - people["prevention"])),
            "displaced_household_months_averted": to_real("displaced_households", total("late", "displaced_households") - total("prevention", "displaced_households"), scale),
            "cost_usd_prevention": to_real("cost_usd_cumulative", last("prevention", "cost_usd_cumulative"), scale),
            "cost_usd_late": to_real("cost_usd_cumulative", last("late", "cost_usd_cumulative"), scale),
        }
        h["extra_cost_usd"] = h["cost_usd_prevention"] - h["cost_usd_late"]
        h["ipc3plus_share_months_averted"] = h["ipc3plus_frac_gap_mean"] * len(people["late"])
        # one run, no interval: a per-dollar figure only where the extra spend is clearly
        # money (more than 1% of what the late response spent), else undefined
        clear = h["extra_cost_usd"] > max(0.01 * h["cost_usd_late"], 1.0)
        musd = h["extra_cost_usd"] / 1e6
        h["deaths_averted_per_musd"] = h["deaths_averted"] / musd if clear else float("nan")
        h["ipc3plus_share_months_averted_per_musd"] = h["ipc3plus_share_months_averted"] / musd if clear else float("nan")
        return h


#: the district signals the dashboard follows (``ready_drought``: readiness declared;
#: ``alert_drought``: the drought trigger's activation; ``alert_food``: observed food insecurity)
TRIGGER_SIGNALS: tuple[str, ...] = ("ready_drought", "alert_drought", "alert_food")


@dataclass(frozen=True)
class View:
    """What the page shows at one month: every card, chart and label reads this, so they
    always agree on the month.

    Attributes
    ----------
    month, months : int  months simulated, horizon
    frame : DataFrame  :meth:`Pair.frame`
    districts : DataFrame  :meth:`Pair.districts`
    money : DataFrame  :meth:`Pair.money`
    triggers : DataFrame  :meth:`Pair.triggers`
    headline : dict  :meth:`Pair.headline` (empty at month 0)
    n_districts : int
    """

    month: int
    months: int
    frame: pd.DataFrame
    districts: pd.DataFrame
    money: pd.DataFrame
    triggers: pd.DataFrame
    headline: dict
    n_districts: int


def money_frame(engine, months: int) -> pd.DataFrame:
    """An arm's money over its first ``months`` months, real USD, from its response module.

    Columns ``month`` (1-based); ``spent_usd`` (cumulative: deliveries, set-ups,
    coordination); ``held_usd`` (budget money in the accounts at the month's end: what
    siloed sector accounts strand shows here); ``earmarked_usd`` (reserve and appeal money
    released to programmes, not yet spent); ``reserve_available_usd`` (this year's
    contingency reserve not yet released: the year's reserve, less what was released since
    the year began, plus what came back unspent); ``reserve_released_usd`` and
    ``appeal_received_usd`` (cumulative). All zero for an arm without a response.
    """
    from ..policies.response import Response

    resp = next((mod for mod in engine.modules if isinstance(mod, Response)), None)
    month = np.arange(1, months + 1)
    zero = np.zeros(months)
    if resp is None or not hasattr(resp, "cost"):
        return pd.DataFrame({"month": month, "spent_usd": zero, "held_usd": zero, "earmarked_usd": zero,
                             "reserve_available_usd": zero, "reserve_released_usd": zero, "appeal_received_usd": zero})
    released = resp.reserve_released_usd[:months]
    returned = resp.reserve_returned_usd[:months]
    year_start = (month - 1) // 12 * 12
    net = np.cumsum(released - returned)
    before = np.where(year_start > 0, net[np.maximum(year_start - 1, 0)], 0.0)
    reserve = resp.policy.finance.reserve_usd_per_year - (net - before)
    spent = resp.monthly_spend_usd(months)
    return pd.DataFrame({
        "month": month,
        "spent_usd": np.cumsum(spent),
        "held_usd": resp.held_usd[:months],
        "earmarked_usd": resp.earmarked_usd[:months],
        "reserve_available_usd": np.maximum(reserve, 0.0) if resp.policy.finance.reserve_usd_per_year > 0 else zero,
        "reserve_released_usd": np.cumsum(released),
        "appeal_received_usd": np.cumsum(resp.appeal_received_usd[:months]),
    })
