"""Migrations give exactly the models' schema, on SQLite and PostgreSQL, and can go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from api import migrate
from api.db import Database, load_models
from api.identity.models import Account
from api.notifications.models import Device, OutboxMessage
from tests.conftest import _create_pg_database, _drop_pg_database, base_settings, pg_url, require_service


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):
    """A database with nothing in it."""
    if request.param == "sqlite":
        db = Database.from_settings(base_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}"))
        yield db
        db.dispose()
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = _create_pg_database()
    db = Database.from_settings(base_settings(tmp_path, pg_url(name)))
    try:
        yield db
    finally:
        db.dispose()
        _drop_pg_database(name)


def _differences(db: Database) -> list:
    from api.migrate import include_object  # the same filter autogenerate uses

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, SQLModel.metadata)


def test_upgrade_from_empty_gives_exactly_the_models_schema(empty_database: Database) -> None:
    # given
    load_models()
    # when
    migrate.upgrade(empty_database.engine)
    # then
    assert _differences(empty_database) == []
    tables = set(inspect(empty_database.engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables


def test_downgrade_to_base_then_upgrade_again(empty_database: Database) -> None:
    # given
    load_models()
    migrate.upgrade(empty_database.engine)
    # when
    migrate.downgrade(empty_database.engine, "base")
    remaining = set(inspect(empty_database.engine).get_table_names()) - {"alembic_version"}
    migrate.upgrade(empty_database.engine)
    # then
    assert remaining == set()
    assert _differences(empty_database) == []


BEFORE_BIGINT = "06f21dbe9de5"  # the head before 248d22c9e538 (outbox bigint id)


def _pg_types(db: Database) -> tuple[str, str, str]:
    """outbox_message.id's type, its sequence's type, and a referring test column's type."""
    with db.engine.connect() as conn:
        def column(table: str, name: str) -> str:
            return conn.execute(text(
                "SELECT data_type FROM information_schema.columns WHERE table_name = :t AND column_name = :c"
            ), {"t": table, "c": name}).scalar_one()

        sequence = conn.execute(text(
            "SELECT format_type(s.seqtypid, NULL) FROM pg_sequence s"
            " WHERE s.seqrelid = pg_get_serial_sequence('outbox_message', 'id')::regclass"
        )).scalar_one()
        return column("outbox_message", "id"), sequence, column("outbox_receipt", "outbox_id")


def test_the_outbox_id_becomes_64_bit_from_the_previous_head_and_back(empty_database: Database) -> None:
    # given: the schema of the previous head, with a (deployment's own) table referring to the outbox
    load_models()
    db = empty_database
    migrate.upgrade(db.engine, BEFORE_BIGINT)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE outbox_receipt (id INTEGER PRIMARY KEY,"
                          " outbox_id INTEGER REFERENCES outbox_message (id))"))
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        assert _pg_types(db) == ("integer", "integer", "integer")

    # when
    migrate.upgrade(db.engine)

    # then: ids past 2^31 fit in the column, the sequence and what refers to it
    if postgres:
        assert _pg_types(db) == ("bigint", "bigint", "bigint")
    big = 3_000_000_000
    with db.transaction() as session:
        if postgres:  # the next id the sequence gives is past 2^31
            session.execute(text("SELECT setval(pg_get_serial_sequence('outbox_message', 'id'), :v)"), {"v": big})
        account = Account(full_name="Người Thử", password_hash="-")
        session.add(account)
        session.flush()
        device = Device(account_id=account.id or 0, token="migration-test", platform="ANDROID")
        session.add(device)
        session.flush()
        row = OutboxMessage(id=None if postgres else big + 1, device_id=device.id or 0, token=device.token,
                            language="vi", template="generic_alert", title="t", body="b")
        session.add(row)
        session.flush()
        session.execute(text("INSERT INTO outbox_receipt (id, outbox_id) VALUES (1, :id)"), {"id": row.id})
    assert row.id == big + 1
    with db.session() as session:
        assert session.get(OutboxMessage, big + 1) is not None

    # when: back down (emptied first: an id past 2^31 cannot go back to 32 bits)
    with db.engine.begin() as conn:
        for table in ("outbox_receipt", "outbox_message", "device", "account"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)
        if postgres:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('outbox_message', 'id'), 1)"))
    migrate.downgrade(db.engine, BEFORE_BIGINT)

    # then
    if postgres:
        assert _pg_types(db) == ("integer", "integer", "integer")
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE outbox_receipt"))
    migrate.upgrade(db.engine)
    assert _differences(db) == []
