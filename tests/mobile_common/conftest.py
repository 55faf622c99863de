"""The real API on a loopback port for the app-side tests, on the SQLite test database.

The apps are tested against one backend: the API's own tests cover PostgreSQL, and what is under test
here is the client (its retries, its session, its outbox), which does not change with the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.config import Settings
from api.db import Database
from api.incidents import service
from tests.conftest import _empty_tables, base_settings
from tests.mobile_common.live_server import LiveServer


@pytest.fixture
def api_database(_databases: dict[str, Database | None]) -> Iterator[Database]:
    """The SQLite test database with incident categories; emptied after the test."""
    database = _databases["sqlite"]
    assert database is not None
    with database.transaction() as session:
        service.sync_categories(db_session=session)
    yield database
    _empty_tables(database)


@pytest.fixture
def api_settings(api_database: Database, tmp_path: Path) -> Settings:
    """Settings of the API under test (media in the test's temp dir)."""
    return base_settings(tmp_path / "api", api_database.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def live_api(api_settings: Settings) -> Iterator[LiveServer]:
    """The whole API served by uvicorn on 127.0.0.1:<free port>."""
    server = LiveServer(lambda: create_app(api_settings)).start()
    yield server
    server.stop()
