"""Serve the dashboard in a child process from a script (a benchmark, a test), and stop it.

::

    with served(households=2000) as url:   # http://127.0.0.1:<free port>/
        ...                                # drive it, e.g. in a headless browser

The child is ``hssim-dashboard`` (:mod:`hssim.dashboard.cli`), which execs the
server, so the child's PID is the server's and it is what gets stopped. (The browser
the tests and the dashboard benchmark drive is set up in ``tests/browser.py``.)
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "served"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(households: int, log: Path | None = None, timeout_s: float = 120.0) -> Iterator[str]:
    """Start the dashboard on a free 127.0.0.1 port, yield its URL once it answers, stop it.

    Raises
    ------
    RuntimeError  when the server exits or does not answer within ``timeout_s``
        (with its output when ``log`` is given).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    out = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hssim.dashboard.cli", "--port", str(port), "--households", str(households)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    finally:
        if log is not None:
            out.close()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the dashboard server exited ({proc.returncode})" + _tail(log))
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not answer in {timeout_s:.0f} s" + _tail(log))
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text()}" if log is not None else ""
