"""PostgreSQL connections are checked before use when they sat idle, so a restarted or killed backend
costs no request an error."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from api import db as db_module
from api.db import Database
from tests.conftest import PG_ADMIN_URL


def _kill_backends(database_name: str) -> int:
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database_name,)).fetchone()[0]


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite has no server connection to lose
def test_an_idle_connection_whose_backend_died_is_replaced_before_use(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a pooled connection, then its server process killed (as a PostgreSQL restart would)
    with database.engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    assert _kill_backends(database.engine.url.database) >= 1
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # "idle for long enough"
    # when
    try:
        with database.engine.connect() as conn:
            value = conn.execute(text("SELECT 1")).scalar()
            new_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    finally:
        database.engine.dispose()  # the other pooled connections died too: do not hand them to later tests
    # then: no error reached the caller; it got a fresh connection
    assert value == 1 and new_backend != backend


@pytest.mark.parametrize("backend", ["postgres"])
def test_only_connections_idle_for_a_while_are_pinged(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the dialect's ping counted (it is what pool_pre_ping would run on every checkout)
    pings = []
    real_ping = database.engine.dialect.do_ping
    monkeypatch.setattr(database.engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    # when: three checkouts in a row, then one after the connection "sat idle"
    for _ in range(3):
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    busy = len(pings)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    with database.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    # then
    assert busy == 0 and len(pings) == 1
