"""The ``hssim`` command: Hydra composition, a run directory, a short summary.

``hssim [--debug] [OVERRIDES...]`` runs one simulation; ``hssim -m a=1,2`` a
multirun. User errors (an unknown key, a value out of range, a malformed scenario
file, a bad override) print one line and exit with status 2, before any output
folder is made; ``--debug`` or ``HSSIM_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from ..cliutil import RunFolder, check_memory, handle_signals, interrupted, os_error_message, take_debug
from ..cliutil import fail as _fail
from ..errors import ConfigError, UserError

__all__ = ["main", "precheck", "RunFolderCallback"]

_HYDRA_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--info", "-i",
                           "--experimental-rerun", "--package", "-p", "--cfg", "-c"}
#: what Hydra writes into a job's folder before the job runs (removed with a failed run)
_HYDRA_FILES = (".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml", ".hydra")
#: folders claimed in this process by :class:`RunFolderCallback`, by absolute path
_CLAIMED: dict[str, RunFolder] = {}


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


def config_dirs(argv: list[str]) -> list[str]:
    """The folders given with ``--config-dir``/``-cd``, each checked to exist."""
    dirs = []
    for i, a in enumerate(argv):
        if a in ("--config-dir", "-cd"):
            if i + 1 >= len(argv):
                raise ConfigError("--config-dir", None, "a folder after --config-dir")
            dirs.append(argv[i + 1])
        elif a.startswith("--config-dir="):
            dirs.append(a.split("=", 1)[1])
    for d in dirs:
        if not Path(d).is_dir():
            raise ConfigError("--config-dir", d, "an existing folder of config groups (e.g. scenario/<name>.yaml)")
    return dirs


def refuse_code_overrides(overrides: list[str]) -> None:
    """No override may install Hydra callbacks or name a ``_target_`` to instantiate:
    both would run arbitrary code."""
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra.callbacks") or "_target_" in key:
            raise ConfigError(key, o, "a model setting (hssim runs no code named in a config: "
                                      "hydra.callbacks and _target_ are refused)")


def precheck(argv: list[str]) -> None:
    """Compose and validate every configuration a command line will run.

    Also refuses overrides that would run code, a missing ``--config-dir`` and runs
    whose memory estimate exceeds the machine's. Raises :class:`UserError` (exit 2)
    before Hydra makes any output folder.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from ..api import compose
    from ..config.build import estimate_memory_bytes, prepare

    overrides, multirun, passthrough = _user_overrides(argv)
    dirs = config_dirs(argv)
    refuse_code_overrides(overrides)
    if passthrough:
        return
    try:
        combos = _expand(overrides, multirun)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError("<overrides>", " ".join(overrides), f"valid override syntax ({' '.join(str(exc).split())})") from exc
    for ov in itertools.islice(combos, 1000):
        cfg, scenario = prepare(compose(ov, config_dirs=dirs))
        check_memory(estimate_memory_bytes(cfg, scenario.n_districts), "this run",
                     "population.households, months + spinup_months or the scenario's districts")


def _env_values(cfg) -> dict[str, str]:
    """Dotted paths of string values that come from ``${oc.env:...}``, with the
    interpolation as written: the saved config records these, never the secret."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(cfg, resolve=False)
    found: dict[str, str] = {}

    def walk(x, path):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")
        elif isinstance(x, str) and "oc.env" in x:
            found[path] = x

    walk(raw, "")
    return found


class _Callback:
    """Base of :class:`RunFolderCallback` (Hydra's, when Hydra is importable)."""


try:  # Hydra is a dependency; the guard keeps `import hssim.cli` light when it is not needed
    from hydra.experimental.callback import Callback as _Callback  # noqa: F811
except ImportError:  # pragma: no cover
    pass


class RunFolderCallback(_Callback):
    """Claims the run (or multirun) folder before Hydra makes it.

    Hydra creates ``hydra.run.dir`` with ``exist_ok`` and writes ``.hydra/`` into it
    before the job starts, so a folder must be claimed earlier, here. A folder named
    after the clock (the default ``outputs/<date>/<time>``) gets a ``-1``, ``-2``, ...
    suffix when another run took it in the same second; a folder the user named is
    refused when it exists and is not empty.
    """

    def on_run_start(self, config, **kwargs) -> None:
        _claim_hydra_dir(config, "run")

    def on_multirun_start(self, config, **kwargs) -> None:
        _claim_hydra_dir(config, "sweep")


def _claim_hydra_dir(config, node: str) -> None:
    from omegaconf import OmegaConf, open_dict, read_write

    raw = str(OmegaConf.to_container(config.hydra[node], resolve=False)["dir"])
    try:
        folder = RunFolder.claim(str(config.hydra[node].dir), tool="hssim", unique="${now:" in raw,
                                 field=f"hydra.{node}.dir")
    except UserError as exc:
        _fail(exc)
    path = str(folder.path.resolve())
    _CLAIMED[path] = folder
    with read_write(config.hydra[node]), open_dict(config.hydra[node]):
        config.hydra[node].dir = path.replace("${", "\\${")  # a literal path, never an interpolation


def _task(cfg) -> None:
    """One Hydra job: run, save into the job's claimed folder, print a summary.

    A failure or an interruption removes what this run wrote (and the folders it
    made, when empty); nothing else is touched.
    """
    from hydra.core.hydra_config import HydraConfig

    from ..api import run
    from ..report.run_report import save_run

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    folder = _CLAIMED.pop(str(out.resolve()), None)
    if folder is None:  # a multirun job: Hydra made its folder and wrote .hydra/ there just now
        try:
            folder = RunFolder.claim(out, tool="hssim", field="the job's folder (hydra.sweep.subdir)",
                                     allowed={".hydra", f"{hc.job.name}.log"})
        except UserError as exc:
            _fail(exc)
    written: list[str] = []
    try:
        t0 = time.perf_counter()
        res = run(cfg)
        wall = time.perf_counter() - t0
        save_run(res, out, figure=res.config["output"]["figure"], dpi=res.config["output"]["figure_dpi"],
                 written=written, redact=_env_values(cfg))
    except BaseException as exc:
        gone = folder.discard([*written, f"{hc.job.name}.log", *_HYDRA_FILES])
        if not gone:
            folder.mark("incomplete", "the run failed or was stopped; its results are not complete")
        if gone and folder.created:
            left = f"removed the unfinished run folder {out}"
        elif gone:
            left = f"removed the run's files from {out} (the folder is yours: kept)"
        else:
            left = f"removed the run's files; {out} holds other files, kept and marked incomplete"
        if isinstance(exc, KeyboardInterrupt):
            interrupted(exc, "hssim", f"{left}; run the same command again to redo it")
        if isinstance(exc, UserError):
            _fail(exc)
        if isinstance(exc, OSError) and (err := os_error_message(exc, "could not write the run folder")):
            _fail(UserError(f"{err}; {left}"))
        if isinstance(exc, MemoryError):
            _fail(UserError(f"ran out of memory; {left}; reduce population.households or months"))
        raise
    folder.mark("complete")
    _print_summary(res, out, wall)


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
    argv = take_debug(argv)
    handle_signals()
    try:
        precheck(argv)
    except UserError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        interrupted(exc, "hssim", "nothing was written")

    import hydra

    from ..config.store import register_defaults
    from ..paths import configs_dir

    register_defaults()
    logging_off = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
    sys.argv = [sys.argv[0], *argv, *[a for a in logging_off if not any(x.startswith(a.split("=")[0]) for x in argv)]]
    try:
        hydra.main(config_path=str(configs_dir()), config_name="config", version_base=None)(_task)()
    except KeyboardInterrupt as exc:  # between jobs of a multirun, or while Hydra composes
        for folder in _CLAIMED.values():  # claimed, but no job started in it
            folder.discard(_HYDRA_FILES)
        interrupted(exc, "hssim", "finished jobs are kept in their folders")


if __name__ == "__main__":  # pragma: no cover
    main()
