"""Registry: a config ``kind`` -> (module class, frozen config dataclass).

Users choose modules by key (``kind: drought``), never by import path. A module
registers itself with :func:`register` when its package is imported; the registry
itself is passive (it imports no plugin): the config layer, which knows the built-in
packages, imports them before it looks a kind up (:mod:`hssim.config.build`), and
:func:`lookup` is used by the one place that builds the engine from config
(:func:`hssim.config.build.build_engine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError

__all__ = ["register", "lookup", "kinds", "Entry"]


@dataclass(frozen=True)
class Entry:
    kind: str
    module_cls: type
    config_cls: type
    group: str  # "hazards", later "interventions", "policies", ...


_REGISTRY: dict[str, Entry] = {}


def register(kind: str, config_cls: type, group: str) -> Callable[[type], type]:
    """Class decorator: make ``kind`` build this module from ``config_cls``."""

    def deco(cls: type) -> type:
        if kind in _REGISTRY and _REGISTRY[kind].module_cls is not cls:
            raise RuntimeError(f"module kind {kind!r} registered twice")
        _REGISTRY[kind] = Entry(kind, cls, config_cls, group)
        cls.kind = kind
        return cls

    return deco


def lookup(kind: Any, group: str, path: str) -> Entry:
    """The entry for ``kind`` in ``group``, or a ConfigError naming ``path``."""
    allowed = sorted(k for k, e in _REGISTRY.items() if e.group == group)
    if not isinstance(kind, str) or kind not in _REGISTRY or _REGISTRY[kind].group != group:
        raise ConfigError(path, kind, "one of " + ", ".join(repr(k) for k in allowed))
    return _REGISTRY[kind]


def kinds(group: str) -> list[str]:
    return sorted(k for k, e in _REGISTRY.items() if e.group == group)
