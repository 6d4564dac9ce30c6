"""What every hssim command shares: one-line errors, signals, run folders, limits.

* :func:`fail` prints a user error as one line and exits 2 (``--debug`` or
  ``HSSIM_DEBUG=1`` re-raises it instead, with its traceback).
* :func:`handle_signals` turns SIGTERM into :class:`Terminated`, a
  ``KeyboardInterrupt``, so Ctrl-C and a scheduler's kill both unwind through the
  same ``except`` clauses; :func:`interrupted` then says what was kept and exits
  130 (SIGINT) or 143 (SIGTERM).
* :class:`RunFolder` is an output folder a command *claimed*: created by it, or
  found empty, and marked with an exclusively created ``.hssim-run`` file so that
  two runs never share it. A failed run removes only the files it wrote and only
  the folders it made, and only when they are empty afterwards: it never deletes
  anything it did not create.
* :func:`check_memory`, :func:`check_disk` and :func:`check_name` refuse, before
  any work, jobs that cannot fit and names that would leave the working folder.
* :func:`die_with_parent` makes worker processes exit when their parent dies
  (even of ``kill -9``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, NoReturn

from .errors import ConfigError, UserError

__all__ = [
    "EXIT_USER_ERROR", "EXIT_INTERRUPTED", "EXIT_TERMINATED", "MARKER",
    "Terminated", "debug", "take_debug", "fail", "handle_signals", "interrupted", "RunFolder",
    "check_memory", "check_disk", "check_name", "available_memory_bytes", "die_with_parent",
    "os_error_message",
]

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
#: the file that marks a folder as claimed by one hssim command, with its state
MARKER = ".hssim-run"
#: errors of the file system that are the user's environment, not a bug
_ENV_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT,
               errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST}


def debug() -> bool:
    """True when ``--debug`` or ``HSSIM_DEBUG=1`` asks for tracebacks."""
    return os.environ.get("HSSIM_DEBUG", "") not in ("", "0")


def take_debug(argv: list[str]) -> list[str]:
    """``argv`` without ``--debug``; when it was there, ``HSSIM_DEBUG=1`` is set (:func:`debug`)."""
    if "--debug" in argv:
        os.environ["HSSIM_DEBUG"] = "1"
        return [a for a in argv if a != "--debug"]
    return list(argv)


def fail(exc: BaseException, prog: str = "hssim") -> NoReturn:
    """Print ``prog: error: <exc>`` and exit 2 (re-raise under ``--debug``)."""
    if debug():
        raise exc
    print(f"{prog}: error: {exc}", file=sys.stderr, flush=True)
    sys.exit(EXIT_USER_ERROR)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's ``KeyboardInterrupt``."""


def _on_sigterm(signum, frame) -> None:  # pragma: no cover - exercised in subprocess tests
    raise Terminated()


def handle_signals() -> None:
    """Raise :class:`Terminated` on SIGTERM (from the main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def interrupted(exc: KeyboardInterrupt, prog: str, kept: str) -> NoReturn:
    """One line on what an interruption kept (and how to resume), then exit 130 or 143."""
    code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    if debug():
        raise exc
    what = "terminated (SIGTERM)" if code == EXIT_TERMINATED else "interrupted (Ctrl-C)"
    print(f"\n{prog}: {what}; {kept}", file=sys.stderr, flush=True)
    sys.exit(code)


def os_error_message(exc: OSError, what: str) -> UserError | None:
    """A :class:`UserError` for a file-system error of the user's environment, else None."""
    if getattr(exc, "errno", None) in _ENV_ERRNOS:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return UserError(f"{what}:{where}: {exc.strerror or exc}")
    return None


# -- run folders -----------------------------------------------------------------------------------------------


class RunFolder:
    """An output folder claimed by this process.

    Claiming creates the folder (with the parents it lacks) or accepts an existing
    empty one, then creates :data:`MARKER` with ``O_EXCL``: a second process that
    claims the same folder fails on that file, so two runs never write into one
    folder. ``created`` tells whether this process made the folder; ``made`` lists
    every folder it made, deepest first.
    """

    def __init__(self, path: Path, created: bool, made: list[Path], tool: str):
        self.path, self.created, self.made, self.tool = path, created, made, tool

    # construction ---------------------------------------------------------------------------------------------
    @classmethod
    def claim(cls, path: str | os.PathLike, tool: str, unique: bool = False, field: str = "output folder",
              allowed: Iterable[str] = ()) -> RunFolder:
        """Claim ``path`` for a run of ``tool``.

        Parameters
        ----------
        path : the folder
        tool : the command's name, recorded in the marker
        unique : when ``path`` is taken, try ``path-1``, ``path-2``, ... (for folders
            named after the clock, where runs started in the same second collide);
            otherwise a taken folder is refused
        field : how the user set the folder, named in errors (e.g. ``hydra.run.dir``)
        allowed : entries a fresh folder may already hold (e.g. ``.hydra``, written by
            Hydra for this very job)

        Raises
        ------
        UserError  when the folder exists and is not empty, is a file, or cannot be
            created or written.
        """
        base = Path(path)
        allowed = set(allowed)
        for k in range(10_000 if unique else 1):
            p = base if k == 0 else base.with_name(f"{base.name}-{k}")
            try:
                made = _mkdirs(p)
            except FileExistsError:
                if unique:
                    continue
                raise UserError(f"{field} '{p}' exists and is not a folder") from None
            except OSError as exc:
                raise os_error_message(exc, f"cannot create {field} '{p}'") or exc from None
            created = p in made
            if not created:
                if not p.is_dir():
                    raise UserError(f"{field} '{p}' exists and is not a folder")
                try:
                    extra = [e for e in os.listdir(p) if e not in allowed]
                except OSError as exc:
                    raise os_error_message(exc, f"cannot read {field} '{p}'") or exc from None
                if extra:
                    if unique:
                        continue
                    raise UserError(f"{field} '{p}' exists and is not empty (it holds {_names(extra)}); "
                                    "choose a new folder: hssim never writes into, or deletes, a folder it did not make")
            folder = cls(p, created, made, tool)
            try:
                fd = os.open(p / MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                folder._remove_made()
                if unique:
                    continue
                raise UserError(f"{field} '{p}' is in use by another hssim run") from None
            except OSError as exc:
                folder._remove_made()
                raise os_error_message(exc, f"cannot write into {field} '{p}'") or exc from None
            with os.fdopen(fd, "w") as f:
                f.write(folder._marker_text("running"))
            return folder
        raise UserError(f"{field}: no free folder name next to '{base}'")  # pragma: no cover

    @classmethod
    def reopen(cls, path: str | os.PathLike, tool: str) -> RunFolder:
        """Take up a folder this tool made before (to resume it): refused while another
        live process is running in it."""
        p = Path(path)
        if not p.is_dir():
            raise UserError(f"'{p}' is not a folder; nothing to resume")
        try:
            doc = json.loads((p / MARKER).read_text())
        except (OSError, ValueError):
            doc = {}
        pid = doc.get("pid") if isinstance(doc, dict) else None
        if isinstance(doc, dict) and doc.get("status") == "running" and isinstance(pid, int) and pid != os.getpid():
            try:
                os.kill(pid, 0)
                alive = True
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
            if alive:
                raise UserError(f"'{p}' is in use by a running {doc.get('tool', 'hssim')} (pid {pid})")
        folder = cls(p, False, [], tool)
        folder.mark("running")
        return folder

    # state ----------------------------------------------------------------------------------------------------
    def _marker_text(self, status: str, note: str = "") -> str:
        data = {"tool": self.tool, "status": status, "pid": os.getpid(),
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "created_by_this_run": self.created}
        if note:
            data["note"] = note
        return json.dumps(data, indent=2) + "\n"

    def mark(self, status: str, note: str = "") -> None:
        """Record ``status`` (``complete`` or ``incomplete``) in the marker."""
        try:
            tmp = self.path / f"{MARKER}.tmp"
            tmp.write_text(self._marker_text(status, note))
            os.replace(tmp, self.path / MARKER)
        except OSError:
            pass  # the marker is a courtesy; a full disk must not hide the real error

    def discard(self, written: Iterable[str | os.PathLike] = ()) -> bool:
        """Undo the claim: remove the files in ``written`` (relative to the folder or
        absolute) and the marker, then the folders this process made, each only if
        empty. Returns True when nothing of this run is left."""
        for w in written:
            q = Path(w)
            q = q if q.is_absolute() else self.path / q
            try:
                if q.is_dir() and not q.is_symlink():
                    q.rmdir()
                else:
                    q.unlink(missing_ok=True)
            except OSError:
                pass
        (self.path / MARKER).unlink(missing_ok=True)
        (self.path / f"{MARKER}.tmp").unlink(missing_ok=True)
        return self._remove_made()

    def _remove_made(self) -> bool:
        for d in self.made:
            try:
                d.rmdir()  # only when empty: never a recursive delete
            except OSError:
                return False
        return True


def _names(entries: list[str], k: int = 3) -> str:
    shown = ", ".join(repr(e) for e in sorted(entries)[:k])
    return shown + (f" and {len(entries) - k} more" if len(entries) > k else "")


def _mkdirs(p: Path) -> list[Path]:
    """Create ``p`` and its missing parents; the folders made, deepest first.

    Raises FileExistsError when ``p`` exists as a file. An existing folder is not
    an error: the list is then empty.
    """
    missing = []
    q = p
    while not q.exists():
        missing.append(q)
        if q.parent == q:
            break
        q = q.parent
    made = []
    for d in reversed(missing):
        try:
            os.mkdir(d)
            made.append(d)
        except FileExistsError:
            if not d.is_dir():
                raise
            # a concurrent process made it first: it is not ours (not in ``made``)
    if p.exists() and not p.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a folder", str(p))
    return list(reversed(made))


# -- limits checked before any work ----------------------------------------------------------------------------


def available_memory_bytes() -> int:
    """Memory available to a new job: ``MemAvailable`` from /proc/meminfo, else physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):  # pragma: no cover
        return 1 << 62


def _gib(b: float) -> str:
    return f"{b / 2**30:.1f} GiB"


def check_memory(needed_bytes: float, what: str, fields: str) -> None:
    """Refuse a job whose estimated memory exceeds what the machine has available.

    ``what`` says what is being sized; ``fields`` names the settings that size it,
    so the user knows what to reduce. ``HSSIM_MEMORY_LIMIT_GB`` overrides the
    available memory (for tests and shared nodes).
    """
    limit = os.environ.get("HSSIM_MEMORY_LIMIT_GB")
    avail = float(limit) * 2**30 if limit else float(available_memory_bytes())
    if needed_bytes > avail:
        raise UserError(f"{what} needs about {_gib(needed_bytes)} of memory, more than the {_gib(avail)} available; "
                        f"reduce {fields}")


def check_disk(path: str | os.PathLike, needed_bytes: float, what: str) -> None:
    """Refuse when the file system holding ``path`` has less free space than ``needed_bytes``."""
    import shutil

    p = Path(path)
    while not p.exists() and p.parent != p:
        p = p.parent
    try:
        free = shutil.disk_usage(p).free
    except OSError:
        return
    if free < needed_bytes:
        raise UserError(f"{what} needs about {needed_bytes / 2**20:.0f} MiB of disk, "
                        f"only {free / 2**20:.0f} MiB free at '{p}'")


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")


def check_name(field: str, value: str) -> str:
    """A name used as a folder name: letters, digits, ``_ . + -``, not starting with a dot
    or a separator, at most 100 characters, so it can never leave its parent folder."""
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
        raise ConfigError(field, value, "a name of letters, digits, '_', '.', '+' or '-' (at most 100, "
                                        "not starting with '.', no '..' or '/'): it names a folder")
    return value


# -- worker processes ------------------------------------------------------------------------------------------


def die_with_parent(parent: int | None = None) -> None:
    """Make this (worker) process exit when its parent process dies.

    Linux delivers SIGTERM at the parent's death (``PR_SET_PDEATHSIG``); a watchdog
    thread that polls the parent's pid covers other systems and the case where the
    parent's thread that started the worker ended first. Call it in a pool's
    initializer, with ``parent`` the pid of the process that made the pool (pass
    ``os.getpid()`` in the pool's ``initargs``): a worker whose parent died before its
    initializer ran has already been re-parented, and without the expected pid it
    would watch its new parent instead.
    """
    if parent is None:
        parent = os.getppid()
    elif os.getppid() != parent:  # the parent died before this worker started
        os._exit(EXIT_TERMINATED)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # pragma: no cover - the parent died before prctl took effect
        os._exit(EXIT_TERMINATED)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(EXIT_TERMINATED)

    threading.Thread(target=watch, name="hssim-parent-watch", daemon=True).start()
