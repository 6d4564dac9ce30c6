"""The runs layer (hssim.runs): the design and its seeds, dotted paths, comparability,
the fingerprint rule, the run store and resuming, and executing jobs here or in workers."""

from __future__ import annotations

import dataclasses
import json

import pytest

import hssim
from hssim.errors import ConfigError, UserError
from hssim.runs import (
    Design,
    Job,
    RunKey,
    RunStore,
    check_comparable,
    compose_arm,
    execute,
    fingerprint,
    get_path,
    run_seed,
    set_path,
)

# -- design and seeds -------------------------------------------------------------------------


def test_common_seeds_are_shared_by_every_arm_and_point():
    d = Design(("a", "b"), replicates=3, base_seed=10, points=2)
    keys = list(d.runs())
    assert len(keys) == d.n_runs == 12
    assert [(k.point, k.replicate, k.arm) for k in keys[:4]] == [(0, 0, "a"), (0, 0, "b"), (0, 1, "a"), (0, 1, "b")]
    assert {(k.replicate, k.seed) for k in keys} == {(0, 10), (1, 11), (2, 12)}


def test_independent_seeds_differ_between_points_not_between_arms():
    d = Design(("a", "b"), replicates=3, base_seed=10, points=2, seeds="independent")
    seeds = {(k.point, k.replicate, k.arm): k.seed for k in d.runs()}
    assert seeds[(1, 2, "a")] == seeds[(1, 2, "b")] == 10 + 1 * 3 + 2
    assert len({s for (p, r, a), s in seeds.items() if a == "a"}) == 6
    assert run_seed(10, 2, point=1, replicates=3, policy="independent") == 15
    assert [k.seed for k in d.runs(points=[1]) if k.arm == "a"] == [13, 14, 15]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"arms": ("a", "a")}, "arms"),
        ({"arms": ("a", " ")}, "arms"),
        ({"arms": ()}, "arms"),
        ({"replicates": 0}, "replicates"),
        ({"points": True}, "points"),
        ({"seeds": "fresh"}, "seeds"),
        ({"base_seed": -1}, "base_seed"),
        ({"base_seed": 2**63 - 2, "replicates": 3}, "base_seed"),
    ],
)
def test_a_bad_design_is_refused_naming_the_field(kwargs, field):
    args = {"arms": ("a", "b"), "replicates": 2, "base_seed": 1, **kwargs}
    with pytest.raises(ConfigError) as err:
        Design(**args)
    assert err.value.path == field


# -- dotted paths ------------------------------------------------------------------------------


def test_set_path_sets_scales_and_names_what_is_wrong():
    cfg = {"policy": {"trigger": {"lead_months": 3}, "budget_usd_per_year": 1e6, "name": "x"}, "months": 36}
    set_path(cfg, "policy.trigger.lead_months", 5)
    assert get_path(cfg, "policy.trigger.lead_months") == 5
    set_path(cfg, "months", 1.26, op="scale")
    assert cfg["months"] == 45 and isinstance(cfg["months"], int)  # an integer field stays integer
    set_path(cfg, "policy.budget_usd_per_year", 0.5, op="scale")
    assert cfg["policy"]["budget_usd_per_year"] == 5e5
    cases = [
        ("policy.trigger.lead", "set", "'policy.trigger.lead' does not exist"),
        ("policy.triger.lead_months", "set", "'policy.triger' does not exist"),
        ("months.x", "set", "'months.x' does not exist"),
        ("policy.trigger", "set", "not to a section"),
        ("policy.name", "scale", "a numeric field to scale"),
        ("months", "add", "op 'set' or 'scale'"),
    ]
    for path, op, expected in cases:
        with pytest.raises(ConfigError, match=expected) as err:
            set_path(cfg, path, 2, op=op, where="experiment.parameters.p.path")
        assert err.value.path == "experiment.parameters.p.path"
    with pytest.raises(ConfigError, match="'policy.x' does not exist"):
        get_path(cfg, "policy.x")


# -- comparability -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base():
    cfg, _ = compose_arm(["population.households=200", "months=12", "spinup_months=2", "seed=4"])
    return cfg


def test_comparable_arms_pass_and_a_differing_arm_is_named(base):
    other_policy, _ = compose_arm(["population.households=200", "months=12", "spinup_months=2", "seed=4"],
                                  ["policy=reactive_integrated"], "reactive")
    check_comparable({"none": base, "reactive": other_policy}, seed=4)
    for change, expected in (
        ({"months": 13}, "the same months in every arm"),
        ({"spinup_months": 3}, "the same spinup_months in every arm"),
        ({"seed": 5}, "no seed in an arm"),
        ({"scenario": dataclasses.replace(base.scenario, name="elsewhere")}, "the same scenario in every arm"),
    ):
        with pytest.raises(ConfigError, match=expected) as err:
            check_comparable({"none": base, "odd": dataclasses.replace(base, **change)}, seed=4)
        assert err.value.path == "arms['odd']"


def test_an_arm_that_does_not_compose_is_named(base):
    with pytest.raises(UserError, match=r"arm 'bad' \(policy=no_such_policy\)"):
        compose_arm(["months=12"], ["policy=no_such_policy"], "bad")


# -- fingerprint and store ---------------------------------------------------------------------


def test_fingerprint_rule(monkeypatch):
    from hssim.compare.planning import _fingerprint
    from hssim.runs import store

    a = fingerprint({"config": {"seed": 1, "months": 12}})
    assert len(a) == 20 and int(a, 16) >= 0
    assert a == fingerprint({"config": {"months": 12, "seed": 1}})  # key order does not matter
    assert a != fingerprint({"config": {"seed": 2, "months": 12}})
    assert _fingerprint({"seed": 1, "months": 12}) == a  # a comparison's runs use the one rule
    monkeypatch.setattr(store, "__version__", "9.9.9")
    assert fingerprint({"config": {"seed": 1, "months": 12}}) != a  # the package version is part of it


def _square(config):
    return {"y": config["x"] ** 2}


def _decode(doc):
    return {"y": doc["y"]} if "y" in doc else None


def _jobs(xs, fp="f"):
    return [Job(RunKey(f"arm/{x}", 0, 7), {"x": x}, fp) for x in xs]


def test_store_round_trip_and_resume(tmp_path):
    st = RunStore(tmp_path)
    st.prepare()
    calls = []
    got, counts = execute(_jobs([1, 2, 3]), _square, store=st, decode=_decode,
                          progress=lambda k, n, job, stored: calls.append((k, n, job.key.arm, stored)))
    assert {k.arm: v["y"] for k, v in got.items()} == {"arm/1": 1, "arm/2": 4, "arm/3": 9}
    assert counts == {"executed": 3, "stored": 0}
    assert calls == [(1, 3, "arm/1", False), (2, 3, "arm/2", False), (3, 3, "arm/3", False)]
    path = st.path("arm/1", 0)
    assert path.parent == tmp_path / "runs"  # an unsafe key becomes a safe file name
    doc = json.loads(path.read_text())
    assert (doc["arm"], doc["replicate"], doc["seed"], doc["fingerprint"], doc["y"]) == ("arm/1", 0, 7, "f", 1)
    # resume: everything stored is read back, nothing runs
    calls.clear()
    got2, counts2 = execute(_jobs([1, 2, 3, 4]), _square, store=st, decode=_decode,
                            progress=lambda k, n, job, stored: calls.append((job.key.arm, stored)))
    assert counts2 == {"executed": 1, "stored": 3} and got2[RunKey("arm/4", 0, 7)] == {"y": 16}
    assert calls == [("arm/1", True), ("arm/2", True), ("arm/3", True), ("arm/4", False)]
    # another fingerprint or seed: run again
    assert st.load("arm/1", 0, 7, "other") is None and st.load("arm/1", 0, 8, "f") is None
    _, counts3 = execute(_jobs([1], fp="g"), _square, store=st, decode=_decode)
    assert counts3 == {"executed": 1, "stored": 0}
    # an unreadable file is run again, never trusted
    st.path("arm/2", 0).write_text("{not json")
    _, counts4 = execute(_jobs([2]), _square, store=st, decode=_decode)
    assert counts4 == {"executed": 1, "stored": 0}
    with pytest.raises(ValueError, match="decode"):
        execute(_jobs([1]), _square, store=st)


def test_workers_give_the_same_payloads_as_this_process():
    here, _ = execute(_jobs(range(5)), _square)
    pool, counts = execute(_jobs(range(5)), _square, workers=2, threads=1)
    assert pool == here and counts == {"executed": 5, "stored": 0}


def test_one_run_through_the_runs_layer_is_the_public_run(base):
    from hssim.runs import run_results

    a = run_results(base)
    b = hssim.run(base)
    assert a.summary == b.summary
