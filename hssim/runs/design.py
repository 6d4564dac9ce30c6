"""A design of runs: arms x replicates (x sample points), and the seed of each run.

Seeds (:class:`SeedPolicy`): every arm of a replicate gets the same seed, so paired
differences between arms are on common random numbers (hazard streams never depend on
the arm). Across sample points the policy chooses:

``common``       ``base_seed + r`` at every point: differences between points are caused
                 by the parameters, not by the draws
``independent``  ``base_seed + point * replicates + r``: every point has its own draws

With one point both give ``base_seed + r`` (what a comparison and a poly-risk
decomposition use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from ..errors import ConfigError

__all__ = ["MAX_SEED", "SEED_POLICIES", "Design", "RunKey", "run_seed"]

SEED_POLICIES: tuple[str, ...] = ("common", "independent")
#: largest seed a run accepts (int64)
MAX_SEED = 2**63 - 1


def run_seed(base_seed: int, replicate: int, point: int = 0, replicates: int = 1, policy: str = "common") -> int:
    """Seed of replicate ``replicate`` at sample point ``point`` (any arm); see the module docstring."""
    if policy == "common":
        return base_seed + replicate
    if policy == "independent":
        return base_seed + point * replicates + replicate
    raise ConfigError("seeds", policy, f"one of {', '.join(SEED_POLICIES)}")


@dataclass(frozen=True)
class RunKey:
    """One run of a design: its arm, replicate, sample point and seed."""

    arm: str
    replicate: int
    seed: int
    point: int = 0


@dataclass(frozen=True)
class Design:
    """Arms x replicates x points with one seed policy.

    Parameters
    ----------
    arms : sequence of str  arm names, in order (unique, non-empty)
    replicates : int >= 1
    base_seed : int >= 0
    points : int >= 1  sample points (1 for a comparison)
    seeds : ``"common"`` or ``"independent"`` (across points; arms always share seeds)

    Raises
    ------
    ConfigError  naming the field, for a repeated or empty arm, a count below 1, an
        unknown seed policy or seeds beyond int64.
    """

    arms: tuple[str, ...]
    replicates: int
    base_seed: int
    points: int = 1
    seeds: str = "common"

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        for a in self.arms:
            if not str(a).strip():
                raise ConfigError("arms", a, "a non-empty arm name")
            if self.arms.count(a) > 1:
                raise ConfigError("arms", a, "each arm named once")
        if not self.arms:
            raise ConfigError("arms", "[]", "one or more arms")
        for name in ("replicates", "points"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(name, v, "an integer >= 1")
        if self.seeds not in SEED_POLICIES:
            raise ConfigError("seeds", self.seeds, f"one of {', '.join(SEED_POLICIES)}")
        last = max(self.seed(r, p) for r in (self.replicates - 1,) for p in (0, self.points - 1))
        if isinstance(self.base_seed, bool) or not isinstance(self.base_seed, int) or self.base_seed < 0 or last > MAX_SEED:
            raise ConfigError("base_seed", self.base_seed, "a seed in [0, 2**63 - 1 - runs per arm]")

    def seed(self, replicate: int, point: int = 0) -> int:
        return run_seed(self.base_seed, replicate, point, self.replicates, self.seeds)

    @property
    def n_runs(self) -> int:
        return self.points * self.replicates * len(self.arms)

    def runs(self, points: Sequence[int] | None = None) -> Iterator[RunKey]:
        """Every run, point by point, replicate by replicate, arm by arm (so the arms of
        a replicate run next to each other)."""
        for p in range(self.points) if points is None else points:
            for r in range(self.replicates):
                seed = self.seed(r, p)
                for arm in self.arms:
                    yield RunKey(arm, r, seed, p)
