"""The modules' declared ``reads`` and ``writes`` (:class:`hssim.module.Module`) hold.

One small run has every module in it: the three hazards, the food system, households,
displacement, early warning, the response and every intervention kind of the standard
portfolio (an anticipatory integrated response in a storyline with two failed seasons;
cholera imported often and made deadly, conflict made deadly, diversification trained
quickly, so that every declared write happens). Each module's ``step`` is wrapped:

* every household and district array is copied before the step and compared after it:
  whatever changed must be in the module's ``writes`` and, over the run, everything in
  its ``writes`` must change at least once (so each field is declared by exactly the
  modules that write it);
* what changes *between* module steps is the engine's own doing at the start of a tick
  (climatological ``rain_mm`` and the neutral ``HAZARD_OUTPUTS``; the month's sums are
  not a field): it is checked to be exactly that, and attributed to no module;
* the run is then made again with a perturbation check at a few ticks, chosen from the
  first run so that every (module, field) write of the run happens at one of them: there
  each step is also run twice on copies of the module, once as is and once with every
  field the module declares neither reading nor writing shuffled (household values among
  households, district values among districts: every value stays a valid one, indices
  included) and floats shifted. What the step writes, the month's sums and the module's
  own arrays must come out the same, bit for bit (on a difference the fields are tried
  one at a time to name the undeclared read). A field a module both reads and writes
  cannot be checked this way: such reads are checked only as names.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import pkgutil

import numpy as np
import pytest

import hssim
from hssim.config.build import build_engine
from hssim.module import Module
from hssim.registry import kinds
from hssim.state import HAZARD_OUTPUTS

#: every module in one run, and every declared write happening in it
OVERRIDES = (
    "seed=42", "population.households=300", "months=30", "spinup_months=2",
    "policy=anticipatory_integrated", "storyline=two_failed_seasons",
    "hazards.disease.importations_per_month=2", "hazards.disease.r0=1.5",
    "hazards.disease.cfr_untreated=0.5", "hazards.disease.treatment_efficacy=0",
    "hazards.conflict.p_death_member=0.3", "hazards.conflict.households_hit_per_event=500",
    "interventions.diversification.capacity_households_per_month=1e9",
    "interventions.diversification.training_months=2",
)  # fmt: skip
#: what the engine writes itself at the start of every tick, outside any module's step
ENGINE_WRITES = frozenset(("rain_mm", *HAZARD_OUTPUTS))


def _field(engine, name: str) -> np.ndarray:
    hh = engine.households
    return hh[name] if name in hh.names() else engine.districts[name]


def _state(engine) -> dict[str, np.ndarray]:
    return {**engine.households.snapshot(), **engine.districts.snapshot()}


def _restore(engine, state: dict[str, np.ndarray], month_sums: np.ndarray) -> None:
    for name, values in state.items():
        _field(engine, name)[:] = values
    engine.month_sums[:] = month_sums


def _changed(before: dict[str, np.ndarray], engine) -> set[str]:
    return {name for name, v in before.items() if not np.array_equal(v, _field(engine, name), equal_nan=True)}


def _same(a, b) -> bool:
    """Whether two values of a module's own state are equal (arrays bit for bit; other
    modules, configs and functions are not compared)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, np.floating)):
        return bool(a == b or (isinstance(b, (float, np.floating)) and np.isnan(a) and np.isnan(b)))
    if isinstance(a, (bool, int, str, np.generic)) or a is None:
        return bool(a == b)
    return True


def _outputs(module, engine) -> dict:
    """What a step of ``module`` (a copy, not used again) leaves behind: the fields it
    writes, the month's sums and its own state."""
    own = {k: v for k, v in vars(module).items() if k != "step" and not isinstance(v, Module)}
    return {"fields": {n: _field(engine, n).copy() for n in module.writes}, "month_sums": engine.month_sums.copy(),
            "own": own}  # fmt: skip


def _perturb(engine, names, seed: int = 0) -> None:
    """Shuffle each field (household values among households, district values among
    districts) and shift floats: values stay valid, indices in range."""
    rng = np.random.default_rng(seed)
    for name in sorted(names):
        a = _field(engine, name)
        new = a[rng.permutation(a.size)]
        if a.dtype.kind == "f":
            new = new + 0.125
        a[:] = new


def _configs(obj, found: dict, seen: set) -> None:
    """The frozen config dataclasses ``obj`` reaches through modules, lists and dicts."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and obj.__dataclass_params__.frozen:
        found[id(obj)] = obj
        return
    if isinstance(obj, Module):
        children = vars(obj).values()
    elif isinstance(obj, dict):
        children = obj.values()
    elif isinstance(obj, (list, tuple)):
        children = obj
    else:
        return
    for child in children:
        _configs(child, found, seen)


def _twin(module):
    """A deep copy of ``module`` (and the modules it refers to) sharing its configs,
    which are immutable (and hold mapping proxies, which do not copy)."""
    memo: dict = {}
    _configs(module, memo, set())
    return copy.deepcopy(module, memo)


def _step_copy(module, engine, ti, state, month_sums, perturbed=()):
    _restore(engine, state, month_sums)
    _perturb(engine, perturbed)
    twin = _twin(module)  # the module as it was before this tick's step
    type(module).step(twin, engine, ti)  # the class's step: the instance's is the wrapper
    return _outputs(twin, engine)


def _differences(a: dict, b: dict) -> list[str]:
    out = [f"field {n}" for n in a["fields"] if not _same(a["fields"][n], b["fields"][n])]
    if not _same(a["month_sums"], b["month_sums"]):
        out.append("the month's sums")
    out += [f"own state {k}" for k in a["own"] if not _same(a["own"][k], b["own"].get(k))]
    return out


def _undeclared_reads(module, engine, ti, state, month_sums) -> str | None:
    """None if shuffling every field the module does not declare leaves its step's
    results the same; else which fields (tried one at a time) change what."""
    fields = set(state)
    free = fields - set(module.reads) - set(module.writes)
    plain = _step_copy(module, engine, ti, state, month_sums)
    if not _differences(plain, _step_copy(module, engine, ti, state, month_sums, free)):
        return None
    culprits = {}
    for name in sorted(free):
        diff = _differences(plain, _step_copy(module, engine, ti, state, month_sums, (name,)))
        if diff:
            culprits[name] = diff
    return f"{module.name} at tick {ti} reads undeclared fields: " + "; ".join(
        f"{n} (changes {', '.join(d)})" for n, d in culprits.items()
    )


@dataclasses.dataclass
class Trace:
    engine: object
    #: tick -> (module name, field) pairs its step changed at that tick
    by_tick: dict[int, set[tuple[str, str]]]
    #: fields changed between module steps (the engine's own writes)
    between: set[str]
    #: ticks at which the perturbation check ran, how many checks ran, and those that failed
    check_ticks: frozenset[int] = frozenset()
    n_checks: int = 0
    undeclared_reads: list[str] = dataclasses.field(default_factory=list)
    #: the run with checks changed the same fields at the same ticks as the run without
    same_as_unchecked: bool = True

    def changed(self, module: str) -> set[str]:
        return {f for pairs in self.by_tick.values() for m, f in pairs if m == module}


def _traced_run(check_ticks: frozenset[int] = frozenset()) -> Trace:
    engine = build_engine(hssim.compose(list(OVERRIDES)))
    engine.init()
    t = Trace(engine, {ti: set() for ti in range(engine.n_ticks)}, set(), check_ticks)
    last = {"state": _state(engine)}

    def wrap(module):
        step = module.step

        def traced(eng, ti):
            t.between |= _changed(last["state"], eng)
            before = _state(eng)
            if ti in check_ticks:
                sums = eng.month_sums.copy()
                problem = _undeclared_reads(module, eng, ti, before, sums)
                t.n_checks += 1
                if problem:
                    t.undeclared_reads.append(problem)
                _restore(eng, before, sums)
            step(eng, ti)
            t.by_tick[ti] |= {(module.name, f) for f in _changed(before, eng)}
            last["state"] = _state(eng)

        return traced

    for m in engine.modules:
        m.step = wrap(m)
    while not engine.done:
        engine.step()
    return t


def _covering_ticks(by_tick: dict[int, set]) -> frozenset[int]:
    """A few ticks at which, together, every (module, field) write of the run happens
    (greedy), so the perturbation check sees every module write every field it writes."""
    left, chosen = set().union(*by_tick.values()), set()
    while left:
        ti = max(sorted(by_tick), key=lambda t: len(by_tick[t] & left))
        chosen.add(ti)
        left -= by_tick[ti]
    return frozenset(chosen)


@pytest.fixture(scope="module")
def trace() -> Trace:
    """The run, traced; then again with the perturbation check at covering ticks."""
    plain = _traced_run()
    checked = _traced_run(_covering_ticks(plain.by_tick))
    checked.same_as_unchecked = checked.by_tick == plain.by_tick and checked.between == plain.between
    return checked


# -- the declarations themselves -------------------------------------------------------
def _module_classes() -> set[type]:
    for pkg in ("hssim.hazards", "hssim.couplings", "hssim.households", "hssim.interventions", "hssim.policies"):
        for info in pkgutil.iter_modules(importlib.import_module(pkg).__path__, pkg + "."):
            importlib.import_module(info.name)
    importlib.import_module("hssim.engine")
    found, todo = set(), [Module]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("hssim.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_class_that_steps_declares_its_reads_and_writes():
    """A class that defines ``step`` (or an intervention's ``apply``) declares both in its
    own body: a subclass that changes what a step does cannot inherit a stale list."""
    classes = _module_classes()
    assert len(classes) >= 25, sorted(c.__name__ for c in classes)
    for cls in classes:
        if "step" in vars(cls) or "apply" in vars(cls):
            missing = [h for h in ("reads", "writes") if h not in vars(cls)]
            assert not missing, f"{cls.__module__}.{cls.__qualname__} does not declare {missing}"
        for hook in ("reads", "writes"):
            names = getattr(cls, hook)
            assert isinstance(names, tuple) and all(isinstance(n, str) for n in names), (cls, hook)
            assert len(set(names)) == len(names), f"{cls.__qualname__}.{hook} names a field twice: {names}"


def test_declared_names_are_fields_of_a_built_engine(trace):
    engine = trace.engine
    hh, ds = set(engine.households.names()), set(engine.districts.names())
    assert not hh & ds  # a name says which kind of field it is
    for m in engine.modules:
        for hook in ("reads", "writes"):
            unknown = sorted(set(getattr(m, hook)) - hh - ds)
            assert not unknown, f"{type(m).__qualname__}.{hook} names no field of the engine: {unknown}"


def test_the_run_has_every_module_kind(trace):
    """So the checks below cover every kind there is."""
    present = {type(m).kind for m in trace.engine.modules}
    assert set(kinds("hazards")) <= present
    assert set(kinds("interventions")) <= present
    core = {"FoodSystem", "Households", "Displacement", "EarlyWarning", "Response", "Recorder"}
    assert core <= {type(m).__name__ for m in trace.engine.modules}


# -- what the steps do -------------------------------------------------------------------
def test_every_change_a_step_makes_is_declared(trace):
    undeclared = {m.name: sorted(trace.changed(m.name) - set(m.writes)) for m in trace.engine.modules}
    undeclared = {k: v for k, v in undeclared.items() if v}
    assert not undeclared, f"fields a step wrote without declaring them in writes: {undeclared}"


def test_every_declared_write_happens(trace):
    """With the above: each field is declared by exactly the modules whose step writes it.
    (If a change to the model makes one of these writes rarer, make it happen in
    OVERRIDES rather than drop the declaration.)"""
    never = {m.name: sorted(set(m.writes) - trace.changed(m.name)) for m in trace.engine.modules}
    never = {k: v for k, v in never.items() if v}
    assert not never, f"declared in writes but never written in the run: {never}"


def test_the_engine_writes_only_its_neutral_hazard_state(trace):
    assert trace.between <= ENGINE_WRITES, sorted(trace.between - ENGINE_WRITES)
    assert "rain_mm" in trace.between  # the check sees the engine's writes at all


def test_a_step_reads_no_field_it_does_not_declare(trace):
    assert trace.same_as_unchecked  # the checks leave the run as it was
    assert 0 < len(trace.check_ticks) <= 6, sorted(trace.check_ticks)
    assert trace.n_checks == len(trace.check_ticks) * len(trace.engine.modules)
    assert not trace.undeclared_reads, "\n".join(trace.undeclared_reads)
