"""Engine and sessions: SQLite (WAL, foreign keys) by default, PostgreSQL through SMARTCITY_DATABASE_URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, create_engine

from api.config import ConfigError, Settings


def normalise_url(url: str) -> str:
    """Selects psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """Creates the engine for the configured database."""
    url_text = normalise_url(settings.database_url)
    try:
        url = make_url(url_text)
    except ArgumentError:
        raise ConfigError(f"invalid setting SMARTCITY_DATABASE_URL: cannot parse {url_text!r}") from None
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite connections are cheap files handles: let the pool grow rather than make a request wait.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10, max_overflow=-1,
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql":
        options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=UTC"
        engine = create_engine(
            url,
            connect_args={"options": options, "connect_timeout": 5},
            pool_size=kwargs.pop("pool_size", 10),
            max_overflow=kwargs.pop("max_overflow", 20),
            **kwargs,
        )
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
        return engine
    raise ConfigError(f"invalid setting SMARTCITY_DATABASE_URL: unsupported database {url.get_backend_name()!r}")


# pool_pre_ping costs a round trip on every checkout (two per request here) while the event loop waits.
# A connection used within the last few seconds is alive but for a server restart in that instant; one
# idle longer is pinged, and a dead one is replaced before the request sees it.
PING_AFTER_IDLE_SECONDS = 5.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in = record.info.get("checked_in_at")
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
        return  # new (just connected) or recently used
    try:
        dialect.do_ping(dbapi_connection)  # what pool_pre_ping runs: an empty query outside a transaction
    except Exception as exc:  # any failure means this connection cannot be trusted
        raise DisconnectionError(f"stale connection: {exc}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to the "begin" listener above.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Reads take a deferred BEGIN (WAL readers never block). Writes ask for IMMEDIATE so the write lock is
    # taken up front: a deferred reader that later writes can fail with SQLITE_BUSY_SNAPSHOT instead of
    # waiting. Write transactions never span an await, so they cannot deadlock the event loop.
    mode = conn.get_execution_options().get("sqlite_begin")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def begin_write(session: Session) -> None:
    """Starts the session's transaction as a write transaction (SQLite: take the write lock now)."""
    if session.in_transaction():
        session.rollback()  # a read snapshot from earlier in the request; nothing written to lose
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


_INSERTS: dict[Any, Any] = {}


def insert_row(session: Session, row: Any) -> None:
    """Stores a new row with one INSERT .. RETURNING id on the session's connection and makes it a persistent
    row of the session, as a flush would, but without the unit of work: a statement built once per table
    (compiled once), no change tracking for a row known to be exactly what was sent. For rows written on hot
    paths (a report's incident, events). Rows added but not yet flushed are flushed first, as the row may
    refer to them."""
    table = type(row).__table__
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = table.insert().returning(table.c.id)
    if session.new:
        session.flush()  # rows added the usual way that this one may refer to
    values = {c.key: getattr(row, c.key) for c in table.columns if c.key != "id"}
    row.id = session.connection().execute(stmt, values).scalar_one()
    make_transient_to_detached(row)  # history reset: loaded, not pending
    session.add(row)


def check_database(engine: Engine) -> None:
    """Fails with one clear line when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot reach the database at {where}: {reason}") from None


class Database:
    """The engine and a session factory; one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Creates the process's database handle."""
        return cls(make_engine(settings))

    def session(self) -> Session:
        """A new session; the caller commits or rolls back and closes it."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on error."""
        with self.session() as session:
            begin_write(session)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def capacity(self) -> int:
        """How many connections the pool can hand out at once (a large number where it grows freely)."""
        pool = self.engine.pool
        overflow = getattr(pool, "_max_overflow", 0)
        size = pool.size() if hasattr(pool, "size") else 1
        return 256 if overflow < 0 else max(1, size + overflow)

    @property
    def is_postgres(self) -> bool:
        """Whether the database is PostgreSQL."""
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        """Closes pooled connections."""
        self.engine.dispose()


def load_models() -> None:
    """Imports every domain's models module so SQLModel.metadata holds all tables."""
    import importlib
    import pkgutil

    import api
    import api.core.audit  # noqa: F401  (audit records)
    import api.core.lease  # noqa: F401  (job leases)

    for module in pkgutil.iter_modules(api.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"api.{module.name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"api.{module.name}.models":
                    raise
