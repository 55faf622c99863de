"""A camera rule marked to raise an incident puts an incident on the CAMERA channel in the operators' queue."""

from __future__ import annotations

import threading

from sqlmodel import select

from api.cameras.models import CameraEvent
from api.config import Settings
from api.core.bus import InProcessBus
from api.db import Database
from api.incidents.camera_bridge import raise_job
from api.incidents.models import Incident
from tests.cameras.factories import make_camera, observed, record
from workers.jobs import JobContext


def test_a_camera_event_marked_to_raise_one_becomes_a_camera_incident_once(
    database: Database, settings: Settings
) -> None:
    # given: a red-light event marked to raise an incident, and a counting event that is not
    camera = make_camera(database)
    raising = record(database, camera.id, observed())
    record(database, camera.id, observed("count_east", "tripwire", raises_incident=False))
    context = JobContext(db=database, bus=InProcessBus(), settings=settings, stopping=threading.Event())
    # when: the job runs twice (as after a restart)
    first = raise_job(context)
    second = raise_job(context)
    # then
    assert (first, second) == (1, 0)
    with database.session() as session:
        incidents = list(session.scalars(select(Incident)))
        event = session.get(CameraEvent, raising)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.channel == "CAMERA" and incident.category == "PUBLIC_ORDER"
    assert (incident.lat, incident.lng, incident.unit_code) == (camera.lat, camera.lng, "31078")
    assert "PQ-T90" in (incident.description or "") and "red light" in (incident.description or "")
    assert event is not None and event.incident_id == incident.id
