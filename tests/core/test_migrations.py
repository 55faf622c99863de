"""Migrations give exactly the models' schema, on SQLite and PostgreSQL, and can go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from api import migrate
from api.db import Database, load_models
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
