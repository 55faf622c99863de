"""Safe City fixtures: categories (reference data is emptied between tests), people of every role, units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from api.config import Settings
from api.core.model import utcnow
from api.db import Database
from api.incidents import service
from api.incidents.models import ResponderUnit
from tests.factories import Person, make_person


@pytest.fixture(autouse=True)
def _categories(request: pytest.FixtureRequest) -> Iterator[None]:
    if "database" in request.fixturenames:
        database: Database = request.getfixturevalue("database")
        with database.transaction() as session:
            service.sync_categories(db_session=session)
    yield


def add_unit(database: Database, code: str, kind: str, lat: float, lng: float, *, readiness: str = "AVAILABLE",
             located_at: dt.datetime | None = None) -> int:
    """Stores a responder unit; returns its id."""
    with database.transaction() as session:
        unit = ResponderUnit(code=code, name=f"Unit {code}", type=kind, readiness=readiness, lat=lat, lng=lng,
                             located_at=located_at or utcnow(), unit_code="31078")
        session.add(unit)
        session.flush()
        return unit.id or 0


@dataclass
class Cast:
    """The people of one test."""

    citizen: Person
    other_citizen: Person
    dispatcher: Person
    police: Person
    responder: Person
    admin: Person
    patrol_id: int
    ambulance_id: int


@pytest.fixture
def cast(database: Database, settings: Settings) -> Cast:
    """Two citizens, a dispatcher, police, an admin, a patrol and an ambulance with a responder of the patrol."""
    patrol = add_unit(database, "PATROL-1", "POLICE_PATROL", 10.2170, 103.9610)
    ambulance = add_unit(database, "AMB-1", "AMBULANCE", 10.2200, 103.9650)
    return Cast(
        citizen=make_person(database, settings, "citizen"),
        other_citizen=make_person(database, settings, "citizen"),
        dispatcher=make_person(database, settings, "dispatcher"),
        police=make_person(database, settings, "police"),
        responder=make_person(database, settings, "responder", responder_unit_id=patrol),
        admin=make_person(database, settings, "admin"),
        patrol_id=patrol, ambulance_id=ambulance,
    )


def gid(type_name: str, pk: Any) -> str:
    """A global id."""
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()
