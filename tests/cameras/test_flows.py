"""Recording worker events: idempotent, closed by `end`, traffic violations for traffic offences."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.cameras import flows
from api.cameras.models import CameraEvent, TrafficViolation
from api.db import Database
from tests.cameras.factories import make_camera, observed, record


def _rows(database: Database, model: type) -> list:
    with database.session() as session:
        return list(session.scalars(select(model)))


def test_the_same_transition_twice_is_one_event(database: Database) -> None:
    # given
    camera = make_camera(database)
    event = observed()
    # when
    first = record(database, camera.id, event)
    second = record(database, camera.id, event)
    # then
    assert first == second
    assert len(_rows(database, CameraEvent)) == 1
    assert len(_rows(database, TrafficViolation)) == 1


def test_update_and_end_change_the_same_event_and_merge_its_evidence(database: Database) -> None:
    # given
    camera = make_camera(database)
    snap = {"kind": "snapshot", "path": "evidence/a/snapshot.jpg", "sha256": "a" * 64, "bytes": 10}
    clip = {"kind": "clip", "path": "evidence/a/clip.avi", "sha256": "b" * 64, "bytes": 99}
    record(database, camera.id, observed(evidence=[snap]))
    # when
    record(database, camera.id, observed(transition="update"))
    record(database, camera.id, observed(transition="end", ended=13.0, evidence=[snap, clip]))
    record(database, camera.id, observed(transition="new"))  # a late re-send never re-opens it
    # then
    (row,) = _rows(database, CameraEvent)
    assert row.state == "CLOSED" and row.ended_at is not None
    assert [e["kind"] for e in row.evidence] == ["snapshot", "clip"]
    (violation,) = _rows(database, TrafficViolation)
    assert violation.event_id == row.id and [e["kind"] for e in violation.evidence] == ["snapshot", "clip"]


@pytest.mark.parametrize(("rule", "rule_type", "speed", "kind", "limit"), [
    ("red_east", "red_light", None, "RED_LIGHT", None),
    ("ww_east", "wrong_way", None, "WRONG_WAY", None),
    ("speed_road", "speed", 82.5, "SPEEDING", 50.0),
    ("no_parking_shoulder", "no_parking", None, "NO_PARKING", None),
])
def test_traffic_offences_become_violations(database: Database, rule: str, rule_type: str, speed: float | None,
                                             kind: str, limit: float | None) -> None:
    # given
    camera = make_camera(database)
    # when
    event_id = record(database, camera.id, observed(rule, rule_type, speed_kmh=speed, raises_incident=False))
    # then
    (violation,) = _rows(database, TrafficViolation)
    assert (violation.event_id, violation.kind, violation.speed_kmh, violation.limit_kmh) == (event_id, kind, speed,
                                                                                             limit)


def test_counts_and_intrusions_are_not_violations(database: Database) -> None:
    # given
    camera = make_camera(database)
    # when
    record(database, camera.id, observed("count_east", "tripwire", raises_incident=False))
    record(database, camera.id, observed("count_east", "tripwire", track_id=8, raises_incident=False))
    # then
    assert len(_rows(database, CameraEvent)) == 2
    assert _rows(database, TrafficViolation) == []


def test_incident_requests_list_events_marked_to_raise_one_until_linked(database: Database) -> None:
    # given
    camera = make_camera(database)
    raising = record(database, camera.id, observed())
    record(database, camera.id, observed("count_east", "tripwire", raises_incident=False))
    # when
    with database.transaction() as session:
        pending = [e.id for e in flows.incident_requests(db_session=session)]
        flows.link_incident(db_session=session, event_id=raising, incident_id=42)
    # then
    assert pending == [raising]
    with database.session() as session:
        assert flows.incident_requests(db_session=session) == []


def test_status_changes_are_written_once(database: Database) -> None:
    # given
    from tests.cameras.factories import T0

    camera = make_camera(database)
    # when
    with database.transaction() as session:
        flows.set_camera_status(db_session=session, camera_id=camera.id, status=flows.CameraStatus.OFFLINE, at=T0,
                                reason="cannot open")
        again = flows.set_camera_status(db_session=session, camera_id=camera.id,
                                        status=flows.CameraStatus.OFFLINE, at=T0.replace(hour=9), reason="again")
    # then
    assert again.status == "OFFLINE" and again.status_changed_at == T0 and again.status_reason == "cannot open"


def test_events_left_open_by_a_dead_run_are_closed_when_the_camera_restarts(database: Database) -> None:
    # given
    from tests.cameras.factories import T0

    camera = make_camera(database)
    record(database, camera.id, observed())
    record(database, camera.id, observed("count_east", "tripwire", track_id=2, transition="end", ended=13.0))
    # when
    with database.transaction() as session:
        closed = flows.close_stale_events(db_session=session, camera_id=camera.id, at=T0.replace(hour=9))
    # then
    assert closed == 1
    assert {(e.rule, e.state) for e in _rows(database, CameraEvent)} == {("red_east", "CLOSED"),
                                                                         ("count_east", "CLOSED")}
