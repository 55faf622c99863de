"""`Incident.allowedActions` is exactly the set of mutations that then succeed, for every role and state; and it
costs the same number of statements for a page of 5 or 50 incidents."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.config import Settings
from api.core.auth import Principal, Role
from api.db import Database
from api.incidents import dispatch, filing, flows, regroup
from api.incidents.models import Report
from tests.conftest import gql
from tests.factories import Person, make_person
from tests.incidents.conftest import Cast, add_unit, gid
from tests.incidents.operations import (
    ACKNOWLEDGE,
    CLOSE,
    DISPATCH,
    MERGE,
    RATE,
    REJECT,
    REOPEN,
    RESOLVE,
    SPLIT,
    elsewhere,
)
from tests.incidents.test_reads_api import count_statements

ALLOWED = "query($id: ID!) { incident(id: $id) { state allowedActions } }"
LIST = "query($first: Int!) { incidents(first: $first) { edges { node { id state allowedActions } } } }"
STATES = ("REPORTED", "ACKNOWLEDGED", "DISPATCHED", "RESOLVED", "CLOSED", "REJECTED", "MERGED")
ROLES = ("dispatcher", "police", "admin", "responder", "other_responder", "reporter", "other_citizen")
OPERATOR = {"REPORTED": {"ACKNOWLEDGE", "REJECT", "MERGE", "SPLIT"},
            "ACKNOWLEDGED": {"REJECT", "DISPATCH", "RESOLVE", "MERGE", "SPLIT"},
            "DISPATCHED": {"DISPATCH", "RESOLVE", "MERGE", "SPLIT"}, "RESOLVED": {"CLOSE"}}
# What each caller sees of an incident in each state: its allowedActions, or None when the incident is not
# theirs to see at all (it reads as null). Every incident has two reports (so it can be split); the patrol
# was sent to it from DISPATCHED on (MERGED: merged away while dispatched).
EXPECTED: dict[str, dict[str, set[str] | None]] = {
    "dispatcher": {s: OPERATOR.get(s, set()) for s in STATES},
    "admin": {s: OPERATOR.get(s, set()) for s in STATES},
    "police": {s: {a for a in OPERATOR.get(s, set()) if a not in ("DISPATCH", "CLOSE")} for s in STATES},
    "responder": {"REPORTED": None, "ACKNOWLEDGED": None, "DISPATCHED": {"RESOLVE"}, "RESOLVED": set(),
                  "CLOSED": set(), "REJECTED": None, "MERGED": set()},
    "other_responder": {s: None for s in STATES},
    "reporter": {"REPORTED": set(), "ACKNOWLEDGED": set(), "DISPATCHED": set(), "RESOLVED": {"REOPEN"},
                 "CLOSED": {"REOPEN", "RATE"}, "REJECTED": set(), "MERGED": None},
    "other_citizen": {s: None for s in STATES},
}


class World:
    """Incidents moved to a state through the flows, and the people who act on them through the API."""

    def __init__(self, database: Database, settings: Settings, cast: Cast, spare_unit: int) -> None:
        self.database, self.settings, self.cast, self.spare_unit = database, settings, cast, spare_unit
        self.citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="c")
        self.dispatcher = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id,
                                    display="d", attributes={"unit_code": "31078"})

    def incident(self, state: str) -> tuple[int, int]:
        """A theft reported by the citizen, with a hotline call on it, moved to `state`: (id, the call's report
        while it is still on this incident, else 0)."""
        s_ = self.settings
        with self.database.transaction() as s:
            spot = elsewhere()
            filed = filing.report_incident(db_session=s, settings=s_, principal=self.citizen, data=filing.NewReport(
                category="THEFT", description="Bị giật túi", lat=spot["lat"], lng=spot["lng"], occurred_at=None,
                idempotency_key=str(uuid.uuid4())))
            pk = filed.incident.id or 0
            call = filing.log_hotline_call(db_session=s, settings=s_, principal=self.dispatcher, call=filing.NewHotlineCall(
                category="THEFT", description="Cùng vụ", caller_name="Lê Văn Gọi", incident_id=pk))
            d = self.dispatcher
            if state == "REJECTED":
                flows.reject(db_session=s, principal=d, incident_id=pk, reason="Sai")
            if state in ("ACKNOWLEDGED", "DISPATCHED", "RESOLVED", "CLOSED", "MERGED"):
                flows.acknowledge(db_session=s, principal=d, incident_id=pk)
            if state in ("DISPATCHED", "RESOLVED", "CLOSED", "MERGED"):
                dispatch.dispatch(db_session=s, principal=d, incident_id=pk, unit_ids=[self.cast.patrol_id])
            if state in ("RESOLVED", "CLOSED"):
                flows.resolve(db_session=s, settings=s_, principal=d, incident_id=pk, resolution_note="Đã xử lý")
            if state == "CLOSED":
                flows.close(db_session=s, principal=d, incident_id=pk)
            if state == "MERGED":
                regroup.merge(db_session=s, principal=d, source_id=pk, target_id=self.open_incident(s))
            # A split names a report, not an incident: a merged incident has none left to name (0: no report).
            on = s.scalar(select(Report.incident_id).where(Report.id == call.report.id))
            return pk, (call.report.id or 0) if on == pk else 0

    def open_incident(self, session: Any = None) -> int:
        """A fresh REPORTED incident logged from the hotline (nobody's own report)."""
        def log(s: Any) -> int:
            spot = elsewhere()
            return filing.log_hotline_call(db_session=s, settings=self.settings, principal=self.dispatcher,
                                           call=filing.NewHotlineCall(category="THEFT", description="Khác",
                                                                      lat=spot["lat"], lng=spot["lng"])).incident.id or 0
        if session is not None:
            return log(session)
        with self.database.transaction() as s:
            return log(s)


def _attempts(world: World) -> dict[str, tuple[str, Callable[[int, int], dict[str, Any]]]]:
    """Each action's mutation with inputs that are right, so only permission and state can refuse it."""
    spare = gid("ResponderUnit", world.spare_unit)
    return {
        "ACKNOWLEDGE": (ACKNOWLEDGE, lambda pk, _: {"id": gid("Incident", pk)}),
        "REJECT": (REJECT, lambda pk, _: {"id": gid("Incident", pk), "reason": "Trùng lặp"}),
        "DISPATCH": (DISPATCH, lambda pk, _: {"id": gid("Incident", pk), "unitIds": [spare]}),
        "RESOLVE": (RESOLVE, lambda pk, _: {"id": gid("Incident", pk), "resolutionNote": "Đã trả lại túi"}),
        "CLOSE": (CLOSE, lambda pk, _: {"id": gid("Incident", pk)}),
        "MERGE": (MERGE, lambda pk, _: {"sourceId": gid("Incident", pk),
                                        "targetId": gid("Incident", world.open_incident())}),
        "SPLIT": (SPLIT, lambda _, report: {"reportId": report}),
        "REOPEN": (REOPEN, lambda pk, _: {"id": gid("Incident", pk), "reason": "Vẫn còn"}),
        "RATE": (RATE, lambda pk, _: {"id": gid("Incident", pk), "rating": 4, "comment": "Tốt"}),
    }


def _person(cast: Cast, role: str, other_responder: Person) -> Person:
    return {"dispatcher": cast.dispatcher, "police": cast.police, "admin": cast.admin, "responder": cast.responder,
            "other_responder": other_responder, "reporter": cast.citizen,
            "other_citizen": cast.other_citizen}[role]


@pytest.mark.parametrize("role", ROLES)
async def test_allowed_actions_are_exactly_the_mutations_that_succeed(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings, role: str
) -> None:
    # given a caller of this role, and an incident in every state
    spare = add_unit(database, "SPARE-1", "POLICE_PATROL", 10.3, 103.9)
    world = World(database, settings, cast, spare)
    other_responder = make_person(database, settings, "responder", responder_unit_id=cast.ambulance_id)
    person = _person(cast, role, other_responder)
    attempts = _attempts(world)
    offered: dict[str, set[str] | None] = {}
    succeeded: dict[str, set[str]] = {}
    for state in STATES:
        pk, report = world.incident(state)
        # when the caller asks what they may do, then tries every action (on a fresh incident in the same
        # state after each one that succeeded)
        body = await gql(client, ALLOWED, {"id": gid("Incident", pk)}, token=person.token)
        seen = body["data"]["incident"]
        assert seen is None or seen["state"] == state
        offered[state] = None if seen is None else set(seen["allowedActions"])
        succeeded[state] = set()
        for action, (operation, values) in attempts.items():
            result = await gql(client, operation, {"input": values(pk, report)}, token=person.token)
            payload = next(iter((result.get("data") or {}).values()), None)
            if not result.get("errors") and payload and payload["errors"] == []:
                succeeded[state].add(action)
                pk, report = world.incident(state)
    # then what was offered is what succeeded, and both are what the rules say for this role
    assert {s: a or set() for s, a in offered.items()} == succeeded
    assert offered == EXPECTED[role]


async def test_a_staff_member_who_reported_it_may_reopen_and_rate_too(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings
) -> None:
    # given a closed incident a dispatcher reported from the app on their way home
    world = World(database, settings, cast, cast.ambulance_id)
    world.citizen = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id, display="d")
    pk, _ = world.incident("CLOSED")
    # when
    body = await gql(client, ALLOWED, {"id": gid("Incident", pk)}, token=cast.dispatcher.token)
    rated = await gql(client, RATE, {"input": {"id": gid("Incident", pk), "rating": 5}}, token=cast.dispatcher.token)
    after = await gql(client, ALLOWED, {"id": gid("Incident", pk)}, token=cast.dispatcher.token)
    # then
    assert set(body["data"]["incident"]["allowedActions"]) == {"REOPEN", "RATE"}
    assert rated["data"]["rateIncident"]["errors"] == []
    assert after["data"]["incident"]["allowedActions"] == ["REOPEN"]  # rated once: no more


async def test_reopen_is_no_longer_offered_once_the_window_has_passed(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings
) -> None:
    # given a resolved incident whose resolution is older than the reopen window
    import datetime as dt

    from sqlalchemy import update

    from api.incidents.models import Incident

    world = World(database, settings, cast, cast.ambulance_id)
    pk, _ = world.incident("RESOLVED")
    with database.transaction() as s:
        s.execute(update(Incident).where(Incident.id == pk).values(
            resolved_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=settings.incident_reopen_window_hours + 1)))
    # when
    body = await gql(client, ALLOWED, {"id": gid("Incident", pk)}, token=cast.citizen.token)
    tried = await gql(client, REOPEN, {"input": {"id": gid("Incident", pk), "reason": "Vẫn còn"}}, token=cast.citizen.token)
    # then
    assert body["data"]["incident"]["allowedActions"] == []
    assert [e["code"] for e in tried["data"]["reopenIncident"]["errors"]] == ["REOPEN_WINDOW_CLOSED"]


@pytest.mark.parametrize("who", ["dispatcher", "responder"])
async def test_allowed_actions_cost_the_same_statements_for_5_or_50_incidents(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings, who: str
) -> None:
    # given 60 incidents, resolved and closed ones among them (where being a reporter matters), all of which
    # the patrol was sent to (so its responder sees them and may resolve the dispatched ones)
    world = World(database, settings, cast, cast.ambulance_id)
    for i in range(60):
        world.incident(("DISPATCHED", "RESOLVED", "CLOSED")[i % 3])
    token = cast.dispatcher.token if who == "dispatcher" else cast.responder.token
    await gql(client, LIST, {"first": 1}, token=token)  # warm-up
    # when
    with count_statements(database) as small:
        few = await gql(client, LIST, {"first": 5}, token=token)
    with count_statements(database) as large:
        many = await gql(client, LIST, {"first": 50}, token=token)
    # then
    nodes = [e["node"] for e in many["data"]["incidents"]["edges"]]
    assert len(few["data"]["incidents"]["edges"]) == 5 and len(nodes) == 50
    expected = {"dispatcher": {"DISPATCHED": ["DISPATCH", "RESOLVE", "MERGE", "SPLIT"], "RESOLVED": ["CLOSE"],
                               "CLOSED": []},
                "responder": {"DISPATCHED": ["RESOLVE"], "RESOLVED": [], "CLOSED": []}}[who]
    assert all(n["allowedActions"] == expected[n["state"]] for n in nodes)
    assert len(large) == len(small), (small, large)
