"""The module protocol: what every hazard, coupling, policy, intervention and
household process provides to the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .phases import Phase
from .state import FieldSpec

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["Module"]


class Module:
    """Base class. Subclasses set ``phase`` and implement :meth:`step`.

    Life cycle: ``household_fields()`` (declare extra state) -> ``init(engine)`` once
    after all state is allocated (the module with ``creates_population = True``
    first, so the others see the households) -> ``step(engine, ti)`` every tick in
    phase order. A module reads the engine's arrays and writes only
    the fields it owns; its per-household work is a numba kernel.
    """

    phase: ClassVar[Phase]
    kind: ClassVar[str] = ""
    name: str = ""

    def household_fields(self) -> tuple[FieldSpec, ...]:
        return ()

    def init(self, engine: "Engine") -> None:  # noqa: D401 - protocol
        """Prepare module state (called once)."""

    def step(self, engine: "Engine", ti: int) -> None:
        """Advance one tick. ``ti`` counts from 0 at the first spin-up month."""
        raise NotImplementedError
