"""Early warning: drought forecasts and triggers, and the food, conflict and disease signals.

Runs in the POLICY phase, after the hazards and couplings of the month and before
the ALLOCATION phase that turns the signals into money and targeting. Every tick it
writes the district fields (float64[D]) ``drought_probability``, ``ready_drought``,
``alert_drought``, ``alert_food``, ``alert_conflict``, ``alert_disease`` and
``reported_cases``.

Drought forecasts (generated from the simulated future)
--------------------------------------------------------
The drought hazard is exogenous (it depends on the seed, the drought config, the
scenario, the storyline and the calendar, never on policy), so at ``init`` the whole
index series ``z_d(t)`` (the drought module's ``spi``) is simulated for ticks
``0 .. n_ticks + 15`` with :func:`hssim.hazards.drought.simulate_index` (bit-identical
to what the module will write; beyond the horizon the process goes on unforced).
The forecast issued at tick ``t`` for lead ``L`` is::

    rho_L  = skill exp(-L / skill_decay_months)
    f_d(t) = rho_L z_d(t + L) + sqrt(1 - rho_L^2) eps_d(t, L)
    p_d(t) = P(z <= c | f) = Phi((c - rho_L f_d(t)) / sqrt(1 - rho_L^2))

with ``c`` the drought module's ``drought_spi`` and ``eps`` standard normal from
the counter-based stream ``ew.forecast`` (key ``stream_key(seed, "ew.forecast", t)``,
index district, slots ``2 L`` and ``2 L + 1``: a normal draw takes two slots, so each
lead has its own pair). ``eps`` never depends on policy: policy arms with the same
seed see the same forecasts (common random numbers). In a stationary climate
``z ~ N(0, 1)`` and ``(z, f)`` are bivariate normal with correlation ``rho_L``, so
``z | f ~ N(rho_L f, 1 - rho_L^2)`` and ``p`` is reliable: among forecasts saying
``p`` the event happens with frequency ``p``. (With a trend or a storyline the
forecaster still uses climatology, as a real one calibrated on the past would.)

Triggers (``alert_drought``, ``ready_drought``)
------------------------------------------------
Per district ``d`` the condition is

- ``probability``: ``p_d(t; lead_months) >= probability``;
- ``two_stage``: activation as ``probability``; readiness when
  ``p_d(t; readiness_lead_months) >= readiness_probability``. A readiness declared
  at ``t`` stays in force through ``t + readiness_lead_months - lead_months`` (the
  tick at which the activation forecast for the same target month is issued), so
  ``ready_drought`` is on when the activation it prepares for comes;
- ``calibrated``: ``p_d(t; lead_months) >= threshold`` with the threshold of
  :func:`calibrate_threshold` on a hindcast (below); with ``return_periods`` the
  ``probability`` and ``two_stage`` kinds set their thresholds the same way (activation
  at ``target_frequency``, readiness at ``readiness_frequency`` of district-years, each
  on the hindcast's forecasts at its own lead);
- ``observed`` (reactive): ``spi_d(t - lag) <= observed_threshold`` or
  ``ipc3plus_d(t - lag) >= observed_threshold`` (``observed_indicator``).

With ``area_fraction`` > 0 the condition is evaluated region-wide: every district
fires when the districts meeting it hold at least that share of the region's people
(members alive, by location, this month), none otherwise. Without an enabled drought
module the probability is 0 and neither ``alert_drought`` nor ``ready_drought`` is
ever on (whatever the kind). For ``two_stage`` the area rule applies to readiness too.

Hindcast calibration
--------------------
``hindcast_years`` years of the same climate (drought config without trend, no
storyline, the scenario's calendar) are simulated with the seed
``hindcast_seed(seed) = stream_key(seed, "ew.hindcast", 0)``, and forecasts issued
with their own ``eps`` (stream ``ew.forecast`` under that seed). For each
district-year (12 consecutive issue months) the maximum probability at
``lead_months`` is taken; of the ``N = hindcast_years * D`` maxima the threshold is
chosen so that ``>=`` fires in exactly ``K = round(target_frequency N)`` (half up):
the midpoint between the ``K``-th and ``(K + 1)``-th largest maxima. Ties that straddle
the cut cannot be split; then the threshold fires either the maxima strictly above
the tied value or all from the tied value up, whichever count is nearer ``K``
(equal distance: the fewer firings).

Other signals
-------------
- ``alert_food``: ``ipc3plus_d(t - lag) >= food_ipc3plus_threshold``, with
  ``ipc3plus_d`` the share of people (members alive, by location) in households of
  IPC phase 3+; read from the household arrays at the POLICY phase, i.e. the phases
  of last month's household update.
- information lag of the observed food indicator and of an observed trigger::

      lag = round_half_up((1 - c) sector_info_lag_months["food_security"] + c joint_info_lag_months)

  with ``c = coordination_level`` (siloed sectors see old data; the joint assessment
  has its own lag). Before ``lag`` months are known there is no observation and no
  alert.
- ``alert_conflict``: ``events_d(t) >= conflict_min_events`` and
  ``events_d(t) >= conflict_escalation_multiple * usual_d`` with ``events`` this
  month's ``conflict_events`` (written in the HAZARD phase) and ``usual`` the
  conflict module's :meth:`~hssim.hazards.conflict.Conflict.usual_rate`; never
  without an enabled conflict module.
- surveillance: ``reported_cases_d(t) ~ Binomial(new_infections_d(t - delay), sens_d)``
  with ``sens_d = sensitivity + (1 - sensitivity) surveillance_gain_d`` (community
  health workers; the gain is last month's, written in the INTERVENTION phase),
  drawn by inversion at ``u = uniform(stream_key(seed, "ew.surveillance", t), d, 0)``;
  ``alert_disease`` when at least one case is reported and reported cases per
  10,000 people (by location) reach ``disease_alert_per_10k``.

An observed trigger on ``ipc3plus_frac`` watches need, not weather: it raises the
food-security signal (``alert_food``), so it activates the programmes that answer need
(not those keyed to the drought hazard); every other trigger raises ``alert_drought``.

Evaluation
----------
A trigger is scored against what it targets (:attr:`EarlyWarning.target`): a drought
for forecast and observed-index triggers, need for an observed-need trigger.
Over the horizon (``ti >= spinup``): an *activation* is the first month of a run of
consecutive months with the trigger on (a run in progress at the first horizon
month starts there). It is a *hit* when a drought month (``in_drought``) falls in
``[t, t + lead_months + 3]`` (months after the horizon come from the simulated
series), else a *false alarm*. For need the target months are those whose true IPC3+
share (members alive, by location) is at the trigger's threshold, and an activation at
``t`` answers the need of ``[t - lag, t + 3]`` (it was observed ``lag`` months late). A drought *episode* is a maximal run of drought
months within the horizon; it is *detected* when an activation in the district falls
in ``[start - lead_months - 3, end]``, else it is a *miss*. See :meth:`EarlyWarning.evaluation`.

Random streams: ``ew.forecast`` (index district, slots ``2 L, 2 L + 1``),
``ew.hindcast`` (seed of the hindcast), ``ew.surveillance`` (index district, slot 0).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pandas as pd
from scipy.special import ndtr

from .. import rng
from ..hazards.drought import DroughtConfig
from ..module import Module
from ..phases import Phase
from .schema import ForecastConfig, PolicyConfig

__all__ = [
    "FIELDS",
    "EarlyWarning",
    "area_trigger",
    "binomial_draw",
    "calibrate_threshold",
    "evaluate_alerts",
    "forecast_eps",
    "forecast_probability",
    "forecast_rho",
    "hindcast_max_probability",
    "hindcast_seed",
    "info_lag_months",
    "issue_forecasts",
    "surveillance_reports",
]

#: the district fields written, float64[D] each
FIELDS = (
    "drought_probability",
    "ready_drought",
    "alert_drought",
    "alert_food",
    "alert_conflict",
    "alert_disease",
    "reported_cases",
)
#: months after the lead within which a drought makes an activation a hit
HIT_MARGIN_MONTHS = 3
#: ticks simulated past the horizon: the longest lead (12) + HIT_MARGIN_MONTHS + 1
FUTURE_TICKS = 16


# -- forecasts -------------------------------------------------------------------------
def forecast_rho(forecast: ForecastConfig, lead: int) -> float:
    """Forecast-truth correlation ``rho_L = skill exp(-L / skill_decay_months)`` at lead ``L`` months."""
    return float(forecast.skill * math.exp(-lead / forecast.skill_decay_months))


@nb.njit(cache=True)
def _normals_by_tick(keys, n, slot):
    """float64[T, n] standard normals: row t from key ``keys[t]``, index i, slots ``slot, slot + 1``."""
    out = np.empty((keys.size, n), np.float64)
    for t in range(keys.size):
        for i in range(n):
            out[t, i] = rng.normal(keys[t], i, slot)
    return out


def forecast_eps(seed: int, n_ticks: int, n_districts: int, lead: int) -> np.ndarray:
    """float64[n_ticks, n_districts] forecast noise ``eps_d(t, L)`` of the issue ticks ``0..n_ticks-1``.

    Stream ``ew.forecast`` keyed by the issue tick, index district, slots ``2 L`` and
    ``2 L + 1``. Depends only on ``(seed, t, d, L)``: never on policy.
    """
    keys = rng.stream_keys(seed, "ew.forecast", np.arange(n_ticks))
    return _normals_by_tick(keys, n_districts, 2 * lead)


def forecast_probability(f: np.ndarray, rho: float, threshold: float) -> np.ndarray:
    """Probability of drought given the forecast signal, ``Phi((c - rho f) / sqrt(1 - rho^2))``.

    Parameters
    ----------
    f : float64[...]  forecast signal, sd units
    rho : float  forecast-truth correlation, ``0 <= rho < 1``
    threshold : float  drought threshold ``c`` of the index, sd
    """
    return ndtr((threshold - rho * np.asarray(f)) / math.sqrt(1.0 - rho * rho))


def issue_forecasts(
    spi: np.ndarray, seed: int, forecast: ForecastConfig, lead: int, drought_spi: float, n_issue: int
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts issued at ticks ``0..n_issue-1`` for the index ``lead`` months ahead.

    Parameters
    ----------
    spi : float64[T, D]  the index series (``T >= n_issue + lead``), sd
    seed : int  seed of the ``ew.forecast`` stream
    forecast : ForecastConfig  skill and its decay
    lead : int  months
    drought_spi : float  drought threshold of the index, sd
    n_issue : int  number of issue ticks

    Returns
    -------
    f : float64[n_issue, D]  forecast signal ``rho z(t + L) + sqrt(1 - rho^2) eps``, sd
    p : float64[n_issue, D]  probability that ``z(t + L) <= drought_spi``
    """
    if spi.shape[0] < n_issue + lead:
        raise ValueError(f"the index series has {spi.shape[0]} ticks; {n_issue + lead} needed")
    rho = forecast_rho(forecast, lead)
    eps = forecast_eps(seed, n_issue, spi.shape[1], lead)
    f = rho * spi[lead : lead + n_issue] + math.sqrt(1.0 - rho * rho) * eps
    return f, forecast_probability(f, rho, drought_spi)


# -- hindcast calibration ----------------------------------------------------------------
def hindcast_seed(seed: int) -> int:
    """Seed of the hindcast climate, derived from the run's seed (stream ``ew.hindcast``)."""
    return int(rng.stream_key(seed, "ew.hindcast", 0))


def hindcast_max_probability(
    drought: DroughtConfig,
    xy_km: np.ndarray,
    rain_clim_mm: np.ndarray,
    seed: int,
    years: int,
    forecast: ForecastConfig,
    lead: int,
    start_calendar_month: int = 1,
) -> np.ndarray:
    """float64[years, D] maximum monthly forecast probability of each district-year of a hindcast.

    The hindcast climate is the drought config without trend and without storyline,
    simulated with ``seed`` (pass :func:`hindcast_seed` of the run's seed); forecasts
    use the ``ew.forecast`` stream under the same seed. A year is 12 consecutive issue
    months from ``start_calendar_month``.

    Parameters
    ----------
    drought : DroughtConfig
    xy_km : float64[D, 2]  district centroids, km
    rain_clim_mm : float64[D, 12]  climatological rainfall, mm
    seed : int  seed of the hindcast (its climate and its forecast noise)
    years : int  hindcast length, years
    forecast : ForecastConfig
    lead : int  lead of the trigger's forecast, months
    start_calendar_month : int  calendar month 1..12 of the first issue month
    """
    from ..hazards.drought import simulate_index

    n_issue = 12 * years
    _, spi = simulate_index(
        drought,
        xy_km,
        rain_clim_mm,
        seed,
        n_issue + lead,
        spinup=0,
        start_calendar_month=start_calendar_month,
        trend=False,
    )
    _, p = issue_forecasts(spi, seed, forecast, lead, drought.drought_spi, n_issue)
    return p.reshape(years, 12, -1).max(axis=1)


def calibrate_threshold(max_probability: np.ndarray, target_frequency: float) -> float:
    """Threshold at which ``max_probability >= threshold`` fires in ``round(target_frequency N)`` of N cases.

    ``K = floor(target_frequency N + 0.5)``. With the maxima sorted from the largest,
    ``v_1 >= v_2 >= ...``, the threshold is the midpoint of ``v_K`` and ``v_(K+1)``
    (``v_K`` itself if the two are adjacent floats), so exactly ``K`` fire. ``K = 0``:
    just above the largest; ``K = N``: the smallest. A tie straddling the cut
    (``v_K == v_(K+1)``) cannot be split: the threshold then fires either the values
    strictly above the tied value (midpoint to the next larger one) or all from the
    tied value up (the tied value), whichever count is nearer ``K``; at equal
    distance the fewer firings.

    Parameters
    ----------
    max_probability : float64[...]  per district-year maximum forecast probability
    target_frequency : float  share of district-years that should fire, in (0, 1)

    Returns
    -------
    float  the probability threshold
    """
    v = np.sort(np.asarray(max_probability, dtype=np.float64).ravel())[::-1]
    N = v.size
    if N == 0:
        raise ValueError("no hindcast values to calibrate on")
    K = math.floor(target_frequency * N + 0.5)
    if K <= 0:
        return float(np.nextafter(v[0], np.inf))
    if K >= N:
        return float(v[-1])
    a, b = v[K - 1], v[K]
    if a > b:
        mid = 0.5 * (a + b)
        return float(mid if mid > b else a)
    # tie across the cut
    above = v[v > a]
    n_above = above.size
    n_from = int(np.count_nonzero(v >= a))
    if K - n_above <= n_from - K:
        if n_above == 0:
            return float(np.nextafter(a, np.inf))
        nxt = above.min()
        mid = 0.5 * (nxt + a)
        return float(mid if mid > a else nxt)
    return float(a)


# -- small pure helpers --------------------------------------------------------------------
def info_lag_months(policy: PolicyConfig) -> int:
    """Lag of the observed food indicator and of an observed trigger, months.

    ``round_half_up((1 - c) sector_info_lag_months["food_security"] + c joint_info_lag_months)``
    with ``c = policy.coordination_level``.
    """
    c = policy.coordination_level
    x = (1.0 - c) * policy.sector_info_lag_months["food_security"] + c * policy.joint_info_lag_months
    return math.floor(x + 0.5 + 1e-9)


def area_trigger(condition: np.ndarray, people: np.ndarray, area_fraction: float) -> np.ndarray:
    """bool[D] the trigger per district, with the area rule.

    Parameters
    ----------
    condition : bool[D]  districts meeting the trigger condition
    people : float64[D]  members alive by location, people
    area_fraction : float  0: each district on its own; > 0: all districts fire when
        those meeting the condition hold at least this share of the people, none otherwise
    """
    condition = np.asarray(condition, dtype=bool)
    if area_fraction <= 0.0:
        return condition.copy()
    total = people.sum()
    fire = total > 0 and people[condition].sum() >= area_fraction * total
    return np.full(condition.shape, bool(fire))


@nb.njit(cache=True)
def binomial_draw(u, n, p):
    """Binomial(n, p) variate by inversion at ``u``: the smallest k with CDF(k) >= u.

    Robust for large ``n`` (where ``q^n`` underflows and a walk from 0 fails): the
    probabilities are built outward from the mode (log-gamma) over
    ``mean +- 40 sd`` (the mass outside is below 1e-300) and summed from below.
    ``p >= 1`` returns ``n`` exactly; ``p <= 0`` or ``n <= 0`` returns 0.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    q = 1.0 - p
    mean = n * p
    sd = math.sqrt(n * p * q)
    lo = max(0, int(mean - 40.0 * sd) - 1)
    hi = min(n, int(mean + 40.0 * sd) + 2)
    m = min(max(int((n + 1) * p), lo), hi)
    w = np.empty(hi - lo + 1)
    w[m - lo] = math.exp(
        math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0) + m * math.log(p) + (n - m) * math.log(q)
    )
    ratio = p / q
    for k in range(m, hi):
        w[k + 1 - lo] = w[k - lo] * (n - k) / (k + 1.0) * ratio
    for k in range(m, lo, -1):
        w[k - 1 - lo] = w[k - lo] * k / (n - k + 1.0) / ratio
    cdf = 0.0
    for i in range(w.size):
        cdf += w[i]
        if u <= cdf:
            return lo + i
    return hi


@nb.njit(cache=True)
def people_by_location(location, members, ipc_phase, n_districts):
    """float64[D] people by location, and of them those in IPC phase 3 or worse
    (integer counts, so the same as adding them up in any order)."""
    people = np.zeros(n_districts, np.int64)
    ipc3 = np.zeros(n_districts, np.int64)
    for i in range(location.size):
        people[location[i]] += members[i]
        if ipc_phase[i] >= 3:
            ipc3[location[i]] += members[i]
    return people.astype(np.float64), ipc3.astype(np.float64)


@nb.njit(cache=True)
def surveillance_reports(key, infections, sensitivity):
    """float64[D] reported cases: ``Binomial(round(infections_d), sensitivity_d)``.

    Parameters
    ----------
    key : uint64  ``stream_key(seed, "ew.surveillance", t)``; index district, slot 0
    infections : float64[D]  infections to report (those of ``t - delay``), people
    sensitivity : float64[D]  chance that an infection is reported
    """
    out = np.zeros(infections.size, np.float64)
    for d in range(infections.size):
        n = int(infections[d] + 0.5)
        out[d] = binomial_draw(rng.uniform(key, d, 0), n, sensitivity[d])
    return out


# -- evaluation ----------------------------------------------------------------------------
def evaluate_alerts(alert: np.ndarray, drought: np.ndarray, lead: int) -> tuple[dict, dict]:
    """Hits, false alarms and misses of a drought trigger.

    Parameters
    ----------
    alert : bool[M, D]  trigger on, horizon months ``0..M-1``
    drought : bool[M2, D]  drought months, ``M2 >= M`` (months ``>= M`` are after
        the horizon: they judge late activations only)
    lead : int  the trigger's lead, months; the hit window is ``lead + 3``

    Returns
    -------
    summary : dict  activations, hits, false_alarms, episodes, detected, misses,
        hit_rate (detected / episodes), false_alarm_ratio (false_alarms / activations);
        the rates are NaN when their denominator is 0
    details : dict  ``act_month``, ``act_district`` (int64[n]), ``act_hit`` (bool[n]):
        activations by month then district; ``ep_start``, ``ep_end``,
        ``ep_district`` (int64[m]) and ``ep_detected`` (bool[m]): episodes
    """
    alert = np.asarray(alert, dtype=bool)
    drought = np.asarray(drought, dtype=bool)
    M, D = alert.shape
    window = lead + HIT_MARGIN_MONTHS
    prev = np.zeros_like(alert)
    prev[1:] = alert[:-1]
    act_month, act_district = np.nonzero(alert & ~prev)
    act_hit = np.array([drought[t : t + window + 1, d].any() for t, d in zip(act_month, act_district)], dtype=bool)
    dr = drought[:M]
    ep_start, ep_end, ep_district, ep_detected = [], [], [], []
    for d in range(D):  # districts, not households
        x = np.concatenate(([False], dr[:, d], [False])).astype(np.int8)
        starts = np.nonzero(np.diff(x) == 1)[0]
        ends = np.nonzero(np.diff(x) == -1)[0] - 1
        acts = act_month[act_district == d]
        for s, e in zip(starts, ends):
            ep_start.append(s)
            ep_end.append(e)
            ep_district.append(d)
            ep_detected.append(bool(np.any((acts >= s - window) & (acts <= e))))
    n_act, n_hit = int(act_hit.size), int(act_hit.sum())
    n_ep, n_det = len(ep_detected), int(sum(ep_detected))
    summary = {
        "activations": n_act,
        "hits": n_hit,
        "false_alarms": n_act - n_hit,
        "episodes": n_ep,
        "detected": n_det,
        "misses": n_ep - n_det,
        "hit_rate": n_det / n_ep if n_ep else float("nan"),
        "false_alarm_ratio": (n_act - n_hit) / n_act if n_act else float("nan"),
    }
    details = {
        "act_month": act_month.astype(np.int64),
        "act_district": act_district.astype(np.int64),
        "act_hit": act_hit,
        "ep_start": np.array(ep_start, np.int64),
        "ep_end": np.array(ep_end, np.int64),
        "ep_district": np.array(ep_district, np.int64),
        "ep_detected": np.array(ep_detected, bool),
    }
    return summary, details


# -- the module ----------------------------------------------------------------------------
class EarlyWarning(Module):
    """Forecasts, triggers and warnings (POLICY phase).

    Parameters
    ----------
    policy : PolicyConfig  its ``forecast``, ``trigger``, ``warnings``, coordination
        and information lags are used
    name : str  module name

    Attributes (after ``init``)
    ---------------------------
    threshold : float  probability threshold in force for the forecast triggers
        (``trigger.probability``; the hindcast's for ``calibrated`` or with
        ``return_periods``, ``inf`` without drought; ``observed_threshold`` for ``observed``)
    readiness_threshold : float  the readiness threshold (``readiness_probability``, or
        the hindcast's at ``readiness_frequency`` with ``return_periods``)
    lag : int  information lag of the observed indicators, months
    spi_future : float64[n_ticks + 16, D]  the simulated index series (zeros without drought)
    eps, eps_ready : float64[n_ticks, D]  forecast noise at the lead and at the readiness lead
    signal, probability : float64[n_ticks, D]  forecast signal and probability at the lead
    probability_ready : float64[n_ticks, D]  probability at the readiness lead
    history : dict of float64[n_ticks, D]  every field of :data:`FIELDS` as written, by tick
    hindcast_max : float64[hindcast_years, D] or None  the hindcast's district-year maxima (``calibrated``)
    """

    phase = Phase.POLICY
    reads = (
        "location", "members", "ipc_phase",  # observed food insecurity by district
        "spi", "in_drought",  # the observed index; the record of drought months for the evaluation
        "conflict_events", "new_infections", "surveillance_gain",
    )  # fmt: skip
    writes = FIELDS  # every signal, each month

    def __init__(self, policy: PolicyConfig, name: str = "early_warning"):
        self.policy = policy
        self.name = name

    # -- set-up -----------------------------------------------------------------------
    def init(self, engine) -> None:
        from ..hazards.conflict import Conflict
        from ..hazards.drought import Drought, simulate_index

        pol = self.policy
        trig, fc = pol.trigger, pol.forecast
        sc = engine.scenario
        D, T = sc.n_districts, engine.n_ticks
        self.district_names = list(sc.names)
        self.spinup = engine.spinup
        self.n_ticks = T
        self.drought = next((m for m in engine.modules if isinstance(m, Drought) and m.cfg.enabled), None)
        self.conflict = next((m for m in engine.modules if isinstance(m, Conflict) and m.cfg.enabled), None)
        self.lag = info_lag_months(pol)
        # what the trigger watches and the signal it raises: a drought (forecast or
        # observed index) raises alert_drought; observed need (the IPC3+ share) raises the
        # food-security signal, so it activates the programmes that answer need, not those
        # keyed to the drought hazard
        self.target = "need" if (trig.kind == "observed" and trig.observed_indicator == "ipc3plus_frac") else "drought"
        self.trigger_signal = "food" if self.target == "need" else "drought"
        self.ready_hold = trig.readiness_lead_months - trig.lead_months
        start_cal = engine.cfg.scenario.start_calendar_month

        self.spi_future = np.zeros((T + FUTURE_TICKS, D))
        self.eps = np.zeros((T, D))
        self.signal = np.zeros((T, D))
        self.probability = np.zeros((T, D))
        self.eps_ready = np.zeros((T, D))
        self.probability_ready = np.zeros((T, D))
        self.hindcast_max = None
        if self.drought is not None:
            dcfg = self.drought.cfg
            self.drought_spi = dcfg.drought_spi
            _, self.spi_future = simulate_index(
                dcfg,
                sc.xy_km,
                sc.rain_clim_mm,
                engine.seed,
                T + FUTURE_TICKS,
                engine.spinup,
                start_cal,
                forcing=engine.storyline_forcing,
                trend=True,
            )
            L = trig.lead_months
            self.signal, self.probability = issue_forecasts(self.spi_future, engine.seed, fc, L, dcfg.drought_spi, T)
            self.eps = forecast_eps(engine.seed, T, D, L)
            if trig.kind == "two_stage":
                Lr = trig.readiness_lead_months
                _, self.probability_ready = issue_forecasts(self.spi_future, engine.seed, fc, Lr, dcfg.drought_spi, T)
                self.eps_ready = forecast_eps(engine.seed, T, D, Lr)
        else:
            self.drought_spi = -np.inf

        self.readiness_threshold = float(trig.readiness_probability)
        self.hindcast_max_ready = None

        def hindcast(lead: int) -> np.ndarray:
            return hindcast_max_probability(self.drought.cfg, sc.xy_km, sc.rain_clim_mm, hindcast_seed(engine.seed),
                                            trig.hindcast_years, fc, lead, start_cal)

        if trig.kind == "calibrated" or trig.return_periods:
            if self.drought is not None:
                self.hindcast_max = hindcast(trig.lead_months)
                self.threshold = calibrate_threshold(self.hindcast_max, trig.target_frequency)
                if trig.kind == "two_stage":
                    self.hindcast_max_ready = hindcast(trig.readiness_lead_months)
                    self.readiness_threshold = calibrate_threshold(self.hindcast_max_ready, trig.readiness_frequency)
            else:
                self.threshold = self.readiness_threshold = float("inf")
        elif trig.kind == "observed":
            self.threshold = float(trig.observed_threshold)
        else:
            self.threshold = float(trig.probability)

        # ring buffers of the observed indicators (NaN: not yet observed -> no alert)
        self._ring_ipc = np.full((self.lag + 1, D), np.nan)
        self._ring_spi = np.full((self.lag + 1, D), np.nan)
        self._ring_infections = np.zeros((pol.warnings.surveillance_delay_months + 1, D))
        self._ready_until = np.full(D, -1, np.int64)
        self._usual = None
        # record for evaluation (and for tests: several instances may share an engine)
        self.history = {f: np.zeros((T, D)) for f in FIELDS}
        self._in_drought = np.zeros((T, D), bool)
        self._fired = np.zeros((T, D), bool)  # the trigger itself (whichever signal it raises)
        self._in_need = np.zeros((T, D), bool)  # true (unlagged) IPC3+ share at the observed threshold
        self._n_stepped = 0

    # -- observed indicators ----------------------------------------------------------
    @staticmethod
    def people_and_ipc3plus(engine) -> tuple[np.ndarray, np.ndarray]:
        """float64[D] people (members alive) by location and the share of them in IPC phase 3+."""
        hh = engine.households
        D = engine.scenario.n_districts
        people, ipc3 = people_by_location(hh.location, hh.members, hh.ipc_phase, D)
        frac = np.divide(ipc3, people, out=np.zeros(D), where=people > 0)
        return people, frac

    def _lagged(self, ring: np.ndarray, value: np.ndarray, ti: int) -> np.ndarray:
        """Store this tick's value and return the value of ``lag`` ticks ago (NaN before)."""
        n = ring.shape[0]
        ring[ti % n] = value
        return ring[(ti - self.lag) % n] if ti >= self.lag else np.full(ring.shape[1], np.nan)

    # -- the month ----------------------------------------------------------------------
    def step(self, engine, ti: int) -> None:
        pol = self.policy
        trig, warn = pol.trigger, pol.warnings
        ds = engine.districts
        people, ipc3plus = self.people_and_ipc3plus(engine)
        ipc_obs = self._lagged(self._ring_ipc, ipc3plus, ti)
        spi_obs = self._lagged(self._ring_spi, ds.spi, ti)

        # drought forecast and trigger
        ds.drought_probability[:] = self.probability[ti]
        ready = np.zeros(len(people), bool)
        if self.drought is None:
            fire = np.zeros(len(people), bool)
        elif trig.kind == "observed":
            if trig.observed_indicator == "spi":
                cond = spi_obs <= trig.observed_threshold  # NaN (not yet observed) -> False
            else:
                cond = ipc_obs >= trig.observed_threshold
            fire = area_trigger(cond, people, trig.area_fraction)
        else:
            fire = area_trigger(self.probability[ti] >= self.threshold, people, trig.area_fraction)
            if trig.kind == "two_stage":
                declared = area_trigger(
                    self.probability_ready[ti] >= self.readiness_threshold, people, trig.area_fraction
                )
                # a readiness stays in force until the activation forecast for its target month is issued
                self._ready_until[declared] = ti + self.ready_hold
                ready = ti <= self._ready_until
        ds.alert_drought[:] = fire if self.trigger_signal == "drought" else False
        ds.ready_drought[:] = ready

        # observed food insecurity (and an observed-need trigger, which raises this signal)
        ds.alert_food[:] = (ipc_obs >= warn.food_ipc3plus_threshold) | (fire if self.trigger_signal == "food" else False)
        self._fired[ti] = fire
        if self.target == "need":
            self._in_need[ti] = ipc3plus >= trig.observed_threshold

        # conflict escalation: this month's events against the district's usual level
        if self.conflict is not None:
            if self._usual is None:
                self._usual = self.conflict.usual_rate(engine)
            ev = ds.conflict_events
            ds.alert_conflict[:] = (ev >= warn.conflict_min_events) & (
                ev >= warn.conflict_escalation_multiple * self._usual
            )
        else:
            ds.alert_conflict[:] = 0.0

        # surveillance: infections of `delay` months ago, each reported with sens_d
        delay = warn.surveillance_delay_months
        ring = self._ring_infections
        ring[ti % ring.shape[0]] = ds.new_infections
        infections = ring[(ti - delay) % ring.shape[0]] if ti >= delay else np.zeros(len(people))
        s = warn.surveillance_sensitivity
        sens = np.clip(s + (1.0 - s) * ds.surveillance_gain, 0.0, 1.0)
        reported = surveillance_reports(rng.stream_key(engine.seed, "ew.surveillance", ti), infections, sens)
        ds.reported_cases[:] = reported
        per_10k = np.divide(reported * 1e4, people, out=np.zeros(len(people)), where=people > 0)
        ds.alert_disease[:] = (people > 0) & (reported >= 1) & (per_10k >= warn.disease_alert_per_10k)

        for f in FIELDS:
            self.history[f][ti] = ds[f]
        self._in_drought[ti] = ds.in_drought > 0
        self._n_stepped = ti + 1

    def check_invariants(self, engine) -> None:
        """Validating mode: the forecasts' truth is the index the drought module wrote
        (it would not be if the drought hazard came to depend on the run's state)."""
        from ..errors import InvariantError

        ti = self._n_stepped - 1
        if self.drought is not None and ti >= 0 and not np.array_equal(self.spi_future[ti], engine.districts.spi):
            raise InvariantError(f"early warning: the simulated drought index differs from the module's at tick {ti}")

    # -- evaluation -----------------------------------------------------------------------
    def _evaluate(self) -> tuple[dict, dict]:
        """The trigger against what it targets: drought months for a forecast or an
        observed-index trigger; for an observed-need trigger, months in need (the true
        IPC3+ share at its threshold) from ``lag`` months before the activation on: it
        answers need that was there when it was observed, so it is never a false alarm
        for the weather it does not watch."""
        s, n = self.spinup, self._n_stepped
        alert = self._fired[s:n]
        if self.target == "need":
            need = self._in_need[:n]
            seen = need.copy()  # need at t or in the lag months before (what was observed at t)
            for k in range(1, self.lag + 1):
                seen[k:] |= need[:-k]
            truth = seen[s:n]
            return evaluate_alerts(alert, truth, 0)
        if self.drought is not None:
            beyond = self.spi_future[n:] <= self.drought_spi  # the simulated future after the last stepped month
        else:
            beyond = np.zeros((0, alert.shape[1]), bool)
        truth = np.concatenate([self._in_drought[s:n], beyond])
        return evaluate_alerts(alert, truth, self.policy.trigger.lead_months)

    def evaluation(self) -> dict:
        """Hits, false alarms and misses of the trigger, against what it targets
        (:attr:`target`: ``drought`` or ``need``), over the horizon so far.

        Returns
        -------
        dict with ``activations`` (runs of the trigger started, per district), ``hits``
        (activations followed by a target month within ``lead_months + 3``; for need,
        within 3 months, the ``lag`` months before the activation counting), ``false_alarms``
        (the others), ``episodes`` (maximal runs of target months), ``detected`` (episodes
        with an activation from ``lead_months + 3`` months before their start to their
        end), ``misses``, ``hit_rate`` = detected / episodes and ``false_alarm_ratio`` =
        false_alarms / activations (NaN without a denominator).
        """
        return self._evaluate()[0]

    def activations_table(self) -> pd.DataFrame:
        """One row per activation: ``month`` (1-based horizon month), ``district`` (name),
        ``hit`` (bool: against the trigger's :attr:`target`), ``target`` and ``probability``
        (the forecast probability at the lead that month)."""
        _, det = self._evaluate()
        t = det["act_month"]
        d = det["act_district"]
        return pd.DataFrame(
            {
                "month": t + 1,
                "district": [self.district_names[i] for i in d],
                "hit": det["act_hit"],
                "target": self.target,
                "probability": self.probability[self.spinup + t, d] if t.size else np.zeros(0),
            }
        )

    # -- what a run reports -----------------------------------------------------------------
    def tables(self, engine) -> dict[str, pd.DataFrame]:
        """``triggers``: the drought trigger's activations with their outcome (see :meth:`activations_table`)."""
        return {"triggers": self.activations_table()}

    def summary(self, engine) -> dict:
        ev = self.evaluation()
        return {
            "trigger_activations": int(ev["activations"]),
            "trigger_hits": int(ev["hits"]),
            "trigger_false_alarms": int(ev["false_alarms"]),
            "trigger_misses": int(ev["misses"]),
            "drought_episodes": int(ev["episodes"]),
        }
