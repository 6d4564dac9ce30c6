"""The one place where configuration becomes objects."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any

from .. import hazards as _builtin_hazards  # noqa: F401  (importing the packages registers their modules)
from .. import interventions as _builtin_interventions  # noqa: F401
from ..errors import ConfigError
from ..registry import lookup
from ..scenario import Scenario, load_scenario
from .schema import Config
from .validate import from_mapping

__all__ = ["load_config", "prepare", "build_engine", "estimate_memory_bytes"]

#: memory of one run, measured with ``/usr/bin/time -v`` (peak RSS) on this project's
#: 2-core machine: about 400 MB of interpreter, numba and libraries, a few hundred
#: bytes per household, and about 70 KB per recorded district-month (sums, the tidy
#: frame and its copies); the factors below round those up
_BASE_BYTES = 450e6
_BYTES_PER_HOUSEHOLD = 400.0
_BYTES_PER_DISTRICT_MONTH = 100e3


def load_config(data: Any) -> Config:
    """Validate a plain mapping (or an OmegaConf DictConfig, or a Config) into a :class:`Config`.

    Raises
    ------
    ConfigError
        naming the first field that is unknown, mistyped or out of range.
    """
    if isinstance(data, Config):
        return data
    try:
        from omegaconf import DictConfig, OmegaConf
    except ImportError:  # pragma: no cover
        DictConfig = ()  # type: ignore[assignment]
    if isinstance(data, DictConfig):  # resolved once, here, so an interpolation error names its field
        from omegaconf.errors import OmegaConfBaseException

        try:
            data = OmegaConf.to_container(data, resolve=True)
        except OmegaConfBaseException as exc:  # an interpolation that does not resolve
            key = getattr(exc, "full_key", None) or "<config>"
            reason = " ".join(str(exc).split()).split(" full_key:")[0]
            raise ConfigError(str(key), "an interpolation", f"a value that resolves ({reason})") from None
    if isinstance(data, Mapping) and "hydra" in data:
        data = {k: v for k, v in data.items() if k != "hydra"}
    cfg = from_mapping(Config, data)
    hazards = {}
    for name, entry in cfg.hazards.items():
        path = f"hazards.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(path, entry, "a mapping with a 'kind' and the hazard's settings")
        kind = entry.get("kind", name)
        reg = lookup(kind, "hazards", f"{path}.kind")
        hazards[name] = from_mapping(reg.config_cls, {**entry, "kind": kind}, path)
    interventions = {}
    for name, entry in cfg.interventions.items():
        path = f"interventions.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(path, entry, "a mapping with a 'kind' and the intervention's settings")
        reg = lookup(entry.get("kind"), "interventions", f"{path}.kind")
        interventions[name] = from_mapping(reg.config_cls, dict(entry), path)
    if len(interventions) > 31:
        raise ConfigError("interventions", f"{len(interventions)} interventions", "at most 31")
    return dataclasses.replace(
        cfg, hazards=types.MappingProxyType(hazards), interventions=types.MappingProxyType(interventions)
    )


def prepare(data: Any) -> tuple[Config, Scenario]:
    """Validate the config and the scenario it names, and check them against each other.

    Everything a user can get wrong is found here, before any state is allocated.
    """
    cfg = load_config(data)
    scenario = load_scenario(cfg.scenario.path)
    names = set(scenario.names)
    for i, ev in enumerate(cfg.storyline.events):
        for j, d in enumerate(ev.districts):
            if d not in names:
                raise ConfigError(
                    f"storyline.events[{i}].districts[{j}]", d, f"a district of the scenario ({', '.join(sorted(names))})"
                )
    for name, icfg in cfg.interventions.items():
        for j, d in enumerate(icfg.targeting.districts):
            if d not in names:
                raise ConfigError(
                    f"interventions.{name}.targeting.districts[{j}]", d, f"a district of the scenario ({', '.join(sorted(names))})"
                )
    return cfg, scenario


def estimate_memory_bytes(cfg: Config, n_districts: int) -> float:
    """Peak memory of one run, in bytes: a deliberately generous estimate for refusing
    runs that cannot fit before they start (see ``_BASE_BYTES``)."""
    months = cfg.months + cfg.spinup_months
    return (_BASE_BYTES + _BYTES_PER_HOUSEHOLD * cfg.population.households
            + _BYTES_PER_DISTRICT_MONTH * months * (n_districts + 1))


def build_engine(cfg: Any, validate: bool = False):
    """Build an :class:`hssim.engine.Engine` from a config (validated here).

    ``validate=True`` checks state invariants after every tick (tests).
    """
    from ..couplings.food_system import FoodSystem
    from ..engine import Engine
    from ..households.displacement import Displacement
    from ..households.dynamics import Households

    cfg, scenario = prepare(cfg)
    modules = []
    for name, hcfg in cfg.hazards.items():
        entry = lookup(hcfg.kind, "hazards", f"hazards.{name}.kind")
        modules.append(entry.module_cls(hcfg, name=name))
    modules.append(FoodSystem(cfg.food_system, cfg.couplings))
    # illness effects on household income are the disease_to_income coupling
    illness_loss, treatment_cost = 0.0, 0.0
    for hcfg in cfg.hazards.values():
        if hcfg.kind == "disease" and hcfg.enabled:
            s = cfg.couplings.disease_to_income
            illness_loss = s * min(1.0, hcfg.illness_days / cfg.households.days_per_month)
            treatment_cost = s * hcfg.treatment_cost_usd_per_case
    modules.append(
        Households(
            cfg.households,
            cfg.population,
            cfg.food_system,
            illness_work_loss_frac=illness_loss,
            treatment_cost_usd=treatment_cost,
            displaced_wage_frac=cfg.displacement.displaced_wage_frac,
        )
    )
    modules.append(Displacement(cfg.displacement))
    if cfg.policy.enabled:
        modules.extend(_response_modules(cfg, modules[-2]))
    return Engine(cfg, scenario, modules, validate=validate)


def _response_modules(cfg, households) -> list:
    """Early warning, the response and its interventions (only with ``policy.enabled``).

    With no policy none of these modules exists, so a run without a response is
    exactly the model without them; with one, they use only their own random
    streams, so an intervention with no effect changes nothing but costs.
    """
    import numpy as np

    from ..interventions.empowerment import SavingsGroup
    from ..interventions.protection import MalnutritionTreatment
    from ..policies.early_warning import EarlyWarning
    from ..policies.response import Response

    interventions = []
    nutrition, savings = [], []
    for name, icfg in cfg.interventions.items():
        iv = lookup(icfg.kind, "interventions", f"interventions.{name}.kind").module_cls(icfg, name=name)
        if isinstance(iv, MalnutritionTreatment):
            iv.row = len(nutrition)
            nutrition.append(iv.table_row())
        if isinstance(iv, SavingsGroup):
            iv.row = len(savings)
            savings.append(iv.table_row())
        interventions.append(iv)
    households.nutrition_table = np.array(nutrition, np.float64).reshape(-1, 3)
    households.savings_table = np.array(savings, np.float64).reshape(-1, 2)
    return [EarlyWarning(cfg.policy), Response(cfg.policy, interventions), *interventions]
