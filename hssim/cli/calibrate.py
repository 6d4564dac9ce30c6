"""The command line, ``hssim-calibrate`` (see :data:`HELP`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..cliutil import fail as _fail
from ..cliutil import handle_signals, interrupted, os_error_message, take_debug
from ..errors import UserError

PROG = "hssim-calibrate"
USAGE = (f"usage: {PROG} [calibration=NAME | calibration=FILE.yaml] [--config-dir DIR] [--out DIR] "
         "[--storage URL] [--workers N] [--report-only] [--no-validation] [--debug] [KEY=VALUE...]\n"
         f"       {PROG} --revalidate DIR [--config-dir DIR] [--debug]")
HELP = f"""{USAGE}

Fit a scenario's free parameters to its calibration targets (targets.csv rows with role
calibration; validation rows are held out) with an Optuna study on persistent storage.
Every trial runs the calibration's seeds (common random numbers). Writes trials.csv,
plausible.csv (the parameter sets whose every target lands in its band), identification.csv,
fit.csv and calibration.json into the output folder; then runs the best plausible sets
against every target, held-out and crisis hindcasts included, and writes the validation
page report.html with validation.csv, hindcasts.csv and metrics.csv.

  calibration=NAME      configs/calibration/NAME.yaml (or DIR/calibration/NAME.yaml), or a
                        YAML file (default: default)
  --config-dir DIR      a folder searched first (its calibration/ and scenario/ groups)
  --out DIR             output folder (default: outputs/calibration/NAME); the study is
                        DIR/study.db unless --storage says otherwise
  --storage URL         a study storage shared by several workers or machines, e.g.
                        mysql+pymysql://user:password@host/db or sqlite:////path/study.db
  --workers N           processes adding trials to the one study (default 1)
  --report-only         no new trial: summarise the study as it stands
  --no-validation       skip the validation runs and page (report.html)
  --revalidate DIR      no study: validate the saved fit in DIR (a calibration folder,
                        e.g. scenarios/turkana/calibration) against the scenario's targets
                        table as it is now, and rewrite DIR's validation page and tables
  --debug               show tracebacks (also HSSIM_DEBUG=1)
  KEY=VALUE             a calibration field, e.g. trials=80 seeds=[1,2,3]
                        parameters.p_mam_per_gap.high=0.9

Running the same command again continues the study: finished trials are kept and only
the missing ones run. A mistake prints one line and exits with status 2 before anything
runs."""


def _parse(argv: list[str]):
    name, dirs, out, storage, workers, report_only, overrides = "default", [], None, None, 1, False, []
    no_validation, revalidate = False, None
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            return None
        if a in ("--config-dir", "--out", "--storage", "--workers", "--revalidate"):
            value = next(it, None)
            if value is None:
                raise UserError(f"{a} needs a value")
            if a == "--config-dir":
                if not Path(value).is_dir():
                    raise UserError(f"--config-dir {value}: not a folder")
                dirs.append(str(Path(value).resolve()))
            elif a == "--out":
                out = value
            elif a == "--storage":
                storage = value
            elif a == "--revalidate":
                revalidate = value
            else:
                if not value.isdigit() or int(value) < 1:
                    raise UserError(f"--workers {value}: expected an integer >= 1")
                workers = int(value)
        elif a == "--report-only":
            report_only = True
        elif a == "--no-validation":
            no_validation = True
        elif a.startswith("calibration="):
            name = a.split("=", 1)[1]
        elif a.startswith("-"):
            raise UserError(f"unknown option {a}; {USAGE}")
        elif "=" in a:
            overrides.append(a)
        else:
            raise UserError(f"{a!r}: expected KEY=VALUE; {USAGE}")
    if revalidate is not None and (name != "default" or out or storage or report_only or no_validation or overrides
                                   or workers != 1):
        raise UserError("--revalidate DIR takes the fit and its calibration from DIR/calibration.json; "
                        "give only --config-dir besides it")
    return name, dirs, out, storage, workers, report_only, no_validation, overrides, revalidate


def _revalidate(folder: str, dirs: list[str], argv: list[str]) -> None:
    """``--revalidate``: the saved fit in ``folder`` against today's targets table."""
    from ..calibrate import validate
    from ..calibrate.result import load_result
    from ..report.calibration_report import save_calibration

    try:
        res = load_result(folder)
        if not len(res.plausible):
            raise UserError(f"{folder}: the saved calibration holds no plausible set to validate")
        print(f"{PROG}: revalidating {res.config.name} ({len(res.plausible)} plausible set(s), best "
              f"{min(len(res.plausible), res.config.validation_sets)} run) against the targets as they are now", flush=True)

        def progress(k: int, n: int) -> None:
            print(f"  validation run {k}/{n}", file=sys.stderr, flush=True)

        val = validate(res.config, res, dirs, progress=progress)
        save_calibration(res, val, folder, command=" ".join([PROG, *argv]))
    except UserError as exc:
        _fail(exc, prog=PROG)
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "the saved fit is unchanged")
    for role, (k, n) in sorted(val.counts().items()):
        print(f"{PROG}: {role} targets inside their band at the plausible sets' median: {k} of {n}")
    print(f"{PROG}: wrote {folder}/report.html (validation page), validation.csv, hindcasts.csv, metrics.csv")


def main(argv: list[str] | None = None) -> None:
    """Console entry point (see :data:`HELP`)."""
    from ..calibrate import check_calibration, load_calibration, result_of
    from ..calibrate.study import default_storage, optimize

    argv = list(sys.argv[1:] if argv is None else argv)
    argv = take_debug(argv)
    handle_signals()
    try:
        parsed = _parse(argv)
        if parsed is None:
            print(HELP)
            return
        name, dirs, out, storage, workers, report_only, no_validation, overrides, revalidate = parsed
        if revalidate is not None:
            _revalidate(revalidate, dirs, argv)
            return
        cal = load_calibration(name, overrides, dirs)
        out_dir = Path(out) if out else Path("outputs") / "calibration" / cal.name
        base, scenario, targets = check_calibration(cal, dirs)
        if storage is None:
            out_dir.mkdir(parents=True, exist_ok=True)
        url = storage or default_storage(out_dir)
        from ..calibrate.study import complete_trials, open_study

        done = complete_trials(open_study(cal, url))
    except UserError as exc:
        _fail(exc, prog=PROG)
    except OSError as exc:
        if err := os_error_message(exc, "could not prepare the calibration folder"):
            _fail(err, prog=PROG)
        raise
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "nothing was run")

    todo = 0 if report_only else max(0, cal.trials - done)
    print(f"{PROG}: {cal.name} on scenario {cal.scenario}: {len(cal.parameters)} free parameters, "
          f"{len(targets)} calibration targets, seeds {list(cal.seeds)}; study {cal.study_name!r} holds "
          f"{done} of {cal.trials} trials; {todo} to run with {workers} worker(s)", flush=True)
    t0 = time.perf_counter()
    try:
        if todo:
            optimize(cal, url, targets, scenario, workers=workers, config_dirs=dirs)
        res = result_of(cal, url, targets, base["scenario"]["name"])
        command = " ".join([PROG, *("<storage URL>" if a == storage else a for a in argv)])
        res.save(out_dir, command=command)
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "finished trials are kept in the study; run the same command to continue")
    except UserError as exc:
        _fail(exc, prog=PROG)
    except OSError as exc:
        if err := os_error_message(exc, "could not write the calibration folder"):
            _fail(err, prog=PROG)
        raise
    n_in = int(res.fit["best_in_band"].sum())
    print(f"{PROG}: {len(res.trials)} trials ({time.perf_counter() - t0:.0f} s now); "
          f"{len(res.plausible)} plausible set(s) ({'every band met' if res.all_in_bands else 'closest trials: no trial meets every band'}); "
          f"best trial meets {n_in} of {len(res.fit)} targets", flush=True)
    for _, r in res.identification.iterrows():
        print(f"  {r['parameter']:<28} plausible {r['plausible_p05']:.4g}..{r['plausible_p95']:.4g} "
              f"(median {r['plausible_median']:.4g}; prior {r['prior_low']:.4g}..{r['prior_high']:.4g}; "
              f"range ratio {r['range_ratio']:.2f})")
    print(f"{PROG}: wrote {out_dir}/calibration.json, fit.csv, identification.csv, plausible.csv, trials.csv, "
          "fitted.yaml (the best set: copy to configs/fitted/ and run with fitted=NAME)")
    if cal.validation_sets and not no_validation and len(res.plausible):
        try:
            from ..calibrate import validate
            from ..report.calibration_report import save_calibration

            def progress(k: int, n: int) -> None:
                print(f"  validation run {k}/{n}", file=sys.stderr, flush=True)

            val = validate(cal, res, dirs, progress=progress)
            save_calibration(res, val, out_dir, command=command)
        except KeyboardInterrupt as exc:
            interrupted(exc, PROG, "the study and its tables are kept; run the same command to validate again")
        for role, (k, n) in sorted(val.counts().items()):
            print(f"{PROG}: {role} targets inside their band at the plausible sets' median: {k} of {n}")
        print(f"{PROG}: wrote {out_dir}/report.html (validation page), validation.csv, hindcasts.csv, metrics.csv")


if __name__ == "__main__":  # pragma: no cover
    main()
