"""The engine: owns state, modules, random streams and the record; steps months.

The engine knows nothing of Hydra or Mesa, of the config classes or of the results
layer: it reads the few settings it needs from the objects it is given (``cfg.seed``,
``cfg.months``, ...) and a finished run is a plain :class:`RunRecord` of arrays and
tables, which :meth:`hssim.results.Results.from_record` turns into frames. Build one
with :func:`hssim.config.build.build_engine` (the one place config becomes objects).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvariantError
from .module import Module
from .phases import Phase
from .state import DISTRICT_FIELDS, HAZARD_OUTPUTS, HOUSEHOLD_FIELDS, Arrays
from .sums import N_CELLS, N_SUMS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .config.schema import Config
    from .scenario import Scenario

__all__ = ["Engine", "InvariantError", "RunRecord"]


@dataclass(frozen=True)
class RunRecord:
    """What a finished run leaves behind: plain arrays and tables, no config objects.

    Attributes
    ----------
    sums : int64[months, D, N_CELLS, N_SUMS]  indicator sums by month, district and household cell
    district_series : float64[months, D, n_fields]  district conditions by month
    district_fields : tuple of str  names of the ``n_fields`` district fields
    district_names : tuple of str  the ``D`` districts
    households_simulated : int  simulated households
    households_real : float  real households the scenario stands for
    tables : dict[str, DataFrame]  the modules' tables (:meth:`Module.tables`)
    summary : dict[str, Any]  the modules' scalar outcomes (:meth:`Module.summary`)
    timings_s : dict[str, float]  seconds spent in each module's ``step``
    """

    sums: np.ndarray = field(repr=False)
    district_series: np.ndarray = field(repr=False)
    district_fields: tuple[str, ...]
    district_names: tuple[str, ...]
    households_simulated: int
    households_real: float
    tables: dict[str, "pd.DataFrame"] = field(default_factory=dict, repr=False)
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict, repr=False)


class Recorder(Module):
    """Copies the month's indicator sums and district conditions into preallocated arrays."""

    phase = Phase.OUTCOME
    name = "recorder"
    reads = tuple(f.name for f in DISTRICT_FIELDS)  # every district condition (and the month's sums)
    writes = ()  # only its own record

    def init(self, engine) -> None:
        D = engine.scenario.n_districts
        self.sums = np.zeros((engine.months, D, N_CELLS, N_SUMS), np.int64)
        self.district_names = [f.name for f in DISTRICT_FIELDS]
        self.district = np.zeros((engine.months, D, len(self.district_names)), np.float64)

    def step(self, engine, ti: int) -> None:
        m = ti - engine.spinup
        if m < 0:
            return
        self.sums[m] = engine.month_sums
        ds = engine.districts
        for k, name in enumerate(self.district_names):  # district fields, not households
            self.district[m, :, k] = ds[name]


class Engine:
    """A simulation: state arrays + modules stepped in phase order.

    Parameters
    ----------
    cfg : Config  validated configuration
    scenario : Scenario  district data
    modules : list of Module  ordered here by ``(phase, name)``
    validate : bool  check state invariants after every tick (tests; slower)
    """

    def __init__(self, cfg: "Config", scenario: "Scenario", modules: list[Module], validate: bool = False):
        self.cfg = cfg
        self.scenario = scenario
        self.seed = cfg.seed
        self.months = cfg.months
        self.spinup = cfg.spinup_months
        self.n_ticks = self.spinup + self.months
        self.validate = validate
        self.recorder = Recorder()
        names = [m.name for m in modules]
        if len(set(names)) != len(names):
            raise ValueError(f"module names must be unique: {names}")
        self.modules = sorted([*modules, self.recorder], key=lambda m: (int(m.phase), m.name))
        self.households = Arrays(cfg.population.households, HOUSEHOLD_FIELDS)
        for m in self.modules:
            self.households.add(m.household_fields())
        self.districts = Arrays(scenario.n_districts, DISTRICT_FIELDS)
        self.month_sums = np.zeros((scenario.n_districts, N_CELLS, N_SUMS), np.int64)
        self.dead_at_month_start = np.zeros(cfg.population.households, np.int8)
        self.storyline_forcing = self._storyline_forcing()
        self.ti = 0
        self.timings_s: dict[str, float] = {m.name: 0.0 for m in self.modules}
        self._initialised = False

    # -- calendar -------------------------------------------------------------
    def calendar_month(self, ti: int) -> int:
        """Calendar month index 0..11 (0 = January) of tick ``ti``."""
        return (self.cfg.scenario.start_calendar_month - 1 + ti - self.spinup) % 12

    def _storyline_forcing(self) -> np.ndarray:
        """float64[n_ticks, D]: forced standardised anomalies, NaN where not forced."""
        forced = np.full((self.n_ticks, self.scenario.n_districts), np.nan)
        index = {n: i for i, n in enumerate(self.scenario.names)}
        for ev in self.cfg.storyline.events:
            cols = [index[n] for n in ev.districts] if ev.districts else slice(None)
            end = ev.end if ev.end is not None else ev.start
            forced[self.spinup + ev.start - 1 : self.spinup + end, cols] = ev.anomaly
        return forced

    # -- running --------------------------------------------------------------
    def init(self) -> None:
        # the module that creates the population goes first, so that every other
        # module's init() sees the households; then phase order
        for m in sorted(self.modules, key=lambda m: (not m.creates_population, int(m.phase), m.name)):
            m.init(self)
        self._people0 = self.households.members.astype(np.int64) + self.households.dead - self.households.born
        self.districts.health_access_eff[:] = self.scenario.health_access  # before the first IMPACT phase
        self._initialised = True
        if self.validate:
            self.check_invariants()

    def step(self) -> None:
        """Advance one month (the first ``spinup`` ticks are not recorded)."""
        if not self._initialised:
            self.init()
        if self.ti >= self.n_ticks:
            raise RuntimeError("the horizon is reached")
        # neutral hazard state: climatological rain unless a hazard module says otherwise
        ds = self.districts
        ds.rain_mm[:] = self.scenario.rain_clim_mm[:, self.calendar_month(self.ti)]
        for name in HAZARD_OUTPUTS:
            ds[name][:] = 0.0
        self.month_sums[:] = 0  # every module adds its households' contributions
        self.dead_at_month_start[:] = self.households.dead
        for m in self.modules:
            t0 = time.perf_counter()
            m.step(self, self.ti)
            self.timings_s[m.name] += time.perf_counter() - t0
        self.ti += 1
        if self.validate:
            self.check_invariants()

    @property
    def done(self) -> bool:
        return self.ti >= self.n_ticks

    def run(self, progress=None) -> RunRecord:
        """Run to the horizon and return its :class:`RunRecord`.

        ``progress``, if given, is called as ``progress(ti, n_ticks)`` after each tick.
        """
        while not self.done:
            self.step()
            if progress is not None:
                progress(self.ti, self.n_ticks)
        return self.record()

    def record(self) -> RunRecord:
        """The run's record (the recorded months so far; every module's tables and summary)."""
        tables: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        for m in self.modules:
            tables.update(m.tables(self))
            summary.update(m.summary(self))
        rec = self.recorder
        return RunRecord(
            sums=rec.sums,
            district_series=rec.district,
            district_fields=tuple(rec.district_names),
            district_names=tuple(self.scenario.names),
            households_simulated=int(self.households.n),
            households_real=float(self.scenario.households.sum()),
            tables=tables,
            summary=summary,
            timings_s=dict(self.timings_s),
        )

    # -- invariants -------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` if the state is inconsistent."""
        hh = self.households
        for name in ("herd_tlu", "assets_usd", "savings_usd", "debt_usd", "food_stock_kg", "land_ha"):
            a = hh[name]
            if not np.all(np.isfinite(a)) or a.min(initial=0) < 0:
                raise InvariantError(f"{name} negative or not finite at tick {self.ti}")
        if hh.members.min(initial=0) < 0 or hh.u5.min(initial=0) < 0 or hh.adults.min(initial=0) < 0:
            raise InvariantError(f"negative member counts at tick {self.ti}")
        if np.any(hh.u5 + hh.adults > hh.members):
            raise InvariantError(f"more under-fives and adults than members at tick {self.ti}")
        people = hh.members.astype(np.int64) + hh.dead - hh.born
        if not np.array_equal(people, self._people0):
            raise InvariantError(f"members alive + dead - born changed at tick {self.ti}")
        if hh.n != self.cfg.population.households:
            raise InvariantError("households not conserved")
        if not np.all((hh.adequacy >= 0) & (hh.adequacy <= 1)):
            raise InvariantError(f"adequacy outside [0, 1] at tick {self.ti}")
        if not np.all((hh.ipc_phase >= 1) & (hh.ipc_phase <= 5)):
            raise InvariantError(f"IPC phase outside 1..5 at tick {self.ti}")
        D = self.scenario.n_districts
        if hh.location.min(initial=0) < 0 or hh.location.max(initial=0) >= D:
            raise InvariantError(f"a household's location is not a district at tick {self.ti}")
        home = hh.displaced == 0
        if not np.array_equal(hh.location[home], hh.district[home]):
            raise InvariantError(f"a household at home lives outside its district at tick {self.ti}")
        if np.any((hh.displaced < 0) | (hh.displaced > 2)):
            raise InvariantError(f"displacement status outside 0..2 at tick {self.ti}")
        in_camp = np.bincount(hh.location[(hh.displaced == 2) & (hh.members > 0)], minlength=D)
        capacity = np.floor(self.scenario.camp_capacity * hh.n / self.scenario.households.sum())
        if np.any(in_camp > capacity):
            raise InvariantError(f"a camp holds more households than its capacity at tick {self.ti}")
        if not np.all((hh.fear >= 0) & (hh.fear <= 1)):
            raise InvariantError(f"fear outside [0, 1] at tick {self.ti}")
        for m in self.modules:  # module-specific invariants (e.g. disease compartments)
            m.check_invariants(self)
