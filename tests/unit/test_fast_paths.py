"""The fused kernels of the fast paths against small pure-Python / NumPy references.

Each kernel replaced NumPy code that ran per programme, per district or per substep;
these tests pin them to what that code computed, bit for bit: the response's
registry, enrolment and delivery, its money (pairwise sums as NumPy adds them),
the targeting rules (proxy-means quantiles, community ranking), the assessment of
every programme at once, the disease month, the record's group sums and the
vectorised stream keys.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import hssim
from hssim import rng
from hssim.config.build import build_engine
from hssim.interventions.base import Intervention, UnitCost
from hssim.interventions.targeting import community_rule, observe, observe_all, proxy_means, quantile_f32
from hssim.kernels.record import group_sums
from hssim.kernels.response import (
    INDEX_BITS,
    available,
    enrol_in_order,
    keep_enrolled_all,
    np_sum,
    pay,
    promote,
    serve,
    shortlist,
    sort_keys,
    unit_cost,
)
from hssim.results import GROUPS

RNG = np.random.default_rng(20240611)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Every test draws its data from the same fresh generator: the data do not depend on
    which tests ran before (a failure reproduces when the test is run alone)."""
    global RNG
    RNG = np.random.default_rng(20240611)


# ------------------------------------------------------------------ rng, sums, sorting
def test_stream_keys_equal_stream_key_at_every_tick():
    ticks = np.array([-5, -1, 0, 1, 7, 131, 64 * 131 + 7, 2**40, 2**63 - 1, -(2**63)], np.int64)
    for seed in (0, 42, 2**40 + 5, 2**64 + 3):
        for stream in ("households", "selection.cash_food", 12345):
            got = rng.stream_keys(seed, stream, ticks)
            assert got.dtype == np.uint64
            assert got.tolist() == [int(rng.stream_key(seed, stream, int(t))) for t in ticks]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 1000, 8191, 8192, 8193, 100_003])
def test_np_sum_is_numpys_pairwise_sum(n):
    for a in (RNG.random(n) * 10.0 ** RNG.integers(-3, 7, n), RNG.lognormal(0.0, 3.0, n), np.full(n, 0.1)):
        assert np.float64(np_sum(a)).tobytes() == a.sum().tobytes()


@pytest.mark.parametrize("m", [0, 1, 100, 255, 256, 3000])
def test_sort_keys_sorts_like_np_sort(m):
    index = np.sort(RNG.choice(2**INDEX_BITS, m, replace=False)).astype(np.uint64)
    for levels, hashes in ((255, 2**29), (2, 4), (1, 1)):  # many ties above the index bits too
        keys = (RNG.integers(0, levels, m).astype(np.uint64) << np.uint64(55)) | (
            RNG.integers(0, hashes, m).astype(np.uint64) << np.uint64(INDEX_BITS)) | index
        np.testing.assert_array_equal(sort_keys(keys), np.sort(keys))


def test_group_sums_equal_einsum():
    sums = RNG.integers(0, 10**9, (5, 3, 64, 7)).astype(np.int64)
    G = np.stack(list(GROUPS.values()))
    np.testing.assert_array_equal(group_sums(sums, G), np.einsum("mdck,gc->mdgk", sums, G.astype(np.int64)))


# ------------------------------------------------------------------ money
def _available_ref(accounts, quota, s, open_pool, earmark, k, cap):
    pool = accounts[-1] if open_pool else min(quota[s], accounts[-1])
    return float(min(earmark[k] + accounts[s] + pool, cap[0]))


def _pay_ref(accounts, quota, s, amount, open_pool, earmark, k, cap):
    if amount > _available_ref(accounts, quota, s, open_pool, earmark, k, cap) + 1e-9:
        return False
    cap[0] -= amount
    mine = min(amount, earmark[k])  # the programme's earmarked money first
    earmark[k] -= mine
    amount -= mine
    own = min(amount, accounts[s])
    accounts[s] -= own
    from_pool = amount - own
    accounts[-1] = max(0.0, accounts[-1] - from_pool)
    quota[s] = max(0.0, quota[s] - from_pool)
    return True


def test_pay_and_available_follow_the_python_rules():
    for _ in range(500):
        accounts = RNG.choice([0.0, 1.0, 2.5, 100.0], 5) * RNG.random(5).round(1)
        quota = RNG.choice([0.0, 0.5, 3.0], 4)
        earmark = RNG.choice([0.0, 0.0, 0.4, 3.0], 3)
        cap = np.array([float(RNG.choice([np.inf, np.inf, 0.5, 4.0]))])
        a2, q2, e2, c2 = accounts.copy(), quota.copy(), earmark.copy(), cap.copy()
        s = int(RNG.integers(0, 4))
        k = int(RNG.integers(0, 3))
        open_pool = bool(RNG.integers(0, 2))
        amount = float(RNG.choice([0.0, 0.7, 2.5, 50.0, 1e9]))
        assert available(accounts, quota, s, open_pool, earmark, k, cap) == _available_ref(a2, q2, s, open_pool, e2, k,
                                                                                           c2)
        assert pay(accounts, quota, s, amount, open_pool, earmark, k, cap) == _pay_ref(a2, q2, s, amount, open_pool,
                                                                                       e2, k, c2)
        assert accounts.tobytes() == a2.tobytes() and quota.tobytes() == q2.tobytes()
        assert earmark.tobytes() == e2.tobytes() and cap.tobytes() == c2.tobytes()


# ------------------------------------------------------------------ registry, enrolment, delivery
def _registry(K=4, n=300, D=3):
    left = RNG.choice(np.array([0, 0, 0, -1, 1, 2, 5], np.int16), (K, n))
    members = RNG.choice(np.array([0, 1, 3, 6], np.int8), n)
    location = RNG.integers(0, D, n).astype(np.int16)
    active = RNG.random((K, D)) < 0.7
    return left, members, location, active


def test_keep_enrolled_all_vs_reference():
    left, members, location, active = _registry()
    K, n = left.shape
    ref_left = left.copy()
    ref_cont, ref_counts = [], np.zeros(active.shape, np.int64)
    for k in range(K):
        for i in range(n):
            if ref_left[k, i] != 0:
                if members[i] > 0 and active[k, location[i]]:
                    ref_cont.append(i)
                    ref_counts[k, location[i]] += 1
                else:
                    ref_left[k, i] = 0
    counts = np.zeros(active.shape, np.int64)
    priority = RNG.choice(np.array([0, 3, 9], np.uint8), left.shape)
    free = np.zeros((K, (n + 63) // 64), np.uint64)
    before = left.copy()
    cont, start = keep_enrolled_all(left, members, location, active, counts, priority, free)
    assert cont.tolist() == ref_cont
    np.testing.assert_array_equal(left, ref_left)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(np.diff(start), (ref_left != 0).sum(axis=1))
    # exactly the eligible households whose enrolment ended are marked candidates again
    np.testing.assert_array_equal(_bits(free, n), (before != 0) & (ref_left == 0) & (priority > 0))


def _bits(free, n):
    """bool[K, n] the candidate bits of ``free`` uint64[K, ceil(n / 64)]."""
    return np.unpackbits(free.view(np.uint8), axis=1, bitorder="little")[:, :n].astype(bool)


def _free_of(priority, left, extra=None):
    """Candidate bits of one programme: eligible and not enrolled, plus ``extra`` (bool[n])."""
    want = (priority > 0) & (left == 0)
    if extra is not None:
        want = want | extra
    padded = np.zeros((want.size + 63) // 64 * 64, bool)
    padded[: want.size] = want
    return np.packbits(padded, bitorder="little").view(np.uint64).copy()


def test_promote_sets_the_candidate_bits_anew():
    K, n = 3, 300
    pending = RNG.choice(np.array([0, 0, 5, 200], np.uint8), (K, n))
    priority = np.zeros((K, n), np.uint8)
    left = RNG.choice(np.array([0, 0, -1, 2], np.int16), (K, n))
    free = np.full((K, (n + 63) // 64), np.uint64(2**64 - 1))  # stale bits everywhere
    promote(np.array([0, 2], np.int64), pending, priority, left, free)
    for k in (0, 2):
        np.testing.assert_array_equal(_bits(free, n)[k], (priority[k] > 0) & (left[k] == 0))
    assert _bits(free, n)[1].all()  # a row not promoted keeps its bits


def _shortlist_ref(priority, left, ever, once, members, location, active, left_all, rows, key_reg, p_reg, key_sel, limit):
    cand = []
    for i in range(left.size):
        if priority[i] == 0 or left[i] != 0 or members[i] <= 0 or not active[location[i]] or (once and ever[i]):
            continue
        if any(left_all[j, i] != 0 and (p_reg >= 1.0 or rng.uniform(key_reg, i, 0) < p_reg) for j in rows):
            continue
        cand.append(i)
    def key(i):
        return ((255 - int(priority[i])) << 55) | (int(rng.uniform(key_sel, i, 0) * 536870912.0) << 26) | i

    return sorted(cand, key=key)[:limit]


@pytest.mark.parametrize("p_reg", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("limit", [1, 20, 10_000])
def test_shortlist_vs_reference(p_reg, limit):
    left_all, members, location, active = _registry(K=3, n=400)
    priority = RNG.choice(np.array([0, 0, 1, 7, 200, 255], np.uint8), 400)
    ever = RNG.random(400) < 0.2
    rows = np.array([1, 2], np.int64)
    key_reg, key_sel = rng.stream_key(3, "registry.x", 9), rng.stream_key(3, "selection.x", 9)
    for once in (False, True):
        # the bits hold every candidate and some stale households (cleared as they are read)
        free = _free_of(priority, left_all[0], RNG.random(400) < 0.3)
        got = shortlist(priority, left_all[0], ever, once, members, location, active[0], left_all, rows, key_reg, p_reg,
                        key_sel, limit, free)
        ref = _shortlist_ref(priority, left_all[0], ever, once, members, location, active[0], left_all, rows, key_reg,
                             p_reg, key_sel, limit)
        assert got.tolist() == ref
        np.testing.assert_array_equal(_bits(free[None, :], 400)[0], (priority > 0) & (left_all[0] == 0))


def test_enrol_in_order_vs_reference():
    n, D = 200, 3
    location = RNG.integers(0, D, n).astype(np.int16)
    order = RNG.permutation(n)[:120].astype(np.int64)
    cost = RNG.choice([1.0, 2.5, 10.0], order.size)
    cap_d = np.array([30, 5, 0], np.int64)
    counts = np.array([10, 0, 0], np.int64)
    left, ever = np.zeros(n, np.int16), np.zeros(n, bool)
    new, new_cost, spent = enrol_in_order(order, cost, location, cap_d, counts, 25, 120.0, np.int16(6), left, ever)
    # reference: take in order while capacity, the district's places and money allow
    places, taken, money_spent, c_ref = np.maximum(cap_d - [10, 0, 0], 0), [], 0.0, np.array([10, 0, 0])
    for j, i in enumerate(order):
        if len(taken) >= 25:
            break
        if places[location[i]] <= 0 or money_spent + cost[j] > 120.0:
            continue
        taken.append(j)
        money_spent += cost[j]
        places[location[i]] -= 1
        c_ref[location[i]] += 1
    assert new.tolist() == order[taken].tolist() and new_cost.tolist() == cost[taken].tolist()
    assert spent == money_spent and counts.tolist() == c_ref.tolist()
    assert set(np.flatnonzero(left == 6)) == set(new.tolist()) == set(np.flatnonzero(ever))


def test_serve_vs_reference():
    K, n, D = 3, 50, 4
    location = RNG.integers(0, D, n).astype(np.int16)
    parts = [RNG.choice(n, size, replace=False).astype(np.int64) for size in (5, 0, 12)]
    assisted = np.zeros(n, np.int32)
    served = np.full(40, -1, np.int64)
    cost_d, served_d = np.zeros((K, D)), np.zeros((K, D), np.int64)
    at = 0
    for k, idx in enumerate(parts):
        cost = RNG.random(idx.size) * 10
        new_at = serve(k, idx, cost, location, assisted, served, at, cost_d, served_d)
        assert new_at == at + idx.size and served[at:new_at].tolist() == idx.tolist()
        at = new_at
        np.testing.assert_array_equal(cost_d[k], np.bincount(location[idx], weights=cost, minlength=D))
        np.testing.assert_array_equal(served_d[k], np.bincount(location[idx], minlength=D))
        assert np.all((assisted[idx] >> k) & 1)
    assert assisted.sum() == sum((1 << k) * p.size for k, p in enumerate(parts))


# ------------------------------------------------------------------ unit costs
def test_unit_cost_kernel_and_numpy_agree_with_the_kinds_formulas():
    engine = build_engine(hssim.compose(["population.households=400", "months=3", "spinup_months=0",
                                         "policy=anticipatory_integrated"]))
    engine.step()  # initialise (insurance premiums are set in init)
    hh = engine.households
    hh.herd_tlu[:] = RNG.random(hh.n).astype(np.float32) * 20
    idx = np.flatnonzero(hh.members > 0)
    left = RNG.choice(np.array([-1, 1, 2, 6], np.int16), idx.size)
    ivs = [m for m in engine.modules if isinstance(m, Intervention)]
    D = engine.scenario.n_districts
    for iv in ivs:
        c = iv.cfg
        t = iv.cost_terms(engine)
        # what each kind charged before it declared cost terms
        m, herd = hh.members[idx].astype(np.float64), hh.herd_tlu[idx].astype(np.float64)
        if iv.kind == "cash_transfer":
            legacy = c.cost_per_household_usd + c.amount_usd_per_person * m
        elif iv.kind == "food_assistance":
            legacy = c.cost_per_household_usd + c.ration_kg_per_person * c.food_cost_usd_per_kg * m
        elif iv.kind == "vaccination":
            legacy = c.cost_per_household_usd + c.cost_per_person_usd * m
        elif iv.kind == "livestock_support":
            legacy = c.cost_per_household_usd + c.cost_per_tlu_usd * herd
        elif iv.kind == "destocking":  # facilitation per TLU sold
            legacy = c.cost_per_household_usd + (c.cost_per_tlu_usd * c.offtake_frac) * herd
        elif iv.kind == "livelihood_diversification":
            legacy = c.cost_per_household_usd + np.where(left == 1, c.asset_grant_usd, 0.0)
        elif iv.kind == "index_insurance":
            legacy = c.cost_per_household_usd + iv.premium_usd[hh.district[idx]]
        else:
            legacy = np.full(idx.size, c.cost_per_household_usd)
        got = iv.unit_cost_usd(engine, idx, left)
        assert got.tobytes() == np.asarray(legacy, np.float64).tobytes(), iv.kind
        terms = [np.array([v], np.float64) for v in (t.base, t.per_member, t.per_tlu)]
        by_d = np.zeros((1, D)) if t.by_district is None else np.asarray(t.by_district, np.float64)[None, :]
        kern = [unit_cost(0, i, left[j], *terms, by_d, np.array([t.last_month]), hh.members, hh.herd_tlu, hh.district)
                for j, i in enumerate(idx)]
        assert np.array(kern).tobytes() == got.tobytes(), iv.kind
        assert iv.min_unit_cost_usd(engine) <= got.min()


def test_a_kind_that_prices_households_itself_is_refused():
    from hssim.policies.response import Response

    class Odd(Intervention):
        def unit_cost_usd(self, engine, idx, left):
            return np.ones(idx.size)

    engine = build_engine(hssim.compose(["population.households=300", "months=2", "spinup_months=0", "policy=reactive_siloed"]))
    iv = next(m for m in engine.modules if isinstance(m, Intervention))
    odd = Odd(iv.cfg, "odd")
    with pytest.raises(TypeError, match="cost_terms"):
        Response(next(m for m in engine.modules if isinstance(m, Response)).policy, [odd])
    assert UnitCost(2.0, per_member=3.0, by_district=np.array([5.0, 1.0])).lower_bound() == 6.0


# ------------------------------------------------------------------ targeting
def test_quantile_f32_is_np_quantile():
    for _ in range(400):
        n = int(RNG.integers(1, 60))
        v = RNG.choice([RNG.random(n) * 100, RNG.integers(0, 3, n) * 1.0, np.zeros(n)]).astype(np.float32)
        for q in (0.0, 0.2, 0.3, 0.5, 0.999, 1.0, float(RNG.random())):
            assert np.float32(quantile_f32(v, q)).tobytes() == np.quantile(v, q).tobytes()


def test_proxy_means_vs_the_per_district_quantile_loop():
    n, D = 2000, 6
    wealth = (RNG.lognormal(3, 2, n) * (RNG.random(n) < 0.8)).astype(np.float32)
    location = RNG.integers(0, D, n).astype(np.int16)
    ok = np.array([True, True, False, True, True, True])
    here = (RNG.random(n) < 0.9) & ok[location]
    here[location == 4] = False  # a district with nobody here
    for share in (0.2, 0.0, 1.0):
        e_ref, s_ref = np.zeros(n, bool), np.zeros(n, np.float32)
        for d in np.flatnonzero(ok):
            sel = np.flatnonzero(here & (location == d))
            if sel.size:
                q = np.quantile(wealth[sel], share)
                e_ref[sel] = wealth[sel] <= q
                s_ref[sel] = 1.0 / (1.0 + wealth[sel] / max(q, 1e-9))
        e, s = np.zeros(n, bool), np.zeros(n, np.float32)
        proxy_means(wealth, here, location, ok, share, e, s)
        np.testing.assert_array_equal(e, e_ref)
        assert s.tobytes() == s_ref.tobytes()


def test_community_rule_vs_lexsort_reference():
    n = 1500
    community = np.sort(RNG.integers(0, 40, n)).astype(np.int32)
    need = (RNG.integers(0, 5, n) / 4).astype(np.float32)  # many ties
    here = RNG.random(n) < 0.85
    for share in (0.3, 0.0, 1.0):
        sel = np.flatnonzero(here)
        comm = community[sel]
        order = np.lexsort((-need[sel], comm))
        cs = comm[order]
        rank = np.arange(sel.size) - np.searchsorted(cs, cs, side="left")
        ref = np.zeros(n, bool)
        ref[sel[order[rank < np.floor(share * np.bincount(cs, minlength=40)[cs] + 0.5)]]] = True
        got = np.zeros(n, bool)
        community_rule(need, here, community, share, got)
        np.testing.assert_array_equal(got, ref)


def test_observe_all_is_observe_per_programme():
    K, n, D = 3, 3000, 4
    members = RNG.choice(np.array([0, 2, 5], np.int8), n)
    location = RNG.integers(0, D, n).astype(np.int16)
    district_ok = RNG.random((K, D)) < 0.8
    eligible = RNG.random((K, n)) < 0.4
    score = RNG.random((K, n)).astype(np.float32)
    accuracy = np.array([[1.0] * D, [0.7, 0.8, 1.0, 0.5], [0.9] * D])
    keys = np.array([rng.stream_key(5, f"targeting.p{k}", 33) for k in range(K)], np.uint64)
    need = RNG.random(n).astype(np.float32)
    rows = np.array([0, 2], np.int64)
    for c, source in ((0.0, np.arange(K)), (0.6, np.array([1, 0, 1])), (1.0, np.array([2, 2, 0]))):
        out = np.full((K, n), 99, np.uint8)
        observe_all(keys, rows, source, eligible, score, need, c, members, location, district_ok, accuracy, out)
        for k in rows:
            el = eligible[source[k]]
            # the ranking score as NumPy blends float32 arrays
            blended = ((1.0 - c) * score[source[k]] + c * need) if c > 0.0 else score[source[k]]
            assert blended.dtype == np.float32
            here = (members > 0) & district_ok[k][location]
            share = np.bincount(location[el & here], minlength=D) / np.maximum(np.bincount(location[here], minlength=D), 1)
            ref = np.zeros(n, np.uint8)
            observe(keys[k], el, here, blended, location, accuracy[k], share, ref)
            np.testing.assert_array_equal(out[k], ref)
        assert np.all(out[1] == 99)  # a row not assessed is left as it was


def test_observe_is_its_formula_draw_for_draw():
    """Priority from slots 0 (classified correctly?), 1 (else a coin at the eligible
    share) and 2 (noise in the score): a pure-Python reference with the same draws."""
    n, D = 2000, 3
    key = rng.stream_key(9, "targeting.p", 4)
    eligible = RNG.random(n) < 0.3
    here = RNG.random(n) < 0.9
    score = RNG.random(n).astype(np.float32)
    location = RNG.integers(0, D, n).astype(np.int16)
    accuracy, share = np.array([0.6, 1.0, 0.85]), np.array([0.2, 0.5, 0.35])
    out = np.full(n, 7, np.uint8)
    observe(key, eligible, here, score, location, accuracy, share, out)
    for i in range(n):
        a, d = accuracy[location[i]], location[i]
        if not here[i]:
            ref = 0
        elif a >= 1.0:
            ref = 1 + int(min(max(float(score[i]), 0.0), 1.0) * 254.0) if eligible[i] else 0
        else:
            seen = eligible[i] if rng.uniform(key, i, 0) < a else rng.uniform(key, i, 1) < share[d]
            s = a * float(score[i]) + (1.0 - a) * rng.uniform(key, i, 2)
            ref = 1 + int(min(max(s, 0.0), 1.0) * 254.0) if seen else 0
        assert out[i] == ref, i


def test_assistance_sums_vs_reference():
    """In need, unmet, assisted, people, duplicated (two programmes of one kind) and
    layered (two kinds or more), by district and cell, against a per-household loop."""
    from hssim.policies.response import A_ASSISTED, A_DUPLICATED, A_IN_NEED, A_LAYERED, A_NEED_UNMET, A_PEOPLE, N_ASSIST, \
        assistance_sums
    from hssim.sums import N_CELLS, cell_of

    n, D, K = 3000, 3, 9
    kind_of_bit = np.array([0, 0, 1, 2, 2, 2, 3, 4, 1], np.int64)
    household_bits, need_bits = np.int32(0b110111111), np.int32(0b000011011)
    assisted = RNG.integers(0, 1 << K, n).astype(np.int32) * (RNG.random(n) < 0.6)
    ipc = RNG.integers(1, 6, n).astype(np.int8)
    members = RNG.choice(np.array([0, 1, 4, 7], np.int8), n)
    district = RNG.integers(0, D, n).astype(np.int16)
    fh, mg, po = (RNG.integers(0, 2, n).astype(np.int8) for _ in range(3))
    lv = RNG.integers(0, 4, n).astype(np.int8)
    disp = RNG.integers(0, 3, n).astype(np.int8)
    acc = np.zeros((numba.config.NUMBA_NUM_THREADS, D, N_CELLS, N_ASSIST), np.int64)  # a row per thread
    assistance_sums(assisted, household_bits, need_bits, kind_of_bit, ipc, members, district, fh, mg, po, lv, disp, acc)
    ref = np.zeros((D, N_CELLS, N_ASSIST), np.int64)
    for i in range(n):
        if members[i] <= 0:
            continue
        row = ref[district[i], cell_of(fh[i], mg[i], po[i], lv[i], disp[i])]
        a = int(assisted[i]) & int(household_bits)
        need = ipc[i] >= 3
        row[A_IN_NEED] += need
        row[A_NEED_UNMET] += need and (a & int(need_bits)) == 0
        if a:
            kinds = [kind_of_bit[k] for k in range(K) if (a >> k) & 1]
            row[A_ASSISTED] += 1
            row[A_PEOPLE] += members[i]
            row[A_DUPLICATED] += len(kinds) > len(set(kinds))
            row[A_LAYERED] += len(set(kinds)) > 1
    np.testing.assert_array_equal(acc.sum(axis=0), ref)
    assert ref[..., A_DUPLICATED].sum() > 0 and ref[..., A_LAYERED].sum() > 0  # both cases occur


# ------------------------------------------------------------------ disease month
def test_disease_month_is_the_substep_loop():
    """One fused month equals month_start + the substeps + importations called from Python
    (the chain-binomial algorithm; the event-driven one is checked against it by ensembles
    in tests/test_disease_event.py)."""
    from hssim.hazards.disease import SUBSTEPS_MAX, Disease
    from hssim.kernels.disease import P_E, P_LOC_I, P_LOC_N, P_R, disease_substep, import_infections, month_start

    def engine():
        e = build_engine(hssim.compose(["population.households=600", "months=6", "spinup_months=0",
                                        "hazards.disease.importations_per_month=20", "hazards.disease.substeps_per_month=6",
                                        "hazards.disease.algorithm=chain_binomial"]))
        for _ in range(3):
            e.step()
        return e

    fused, loop = engine(), engine()
    dis = next(m for m in loop.modules if isinstance(m, Disease))
    ti, hh, p = loop.ti, loop.households, dis.params
    d_mult, d_cfr = dis.district_multipliers(loop)
    dis.acc[:] = 0
    dis.loc_new[:] = 0
    dis.pool_acc[:] = 0
    month_start(rng.stream_key(loop.seed, "disease.reconcile", ti), rng.stream_key(loop.seed, "disease.ill", ti), p.sym_frac,
                dis.comm_start, hh.members, hh.location, hh.displaced, hh.dis_s, hh.dis_e, hh.dis_i, hh.dis_r, hh.sick,
                dis.comm_tot, dis.pool_acc)
    pool, seeded, n_sub = dis.pool_acc.sum(axis=0), 0, dis.cfg.substeps_per_month
    for sub in range(n_sub):
        tick, last = ti * SUBSTEPS_MAX + sub, sub == n_sub - 1
        if last or seeded or pool[:, P_LOC_I].sum() or pool[:, P_E].sum() or (p.p_wane and pool[:, P_R].sum()):
            dis.pool_acc[:] = 0
            disease_substep(p, rng.stream_key(loop.seed, "disease", tick), rng.stream_key(loop.seed, "disease.who", tick),
                            dis.comm_start, dis.comm_tot, pool, int(pool[:, P_LOC_I].sum()), int(pool[:, P_LOC_N].sum()),
                            d_mult, d_cfr, hh.members, hh.dead, hh.u5, hh.adults, hh.malnutrition, hh.district,
                            hh.location, hh.displaced, hh.female_head, hh.marginalised, hh.poorest_quintile,
                            hh.livelihood, hh.dis_s, hh.dis_e, hh.dis_i, hh.dis_r, hh.sick, last, dis.comm_next,
                            dis.pool_acc, dis.acc, dis.loc_new)
            pool = dis.pool_acc.sum(axis=0)
            dis.comm_tot, dis.comm_next = dis.comm_next, dis.comm_tot
        _, seeded = import_infections(rng.stream_key(loop.seed, "disease.import", tick), dis.cfg.importations_per_month / n_sub,
                                      hh.members, hh.dis_s, hh.dis_e, hh.district, hh.location, hh.female_head,
                                      hh.marginalised, hh.poorest_quintile, hh.livelihood, hh.displaced, dis.acc, dis.loc_new)
    fdis = next(m for m in fused.modules if isinstance(m, Disease))
    fused.month_sums[:] = 0
    fdis.step(fused, fused.ti)
    for name in ("members", "dead", "u5", "adults", "dis_s", "dis_e", "dis_i", "dis_r", "sick"):
        np.testing.assert_array_equal(fused.households[name], hh[name], err_msg=name)
    np.testing.assert_array_equal(fdis.acc.sum(axis=0), dis.acc.sum(axis=0))
    np.testing.assert_array_equal(fdis.loc_new.sum(axis=0), dis.loc_new.sum(axis=0))
    np.testing.assert_array_equal(fdis.comm_tot, dis.comm_tot)
    assert dis.acc.sum() > 0  # something happened


def test_informed_act_is_the_numpy_dissemination_step():
    from hssim.interventions.protection import informed_act

    n, D = 400, 5
    members = RNG.choice(np.array([0, 1, 4], np.int8), n)
    location = RNG.integers(0, D, n).astype(np.int16)
    ew = RNG.choice(np.array([0, 0, 1, 3], np.int8), n)
    herd = (RNG.random(n) * 10 * (RNG.random(n) < 0.6)).astype(np.float32)
    savings = (RNG.random(n) * 50).astype(np.float32)
    flight = (RNG.random(n) * 0.5 * (RNG.random(n) < 0.3)).astype(np.float32)
    idx = RNG.choice(n, 40, replace=False).astype(np.int64)
    started = RNG.random(D) < 0.5
    price = RNG.random(D) * 300
    alert = (RNG.random(D) < 0.5).astype(np.float64)
    ref = [a.copy() for a in (ew, herd, savings, flight)]
    r_ew, r_herd, r_sav, r_flight = ref
    r_ew[idx] = 12
    informed = np.flatnonzero((r_ew > 0) & (members > 0))
    loc = location[informed]
    sell = informed[started[loc] & (r_herd[informed] > 0)]
    sold = r_herd[sell] * np.float32(0.2)
    r_sav[sell] += (sold * price[location[sell]]).astype(np.float32)
    r_herd[sell] -= sold
    warned = informed[alert[loc] > 0]
    r_flight[warned] = np.maximum(r_flight[warned], np.float32(0.4))
    r_ew[informed] -= 1
    informed_act(idx, 12, True, started, np.float32(0.2), price, alert, np.float32(0.4), ew, members, location, herd,
                 savings, flight)
    for got, want in zip((ew, herd, savings, flight), ref):
        assert got.tobytes() == want.tobytes()


def test_disease_substep_reuses_infection_probability_only_when_exact():
    """The substep reuses a neighbour's infection probability for a household without
    infectious members (same location, displacement and malnutrition); against the
    plain-Python substep of test_disease_kernels on a population where most households
    have nobody infectious and neighbours differ in exactly one of those inputs."""
    from hssim.hazards.disease import DiseaseConfig, make_params
    from hssim.kernels.disease import A_NEW_INFECTIONS, N_ACC, N_POOL, disease_substep
    from hssim.sums import N_CELLS
    from tests.unit.test_disease_kernels import pools_ref, substep_ref

    n, C, D = 600, 12, 3
    comm_start = np.linspace(0, n, C + 1).astype(np.int64)
    members = RNG.integers(0, 8, n).astype(np.int8)
    i_ = np.where(RNG.random(n) < 0.1, np.minimum(members, RNG.integers(1, 3, n)), 0)
    e_ = np.minimum(members - i_, RNG.integers(0, 2, n) * (RNG.random(n) < 0.2))
    r_ = np.minimum(members - i_ - e_, RNG.integers(0, 3, n))
    u5 = np.minimum(members, RNG.integers(0, 3, n))
    hh = dict(
        members=members,
        # runs of neighbours sharing location/displacement, malnutrition flipping often
        district=np.repeat(np.arange(C) % D, n // C).astype(np.int16),
        location=np.where(RNG.random(n) < 0.85, np.repeat(np.arange(C) % D, n // C), RNG.integers(0, D, n)).astype(np.int16),
        displaced=RNG.choice(np.array([0, 0, 0, 1, 2], np.int8), n),
        malnutrition=RNG.choice(np.array([0, 0, 1, 2], np.int8), n),
        female_head=RNG.integers(0, 2, n).astype(np.int8),
        marginalised=RNG.integers(0, 2, n).astype(np.int8),
        poorest=RNG.integers(0, 2, n).astype(np.int8),
        livelihood=RNG.integers(0, 4, n).astype(np.int8),
        u5=u5.astype(np.int8),
        adults=(members - u5).astype(np.int8),
        dead=np.zeros(n, np.int8),
        dis_s=(members - i_ - e_ - r_).astype(np.int8),
        dis_e=e_.astype(np.int8),
        dis_i=i_.astype(np.int8),
        dis_r=r_.astype(np.int8),
        sick=np.minimum(i_, 1).astype(np.int8),
    )
    ref = {k: v.astype(np.int64).tolist() for k, v in hh.items()}
    cfg = DiseaseConfig(r0=8.0, cfr_untreated=0.3, symptomatic_frac=0.5, malnutrition_susceptibility_rr=3.0,
                        immunity_waning_months=2.0, camp_crowding_rr=2.5)
    p = make_params(cfg, 30.4, s_malnutrition=1.0, s_displacement=1.0)
    assert p.mal_sus_mult > 1.0 and p.camp_mult > 1.0
    key, key_who = rng.stream_key(11, "disease", 5), rng.stream_key(11, "disease.who", 5)
    comm, pool = pools_ref(comm_start, hh, D)
    d_mult, d_cfr = np.array([1.0, 1.4, 0.7]), np.array([0.3, 0.1, 0.2])
    pool_arr = np.array(pool, np.int64)
    T = 2
    acc = np.zeros((T, D, N_CELLS, N_ACC), np.int64)
    disease_substep(p, key, key_who, comm_start, np.array(comm, np.int64), pool_arr, int(pool_arr[:, 0].sum()),
                    int(pool_arr[:, 1].sum()), d_mult, d_cfr, hh["members"], hh["dead"], hh["u5"], hh["adults"],
                    hh["malnutrition"], hh["district"], hh["location"], hh["displaced"], hh["female_head"],
                    hh["marginalised"], hh["poorest"], hh["livelihood"], hh["dis_s"], hh["dis_e"], hh["dis_i"],
                    hh["dis_r"], hh["sick"], True, np.zeros((C, 2), np.int64), np.zeros((T, D, N_POOL), np.int64), acc,
                    np.zeros((T, D), np.int64))
    acc_ref = [[[0] * N_ACC for _ in range(N_CELLS)] for _ in range(D)]
    substep_ref(p, key, key_who, comm_start, comm, pool, d_mult.tolist(), d_cfr.tolist(), ref, True, acc_ref)
    for k in ref:
        assert hh[k].tolist() == ref[k], k
    np.testing.assert_array_equal(acc.sum(axis=0), np.array(acc_ref))
    assert acc[..., A_NEW_INFECTIONS].sum() > 20  # many households were infected: the comparison is not vacuous
