"""Engines and migrations: the store's connection to SQLite or PostgreSQL + PostGIS."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the app read while an analyst writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below starts them


def _begin_immediate(connection: sa.Connection) -> None:
    # A write transaction takes SQLite's write lock at once: two writers queue (up to
    # the busy timeout) instead of failing when a read transaction turns into a write.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engines(url: str) -> tuple[sa.Engine, sa.Engine]:
    """(reader, writer) engines for ``url``; an SQLite file's folder is created if missing.

    On PostgreSQL both are the same engine (its row locks and unique constraints
    decide races); on SQLite the writer begins every transaction IMMEDIATE.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(url, pool_pre_ping=True)
        return engine, engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    reader = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(reader, "connect", _sqlite_pragmas)
    writer = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(writer, "connect", _sqlite_pragmas)
    sa.event.listen(writer, "connect", _sqlite_manual_transactions)
    sa.event.listen(writer, "begin", _begin_immediate)
    return reader, writer


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine) -> None:
    """Create the store, or bring its schema to the latest migration."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def schema_is_current(engine: sa.Engine) -> bool:
    """True when the database carries the latest migration."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    return current == head
