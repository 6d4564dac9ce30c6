"""Statistics of a policy comparison: the paired t interval, the ratio of two means
with a percentile paired bootstrap, and the bootstrap of a ratio of benefit-cost ratios.

Arrays in, numbers out (NumPy, and SciPy for the t quantile): nothing here knows the
runs table.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

BOOTSTRAP_SEED = 20240601
N_BOOT = 2000
LEVEL = 0.95


# -- statistics --------------------------------------------------------------------------


def t_interval(x: Sequence[float], level: float = LEVEL) -> tuple[float, float, float, float, int]:
    """(mean, sd, se, half_width, n) of the finite values of ``x``; the interval is
    ``mean -/+ half_width`` with ``half_width = t((1 + level) / 2, n - 1) * sd / sqrt(n)``.
    NaN spreads for n < 2; exactly 0 when every value is equal."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    n = int(a.size)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean = float(a.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan, 1
    if np.all(a == a[0]):
        return float(a[0]), 0.0, 0.0, 0.0, n
    sd = float(a.std(ddof=1))
    se = sd / math.sqrt(n)
    return mean, sd, se, float(stats.t.ppf((1 + level) / 2, n - 1)) * se, n


def paired_stats(diff: Sequence[float], higher_better: bool = False, level: float = LEVEL) -> dict[str, float]:
    """Summary of paired differences ``arm - reference``: ``mean_diff, sd, se,
    ci_low, ci_high, share_better, n`` (``share_better``: share of pairs where the arm
    is strictly better; lower is better unless ``higher_better``)."""
    d = np.asarray(diff, dtype=np.float64)
    d = d[np.isfinite(d)]
    mean, sd, se, half, n = t_interval(d, level)
    better = (d > 0) if higher_better else (d < 0)
    return {
        "mean_diff": mean,
        "sd": sd,
        "se": se,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "share_better": float(better.mean()) if n else math.nan,
        "n": n,
    }


def _quantiles(values: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Linear-interpolation quantiles (numpy's default) that allow +inf values;
    NaN values are dropped."""
    v = np.sort(values[~np.isnan(values)])
    if v.size == 0:
        return [math.nan for _ in qs]
    if np.all(np.isfinite(v)):
        return [float(q) for q in np.quantile(v, qs)]
    out = []
    for q in qs:
        pos = q * (v.size - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, v.size - 1)
        frac = pos - lo
        if frac == 0 or v[lo] == v[hi]:
            out.append(float(v[lo]))
        else:
            out.append(float(v[lo] + (v[hi] - v[lo]) * frac))
    return out


def ratio_of_means(
    num: Sequence[float],
    den: Sequence[float],
    n_boot: int = N_BOOT,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
    invalid: float = math.inf,
) -> dict[str, float]:
    """``mean(num) / mean(den)`` with a percentile paired-bootstrap interval.

    Pairs ``(num_r, den_r)`` with a non-finite member are dropped. The bootstrap
    draws ``idx = default_rng(seed).integers(0, n, size=(n_boot, n))`` and takes
    the quantiles ``(1 -/+ level) / 2`` of ``num[idx].mean(1) / den[idx].mean(1)``.
    Where a mean denominator is <= 0 the ratio is ``invalid`` (``inf``: nothing
    averted; ``nan``: left out of the interval), for the estimate and every resample.
    With ``invalid = nan``, when more than ``(1 - level) / 2`` of the resamples have a
    denominator <= 0 the interval is unbounded: ``(-inf, inf)``.

    Returns
    -------
    dict  ``value, ci_low, ci_high, mean_num, mean_den, n, n_boot, n_invalid``
        (``n_invalid``: resamples with a denominator <= 0)
    """
    a = np.asarray(num, dtype=np.float64)
    b = np.asarray(den, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(a.size)
    out = {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "mean_num": math.nan,
           "mean_den": math.nan, "n": n, "n_boot": int(n_boot), "n_invalid": 0}
    if n == 0:
        return out
    mn, md = float(a.mean()), float(b.mean())
    out["mean_num"], out["mean_den"] = mn, md
    out["value"] = mn / md if md > 0 else float(invalid)
    if n_boot <= 0:
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    bn, bd = a[idx].mean(axis=1), b[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(bd > 0, bn / np.where(bd > 0, bd, 1.0), invalid)
    out["n_invalid"] = int((bd <= 0).sum())
    lo, hi = _quantiles(r, [(1 - level) / 2, (1 + level) / 2])
    if math.isnan(invalid) and out["n_invalid"] > (1 - level) / 2 * n_boot:
        # the denominator is not clearly positive: the ratio's interval has no finite ends
        lo, hi = -math.inf, math.inf
    out["ci_low"], out["ci_high"] = lo, hi
    return out



def _safe_ratio(num: np.ndarray, den: np.ndarray) -> float:
    if num.size == 0 or den.mean() <= 0:
        return math.nan
    return float(num.mean() / den.mean())


def _bcr_ratio(be, ce, bl, cl, n_boot, seed, level) -> tuple[float, float, float, str]:
    n = be.size
    if n == 0:
        return math.nan, math.nan, math.nan, "no paired replicates"
    if ce.mean() <= 0 or cl.mean() <= 0:
        return math.nan, math.nan, math.nan, "an arm costs no more than the reference: BCR undefined"
    for x, who in ((ce, "early"), (cl, "late")):
        st = paired_stats(x, False, level)
        if not ((x > 0).all() or st["ci_low"] > 0):  # positive in every replicate, or clearly on average
            return (math.nan, math.nan, math.nan, f"undefined: the {who} arm's extra cost over the reference is not "
                    f"distinguishable from zero (95% CI USD {st['ci_low']:,.0f} to {st['ci_high']:,.0f})")
    bcr_l = bl.mean() / cl.mean()
    if bcr_l <= 0:
        return math.nan, math.nan, math.nan, "late action has no positive benefit-cost ratio: ratio of BCRs undefined"
    est = float((be.mean() / ce.mean()) / bcr_l)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    mce, mcl, mbl = ce[idx].mean(1), cl[idx].mean(1), bl[idx].mean(1)
    ok = (mce > 0) & (mcl > 0) & (mbl > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ok, (be[idx].mean(1) / mce) / (mbl / mcl), np.nan)
    lo, hi = _quantiles(r, [(1 - level) / 2, (1 + level) / 2])
    note = f"{int((~ok).sum())} resamples with an undefined ratio left out" if (~ok).any() else ""
    return est, lo, hi, note

