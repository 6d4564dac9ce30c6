"""Drought hazard: monthly district rainfall and a standardised multi-month index.

Model (per district ``d``, month ``t``)::

    r(t)   = phi_r r(t-1) + sqrt(1 - phi_r^2) eps(t)          regional (ENSO-like) driver
    e_d(t) = phi_d e_d(t-1) + sqrt(1 - phi_d^2) (L z(t))_d     district noise, L L' = C
    C_ij   = exp(-dist_ij / correlation_length)               spatial correlation
    a_d(t) = sqrt(w) r(t) + sqrt(1 - w) e_d(t)                 anomaly, N(0, 1) marginally
    a*_d(t)= mu(t) + s(t) a_d(t), or a storyline's forced value
    rain_d(t) = clim_d(month) * exp(sigma a*_d(t) - sigma^2 / 2)

so ``corr(a_i, a_j) = w + (1 - w) C_ij`` and ``corr(a(t), a(t-h)) = w phi_r^h +
(1 - w) phi_d^h``. The climate trend shifts the mean by ``mu(t)`` and scales the
spread by ``s(t)``, both linear in decades since the start of the horizon.

The SPI-like index over ``k`` months is the climatology-weighted sum of anomalies,
standardised with its exact stationary variance::

    spi_d(t) = sum_j c_d(t-j) a*_d(t-j) / sqrt(sum_ij c_i c_j rho(|i-j|)),  j = 0..k-1

with weights ``c`` = climatological rain of those calendar months (plus 5% of the
monthly mean, so an all-dry window still has a defined index). Without trend and
storylines it is exactly N(0, 1), so ``P(spi <= x) = Phi(x)``: the frequency of
drought months is set by the threshold, as with the real SPI. Dry-season months
weigh little, as in an accumulation of rainfall.

Random streams: ``drought.init``, ``drought.regional`` (index 0) and
``drought.district`` (index d); they are hazard streams and never depend on policy.
:func:`simulate_index` runs the same process outside the engine (it is exogenous),
which is how early warning generates forecasts from the simulated future.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import rng
from ..module import Module
from ..phases import Phase
from ..registry import register
from ..validate import field_range as fr

__all__ = ["DroughtConfig", "Drought", "DroughtProcess", "anomaly_correlation", "lag_correlation", "simulate_index", "spi_weights_sd"]


@dataclass(frozen=True)
class DroughtConfig:
    """Rainfall anomalies, the SPI-like index, storylines and trend."""

    kind: str = "drought"
    enabled: bool = True
    regional_weight: float = fr(0.7, 0.0, 1.0, "share of anomaly variance from the regional (ENSO-like) driver")
    regional_persistence: float = fr(0.8, 0.0, 0.99, "lag-1 monthly autocorrelation of the regional driver")
    district_persistence: float = fr(0.3, 0.0, 0.99, "lag-1 monthly autocorrelation of district noise")
    correlation_length_km: float = fr(150.0, 1e-3, 1e5, "e-folding distance of district noise correlation, km")
    rain_log_sd: float = fr(0.5, 0.01, 2.0, "sd of log monthly rainfall per unit anomaly")
    spi_months: int = fr(3, 1, 24, "accumulation window of the SPI-like index, months")
    drought_spi: float = fr(-1.0, -4.0, 0.0, "index value at or below which a district-month is in drought")
    trend_anomaly_per_decade: float = fr(0.0, -3.0, 3.0, "shift of the mean anomaly per decade (negative = drier)")
    trend_sd_per_decade: float = fr(0.0, -0.9, 3.0, "relative change of anomaly sd per decade")


def anomaly_correlation(cfg: DroughtConfig, xy_km: np.ndarray) -> np.ndarray:
    """float64[D, D] correlation of district anomalies implied by the config."""
    dist = np.linalg.norm(xy_km[:, None, :] - xy_km[None, :, :], axis=-1)
    C = np.exp(-dist / cfg.correlation_length_km)
    w = cfg.regional_weight
    return w + (1.0 - w) * C


def lag_correlation(cfg: DroughtConfig, k: int) -> np.ndarray:
    """float64[k, k] correlation of a district's anomalies ``i`` and ``j`` months apart."""
    h = np.abs(np.arange(k)[:, None] - np.arange(k)[None, :])
    w = cfg.regional_weight
    return w * cfg.regional_persistence**h + (1 - w) * cfg.district_persistence**h


def spi_weights_sd(cfg: DroughtConfig, clim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights and stationary sd of the SPI-like index.

    Parameters
    ----------
    cfg : DroughtConfig
    clim : float64[D, 12]  climatological rainfall by calendar month, mm

    Returns
    -------
    weights : float64[D, 12]  weight of each calendar month's anomaly
    sd : float64[D, 12]  sd of the weighted k-month sum ending in each calendar month
    """
    k = cfg.spi_months
    weights = clim + 0.05 * clim.mean(axis=1, keepdims=True)
    lags = np.arange(k)
    rho = lag_correlation(cfg, k)
    sd = np.empty_like(weights)
    for m in range(12):  # 12 calendar months, not households
        c = weights[:, (m - lags) % 12]  # [D, k]
        sd[:, m] = np.sqrt(np.einsum("di,ij,dj->d", c, rho, c))
    return weights, sd


class DroughtProcess:
    """The drought process of one run, advanced one tick at a time.

    Holds the driver states (regional ``r``, district ``e_d``) and the window of
    the last ``spi_months`` anomalies. :class:`Drought` steps one inside the engine
    and :func:`simulate_index` steps one outside it (forecasts, hindcasts): the two
    run the same code, so a simulated series is bit-identical to what the module
    writes.

    Parameters
    ----------
    cfg : DroughtConfig
    xy_km : float64[D, 2]  district centroids, km
    rain_clim_mm : float64[D, 12]  climatological rainfall by calendar month, mm
    seed : int  seed of the streams ``drought.init``, ``drought.regional``, ``drought.district``
    """

    def __init__(self, cfg: DroughtConfig, xy_km: np.ndarray, rain_clim_mm: np.ndarray, seed: int):
        self.cfg = cfg
        self.seed = seed
        D = len(xy_km)
        dist = np.linalg.norm(xy_km[:, None, :] - xy_km[None, :, :], axis=-1)
        corr = np.exp(-dist / cfg.correlation_length_km)
        # jitter keeps the Cholesky factor defined for duplicated centroids
        self.chol = np.linalg.cholesky(corr + 1e-9 * np.eye(D))
        self.weights, self.sd = spi_weights_sd(cfg, rain_clim_mm)
        self.history = np.zeros((cfg.spi_months, D))  # a*(t-j), j = 0..k-1, ring buffer
        self.hist_cal = np.zeros(cfg.spi_months, dtype=np.int64)
        self.n_hist = 0
        # stationary start: draw the initial driver states from their marginals
        key0 = rng.stream_key(seed, "drought.init", 0)
        z = rng.normals(key0, D + 1, 0)
        self.regional = z[0]
        self.district = self.chol @ z[1:]

    def advance(self, ti: int, cal: int, decades: float, forced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance to tick ``ti``.

        Parameters
        ----------
        ti : int  tick index (keys the random streams)
        cal : int  calendar month 0..11 of the tick
        decades : float  decades since the start of the trend (0: no trend)
        forced : float64[D]  forced anomaly, NaN where not forced

        Returns
        -------
        anomaly : float64[D]  standardised anomaly a*_d(t), sd
        spi : float64[D]  SPI-like index, sd
        """
        cfg = self.cfg
        D = self.chol.shape[0]
        eps = rng.normals(rng.stream_key(self.seed, "drought.regional", ti), 1, 0)[0]
        z = rng.normals(rng.stream_key(self.seed, "drought.district", ti), D, 0)
        pr, pd = cfg.regional_persistence, cfg.district_persistence
        self.regional = pr * self.regional + np.sqrt(1 - pr * pr) * eps
        self.district = pd * self.district + np.sqrt(1 - pd * pd) * (self.chol @ z)
        w = cfg.regional_weight
        a = np.sqrt(w) * self.regional + np.sqrt(1 - w) * self.district
        spread = max(0.05, 1.0 + cfg.trend_sd_per_decade * decades)
        a = cfg.trend_anomaly_per_decade * decades + spread * a
        a = np.where(np.isnan(forced), a, forced)

        # shift the window by one month (what np.roll(., 1) did, without its overhead)
        self.history[1:] = self.history[:-1]
        self.history[0] = a
        self.hist_cal[1:] = self.hist_cal[:-1]
        self.hist_cal[0] = cal
        self.n_hist = min(self.n_hist + 1, cfg.spi_months)
        if self.n_hist < cfg.spi_months:
            # before k months are known, the index uses the months seen so far
            ks = self.n_hist
            c = self.weights[:, self.hist_cal[:ks]]
            num = (c * self.history[:ks].T).sum(axis=1)
            den = np.sqrt(np.einsum("di,ij,dj->d", c, lag_correlation(cfg, ks), c))
        else:
            c = self.weights[:, self.hist_cal]
            num = (c * self.history.T).sum(axis=1)
            den = self.sd[:, cal]
        return a, num / den


def simulate_index(
    cfg: DroughtConfig,
    xy_km: np.ndarray,
    rain_clim_mm: np.ndarray,
    seed: int,
    n_ticks: int,
    spinup: int = 0,
    start_calendar_month: int = 1,
    forcing: np.ndarray | None = None,
    trend: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the drought process outside an engine (a pure function).

    With the engine's seed, spin-up, calendar and storyline forcing this is,
    bit for bit, the series the :class:`Drought` module writes tick by tick
    (the hazard is exogenous: it never depends on policy or households).

    Parameters
    ----------
    cfg : DroughtConfig
    xy_km : float64[D, 2]  district centroids, km
    rain_clim_mm : float64[D, 12]  climatological rainfall by calendar month, mm
    seed : int  the run's seed
    n_ticks : int  ticks to simulate, from tick 0
    spinup : int  spin-up ticks (the trend counts from the end of spin-up)
    start_calendar_month : int  calendar month 1..12 of tick ``spinup``
    forcing : float64[T, D], optional  forced anomalies, NaN where not forced
        (``Engine.storyline_forcing``); ticks at or beyond ``T`` are not forced
    trend : bool  apply the config's trend (False: a stationary climate)

    Returns
    -------
    anomaly : float64[n_ticks, D]  standardised anomaly, sd
    spi : float64[n_ticks, D]  SPI-like index, sd
    """
    proc = DroughtProcess(cfg, xy_km, rain_clim_mm, seed)
    D = len(xy_km)
    anomaly = np.empty((n_ticks, D))
    spi = np.empty((n_ticks, D))
    unforced = np.full(D, np.nan)
    for ti in range(n_ticks):  # ticks (months), not households
        cal = (start_calendar_month - 1 + ti - spinup) % 12
        decades = max(0, ti - spinup) / 120.0 if trend else 0.0
        forced = forcing[ti] if forcing is not None and ti < len(forcing) else unforced
        anomaly[ti], spi[ti] = proc.advance(ti, cal, decades, forced)
    return anomaly, spi


@register("drought", DroughtConfig, group="hazards")
class Drought(Module):
    """Rainfall, anomalies and the SPI-like index; writes the district ``rain_mm``,
    ``anomaly``, ``spi``, ``in_drought`` and ``water_scarcity`` fields."""

    phase = Phase.CLIMATE
    reads = ()  # only the scenario's climatology and its own process
    writes = ("rain_mm", "anomaly", "spi", "in_drought", "water_scarcity")

    def __init__(self, cfg: DroughtConfig, name: str = "drought"):
        self.cfg = cfg
        self.name = name

    def init(self, engine) -> None:
        sc = engine.scenario
        self.process = DroughtProcess(self.cfg, sc.xy_km, sc.rain_clim_mm, engine.seed)
        self.forced = engine.storyline_forcing  # float64[T, D], NaN where not forced
        self.clim = sc.rain_clim_mm

    def step(self, engine, ti: int) -> None:
        cfg = self.cfg
        ds = engine.districts
        cal = engine.calendar_month(ti)
        clim = self.clim[:, cal]
        if not cfg.enabled:
            return  # the engine leaves climatological rain and a neutral index
        decades = max(0, ti - engine.spinup) / 120.0
        a, spi = self.process.advance(ti, cal, decades, self.forced[ti])
        s = cfg.rain_log_sd
        ds.rain_mm[:] = clim * np.exp(s * a - 0.5 * s * s)
        ds.anomaly[:] = a
        ds.spi[:] = spi
        ds.in_drought[:] = (spi <= cfg.drought_spi).astype(np.float64)
        ds.water_scarcity[:] = np.clip(-spi / 3.0, 0.0, 1.0)
