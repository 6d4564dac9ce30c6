"""Interventions: protection (top-down) and empowerment (bottom-up) actions.

Importing this package registers every kind (see :mod:`hssim.registry`); the
response (:mod:`hssim.policies.response`) decides whom they serve.
"""

from . import empowerment, protection  # noqa: F401
from .base import CATEGORIES, NEED_INDICATORS, RULES, Intervention, InterventionConfig, TargetingConfig

__all__ = ["Intervention", "InterventionConfig", "TargetingConfig", "RULES", "CATEGORIES", "NEED_INDICATORS"]
