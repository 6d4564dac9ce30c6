"""A ``mesa.Model`` over the hssim engine: one month per ``step()``, Mesa's DataCollector,
and ``mesa.batch_run`` over any config parameter.

The households stay arrays in the engine: **no Mesa Agent is created** (a Python
object per household would cost more than the whole numba month). The adapter is a
thin layer, like the Hydra CLI: it composes the same config and steps it with the runs
layer's :class:`~hssim.runs.lockstep.LockStep` (one arm), the loop the trainer dashboard
uses, which builds the same engine as :func:`hssim.run` and computes the outcome
catalogue's monthly reporters.

Parameters are keyword overrides of the hssim config, so ``batch_run`` can vary any
of them::

    import mesa
    from hssim.mesa_model import HumanSecurityModel

    frame = pd.DataFrame(mesa.batch_run(
        HumanSecurityModel,
        parameters={
            "policy": ["reactive_integrated", "anticipatory_integrated"],  # a config group option
            "policy.budget_usd_per_year": [1e7, 2e7],                      # a dotted field
            "population__households": 2000,                                # '__' works as '.'
            "months": 36,
            "seed": range(5),                                              # explicit seeds: see below
        },
        iterations=1, max_steps=36, number_processes=1, data_collection_period=1,
    ))

**Seeding.** ``batch_run`` does not seed its iterations: ``iterations=5`` without a
``seed`` parameter gives five runs seeded from operating-system entropy, which cannot
be repeated. Pass ``seed`` in ``parameters`` (one value per replicate, e.g.
``range(5)``) and leave ``iterations=1``. ``seed`` seeds both Mesa's ``model.rng`` /
``model.random`` and every hssim random stream (the config's ``seed``), so the same
seed and parameters give identical rows in any process. With ``seed=None`` a seed is
drawn from Mesa's entropy-seeded ``model.rng`` and kept in :attr:`hssim_seed`, so such
a run can still be repeated after the fact.

**Time.** The constructor runs the config's spin-up months (not recorded, as in
:func:`hssim.run`); each ``step()`` then simulates one recorded month, and
``running`` turns false at the horizon (``months``). The DataCollector collects
after every step, not at construction: row ``k`` of
``datacollector.get_model_vars_dataframe()`` is month ``k + 1`` (see the ``month``
reporter), which is also what ``batch_run`` reads as ``Step`` ``k`` (it reads row
``model.steps - 1`` for the last step, so the horizon's month is the last row).

Reporters (:data:`REPORTERS`) are shares of people for the simulated population,
counts of simulated households and people, and money for the scenario's real
population (multiply simulated counts by :attr:`real_households_per_simulated` to
compare them with money). ``Results`` of the finished run: :meth:`results`.

``import mesa`` sets the process's multiprocessing start method to ``spawn``: this
module is therefore not imported by ``import hssim``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import mesa
import numpy as np

from .api import compose
from .config.build import load_config
from .errors import ConfigError
from .outcomes import REPORTERS as outcome_reporters
from .results import Results
from .runs.lockstep import LockStep

__all__ = ["REPORTERS", "HumanSecurityModel", "override_string"]

#: model reporters: name -> description (the outcome catalogue's :data:`hssim.outcomes.REPORTERS`)
REPORTERS: dict[str, str] = {name: r.description for name, r in outcome_reporters.items()}
#: the adapter's one arm in its :class:`~hssim.runs.lockstep.LockStep`
ARM = "model"


def override_string(key: str, value: Any) -> str:
    """The Hydra override ``key=value`` for a Python value.

    ``key`` may use ``__`` for ``.`` (``population__households``). Strings that are
    not plain words are quoted; sequences become Hydra lists; ``None`` is ``null``.

    >>> override_string("population__households", 2000)
    'population.households=2000'
    >>> override_string("policy", "anticipatory_integrated")
    'policy=anticipatory_integrated'
    """
    key = key.replace("__", ".")
    return f"{key}={_hydra_value(key, value)}"


def _hydra_value(key: str, value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(key, value, "a finite number")
        return repr(value)
    if isinstance(value, str):
        plain = value.replace("_", "").replace("-", "").replace(".", "").replace("/", "").isalnum()
        return value if plain else "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_hydra_value(key, v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{_hydra_value(key, v)}" for k, v in value.items()) + "}"
    raise ConfigError(key, value, "a number, string, boolean, list or mapping")


class HumanSecurityModel(mesa.Model):
    """The hssim engine as a Mesa model (one month per step).

    Parameters
    ----------
    seed : int, optional
        Seeds Mesa's ``rng``/``random`` and hssim's random streams (``cfg.seed``).
        ``None``: drawn from operating-system entropy and kept in :attr:`hssim_seed`.
    overrides : iterable of str, optional
        Hydra overrides applied before the keyword parameters (``["policy=none"]``).
    config : DictConfig, mapping or Config, optional
        A config to start from instead of composing the default one; keyword
        parameters and ``overrides`` are then not allowed (set them in the config).
    validate : bool
        Check the state invariants after every month (tests; slower).
    **params
        Config overrides by dotted path (``"policy.budget_usd_per_year"``), with
        ``__`` for ``.`` (``policy__budget_usd_per_year``), or config group options
        (``policy="anticipatory_integrated"``, ``storyline="two_failed_seasons"``).

    Attributes
    ----------
    lockstep : hssim.runs.LockStep  the one-arm lock-step run (arm :data:`ARM`)
    engine : hssim.engine.Engine
    cfg : hssim.config.schema.Config  the validated config
    hssim_seed : int  the seed of every hssim stream
    datacollector : mesa.DataCollector  model reporters :data:`REPORTERS`
    real_households_per_simulated : float

    Raises
    ------
    hssim.ConfigError  naming the field, before anything is simulated.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        overrides: Iterable[str] = (),
        config: Any = None,
        validate: bool = False,
        **params: Any,
    ) -> None:
        if seed is not None:
            if isinstance(seed, np.generic):
                seed = seed.item()
            if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
                raise ConfigError("seed", seed, "an integer in [0, 2**63 - 1]")
        super().__init__(seed=seed)
        # with seed=None Mesa seeds its generator from OS entropy; draw hssim's seed from it
        self.hssim_seed = int(seed) if seed is not None else int(self.rng.integers(0, 2**63 - 1))
        overrides = list(overrides)
        if config is not None:
            if params or overrides:
                raise ConfigError("config", "config with overrides", "either config= or overrides/keyword parameters")
            cfg = load_config(config)
        else:
            ovs = overrides + [override_string(k, v) for k, v in params.items()] + [f"seed={self.hssim_seed}"]
            cfg = load_config(compose(ovs))
        # one arm stepped by the runs layer (engine, spin-up, the catalogue's reporters)
        self.lockstep = LockStep({ARM: cfg}, seed=self.hssim_seed, validate=validate)
        self.engine = self.lockstep.engines[ARM]
        self.cfg = self.lockstep.configs[ARM]
        self.months = self.lockstep.months
        self.real_households_per_simulated = self.lockstep.real_households_per_simulated[ARM]
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, n=name: m.latest[n]) for name in REPORTERS}
        )
        self.running = self.months > 0

    # -- Mesa ------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one month of the horizon and collect the reporters."""
        if self.lockstep.done:
            self.running = False
            return
        self.lockstep.step(1)
        self.latest = self.lockstep.latest(ARM)
        self.datacollector.collect(self)
        self.running = not self.lockstep.done

    # -- results ---------------------------------------------------------------
    @property
    def month(self) -> int:
        """Months of the horizon simulated so far."""
        return self.lockstep.month

    def results(self) -> Results:
        """:class:`hssim.Results` of the finished run (those of :func:`hssim.run` on :attr:`cfg`).

        Raises
        ------
        RuntimeError  before the horizon.
        """
        if not self.lockstep.done:
            raise RuntimeError(f"the run is at month {self.month} of {self.months}: step to the horizon first")
        return self.lockstep.results(ARM)

    def district_indicators(self) -> dict[str, np.ndarray]:
        """The latest month by district: ``ipc3plus_frac``, ``deaths``, ``displaced_frac``,
        ``cost_usd`` (float64[D] each) and ``names`` (the scenario's districts).

        Raises
        ------
        RuntimeError  before the first month.
        """
        return self.lockstep.districts(ARM)
