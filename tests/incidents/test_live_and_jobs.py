"""Live feeds, notifications in the same transaction, the escalation job and the demo seed."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from api.config import Settings
from api.core.auth import Principal, Role
from api.core.gql.context import Context
from api.core.state import AppState
from api.db import Database
from api.incidents import demo, dispatch, filing
from api.incidents.models import Incident, IncidentEvent, Report, ResponderUnit
from api.notifications import flows as notifications
from api.notifications.models import OutboxMessage
from tests.conftest import gql
from tests.incidents.conftest import Cast, gid
from tests.incidents.operations import ACKNOWLEDGE, DISPATCH, elsewhere, report, run
from workers.jobs import JobContext, collect_jobs

EVENTS = "subscription($f: IncidentEventFilter) { incidentEvents(filter: $f) { kind incidentId state category priority } }"
MINE = "subscription { myIncidentUpdates { kind state incidentId } }"


def _context(state: AppState, principal: Principal) -> Context:
    return Context(state=state, request=None, principal=principal, request_id="test")


async def _next(subscription, timeout: float = 5.0):  # noqa: ANN001, ANN202
    result = await asyncio.wait_for(subscription.__anext__(), timeout)
    assert not result.errors, result.errors
    return result.data


async def test_operators_receive_an_event_after_a_report(client: httpx.AsyncClient, cast: Cast, state: AppState) -> None:
    # given
    schema = client.app.state.schema  # type: ignore[attr-defined]
    dispatcher = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id, display="d")
    fires = await schema.subscribe(EVENTS, variable_values={"f": {"categories": ["FIRE"]}},
                                   context_value=_context(state, dispatcher))
    everything = await schema.subscribe(EVENTS, context_value=_context(state, dispatcher))
    waiting = [asyncio.ensure_future(_next(fires)), asyncio.ensure_future(_next(everything))]
    await asyncio.sleep(0.05)  # the generators register on the bus
    # when
    theft = await report(client, cast.citizen.token, category="THEFT")
    fire = await report(client, cast.citizen.token, category="FIRE")
    # then
    fire_event, first_event = await asyncio.gather(*waiting)
    assert first_event["incidentEvents"] == {"kind": "REPORTED", "incidentId": theft["incident"]["id"],
                                             "state": "REPORTED", "category": "THEFT", "priority": "P3"}
    assert fire_event["incidentEvents"]["incidentId"] == fire["incident"]["id"]
    await fires.aclose()
    await everything.aclose()


async def test_citizens_cannot_subscribe_to_all_events(client: httpx.AsyncClient, cast: Cast, state: AppState) -> None:
    # given
    schema = client.app.state.schema  # type: ignore[attr-defined]
    citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="c")
    # when
    result = await schema.subscribe(EVENTS, context_value=_context(state, citizen))
    # then
    first = await result.__anext__() if hasattr(result, "__anext__") else result
    assert first.errors and "permission" in first.errors[0].message


async def test_a_reporter_follows_only_their_own_incidents(client: httpx.AsyncClient, cast: Cast,
                                                           state: AppState) -> None:
    # given
    schema = client.app.state.schema  # type: ignore[attr-defined]
    mine = (await report(client, cast.citizen.token))["incident"]
    theirs = (await report(client, cast.other_citizen.token))["incident"]
    citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="c")
    updates = await schema.subscribe(MINE, context_value=_context(state, citizen))
    waiting = asyncio.ensure_future(_next(updates))
    await asyncio.sleep(0.05)
    # when
    await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=theirs["id"])
    await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=mine["id"])
    # then
    event = (await waiting)["myIncidentUpdates"]
    assert event == {"kind": "ACKNOWLEDGED", "state": "ACKNOWLEDGED", "incidentId": mine["id"]}
    await updates.aclose()


def _devices(database: Database, *account_ids: int) -> None:
    with database.transaction() as s:
        for account_id in account_ids:
            notifications.register_device(db_session=s, account_id=account_id, token=f"tok-{uuid.uuid4().hex}",
                                          platform="ANDROID", language="vi")


def _outbox(database: Database) -> list[tuple[str, str]]:
    with database.session() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.template, r.body) for r in rows]


async def test_reporters_and_dispatched_responders_are_notified_in_the_same_transaction(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given
    _devices(database, cast.citizen.account_id, cast.responder.account_id)
    incident = (await report(client, cast.citizen.token))["incident"]
    # when
    await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=incident["id"])
    await run(client, DISPATCH, cast.dispatcher.token, id=incident["id"], unitIds=[gid("ResponderUnit", cast.patrol_id)])
    # then
    sent = _outbox(database)
    templates = [t for t, _ in sent]
    assert templates.count("incident_status_changed") == 2  # acknowledged, dispatched (not their own report)
    assert templates.count("unit_dispatched") == 1
    assert any("Unit PATROL-1" in body for t, body in sent if t == "unit_dispatched")


def _old_incident(database: Database, settings: Settings, cast: Cast, category: str, age: dt.timedelta) -> int:
    principal = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="c")
    spot = elsewhere()
    with database.transaction() as s:
        filed = filing.report_incident(db_session=s, settings=settings, principal=principal, now=dt.datetime.now(dt.UTC) - age,
                                      data=filing.NewReport(category=category, description="cũ", lat=spot["lat"],
                                                           lng=spot["lng"], occurred_at=None,
                                                           idempotency_key=str(uuid.uuid4())))
        return filed.incident.id or 0


def test_the_escalation_job_raises_priority_once_per_breach_and_tells_supervisors(
    database: Database, settings: Settings, cast: Cast, state: AppState
) -> None:
    # given: a theft (P3: acknowledge within 60 min) reported 2 hours ago, and a fresh one
    _devices(database, cast.dispatcher.account_id)
    late = _old_incident(database, settings, cast, "THEFT", dt.timedelta(hours=2))
    fresh = _old_incident(database, settings, cast, "THEFT", dt.timedelta(minutes=1))
    job = collect_jobs(settings).jobs["incidents.escalate_overdue"]
    ctx = JobContext(db=database, bus=state.bus, settings=settings)
    # when
    first = job.func(ctx)
    second = job.func(ctx)
    # then
    assert (first, second) == (1, 0)
    assert job.seconds == 30
    with database.session() as s:
        row = s.get(Incident, late)
        assert row is not None and row.priority == "P2" and row.escalated_stages == ["ACKNOWLEDGE"]
        assert row.next_due_at == row.dispatch_due_at
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "DEADLINE_BREACHED")))
        assert [(e.incident_id, e.data["stage"], e.data["priority_to"]) for e in events] == [(late, "ACKNOWLEDGE", "P2")]
        other = s.get(Incident, fresh)
        assert other is not None and other.priority == "P3" and other.escalated_stages == []
    assert [t for t, _ in _outbox(database)] == ["deadline_breached"]


def test_recommended_units_are_available_suitable_and_near(database: Database, settings: Settings, cast: Cast) -> None:
    # given: the patrol (type suits a theft) ~10 m away; the ambulance does not suit; a stale patrol nearer
    incident_id = _old_incident(database, settings, cast, "THEFT", dt.timedelta(minutes=1))
    with database.transaction() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        patrol = s.get(ResponderUnit, cast.patrol_id)
        assert patrol is not None
        patrol.lat, patrol.lng = incident.lat, (incident.lng or 0) + 0.0001
        s.add(ResponderUnit(code="STALE", name="Stale", type="POLICE_PATROL", lat=incident.lat, lng=incident.lng,
                            located_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    # when
    with database.session() as s:
        ranked = dispatch.recommend_units(db_session=s, settings=settings, incident_id=incident_id)
    # then
    assert [u.id for u, _ in ranked] == [cast.patrol_id]
    assert ranked[0][1] == pytest.approx(11, abs=1)


async def test_units_report_their_readiness_and_location(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    op = ("mutation($input: UpdateUnitStatusInput!) { updateUnitStatus(input: $input) { unit { id readiness "
          "location { lat lng locatedAt } } errors { field code } } }")
    # when
    own = await run(client, op, cast.responder.token, readiness="OUT_OF_SERVICE", location={"lat": 10.1, "lng": 104.0})
    other = await run(client, op, cast.responder.token, unitId=gid("ResponderUnit", cast.ambulance_id),
                      readiness="BUSY")
    listed = await gql(client, "{ units(first: 10, filter: {readiness: [OUT_OF_SERVICE]}) { edges { node { id } } } }",
                       token=cast.dispatcher.token)
    # then
    assert own["unit"]["readiness"] == "OUT_OF_SERVICE" and own["unit"]["location"]["lat"] == 10.1
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("unitId", "PERMISSION_DENIED")]
    assert [e["node"]["id"] for e in listed["data"]["units"]["edges"]] == [gid("ResponderUnit", cast.patrol_id)]


async def test_demo_seed_is_idempotent_and_feeds_response_times(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings
) -> None:
    # when
    with database.transaction() as s:
        demo.seed(s, settings)
    with database.transaction() as s:
        demo.seed(s, settings)
    with database.session() as s:
        first_id = s.scalar(select(func.min(Incident.id)))
    times = await gql(client, "{ responseTimes { category stage count p50Seconds p90Seconds } }",
                      token=cast.dispatcher.token)
    recommended = await gql(client, "query($id: ID!) { recommendUnits(incidentId: $id) { unit { code type } "
                            "distanceMeters } }", {"id": gid("Incident", first_id)}, token=cast.dispatcher.token)
    # then
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == demo.COUNT
        assert s.scalar(select(func.count()).select_from(Report)) == demo.COUNT
        assert s.scalar(select(func.count()).select_from(ResponderUnit)) == len(demo.UNITS) + 2
    overall = {r["stage"]: r for r in times["data"]["responseTimes"] if r["category"] is None}
    assert set(overall) == {"ACKNOWLEDGE", "DISPATCH", "ARRIVE", "RESOLVE"}
    assert 0 < overall["ACKNOWLEDGE"]["p50Seconds"] <= overall["ACKNOWLEDGE"]["p90Seconds"]
    assert overall["RESOLVE"]["count"] > 100
    assert "errors" not in recommended
