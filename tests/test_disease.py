"""The disease hazard module: analytic final sizes, couplings, invariants, determinism.

Validation runs step the disease module alone (``hssim.hazards.disease.run_alone``):
households are built by the engine, then only the epidemic moves, so the population
is closed and the analytic results of a homogeneous SIR apply. Integration runs
use the whole engine.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import brentq

import hssim
from hssim.errors import ConfigError
from hssim.hazards.disease import Disease, run_alone
from hssim.sums import I as SUM

from .conftest import REPO

# well-mixed SIR(E) with no importation, no deaths, no waning, no coupled effects
HOMOGENEOUS = [
    "hazards.disease.w_household=0",
    "hazards.disease.w_community=0",
    "hazards.disease.w_district=0",
    "hazards.disease.w_region=1",
    "hazards.disease.importations_per_month=0",
    "hazards.disease.importations_per_100k_month=0",
    "hazards.disease.initial_immune_frac=0",
    "hazards.disease.immunity_waning_months=0",
    "hazards.disease.cfr_untreated=0",
    "hazards.disease.malnutrition_susceptibility_rr=1",
    "hazards.disease.substeps_per_month=4",
    "hazards.disease.latent_days=2",
    "hazards.disease.infectious_days=5",
]


def _disease_group(preset: str = "cholera") -> list[str]:
    """Select a preset whether or not configs/config.yaml already lists the group."""
    text = (REPO / "configs" / "config.yaml").read_text()
    listed = re.search(r"^\s*-\s*hazards/disease\s*:", text, re.MULTILINE)
    return [f"hazards/disease={preset}" if listed else f"+hazards/disease={preset}"]


def _no_disease() -> list[str]:
    text = (REPO / "configs" / "config.yaml").read_text()
    return ["~hazards/disease"] if re.search(r"^\s*-\s*hazards/disease\s*:", text, re.MULTILINE) else []


def compose(*overrides: str, preset: str = "cholera"):
    return hssim.compose([*_disease_group(preset), *overrides])


def alone(*overrides: str, households: int = 6000, months: int = 36, preset: str = "cholera", setup=None):
    """Build an engine and step only the disease module; ``setup(engine)`` may edit
    household or district state first."""
    eng = hssim.build_engine(
        compose(f"population.households={households}", "months=12", "spinup_months=0", *overrides, preset=preset)
    )
    eng.init()
    if setup is not None:
        setup(eng)
    return eng, run_alone(eng, months, check=True)


def attack_rate(out) -> float:
    """Share of people ever infected, initial infections included."""
    return (out["E0"] + out["new_infections"].sum()) / out["people0"]


def final_size(r0: float, s0: float) -> float:
    """Root z > 0 of ``z = 1 - s0 exp(-r0 z)`` (the initial infected share is 1 - s0)."""
    return brentq(lambda z: z - (1.0 - s0 * math.exp(-r0 * z)), 1e-12, 1.0)


def final_size_sd(r0: float, z: float, n: int) -> float:
    """Large-population sd of the final size of a major SIR outbreak (Andersson &
    Britton 2000, Thm 4.2): ``sqrt(z(1-z)(1 + c^2 r0^2 (1-z)) / n) / (1 - r0 (1-z))``,
    with the infectious period's squared coefficient of variation ``c^2`` taken as 1
    (exponential; the geometric stay here has c^2 = 1 - p_rem < 1, so this is an upper bound)."""
    return math.sqrt(z * (1 - z) * (1 + r0 * r0 * (1 - z)) / n) / (1 - r0 * (1 - z))


# ------------------------------------------------------------------ config
def test_presets_compose_and_validate():
    cholera = hssim.load_config(compose()).hazards["disease"]
    measles = hssim.load_config(compose(preset="measles")).hazards["disease"]
    assert cholera.kind == measles.kind == "disease"
    assert cholera.water_scarcity_rr > 0 and measles.water_scarcity_rr == 0
    assert measles.r0 > 10 * cholera.r0 / 2 and measles.initial_immune_frac > 0.5
    for c in (cholera, measles):
        assert c.w_household + c.w_community + c.w_district + c.w_region == pytest.approx(1.0)


def test_mixing_weights_must_sum_to_one():
    with pytest.raises(ConfigError, match=r"hazards\.disease\.w_household") as exc:
        hssim.load_config(compose("hazards.disease.w_household=0.5"))
    assert "sum" in str(exc.value)
    with pytest.raises(ConfigError, match=r"hazards\.disease\.r0"):
        hssim.load_config(compose("hazards.disease.r0=-1"))
    with pytest.raises(ConfigError, match=r"hazards\.disease\.substeps_per_month"):
        hssim.load_config(compose("hazards.disease.substeps_per_month=0"))
    with pytest.raises(ConfigError, match=r"hazards\.disease\.substeps_per_month"):
        hssim.load_config(compose("hazards.disease.substeps_per_month=2.5"))


# ------------------------------------------------------------------ (a), (b) analytic results
@pytest.mark.parametrize("r0", [1.5, 2.0, 3.0])
def test_final_size_matches_analytic(r0):
    """Homogeneous mixing, ~95k people, 0.2% seeded: the attack rate (initial
    infections included) matches the root of z = 1 - s0 exp(-r0 z).

    The discrete scheme has no bias here: a susceptible escapes the whole epidemic
    with probability exp(-beta dt sum_k I_k / N) = exp(-r0 z) because sum_k I_k =
    (people ever infected) x (mean substeps infectious). What remains is the
    finite-population noise: tolerance = max(0.005, 4 sd) with the sd of the
    central limit theorem for the final size (``final_size_sd``): 0.024 at r0 1.5,
    0.012 at 2, 0.005 at 3.
    """
    _, out = alone(
        f"hazards.disease.r0={r0}",
        "hazards.disease.initial_exposed_frac=0.002",
        *HOMOGENEOUS,
        households=18000,
        months=48,
    )
    n = out["people0"]
    assert 90_000 < n < 110_000
    assert out["E"][-1] + out["I"][-1] == 0, "the epidemic must be over by the horizon"
    assert out["deaths"].sum() == 0
    s0 = 1.0 - out["E0"] / n
    assert 0.0015 < 1 - s0 < 0.0025
    z_ref = final_size(r0, s0)
    tol = max(0.005, 4 * final_size_sd(r0, z_ref, n))
    z = attack_rate(out)
    assert abs(z - z_ref) < tol, (r0, z, z_ref, tol)
    # every infection is accounted for: never infected = S at the end
    assert out["S"][-1] == n - out["E0"] - out["new_infections"].sum()


def test_subcritical_outbreak_is_small():
    """R0 0.8: each seed case leads to 1 / (1 - R0) = 5 infections in all (itself
    included) on average; ~190 seeds -> ~950 infections, about 1% of people. The sd
    of the total is about 150 (branching process, offspring variance < 1), so the
    band [0.6, 1.4] x expected is more than 2.5 sd either side."""
    _, out = alone(
        "hazards.disease.r0=0.8",
        "hazards.disease.initial_exposed_frac=0.002",
        *HOMOGENEOUS,
        households=18000,
        months=24,
    )
    total = out["E0"] + out["new_infections"].sum()
    expected = out["E0"] / (1 - 0.8)
    assert out["E"][-1] + out["I"][-1] == 0
    assert 0.6 * expected < total < 1.4 * expected, (total, expected)
    assert total / out["people0"] < 0.02


def test_importations_per_head_scale_with_the_population():
    """The per-head importation rate gives the same imports per person at any simulated size."""
    for households in (1000, 4000):
        eng, out = alone("hazards.disease.r0=0", "hazards.disease.importations_per_month=0",
                         "hazards.disease.importations_per_100k_month=2000", households=households, months=12)
        people = out["people0"]
        expect = 2000 * people / 1e5 * 12  # Poisson mean, r0 = 0: every infection is imported
        assert abs(out["new_infections"].sum() - expect) < 4 * np.sqrt(expect)


def test_importations_are_poisson():
    """No transmission (r0 = 0), 20 importations a month into a wholly susceptible
    population: 24 months seed Poisson(480) infections (sd 22; band 4 sd)."""
    eng, out = alone(
        "hazards.disease.r0=0",
        "hazards.disease.importations_per_month=20",
        "hazards.disease.importations_per_100k_month=0",
        "hazards.disease.initial_immune_frac=0",
        "hazards.disease.initial_exposed_frac=0",
        households=3000,
        months=24,
    )
    assert out["E0"] == 0
    total = out["new_infections"].sum()
    assert abs(total - 480) < 4 * math.sqrt(480), total
    mod = next(m for m in eng.modules if isinstance(m, Disease))
    assert mod.imported == total


# ------------------------------------------------------------------ (e), (f) couplings
MAL = [
    "hazards.disease.r0=1.5",
    *[o for o in HOMOGENEOUS if "malnutrition" not in o and "cfr_untreated" not in o],
    "hazards.disease.initial_exposed_frac=0.005",
    "hazards.disease.symptomatic_frac=1",
    "hazards.disease.cfr_untreated=0.2",
    "hazards.disease.treatment_efficacy=0",
    "hazards.disease.malnutrition_susceptibility_rr=2",
    "hazards.disease.malnutrition_fatality_rr=3",
]


def _malnourish(eng):
    hh = eng.households
    mal = (hh.u5 > 0) & (np.arange(hh.n) % 2 == 0)
    hh.malnutrition[mal] = 1
    return mal


def test_malnutrition_raises_attack_and_fatality():
    """Same seed, a third of households with malnourished under-fives; coupling
    strength 1 vs 0. Expected (deterministic approximation): attack ~0.58 -> ~0.7;
    fatality 0.2 -> ~0.3 per infection. Bands are several sd wide (~32k people)."""
    runs = {}
    for s in (0.0, 1.0):
        eng, out = alone(*MAL, f"couplings.malnutrition_to_disease={s}", setup=_malnourish)
        runs[s] = (eng, out)
    z0, z1 = attack_rate(runs[0.0][1]), attack_rate(runs[1.0][1])
    f0 = runs[0.0][1]["deaths"].sum() / (runs[0.0][1]["E0"] + runs[0.0][1]["new_infections"].sum())
    f1 = runs[1.0][1]["deaths"].sum() / (runs[1.0][1]["E0"] + runs[1.0][1]["new_infections"].sum())
    assert z1 > z0 + 0.05, (z0, z1)
    assert f0 == pytest.approx(0.2, abs=0.02)
    assert f1 > 1.3 * f0, (f0, f1)
    # within the coupled run, malnourished households fare worse
    eng1 = runs[1.0][0]
    hh = eng1.households
    mal = hh.malnutrition > 0
    people0 = hh.members.astype(int) + hh.dead
    ever = people0 - hh.dis_s  # closed population, no waning: everyone not susceptible was infected
    assert ever[mal].sum() / people0[mal].sum() > ever[~mal].sum() / people0[~mal].sum() + 0.1
    # malnourished households lose under-fives first
    assert hh.dead[mal].sum() > 0


def test_malnutrition_link_cut_exactly_at_strength_zero():
    _, cut = alone(*MAL, "couplings.malnutrition_to_disease=0", households=2000, months=12, setup=_malnourish)
    _, none = alone(*MAL, "couplings.malnutrition_to_disease=1", households=2000, months=12)
    for k in ("new_infections", "deaths", "sick", "S", "E", "I", "R"):
        np.testing.assert_array_equal(cut[k], none[k])


WATER = [
    "hazards.disease.r0=1.3",
    *HOMOGENEOUS,
    "hazards.disease.initial_exposed_frac=0.005",
    "hazards.disease.water_scarcity_rr=1",
]


def _scarce(value):
    def setup(eng):
        eng.districts.water_scarcity[:] = value

    return setup


def test_water_scarcity_raises_cholera_only_with_drought_coupling():
    """Water scarcity 0.6 everywhere, water_scarcity_rr 1: transmission x1.6 when
    drought_to_disease = 1 (effective R0 1.3 -> 2.08: attack ~0.37 -> ~0.84);
    at strength 0 the run equals one without scarcity, draw for draw."""
    _, base = alone(*WATER, "couplings.drought_to_disease=1", setup=_scarce(0.0))
    _, cut = alone(*WATER, "couplings.drought_to_disease=0", setup=_scarce(0.6))
    _, on = alone(*WATER, "couplings.drought_to_disease=1", setup=_scarce(0.6))
    for k in ("new_infections", "S", "E", "I", "R"):
        np.testing.assert_array_equal(base[k], cut[k])
    assert attack_rate(on) > attack_rate(base) + 0.2, (attack_rate(base), attack_rate(on))


def test_water_scarcity_does_not_affect_measles():
    common = ["hazards.disease.initial_exposed_frac=0.01", "couplings.drought_to_disease=1"]
    _, dry = alone(*common, preset="measles", households=2000, months=12, setup=_scarce(0.9))
    _, wet = alone(*common, preset="measles", households=2000, months=12, setup=_scarce(0.0))
    assert dry["new_infections"].sum() > 0
    np.testing.assert_array_equal(dry["new_infections"], wet["new_infections"])


def test_drought_module_feeds_water_scarcity_in_the_same_month():
    """Whole engine, a drought storyline: cutting drought_to_disease changes the
    epidemic, and only from the first month with water scarcity on."""
    common = [
        "population.households=2000",
        "months=30",
        "spinup_months=0",
        "storyline=two_failed_seasons",
        "hazards.disease.importations_per_month=10",
        "hazards.disease.initial_exposed_frac=0.002",
    ]
    runs = {}
    for s in (0, 1):
        eng = hssim.build_engine(compose(*common, f"couplings.drought_to_disease={s}"))
        res = eng.run()
        ws = eng.recorder.district[:, :, eng.recorder.district_names.index("water_scarcity")]
        runs[s] = (res.sums[:, :, :, SUM["new_infections"]].sum(axis=(1, 2)), ws)
    (inf0, ws0), (inf1, ws1) = runs[0], runs[1]
    np.testing.assert_array_equal(ws0, ws1)  # climate does not depend on couplings
    assert ws0.max() > 0.2
    assert not np.array_equal(inf0, inf1)
    first_dry = int(np.argmax(ws0.max(axis=1) > 0))
    first_diff = int(np.argmax(inf0 != inf1))
    assert first_diff >= first_dry


def test_camp_crowding_raises_transmission_and_is_cut_at_strength_zero():
    """Households of district 0 all in its camp; camp_crowding_rr 2 doubles their
    transmission when displacement_to_disease = 1; at 0 the run equals rr = 1."""

    def camp(eng):
        hh = eng.households
        d0 = hh.district == 0
        hh.displaced[d0] = 2
        hh.location[d0] = 0

    opts = [
        "hazards.disease.r0=1.2",
        "hazards.disease.w_household=0",
        "hazards.disease.w_community=1",
        "hazards.disease.w_district=0",
        "hazards.disease.w_region=0",
        "hazards.disease.initial_exposed_frac=0.01",
        "hazards.disease.importations_per_month=0",
        "hazards.disease.initial_immune_frac=0",
        "hazards.disease.immunity_waning_months=0",
        "hazards.disease.camp_crowding_rr=2",
    ]
    res = {}
    for s in (0, 1):
        eng, out = alone(*opts, f"couplings.displacement_to_disease={s}", households=4000, months=24, setup=camp)
        hh = eng.households
        d0 = hh.district == 0
        people0 = hh.members.astype(int) + hh.dead
        res[s] = (
            (people0 - hh.dis_s)[d0].sum() / people0[d0].sum(),
            (people0 - hh.dis_s)[~d0].sum() / people0[~d0].sum(),
            out,
        )
    _, rr1 = alone(
        *opts[:-1],
        "hazards.disease.camp_crowding_rr=1",
        "couplings.displacement_to_disease=1",
        households=4000,
        months=24,
        setup=camp,
    )
    np.testing.assert_array_equal(res[0][2]["new_infections"], rr1["new_infections"])
    # in the camp: R0 1.2 x 2 = 2.4 -> attack ~0.88 instead of ~0.31; elsewhere unchanged
    assert res[1][0] > res[0][0] + 0.3, res
    assert res[1][1] == pytest.approx(res[0][1], abs=1e-12)


# ------------------------------------------------------------------ (c) threads
_SCRIPT = """
import sys, numba, numpy as np, hssim
eng = hssim.build_engine(hssim.compose(sys.argv[2:]))
res = eng.run()
hh = eng.households
np.savez(sys.argv[1], sums=res.sums, s=hh.dis_s, e=hh.dis_e, i=hh.dis_i, r=hh.dis_r, sick=hh.sick,
         members=hh.members, dead=hh.dead, u5=hh.u5, adults=hh.adults)
print(numba.get_num_threads())
"""


def _run_threads(n: int, path, overrides):
    env = {**os.environ, "NUMBA_NUM_THREADS": str(n)}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path), *overrides], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == str(n)
    return np.load(path)


def test_identical_with_one_and_two_threads(tmp_path):
    overrides = [
        *_disease_group(),
        "population.households=4000",
        "months=18",
        "spinup_months=2",
        "seed=13",
        "hazards.disease.importations_per_month=8",
        "hazards.disease.initial_exposed_frac=0.002",
    ]
    a = _run_threads(1, tmp_path / "t1.npz", overrides)
    b = _run_threads(2, tmp_path / "t2.npz", overrides)
    assert a["sums"][..., SUM["new_infections"]].sum() > 100  # the epidemic ran
    assert a["sums"][..., SUM["deaths_disease"]].sum() > 0
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# ------------------------------------------------------------------ (d) invariants
def test_people_conserved_and_compartments_sum_to_members():
    cfg = compose(
        "population.households=2000",
        "months=18",
        "spinup_months=1",
        "hazards.disease.importations_per_month=10",
        "hazards.disease.initial_exposed_frac=0.003",
        "hazards.disease.immunity_waning_months=3",
    )
    eng = hssim.build_engine(cfg, validate=True)  # members + dead constant, u5 + adults <= members, every tick
    eng.init()
    dis = next(m for m in eng.modules if isinstance(m, Disease))
    step = dis.step
    checked = []

    def checked_step(engine, ti):
        step(engine, ti)
        hh = engine.households
        comps = hh.dis_s.astype(int) + hh.dis_e + hh.dis_i + hh.dis_r
        assert min(hh.dis_s.min(), hh.dis_e.min(), hh.dis_i.min(), hh.dis_r.min()) >= 0
        np.testing.assert_array_equal(comps, hh.members)
        assert np.all((hh.sick >= 0) & (hh.sick <= hh.members))
        checked.append(ti)

    dis.step = checked_step
    while not eng.done:
        eng.step()
        dis.check_invariants(eng)  # between ticks: other deaths only, reconciled next step
    assert checked == list(range(eng.n_ticks))
    tot = eng.recorder.sums.sum(axis=(0, 1, 2))
    assert tot[SUM["new_infections"]] > 0 and tot[SUM["deaths_disease"]] > 0
    assert tot[SUM["people_sick"]] >= tot[SUM["deaths_disease"]]


@pytest.mark.parametrize("preset, extra", [("measles", ()),
                                           ("cholera", ("hazards.disease.importations_per_month=3",))])
def test_skipping_quiet_substeps_is_exact(preset, extra):
    """Substeps with nobody exposed or infectious (and no waning) are skipped, and the
    event algorithm does not visit communities with nothing due; the run is identical
    with both switched off (measles: lifelong immunity, quiet months; cholera: waning
    immunity, never a quiet substep, communities skipped)."""
    common = ["population.households=2000", "months=24", "spinup_months=1", "seed=5"]
    common += ["hazards.disease.importations_per_month=0.5", "hazards.disease.substeps_per_month=8", *extra]
    results = {}
    for skip in (True, False):
        eng = hssim.build_engine(compose(*common, preset=preset))
        eng.init()
        dis = next(m for m in eng.modules if isinstance(m, Disease))
        dis.skip_quiet_substeps = skip
        res = eng.run()
        hh = eng.households
        results[skip] = (res.sums, [hh[k].copy() for k in ("dis_s", "dis_e", "dis_i", "dis_r", "sick", "members")])
        if skip:
            assert dis.substeps_skipped > 0 or preset == "cholera"
            assert dis.imported > 0
        else:
            assert dis.substeps_skipped == 0
    np.testing.assert_array_equal(results[True][0], results[False][0])
    for a, b in zip(results[True][1], results[False][1]):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ (g) switched off
def test_disabled_module_changes_nothing():
    common = ["population.households=2000", "months=12", "spinup_months=2", "seed=21"]
    on_cfg = compose(*common, "hazards.disease.enabled=false")
    eng = hssim.build_engine(on_cfg)
    off = eng.run()
    absent = hssim.run(hssim.compose([*_no_disease(), *common]))
    assert "disease" not in hssim.load_config(hssim.compose([*_no_disease(), *common])).hazards
    np.testing.assert_array_equal(off.sums, absent.sums)
    hh = eng.households
    for name in ("dis_s", "dis_e", "dis_i", "dis_r", "sick"):
        assert not hh[name].any(), name
    assert off.sums[..., SUM["new_infections"]].sum() == 0
