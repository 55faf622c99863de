"""The incident lifecycle through the API: every transition allowed, and refused with its error code."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update

from api.db import Database
from api.incidents.models import Incident, ResponderUnit
from tests.conftest import gql
from tests.incidents.conftest import Cast, add_unit, gid
from tests.incidents.operations import (
    ACKNOWLEDGE,
    CLOSE,
    DISPATCH,
    INCIDENT,
    RATE,
    REJECT,
    REOPEN,
    RESOLVE,
    UPDATE_ASSIGNMENT,
    report,
    run,
)


def _codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _advance(client: httpx.AsyncClient, cast: Cast, to: str, category: str = "THEFT") -> dict:
    """Files a report and moves it to `to` (REPORTED, ACKNOWLEDGED, DISPATCHED, RESOLVED, CLOSED)."""
    incident = (await report(client, cast.citizen.token, category=category))["incident"]
    steps = ["REPORTED", "ACKNOWLEDGED", "DISPATCHED", "RESOLVED", "CLOSED"]
    d = cast.dispatcher.token
    for step in steps[1:steps.index(to) + 1]:
        if step == "ACKNOWLEDGED":
            payload = await run(client, ACKNOWLEDGE, d, id=incident["id"])
        elif step == "DISPATCHED":
            payload = await run(client, DISPATCH, d, id=incident["id"], unitIds=[gid("ResponderUnit", cast.patrol_id)])
        elif step == "RESOLVED":
            payload = await run(client, RESOLVE, d, id=incident["id"], resolutionNote="Đã trả lại túi xách.")
        else:
            payload = await run(client, CLOSE, d, id=incident["id"])
        assert payload["errors"] == [], payload
        incident = payload["incident"]
    return incident


async def _assignment_id(client: httpx.AsyncClient, token: str, incident_id: str) -> str:
    body = await gql(client, INCIDENT, {"id": incident_id}, token=token)
    return body["data"]["incident"]["assignments"][0]["id"]


async def test_the_whole_path_from_report_to_rating(client: httpx.AsyncClient, cast: Cast, database: Database) -> None:
    # given
    incident = (await report(client, cast.citizen.token))["incident"]
    d, r = cast.dispatcher.token, cast.responder.token
    # when
    acked = await run(client, ACKNOWLEDGE, d, id=incident["id"], note="Đã nhận")
    dispatched = await run(client, DISPATCH, d, id=incident["id"], unitIds=[gid("ResponderUnit", cast.patrol_id)])
    assignment = await _assignment_id(client, d, incident["id"])
    en_route = await run(client, UPDATE_ASSIGNMENT, r, id=assignment, state="EN_ROUTE")
    on_scene = await run(client, UPDATE_ASSIGNMENT, r, id=assignment, state="ON_SCENE")
    resolved = await run(client, RESOLVE, r, id=incident["id"], resolutionNote="Đã bắt được đối tượng.")
    closed = await run(client, CLOSE, d, id=incident["id"])
    rated = await run(client, RATE, cast.citizen.token, id=incident["id"], rating=5, comment="Nhanh chóng")
    timeline = (await gql(client, INCIDENT, {"id": incident["id"]}, token=d))["data"]["incident"]["timeline"]
    # then
    assert incident["state"] == "REPORTED" and incident["priority"] == "P3"
    assert acked["incident"]["state"] == "ACKNOWLEDGED" and acked["incident"]["acknowledgedAt"]
    assert dispatched["incident"]["state"] == "DISPATCHED" and dispatched["incident"]["dispatchedAt"]
    assert en_route["assignment"]["state"] == "EN_ROUTE" and en_route["assignment"]["unit"]["readiness"] == "BUSY"
    assert on_scene["incident"]["arrivedAt"] == on_scene["assignment"]["onSceneAt"]
    assert resolved["incident"]["state"] == "RESOLVED"
    assert resolved["incident"]["resolutionNote"] == "Đã bắt được đối tượng."
    assert closed["incident"]["state"] == "CLOSED" and closed["incident"]["closedAt"]
    assert rated["incident"]["rating"] == 5 and rated["incident"]["ratingComment"] == "Nhanh chóng"
    assert [e["kind"] for e in timeline] == ["REPORTED", "ACKNOWLEDGED", "DISPATCHED", "ASSIGNMENT_UPDATED",
                                             "ASSIGNMENT_UPDATED", "RESOLVED", "CLOSED", "RATED"]
    assert timeline[2]["unitId"] == cast.patrol_id and timeline[2]["fromState"] == "ACKNOWLEDGED"
    with database.session() as s:
        unit = s.get(ResponderUnit, cast.patrol_id)
        assert unit is not None and unit.readiness == "AVAILABLE"  # freed when the incident was resolved


async def test_acknowledge_is_refused_twice_and_to_citizens(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    incident = await _advance(client, cast, "ACKNOWLEDGED")
    # when
    again = await run(client, ACKNOWLEDGE, cast.police.token, id=incident["id"])
    citizen = await gql(client, ACKNOWLEDGE, {"input": {"id": incident["id"]}}, token=cast.citizen.token)
    # then
    assert _codes(again) == [("id", "INVALID_STATE")]
    assert citizen["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_reject_needs_a_reason_and_an_open_report(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    fresh = await _advance(client, cast, "REPORTED")
    dispatched = await _advance(client, cast, "DISPATCHED", category="MEDICAL")
    # when
    no_reason = await run(client, REJECT, cast.dispatcher.token, id=fresh["id"], reason=" ")
    rejected = await run(client, REJECT, cast.police.token, id=fresh["id"], reason="Trùng lặp, đã xử lý")
    too_late = await run(client, REJECT, cast.dispatcher.token, id=dispatched["id"], reason="x")
    # then
    assert _codes(no_reason) == [("reason", "REQUIRED")]
    assert rejected["incident"]["state"] == "REJECTED"
    assert _codes(too_late) == [("id", "INVALID_STATE")]


async def test_dispatch_checks_state_units_and_role(client: httpx.AsyncClient, cast: Cast, database: Database) -> None:
    # given
    fresh = await _advance(client, cast, "REPORTED")
    acked = await _advance(client, cast, "ACKNOWLEDGED")
    broken = add_unit(database, "BROKEN-1", "POLICE_PATROL", 10.2, 103.9, readiness="OUT_OF_SERVICE")
    d = cast.dispatcher.token
    patrol, ambulance = gid("ResponderUnit", cast.patrol_id), gid("ResponderUnit", cast.ambulance_id)
    # when
    not_acked = await run(client, DISPATCH, d, id=fresh["id"], unitIds=[patrol])
    no_units = await run(client, DISPATCH, d, id=acked["id"], unitIds=[])
    unknown = await run(client, DISPATCH, d, id=acked["id"], unitIds=[patrol, gid("ResponderUnit", 99999)])
    out = await run(client, DISPATCH, d, id=acked["id"], unitIds=[gid("ResponderUnit", broken)])
    police = await gql(client, DISPATCH, {"input": {"id": acked["id"], "unitIds": [patrol]}}, token=cast.police.token)
    first = await run(client, DISPATCH, d, id=acked["id"], unitIds=[patrol])
    same = await run(client, DISPATCH, d, id=acked["id"], unitIds=[patrol])
    more = await run(client, DISPATCH, d, id=acked["id"], unitIds=[ambulance, patrol])
    # then
    assert _codes(not_acked) == [("id", "INVALID_STATE")]
    assert _codes(no_units) == [("units", "REQUIRED")]
    assert _codes(unknown) == [("unitIds.1", "NOT_FOUND")]
    assert _codes(out) == [("unitIds.0", "UNIT_UNAVAILABLE")]
    assert police["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert first["errors"] == [] and first["incident"]["state"] == "DISPATCHED"
    assert _codes(same) == [("unitIds", "DUPLICATE")]
    assert more["errors"] == []
    units = (await gql(client, INCIDENT, {"id": acked["id"]}, token=d))["data"]["incident"]["assignments"]
    assert sorted(a["unit"]["id"] for a in units) == sorted([patrol, ambulance])


async def test_assignment_progress_is_for_the_units_responders_and_moves_forward(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings
) -> None:
    # given
    from tests.factories import make_person

    incident = await _advance(client, cast, "DISPATCHED")
    assignment = await _assignment_id(client, cast.dispatcher.token, incident["id"])
    stranger = make_person(database, settings, "responder", responder_unit_id=cast.ambulance_id)
    # when
    other_unit = await run(client, UPDATE_ASSIGNMENT, stranger.token, id=assignment, state="EN_ROUTE")
    on_scene = await run(client, UPDATE_ASSIGNMENT, cast.responder.token, id=assignment, state="ON_SCENE")
    backwards = await run(client, UPDATE_ASSIGNMENT, cast.responder.token, id=assignment, state="EN_ROUTE")
    resolve_other = await run(client, RESOLVE, stranger.token, id=incident["id"], resolutionNote="x")
    cleared = await run(client, UPDATE_ASSIGNMENT, cast.responder.token, id=assignment, state="CLEARED")
    # then
    assert _codes(other_unit) == [("assignmentId", "PERMISSION_DENIED")]
    assert on_scene["errors"] == [] and on_scene["incident"]["arrivedAt"]
    assert _codes(backwards) == [("state", "INVALID_STATE")]
    assert _codes(resolve_other) == [("id", "PERMISSION_DENIED")]
    assert cleared["assignment"]["state"] == "CLEARED" and cleared["assignment"]["unit"]["readiness"] == "AVAILABLE"


async def test_resolve_needs_a_note_and_photo_proof_where_the_category_asks(client: httpx.AsyncClient,
                                                                           cast: Cast) -> None:
    # given
    theft = await _advance(client, cast, "DISPATCHED")
    rubbish = await _advance(client, cast, "ACKNOWLEDGED", category="ENVIRONMENT")
    fresh = await _advance(client, cast, "REPORTED")
    d = cast.dispatcher.token
    # when
    no_note = await run(client, RESOLVE, d, id=theft["id"], resolutionNote="")
    no_photo = await run(client, RESOLVE, d, id=rubbish["id"], resolutionNote="Đã dọn")
    not_acked = await run(client, RESOLVE, d, id=fresh["id"], resolutionNote="x")
    # then
    assert _codes(no_note) == [("resolutionNote", "REQUIRED")]
    assert _codes(no_photo) == [("photos", "PHOTO_PROOF_REQUIRED")]
    assert _codes(not_acked) == [("id", "INVALID_STATE")]


async def test_close_only_after_resolution_and_only_by_dispatchers(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    dispatched = await _advance(client, cast, "DISPATCHED")
    resolved = await _advance(client, cast, "RESOLVED")
    # when
    early = await run(client, CLOSE, cast.dispatcher.token, id=dispatched["id"])
    responder = await gql(client, CLOSE, {"input": {"id": resolved["id"]}}, token=cast.responder.token)
    # then
    assert _codes(early) == [("id", "INVALID_STATE")]
    assert responder["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_reopen_is_the_reporters_within_the_window_with_a_reason(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given
    resolved = await _advance(client, cast, "RESOLVED")
    old = await _advance(client, cast, "CLOSED")
    with database.transaction() as s:
        s.execute(update(Incident).where(Incident.id == int(_pk(old["id"])))
                  .values(resolved_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=30)))
    open_one = await _advance(client, cast, "ACKNOWLEDGED")
    c = cast.citizen.token
    # when
    stranger = await run(client, REOPEN, cast.other_citizen.token, id=resolved["id"], reason="Vẫn còn")
    dispatcher = await run(client, REOPEN, cast.dispatcher.token, id=resolved["id"], reason="Vẫn còn")
    no_reason = await run(client, REOPEN, c, id=resolved["id"], reason="")
    not_resolved = await run(client, REOPEN, c, id=open_one["id"], reason="?")
    too_late = await run(client, REOPEN, c, id=old["id"], reason="Lại bị mất trộm")
    reopened = await run(client, REOPEN, c, id=resolved["id"], reason="Đối tượng vẫn còn ở đó")
    # then
    assert _codes(stranger) == [("id", "PERMISSION_DENIED")]
    assert _codes(dispatcher) == [("id", "PERMISSION_DENIED")]
    assert _codes(no_reason) == [("reason", "REQUIRED")]
    assert _codes(not_resolved) == [("id", "INVALID_STATE")]
    assert _codes(too_late) == [("id", "REOPEN_WINDOW_CLOSED")]
    incident = reopened["incident"]
    assert incident["state"] == "ACKNOWLEDGED" and incident["resolvedAt"] is None
    assert incident["priority"] == "P2" and incident["reopenCount"] == 1  # escalated again
    assert incident["deadlines"]["escalatedStages"] == ["ACKNOWLEDGE", "DISPATCH"]


async def test_rating_is_the_reporters_once_after_close(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    resolved = await _advance(client, cast, "RESOLVED")
    closed = await _advance(client, cast, "CLOSED")
    c = cast.citizen.token
    # when
    early = await run(client, RATE, c, id=resolved["id"], rating=4)
    stranger = await run(client, RATE, cast.other_citizen.token, id=closed["id"], rating=1)
    out_of_range = await run(client, RATE, c, id=closed["id"], rating=6)
    rated = await run(client, RATE, c, id=closed["id"], rating=4)
    twice = await run(client, RATE, c, id=closed["id"], rating=5)
    # then
    assert _codes(early) == [("id", "INVALID_STATE")]
    assert _codes(stranger) == [("id", "PERMISSION_DENIED")]
    assert _codes(out_of_range) == [("rating", "INVALID")]
    assert rated["incident"]["rating"] == 4
    assert _codes(twice) == [("id", "ALREADY_RATED")]


async def test_a_wrong_id_is_a_payload_error_not_a_crash(client: httpx.AsyncClient, cast: Cast) -> None:
    # when
    missing = await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=gid("Incident", 424242))
    wrong_type = await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=gid("ResponderUnit", 1))
    # then
    assert _codes(missing) == [("id", "NOT_FOUND")]
    assert _codes(wrong_type) == [("id", "INVALID")]


def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":")[1]
