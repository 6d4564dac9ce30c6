"""Setting one value of a plain run config by its dotted path (``policy.trigger.lead_months``).

The one implementation the sweep's parameters, the dashboard's presets and any other
edit of a composed config use; every failure names the path, the part that does not
exist and where the path came from.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from ..errors import ConfigError

__all__ = ["get_path", "set_path"]


def _node(cfg: Mapping, keys: list[str], path: str, where: str) -> MutableMapping:
    node: Any = cfg
    for i, k in enumerate(keys[:-1]):
        if not isinstance(node, Mapping) or k not in node:
            raise ConfigError(where, path, f"a dotted path of the run config ('{'.'.join(keys[: i + 1])}' does not exist)")
        node = node[k]
    if not isinstance(node, Mapping) or keys[-1] not in node:
        raise ConfigError(where, path, f"a dotted path of the run config ('{path}' does not exist)")
    return node


def get_path(cfg: Mapping, path: str, where: str | None = None) -> Any:
    """The value at ``path`` of the nested mapping ``cfg``.

    Raises
    ------
    ConfigError  at ``where`` (default: the path) when a part of the path does not exist.
    """
    keys = str(path).split(".")
    return _node(cfg, keys, path, where or path)[keys[-1]]


def set_path(cfg: MutableMapping, path: str, value: Any, op: str = "set", where: str | None = None) -> None:
    """Set (``op="set"``) or multiply (``op="scale"``) the single value at ``path`` of the
    nested mapping ``cfg`` in place. A scaled integer field stays an integer (rounded).

    Parameters
    ----------
    cfg : nested dict  a plain run config (``to_dict`` / ``OmegaConf.to_container`` of one)
    path : str  dotted path, e.g. ``"hazards.conflict.baseline_scale"``
    value : the new value, or the factor for ``op="scale"``
    op : ``"set"`` or ``"scale"``
    where : str, optional  the field the path came from, named in errors (default: the path)

    Raises
    ------
    ConfigError  when a part of the path does not exist, the path names a section rather
        than a single value, or ``op="scale"`` meets a value that is not a number.
    """
    where = where or path
    if op not in ("set", "scale"):
        raise ConfigError(where, op, "op 'set' or 'scale'")
    keys = str(path).split(".")
    node = _node(cfg, keys, path, where)
    last = keys[-1]
    if isinstance(node[last], (Mapping, list)):
        raise ConfigError(where, path, "a path to a single value, not to a section")
    if op == "scale":
        base = node[last]
        if base is None or isinstance(base, (bool, str)):
            raise ConfigError(where, path, f"a numeric field to scale (it holds {base!r})")
        value = base * value
        if isinstance(base, int):
            value = int(round(value))
    node[last] = value
