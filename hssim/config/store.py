"""Register the schema's defaults with Hydra's ConfigStore.

``configs/config.yaml`` starts its defaults list with ``hssim_defaults``: a node
holding every field of :class:`~hssim.config.schema.Config` at its default, so any
field can be overridden on the command line (``households.wage_usd_per_day=3``)
while the YAML files hold only the values they choose. Types and ranges are
checked by :func:`hssim.config.build.load_config`, not by OmegaConf (frozen
dataclasses would make Hydra's nodes read-only).

Registration is explicit (called by ``compose()`` and the CLI), never an import
side effect.
"""

from __future__ import annotations

from typing import Any

from .. import hazards  # noqa: F401  (importing the package registers the hazard kinds)
from ..registry import lookup
from .schema import Config
from .validate import to_dict

__all__ = ["DEFAULTS_NAME", "defaults_node", "register_defaults"]

DEFAULTS_NAME = "hssim_defaults"

#: hazards present by default, by name -> kind
DEFAULT_HAZARDS = {"drought": "drought", "conflict": "conflict"}


def defaults_node() -> dict[str, Any]:
    """Plain dict of every config field at its schema default."""
    node = to_dict(Config())
    node["hazards"] = {
        name: to_dict(lookup(kind, "hazards", f"hazards.{name}.kind").config_cls()) for name, kind in DEFAULT_HAZARDS.items()
    }
    return node


def register_defaults() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=DEFAULTS_NAME, node=defaults_node())
