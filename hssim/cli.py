"""The ``hssim`` command: Hydra composition, a run directory, a short summary.

``hssim [--debug] [OVERRIDES...]`` runs one simulation; ``hssim -m a=1,2`` a
multirun. User errors (an unknown key, a value out of range, a malformed scenario
file, a bad override) print one line and exit with status 2, before any output
folder is made; ``--debug`` or ``HSSIM_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import time
from pathlib import Path
from typing import NoReturn

from .errors import UserError

__all__ = ["main"]

EXIT_USER_ERROR = 2
_HYDRA_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--info", "-i",
                           "--experimental-rerun", "--package", "-p", "--cfg", "-c"}


def _debug() -> bool:
    return os.environ.get("HSSIM_DEBUG", "") not in ("", "0")


def _fail(exc: BaseException, prog: str = "hssim") -> NoReturn:
    if _debug():
        raise exc
    print(f"{prog}: error: {exc}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def _user_overrides(argv: list[str]) -> tuple[list[str], bool, bool]:
    """(overrides, multirun, passthrough): the key=value arguments of a command line."""
    overrides, multirun, passthrough = [], False, False
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-m", "--multirun"):
            multirun = True
        elif a in ("-h", "--help", "--hydra-help", "--version", "--shell-completion", "-sc", "--run", "-r") or a.startswith("--cfg") or a.startswith("-c"):
            passthrough = True
            if a in _HYDRA_FLAGS_WITH_VALUE:
                skip = True
        elif a in _HYDRA_FLAGS_WITH_VALUE:
            skip = True
        elif not a.startswith("-"):
            overrides.append(a)
    return overrides, multirun, passthrough


def _expand(overrides: list[str], multirun: bool) -> list[list[str]]:
    """Override lists to check before launching: each sweep value at least once.

    A full cartesian product of a large sweep is not needed to catch a bad value:
    every value of every swept key is tried once, with the other keys at their
    first value.
    """
    if not multirun:
        return [overrides]
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = parser.parse_overrides(overrides)
    choices = []
    for o in parsed:
        if o.is_sweep_override():
            vals = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
        else:
            vals = [o.input_line]
        choices.append(vals)
    if not choices:
        return [[]]
    combos = [[c[0] for c in choices]]
    for i, vals in enumerate(choices):
        for v in vals[1:]:
            row = [c[0] for c in choices]
            row[i] = v
            combos.append(row)
    return combos


def precheck(argv: list[str]) -> None:
    """Compose and validate every configuration a command line will run.

    Raises :class:`UserError` (exit 2) before Hydra makes any output folder.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from .api import compose
    from .config.build import prepare
    from .errors import ConfigError

    overrides, multirun, passthrough = _user_overrides(argv)
    if passthrough:
        return
    try:
        combos = _expand(overrides, multirun)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError("<overrides>", " ".join(overrides), f"valid override syntax ({' '.join(str(exc).split())})") from exc
    for ov in itertools.islice(combos, 1000):
        prepare(compose(ov))


def _task(cfg) -> None:
    """One Hydra job: validate, run, save into the job's output folder, print a summary."""
    from hydra.core.hydra_config import HydraConfig

    from .api import run

    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        t0 = time.perf_counter()
        res = run(cfg)
        wall = time.perf_counter() - t0
        res.save(out, figure=res.config["output"]["figure"], dpi=res.config["output"]["figure_dpi"])
    except BaseException as exc:
        _remove_run_dir(out)  # a failed job leaves no half-written folder
        if isinstance(exc, UserError):
            _fail(exc)
        raise
    _print_summary(res, out, wall)


def _remove_run_dir(out: Path) -> None:
    """Remove a job's folder that holds no complete result (Hydra made it for this job)."""
    if out.is_dir() and not (out / "summary.json").exists():
        shutil.rmtree(out, ignore_errors=True)


def _print_summary(res, out: Path, wall_s: float) -> None:
    s = res.summary
    hh_months = s["households"] * (s["months"] + res.config["spinup_months"])
    rows = [
        ("households x months", f"{s['households']:,} x {s['months']}"),
        ("people (start -> end)", f"{s['people_start']:,} -> {s['people_end']:,}"),
        ("IPC3+ share (mean / peak)", f"{s['ipc3plus_frac_mean']:.1%} / {s['ipc3plus_frac_peak']:.1%}"),
        ("IPC3+ person-months", f"{s['ipc3plus_person_months']:,}"),
        ("acute malnutrition u5 (mean / peak)", f"{s['acute_malnutrition_frac_mean']:.1%} / {s['acute_malnutrition_frac_peak']:.1%}"),
        ("deaths", f"{s['deaths_total']:,} (starvation {s['deaths_starvation']:,}, disease {s['deaths_disease']:,}, "
                   f"violence {s['deaths_violence']:,})"),
        ("infections (per person)", f"{s['new_infections_total']:,} ({s['attack_rate']:.2f}; immunity wanes)"),
        ("conflict events", f"{s['conflict_events_total']:,}"),
        ("displaced (peak share)", f"{s['displaced_frac_peak']:.1%}"),
        ("human-security index (mean)", f"{s['hs_index_mean']:.3f}"),
        ("CDR /10k/day (mean / peak)", f"{s['cdr_per_10k_day_mean']:.2f} / {s['cdr_per_10k_day_peak']:.2f}"),
        ("poverty (first / last year)", f"{s['poverty_frac_first_year']:.1%} / {s['poverty_frac_last_year']:.1%}"),
        ("below poverty trap (start -> end)", f"{s['below_trap_frac_start']:.1%} -> {s['below_trap_frac_end']:.1%}"),
        ("drought district-months", f"{s['drought_district_month_frac']:.1%}"),
    ]
    if "budget_disbursed_usd" in s:  # a run with a response
        policy = res.config["policy"]
        rows += [
            ("policy", f"{policy['name']} (coordination {policy['coordination'] if policy['coordination'] is not None else ('1' if policy['mode'] == 'integrated' else '0')})"),
            ("spent / budget (USD, real)", f"{s['cost_usd_total']:,.0f} / {s['budget_disbursed_usd']:,.0f} "
                                           f"(coordination {s['coordination_cost_usd']:,.0f}, in vain {s['cost_in_vain_usd']:,.0f})"),
            ("drought trigger", f"{s['trigger_activations']} activations: {s['trigger_hits']} hits, "
                                f"{s['trigger_false_alarms']} false alarms; {s['trigger_misses']} of "
                                f"{s['drought_episodes']} drought episodes missed"),
        ]
    rows += [
        ("run time", f"{wall_s:.1f} s ({hh_months / wall_s / 1e6:.3g} M household-months/s, compile or cache load included)"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"hssim: {res.config['scenario']['name']}, storyline {res.config['storyline']['name']}, seed {res.config['seed']}")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(f"  {'output':<{width}}  {out}")
    if (out / "report.html").exists():
        print(f"  {'report':<{width}}  {out / 'report.html'}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in argv:
        argv.remove("--debug")
        os.environ["HSSIM_DEBUG"] = "1"
    try:
        precheck(argv)
    except UserError as exc:
        _fail(exc)

    import hydra

    from .config.store import register_defaults
    from .paths import configs_dir

    register_defaults()
    logging_off = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
    sys.argv = [sys.argv[0], *argv, *[a for a in logging_off if not any(x.startswith(a.split("=")[0]) for x in argv)]]
    hydra.main(config_path=str(configs_dir()), config_name="config", version_base=None)(_task)()


if __name__ == "__main__":  # pragma: no cover
    main()
