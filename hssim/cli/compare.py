"""The command line, ``hssim-compare`` (see :data:`HELP`)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..cliutil import RunFolder, check_memory, handle_signals, interrupted, os_error_message, take_debug
from ..cliutil import fail as _fail
from ..compare.planning import DEFAULT_ARMS, check_presets, plan
from ..compare.running import stored_sets, default_workers, execute, read_spec
from ..errors import ConfigError, UserError

#: memory a finished run's outcomes and cost rows hold in the parent, bytes (generous)
_BYTES_PER_RUN = 200e3


# -- command line ------------------------------------------------------------------------

PROG = "hssim-compare"
USAGE = (f"usage: {PROG} [--arms a,b,c] [--arm LABEL:OVERRIDES] [--replicates R] [--reference NAME] "
         "[--early-vs-late EARLY:LATE] [--parameters calibrated|DIR] [--equal-spend] [--workers N] "
         "[--out DIR | --resume DIR] "
         "[--debug] [OVERRIDES...]")
HELP = f"""{USAGE}

Run policy arms on the same seeds (common random numbers) and report, against the
reference arm, paired differences of the outcomes with 95% intervals, costs, cost per
death and per IPC3+ person-month averted, benefit-cost ratios and early versus late
action. Writes runs.csv, differences.csv, costs.csv, cost_effectiveness.csv,
early_vs_late.csv, figures, report.html (one self-contained file to share) and
comparison.json (written last: its presence marks a complete folder).

  --arms a,b,c          policy presets (configs/policy/<name>.yaml) to compare, in order
                        (default: {",".join(DEFAULT_ARMS)})
  --arm LABEL:OVERRIDES an arm defined by overrides separated by spaces, e.g.
                        --arm "cash:households.wage_usd_per_day=3" (repeatable; with
                        --arm alone the default presets are not used)
  --replicates R        seeds per arm (>= 2; default 20): seed, seed+1, ...
  --reference NAME      the arm the others are compared with (default: the first)
  --early-vs-late E:L   an extra (early, late) pair; anticipatory_<x> / reactive_<x>
                        pairs are found by name
  --parameters P        draw parameter uncertainty as well as seeds: 'calibrated' (the
                        scenario's shipped calibration, scenarios/<folder>/calibration/)
                        or a folder written by hssim-calibrate; replicate r of every arm
                        runs at plausible set r mod K (take R a multiple of K)
  --equal-spend         compare at equal money: a first, uncapped pass finds, per
                        replicate, the least any responding arm spends; every responding
                        arm then runs capped at it (policy.spend_cap_usd)
  --workers N           worker processes (default: the cores available); the results
                        do not depend on it
  --out DIR             output folder (default: outputs/compare/<date>/<time>/)
  --resume DIR          continue an interrupted comparison in DIR (its spec.json);
                        --replicates may raise the number of replicates
  --debug               show tracebacks (also HSSIM_DEBUG=1)
  OVERRIDES             key=value overrides common to every arm, e.g. months=60 seed=7

A mistake prints one line and exits with status 2 before anything runs or is written."""


@dataclass
class _Args:
    presets: list[str] | None = None
    custom: list[tuple[str, list[str]]] = field(default_factory=list)
    replicates: int | None = None
    reference: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    out: str | None = None
    resume: str | None = None
    overrides: list[str] = field(default_factory=list)
    help: bool = False
    workers: int | None = None
    parameters: str | None = None
    equal_spend: bool = False


_VALUED = ("--arms", "--arm", "--replicates", "--reference", "--early-vs-late", "--out", "--resume", "--workers",
           "--parameters")


def _parse_argv(argv: list[str]) -> _Args:
    a = _Args()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            a.help = True
            return a
        if arg == "--equal-spend":
            a.equal_spend = True
            i += 1
            continue
        opt = next((o for o in _VALUED if arg == o or arg.startswith(o + "=")), None)
        if opt is not None:
            if arg == opt:
                if i + 1 >= len(argv):
                    raise UserError(f"option {opt} needs a value; {USAGE}")
                value = argv[i + 1]
                i += 1
            else:
                value = arg.split("=", 1)[1]
            if opt == "--arms":
                names = [v.strip() for v in value.split(",")]
                if not all(names):
                    raise ConfigError("--arms", value, "comma-separated policy preset names")
                a.presets = [*(a.presets or []), *names]
            elif opt == "--arm":
                label, sep, ov = value.partition(":")
                if not sep or not label.strip():
                    raise ConfigError("--arm", value, "LABEL:OVERRIDES, e.g. cash:households.wage_usd_per_day=3")
                a.custom.append((label.strip(), ov.split()))
            elif opt == "--replicates":
                a.replicates = _int_option(opt, value, 2, "an integer >= 2 (paired intervals need two)")
            elif opt == "--workers":
                a.workers = _int_option(opt, value, 1, "an integer >= 1")
            elif opt == "--reference":
                a.reference = value
            elif opt == "--early-vs-late":
                e, sep, lt = value.partition(":")
                if not sep or not e or not lt:
                    raise ConfigError("--early-vs-late", value, "EARLY:LATE arm names")
                a.pairs.append((e, lt))
            elif opt == "--out":
                a.out = value
            elif opt == "--parameters":
                a.parameters = value
            else:
                a.resume = value
        elif arg.startswith("-"):
            raise UserError(f"unknown option {arg!r} (multirun and Hydra flags are not supported here); {USAGE}")
        else:
            a.overrides.append(arg)
        i += 1
    if a.out is not None and a.resume is not None:
        raise UserError("--out and --resume exclude each other (a resumed comparison writes into its own folder)")
    if a.resume is not None and (a.presets or a.custom or a.overrides or a.reference or a.pairs or a.parameters
                                 or a.equal_spend):
        raise UserError(f"--resume {a.resume} takes the arms, overrides, reference and parameter sets stored in its spec.json; "
                        "give only --replicates besides it")
    return a


def _int_option(opt: str, value: str, least: int, expected: str) -> int:
    """The integer value of ``opt``, at least ``least``, or a ConfigError naming it."""
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(opt, value, expected) from None
    if n < least:
        raise ConfigError(opt, n, expected)
    return n


def _cli_arms(a: _Args) -> dict[str, list[str]]:
    presets = a.presets if a.presets is not None else ([] if a.custom else list(DEFAULT_ARMS))
    dupes = sorted({n for n in [*presets, *(c[0] for c in a.custom)]
                    if [*presets, *(c[0] for c in a.custom)].count(n) > 1})
    if dupes:
        raise ConfigError("--arms", dupes[0], "each arm named once")
    check_presets(presets)
    arms = {n: [f"policy={n}"] for n in presets}
    arms.update({label: ov for label, ov in a.custom})
    return arms


def _claim_out(a: _Args, started: time.struct_time) -> RunFolder:
    """The comparison's output folder, claimed (see :class:`hssim.cliutil.RunFolder`):
    ``--out`` must be new or empty; the default ``outputs/compare/<date>/<time>`` gets a
    suffix when another comparison took it in the same second."""
    if a.out is not None:
        return RunFolder.claim(a.out, tool=PROG, field="--out")
    path = Path("outputs") / "compare" / time.strftime("%Y-%m-%d", started) / time.strftime("%H-%M-%S", started)
    return RunFolder.claim(path, tool=PROG, unique=True)


def _written(out: Path) -> list[Path]:
    """What a comparison writes into its folder (removed when it stops before any run finished)."""
    runs = out / "runs"
    files = [*runs.glob("*.json"), *runs.glob(".*.tmp")] if runs.is_dir() else []
    return [*files, runs, out / "spec.json"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point (see :data:`HELP`)."""
    from ..config.build import estimate_memory_bytes
    from ..report.html import save_comparison

    argv = list(sys.argv[1:] if argv is None else argv)
    argv = take_debug(argv)
    handle_signals()
    started = time.localtime()
    folder: RunFolder | None = None
    try:
        a = _parse_argv(argv)
        if a.help:
            print(HELP)
            return
        if a.resume is not None:
            spec = read_spec(a.resume)
            p = plan(spec["arms"], spec["replicates"] if a.replicates is None else a.replicates, spec["base_seed"],
                     spec.get("reference"), spec.get("overrides", []),
                     [tuple(x) for x in spec.get("early_vs_late", [])], stored_sets(spec, a.resume),
                     bool(spec.get("equal_spend", False)))
        else:
            arms = _cli_arms(a)
            p = plan(arms, 20 if a.replicates is None else a.replicates, None, a.reference, a.overrides, a.pairs,
                     a.parameters, a.equal_spend)
        workers = default_workers() if a.workers is None else a.workers
        first = p.configs[next(iter(p.configs))]
        n = p.replicates * len(p.arms)
        check_memory(min(workers, n) * estimate_memory_bytes(first, p.scenario.n_districts) + n * _BYTES_PER_RUN,
                     "this comparison", "--replicates, --workers, population.households or months")
        folder = RunFolder.reopen(a.resume, tool=PROG) if a.resume is not None else _claim_out(a, started)
    except UserError as exc:
        _fail(exc, prog=PROG)
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "nothing was written")
    out = folder.path

    print(
        f"{PROG}: {first.scenario.name}, storyline {first.storyline.name}, {first.months} months; "
        f"arms {', '.join(p.arms)}; {p.replicates} replicates (seeds {p.base_seed}..{p.base_seed + p.replicates - 1}); "
        f"{n} runs" + ("" if p.parameter_sets is None else f"; {p.parameter_sets.describe()}")
        + ("; equal spend: an uncapped pass first, then every responding arm capped" if p.equal_spend else ""),
        flush=True,
    )
    last = [time.perf_counter()]

    def progress(k: int, total: int, arm: str, r: int, stored: bool) -> None:
        now = time.perf_counter()
        what = "stored" if stored else f"{now - last[0]:.1f} s"
        last[0] = now
        print(f"  [{k}/{total}] {arm} replicate {r} (seed {p.base_seed + r}): {what}", file=sys.stderr, flush=True)

    try:
        result = execute(p, run_dir=out, progress=progress, workers=workers)
        save_comparison(result, out, figures=first.output.figure, dpi=first.output.figure_dpi)
    except BaseException as exc:
        has_runs = (out / "runs").is_dir() and any((out / "runs").glob("*.json"))
        if has_runs or a.resume is not None:
            kept = f"finished runs are kept in {out}: continue with `{PROG} --resume {out}`"
            folder.mark("incomplete", f"continue with: {PROG} --resume {out}")
        else:
            folder.discard(_written(out))
            kept = f"no run had finished: removed what it wrote in {out}" + (
                "" if folder.created else " (the folder itself was yours: kept)")
        if isinstance(exc, KeyboardInterrupt):
            interrupted(exc, PROG, kept)
        if not isinstance(exc, SystemExit):
            print(f"{PROG}: stopped; {kept}", file=sys.stderr, flush=True)
        if isinstance(exc, UserError):
            _fail(exc, prog=PROG)
        if isinstance(exc, OSError) and (err := os_error_message(exc, "could not write the comparison folder")):
            _fail(err, prog=PROG)
        raise
    folder.mark("complete")
    print()
    print(result.format_table())
    print()
    print(f"  output: {out}  (report: {out / 'report.html'})")


if __name__ == "__main__":  # pragma: no cover
    main()


if __name__ == "__main__":  # python -m hssim.cli.compare
    main()
