"""Composing a run's config: Hydra composition exactly as the ``hssim`` command does it,
the refusal of configs that would make Hydra run code, and an arm's config (common
overrides, then the arm's own, validated).

The composition core of the public API (:func:`hssim.compose` re-exports it); it lives
here, below the analyses and faces, so the runs layer and everything above it compose
configs the same way.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import UserError
from ..paths import configs_dir

__all__ = ["ALLOWED_CALLBACKS", "compose", "compose_arm", "hydra_quote", "hydra_searchpath", "refuse_code"]


def compose(overrides: list[str] | None = None, config_name: str = "config", config_dirs=()):
    """The composed Hydra config, exactly as the ``hssim`` command composes it.

    Parameters
    ----------
    overrides : list of str  Hydra overrides, e.g. ``["seed=7", "scenario=default"]``
    config_dirs : folders of the user's own config groups (``--config-dir``), searched
        after hssim's own

    Returns
    -------
    omegaconf.DictConfig  (without the ``hydra`` node)

    Raises
    ------
    hssim.errors.ConfigError
        when an override names a missing key or group option, or cannot be parsed.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from ..config.store import register_defaults
    from ..errors import ConfigError

    register_defaults()
    overrides = list(overrides or [])
    search = [hydra_searchpath(config_dirs)] if config_dirs else []
    gh = GlobalHydra.instance()
    previous = gh.hydra if gh.is_initialized() else None
    gh.clear()
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base=None, job_name="hssim"):
            cfg = hydra_compose(config_name=config_name, overrides=[*overrides, *search], return_hydra_config=True)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:  # ValueError: e.g. `scenario=3`
        raise ConfigError(*_offending_override(exc, overrides), _hydra_reason(exc)) from exc
    finally:
        if previous is not None:
            gh.clear()
            gh.hydra = previous
    refuse_code(cfg)
    OmegaConf.set_struct(cfg, False)
    cfg.pop("hydra", None)
    return cfg


#: the only Hydra callbacks a config may hold: hssim's own
ALLOWED_CALLBACKS = {"hssim.cli.RunFolderCallback"}
#: where Hydra launchers and sweepers come from (Hydra's own and its installed plugins)
_PLUGIN_PREFIXES = ("hydra._internal.core_plugins.", "hydra_plugins.")


def refuse_code(cfg) -> None:
    """Refuse a composed config that would make Hydra run arbitrary code.

    A config file (``--config-dir``, an experiment or scenario file with
    ``# @package _global_``) can otherwise install ``hydra.callbacks`` or any
    ``_target_`` for Hydra to instantiate, e.g. ``os.system``. Allowed: hssim's own
    callback, and launchers and sweepers from Hydra's plugins.

    Raises
    ------
    ConfigError  naming the offending field.
    """
    from omegaconf import OmegaConf

    from ..errors import ConfigError

    data = OmegaConf.to_container(cfg, resolve=False)

    def walk(x, path: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                where = f"{path}.{k}" if path else str(k)
                if k == "_target_":
                    ok = (path.startswith("hydra.callbacks.") and v in ALLOWED_CALLBACKS) or (
                        path in ("hydra.launcher", "hydra.sweeper") and isinstance(v, str) and v.startswith(_PLUGIN_PREFIXES))
                    if not ok:
                        raise ConfigError(where, v, "no _target_ in a config file (hssim runs no code a config names; "
                                                    "launchers and sweepers come from Hydra's plugins)")
                walk(v, where)
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")

    walk(data, "")
    callbacks = (data.get("hydra") or {}).get("callbacks") or {}
    for name, entry in callbacks.items():
        target = entry.get("_target_") if isinstance(entry, dict) else None
        if target not in ALLOWED_CALLBACKS:
            raise ConfigError(f"hydra.callbacks.{name}", target, "no Hydra callbacks but hssim's own "
                                                                 "(a callback runs code)")


def hydra_quote(text: str) -> str:
    """``text`` as a quoted value of a Hydra override: quotes and backslashes before
    them escaped, ``${`` kept literal, so any path (spaces, quotes, commas) survives."""
    import re

    body = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, text)  # backslashes before a quote or the end
    body = body.replace("'", "\\'").replace("${", "\\${")
    return f"'{body}'"


def hydra_searchpath(config_dirs) -> str:
    """The override adding ``config_dirs`` to Hydra's search path, each path quoted."""
    from pathlib import Path

    return "hydra.searchpath=[" + ",".join(hydra_quote(f"file://{Path(d).resolve()}") for d in config_dirs) + "]"


def _hydra_reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    cause = exc.__cause__
    if cause is not None and str(cause):
        text = " ".join(str(cause).split()).split(" full_key:")[0]
    text = text.split(" Config search path:")[0]
    return f"a valid override ({text})"


def _offending_override(exc: Exception, overrides) -> tuple[str, Any]:
    """(key, override) of the override a Hydra error names, else a generic pair."""
    msg = str(exc)
    # the longest key the message names: 'experiment.n' rather than 'experiment'
    for o in sorted(overrides or [], key=lambda o: -len(o.split("=", 1)[0])):
        key = o.split("=", 1)[0].lstrip("+~")
        if key and key in msg:
            return key, o
    return "<overrides>", " ".join(overrides or [])


def compose_arm(overrides: Sequence[str], arm_overrides: Sequence[str] = (), name: str | None = None):
    """An arm's validated config: ``prepare(compose([*overrides, *arm_overrides]))``.

    Returns
    -------
    (Config, Scenario)

    Raises
    ------
    UserError  a failure of the arm's own overrides is prefixed with
        ``arm '<name>' (<its overrides>):``; without arm overrides it is raised as it is.
    """
    from ..config.build import prepare

    try:
        return prepare(compose([*overrides, *arm_overrides]))
    except UserError as exc:
        if not arm_overrides:
            raise
        raise UserError(f"arm {name!r} ({' '.join(arm_overrides)}): {exc}") from exc
