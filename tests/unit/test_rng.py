"""Counter-based streams (hssim.rng) against a pure-Python splitmix64 reference."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from hssim import rng

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB


# ---------------------------------------------------------------- reference


def mix64_ref(z: int) -> int:
    """splitmix64 finaliser on Python ints, masked to 64 bits."""
    z &= MASK
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def counter_ref(key: int, index: int, slot: int) -> int:
    """The hashed counter of one draw: mix64(key + (index * N_SLOTS + slot) * GOLDEN)."""
    return mix64_ref((int(key) + ((index * rng.N_SLOTS + slot) & MASK) * GOLDEN) & MASK)


def uniform_ref(key: int, index: int, slot: int) -> float:
    """The top 52 bits of the hashed counter, plus one half, times 2**-52.

    (x >> 12) + 0.5 < 2**52 needs only 53 significant bits, so it and the scaled
    result are exact in float64, and the value lies strictly inside (0, 1): the
    smallest is 2**-53, the largest 1 - 2**-53.
    """
    x = counter_ref(key, index, slot)
    return ((x >> 12) + 0.5) * 2.0**-52


def normal_ref(key: int, index: int, slot: int) -> float:
    u1 = uniform_ref(key, index, slot)
    u2 = uniform_ref(key, index, slot + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _unxorshift(y: int, s: int) -> int:
    """Inverse of x -> x ^ (x >> s) on 64-bit ints."""
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x & MASK


def unmix64_ref(y: int) -> int:
    """Inverse of the splitmix64 finaliser (it is a bijection of the 64-bit ints)."""
    x = _unxorshift(y, 31)
    x = (x * pow(M2, -1, 1 << 64)) & MASK
    x = _unxorshift(x, 27)
    x = (x * pow(M1, -1, 1 << 64)) & MASK
    return _unxorshift(x, 30)


KEYS = [
    0,
    1,
    MASK,
    0x0123456789ABCDEF,
    int(rng.stream_key(42, "households", 0)),
    int(rng.stream_key(7, "init", -3)),
    int(rng.stream_key(2**40 + 5, "drought.district", 1199)),
]
INDICES = [0, 1, 2, 999, 123_457, 2**31 + 11, 2**40 + 3]
SLOTS = [0, 1, 2, 22, 31, 54, 63]


# ---------------------------------------------------------------- exact agreement


def test_unmix_reference_inverts_mix():
    for y in [0, 1, 12345, MASK, MASK - 1, 0xDEADBEEFCAFEBABE]:
        assert mix64_ref(unmix64_ref(y)) == y
        assert unmix64_ref(mix64_ref(y)) == y


def test_mix64_matches_reference():
    for z in [0, 1, 2, 3, 2**32 - 1, 2**32, 2**63, MASK, MASK - 1, GOLDEN, 0x0123456789ABCDEF]:
        got = rng.mix64(np.uint64(z))
        assert int(got) == mix64_ref(z)
    # known splitmix64 property: 0 is a fixed point of the finaliser, and the
    # finaliser of 1 is not 1
    assert int(rng.mix64(np.uint64(0))) == 0
    assert int(rng.mix64(np.uint64(1))) != 1


def test_python_and_numba_finalisers_agree():
    for z in [0, 5, MASK, 0xFEEDFACE12345678]:
        assert rng._mix64_py(z) == mix64_ref(z)


@pytest.mark.parametrize("key", KEYS)
def test_uniform_matches_reference_bit_for_bit(key):
    for i in INDICES:
        for s in SLOTS:
            assert rng.uniform(np.uint64(key), i, s) == uniform_ref(key, i, s), (key, i, s)


@pytest.mark.parametrize("key", KEYS[:4])
def test_normal_matches_reference(key):
    for i in INDICES:
        for s in [0, 3, 22, 62]:
            got = rng.normal(np.uint64(key), i, s)
            assert got == pytest.approx(normal_ref(key, i, s), rel=1e-12, abs=1e-12), (key, i, s)


def test_vector_helpers_equal_scalar_draws():
    key = rng.stream_key(3, "households", 5)
    n = 257
    u = rng.uniforms(key, n, 7)
    z = rng.normals(key, n, 10)
    assert u.shape == (n,) and u.dtype == np.float64
    for i in range(n):
        assert u[i] == uniform_ref(int(key), i, 7)
        assert u[i] == rng.uniform(key, i, 7)
        assert z[i] == rng.normal(key, i, 10)


def test_counters_within_a_key_do_not_collide():
    """(index, slot) -> counter is injective for 0 <= slot < N_SLOTS, so hashed values differ."""
    key = int(rng.stream_key(11, "households", 2))
    xs = {counter_ref(key, i, s) for i in range(300) for s in range(rng.N_SLOTS)}
    assert len(xs) == 300 * rng.N_SLOTS
    # and the numba draws on that grid are the reference draws
    for i in (0, 150, 299):
        for s in (0, 63):
            assert rng.uniform(np.uint64(key), i, s) == uniform_ref(key, i, s)


# ---------------------------------------------------------------- range


def test_uniforms_lie_in_open_unit_interval_on_many_draws():
    for seed, name, tick in [(0, "a", 0), (1, "households", 17), (99, "init", -1)]:
        u = rng.uniforms(rng.stream_key(seed, name, tick), 200_000, 0)
        assert np.all(u > 0.0)
        assert np.all(u < 1.0)


def test_smallest_hashed_value_gives_positive_uniform():
    # mix64(0) == 0, so key 0, index 0, slot 0 hits the smallest hashed value
    assert counter_ref(0, 0, 0) == 0
    u = rng.uniform(np.uint64(0), 0, 0)
    assert u == 2.0**-53  # (0 + 0.5) * 2**-52
    assert u > 0.0


def test_largest_hashed_value_gives_uniform_below_one():
    """The docstring promises the open interval (0, 1) for every counter.

    Choose the key whose draw (index 0, slot 0) hashes to 2**64 - 1, the largest
    value. Then x >> 12 == 2**52 - 1 and (2**52 - 1) + 0.5 is exactly representable
    in float64 (53 significant bits), so the draw is 1 - 2**-53, just below 1.
    (With the former 53-bit mapping, (2**53 - 1) + 0.5 rounded half to even to
    2**53 and the draw was exactly 1.0.)
    """
    key = unmix64_ref(MASK)
    assert counter_ref(key, 0, 0) == MASK
    u = rng.uniform(np.uint64(key), 0, 0)
    assert u < 1.0, f"uniform returned {u!r} for key {key:#x}, index 0, slot 0"
    assert u == 1.0 - 2.0**-53
    assert u == uniform_ref(key, 0, 0)
    # the same holds for any (index, slot): pick the key that lands on the top value
    i, s = 12, 5
    key2 = (unmix64_ref(MASK) - (i * rng.N_SLOTS + s) * GOLDEN) & MASK
    assert counter_ref(key2, i, s) == MASK
    assert rng.uniform(np.uint64(key2), i, s) < 1.0


# ---------------------------------------------------------------- distribution

N_STAT = 1_000_000
Z = 5.0  # tolerance in standard errors


def test_uniform_mean_variance_and_histogram():
    u = rng.uniforms(rng.stream_key(2024, "test.uniform", 0), N_STAT, 3)
    n = u.size
    # mean: var(U) = 1/12
    assert abs(u.mean() - 0.5) < Z * math.sqrt(1.0 / 12.0 / n)
    # variance: var((U - 1/2)^2) = 1/80 - 1/144 = 1/180
    v = ((u - 0.5) ** 2).mean()
    assert abs(v - 1.0 / 12.0) < Z * math.sqrt(1.0 / 180.0 / n)
    # 20 equal bins, each a binomial share 1/20
    counts = np.histogram(u, bins=20, range=(0.0, 1.0))[0]
    p = 1.0 / 20.0
    se = math.sqrt(n * p * (1.0 - p))
    assert np.all(np.abs(counts - n * p) < Z * se), counts


def test_normal_mean_sd_and_tails():
    z = rng.normals(rng.stream_key(2024, "test.normal", 4), N_STAT, 8)
    n = z.size
    assert abs(z.mean()) < Z / math.sqrt(n)
    # sample variance of N(0,1) has sd sqrt(2 / n)
    assert abs(z.var() - 1.0) < Z * math.sqrt(2.0 / n)
    for frac, p in [
        (np.mean(z > 2.0), 0.5 * math.erfc(2.0 / math.sqrt(2.0))),
        (np.mean(z < -2.0), 0.5 * math.erfc(2.0 / math.sqrt(2.0))),
        (np.mean(np.abs(z) > 3.0), math.erfc(3.0 / math.sqrt(2.0))),
        (np.mean(np.abs(z) < 1.0), 1.0 - math.erfc(1.0 / math.sqrt(2.0))),
    ]:
        assert abs(frac - p) < Z * math.sqrt(p * (1.0 - p) / n), (frac, p)


def test_slots_and_streams_are_uncorrelated():
    n = 500_000
    key = rng.stream_key(5, "households", 3)
    a = rng.uniforms(key, n, 0)
    b = rng.uniforms(key, n, 1)
    c = rng.uniforms(rng.stream_key(5, "households", 4), n, 0)
    d = rng.uniforms(rng.stream_key(5, "init", 3), n, 0)
    tol = Z / math.sqrt(n)
    for x, y in [(a, b), (a, c), (a, d)]:
        assert abs(np.corrcoef(x, y)[0, 1]) < tol
    # neighbouring indices at one slot
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < tol


# ---------------------------------------------------------------- keys and determinism


def test_stream_id_is_crc32_of_name():
    for name in ["households", "init", "drought.regional", "drought.district", "", "é"]:
        assert rng.stream_id(name) == zlib.crc32(name.encode("utf-8"))
    assert rng.stream_id("households") != rng.stream_id("household")


def test_stream_key_is_stable_and_accepts_ids():
    for seed, name, tick in [(0, "households", 0), (42, "init", 0), (2**62, "drought.district", -12)]:
        k1 = rng.stream_key(seed, name, tick)
        k2 = rng.stream_key(seed, name, tick)
        assert isinstance(k1, np.uint64)
        assert k1 == k2
        # a name and its CRC-32 id name the same stream
        assert rng.stream_key(seed, rng.stream_id(name), tick) == k1
        assert rng.stream_key(seed, zlib.crc32(name.encode()), tick) == k1


def test_stream_keys_distinct_across_seeds_names_and_ticks():
    names = ["households", "init", "drought.regional", "drought.district", "drought.init"]
    keys = [int(rng.stream_key(s, n, t)) for s in range(6) for n in names for t in range(-3, 25)]
    assert len(set(keys)) == len(keys)


def test_same_arguments_same_draws_and_different_arguments_different_draws():
    n = 1000
    base = rng.uniforms(rng.stream_key(1, "households", 10), n, 0)
    again = rng.uniforms(rng.stream_key(1, "households", 10), n, 0)
    assert np.array_equal(base, again)
    others = [
        rng.uniforms(rng.stream_key(2, "households", 10), n, 0),  # seed
        rng.uniforms(rng.stream_key(1, "init", 10), n, 0),  # stream
        rng.uniforms(rng.stream_key(1, "households", 11), n, 0),  # tick
        rng.uniforms(rng.stream_key(1, "households", -10), n, 0),  # negative tick
        rng.uniforms(rng.stream_key(1, "households", 10), n, 1),  # slot
    ]
    for o in others:
        # 52-bit draws: a coincidence among 1000 pairs has probability ~2e-13
        assert not np.any(o == base)
    # index: draws of consecutive indices differ
    assert len(np.unique(base)) == n
