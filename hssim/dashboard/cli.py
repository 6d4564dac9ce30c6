"""``hssim-dashboard``: serve the trainer dashboard with Solara, offline, on 127.0.0.1.

::

    hssim-dashboard                      # http://127.0.0.1:8765
    hssim-dashboard --port 9000 --households 10000 --months 48 --preset drought_then_cholera
    hssim-dashboard --host 0.0.0.0       # reachable from other machines: only on a trusted network

The page's front-end files come from the installed ``solara-assets`` package (no
internet needed), and Solara's usage telemetry is switched off.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from .session import PRESETS, Settings

__all__ = ["main", "server_command"]


def server_command(host: str, port: int) -> list[str]:
    """The command that serves the page (``solara run`` in production mode)."""
    return [
        sys.executable, "-m", "solara", "run", "hssim.dashboard.app",
        "--host", host, "--port", str(port), "--production", "--no-open",
    ]  # fmt: skip


def server_env(households: int | None = None, months: int | None = None, seed: int | None = None, preset: str | None = None) -> dict[str, str]:
    """The environment of the server: defaults for the page, offline and quiet."""
    env = dict(os.environ)
    env.update(
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",  # no calls home
        SOLARA_ASSETS_PROXY="True",  # front-end files through the server, from the bundled solara-assets
        SOLARA_KERNEL_CULL_TIMEOUT="30s",  # a closed tab's runs (and play thread) go after 30 s, not 24 h
        MPLBACKEND="Agg",
    )
    for key, value in (("HOUSEHOLDS", households), ("MONTHS", months), ("SEED", seed), ("PRESET", preset)):
        if value is not None:
            env[f"HSSIM_DASHBOARD_{key}"] = str(value)
    return env


def _bind_problem(host: str, port: int) -> str:
    """Why the server could not listen on ``host:port`` (checked before starting it), or ''."""
    import socket

    if not 1 <= port <= 65535:
        return "expected a port in [1, 65535]"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"unknown host ({exc})"
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: a closed port in TIME_WAIT is free
        try:
            s.bind(addr)
        except OSError as exc:
            return f"cannot listen there ({exc.strerror or exc}); choose another --port"
    return ""


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="hssim-dashboard", description="Serve the trainer dashboard: prevention vs late response on the same draws.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--households", type=int, default=None, help=f"simulated households (default {Settings.households})")
    p.add_argument("--months", type=int, default=None, help=f"horizon in months (default {Settings.months})")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--preset", choices=list(PRESETS), default=None, help="storyline preset on opening")
    args = p.parse_args(argv)
    missing = [m for m in ("solara", "solara_assets") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"hssim-dashboard: error: {', '.join(missing)} not installed: pip install 'hssim[dashboard]'", file=sys.stderr)
        raise SystemExit(2)
    try:  # bad defaults fail here, with the field, not in the browser
        kw = {k: v for k, v in (("households", args.households), ("months", args.months), ("seed", args.seed), ("preset", args.preset)) if v is not None}
        Settings(**kw)
    except Exception as exc:  # ConfigError: one line for a person
        print(f"hssim-dashboard: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    problem = _bind_problem(args.host, args.port)
    if problem:
        print(f"hssim-dashboard: error: --host {args.host} --port {args.port}: {problem}", file=sys.stderr)
        raise SystemExit(2)
    print(f"hssim dashboard on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    cmd = server_command(args.host, args.port)
    env = server_env(args.households, args.months, args.seed, args.preset)
    os.execvpe(cmd[0], cmd, env)  # the server replaces this process: its PID is this PID


if __name__ == "__main__":  # pragma: no cover
    main()
