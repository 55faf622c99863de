"""Fixtures: every database test runs on SQLite and again on PostgreSQL (required when CI is set)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import SQLModel

from api.app import create_app
from api.config import Settings, load_settings
from api.core.budget import CostBudget
from api.core.bus import InProcessBus
from api.core.state import AppState
from api.db import Database, load_models

IN_CI = bool(os.environ.get("CI"))
PG_ADMIN_URL = os.environ.get("SMARTCITY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SMARTCITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
# Reference data is loaded once per test session and kept; everything else is emptied after each test.
KEEP_TABLES = {"alembic_version", "administrative_unit", "apscheduler_jobs"}


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skips outside CI when a service is down; fails in CI, where it is required."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it (start it: see shared/ARCHITECTURE.md)")
    pytest.skip(message)


def base_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: test environment, temp media, readable logs."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "media_dir": tmp / "media",
        "log_json": False,
        "graphiql": False,
        "anonymous_introspection": True,
        "default_cost_budget": 1_000_000,
        "cost_refill_per_second": 1_000_000.0,
        # gc.freeze() per app start would pin every earlier test's objects in this one long process
        "gc_tuning": False,
    }
    values.update(overrides)
    return load_settings(**values)


def _create_pg_database() -> str:
    import psycopg

    name = f"smartcity_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg_database(name: str) -> None:
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(name: str) -> str:
    """The URL of a test database on the local PostgreSQL."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database | None]]:
    from api import migrate
    from api.cli import upgrade_and_load_reference

    load_models()
    tmp = tmp_path_factory.mktemp("db")
    made: dict[str, Database | None] = {"sqlite": None, "postgres": None}
    pg_name = None
    sqlite_url = f"sqlite:///{tmp / 'test.db'}"
    upgrade_and_load_reference(base_settings(tmp, sqlite_url))
    made["sqlite"] = Database.from_settings(base_settings(tmp, sqlite_url))
    if port_open("127.0.0.1", 5432):
        pg_name = _create_pg_database()
        upgrade_and_load_reference(base_settings(tmp, pg_url(pg_name)))
        made["postgres"] = Database.from_settings(base_settings(tmp, pg_url(pg_name)))
    assert migrate  # migrations ran through the same path as `smartcity db upgrade`
    yield made
    for database in made.values():
        if database is not None:
            database.dispose()
    if pg_name:
        _drop_pg_database(pg_name)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run."""
    if request.param == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
    return str(request.param)


def _empty_tables(database: Database) -> None:
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    # DELETE, children first: for the few rows a test leaves it is several times cheaper than TRUNCATE,
    # whose fixed cost per table dominated the PostgreSQL runs.
    with database.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def database(backend: str, _databases: dict[str, Database | None]) -> Iterator[Database]:
    """The test database of this backend, emptied (but for reference data) after the test."""
    db = _databases[backend]
    assert db is not None, f"{backend} database was not created"
    yield db
    _empty_tables(db)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    """Test settings bound to the backend's database."""
    return base_settings(tmp_path, database.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def state(settings: Settings, database: Database) -> AppState:
    """Process services for one test, sharing the backend's engine."""
    return AppState(
        settings=settings, db=database, bus=InProcessBus(),
        budget=CostBudget(settings.default_cost_budget, settings.cost_refill_per_second),
    )


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the whole app in-process (lifespan included)."""
    app = create_app(state.settings, state=state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


async def gql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Posts a GraphQL operation and returns the decoded JSON body."""
    all_headers = dict(headers or {})
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers)
    body: dict[str, Any] = response.json()
    body["_status"] = response.status_code
    return body
