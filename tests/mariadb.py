"""A throw-away MariaDB server for tests: its own data folder, a unix socket, no network.

Used where several processes share state through a real database server (the shared
Optuna study of ``hssim-calibrate``). Needs Debian's ``mariadb-server`` (``mariadbd``,
``mariadb-install-db``, ``mariadb-admin``, ``mariadb``) and root (the server runs as root
with ``--user=root``, as ``.ci/slurm.sh`` runs the Slurm accounting database).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

PROGRAMS = ("mariadbd", "mariadb-install-db", "mariadb-admin", "mariadb")
INSTALL_HINT = "apt-get install -y mariadb-server"
#: a small server: the tests store a few hundred rows
SMALL = ("--innodb-log-file-size=8M", "--innodb-autoextend-increment=4", "--innodb-use-native-aio=0")


def mariadb_available() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        return f"MariaDB not installed ({', '.join(missing)} missing): {INSTALL_HINT}"
    if os.geteuid() != 0:
        return "the test MariaDB server runs as root (like .ci/slurm.sh); not root here"
    return None


class MariaDB:
    """A running server; :meth:`url` gives an SQLAlchemy URL for a database and user."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        # a unix socket path is limited to 107 bytes
        self.socket = self.root / "mysqld.sock"
        if len(str(self.socket)) > 100:
            self.socket = Path("/tmp") / f"hssim-mariadb-{os.getpid()}.sock"
        self.pid_file = self.root / "mysqld.pid"
        self.proc: subprocess.Popen | None = None

    @classmethod
    def start(cls, root: Path, timeout: float = 120) -> MariaDB:
        db = cls(root)
        db.root.mkdir(parents=True, exist_ok=True)
        # its own tmpdir: a MariaDB starting up deletes the #sql* temporary files in its
        # tmpdir, with the default /tmp those of another instance bootstrapping beside it
        tmp = db.root / "tmp"
        tmp.mkdir(exist_ok=True)
        log = db.root / "install.log"
        with open(log, "w") as fh:
            r = subprocess.run(["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={db.data}", f"--tmpdir={tmp}",
                                "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve",
                                *SMALL], stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {log.read_text()[-2000:]}")
        db.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=root", f"--datadir={db.data}", f"--tmpdir={tmp}", f"--socket={db.socket}",
             f"--pid-file={db.pid_file}", f"--log-error={db.root / 'mysqld.err'}", "--skip-networking",
             "--skip-name-resolve", *SMALL],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if db.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(db.root / 'mysqld.err').read_text()[-2000:]}")
            ok = subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={db.socket}", "-uroot", "ping"],
                                capture_output=True, timeout=30)
            if ok.returncode == 0:
                return db
            time.sleep(0.5)
        db.stop()
        raise RuntimeError(f"MariaDB did not answer on {db.socket} within {timeout:.0f} s")

    def sql(self, statement: str) -> str:
        r = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-e", statement],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{statement!r}: {r.stderr.strip()}")
        return r.stdout

    def create_database(self, name: str, user: str, password: str) -> str:
        """A database and a user with every right on it; returns its SQLAlchemy URL (PyMySQL)."""
        self.sql(f"CREATE DATABASE `{name}`; CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'; "
                 f"GRANT ALL ON `{name}`.* TO '{user}'@'localhost'; FLUSH PRIVILEGES;")
        return f"mysql+pymysql://{user}:{password}@localhost/{name}?unix_socket={self.socket}"

    def stop(self, timeout: float = 60) -> None:
        if self.proc is None:
            return
        subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.socket}", "-uroot", "shutdown"],
                       capture_output=True, timeout=timeout)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
