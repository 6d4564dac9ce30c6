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

    A module's per-household work is a numba kernel. ``reads`` and ``writes`` name the
    household and district fields (see :mod:`hssim.state`, or a module's
    ``household_fields()``) that its :meth:`step` reads and writes, in place or
    through the kernels it calls; its private arrays are not listed. ``reads``: every
    field whose value at the start of the step it uses (one updated in place,
    ``x += ...``, is in both); ``writes``: every field it may change (clear, set,
    update). A field may have several writers (``herd_tlu``: conflict, households,
    displacement, early-warning dissemination). A name may belong to a module absent
    from a run (the disease compartments without a disease hazard): it is touched only
    where it exists. What the engine itself writes at the start of a tick (climatological
    rain, the neutral hazard outputs, the month's sums) is no module's.
    ``tests/test_module_protocol.py`` checks the names against a built engine's fields,
    that every change a step makes is declared, and that changing undeclared fields
    changes nothing a step writes.
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
