"""The module protocol: what every hazard, coupling, policy, intervention and
household process provides to the engine.

Every hook is declared here with a neutral default, and the engine calls each hook of
every module (no discovery by ``hasattr``): a module overrides the hooks it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .phases import Phase
from .state import FieldSpec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .engine import Engine

__all__ = ["Module"]


class Module:
    """Base class. Subclasses set ``phase`` and implement :meth:`step`.

    Life cycle: ``household_fields()`` (declare extra state) -> ``init(engine)`` once
    after all state is allocated (the module with ``creates_population = True``
    first, so the others see the households) -> ``step(engine, ti)`` every tick in
    phase order -> ``check_invariants(engine)`` after every tick in validating mode ->
    ``tables(engine)`` and ``summary(engine)`` once, when the run's record is made.

    A module reads the engine's arrays and writes only the fields it owns (``writes``);
    its per-household work is a numba kernel. ``reads`` and ``writes`` name the
    household and district fields (see :mod:`hssim.state`, or the module's own
    ``household_fields()``) it reads and writes in :meth:`step`: documentation the
    tests check against the state's field names, so a renamed field cannot leave a
    stale declaration behind.
    """

    phase: ClassVar[Phase]
    kind: ClassVar[str] = ""
    name: str = ""
    #: this module creates the households (its ``init`` runs before every other module's)
    creates_population: ClassVar[bool] = False
    #: fields read in :meth:`step` (household or district field names)
    reads: ClassVar[tuple[str, ...]] = ()
    #: fields written in :meth:`step` (household or district field names)
    writes: ClassVar[tuple[str, ...]] = ()

    def household_fields(self) -> tuple[FieldSpec, ...]:
        """Extra household fields this module owns (allocated before ``init``)."""
        return ()

    def init(self, engine: "Engine") -> None:  # noqa: D401 - protocol
        """Prepare module state (called once)."""

    def step(self, engine: "Engine", ti: int) -> None:
        """Advance one tick. ``ti`` counts from 0 at the first spin-up month."""
        raise NotImplementedError

    def check_invariants(self, engine: "Engine") -> None:
        """Raise :class:`hssim.errors.InvariantError` if this module's own state is
        inconsistent (called after every tick in validating mode only)."""

    def tables(self, engine: "Engine") -> dict[str, "pd.DataFrame"]:
        """Tables this module reports at the end of a run (name -> DataFrame)."""
        return {}

    def summary(self, engine: "Engine") -> dict[str, Any]:
        """Scalar outcomes this module adds to the run's summary at the end."""
        return {}
