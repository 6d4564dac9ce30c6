"""The command line, ``hssim-polyrisk`` (see :data:`HELP`): the hazard decomposition
of :mod:`hssim.polyrisk` on a config composed as ``hssim`` composes it, written to
``outputs/polyrisk/<date>/<time>/`` with the report layer's figure."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ..cliutil import fail as _fail
from ..cliutil import handle_signals, interrupted, os_error_message, take_debug
from ..errors import ConfigError, UserError
from ..polyrisk import PolyRiskResult, polyrisk, select_hazards
from ..report.polyrisk_figure import save_polyrisk

__all__ = ["main", "HELP", "USAGE", "PROG"]

USAGE = "usage: hssim-polyrisk [--hazards NAME[,NAME...]] [--debug] [OVERRIDES...]"
PROG = "hssim-polyrisk"
HELP = f"""{USAGE}

Run a baseline (the analysed hazards off), each hazard alone and all of them
together on the same seed, and report per outcome the isolated impacts, their sum,
the joint impact and the poly-risk excess (joint - sum of isolated; > 0
compounding, < 0 sub-additive).

  --hazards a,b   hazards to analyse (default: every hazard enabled in the config)
  --debug         show tracebacks (also HSSIM_DEBUG=1)
  OVERRIDES       the same key=value overrides as `hssim`, e.g. seed=7 months=60

Writes outputs/polyrisk/<date>/<time>/ with polyrisk.csv, polyrisk.json and
polyrisk.png. A configuration error prints one line and exits with status 2."""


def _parse_argv(argv: list[str]) -> tuple[list[str], list[str] | None, bool]:
    """(overrides, hazards or None, help wanted); raises UserError on an unknown option."""
    overrides: list[str] = []
    hazards: list[str] | None = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            return overrides, hazards, True
        if a == "--hazards" or a.startswith("--hazards="):
            if a == "--hazards":
                if i + 1 >= len(argv):
                    raise ConfigError("--hazards", "", "a comma-separated list of hazard names")
                value = argv[i + 1]
                i += 1
            else:
                value = a.split("=", 1)[1]
            hazards = [*(hazards or []), *value.split(",")]
        elif a.startswith("-"):
            raise UserError(f"unknown option {a!r} (multirun and Hydra flags are not supported here); {USAGE}")
        else:
            overrides.append(a)
        i += 1
    return overrides, hazards, False


def _unique_dir(parent: Path, name: str) -> Path:
    """A new empty folder ``parent/name`` (or ``name-1``, ...), created here: a folder
    made by ``os.mkdir`` belongs to this run alone, even when runs start in the same second."""
    target, k = parent / name, 1
    while True:
        try:
            os.mkdir(target)
            return target
        except FileExistsError:
            target, k = parent / f"{name}-{k}", k + 1


def _write_run_dir(result: PolyRiskResult, root: Path, started: time.struct_time, figure: bool, dpi: int) -> Path:
    """Write into ``root/<date>/<time>/`` through a temporary folder renamed at the end.

    A failure removes the temporary folder and any parent folder made here.
    """
    date_dir = root / time.strftime("%Y-%m-%d", started)
    made = [p for p in (root.parent, root, date_dir) if not p.exists()]
    date_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".polyrisk-", suffix=".tmp", dir=date_dir))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        save_polyrisk(result, tmp, figure=figure, dpi=dpi)
        final = _unique_dir(date_dir, time.strftime("%H-%M-%S", started))
        os.rename(tmp, final)  # onto the empty folder just made for this run
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in reversed(made):
            try:
                p.rmdir()
            except OSError:
                pass
        raise


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``hssim-polyrisk [--hazards a,b] [--debug] [OVERRIDES...]``.

    Composes the config as ``hssim`` does, checks it with the same
    :func:`hssim.cli.run.precheck` (a user error prints one line and exits 2 before
    anything is written), runs the decomposition, writes
    ``outputs/polyrisk/<date>/<time>/`` and prints the table.
    """
    from ..runs.compose import compose
    from .run import precheck

    argv = list(sys.argv[1:] if argv is None else argv)
    handle_signals()
    argv = take_debug(argv)
    started = time.localtime()
    try:
        overrides, hazards, want_help = _parse_argv(argv)
        if want_help:
            print(HELP)
            return
        precheck(overrides)
        cfg = compose(overrides)
        from ..config.build import prepare

        config, _ = prepare(cfg)
        chosen = select_hazards(config, hazards)
    except UserError as exc:
        _fail(exc, prog="hssim-polyrisk")
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "nothing was written")

    n = len(chosen) + 2
    print(
        f"{PROG}: {config.scenario.name}, storyline {config.storyline.name}, seed {config.seed}; "
        f"hazards {', '.join(chosen)}; {n} runs",
        flush=True,
    )

    def progress(k: int, total: int, name: str) -> None:
        print(f"  run {k}/{total}: {name} done", flush=True)

    try:
        result = polyrisk(config, hazards=chosen, progress=progress)
        out = _write_run_dir(
            result, Path("outputs") / "polyrisk", started, figure=config.output.figure, dpi=config.output.figure_dpi
        )
    except UserError as exc:
        _fail(exc, prog="hssim-polyrisk")
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "nothing was written (the run folder appears only when it is complete); "
                               "run the same command again")
    except OSError as exc:
        err = os_error_message(exc, "could not write the run folder")
        if err is None:
            raise
        _fail(err, prog="hssim-polyrisk")
    print()
    print(result.format_table())
    print()
    print(
        "  impact_<h> = <h> alone - baseline; joint = all - baseline; excess = joint - sum of isolated "
        "(+ compounding, - sub-additive)"
    )
    print(f"  output: {out}")


if __name__ == "__main__":  # python -m hssim.cli.polyrisk
    main()
