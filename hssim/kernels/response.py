"""Response kernels: the registry, enrolment and delivery of every programme.

The response (:mod:`hssim.policies.response`) keeps one row per programme of each
registry array (``left``, ``ever``, ``priority``: ``[K, n]``); these kernels do the
per-household work of a month in a few calls, so that the Python side only
handles money and the (few) districts and activations:

* :func:`promote`: an assessment reaches the registry;
* :func:`keep_enrolled_all`: who stays enrolled, every programme at once;
* :func:`shortlist`: a programme's best candidates for enrolment, in order;
* :func:`enrol_in_order`: enrol from the shortlist while capacity, caps and money allow;
* :func:`serve`: mark who is served, count and cost them by district;
* :func:`allocate`: a month of every programme's money and places, in one call.

Random streams (keys from the response, one per programme and tick):
``registry.<name>`` (index = household, slot 0: the shared registry catches a
would-be duplicate) and ``selection.<name>`` (index = household, slot 0: the
tie-break among equal priorities).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..rng import uniform

__all__ = [
    "INDEX_BITS",
    "allocate",
    "available",
    "enrol_in_order",
    "keep_enrolled_all",
    "mark_free",
    "np_sum",
    "pay",
    "promote",
    "select_in_order",
    "serve",
    "shortlist",
    "sort_keys",
    "unit_cost",
]

#: de Bruijn sequence and table: the index of a uint64's single set bit in one multiply
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_INDEX = np.zeros(64, np.int64)
for _b in range(64):
    _DEBRUIJN_INDEX[((((1 << _b) * 0x03F79D71B4CB0A89) & ((1 << 64) - 1)) >> 58)] = _b


@nb.njit(cache=True, inline="always")
def _bit_index(single):
    """Index (0..63) of the one set bit of ``single`` (uint64)."""
    return _DEBRUIJN_INDEX[np.int64((single * _DEBRUIJN) >> np.uint64(58))]


#: low bits of a sort key that hold the household index (< 2^26 households)
INDEX_BITS = 26
_INDEX_MASK = np.uint64((1 << INDEX_BITS) - 1)


@nb.njit(cache=True)
def select_in_order(order, location, cost, cap_d, capacity, money):
    """Take households in ``order`` while capacity, money and district caps allow.

    Parameters
    ----------
    order : int64[m]  candidates, best first
    location : int16[n]
    cost : float64[m]  cost of each candidate (same order)
    cap_d : int64[D]  places left in each district (updated in place)
    capacity : int64  most households to take (-1 = no limit)
    money : float64  money available

    Returns
    -------
    take : bool[m]
    spent : float64
    """
    take = np.zeros(order.size, np.bool_)
    spent = 0.0
    n_taken = 0
    for j in range(order.size):
        if capacity >= 0 and n_taken >= capacity:
            break
        d = location[order[j]]
        if cap_d[d] <= 0:
            continue
        if spent + cost[j] > money:
            continue  # a cheaper (smaller) household further down may still fit
        take[j] = True
        spent += cost[j]
        cap_d[d] -= 1
        n_taken += 1
    return take, spent


@nb.njit(cache=True, inline="always")
def mark_free(free, k, i):
    """Household ``i`` may be a candidate of programme ``k`` again (its bit in ``free``)."""
    free[k, i >> 6] |= np.uint64(1) << np.uint64(i & 63)


@nb.njit(parallel=True, cache=True)
def promote(rows, pending, priority, left, free):
    """The pending assessment of programmes ``rows`` (int64[j]) becomes their registry
    (``priority`` uint8[K, n] <- ``pending``); an open-ended enrolment (``left`` -1)
    ends where the assessment no longer sees the household as eligible. Each row's
    candidate bits (``free`` uint64[K, ceil(n / 64)]: observed eligible and not
    enrolled) are set anew."""
    n = priority.shape[1]
    for r in nb.prange(rows.size):  # programmes are independent: each writes its own rows
        k = rows[r]
        # one pass, a word of 64 households at a time, its bits set without a branch
        # (a shift-or per household in a branch ran 12 times slower)
        for w in range(free.shape[1]):
            lo = w * 64
            bits = np.uint64(0)
            for j in range(min(64, n - lo)):
                i = lo + j
                p = pending[k, i]
                priority[k, i] = p
                v = left[k, i]
                if v < 0 and p == 0:
                    v = 0
                    left[k, i] = 0
                bits |= np.uint64((p > 0) & (v == 0)) << np.uint64(j)
            free[k, w] = bits


@nb.njit(cache=True)
def keep_enrolled_all(left, members, location, active, counts, priority, free):
    """End the enrolments of households that died or whose location the programme
    does not run in, for every programme; return the continuing beneficiaries.
    A household whose enrolment ends may be a candidate again (``free``, see
    :func:`shortlist`).

    Parameters
    ----------
    left : int16[K, n]  months of service left (0 = not enrolled); set to 0 where
        an enrolment ends
    members : int8[n]
    location : int16[n]
    active : bool[K, D]  where each programme delivers this month
    counts : int64[K, D]  out: continuing beneficiaries by programme and district
    priority : uint8[K, n];  free : uint64[K, ceil(n / 64)]  candidate bits (set where an
        eligible household's enrolment ends)

    Returns
    -------
    cont : int64[total]  continuing beneficiaries, programme by programme, ascending
    start : int64[K + 1]  programme ``k``'s are ``cont[start[k]:start[k + 1]]``
    """
    K, n = left.shape
    # enrolments before the check, by programme: the size of the output, at most (a quick count)
    enrolled = np.zeros(K, np.int64)
    for k in range(K):
        for i in range(n):
            enrolled[k] += left[k, i] != 0
    cont = np.empty(enrolled.sum(), np.int64)
    start = np.zeros(K + 1, np.int64)
    counts[:] = 0
    c = 0
    for k in range(K):
        start[k] = c
        if enrolled[k] == 0:
            continue  # nobody to check
        for i in range(n):
            if left[k, i] != 0:
                if members[i] > 0 and active[k, location[i]]:
                    cont[c] = i
                    c += 1
                    counts[k, location[i]] += 1
                else:
                    left[k, i] = 0
                    if priority[k, i] > 0:
                        mark_free(free, k, i)
    start[K] = c
    return cont[:c], start


@nb.njit(cache=True)
def sort_keys(keys):
    """``keys`` (uint64[m]) sorted ascending, given in ascending order of their low
    :data:`INDEX_BITS` bits, which are distinct (as :func:`shortlist` builds them).

    A least-significant-digit radix sort of the bits above the index (four stable
    passes of 9-10 bits): equal upper bits keep the input order, which is that of
    the index, so the result is the full ascending order. About 3x quicker than
    ``np.sort`` for the few thousand keys of a month's candidates (and quicker to compile).
    """
    m = keys.size
    src = keys.copy()
    if m < 64:  # a few keys: insertion sort
        for j in range(1, m):
            x = src[j]
            i = j - 1
            while i >= 0 and src[i] > x:
                src[i + 1] = src[i]
                i -= 1
            src[i + 1] = x
        return src
    dst = np.empty_like(keys)
    count = np.empty(1025, np.int64)
    for shift, bits in ((26, 10), (36, 10), (46, 9), (55, 9)):
        sh = np.uint64(shift)
        mask = np.uint64((1 << bits) - 1)
        count[: (1 << bits) + 1] = 0
        for j in range(m):
            count[np.int64((src[j] >> sh) & mask) + 1] += 1
        for b in range(1 << bits):
            count[b + 1] += count[b]
        for j in range(m):
            b = np.int64((src[j] >> sh) & mask)
            dst[count[b]] = src[j]
            count[b] += 1
        src, dst = dst, src
    return src


@nb.njit(cache=True)
def shortlist(priority, left, ever, once, members, location, active, left_all, same_kind, key_registry, registry_p,
              key_selection, limit, free):
    """A programme's best ``limit`` candidates for enrolment, best first.

    Only households whose bit is set in ``free`` are looked at: the bits hold every
    household observed eligible and not enrolled (and perhaps others, whose bits are
    cleared here), set by :func:`promote` and wherever an enrolment ends, so the
    candidates are those a scan of every household finds, in the same (ascending)
    order, without reading the rest.

    A candidate is observed eligible (``priority > 0``), not enrolled, alive where
    the programme runs, never served before when ``once``, and not seen by the
    registry as enrolled in another programme of the same kind: a registry shared
    with probability ``registry_p`` catches each such household when
    ``uniform(key_registry, i, 0) < registry_p``.

    Candidates are ranked by a unique uint64 key, ascending = best first: 8 bits
    for ``255 - priority``, 29 for a hash (``uniform(key_selection, i, 0)``) that
    breaks ties at random, and :data:`INDEX_BITS` for the index ``i`` itself.

    Parameters
    ----------
    priority : uint8[n]  the programme's registry (0 = not observed eligible)
    left : int16[n]  the programme's months of service left (0 = not enrolled)
    ever : bool[n]  served by the programme before
    once : bool  at most one enrolment per household
    members : int8[n]
    location : int16[n]
    active : bool[D]  districts where the programme delivers
    left_all : int16[K, n]  every programme's ``left``
    same_kind : int64[J]  rows of ``left_all`` the registry checks (empty: none)
    key_registry, key_selection : uint64  stream keys (``registry.<name>``,
        ``selection.<name>``, this tick)
    registry_p : float  chance the registry catches a duplicate
    limit : int  length of the shortlist
    free : uint64[ceil(n / 64)]  the programme's candidate bits (cleared where a household
        is not observed eligible or already enrolled)

    Returns
    -------
    int64[min(limit, candidates)]  household indices, best first
    """
    cand = np.empty(left.size, np.int64)
    at_level = np.zeros(256, np.int64)
    c = 0
    for w in range(free.size):
        x = free[w]
        while x != 0:
            low = x & (~x + np.uint64(1))  # the lowest set bit: households in ascending order
            x ^= low
            i = w * 64 + _bit_index(low)
            if priority[i] == 0 or left[i] != 0:
                free[w] &= ~low  # not a candidate until an enrolment ends or an assessment
                continue
            if members[i] <= 0 or not active[location[i]]:
                continue
            if once and ever[i]:
                continue
            dup = False
            for j in range(same_kind.size):
                if left_all[same_kind[j], i] != 0 and (registry_p >= 1.0 or uniform(key_registry, i, 0) < registry_p):
                    dup = True
                    break
            if not dup:
                cand[c] = i
                c += 1
                at_level[priority[i]] += 1
    # keys order by priority first: only priorities down to the level where the
    # shortlist fills can be in it (saves hashing and sorting every candidate)
    lowest = 0
    if c > limit:
        filled = 0
        for level in range(255, 0, -1):
            filled += at_level[level]
            if filled >= limit:
                lowest = level
                break
    keys = np.empty(c, np.uint64)
    m = 0
    for j in range(c):
        i = cand[j]
        p = priority[i]
        if p < lowest:
            continue
        h = np.uint64(uniform(key_selection, i, 0) * 536870912.0)  # 29 bits
        keys[m] = (np.uint64(255 - p) << np.uint64(55)) | (h << np.uint64(INDEX_BITS)) | np.uint64(i)
        m += 1
    keys = sort_keys(keys[:m])
    out = np.empty(min(m, limit), np.int64)
    for j in range(out.size):
        out[j] = np.int64(keys[j] & _INDEX_MASK)
    return out


@nb.njit(cache=True)
def enrol_in_order(order, cost, location, cap_d, counts, capacity, money, first_left, left, ever):
    """Enrol households from ``order`` (best first) while capacity, district caps and
    money allow (:func:`select_in_order`), and write the enrolments.

    Parameters
    ----------
    order : int64[m]  the shortlist, best first
    cost : float64[m]  this month's cost of each (same order)
    location : int16[n]
    cap_d : int64[D]  most households the programme may serve in each district
    counts : int64[D]  households it serves there now (updated)
    capacity : int  most households to enrol
    money : float  money available
    first_left : int16  months of service of a new enrolment (-1 open-ended)
    left : int16[n], ever : bool[n]  the programme's registry rows (updated)

    Returns
    -------
    new : int64[t]  households enrolled, in order
    new_cost : float64[t]  their costs
    spent : float  sum of ``new_cost`` (added in order)
    """
    places = np.empty(cap_d.size, np.int64)
    for d in range(cap_d.size):
        places[d] = max(cap_d[d] - counts[d], 0)
    take, spent = select_in_order(order, location, cost, places, capacity, money)
    t = 0
    for j in range(take.size):
        t += take[j]
    new = np.empty(t, np.int64)
    new_cost = np.empty(t, np.float64)
    t = 0
    for j in range(take.size):
        if take[j]:
            i = order[j]
            new[t] = i
            new_cost[t] = cost[j]
            t += 1
            counts[location[i]] += 1
            left[i] = first_left
            ever[i] = True
    return new, new_cost, spent


@nb.njit(cache=True)
def serve(k, households, cost, location, assisted, served, at, cost_d, served_d):
    """Record that programme ``k`` serves ``households`` (distinct) at ``cost`` this
    month: bit ``k`` of ``assisted`` is set, the households are written to
    ``served[at:]``, and costs and households are added up by current district, in
    order. Returns the next free position of ``served``.

    Parameters
    ----------
    households : int64[m], cost : float64[m]
    location : int16[n]
    assisted : int32[n]  updated
    served : int64[*]  out
    cost_d : float64[K, D], served_d : int64[K, D]  added to
    """
    bit = np.int32(1 << k)
    for j in range(households.size):
        i = households[j]
        assisted[i] |= bit
        served[at + j] = i
        d = location[i]
        cost_d[k, d] += cost[j]
        served_d[k, d] += 1
    return at + households.size


@nb.njit(cache=True)
def unit_cost(k, i, months_left, base, per_member, per_tlu, by_district, last_month, members, herd, district):
    """Real USD for programme ``k`` to serve household ``i`` this month: the terms of
    :class:`hssim.interventions.base.UnitCost`, added in the same order."""
    x = base[k] + per_member[k] * np.float64(members[i])
    x = x + per_tlu[k] * np.float64(herd[i])
    x = x + by_district[k, district[i]]
    return x + (last_month[k] if months_left == 1 else 0.0)


@nb.njit(cache=True)
def np_sum(a):
    """``a.sum()`` of a contiguous float64[m] exactly as NumPy adds it, so sums the
    Python side used to take come out bit for bit the same: pairwise, in blocks of at
    most 128 (a block of 8 or more: 8 accumulators, added ``((r0 + r1) + (r2 + r3)) +
    ((r4 + r5) + (r6 + r7))``, then the rest one by one), a block of ``m > 128`` split at
    ``m // 2`` rounded down to a multiple of 8, halves added left + right. (Walked
    with an explicit stack: numba's cache does not handle recursive functions.)"""
    lo = np.empty(64, np.int64)  # depth ~ log2(m / 128)
    size = np.empty(64, np.int64)
    stage = np.zeros(64, np.int64)  # 0: left half next, 1: right half next, 2: add
    left_sum = np.empty(64)
    lo[0], size[0] = 0, a.size
    depth = 1
    done = 0.0  # the sum of the block finished last
    while depth > 0:
        t = depth - 1
        n = size[t]
        if n <= 128:  # a block
            b = lo[t]
            if n < 8:
                done = 0.0
                for i in range(b, b + n):
                    done += a[i]
            else:
                r0, r1, r2, r3 = a[b], a[b + 1], a[b + 2], a[b + 3]
                r4, r5, r6, r7 = a[b + 4], a[b + 5], a[b + 6], a[b + 7]
                i = 8
                while i < n - n % 8:
                    r0 += a[b + i]
                    r1 += a[b + i + 1]
                    r2 += a[b + i + 2]
                    r3 += a[b + i + 3]
                    r4 += a[b + i + 4]
                    r5 += a[b + i + 5]
                    r6 += a[b + i + 6]
                    r7 += a[b + i + 7]
                    i += 8
                done = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
                while i < n:
                    done += a[b + i]
                    i += 1
            depth -= 1
            continue
        half = n // 2
        half -= half % 8
        if stage[t] == 0:
            stage[t] = 1
            lo[depth], size[depth], stage[depth] = lo[t], half, 0
            depth += 1
        elif stage[t] == 1:
            left_sum[t] = done
            stage[t] = 2
            lo[depth], size[depth], stage[depth] = lo[t] + half, n - half, 0
            depth += 1
        else:
            done = left_sum[t] + done
            depth -= 1
    return 0.0 + done


@nb.njit(cache=True)
def available(accounts, pool_quota, sector, open_pool, earmark, k, cap_left):
    """Money programme ``k`` of ``sector`` can spend now: the money earmarked to it
    (released reserve, appeal funds), its sector's account and the pool (all of it when
    ``open_pool``, else up to the sector's quota), and never more than what is left under
    the response's spending cap. ``accounts`` float64[S + 1] (the last is the pool),
    ``pool_quota`` float64[S], ``earmark`` float64[K], ``cap_left`` float64[1] (``inf``:
    no cap)."""
    pool = accounts[accounts.size - 1]
    if not open_pool and not pool < pool_quota[sector]:
        pool = pool_quota[sector]
    money = earmark[k] + accounts[sector] + pool
    return money if money < cap_left[0] else cap_left[0]  # noqa: FURB136 - min(money, cap)


@nb.njit(cache=True)
def pay(accounts, pool_quota, sector, amount, open_pool, earmark, k, cap_left):
    """Take ``amount`` from programme ``k``'s earmarked money, then its sector's account,
    then the pool, and count it against the spending cap; False (and nothing taken) if it
    is not there. (Python's ``min``/``max`` tie rules, written out.) Earmarked money goes
    first: it is for this programme only and lapses when unspent."""
    if amount > available(accounts, pool_quota, sector, open_pool, earmark, k, cap_left) + 1e-9:
        return False
    cap_left[0] -= amount
    if earmark[k] > 0.0:
        from_earmark = earmark[k] if earmark[k] < amount else amount  # noqa: FURB136 - min(amount, earmark)
        earmark[k] -= from_earmark
        amount = amount - from_earmark
    own = accounts[sector] if accounts[sector] < amount else amount  # noqa: FURB136 - min(amount, account)
    accounts[sector] -= own
    from_pool = amount - own
    left_in_pool = accounts[accounts.size - 1] - from_pool
    accounts[accounts.size - 1] = left_in_pool if left_in_pool > 0.0 else 0.0  # noqa: FURB136 - max(0.0, x)
    quota = pool_quota[sector] - from_pool
    pool_quota[sector] = quota if quota > 0.0 else 0.0  # noqa: FURB136 - max(0.0, x)
    return True


@nb.njit(cache=True)
def allocate(ti, accounts, pool_quota, earmark, cap_left, sector, enabled, active, start_at, end_at, fixed_cost, scale,
             activation_id, activation_cost, cost_m, fixed_status, left, ever, priority, members, location, district,
             herd, base, per_member, per_tlu, by_district, last_month, capacity_carry, cap_d, min_cost, once,
             first_left, registry_rows, registry_start, registry_p, key_registry, key_selection, assisted, cost_d,
             served_d, free):
    """One month of the response's money and places, every programme in portfolio order.

    1. Each programme (in order) pays the set-up cost of the districts where its
       delivery starts this tick (unpaid: the activation is cancelled there), then its
       continuing beneficiaries; if it cannot pay them all, it keeps them best first
       (priority, then the ``selection`` hash) while money lasts and the others leave.
    2. Each programme delivering somewhere enrols new households
       (:func:`shortlist`, :func:`enrol_in_order`) from its sector's money and quota
       of the pool; then, if the pool holds money, a second round open to the pool.
    3. Who is served is recorded as it is decided (:func:`serve`): continuing, then
       round 1, round 2; fixed-length enrolments then count down a month.

    Money (sim-USD) comes out of ``earmark`` (the programme's own) and ``accounts`` (S
    sectors, then the pool) as :func:`pay` takes it; costs are :func:`unit_cost` (terms per programme).

    Parameters
    ----------
    ti : int  tick
    accounts : float64[S + 1], pool_quota : float64[S]  updated
    earmark : float64[K]  money only programme k may spend, spent first (updated)
    cap_left : float64[1]  what the response may still spend under its cap (``inf``: no cap; updated)
    sector : int64[K]  each programme's sector
    enabled : bool[K]
    active : bool[K, D]  where each programme delivers; a cancelled start is removed
    start_at : int64[K, D]  tick delivery starts in each district
    end_at : int64[K, D]  set to ``ti`` where a start is cancelled
    fixed_cost : float64[K]  set-up cost per district, sim-USD
    scale : float  simulated / real households (real USD = sim-USD / scale)
    activation_id : int64[K, D], activation_cost : float64[A]  set-up costs are added (real USD)
    cost_m : float64[K, D]  this month's cost record, real USD (set-up costs added)
    fixed_status : int8[K, D]  out: 1 set-up paid, 2 not paid (activation cancelled)
    left, ever, priority : [K, n]  the registry (``left``, ``ever`` updated)
    members, location, district, herd : household arrays [n]
    base, per_member, per_tlu, last_month : float64[K], by_district : float64[K, D]
        unit-cost terms (real USD)
    capacity_carry : float64[K]  places each programme can fill (updated)
    cap_d : int64[K, D]  most households each programme may serve in each district
    min_cost : float64[K]  lower bound of each programme's unit cost
    once : bool[K], first_left : int16[K]  enrolment rules
    registry_rows, registry_start : int64  programme ``k`` checks the rows
        ``registry_rows[registry_start[k]:registry_start[k + 1]]`` for duplicates
    registry_p : float  chance the shared registry catches a duplicate
    key_registry, key_selection : uint64[K]  this tick's stream keys
    assisted : int32[n]  updated (bit k: served by programme k)
    cost_d : float64[K, D], served_d : int64[K, D]  out (zeroed by the caller):
        delivery costs (sim-USD) and households served
    free : uint64[K, ceil(n / 64)]  candidate bits (:func:`shortlist`), updated

    Returns
    -------
    served : int64[*]  households served
    lo, hi : int64[K]  programme ``k`` serves ``served[lo[k]:hi[k]]``
    """
    K, n = left.shape
    D = active.shape[1]
    anywhere = np.bool_(True)  # open_pool for commitments (typed, not a literal: one compilation)
    counts = np.zeros((K, D), np.int64)  # households enrolled by programme and district
    cont, cont_start = keep_enrolled_all(left, members, location, active, counts, priority, free)
    # who each programme serves: served[lo[k]:hi[k]], continuing first, then the two
    # rounds; room for its continuing beneficiaries and as many new ones as it can enrol
    lo = np.zeros(K, np.int64)
    hi = np.zeros(K, np.int64)
    room = 0
    for k in range(K):
        lo[k] = hi[k] = room
        room += cont_start[k + 1] - cont_start[k]
        if capacity_carry[k] >= 1.0:
            room += min(n, int(np.floor(capacity_carry[k])))
    served = np.empty(room, np.int64)
    for k in range(K):
        if not enabled[k]:
            continue
        s = sector[k]
        # set-up costs are paid when delivery starts; unpaid, the activation is cancelled
        cancelled = False
        for d in range(D):
            if start_at[k, d] != ti:
                continue
            if fixed_cost[k] > 0.0 and not pay(accounts, pool_quota, s, fixed_cost[k], anywhere, earmark, k, cap_left):
                fixed_status[k, d] = 2
                active[k, d] = False
                end_at[k, d] = ti  # idle again: a later signal can re-activate
                cancelled = True
                continue
            fixed_status[k, d] = 1
            real = fixed_cost[k] / scale
            cost_m[k, d] += real
            if activation_id[k, d] >= 0:
                activation_cost[activation_id[k, d]] += real
        if cancelled:  # enrolments end where the programme does not run after all
            ck, _ = keep_enrolled_all(left[k : k + 1], members, location, active[k : k + 1], counts[k : k + 1],
                                      priority[k : k + 1], free[k : k + 1])
        else:
            ck = cont[cont_start[k] : cont_start[k + 1]]
        if ck.size == 0:
            continue
        cost = np.empty(ck.size)
        for j in range(ck.size):
            cost[j] = unit_cost(k, ck[j], left[k, ck[j]], base, per_member, per_tlu, by_district, last_month, members,
                                herd, district)
        if np_sum(cost) > available(accounts, pool_quota, s, anywhere, earmark, k, cap_left):
            # continuing beneficiaries first (commitments), best first while money lasts
            keys = np.empty(ck.size, np.uint64)
            for j in range(ck.size):
                i = ck[j]
                h = np.uint64(uniform(key_selection[k], i, 0) * 536870912.0)
                keys[j] = (np.uint64(255 - priority[k, i]) << np.uint64(55)) | (h << np.uint64(INDEX_BITS)) | np.uint64(i)
            keys = sort_keys(keys)
            ranked = np.empty(ck.size, np.int64)
            for j in range(ck.size):
                ranked[j] = np.int64(keys[j] & _INDEX_MASK)
                cost[j] = unit_cost(k, ranked[j], left[k, ranked[j]], base, per_member, per_tlu, by_district,
                                    last_month, members, herd, district)
            no_cap = np.empty(D, np.int64)
            no_cap[:] = np.iinfo(np.int64).max // 4
            keep, _ = select_in_order(ranked, location, cost, no_cap, np.int64(-1),
                                      available(accounts, pool_quota, s, anywhere, earmark, k, cap_left))
            kept = 0
            for j in range(ranked.size):
                if keep[j]:
                    ranked[kept] = ranked[j]
                    cost[kept] = cost[j]
                    kept += 1
                else:
                    left[k, ranked[j]] = 0
                    counts[k, location[ranked[j]]] -= 1
                    if priority[k, ranked[j]] > 0:
                        mark_free(free, k, ranked[j])
            ck = ranked[:kept]
            cost = cost[:kept]
        if not pay(accounts, pool_quota, s, np_sum(cost), anywhere, earmark, k, cap_left):  # pragma: no cover - kept within the money
            raise RuntimeError("the response tried to spend money it does not have")
        hi[k] = serve(k, ck, cost, location, assisted, served, hi[k], cost_d, served_d)
    # enrolment: a first round on each sector's money (and its quota of the pool), then
    # whatever the pool still holds is open to every programme (the flexibility pooling buys)
    delivering = np.zeros(K, np.bool_)
    for k in range(K):
        for d in range(D):
            delivering[k] |= active[k, d]
    for rnd in range(1, 3):
        open_pool = np.bool_(rnd == 2)
        if open_pool and not accounts[accounts.size - 1] > 0.0:
            break
        for k in range(K):
            if not delivering[k] or not capacity_carry[k] >= 1.0:
                continue
            s = sector[k]
            money = available(accounts, pool_quota, s, open_pool, earmark, k, cap_left)
            if money <= 0.0 or min_cost[k] > money:  # not even the cheapest household
                continue
            capacity = int(np.floor(capacity_carry[k]))
            # the programme shortlists its best 2 x capacity + 64 candidates and enrols from it in order
            new = shortlist(priority[k], left[k], ever[k], once[k], members, location, active[k], left,
                            registry_rows[registry_start[k] : registry_start[k + 1]], key_registry[k], registry_p,
                            key_selection[k], 2 * capacity + 64, free[k])
            if new.size == 0:
                continue
            cost = np.empty(new.size)
            for j in range(new.size):
                cost[j] = unit_cost(k, new[j], first_left[k], base, per_member, per_tlu, by_district, last_month,
                                    members, herd, district)
            new, cost, spent = enrol_in_order(new, cost, location, cap_d[k], counts[k], capacity, money, first_left[k],
                                              left[k], ever[k])
            capacity_carry[k] -= new.size
            if not pay(accounts, pool_quota, s, spent, open_pool, earmark, k, cap_left):  # pragma: no cover - kept within the money
                raise RuntimeError("the response tried to spend money it does not have")
            hi[k] = serve(k, new, cost, location, assisted, served, hi[k], cost_d, served_d)
    # fixed-length enrolments count down after this month's delivery (not before: the
    # registry checks above see this month's enrolments)
    for k in range(K):
        for j in range(lo[k], hi[k]):
            i = served[j]
            if left[k, i] > 0:
                left[k, i] -= 1
                if left[k, i] == 0 and priority[k, i] > 0:
                    mark_free(free, k, i)  # served its time: a candidate again
    return served, lo, hi
