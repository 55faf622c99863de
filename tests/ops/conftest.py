"""Browser-test fixtures: one live API per module on SQLite, one Chromium per session, a fresh page per test.

The console is a client of the API; the API's own tests already run every query on SQLite and PostgreSQL,
so these run on SQLite only, which keeps the browser suite within its time budget."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.config import Settings
from api.core.model import utcnow
from api.db import Database
from api.incidents import service
from api.incidents.models import ResponderUnit
from tests.conftest import _empty_tables, base_settings
from tests.factories import PASSWORD, Person, make_person
from tests.ops.harness import LiveServer, chromium, live_server

ROOT = Path(__file__).resolve().parents[2]
# The gallery in docs/ is refreshed on request (SMARTCITY_SCREENSHOTS=docs); otherwise the tests still take
# every screenshot, into a temporary folder, so a test run leaves the work tree clean.
SCREENSHOTS = (ROOT / "docs" / "ops-console" if os.environ.get("SMARTCITY_SCREENSHOTS") == "docs"
               else Path(tempfile.gettempdir()) / "smartcity-screenshots" / "ops-console")
PHU_QUOC = {"lat": 10.2170, "lng": 103.9600}
REPORT = """mutation($input: ReportIncidentInput!) { reportIncident(input: $input) {
  incident { id state priority category reportCount } attachedToExisting errors { field code message } } }"""


@dataclass
class Ops:
    """One test's world: the live server, its people and units."""

    server: LiveServer
    database: Database
    settings: Settings
    dispatcher: Person
    citizen: Person
    unit_ids: list[int]

    def report(self, category: str = "THEFT", location: dict[str, float] | None = None, **extra: Any) -> dict[str, Any]:
        """Files a report through the API as the citizen; returns the incident."""
        values = {"category": category, "description": "Bị giật túi xách ở chợ đêm", "location": location or PHU_QUOC,
                  "idempotencyKey": str(uuid.uuid4()), **extra}
        payload = self.server.gql(REPORT, {"input": values}, token=self.citizen.token)["reportIncident"]
        assert payload["errors"] == [], payload
        return dict(payload["incident"])

    def person(self, role: str) -> Person:
        """Another account of the given role."""
        return make_person(self.database, self.settings, role)


@pytest.fixture(scope="module")
def _server(_databases: dict[str, Database | None], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[LiveServer, Database, Settings]]:
    database = _databases["sqlite"]
    assert database is not None
    settings = base_settings(tmp_path_factory.mktemp("ops"), database.engine.url.render_as_string(hide_password=False),
                             access_token_ttl_seconds=120)
    with live_server(settings, database) as server:
        yield server, database, settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package) for one test module. Not for the session: while Playwright's
    sync API is alive its event loop counts as running in the main thread, and later tests elsewhere that
    call asyncio.run() (firebase-admin's close does) would fail."""
    with chromium() as b:
        yield b


@pytest.fixture
def ops(_server: tuple[LiveServer, Database, Settings]) -> Iterator[Ops]:
    """People and two units around Dương Đông; every table but reference data emptied afterwards."""
    server, database, settings = _server
    with database.transaction() as session:
        service.sync_categories(db_session=session)
        units = [
            ResponderUnit(code="CSTT-01", name="Tổ tuần tra 141 Dương Đông", type="POLICE_PATROL", readiness="AVAILABLE",
                          lat=10.2160, lng=103.9620, located_at=utcnow(), unit_code="31078"),
            ResponderUnit(code="CSDL-01", name="Cảnh sát du lịch Chợ đêm", type="TOURIST_POLICE", readiness="AVAILABLE",
                          lat=10.2140, lng=103.9585, located_at=utcnow(), unit_code="31078"),
            ResponderUnit(code="CC-115-01", name="Xe cứu thương 115", type="AMBULANCE", readiness="BUSY",
                          lat=10.2220, lng=103.9670, located_at=utcnow(), unit_code="31078"),
        ]
        session.add_all(units)
        session.flush()
        unit_ids = [u.id or 0 for u in units]
    world = Ops(server=server, database=database, settings=settings,
                dispatcher=make_person(database, settings, "dispatcher"),
                citizen=make_person(database, settings, "citizen"), unit_ids=unit_ids)
    yield world
    _empty_tables(database)


@pytest.fixture
def page(browser: Any, ops: Ops) -> Iterator[Any]:
    """A fresh browser context (its own sessionStorage) at 1600 x 900; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="vi-VN")
    context.set_default_timeout(5000)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    p.errors = errors
    yield p
    context.close()
    assert errors == [], errors


def sign_in(page: Any, ops: Ops, person: Person | None = None, path: str = "/ops") -> None:
    """Opens the console and signs in through the form."""
    person = person or ops.dispatcher
    page.goto(ops.server.base_url + path)
    page.fill("input[name=username]", person.phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.signin button[type=submit]")
    page.wait_for_function("() => window.opsConsole && window.opsConsole.ws.status === 'live'", timeout=10_000)


def shot(page: Any, name: str, **kwargs: Any) -> Path:
    """Writes a screenshot to docs/ops-console/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), **kwargs)
    return path
