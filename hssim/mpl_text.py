"""Figures never interpret a user's label as matplotlib mathtext.

District, arm and parameter names come from users' tables and command lines; a name
such as ``Zone $A$`` or ``cost$`` would otherwise be parsed as TeX and either render
wrongly or raise (``ValueError: ... mathtext``) after the whole simulation is done.
Every figure function of hssim runs under :func:`literal_text`.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

__all__ = ["literal_text"]

F = TypeVar("F", bound=Callable)


def literal_text(fn: F) -> F:
    """Decorate a figure-building function: text created inside it is drawn literally."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
