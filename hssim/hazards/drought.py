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

Random streams: ``drought.regional`` (index 0) and ``drought.district`` (index d);
they are hazard streams and never depend on policy.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..config.schema import DroughtConfig
from ..module import Module
from ..phases import Phase
from ..registry import register

__all__ = ["Drought", "spi_weights_sd", "lag_correlation", "anomaly_correlation"]


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


@register("drought", DroughtConfig, group="hazards")
class Drought(Module):
    """Rainfall, anomalies and the SPI-like index; writes the district ``rain_mm``,
    ``anomaly``, ``spi``, ``in_drought`` and ``water_scarcity`` fields."""

    phase = Phase.CLIMATE

    def __init__(self, cfg: DroughtConfig, name: str = "drought"):
        self.cfg = cfg
        self.name = name

    def init(self, engine) -> None:
        sc = engine.scenario
        cfg = self.cfg
        D = sc.n_districts
        dist = np.linalg.norm(sc.xy_km[:, None, :] - sc.xy_km[None, :, :], axis=-1)
        corr = np.exp(-dist / cfg.correlation_length_km)
        # jitter keeps the Cholesky factor defined for duplicated centroids
        self.chol = np.linalg.cholesky(corr + 1e-9 * np.eye(D))
        self.weights, self.sd = spi_weights_sd(cfg, sc.rain_clim_mm)
        self.history = np.zeros((cfg.spi_months, D))  # a*(t-j), j = 0..k-1, ring buffer
        self.hist_cal = np.zeros(cfg.spi_months, dtype=np.int64)
        self.n_hist = 0
        # stationary start: draw the initial driver states from their marginals
        key0 = rng.stream_key(engine.seed, "drought.init", 0)
        z = rng.normals(key0, D + 1, 0)
        self.regional = z[0]
        self.district = self.chol @ z[1:]
        self.forced = engine.storyline_forcing  # float64[T, D], NaN where not forced
        self.clim = sc.rain_clim_mm

    def step(self, engine, ti: int) -> None:
        cfg = self.cfg
        ds = engine.districts
        D = engine.scenario.n_districts
        cal = engine.calendar_month(ti)
        clim = self.clim[:, cal]
        if not cfg.enabled:
            return  # the engine leaves climatological rain and a neutral index
        eps = rng.normals(rng.stream_key(engine.seed, "drought.regional", ti), 1, 0)[0]
        z = rng.normals(rng.stream_key(engine.seed, "drought.district", ti), D, 0)
        pr, pd = cfg.regional_persistence, cfg.district_persistence
        self.regional = pr * self.regional + np.sqrt(1 - pr * pr) * eps
        self.district = pd * self.district + np.sqrt(1 - pd * pd) * (self.chol @ z)
        w = cfg.regional_weight
        a = np.sqrt(w) * self.regional + np.sqrt(1 - w) * self.district
        decades = max(0, ti - engine.spinup) / 120.0
        spread = max(0.05, 1.0 + cfg.trend_sd_per_decade * decades)
        a = cfg.trend_anomaly_per_decade * decades + spread * a
        forced = self.forced[ti]
        a = np.where(np.isnan(forced), a, forced)

        s = cfg.rain_log_sd
        ds.rain_mm[:] = clim * np.exp(s * a - 0.5 * s * s)
        ds.anomaly[:] = a

        self.history = np.roll(self.history, 1, axis=0)
        self.history[0] = a
        self.hist_cal = np.roll(self.hist_cal, 1)
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
        spi = num / den
        ds.spi[:] = spi
        ds.in_drought[:] = (spi <= cfg.drought_spi).astype(np.float64)
        ds.water_scarcity[:] = np.clip(-spi / 3.0, 0.0, 1.0)
