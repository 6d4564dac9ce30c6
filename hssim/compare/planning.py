"""Planning a policy comparison: the policy presets, the arms (preset names or lists of
overrides), the fingerprint of a run's config, and :func:`plan`, which validates every
arm before anything runs (:class:`ComparisonPlan`)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import ConfigError, UserError
from ..runs import Design, check_comparable, compose_arm, fingerprint
from ..runs.parameter_sets import ParameterSets, load_parameter_sets

#: the five response policies, in the order a planner reads them
DEFAULT_ARMS: tuple[str, ...] = (
    "none",
    "reactive_siloed",
    "reactive_integrated",
    "anticipatory_siloed",
    "anticipatory_integrated",
)
#: most replicates of one comparison (paired intervals settle long before this)
MAX_REPLICATES = 10_000


# -- planning -------------------------------------------------------------------------------


def available_presets() -> list[str]:
    """Names of the policy presets, ``configs/policy/<name>.yaml``."""
    from ..paths import configs_dir

    folder = configs_dir() / "policy"
    if not folder.is_dir():
        return []
    # a preset names its policy; shared partials (base.yaml, extended by the presets) do not
    named = re.compile(r"^name\s*:", re.MULTILINE)
    return sorted(p.stem for p in folder.glob("*.yaml") if named.search(p.read_text(errors="replace")))


def check_presets(names: Sequence[str]) -> None:
    """Raise :class:`UserError` naming every arm without a ``configs/policy/<name>.yaml``."""
    presets = available_presets()
    missing = [n for n in names if n not in presets]
    if missing:
        avail = ", ".join(presets) if presets else "none yet (configs/policy/ holds no presets)"
        which = ", ".join(repr(m) for m in missing)
        raise UserError(
            f"arm{'s' if len(missing) > 1 else ''} {which}: no policy preset of that name "
            f"(configs/policy/<name>.yaml); available presets: {avail}"
        )


def _normalise_arms(arms) -> dict[str, list[str]]:
    if isinstance(arms, Mapping):
        out = {}
        for k, v in arms.items():
            if isinstance(v, str):
                raise ConfigError(f"arms[{k!r}]", v, "a list of overrides, e.g. ['policy=none']")
            out[str(k)] = [str(o) for o in v]
    else:
        if isinstance(arms, str):
            arms = [a for a in arms.split(",")]
        names = [str(a).strip() for a in arms]
        check_presets([n for n in names if n])
        out = {}
        for n in names:
            if n in out:
                raise ConfigError("arms", n, "each arm named once")
            out[n] = [f"policy={n}"]
    for k in out:
        if not k.strip():
            raise ConfigError("arms", k, "a non-empty arm name")
    return out


def _fingerprint(config_dict: Mapping[str, Any]) -> str:
    """The fingerprint of one run's validated config (:func:`hssim.runs.fingerprint`)."""
    return fingerprint({"config": config_dict})


@dataclass
class ComparisonPlan:
    """Validated arms, ready to run: ``configs`` arm -> validated Config (base seed);
    ``parameter_sets``: the calibration's plausible sets replicate ``r`` runs at (set
    ``r mod K`` in every arm; :mod:`hssim.runs.parameter_sets`), or None."""

    arms: dict[str, list[str]]
    overrides: list[str]
    replicates: int
    base_seed: int
    reference: str
    pairs: list[tuple[str, str]]
    configs: dict[str, Any] = field(repr=False)
    scenario: Any = field(repr=False, default=None)
    parameter_sets: ParameterSets | None = field(repr=False, default=None)
    #: equal spend: every responding arm of replicate r is capped at ``spend_caps[r]``, the
    #: least any responding arm spent on that replicate in a first, uncapped pass
    equal_spend: bool = False
    spend_caps: tuple[float, ...] | None = None

    @property
    def design(self) -> Design:
        """Arms x replicates on common random numbers: replicate r of every arm has seed
        ``base_seed + r``."""
        return Design(tuple(self.arms), self.replicates, self.base_seed)

    @property
    def seeds(self) -> list[int]:
        return [self.design.seed(r) for r in range(self.replicates)]

    def config(self, arm: str, replicate: int):
        """The validated Config of run ``replicate`` of ``arm``: its seed, and its
        parameter set when the comparison draws from a calibration."""
        cfg = dataclasses.replace(self.configs[arm], seed=self.design.seed(replicate))
        if self.spend_caps is not None and cfg.policy.enabled:
            cfg = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy,
                                                                      spend_cap_usd=float(self.spend_caps[replicate])))
        if self.parameter_sets is None:
            return cfg
        return _with_set(cfg, self.parameter_sets, replicate)

    def fingerprint(self, arm: str, replicate: int) -> str:
        from ..validate import to_dict

        return _fingerprint(to_dict(self.config(arm, replicate)))

    def spec(self) -> dict[str, Any]:
        """What :func:`resume` needs to rebuild the plan."""
        return {
            "arms": self.arms,
            "overrides": self.overrides,
            "replicates": self.replicates,
            "base_seed": self.base_seed,
            "reference": self.reference,
            "early_vs_late": [list(p) for p in self.pairs],
            "parameter_sets": None if self.parameter_sets is None else self.parameter_sets.to_json(),
            "equal_spend": self.equal_spend,
        }


def _with_set(cfg, sets: ParameterSets, replicate: int):
    """``cfg`` (a Config) with the values of the parameter set replicate ``replicate`` runs at."""
    from ..config.build import load_config
    from ..validate import to_dict

    plain = to_dict(cfg)
    sets.apply(plain, replicate)
    return load_config(plain)


def plan(
    arms,
    replicates: int = 20,
    base_seed: int | None = None,
    reference: str | None = None,
    overrides: Sequence[str] = (),
    early_vs_late: Sequence[tuple[str, str]] | None = None,
    parameters: str | ParameterSets | None = None,
    equal_spend: bool = False,
) -> ComparisonPlan:
    """Validate a comparison before anything runs: every arm's config
    (``prepare(compose(overrides + arm overrides))``), the replicates, the reference,
    the early/late pairs, and, with ``parameters`` (``"calibrated"``, a calibration
    folder, or :class:`ParameterSets` read back from a spec), every arm at every
    parameter set. ``equal_spend``: run every responding arm capped at the same spend
    (see :func:`hssim.compare.running.execute`). Raises :class:`UserError`
    (``ConfigError``) on a problem."""
    try:
        replicates = int(replicates)
    except (TypeError, ValueError):
        raise ConfigError("replicates", replicates, "an integer >= 2") from None
    if replicates < 2:
        raise ConfigError("replicates", replicates, "an integer >= 2 (paired intervals need two replicates)")
    if replicates > MAX_REPLICATES:
        raise ConfigError("replicates", replicates, f"at most {MAX_REPLICATES:,} replicates")
    overrides = [str(o) for o in overrides]
    base_cfg, _ = compose_arm(overrides)
    arm_map = _normalise_arms(arms)
    if len(arm_map) < 2:
        raise ConfigError("arms", ", ".join(arm_map) or "[]", "two or more arms to compare")
    ref = next(iter(arm_map)) if reference is None else str(reference)
    if ref not in arm_map:
        raise ConfigError("reference", ref, f"one of the arms ({', '.join(arm_map)})")
    seed = int(base_cfg.seed) if base_seed is None else int(base_seed)
    if seed < 0 or seed + replicates - 1 > 2**63 - 1:
        raise ConfigError("base_seed", seed, "a seed in [0, 2**63 - 1 - replicates]")
    configs, scenario = {}, None
    for name, arm_ov in arm_map.items():
        cfg, scen = compose_arm(overrides, arm_ov, name)
        check_comparable({name: cfg}, seed=base_cfg.seed)  # an arm's own seed: named before the next arm composes
        configs[name] = cfg
        scenario = scenario or scen
    check_comparable(configs)
    pairs = []
    for p in early_vs_late or []:
        if len(p) != 2:
            raise ConfigError("early_vs_late", p, "(early, late) pairs of arm names")
        e, lt = str(p[0]), str(p[1])
        for a in (e, lt):
            if a not in arm_map:
                raise ConfigError("early_vs_late", a, f"an arm ({', '.join(arm_map)})")
        if e == lt:
            raise ConfigError("early_vs_late", e, "two different arms")
        pairs.append((e, lt))
    sets = parameters if isinstance(parameters, ParameterSets) else load_parameter_sets(
        parameters, {"name": base_cfg.scenario.name, "path": base_cfg.scenario.path})
    if sets is not None:
        for name, cfg in configs.items():
            for k in range(len(sets)):  # every set valid in every arm, before any run
                try:
                    _with_set(cfg, sets, k)
                except UserError as exc:
                    raise ConfigError("parameters", f"set {k} of {sets.source}",
                                      f"values arm {name!r} accepts ({exc})") from exc
    if equal_spend and not any(c.policy.enabled for c in configs.values()):
        raise ConfigError("equal_spend", True, "at least one arm with a response (policy enabled) to cap")
    return ComparisonPlan(arm_map, overrides, replicates, seed, ref, pairs, configs, scenario, sets,
                          bool(equal_spend))
