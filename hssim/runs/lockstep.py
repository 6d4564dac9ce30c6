"""Lock-step stepping: several arms advanced together one month at a time, on common
random numbers, with their monthly reporters and results readable at any month.

This is the run loop of the faces that show a run while it unfolds: the trainer
dashboard (two policy arms side by side) and the Mesa adapter (one arm, one month per
``mesa.Model.step``). A finished run and a run to the horizon in one call
(:func:`hssim.runs.execute.run_results`) use the same engine, so a lock-step arm
stepped to the horizon has exactly the results of :func:`hssim.run` on its config.

**Common random numbers.** Every arm runs with one seed (``seed``, or the seed the
arms' configs already share), and the arms must be comparable
(:func:`~hssim.runs.checks.check_comparable`: the same scenario, horizon and spin-up).
hssim's draws are counter-based and the hazard streams never read the policy, so arms
that differ only in their response see the same rainfall, conflict events and
importations draw for draw.

**Months.** Construction builds one engine per arm and runs the spin-up months (not
recorded, as in :func:`hssim.run`); :attr:`LockStep.month` is then 0. ``step(n)``
advances every arm ``n`` recorded months, one month at a time: all arms finish month
``k`` before any starts month ``k + 1``, so every reader between two calls sees every
arm at the same month. Stepping past the horizon is refused (nothing is stepped).

**Reporters.** After each month the arm's monthly reporters
(:data:`hssim.outcomes.REPORTERS`, the catalogue the Mesa adapter's DataCollector
reads) are computed once and kept; :meth:`LockStep.frame` returns them as a frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..outcomes import DISTRICT_REPORTERS, REPORTERS, MonthlyReporting, district_reporters, month_reporters
from .checks import check_comparable

if TYPE_CHECKING:  # pragma: no cover
    from ..config.schema import Config
    from ..engine import Engine
    from ..results import Results

__all__ = ["LockStep"]


class LockStep:
    """Arms stepped together one month at a time on common random numbers.

    Parameters
    ----------
    configs : mapping arm name -> config
        Each arm's config: an OmegaConf DictConfig, a plain mapping or a validated
        ``Config`` (validated here). Arms keep the mapping's order.
    seed : int, optional
        The seed of every arm (replaces each config's ``seed``). ``None``: the configs'
        own seed, which must then be the same in every arm.
    validate : bool
        Check the state invariants after every month (tests; slower).

    Attributes
    ----------
    arms : tuple of str  arm names, in order
    engines : dict arm -> hssim.engine.Engine  one engine per arm
    configs : dict arm -> Config  the validated config of each arm
    seed : int  the seed of every arm
    months : int  the horizon, months (the same in every arm)
    real_households_per_simulated : dict arm -> float
        real households each simulated one stands for (multiply simulated counts by it)

    Raises
    ------
    hssim.ConfigError
        naming the field, for an invalid config, an arm with a different seed (when
        ``seed`` is None), horizon, spin-up or scenario, or no arm at all; nothing is
        simulated before the check.
    """

    def __init__(self, configs: Mapping[str, Any], *, seed: int | None = None, validate: bool = False) -> None:
        from ..config.build import build_engine, load_config

        if not configs:
            raise ConfigError("arms", "{}", "one or more arms")
        for name in configs:
            if not isinstance(name, str) or not name.strip():
                raise ConfigError("arms", name, "a non-empty arm name")
        cfgs: dict[str, Config] = {}
        for name, data in configs.items():
            cfg = load_config(data)
            cfgs[name] = dataclasses.replace(cfg, seed=seed) if seed is not None else cfg
        # every arm on the same seed, horizon and scenario, checked before anything is built
        check_comparable(cfgs, seed=next(iter(cfgs.values())).seed)
        self.arms: tuple[str, ...] = tuple(cfgs)
        self.engines: dict[str, Engine] = {}
        for name, cfg in cfgs.items():
            engine = build_engine(cfg, validate=validate)
            engine.init()
            for _ in range(engine.spinup):  # spin-up: not recorded, as in hssim.run
                engine.step()
            self.engines[name] = engine
        self.configs: dict[str, Config] = {name: e.cfg for name, e in self.engines.items()}
        first = self.engines[self.arms[0]]
        self.seed: int = int(first.seed)
        self.months: int = int(first.months)
        self.real_households_per_simulated: dict[str, float] = {
            name: float(e.scenario.households.sum()) / e.households.n for name, e in self.engines.items()
        }
        self._reporting = {name: MonthlyReporting() for name in self.arms}  # running totals
        self._rows: dict[str, list[dict[str, Any]]] = {name: [] for name in self.arms}
        self._broken: str | None = None

    @classmethod
    def compose(
        cls,
        overrides: Sequence[str],
        arms: Mapping[str, Sequence[str]],
        *,
        seed: int | None = None,
        validate: bool = False,
    ) -> LockStep:
        """Arms composed from Hydra overrides (:func:`~hssim.runs.compose.compose_arm`).

        Parameters
        ----------
        overrides : list of str  overrides common to every arm (``["seed=3", "months=24"]``)
        arms : mapping arm name -> list of str  each arm's own overrides
            (``{"reactive": ["policy=reactive_integrated"], ...}``); no ``seed`` here
        seed, validate : as in :class:`LockStep`

        Raises
        ------
        hssim.UserError  an arm's failing overrides are named with the arm.
        """
        from .compose import compose_arm

        configs = {name: compose_arm(overrides, arm_overrides, name)[0] for name, arm_overrides in arms.items()}
        return cls(configs, seed=seed, validate=validate)

    # -- the clock ---------------------------------------------------------------------------
    @property
    def month(self) -> int:
        """Months of the horizon simulated so far (the same in every arm)."""
        e = self.engines[self.arms[0]]
        return e.ti - e.spinup

    @property
    def done(self) -> bool:
        """True at the horizon."""
        return self.month >= self.months

    def step(self, n: int = 1) -> int:
        """Advance every arm ``n`` months, one month at a time (all arms finish a month
        before any starts the next); returns ``n``.

        Raises
        ------
        ValueError  ``n`` is not an integer >= 0.
        RuntimeError  ``n`` months would pass the horizon (nothing is stepped), or an
            earlier step failed part-way (the arms may then be on different months).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"months to step must be an integer >= 0, not {n!r}")
        if self._broken is not None:
            raise RuntimeError(f"the arms are no longer in step: {self._broken}")
        left = self.months - self.month
        if n > left:
            raise RuntimeError(
                f"cannot step {n} month(s) from month {self.month}: the horizon is month {self.months} ({left} left)"
            )
        for _ in range(int(n)):
            m = self.month  # 0-based month being simulated
            for name in self.arms:
                engine = self.engines[name]
                try:
                    engine.step()
                except BaseException as exc:
                    # the arms stepped before this one are a month ahead: refuse to go on
                    self._broken = f"arm {name!r} failed in month {m + 1} ({type(exc).__name__}: {exc})"
                    raise
                self._rows[name].append(month_reporters(engine, m, self._reporting[name]))
        return int(n)

    def advance_to(self, month: int) -> int:
        """Step every arm to ``month`` (clipped to the horizon; never back); returns the
        months stepped."""
        return self.step(max(0, min(int(month), self.months) - self.month))

    # -- what the arms report -------------------------------------------------------------------
    def latest(self, arm: str) -> dict[str, Any]:
        """The reporters of ``arm``'s last month (:data:`hssim.outcomes.REPORTERS` order);
        empty before the first month."""
        rows = self._rows[self._arm(arm)]
        return dict(rows[-1]) if rows else {}

    def frame(self, arm: str | None = None) -> pd.DataFrame:
        """The monthly reporters so far.

        Parameters
        ----------
        arm : str, optional  one arm; None: every arm

        Returns
        -------
        DataFrame
            one row per month (and arm), columns :data:`hssim.outcomes.REPORTERS`
            (``month`` is 1-based); with every arm an ``arm`` column comes first and the
            arms follow each other in order; index 0..rows-1.
        """
        if arm is not None:
            rows = self._rows[self._arm(arm)]
            # built column by column, as Mesa's DataCollector builds its frame
            return pd.DataFrame({name: [r[name] for r in rows] for name in REPORTERS})
        parts = []
        for name in self.arms:
            f = self.frame(name)
            f.insert(0, "arm", name)
            parts.append(f)
        return pd.concat(parts, ignore_index=True)

    def districts(self, arm: str) -> dict[str, np.ndarray]:
        """``arm``'s last month by district: ``names`` (the scenario's districts) and
        :data:`hssim.outcomes.DISTRICT_REPORTERS` (float64[D] each: ``ipc3plus_frac``
        share of people, ``deaths`` simulated people, ``displaced_frac`` share of people,
        ``cost_usd`` real USD).

        Raises
        ------
        RuntimeError  before the first month.
        """
        engine = self.engines[self._arm(arm)]
        if self.month == 0:
            raise RuntimeError("no month simulated yet")
        return {"names": np.asarray(engine.scenario.names), **district_reporters(engine, self.month - 1)}

    def district_frame(self) -> pd.DataFrame:
        """The last month by district for every arm: columns ``arm, district`` and
        :data:`hssim.outcomes.DISTRICT_REPORTERS`, one row per arm and district (no rows
        before the first month)."""
        if self.month == 0:
            return pd.DataFrame(columns=["arm", "district", *DISTRICT_REPORTERS])
        parts = []
        for name in self.arms:
            d = self.districts(name)
            names = d.pop("names")
            parts.append(pd.DataFrame({"arm": name, "district": names, **d}))
        return pd.concat(parts, ignore_index=True)

    def results(self, arm: str) -> Results:
        """:class:`hssim.Results` of ``arm``'s months so far.

        At the horizon these are the results of the whole run (those of
        :func:`hssim.run` on the arm's config). Before it, the frames and summary cover
        months ``1..month``: the recorded months never change afterwards, so they equal
        the first ``month`` months of the finished run's time series; the modules'
        summaries (response, early warning) are their state at this month.

        Raises
        ------
        RuntimeError  before the first month.
        """
        from ..results import Results

        engine = self.engines[self._arm(arm)]
        m = self.month
        if m == 0:
            raise RuntimeError("no month simulated yet")
        record = engine.record()
        if m < self.months:
            # the recorder preallocates the horizon: keep only the months simulated
            record = dataclasses.replace(record, sums=record.sums[:m], district_series=record.district_series[:m])
        return Results.from_record(record, engine.cfg)

    def _arm(self, arm: str) -> str:
        if arm not in self.engines:
            raise KeyError(f"no arm {arm!r}; the arms are {', '.join(self.arms)}")
        return arm

    def __repr__(self) -> str:
        return f"LockStep(arms={list(self.arms)}, month={self.month}/{self.months}, seed={self.seed})"
