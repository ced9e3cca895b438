"""A throwaway PostgreSQL 15 + PostGIS cluster for the tests, created and removed by the tests.

``throwaway_postgis()`` runs ``initdb`` in a new temporary folder, starts the server with
``pg_ctl`` on a free port of 127.0.0.1 only (trust authentication, no durability: fsync,
synchronous_commit and full_page_writes are off), creates the database ``border_brief_test``
with the ``postgis`` extension and yields its SQLAlchemy URL::

    # url: postgresql+psycopg://postgres@127.0.0.1:PORT/border_brief_test
    with throwaway_postgis() as url:
        with fresh_database(url, "store_test") as other_url:
            ...

The server is always stopped (``pg_ctl -m immediate stop``) and the folder removed afterwards,
also when the block raises. Nothing else is touched: the distribution's own cluster and
service stay as they are. The binaries come from Debian's ``postgresql-15`` and
``postgresql-15-postgis-3`` (``scripts/setup.sh --test`` installs them).

initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` system user
(or ``nobody`` when there is none) and its programs run through ``runuser``/``setpriv``.
The superuser role is always called ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_MAJOR = "15"
DEBIAN_PACKAGES = f"postgresql-{PG_MAJOR} postgresql-{PG_MAJOR}-postgis-3"
DATABASE = "border_brief_test"
SUPERUSER = "postgres"
# Every database made here is copied from this template, which already holds postgis:
# CREATE DATABASE ... TEMPLATE is much faster than CREATE EXTENSION postgis each time.
TEMPLATE = "postgis_template"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgisUnavailable(RuntimeError):
    """The PostgreSQL binaries or the PostGIS extension are not installed."""


class PostgisURL(str):
    """The database URL (a plain ``str`` for SQLAlchemy), with where the cluster lives."""

    root: Path  # the temporary folder (data directory, socket, log)
    port: int
    bindir: Path

    def __new__(cls, url: str, *, root: Path, port: int, bindir: Path) -> PostgisURL:
        self = super().__new__(cls, url)
        self.root, self.port, self.bindir = root, port, bindir
        return self


def _missing(what: str) -> PostgisUnavailable:
    return PostgisUnavailable(
        f"{what}; the database tests need a real PostgreSQL {PG_MAJOR} with PostGIS. "
        f"Install Debian's {DEBIAN_PACKAGES} (scripts/setup.sh --test does that): "
        f"sudo apt-get install {DEBIAN_PACKAGES}"
    )


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres; raises PostgisUnavailable if absent."""
    candidates = [Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    for bindir in candidates:
        if all(os.access(bindir / prog, os.X_OK) for prog in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise _missing(
        "PostgreSQL's initdb/pg_ctl/postgres were not found in "
        + " or ".join(str(c) for c in candidates)
    )


def _check_postgis(bindir: Path) -> None:
    shares = [Path(f"/usr/share/postgresql/{PG_MAJOR}")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        # pg_config of the same installation knows its share folder.
        pg_config = bindir / "pg_config"
        if pg_config.exists():
            out = subprocess.run(
                [pg_config, "--sharedir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                shares.append(Path(out))
    if not any((share / "extension" / "postgis.control").is_file() for share in shares):
        raise _missing(
            "the PostGIS extension (postgis.control) was not found in "
            + " or ".join(str(s / "extension") for s in shares)
        )


def _cluster_user() -> pwd.struct_passwd | None:
    """The unprivileged account to own the cluster when running as root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            if user.pw_uid != 0:
                return user
    raise PostgisUnavailable(
        "running as root, and neither a 'postgres' nor a 'nobody' user exists to own the "
        "throwaway cluster (initdb refuses to run as root)"
    )


def _as_user(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", user.pw_name, "--", *argv]
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *argv]


def _run(user, argv: list[str], cwd: Path, timeout: float, log: Path | None = None) -> None:
    proc = subprocess.run(
        _as_user(user, argv), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        detail = (proc.stdout + proc.stderr).strip()
        if log is not None and log.exists():
            detail += "\n--- server log ---\n" + log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"{shlex.join(argv)} failed (exit {proc.returncode}):\n{detail}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connect(url: str, dbname: str | None = None):
    """A psycopg autocommit connection to the URL's server (optionally another database)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(str(url))
    return psycopg.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        dbname=dbname or u.database,
        autocommit=True,
        connect_timeout=10,
    )


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(str(url)).set(database=name).render_as_string(hide_password=False)


def _create_database(conn, name: str, template: str | None) -> None:
    from psycopg import sql

    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    conn.execute(query)


def _stop(bindir: Path, user, data: Path, root: Path) -> None:
    """Stop the server however it is (or is not) running; never raises."""
    if (data / "postmaster.pid").exists():
        try:
            _run(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 cwd=root, timeout=30)
        except Exception:
            # Last resort: SIGQUIT is the postmaster's immediate shutdown.
            with contextlib.suppress(Exception):
                pid = int((data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGQUIT)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)


@contextlib.contextmanager
def throwaway_postgis() -> Iterator[PostgisURL]:
    """Start a new PostgreSQL + PostGIS cluster; yield the URL of its ``border_brief_test``."""
    bindir = find_bindir()
    _check_postgis(bindir)
    user = _cluster_user()

    root = Path(tempfile.mkdtemp(prefix="bb-pg-"))
    data, sockdir, log = root / "data", root / "sock", root / "server.log"
    try:
        sockdir.mkdir()
        if user is not None:
            for path in (root, sockdir):
                os.chown(path, user.pw_uid, user.pw_gid)

        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                  "--auth-local=trust", "--auth-host=trust", "--no-sync", "--no-instructions"]
        try:
            _run(user, [*initdb, "--locale=C.UTF-8"], cwd=root, timeout=120)
        except RuntimeError:
            # A C library without the C.UTF-8 locale: plain C sorts bytewise just the same.
            shutil.rmtree(data, ignore_errors=True)
            _run(user, [*initdb, "--locale=C"], cwd=root, timeout=120)

        options = [
            "-c", "listen_addresses=127.0.0.1",
            "-k", str(sockdir),
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]
        for attempt in range(3):  # the free port may be taken between probe and start
            port = _free_port()
            try:
                _run(user, [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                            "-t", "60", "-o", shlex.join(["-p", str(port), *options]), "start"],
                     cwd=root, timeout=90, log=log)
                break
            except RuntimeError:
                _stop(bindir, user, data, root)
                if attempt == 2:
                    raise

        url = PostgisURL(
            f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}",
            root=root, port=port, bindir=bindir,
        )
        with _connect(url, "postgres") as conn:
            _create_database(conn, TEMPLATE, None)
            with _connect(url, TEMPLATE) as tconn:
                tconn.execute("CREATE EXTENSION postgis")
            conn.execute(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
            _create_database(conn, DATABASE, TEMPLATE)
        yield url
    finally:
        _stop(bindir, user, data, root)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(base_url: str, name: str) -> Iterator[str]:
    """Create an empty database ``name`` with postgis next to ``base_url``'s; drop it after.

    Yields its URL. The drop uses ``WITH (FORCE)``, so connections left open (an engine's
    pool) do not keep it alive.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")
    from psycopg import sql

    with _connect(base_url, "postgres") as conn:
        has_template = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", (TEMPLATE,)
        ).fetchone()
        _create_database(conn, name, TEMPLATE if has_template else None)
    try:
        if not has_template:  # a cluster not made by throwaway_postgis()
            with _connect(base_url, name) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield _with_database(base_url, name)
    finally:
        with _connect(base_url, "postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
