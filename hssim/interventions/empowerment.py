"""Empowerment (bottom-up) interventions: communities acting on their own needs.

Community resource-management committees, savings groups, livelihood
diversification, community health workers, community-based targeting and
drought-index insurance. Like protection, each acts only through a mechanism of
the model; several build up slowly (``ramp_months``) or pay off late
(diversification), which is exactly what makes their value a question for the runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate
from scipy.stats import norm

from ..couplings.food_system import growing_seasons
from ..errors import ConfigError
from ..registry import register
from ..validate import field_range as fr
from .base import Intervention, InterventionConfig, UnitCost, _choice

__all__ = [
    "ResourceCommittee",
    "SavingsGroup",
    "LivelihoodDiversification",
    "CommunityHealthWorkers",
    "CommunityTargeting",
    "IndexInsurance",
    "expected_payout_frac",
]


class _Ramped(Intervention):
    """District effect that grows linearly over ``ramp_months`` of delivery in a district."""

    pillar = "empowerment"
    district_level = True

    def init(self, engine) -> None:
        self.months_on = np.zeros(engine.scenario.n_districts)

    def ramp(self, engine, idx) -> np.ndarray:
        cov = self.coverage(engine, idx)
        self.months_on = np.where(cov > 0, self.months_on + 1, 0.0)
        r = max(self.cfg.ramp_months, 1)
        return cov * np.minimum(self.months_on / r, 1.0)


@dataclass(frozen=True)
class ResourceCommitteeConfig(InterventionConfig):
    """Community natural-resource management committees (grazing, water points, peace)."""

    scarcity_conflict_reduction: float = fr(0.5, 0.0, 1.0, "share of the scarcity -> conflict driver removed at full coverage")
    ramp_months: int = fr(12, 0, 240, "months of activity before committees reach full effect")


@register("resource_committee", ResourceCommitteeConfig, group="interventions")
class ResourceCommittee(_Ramped):
    """Weakens the drought -> conflict link in the district (Turkana): the conflict
    hazard's scarcity driver is multiplied by ``1 - reduction x covered x ramp``."""

    relevant_signals = ("drought", "conflict")
    reads = writes = ("committee_effect",)

    def apply(self, engine, ti, idx):
        self.add_share(engine.districts.committee_effect, self.cfg.scarcity_conflict_reduction * self.ramp(engine, idx))


@dataclass(frozen=True)
class CommunityHealthWorkersConfig(InterventionConfig):
    """Community health workers: care close to home and case reporting."""

    access_gain: float = fr(0.3, 0.0, 1.0, "share of a covered household's missing access to care closed at full effect")
    surveillance_gain: float = fr(0.5, 0.0, 1.0, "share of undetected cases reported at full coverage")
    ramp_months: int = fr(6, 0, 240, "months to recruit and train before full effect")


@register("community_health_workers", CommunityHealthWorkersConfig, group="interventions")
class CommunityHealthWorkers(_Ramped):
    """Raises effective access to care (``h <- h + (1 - h) gain covered ramp``: earlier
    treatment, lower case fatality) and surveillance sensitivity (read by early warning)."""

    relevant_signals = ("disease",)
    reads = writes = ("health_access_eff", "surveillance_gain")

    def apply(self, engine, ti, idx):
        ds = engine.districts
        eff = self.ramp(engine, idx)
        self.add_share(ds.health_access_eff, self.cfg.access_gain * eff)
        self.add_share(ds.surveillance_gain, self.cfg.surveillance_gain * eff)


@dataclass(frozen=True)
class CommunityTargetingConfig(InterventionConfig):
    """Community-based targeting: communities take part in selecting who is served."""

    accuracy_gain: float = fr(0.5, 0.0, 1.0, "share of every programme's targeting-accuracy gap closed at full coverage")


@register("community_targeting", CommunityTargetingConfig, group="interventions")
class CommunityTargeting(Intervention):
    """Consultation: closes ``gain x covered`` of the gap between every
    programme's targeting accuracy and 1 in the district (used by the next assessment)."""

    relevant_signals = ("food",)
    reads = writes = ("targeting_gain",)

    pillar = "empowerment"
    district_level = True

    def apply(self, engine, ti, idx):
        self.add_share(engine.districts.targeting_gain, self.cfg.accuracy_gain * self.coverage(engine, idx))


@dataclass(frozen=True)
class SavingsGroupConfig(InterventionConfig):
    """Village savings and loan associations."""

    return_frac_per_month: float = fr(0.01, 0.0, 0.5, "monthly return on members' savings (group lending)")
    extra_credit_usd: float = fr(40.0, 0.0, 1e6, "the group's loan fund: credit beyond the informal limit, USD")


@register("savings_group", SavingsGroupConfig, group="interventions")
class SavingsGroup(Intervention):
    """Members' savings earn a return and they can borrow from the group's fund
    (row ``self.row`` of the household module's savings table)."""

    relevant_signals = ("drought", "food")
    reads = ()
    writes = ("savings_group",)

    pillar = "empowerment"
    row = 0

    def apply(self, engine, ti, idx):
        engine.households.savings_group[idx] = self.row + 1

    def table_row(self) -> list[float]:
        return [self.cfg.return_frac_per_month, self.cfg.extra_credit_usd]


@dataclass(frozen=True)
class LivelihoodDiversificationConfig(InterventionConfig):
    """Training and an asset grant for a non-farm activity (less rain dependence)."""

    asset_grant_usd: float = fr(250.0, 0.0, 1e7, "productive asset given at the end of training, USD")
    training_months: int = fr(6, 1, 120, "months of training and coaching before the grant")
    once: bool = True

    def validate(self, path: str) -> None:
        super().validate(path)
        if self.service_months not in (0, self.training_months):
            raise ConfigError(f"{path}.service_months", self.service_months, f"0 or training_months ({self.training_months})")


@register("livelihood_diversification", LivelihoodDiversificationConfig, group="interventions")
class LivelihoodDiversification(Intervention):
    """After ``training_months`` of coaching (each month costs ``cost_per_household_usd``)
    the household receives a non-farm productive asset: its income (the asset
    return) does not depend on rain, pasture or harvests. Slow and costly up front."""

    relevant_signals = ("drought",)
    reads = writes = ("assets_usd",)  # who finished training this month: the response's registry

    pillar = "empowerment"

    def __init__(self, cfg, name):
        from dataclasses import replace

        super().__init__(replace(cfg, service_months=cfg.training_months, once=True), name)

    def cost_terms(self, engine):
        # the grant is paid with the last month of training
        return UnitCost(self.cfg.cost_per_household_usd, last_month=self.cfg.asset_grant_usd)

    def apply(self, engine, ti, idx):
        hh = engine.households
        # left was counted down after allocation: 0 means this was the last month of training
        done = idx[self.response.left[self.index][idx] == 0]
        hh.assets_usd[done] += np.float32(self.cfg.asset_grant_usd)


def expected_payout_frac(strike: float, exit_: float) -> float:
    """E[clip((strike - Z) / (strike - exit), 0, 1)] for a standard normal index Z."""
    width = strike - exit_
    part, _ = integrate.quad(lambda z: (strike - z) / width * norm.pdf(z), exit_, strike)
    return float(part + norm.cdf(exit_))


@dataclass(frozen=True)
class IndexInsuranceConfig(InterventionConfig):
    """Drought-index insurance with a premium paid by the programme."""

    sum_insured_usd: float = fr(150.0, 0.0, 1e7, "payout per household for a total failure, per season, USD")
    strike_spi: float = fr(-0.8, -5.0, 5.0, "drought index at the harvest month below which payouts start")
    exit_spi: float = fr(-2.0, -6.0, 5.0, "index at or below which the full sum is paid")
    premium_loading: float = fr(0.3, 0.0, 10.0, "premium above the actuarially fair one (insurer's costs and margin)")
    activation: str = _choice("always", ("always", "trigger"), "a regular programme (insurance is bought ahead of the season)")

    def validate(self, path: str) -> None:
        super().validate(path)
        if self.exit_spi >= self.strike_spi:
            raise ConfigError(f"{path}.exit_spi", self.exit_spi, f"a value below strike_spi ({self.strike_spi})")


@register("index_insurance", IndexInsuranceConfig, group="interventions")
class IndexInsurance(Intervention):
    """Insured households receive ``sum_insured x clip((strike - spi) / (strike - exit), 0, 1)``
    at each harvest month of their home district, with ``spi`` the drought index
    there (the SPI-like index is N(0, 1), so the fair premium is known exactly:
    ``sum_insured x E[payout share] x harvests per year / 12`` a month). The
    programme pays ``(1 + loading)`` times the fair premium; payouts come from the
    insurer, not the programme's budget (risk transfer)."""

    relevant_signals = ("drought",)
    reads = ("spi", "harvest_now", "district", "aid_cash_usd")  # payouts by the home district's index
    writes = ("aid_cash_usd",)

    pillar = "empowerment"

    def init(self, engine) -> None:
        c = self.cfg
        _, harvest = growing_seasons(engine.scenario.rain_clim_mm)
        fair = c.sum_insured_usd * expected_payout_frac(c.strike_spi, c.exit_spi) * harvest.sum(axis=1) / 12.0
        self.premium_usd = (1.0 + c.premium_loading) * fair  # [D] per household-month

    def cost_terms(self, engine):
        return UnitCost(self.cfg.cost_per_household_usd, by_district=self.premium_usd)  # premium of the home district

    def apply(self, engine, ti, idx):
        hh, ds = engine.households, engine.districts
        c = self.cfg
        frac = np.clip((c.strike_spi - ds.spi) / (c.strike_spi - c.exit_spi), 0.0, 1.0) * (ds.harvest_now > 0)
        home = hh.district[idx]
        hh.aid_cash_usd[idx] += (c.sum_insured_usd * frac[home]).astype(np.float32)
