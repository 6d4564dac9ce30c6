"""Counter-based random streams.

Every random number in hssim is a pure function of ``(seed, stream, tick, index,
slot)``: a splitmix64 hash of a counter. Nothing is carried from draw to draw, so

* results are bit-identical whatever the number of threads (no per-thread state);
* a module's draws do not depend on which other modules ran or how many draws they
  took (each module owns named streams), which gives common random numbers across
  policy arms for free: hazard streams never see policy.

Layout of one draw. ``key = stream_key(seed, stream, tick)`` is computed once per
module call (in Python); inside a kernel the draw for element ``index`` and slot
``slot`` (``0 <= slot < N_SLOTS``) is ``mix64(key + (index * N_SLOTS + slot) * GOLDEN)``.
For a fixed key that is the splitmix64 sequence at distinct counters, a bijection,
so no two (index, slot) pairs within one key collide.
"""

from __future__ import annotations

import zlib

import numba as nb
import numpy as np

__all__ = [
    "N_SLOTS",
    "stream_id",
    "stream_key",
    "stream_keys",
    "mix64",
    "uniform",
    "normal",
    "uniforms",
    "normals",
    "poisson_inv",
]

#: slots available per (key, index); kernels document which slot they use for what.
N_SLOTS = 64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_NS = np.uint64(N_SLOTS)
_INV52 = 1.0 / 4503599627370496.0  # 2**-52
_TWO_PI = 2.0 * np.pi


def stream_id(name: str) -> int:
    """Stable 32-bit id of a named stream (CRC-32 of its name).

    Streams are named, not numbered, so adding a module never shifts another
    module's draws.
    """
    return zlib.crc32(name.encode("utf-8"))


def _mix64_py(z: int) -> int:
    mask = (1 << 64) - 1
    z &= mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def stream_key(seed: int, stream: str | int, tick: int) -> np.uint64:
    """Key of one stream at one tick, to pass to kernels.

    Parameters
    ----------
    seed : int  the run's seed (any non-negative int)
    stream : str or int  stream name (hashed with :func:`stream_id`) or id
    tick : int  tick index; negative ticks are allowed (spin-up)
    """
    sid = stream_id(stream) if isinstance(stream, str) else int(stream)
    k = _mix64_py(int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019)
    k = _mix64_py(k ^ (sid * 0xD1B54A32D192ED03))
    k = _mix64_py(k ^ ((int(tick) & ((1 << 64) - 1)) * 0x8CB92BA72F3D8DD7))
    return np.uint64(k)


def stream_keys(seed: int, stream: str | int, ticks) -> np.ndarray:
    """``uint64[len(ticks)]``: :func:`stream_key` at every tick of ``ticks``, at once.

    The same values as ``[stream_key(seed, stream, t) for t in ticks]`` (the last
    mixing round, the only one that sees the tick, runs in wrapping uint64 array
    arithmetic). Modules precompute a stream's keys for the whole run with it
    instead of hashing the stream's name every tick.

    Parameters
    ----------
    seed : int  the run's seed
    stream : str or int  stream name or id
    ticks : int[m]  tick indices (negative allowed)
    """
    sid = stream_id(stream) if isinstance(stream, str) else int(stream)
    k = _mix64_py(int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019)
    k = _mix64_py(k ^ (sid * 0xD1B54A32D192ED03))
    # int64 -> uint64 wraps negative ticks to two's complement, as `tick & (2**64 - 1)` does
    t = np.asarray(ticks, dtype=np.int64).astype(np.uint64)
    z = np.uint64(k) ^ (t * np.uint64(0x8CB92BA72F3D8DD7))
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def mix64(z):
    """splitmix64 finaliser of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def uniform(key, index, slot):
    """Uniform draw in the open interval (0, 1).

    Parameters
    ----------
    key : uint64  from :func:`stream_key`
    index : int  element index (household, district, ...)
    slot : int  draw number within the element, ``0 <= slot < N_SLOTS``
    """
    c = np.uint64(index) * _NS + np.uint64(slot)
    x = mix64(key + c * _GOLDEN)
    # 52 bits + 0.5 keeps the result exactly representable and strictly inside (0, 1)
    return (np.float64(x >> _S12) + 0.5) * _INV52


@nb.njit(inline="always", cache=True)
def normal(key, index, slot):
    """Standard normal draw (Box-Muller); uses slots ``slot`` and ``slot + 1``."""
    u1 = uniform(key, index, slot)
    u2 = uniform(key, index, slot + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


@nb.njit(cache=True)
def uniforms(key, n, slot):
    """float64[n] uniform draws for indices ``0..n-1`` at one slot."""
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = uniform(key, i, slot)
    return out


@nb.njit(cache=True)
def normals(key, n, slot):
    """float64[n] standard normal draws for indices ``0..n-1`` (slots ``slot, slot+1``)."""
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = normal(key, i, slot)
    return out


@nb.njit(cache=True, inline="always")
def poisson_inv(u, mean):
    """Poisson(mean) variate by inversion of the CDF at ``u``: the smallest k with
    CDF(k) >= u (``mean`` up to about 700, where ``exp(-mean)`` underflows)."""
    if mean <= 0.0:
        return 0
    k = 0
    pk = np.exp(-mean)
    cdf = pk
    cap = int(mean + 40.0 * np.sqrt(mean) + 40.0)
    while u > cdf and k < cap:
        k += 1
        pk *= mean / k
        cdf += pk
    return k
