"""Turn a plain mapping (a composed Hydra config) into frozen, validated dataclasses.

The dataclasses in :mod:`hssim.config.schema` are the schema. Each field may carry
``metadata={"range": (lo, hi)}`` (closed interval, ``None`` for unbounded) or
``metadata={"choices": (...)}``. :func:`from_mapping` rejects unknown keys, checks
types and ranges, and raises :class:`~hssim.errors.ConfigError` naming the dotted
path of the field, the value, and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from .errors import ConfigError

__all__ = ["from_mapping", "field_range", "to_dict", "year_month", "year_month_text"]

T = TypeVar("T")


def field_range(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A dataclass field with a closed allowed range ``[lo, hi]`` (``None`` = open)."""
    return dataclasses.field(default=default, metadata={"range": (lo, hi), "doc": doc})


def _describe_range(typ: str, lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{typ} in [{lo}, {hi}]"
    if lo is not None:
        return f"{typ} >= {lo}"
    if hi is not None:
        return f"{typ} <= {hi}"
    return typ


def _check_range(path: str, value: float, f: dataclasses.Field, typ: str) -> None:
    lo, hi = f.metadata.get("range", (None, None))
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, value, _describe_range(f"a finite {typ}", lo, hi))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(path, value, _describe_range(typ, lo, hi))


def _convert(path: str, value: Any, hint: Any, f: dataclasses.Field | None) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(hint)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _convert(path, value, non_none[0], f)
        raise TypeError(f"unsupported union {hint} at {path}")
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            raise ConfigError(path, value, "one of " + ", ".join(repr(c) for c in choices))
        return value
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, path)
    if origin is tuple:
        args = get_args(hint)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ConfigError(path, value, "a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(f"{path}[{i}]", v, args[0], f) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(path, value, f"a list of {len(args)} items")
        return tuple(_convert(f"{path}[{i}]", v, a, f) for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict:
        kt, vt = get_args(hint)
        if not isinstance(value, Mapping):
            raise ConfigError(path, value, "a mapping")
        return types.MappingProxyType(
            {_convert(f"{path}", k, kt, None): _convert(f"{path}.{k}", v, vt, f) for k, v in value.items()}
        )
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, value, "true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(path, value, _describe_range("an integer", *_rng(f)))
        if f is not None:
            _check_range(path, value, f, "an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, value, _describe_range("a number", *_rng(f)))
        value = float(value)
        if f is not None:
            _check_range(path, value, f, "a number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(path, value, "a string")
        choices = f.metadata.get("choices") if f is not None else None
        if choices and value not in choices:
            raise ConfigError(path, value, "one of " + ", ".join(repr(c) for c in choices))
        return value
    raise TypeError(f"unsupported type {hint!r} at {path}")


def _rng(f: dataclasses.Field | None) -> tuple[Any, Any]:
    return f.metadata.get("range", (None, None)) if f is not None else (None, None)


def from_mapping(cls: type[T], data: Any, path: str = "") -> T:
    """Build the frozen dataclass ``cls`` from ``data``, validating every field.

    Parameters
    ----------
    cls : dataclass type  the schema
    data : mapping  plain values (e.g. ``OmegaConf.to_container(cfg, resolve=True)``)
    path : str  dotted path of ``data`` in the whole config, for messages

    Raises
    ------
    ConfigError
        for an unknown key, a wrong type, or a value out of range.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(path or "<root>", data, "a mapping of fields")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{path}." if path else ""
    unknown = [k for k in data if k not in fields]
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise ConfigError(prefix + str(unknown[0]), data[unknown[0]], f"one of: {allowed}", problem="unknown key")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _convert(prefix + name, data[name], hints[name], f)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(prefix + name, None, "a value (this field is required)")
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if check is not None:
        check(path)
    return obj


def to_dict(obj: Any) -> Any:
    """Plain-python view of a config dataclass (for saving the resolved config)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def year_month(text: str) -> int | None:
    """A calendar month ``'YYYY-MM'`` as a month count (``year * 12 + month - 1``), so
    that months subtract; None when ``text`` is not one."""
    import re

    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*", str(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def year_month_text(count: int) -> str:
    """The inverse of :func:`year_month`: a month count as ``'YYYY-MM'``."""
    return f"{count // 12:04d}-{count % 12 + 1:02d}"
