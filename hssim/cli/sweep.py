"""``hssim-sweep``: run a sensitivity experiment as Hydra jobs; ``hssim-sweep-analyse``.

::

    hssim-sweep experiment=integrated_vs_siloed                  # local, one process
    hssim-sweep experiment=integrated_vs_siloed hydra/launcher=joblib hydra.launcher.n_jobs=2
    hssim-sweep experiment=integrated_vs_siloed hydra/launcher=submitit_slurm \\
        hydra.launcher.partition=debug hydra.launcher.cpus_per_task=1
    hssim-sweep --config-dir my_configs experiment=my_study        # my_configs/experiment/my_study.yaml
    hssim-sweep-analyse sweeps/integrated_vs_siloed                # tables and figures again

The driver (this process) composes ``configs/sweep.yaml`` with the experiment,
samples the design, checks it (every parameter path, the extreme values, the
outputs; a short run per arm), and creates or reopens the store. It then launches
one Hydra job per chunk still without a result (``chunk=3,7,...`` as a Hydra
multirun), so any Hydra launcher runs the sweep, watches the store for progress
(a bar with the time left), writes the manifest, prints what was computed and how
fast, reports every failed chunk with its error, and analyses a complete store.

Re-running the same command computes only what is missing; ``only=[3]`` re-runs
chunk 3 alone. User errors exit 2 with one line, before anything is written; a
sweep with failed chunks exits 1 after reporting them.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

from ..cliutil import fail as _cli_fail
from ..cliutil import handle_signals, interrupted, take_debug
from ..errors import ConfigError, UserError

__all__ = ["main", "analyse_main", "compose_sweep", "analyse_store"]

PROG = "hssim-sweep"
EXIT_USER_ERROR = 2
EXIT_FAILED_CHUNKS = 1
DEFAULTS_NAME = "hssim_sweep_defaults"


def _fail(exc: BaseException, prog: str = PROG) -> NoReturn:
    _cli_fail(exc, prog)


def register_defaults() -> None:
    """Every sweep field at its default, so any can be overridden (``experiment.n=256``)."""
    from hydra.core.config_store import ConfigStore

    from ..sweep.schema import SweepConfig
    from ..validate import to_dict

    ConfigStore.instance().store(name=DEFAULTS_NAME, node=to_dict(SweepConfig()))


def _split_argv(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(sweep overrides, hydra overrides, config dirs) of a command line."""
    sweep, hyd, dirs = [], [], []
    it = iter(argv)
    for a in it:
        if a in ("--config-dir", "-cd"):
            try:
                dirs.append(next(it))
            except StopIteration:
                raise ConfigError("--config-dir", None, "a folder after --config-dir") from None
        elif a.startswith("--config-dir="):
            dirs.append(a.split("=", 1)[1])
        elif a.startswith("-"):
            raise ConfigError("<command line>", a, "overrides key=value, --config-dir DIR or --debug")
        elif a.startswith(("hydra/", "hydra.", "+hydra", "~hydra")):
            hyd.append(a)
        else:
            sweep.append(a)
    for d in dirs:
        if not Path(d).is_dir():
            raise ConfigError("--config-dir", d, "an existing folder holding experiment/<name>.yaml")
    return sweep, hyd, dirs


def compose_sweep(overrides: list[str], hydra_overrides: list[str] = (), config_dirs: list[str] = ()):
    """The composed sweep config (with its ``hydra`` node), as the jobs will see it.

    Raises
    ------
    ConfigError  for an unknown key, group option or launcher, or bad syntax.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from ..paths import configs_dir
    from ..runs.compose import _hydra_reason, _offending_override, hydra_searchpath, refuse_code

    register_defaults()
    extra = [hydra_searchpath(config_dirs)] if config_dirs else []
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base=None, job_name="hssim_sweep"):
            cfg = compose("sweep", overrides=[*overrides, *hydra_overrides, *extra], return_hydra_config=True)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:  # ValueError: e.g. `experiment=3`
        raise ConfigError(*_offending_override(exc, [*overrides, *hydra_overrides]), _hydra_reason(exc)) from exc
    except Exception as exc:  # a YAML file that does not parse (yaml's own errors)
        if type(exc).__module__.split(".")[0] != "yaml":
            raise
        raise ConfigError("<experiment file>", type(exc).__name__, f"valid YAML ({' '.join(str(exc).split())})") from None
    finally:
        GlobalHydra.instance().clear()
    refuse_code(cfg)
    OmegaConf.set_struct(cfg, False)
    return cfg


def _concurrent_workers(launcher_cfg) -> int:
    """How many jobs of this launcher run at once on one machine."""
    target = str(launcher_cfg.get("_target_", ""))
    if "joblib" in target.lower():
        n = int(launcher_cfg.get("n_jobs") or 1)
        return (os.cpu_count() or 1) if n < 0 else max(1, n)
    return 1


def _chunk_task(cfg) -> dict:
    """One Hydra job: evaluate chunk ``cfg.chunk`` of the store ``cfg.store``."""
    from hydra.core.hydra_config import HydraConfig

    from ..sweep.runner import evaluate_chunk, load_sweep_config

    sc = load_sweep_config(cfg)
    launcher = HydraConfig.get().launcher
    return evaluate_chunk(sc.store, sc.chunk, threads=sc.threads, concurrent_workers=_concurrent_workers(launcher),
                          launcher=str(launcher.get("_target_", "")).rsplit(".", 1)[-1])


class _Monitor:
    """Progress bar over the store: counts runs of chunks that finished (any launcher,
    any machine) by watching their shards appear."""

    def __init__(self, plan, todo: list[int], enabled: bool):
        self.plan, self.todo, self.enabled = plan, list(todo), enabled
        self.seen: set[int] = set()
        self.failed: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from tqdm.auto import tqdm

            total = sum(hi - lo for lo, hi in map(self.plan.store.chunk_bounds, self.todo)) * self.plan.runs_per_point()
            self.bar = tqdm(total=total, unit="run", desc=PROG, dynamic_ncols=True, smoothing=0.1)
            self._thread.start()
        return self

    def _poll(self) -> None:
        st = self.plan.store
        for c in self.todo:
            if c in self.seen:
                continue
            meta = st.shard_meta(c) if st.shard(c).exists() else None
            if meta is not None:
                self.seen.add(c)
                self.bar.update(meta["rows"])
            elif c not in self.failed and st.error_file(c).exists():
                self.failed.add(c)
                self.bar.set_postfix(failed=len(self.failed))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._poll()

    def __exit__(self, *exc):
        if self.bar is not None:
            self._stop.set()
            self._thread.join()
            self._poll()
            self.bar.close()


def _launch(plan, todo: list[int], sweep_ovr: list[str], hydra_ovr: list[str], config_dirs: list[str],
            progress: bool) -> str:
    """Run the chunks ``todo`` as a Hydra multirun; returns the launcher's error, if any."""
    import hydra

    from ..paths import configs_dir
    from ..runs.compose import hydra_quote

    store = plan.store.root
    stamp = _dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    extra = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
    extra = [e for e in extra if not any(h.startswith(e.split("=")[0]) for h in hydra_ovr)]
    if not any(h.startswith("hydra.sweep.dir") for h in hydra_ovr):
        extra.append(f"hydra.sweep.dir={hydra_quote(str(store / 'hydra' / stamp))}")
    argv = [PROG, "-m"]
    for d in config_dirs:
        argv += ["--config-dir", str(Path(d).resolve())]
    argv += [o for o in sweep_ovr if not o.startswith(("store=", "chunk="))]
    argv += [f"store={hydra_quote(str(store))}", "chunk=" + ",".join(map(str, todo)), *hydra_ovr, *extra]
    saved = sys.argv
    sys.argv = argv
    error = ""
    try:
        with _Monitor(plan, todo, progress):
            hydra.main(config_path=str(configs_dir()), config_name="sweep", version_base=None)(_chunk_task)()
    except SystemExit as exc:  # Hydra reports a failed launch and exits
        if exc.code not in (0, None):
            error = f"the launcher stopped with exit status {exc.code} (its message is above)"
    except Exception as exc:  # noqa: BLE001 - e.g. submitit's UncompletedJobError for a killed job
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
    finally:
        sys.argv = saved
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()
    return error


def _print_report(plan, todo: list[int], wall_s: float, launcher_error: str) -> int:
    st = plan.store
    statuses = st.status()
    by = {c.chunk: c for c in statuses}
    now = [by[c] for c in todo if by[c].status == "done"]
    runs = sum(c.rows for c in now)
    hh = sum(c.household_months for c in now)
    worker_s = sum(c.wall_s for c in now)
    counts = {s: sum(1 for c in statuses if c.status == s) for s in ("done", "failed", "lost", "pending")}
    stored = counts["done"] - len(now)
    throughput = {"wall_s": wall_s, "runs": runs, "household_months": hh, "chunks_computed": len(now),
                  "runs_per_s": runs / wall_s if wall_s > 0 else 0.0,
                  "household_months_per_s": hh / wall_s if wall_s > 0 else 0.0,
                  "worker_s": worker_s, "launcher_error": launcher_error}
    st.write_manifest(statuses, {"last_launch": throughput})
    n = len(statuses)
    print(f"{PROG}: {plan.describe()}")
    print(f"  store        {st.root}")
    print(f"  chunks       {counts['done']} of {n} done ({len(now)} computed now, {stored} already stored), "
          f"{counts['failed']} failed, {counts['lost']} lost, {counts['pending']} not run")
    if runs:
        rate = f"{hh / wall_s / 1e6:.3g} M household-months/s, " if hh else ""
        print(f"  throughput   {runs:,} runs in {wall_s:.1f} s: {runs / wall_s:.3g} runs/s, {rate}"
              f"{worker_s / max(runs, 1):.3g} s per run in the workers")
    bad = [c for c in statuses if c.status in ("failed", "lost")]
    for c in bad[:20]:
        where = f"Slurm job {c.job_id}" if c.job_id else (c.host or "local")
        print(f"  chunk {c.chunk:<5}  {c.status}: {c.error.splitlines()[0] if c.error else ''} [{where}]")
    if len(bad) > 20:
        print(f"  ... and {len(bad) - 20} more (see {st.manifest_file})")
    if bad:
        ids = ",".join(str(c.chunk) for c in bad[:50])
        print(f"  re-run       the same command computes them again; one alone: only=[{bad[0].chunk}]"
              f" (all of these: only=[{ids}])")
    if launcher_error:
        print(f"  launcher     {launcher_error}")
    return counts["done"]


def analyse_store(store_path, dpi: int = 110, quiet: bool = False) -> list[Path]:
    """Indices, tables and figures of a complete store into ``<store>/analysis``."""
    from ..report.sweep_report import save_analysis
    from ..sweep.analysis import analyse
    from ..sweep.runner import point_table
    from ..sweep.store import Store, _write_json

    st = Store(store_path)
    h = st.header()
    exp = h["experiment"]
    runs = st.load(require_complete=True)
    X, Y = point_table(st, runs)
    res = analyse(h["problem"], exp["method"], X, Y, second_order=exp["second_order"], conf_level=exp["conf_level"],
                  num_resamples=exp["num_resamples"], seed=exp["sample_seed"], morris_levels=exp["morris_levels"],
                  fast_m=exp["fast_m"])
    out = st.analysis_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = save_analysis(res, h["problem"], X, Y, out, method=exp["method"], dpi=dpi)
    from ..results import atomic_write

    points = Y.copy()
    for j, name in enumerate(h["problem"]["names"]):
        points.insert(j, name, X[:, j])
    atomic_write(out / "points.csv", lambda p: points.to_csv(p, index_label="point"))
    atomic_write(out / "runs.parquet", lambda p: runs.to_parquet(p, index=False))
    _write_json(out / "analysis.json", {"experiment": exp["name"], "method": exp["method"], "fingerprint": h["fingerprint"],
                                        "n_points": h["n_points"], "runs": len(runs), "outputs": list(Y.columns),
                                        "notes": list(res.notes)})
    paths = [*paths, out / "points.csv", out / "runs.parquet", out / "analysis.json"]
    if not quiet:
        print(f"  analysis     {out} ({', '.join(sorted(p.name for p in paths))})")
        for note in res.notes:
            print(f"  note         {note}")
    return paths


def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``hssim-sweep``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return
    argv = take_debug(argv)
    handle_signals()
    from ..sweep.runner import load_sweep_config, plan

    try:
        sweep_ovr, hydra_ovr, dirs = _split_argv(argv)
        composed = compose_sweep(sweep_ovr, hydra_ovr, dirs)
        sc = load_sweep_config(composed)
        if sc.chunk is not None:
            raise ConfigError("chunk", sc.chunk, "no chunk= (the driver sets it per job; use only=[...] to choose chunks)")
        # refuses `only` chunks that do not exist, and designs or runs too large, before writing
        p = plan(sc, store=sc.store or None, concurrent_workers=_concurrent_workers(composed.hydra.launcher))
        todo = p.todo(sc.only)
    except UserError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, "no chunk had run")
    t0 = time.perf_counter()
    try:
        error = _launch(p, todo, sweep_ovr, hydra_ovr, dirs, sc.progress) if todo else ""
    except KeyboardInterrupt as exc:
        interrupted(exc, PROG, f"finished chunks are kept in {p.store.root}; run the same command again to compute "
                               "the rest")
    done = _print_report(p, todo, time.perf_counter() - t0, error)
    complete = done == p.header["n_chunks"]
    if complete and sc.analyse:
        try:
            analyse_store(p.store.root, dpi=sc.figures_dpi)
        except UserError as exc:
            _fail(exc)
    if not complete:
        if not sc.only:
            sys.exit(EXIT_FAILED_CHUNKS)
        missing = [c for c in sc.only if c not in {s.chunk for s in p.store.status() if s.status == "done"}]
        if missing:
            sys.exit(EXIT_FAILED_CHUNKS)


def analyse_main(argv: list[str] | None = None) -> None:
    """Console entry point of ``hssim-sweep-analyse STORE [--dpi N]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "hssim-sweep-analyse"
    handle_signals()
    argv = take_debug(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {prog} STORE [--dpi N]\n\nIndices with confidence intervals (CSV), figures (PNG) and the "
              "per-point table of a complete sweep store, into STORE/analysis.")
        return
    dpi = 110
    try:
        if "--dpi" in argv:
            i = argv.index("--dpi")
            try:
                dpi = int(argv[i + 1])
            except (IndexError, ValueError):
                raise ConfigError("--dpi", argv[i + 1:i + 2], "an integer") from None
            del argv[i:i + 2]
        if len(argv) != 1:
            raise ConfigError("<command line>", " ".join(argv), "one store folder")
        print(f"{prog}: {Path(argv[0]).resolve()}")
        analyse_store(argv[0], dpi=dpi)
    except UserError as exc:
        _fail(exc, prog)
    except KeyboardInterrupt as exc:
        interrupted(exc, prog, "the store is untouched (analysis files are written whole or not at all); "
                               "run the same command again")


if __name__ == "__main__":  # pragma: no cover
    main()
