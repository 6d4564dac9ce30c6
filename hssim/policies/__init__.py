"""Policies: response modes (siloed .. integrated), early warning and triggers."""

from .schema import SECTORS, SIGNALS, FinanceConfig, ForecastConfig, PolicyConfig, TriggerConfig, WarningConfig

__all__ = ["SECTORS", "SIGNALS", "PolicyConfig", "ForecastConfig", "TriggerConfig", "WarningConfig", "FinanceConfig"]
