"""Event-driven disease months (``hazards.disease.algorithm: event``, the default)
against the chain binomial they replace (``chain_binomial``, every household's
transitions drawn in every substep) and against analytic results.

The two draw different random numbers for quiet households (nobody exposed or
infectious), so runs differ seed by seed; the process is the same, so ensembles of
runs must agree: each statistic's means over the seeds within four standard errors of
their difference (a false alarm about once in 16,000 comparisons, and the seeds are
fixed, so a pass or a failure is reproducible). The helpers' laws (the geometric wait
to the next waning, the binomial given at least one) are checked exactly against
their formulas.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import stats

import hssim
from hssim.hazards.disease import Disease, run_alone
from hssim.kernels.disease import NEVER, binomial_at_least_one, waning_wait
from hssim.sums import I as SUM

from .test_disease import HOMOGENEOUS, alone, compose


def _agree(a: np.ndarray, b: np.ndarray, what: str, k: float = 4.0) -> None:
    """Means over seeds (axis 0) agree within ``k`` standard errors of their difference."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    gap = np.abs(a.mean(axis=0) - b.mean(axis=0))
    # a statistic that is exactly constant in both ensembles must be the same constant
    bad = np.where(se > 0, gap > k * se, gap > 0)
    assert not bad.any(), (f"{what}: chain {a.mean(axis=0)[bad]} vs event {b.mean(axis=0)[bad]} "
                           f"(se {se[bad]}) at {np.flatnonzero(bad)}")


# ------------------------------------------------------------------ the helpers' laws
def test_waning_wait_is_geometric():
    """P(wait >= k) = (1 - p)^(r k): the chance that none of r members wanes in k substeps."""
    p, r = 0.07, 3
    u = (np.arange(200_000) + 0.5) / 200_000  # a uniform grid: the inversion's quantiles
    waits = np.array([waning_wait(x, r, math.log1p(-p)) for x in u])
    for k in (1, 2, 5, 10):
        assert abs((waits >= k).mean() - (1 - p) ** (r * k)) < 2e-5
    assert waning_wait(0.3, 0, math.log1p(-p)) == NEVER  # nobody immune
    assert waning_wait(0.3, 4, 0.0) == NEVER  # lifelong immunity


def test_binomial_at_least_one_is_the_conditional_law():
    n, p = 6, 0.12
    u = (np.arange(100_000) + 0.5) / 100_000
    draws = np.array([binomial_at_least_one(x, n, p) for x in u])
    assert draws.min() == 1
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    want = pmf[1:] / (1 - pmf[0])
    got = np.bincount(draws, minlength=n + 1)[1:] / draws.size
    np.testing.assert_allclose(got, want, atol=2e-5)


# ------------------------------------------------------------------ analytic
@pytest.mark.parametrize("algorithm", ["event", "chain_binomial"])
def test_immunity_wanes_at_its_rate(algorithm):
    """Everyone immune, no transmission: the immune left after t months are
    Binomial(R0, (1 - p_wane)^(substeps t)), whichever algorithm draws them."""
    eng, out = alone(
        "hazards.disease.r0=0", "hazards.disease.initial_immune_frac=1", "hazards.disease.immunity_waning_months=6",
        "hazards.disease.importations_per_month=0", "hazards.disease.importations_per_100k_month=0",
        f"hazards.disease.algorithm={algorithm}", households=3000, months=12)
    dis = next(m for m in eng.modules if isinstance(m, Disease))
    r0 = out["people0"]
    for t in (0, 2, 5, 11):
        keep = (1 - dis.params.p_wane) ** (dis.cfg.substeps_per_month * (t + 1))
        sd = math.sqrt(r0 * keep * (1 - keep))
        assert abs(out["R"][t] - r0 * keep) < 4 * sd, (t, out["R"][t], r0 * keep, sd)
    assert out["new_infections"].sum() == 0 and out["S"][-1] == r0 - out["R"][-1]


# ------------------------------------------------------------------ ensembles
def _seeds(cfg, seeds):
    """The configuration at each seed (composed once: composing is the slow part)."""
    out = []
    for seed in seeds:
        c = copy.deepcopy(cfg)
        c.seed = seed
        out.append(c)
    return out


def _alone_ensemble(algorithm: str, seeds, *overrides, households=2500, months=24):
    cfg = compose(f"population.households={households}", "months=12", "spinup_months=0",
                  f"hazards.disease.algorithm={algorithm}", *overrides)
    rows = []
    for c in _seeds(cfg, seeds):
        eng = hssim.build_engine(c)
        eng.init()
        rows.append(run_alone(eng, months))
    return rows


@pytest.mark.parametrize("r0", [1.6, 3.0])
def test_household_outbreak_agrees_with_the_chain_binomial(r0):
    """A closed outbreak with household, community, district and region mixing (no
    waning): attack rate, deaths, the epidemic curve's timing and its peak agree."""
    common = (f"hazards.disease.r0={r0}", "hazards.disease.initial_exposed_frac=0.002",
              "hazards.disease.importations_per_month=0", "hazards.disease.importations_per_100k_month=0",
              "hazards.disease.immunity_waning_months=0", "hazards.disease.cfr_untreated=0.3")
    seeds = range(24)
    chain = _alone_ensemble("chain_binomial", seeds, *common)
    event = _alone_ensemble("event", seeds, *common)

    def stats_of(rows):
        inf = np.array([o["new_infections"] for o in rows], float)
        months = np.arange(inf.shape[1])
        return {"attack": inf.sum(1) / np.array([o["people0"] for o in rows]),
                "deaths": np.array([o["deaths"].sum() for o in rows]),
                "mean month of infection": (inf * months).sum(1) / np.maximum(inf.sum(1), 1),
                "peak infectious": np.array([o["infectious"].max() for o in rows]),
                "curve": inf[:, :12]}

    a, b = stats_of(chain), stats_of(event)
    assert a["attack"].mean() > 0.05  # an outbreak happened
    for k in a:
        _agree(a[k], b[k], k)


def test_endemic_coupled_run_agrees_with_the_chain_binomial_per_district():
    """The whole model (drought, conflict, displacement into camps, malnutrition, waning
    immunity, importations): infections per district, deaths, the epidemic's timing and
    the month-by-month regional infections agree between the two algorithms."""
    over = ["population.households=1000", "months=36", "hazards.disease.r0=2.5",
            "hazards.disease.immunity_waning_months=12", "hazards.disease.importations_per_month=3"]
    runs = {}
    for algorithm in ("chain_binomial", "event"):
        rows = []
        for cfg in _seeds(compose(*over, f"hazards.disease.algorithm={algorithm}"), range(12)):
            rows.append(hssim.build_engine(cfg).run().sums.sum(axis=2))  # [T, D, K]
        runs[algorithm] = np.array(rows)
    a, b = runs["chain_binomial"], runs["event"]
    inf_a, inf_b = a[..., SUM["new_infections"]], b[..., SUM["new_infections"]]
    assert inf_a.sum(axis=(1, 2)).min() > 500  # endemic: every run has an epidemic to compare
    _agree(inf_a.sum(axis=1), inf_b.sum(axis=1), "infections by district")
    _agree(a[..., SUM["deaths_disease"]].sum(axis=(1, 2)), b[..., SUM["deaths_disease"]].sum(axis=(1, 2)), "deaths")
    _agree(a[..., SUM["people_sick"]].sum(axis=(1, 2)), b[..., SUM["people_sick"]].sum(axis=(1, 2)), "people sick")
    months = np.arange(inf_a.shape[1])
    _agree((inf_a.sum(2) * months).sum(1) / inf_a.sum(axis=(1, 2)),
           (inf_b.sum(2) * months).sum(1) / inf_b.sum(axis=(1, 2)), "mean month of infection")
    # month by month in 6-month blocks (the seeds' weather and conflict differ by run, not by algorithm)
    def block(x):
        return x.sum(2)[:, : 36 // 6 * 6].reshape(len(x), -1, 6).sum(2)

    _agree(block(inf_a), block(inf_b), "infections by half-year")


@pytest.mark.parametrize("algorithm", ["event", "chain_binomial"])
def test_both_algorithms_keep_the_invariants_with_camps_and_waning(algorithm):
    """Compartments sum to members after every step, at every tick of a coupled run."""
    cfg = compose("population.households=1500", "months=18", "spinup_months=1", "hazards.disease.importations_per_month=10",
                  "hazards.disease.initial_exposed_frac=0.003", "hazards.disease.immunity_waning_months=3",
                  f"hazards.disease.algorithm={algorithm}")
    eng = hssim.build_engine(cfg, validate=True)
    eng.init()
    dis = next(m for m in eng.modules if isinstance(m, Disease))
    while not eng.done:
        eng.step()
        dis.check_invariants(eng)
    tot = eng.recorder.sums.sum(axis=(0, 1, 2))
    assert tot[SUM["new_infections"]] > 0 and tot[SUM["deaths_disease"]] > 0


def test_quiet_households_carry_their_waits_into_next_month():
    """At a month's end every quiet household with susceptibles carries the hazard it
    has left before its next infection (positive, in Exp(1) units); active households and
    quiet ones without susceptibles carry nothing (NaN: drawn afresh); without waning
    nobody waits for a waning."""
    eng, out = alone("hazards.disease.r0=1.6", "hazards.disease.initial_exposed_frac=0.002", *HOMOGENEOUS,
                     "hazards.disease.algorithm=event", households=2000, months=6)
    dis = next(m for m in eng.modules if isinstance(m, Disease))
    hh = eng.households
    assert out["new_infections"].sum() > 0
    assert np.all(dis.wane_at == NEVER)
    alive = hh.members > 0
    quiet = (hh.dis_e == 0) & (hh.dis_i == 0) & alive
    waiting = quiet & (hh.dis_s > 0)
    assert waiting.sum() > 1000 and (alive & ~quiet).sum() > 0
    assert np.all(dis.thr[waiting] > 0) and np.all(np.isfinite(dis.thr[waiting]))
    assert np.all(np.isnan(dis.thr[alive & ~waiting]))
    assert np.all(dis.r_end[alive & ~quiet] == -1) and np.all(dis.r_end[quiet] == hh.dis_r[quiet])
