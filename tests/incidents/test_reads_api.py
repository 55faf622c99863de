"""Reads: privacy of reporters, the public view, filters, and SQL statements that do not grow with the page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
from sqlalchemy import event, select

from api.config import Settings
from api.core.audit import AuditRecord
from api.core.auth import Principal, Role
from api.db import Database
from api.incidents import dispatch, filing, flows
from tests.conftest import gql
from tests.factories import make_api_key
from tests.incidents.conftest import Cast, gid
from tests.incidents.operations import INCIDENT, elsewhere, report

PUBLIC = """query($f: PublicIncidentFilter) { publicIncidents(first: 50, filter: $f) { edges { node {
  id category state priority approximateLocation { lat lng } reportedAt acknowledgedAt resolvedAt closedAt
  reportCount } } } }"""
LIST = """query($first: Int!) { incidents(first: $first) { edges { node { id state
  reporter { fullName phone } assignments { state unit { name readiness } } lastEvent { kind at } } } } }"""
FILTERED = """query($f: IncidentFilter) { incidents(first: 50, filter: $f) { totalCount edges { node { id } } } }"""


async def test_a_citizen_never_sees_another_reporters_identity(client: httpx.AsyncClient, cast: Cast,
                                                               database: Database) -> None:
    # given: the other citizen's report attached to the first citizen's incident
    place = elsewhere()
    first = (await report(client, cast.citizen.token, location=place))["incident"]
    await report(client, cast.other_citizen.token, location=place)
    # when
    own = await gql(client, INCIDENT, {"id": first["id"]}, token=cast.citizen.token)
    co_reporter = await gql(client, INCIDENT, {"id": first["id"]}, token=cast.other_citizen.token)
    staff = await gql(client, INCIDENT, {"id": first["id"]}, token=cast.dispatcher.token,
                      headers={"x-access-purpose": "dispatch"})
    admin_via_node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": first["id"]},
                               token=cast.admin.token)
    # then
    assert own["data"]["incident"]["reporter"]["fullName"] == "Nguyễn Văn Thử"
    co = co_reporter["data"]["incident"]
    assert co["id"] == first["id"] and co["reporter"] is None and co["reports"] == []
    assert cast.citizen.phone not in orjson.dumps(co_reporter).decode()
    assert staff["data"]["incident"]["reporter"]["phone"] == cast.citizen.phone
    assert len(staff["data"]["incident"]["reports"]) == 2
    assert admin_via_node["data"]["node"] == {"id": first["id"]}
    with database.session() as s:
        audits = list(s.scalars(select(AuditRecord).where(AuditRecord.subject_type == "IncidentReport")))
    assert [(a.actor_account_id, a.purpose, sorted(a.fields)) for a in audits] == [
        (cast.dispatcher.account_id, "dispatch", ["accountId", "fullName", "phone"])]


async def test_someone_elses_incident_is_invisible_to_a_citizen(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    theirs = (await report(client, cast.citizen.token))["incident"]
    # when
    direct = await gql(client, INCIDENT, {"id": theirs["id"]}, token=cast.other_citizen.token)
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": theirs["id"]},
                     token=cast.other_citizen.token)
    listing = await gql(client, LIST, {"first": 5}, token=cast.other_citizen.token)
    # then
    assert direct["data"]["incident"] is None
    assert node["data"]["node"] is None
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_public_incidents_leak_nothing_personal(client: httpx.AsyncClient, cast: Cast, database: Database) -> None:
    # given
    exact = {"lat": 10.216789, "lng": 103.961234}
    await report(client, cast.citizen.token, location=exact, description="Tôi là Nguyễn Văn Thử, gọi 0912345678")
    hotline = ("mutation($input: LogHotlineCallInput!) { logHotlineCall(input: $input) { errors { code } } }")
    await gql(client, hotline, {"input": {"category": "THEFT", "callerName": "Trần Bí Mật", "callbackNumber":
                                          "0987654321", "location": elsewhere(), "description": "Mất xe"}},
              token=cast.dispatcher.token)
    rejected = (await report(client, cast.other_citizen.token))["incident"]
    await gql(client, "mutation($input: RejectIncidentInput!) { rejectIncident(input: $input) { errors { code } } }",
              {"input": {"id": rejected["id"], "reason": "spam"}}, token=cast.dispatcher.token)
    key = make_api_key(database, "third_party", ["incidents:read"])
    # when
    anonymous = await gql(client, PUBLIC)
    third_party = await gql(client, PUBLIC, {"f": {"categories": ["THEFT"]}}, token=key)
    # then
    text = orjson.dumps(anonymous).decode() + orjson.dumps(third_party).decode()
    for secret in ("Nguyễn Văn Thử", "0912345678", "Trần Bí Mật", "0987654321", cast.citizen.phone,
                   "216789", "961234", "description", "reporter"):
        assert secret not in text, secret
    nodes = [e["node"] for e in anonymous["data"]["publicIncidents"]["edges"]]
    assert len(nodes) == 2 and rejected["id"] not in {n["id"] for n in nodes}  # rejected ones stay private
    assert {"lat": 10.217, "lng": 103.961} in [n["approximateLocation"] for n in nodes]
    assert len(third_party["data"]["publicIncidents"]["edges"]) == 2
    assert all(n["id"].startswith(gid("PublicIncident", "")[:8]) for n in nodes)


async def test_staff_filter_by_state_category_priority_channel_area_and_time(client: httpx.AsyncClient,
                                                                              cast: Cast) -> None:
    # given
    fire = (await report(client, cast.citizen.token, category="FIRE"))["incident"]
    theft = (await report(client, cast.citizen.token, category="THEFT"))["incident"]

    async def ids(f: dict) -> set[str]:
        body = await gql(client, FILTERED, {"f": f}, token=cast.police.token)
        return {e["node"]["id"] for e in body["data"]["incidents"]["edges"]}

    # when / then
    assert await ids({"categories": ["FIRE"]}) == {fire["id"]}
    assert await ids({"priorities": ["P3"]}) == {theft["id"]}
    assert await ids({"states": ["REPORTED"], "channels": ["APP"], "unitCode": "31078"}) == {fire["id"], theft["id"]}
    assert await ids({"channels": ["HOTLINE"]}) == set()
    assert await ids({"reportedAfter": "2999-01-01T00:00:00Z"}) == set()
    assert await ids({"reportedBefore": fire["deadlines"]["acknowledgeBy"]}) == {fire["id"], theft["id"]}


def _seed_dispatched(database: Database, settings: Settings, cast: Cast, count: int) -> None:
    citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="c")
    dispatcher = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id, display="d")
    with database.transaction() as s:
        for _ in range(count):
            spot = elsewhere()
            filed = filing.report_incident(db_session=s, settings=settings, principal=citizen, data=filing.NewReport(
                category="THEFT", description="x", lat=spot["lat"] + 0.5, lng=spot["lng"], occurred_at=None,
                idempotency_key=str(uuid.uuid4())))
            flows.acknowledge(db_session=s, principal=dispatcher, incident_id=filed.incident.id or 0)
            dispatch.dispatch(db_session=s, principal=dispatcher, incident_id=filed.incident.id or 0,
                              unit_ids=[cast.patrol_id, cast.ambulance_id])


@contextmanager
def count_statements(database: Database) -> Iterator[list[str]]:
    """Collects every SQL statement run on the engine."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


async def test_the_incident_list_runs_the_same_number_of_statements_for_5_or_50_rows(
    client: httpx.AsyncClient, cast: Cast, database: Database, settings: Settings
) -> None:
    # given
    _seed_dispatched(database, settings, cast, 50)
    await gql(client, LIST, {"first": 1}, token=cast.dispatcher.token)  # warm-up: caches, lazy imports
    # when
    with count_statements(database) as small:
        few = await gql(client, LIST, {"first": 5}, token=cast.dispatcher.token)
    with count_statements(database) as large:
        many = await gql(client, LIST, {"first": 50}, token=cast.dispatcher.token)
    # then
    assert len(few["data"]["incidents"]["edges"]) == 5 and len(many["data"]["incidents"]["edges"]) == 50
    node = many["data"]["incidents"]["edges"][0]["node"]
    assert node["reporter"]["fullName"] and len(node["assignments"]) == 2 and node["lastEvent"]["kind"] == "DISPATCHED"
    def reads(statements: list[str]) -> list[str]:
        # Each staff read of a reporter is audited by design (one audit row per record, written by
        # api/core/audit.py in its own transaction); everything else must not depend on the page size.
        return [s for s in statements if "audit_record" not in s]

    assert len(reads(large)) == len(reads(small)), (reads(small), reads(large))
    selects = [s for s in reads(large) if s.lstrip().upper().startswith("SELECT")]
    # the page (1), reporters (1), assignments with units (1), last events (1); the sign-in session was read
    # by the warm-up and is remembered (api/identity/live.py)
    assert len(selects) == 4, selects
