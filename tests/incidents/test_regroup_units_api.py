"""Merge and split with units on the incidents: units working a duplicate keep working, now on the target
(both timelines say so, the moved units are told, the target's state folds from its log); a split-off
incident starts without units and its log says so; nothing of the report is left behind."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from api.db import Database
from api.incidents import lifecycle, rules
from api.incidents.models import (
    Assignment,
    HotlineCall,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    Report,
    ResponderUnit,
)
from api.notifications import flows as notifications
from api.notifications.models import Device, OutboxMessage
from tests.conftest import gql
from tests.factories import make_person
from tests.incidents.conftest import Cast, gid
from tests.incidents.operations import (
    ACKNOWLEDGE,
    DISPATCH,
    MERGE,
    RESOLVE,
    SPLIT,
    UPDATE_ASSIGNMENT,
    elsewhere,
    report,
    run,
)
from tests.incidents.test_photos_api import jpeg, upload

DETAIL = """query($id: ID!) { incident(id: $id) { id state acknowledgedAt dispatchedAt arrivedAt allowedActions
  assignments { id state assignedAt enRouteAt onSceneAt clearedAt unit { id code readiness } }
  timeline { kind fromState toState unitId assignmentState note } } }"""


async def _dispatched(client: httpx.AsyncClient, cast: Cast, *units: int) -> str:
    incident = (await report(client, cast.citizen.token))["incident"]
    assert (await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=incident["id"]))["errors"] == []
    payload = await run(client, DISPATCH, cast.dispatcher.token, id=incident["id"],
                        unitIds=[gid("ResponderUnit", u) for u in units])
    assert payload["errors"] == [], payload
    return str(incident["id"])


async def _detail(client: httpx.AsyncClient, token: str, incident_id: str) -> dict[str, Any]:
    body = await gql(client, DETAIL, {"id": incident_id}, token=token)
    assert "errors" not in body, body
    return dict(body["data"]["incident"])


def _folded(database: Database, incident_id: str) -> tuple[lifecycle.Status, Incident]:
    """The status folded from the stored log with lifecycle.apply_event, and the stored row."""
    import base64

    pk = int(base64.b64decode(incident_id).decode().split(":")[1])
    with database.session() as s:
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == pk)
                                .order_by(IncidentEvent.at, IncidentEvent.id)))
        row = s.get(Incident, pk)
        assert row is not None
        s.expunge(row)
    status = lifecycle.fold(lifecycle.EventFacts(rules.EventKind(e.kind), e.at,
                                                 rules.IncidentState(e.to_state) if e.to_state else None,
                                                 rules.AssignmentState(e.assignment_state)
                                                 if e.assignment_state else None)
                            for e in events)
    return status, row


def _devices(database: Database, *account_ids: int) -> None:
    with database.transaction() as s:
        for account_id in account_ids:
            notifications.register_device(db_session=s, account_id=account_id, token=f"tok-{uuid.uuid4().hex}",
                                          platform="ANDROID", language="vi")


async def test_units_on_a_merged_duplicate_keep_working_on_the_target(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings
) -> None:
    # given a duplicate with the patrol on scene and the ambulance assigned, and the original incident the
    # ambulance is already working; the patrol's responder has a phone registered
    ambulance_crew = make_person(database, settings, "responder", responder_unit_id=cast.ambulance_id)
    _devices(database, cast.responder.account_id, ambulance_crew.account_id)
    d = cast.dispatcher.token
    target = await _dispatched(client, cast, cast.ambulance_id)
    duplicate = await _dispatched(client, cast, cast.patrol_id, cast.ambulance_id)
    patrol_step = next(a for a in (await _detail(client, d, duplicate))["assignments"]
                       if a["unit"]["id"] == gid("ResponderUnit", cast.patrol_id))
    on_scene = await run(client, UPDATE_ASSIGNMENT, cast.responder.token, id=patrol_step["id"], state="ON_SCENE")
    with database.session() as s:
        outbox_before = len(list(s.scalars(select(OutboxMessage))))

    # when the dispatcher merges the duplicate into the original
    merged = await run(client, MERGE, d, sourceId=duplicate, targetId=target, note="Cùng một vụ")

    # then the target has both units working: the patrol still on scene (since when it got there), the
    # ambulance on its own assignment; the duplicate's assignments are over
    assert merged["errors"] == [] and merged["source"]["state"] == "MERGED"
    after = await _detail(client, d, target)
    units = {a["unit"]["code"]: a for a in after["assignments"]}
    assert set(units) == {"PATROL-1", "AMB-1"}
    assert units["PATROL-1"]["state"] == "ON_SCENE"
    assert units["PATROL-1"]["onSceneAt"] == on_scene["assignment"]["onSceneAt"]
    assert units["PATROL-1"]["unit"]["readiness"] == "BUSY" and units["AMB-1"]["state"] == "ASSIGNED"
    source = await _detail(client, d, duplicate)
    assert {a["state"] for a in source["assignments"]} == {"CLEARED"}
    # both timelines say what happened to each unit
    moved_out = [(e["unitId"], e["assignmentState"], e["note"]) for e in source["timeline"]
                 if e["kind"] == "ASSIGNMENT_UPDATED" and e["assignmentState"] == "CLEARED"]
    assert sorted(moved_out) == sorted([
        (cast.patrol_id, "CLEARED", f"Moved to SC-{_pk(target)}: Cùng một vụ"),
        (cast.ambulance_id, "CLEARED", f"Moved to SC-{_pk(target)} (already there): Cùng một vụ")])
    assert source["timeline"][-1]["kind"] == "MERGED"
    arrived = [(e["kind"], e["unitId"], e["assignmentState"], e["note"]) for e in after["timeline"]][-2:]
    assert arrived == [("MERGED_FROM", None, None, "Cùng một vụ"),
                       ("DISPATCHED", cast.patrol_id, "ON_SCENE", f"Moved from SC-{_pk(duplicate)}: Cùng một vụ")]
    # the target's state and stage times are what its own log folds to: dispatched, and a unit on scene
    status, row = _folded(database, target)
    assert (status.state.value, status.dispatched_at, status.arrived_at) == (row.state, row.dispatched_at, row.arrived_at)
    assert after["state"] == "DISPATCHED" and after["arrivedAt"] is not None
    # the moved unit's responders are told where they now are; the ambulance (already there) is not
    with database.session() as s:
        new = list(s.execute(select(Device.account_id, OutboxMessage).join(Device, Device.id == OutboxMessage.device_id)
                             .order_by(OutboxMessage.id)))[outbox_before:]
    dispatched = [(account, m) for account, m in new if m.template == "unit_dispatched"]
    assert [(account, m.data["incidentId"], m.data["movedFrom"]) for account, m in dispatched] == [
        (cast.responder.account_id, str(_pk(target)), str(_pk(duplicate)))]
    assert f"SC-{_pk(target)}" in dispatched[0][1].body
    # and the patrol's responder carries on there: may resolve it, and does
    theirs = await _detail(client, cast.responder.token, target)
    assert theirs["allowedActions"] == ["RESOLVE"]
    resolved = await run(client, RESOLVE, cast.responder.token, id=target, resolutionNote="Đã xử lý")
    assert resolved["errors"] == [] and resolved["incident"]["state"] == "RESOLVED"


async def test_a_reported_target_is_acknowledged_then_dispatched_by_the_units_moving_in(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given a fresh report, and a duplicate the patrol was sent to earlier and has since left once (its
    # cleared assignment on the target is reused: one row per unit and incident)
    d = cast.dispatcher.token
    target = (await report(client, cast.other_citizen.token))["incident"]["id"]
    duplicate = await _dispatched(client, cast, cast.patrol_id)
    before = await _detail(client, d, target)

    # when the police officer on duty merges the duplicate into it
    merged = await run(client, MERGE, cast.police.token, sourceId=duplicate, targetId=target)

    # then the target went REPORTED -> ACKNOWLEDGED -> DISPATCHED, and its row agrees with its log
    assert before["state"] == "REPORTED" and merged["errors"] == []
    after = await _detail(client, d, target)
    assert [(e["kind"], e["fromState"], e["toState"]) for e in after["timeline"]][-3:] == [
        ("MERGED_FROM", "REPORTED", None), ("ACKNOWLEDGED", "REPORTED", "ACKNOWLEDGED"),
        ("DISPATCHED", "ACKNOWLEDGED", "DISPATCHED")]
    status, row = _folded(database, target)
    assert status.state.value == row.state == "DISPATCHED"
    assert (status.acknowledged_at, status.dispatched_at) == (row.acknowledged_at, row.dispatched_at)
    assert row.arrived_at is None  # the patrol was only assigned
    assert [a["unit"]["code"] for a in after["assignments"]] == ["PATROL-1"]
    # the reporter of the target and the merged reporter both follow it
    mine = await gql(client, DETAIL, {"id": target}, token=cast.citizen.token)
    assert mine["data"]["incident"]["state"] == "DISPATCHED"


async def test_a_cleared_unit_moving_back_onto_the_target_reuses_its_row(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given the target the patrol worked and left, and a duplicate the patrol is now on
    d = cast.dispatcher.token
    target = await _dispatched(client, cast, cast.patrol_id, cast.ambulance_id)
    patrol_on_target = next(a for a in (await _detail(client, d, target))["assignments"] if a["unit"]["code"] == "PATROL-1")
    assert (await run(client, UPDATE_ASSIGNMENT, d, id=patrol_on_target["id"], state="CLEARED"))["errors"] == []
    duplicate = await _dispatched(client, cast, cast.patrol_id)
    # when
    merged = await run(client, MERGE, d, sourceId=duplicate, targetId=target)
    # then
    assert merged["errors"] == []
    patrol = [a for a in (await _detail(client, d, target))["assignments"] if a["unit"]["code"] == "PATROL-1"]
    assert [(a["id"], a["state"], a["clearedAt"]) for a in patrol] == [(patrol_on_target["id"], "ASSIGNED", None)]
    with database.session() as s:
        unit = s.get(ResponderUnit, cast.patrol_id)
        assert unit is not None and unit.readiness == "BUSY"


async def test_a_unit_further_along_on_the_duplicate_carries_its_progress_to_the_target(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given the patrol sent to both reports of one crash: still ASSIGNED on the target, ON_SCENE at the duplicate
    d = cast.dispatcher.token
    target = await _dispatched(client, cast, cast.patrol_id)
    duplicate = await _dispatched(client, cast, cast.patrol_id)
    on_duplicate = next(a for a in (await _detail(client, d, duplicate))["assignments"])
    for step in ("EN_ROUTE", "ON_SCENE"):
        assert (await run(client, UPDATE_ASSIGNMENT, d, id=on_duplicate["id"], state=step))["errors"] == []
    # when
    merged = await run(client, MERGE, d, sourceId=duplicate, targetId=target)
    # then: the target's assignment is on scene, the target has arrived, and its log says why
    assert merged["errors"] == []
    after = await _detail(client, d, target)
    patrol = [a for a in after["assignments"] if a["unit"]["code"] == "PATROL-1"]
    assert [(a["state"], bool(a["enRouteAt"]), bool(a["onSceneAt"])) for a in patrol] == [("ON_SCENE", True, True)]
    assert after["arrivedAt"] is not None
    carried = [e for e in after["timeline"] if e["note"] and e["note"].startswith("Progress carried over")]
    assert [(e["kind"], e["assignmentState"]) for e in carried] == [("ASSIGNMENT_UPDATED", "ON_SCENE")]
    status, row = _folded(database, target)
    assert status.arrived_at == row.arrived_at


async def test_a_split_off_report_makes_an_incident_without_units_and_takes_its_call_and_photos(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given a dispatched incident, a hotline call about it, and a second app report with a photo
    d = cast.dispatcher.token
    place = elsewhere()
    first = (await report(client, cast.citizen.token, location=place))["incident"]["id"]
    call = await gql(client, """mutation($input: LogHotlineCallInput!) { logHotlineCall(input: $input) {
        hotlineCallId errors { code } } }""", {"input": {"category": "THEFT", "callerName": "Lê Văn Gọi",
                                                       "callbackNumber": "0901234567", "incidentId": first}}, token=d)
    photo = await upload(client, cast.other_citizen.token, [("IMG.jpg", jpeg(), "image/jpeg")], location=place,
                         category="THEFT")
    assert photo["errors"] == [] and photo["incident"]["id"] == first
    await run(client, ACKNOWLEDGE, d, id=first)
    await run(client, DISPATCH, d, id=first, unitIds=[gid("ResponderUnit", cast.patrol_id)])
    with database.session() as s:
        reports = list(s.scalars(select(Report).order_by(Report.id)))
    call_report, photo_report = reports[1], reports[2]

    # when the call and the photo report are split off, each into an incident of its own
    by_call = await run(client, SPLIT, d, reportId=call_report.id, note="Vụ khác")
    by_photo = await run(client, SPLIT, d, reportId=photo_report.id)

    # then the new incidents start without units, the old one keeps its patrol, and the logs say so
    assert by_call["errors"] == [] and by_photo["errors"] == []
    new_call, new_photo = by_call["incident"]["id"], by_photo["incident"]["id"]
    for new in (new_call, new_photo):
        detail = await _detail(client, d, new)
        assert detail["state"] == "REPORTED" and detail["assignments"] == []
        assert "DISPATCH" not in detail["allowedActions"]  # not acknowledged yet: nothing to send units to
    old = await _detail(client, d, first)
    assert [(a["unit"]["code"], a["state"]) for a in old["assignments"]] == [("PATROL-1", "ASSIGNED")]
    with database.session() as s:
        logs = {(e.incident_id, e.kind): e.data for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind.in_(["SPLIT", "SPLIT_FROM"])))}
        calls = list(s.scalars(select(HotlineCall)))
        photos = list(s.scalars(select(IncidentPhoto)))
    assert logs[(_pk(new_call), "SPLIT_FROM")] == {"report_id": call_report.id, "source_id": _pk(first), "units": [],
                                                   "source_units": [cast.patrol_id]}
    assert logs[(_pk(first), "SPLIT")]["units_stay"] == [cast.patrol_id]
    # the call and the photo went with their reports: the new incidents' reporter and photos are theirs
    assert [(c.id, c.incident_id) for c in calls] == [(call["data"]["logHotlineCall"]["hotlineCallId"], _pk(new_call))]
    assert {p.incident_id for p in photos} == {_pk(new_photo)}
    staff = await gql(client, "query($id: ID!) { incident(id: $id) { reporter { fullName phone } } }", {"id": new_call},
                      token=d)
    assert staff["data"]["incident"]["reporter"] == {"fullName": "Lê Văn Gọi", "phone": "0901234567"}


async def test_merge_moves_the_hotline_calls_with_their_reports(client: httpx.AsyncClient, cast: Cast,
                                                                database: Database) -> None:
    # given a call logged as an incident of its own, and the app report it duplicates
    d = cast.dispatcher.token
    target = (await report(client, cast.citizen.token))["incident"]["id"]
    logged = await gql(client, """mutation($input: LogHotlineCallInput!) { logHotlineCall(input: $input) {
        incident { id } errors { code } } }""", {"input": {"category": "THEFT", "callerName": "Trần Gọi",
                                                         "location": elsewhere()}}, token=d)
    source = logged["data"]["logHotlineCall"]["incident"]["id"]
    # when
    merged = await run(client, MERGE, d, sourceId=source, targetId=target)
    # then
    assert merged["errors"] == [] and merged["target"]["reportCount"] == 2
    with database.session() as s:
        assert [c.incident_id for c in s.scalars(select(HotlineCall))] == [_pk(target)]
        assert list(s.scalars(select(Assignment))) == []


def _pk(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_the_reporter_of_a_split_off_report_is_told_where_it_is_followed_now(
    client: httpx.AsyncClient, cast: Cast, database: Database
) -> None:
    # given two citizens' reports joined as one incident, and both citizens' phones registered
    d = cast.dispatcher.token
    place = elsewhere()
    first = (await report(client, cast.citizen.token, location=place))["incident"]["id"]
    second = await report(client, cast.other_citizen.token, location=place)
    assert second["incident"]["id"] == first and second["attachedToExisting"] is True
    _devices(database, cast.citizen.account_id, cast.other_citizen.account_id)
    with database.session() as s:
        split_off = s.scalars(select(Report).where(Report.reporter_account_id == cast.other_citizen.account_id)).one()
        before = len(list(s.scalars(select(OutboxMessage))))
    # when the operator splits the second report off
    out = await run(client, SPLIT, d, reportId=split_off.id, note="Vụ khác")
    # then its reporter (only) gets a push naming the new incident and where it came from
    assert out["errors"] == []
    new_pk = _pk(out["incident"]["id"])
    with database.session() as s:
        sent = list(s.execute(select(Device.account_id, OutboxMessage).join(Device, Device.id == OutboxMessage.device_id)
                              .order_by(OutboxMessage.id)))[before:]
    splits = [(account, m) for account, m in sent if m.template == "incident_report_split"]
    assert [account for account, _ in splits] == [cast.other_citizen.account_id]
    message = splits[0][1]
    assert f"SC-{new_pk}" in message.body and f"SC-{_pk(first)}" in message.body
    assert message.data["incidentId"] == str(new_pk) and message.data["splitFrom"] == str(_pk(first))
