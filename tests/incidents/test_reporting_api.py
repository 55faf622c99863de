"""Filing reports: idempotent retries (also under concurrency), duplicates, merge and split, the hotline."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
from sqlalchemy import func, select

from api.config import Settings
from api.core.auth import Principal, Role
from api.db import Database
from api.incidents import filing
from api.incidents.models import HotlineCall, Incident, IncidentEvent, Report
from tests.conftest import gql
from tests.incidents.conftest import Cast, gid
from tests.incidents.operations import HOTLINE, INCIDENT, MERGE, REPORT, SPLIT, elsewhere, report, run


def _count(database: Database, model: type) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


async def test_a_retry_with_the_same_key_returns_the_first_result(client: httpx.AsyncClient, cast: Cast,
                                                                  database: Database) -> None:
    # given
    values = {"category": "THEFT", "description": "Mất điện thoại", "location": elsewhere(),
              "idempotencyKey": str(uuid.uuid4())}
    # when
    first = await gql(client, REPORT, {"input": values}, token=cast.citizen.token)
    again = await gql(client, REPORT, {"input": values}, token=cast.citizen.token)
    # then
    assert first["data"] == again["data"]
    assert _count(database, Incident) == 1 and _count(database, Report) == 1


async def test_the_same_key_with_different_input_is_a_conflict(client: httpx.AsyncClient, cast: Cast,
                                                               database: Database) -> None:
    # given
    key = str(uuid.uuid4())
    await report(client, cast.citizen.token, idempotencyKey=key, description="Mất điện thoại")
    # when
    conflict = await report(client, cast.citizen.token, idempotencyKey=key, description="Mất ví")
    other_person = await report(client, cast.other_citizen.token, idempotencyKey=key)
    # then
    assert conflict["incident"] is None
    assert [(e["field"], e["code"]) for e in conflict["errors"]] == [("idempotencyKey", "IDEMPOTENCY_CONFLICT")]
    assert other_person["errors"] == []  # keys belong to their reporter
    assert _count(database, Report) == 2


async def test_twenty_concurrent_identical_retries_create_one_incident(client: httpx.AsyncClient, cast: Cast,
                                                                       database: Database) -> None:
    # given
    values = {"category": "TRAFFIC_ACCIDENT", "description": "Va chạm xe máy", "location": elsewhere(),
              "idempotencyKey": str(uuid.uuid4())}
    # when
    bodies = await asyncio.gather(*(gql(client, REPORT, {"input": values}, token=cast.citizen.token)
                                    for _ in range(20)))
    # then
    ids = {b["data"]["reportIncident"]["incident"]["id"] for b in bodies}
    assert len(ids) == 1
    assert all(b["data"]["reportIncident"]["errors"] == [] for b in bodies)
    assert _count(database, Incident) == 1 and _count(database, Report) == 1
    assert _count(database, IncidentEvent) == 1


def test_twenty_threads_filing_the_same_report_at_once_create_one_incident(database: Database, settings: Settings,
                                                                           cast: Cast) -> None:
    # given: real concurrency, each thread with its own connection (on PostgreSQL the unique index decides)
    principal = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display="t")
    data = filing.NewReport(category="FIRE", description="Cháy", lat=10.3, lng=103.9, occurred_at=None,
                           idempotency_key=str(uuid.uuid4()))
    barrier = threading.Barrier(20)
    results: list[int] = []
    errors: list[BaseException] = []

    def file() -> None:
        try:
            barrier.wait()
            with database.transaction() as session:
                filed = filing.report_incident(db_session=session, settings=settings, principal=principal, data=data)
                results.append(filed.incident.id or 0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=file) for _ in range(20)]
    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 1
    assert _count(database, Incident) == 1 and _count(database, Report) == 1


def test_people_reporting_the_same_spot_at_the_same_instant_make_one_incident(
        database: Database, settings: Settings, cast: Cast) -> None:
    # given: six residents around one crash, each 0-60 m from it and from each other, and a seventh 2 km away
    # (rounds of them, all released at once; without the area lock each would look for an open incident
    # before any had committed one, and file their own)
    people = [Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.citizen.account_id, display=f"t{i}")
              for i in range(7)]
    errors: list[BaseException] = []

    def file(principal: Principal, lat: float, lng: float, barrier: threading.Barrier) -> None:
        data = filing.NewReport(category="TRAFFIC_ACCIDENT", description="Va chạm", lat=lat, lng=lng,
                                occurred_at=None, idempotency_key=str(uuid.uuid4()))
        try:
            barrier.wait()
            with database.transaction() as session:
                filing.report_incident(db_session=session, settings=settings, principal=principal, data=data)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    for round_number in range(5):
        lat, lng = 10.15 + round_number * 0.05, 103.95  # each round at its own crash, 5 km apart
        barrier = threading.Barrier(7)
        spots = [(lat + i * 0.0001, lng + (i % 2) * 0.0001) for i in range(6)] + [(lat + 0.02, lng)]
        threads = [threading.Thread(target=file, args=(p, a, b, barrier)) for p, (a, b) in zip(people, spots, strict=True)]
        # when
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    # then: per round, one incident with six reports, and the far one alone
    assert errors == []
    with database.session() as s:
        counts = sorted(s.scalars(select(Incident.report_count)).all())
    assert counts == [1] * 5 + [6] * 5


async def test_a_report_near_an_open_incident_attaches_to_it(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    place = elsewhere()
    first = await report(client, cast.citizen.token, category="TRAFFIC_ACCIDENT", location=place)
    near = {"lat": place["lat"] + 0.001, "lng": place["lng"]}  # ~111 m
    far = {"lat": place["lat"] + 0.004, "lng": place["lng"]}   # ~444 m
    # when
    medical = await report(client, cast.other_citizen.token, category="MEDICAL", location=near)
    other_place = await report(client, cast.other_citizen.token, category="TRAFFIC_ACCIDENT", location=far)
    other_kind = await report(client, cast.other_citizen.token, category="ENVIRONMENT", location=near)
    # then
    assert medical["attachedToExisting"] is True
    assert medical["incident"]["id"] == first["incident"]["id"] and medical["incident"]["reportCount"] == 2
    assert other_place["attachedToExisting"] is False
    assert other_kind["attachedToExisting"] is False
    mine = await gql(client, "{ myIncidents(first: 10) { edges { node { id reportCount } } } }",
                     token=cast.other_citizen.token)
    assert first["incident"]["id"] in [e["node"]["id"] for e in mine["data"]["myIncidents"]["edges"]]


async def test_closed_incidents_do_not_collect_new_reports(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    place = elsewhere()
    first = await report(client, cast.citizen.token, location=place)
    await run(client, "mutation($input: RejectIncidentInput!) { rejectIncident(input: $input) { errors { code } } }",
              cast.dispatcher.token, id=first["incident"]["id"], reason="Sai")
    # when
    second = await report(client, cast.other_citizen.token, location=place)
    # then
    assert second["attachedToExisting"] is False and second["incident"]["id"] != first["incident"]["id"]


async def test_merge_moves_reports_and_reporters_to_the_target(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    a = (await report(client, cast.citizen.token))["incident"]
    b = (await report(client, cast.other_citizen.token))["incident"]
    d = cast.dispatcher.token
    # when
    itself = await run(client, MERGE, d, sourceId=a["id"], targetId=a["id"])
    merged = await run(client, MERGE, d, sourceId=b["id"], targetId=a["id"])
    again = await run(client, MERGE, d, sourceId=b["id"], targetId=a["id"])
    into_merged = await run(client, MERGE, d, sourceId=a["id"], targetId=b["id"])
    # then
    assert [e["code"] for e in itself["errors"]] == ["SAME_INCIDENT"]
    assert merged["source"] == {"id": b["id"], "state": "MERGED", "mergedIntoId": a["id"], "reportCount": 0}
    assert merged["target"]["reportCount"] == 2
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]
    assert [(e["field"], e["code"]) for e in into_merged["errors"]] == [("targetId", "INVALID_STATE")]
    followed = await gql(client, INCIDENT, {"id": a["id"]}, token=cast.other_citizen.token)
    assert followed["data"]["incident"]["id"] == a["id"]  # the merged reporter now follows the target


async def test_split_moves_one_report_to_a_new_incident(client: httpx.AsyncClient, cast: Cast,
                                                        database: Database) -> None:
    # given
    place = elsewhere()
    first = (await report(client, cast.citizen.token, location=place))["incident"]
    await report(client, cast.other_citizen.token, location=place, description="Thực ra là đánh nhau",
                 category="PUBLIC_ORDER")
    with database.session() as s:
        reports = list(s.scalars(select(Report).order_by(Report.id)))
    d = cast.dispatcher.token
    # when
    split = await run(client, SPLIT, d, reportId=reports[1].id, note="Hai sự việc khác nhau")
    only = await run(client, SPLIT, d, reportId=reports[0].id)
    unknown = await run(client, SPLIT, d, reportId=999999)
    # then
    assert split["errors"] == []
    assert split["source"] == {"id": first["id"], "reportCount": 1}
    assert split["incident"]["id"] != first["id"]
    assert split["incident"]["category"] == "PUBLIC_ORDER" and split["incident"]["reportCount"] == 1
    assert [(e["field"], e["code"]) for e in only["errors"]] == [("reportId", "INVALID")]
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("reportId", "NOT_FOUND")]
    mine = await gql(client, INCIDENT, {"id": split["incident"]["id"]}, token=cast.other_citizen.token)
    assert mine["data"]["incident"]["timeline"][-1]["kind"] == "SPLIT_FROM"


async def test_a_hotline_call_creates_an_incident_or_joins_one(client: httpx.AsyncClient, cast: Cast,
                                                               database: Database) -> None:
    # given
    d = cast.dispatcher.token
    call = {"category": "TOURIST_COMPLAINT", "description": "Taxi tính giá gấp ba", "callerName": "John Smith",
            "callbackNumber": "+447700900123", "language": "en", "tourist": True, "location": elsewhere()}
    # when
    created = await run(client, HOTLINE, d, **call)
    joined = await run(client, HOTLINE, d, category="TOURIST_COMPLAINT", description="Cùng vụ",
                       callerName="Jane", incidentId=created["incident"]["id"])
    nowhere = await run(client, HOTLINE, d, category="OTHER", description="?")
    citizen = await gql(client, HOTLINE, {"input": call}, token=cast.citizen.token)
    # then
    assert created["errors"] == [] and created["attachedToExisting"] is False
    assert created["incident"]["channel"] == "HOTLINE"
    assert created["incident"]["reporter"] == {"fullName": "John Smith", "phone": "+447700900123"}
    assert joined["attachedToExisting"] is True and joined["incident"]["reportCount"] == 2
    assert [(e["field"], e["code"]) for e in nowhere["errors"]] == [("location", "LOCATION_REQUIRED")]
    assert citizen["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with database.session() as s:
        rows = list(s.scalars(select(HotlineCall)))
        assert {r.is_tourist for r in rows} == {True, False} and rows[0].language == "en"


async def test_a_hotline_call_retried_with_its_key_is_logged_once(client: httpx.AsyncClient, cast: Cast,
                                                                    database: Database) -> None:
    # given: the console sends a call, the answer is lost, the operator presses Ctrl+Enter again
    d = cast.dispatcher.token
    call = {"category": "THEFT", "description": "Mất ví ở chợ đêm", "callerName": "Lê Văn B",
            "location": elsewhere(), "idempotencyKey": str(uuid.uuid4())}
    # when
    first = await run(client, HOTLINE, d, **call)
    again = await run(client, HOTLINE, d, **call)
    changed = await run(client, HOTLINE, d, **{**call, "description": "Khác"})
    bad_key = await run(client, HOTLINE, d, **{**call, "idempotencyKey": " "})
    # then: the same incident and call; a different call under the same key is refused, and nothing added
    assert first["errors"] == [] and again["errors"] == []
    assert again["incident"]["id"] == first["incident"]["id"] and again["hotlineCallId"] == first["hotlineCallId"]
    assert [(e["field"], e["code"]) for e in changed["errors"]] == [("idempotencyKey", "IDEMPOTENCY_CONFLICT")]
    assert [(e["field"], e["code"]) for e in bad_key["errors"]] == [("idempotencyKey", "INVALID")]
    assert _count(database, HotlineCall) == 1 and _count(database, Incident) == 1 and _count(database, Report) == 1


def test_concurrent_retries_of_a_hotline_call_log_it_once(database: Database, settings: Settings, cast: Cast) -> None:
    # given: ten retries of one call racing (a flaky line between the console and the API)
    operator = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id, display="op",
                         attributes={"unit_code": "31078"})
    call = filing.NewHotlineCall(category="FIRE", description="Cháy nhà", lat=10.25, lng=103.97,
                                 idempotency_key=str(uuid.uuid4()))
    barrier = threading.Barrier(10)
    results: list[int] = []
    errors: list[BaseException] = []

    def log() -> None:
        try:
            barrier.wait()
            with database.transaction() as session:
                results.append(filing.log_hotline_call(db_session=session, settings=settings, principal=operator,
                                                       call=call).incident.id or 0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=log) for _ in range(10)]
    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then
    assert errors == []
    assert len(results) == 10 and len(set(results)) == 1
    assert _count(database, HotlineCall) == 1 and _count(database, Incident) == 1


async def test_invalid_reports_are_refused_with_field_errors(client: httpx.AsyncClient, cast: Cast,
                                                             database: Database) -> None:
    # when
    no_location = await report(client, cast.citizen.token, location=None)
    off_earth = await report(client, cast.citizen.token, location={"lat": 91, "lng": 0})
    future = await report(client, cast.citizen.token, occurredAt="2999-01-01T00:00:00+07:00")
    anonymous = await gql(client, REPORT, {"input": {"category": "THEFT", "idempotencyKey": "k"}})
    # then
    assert [(e["field"], e["code"]) for e in no_location["errors"]] == [("location", "LOCATION_REQUIRED")]
    assert [(e["field"], e["code"]) for e in off_earth["errors"]] == [("location", "INVALID")]
    assert [(e["field"], e["code"]) for e in future["errors"]] == [("occurredAt", "INVALID")]
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert _count(database, Incident) == 0 and _count(database, Report) == 0


async def test_errors_come_in_the_callers_language(client: httpx.AsyncClient, cast: Cast) -> None:
    # when
    body = await gql(client, REPORT, {"input": {"category": "THEFT", "idempotencyKey": "k1"}},
                     token=cast.citizen.token, headers={"accept-language": "vi"})
    # then
    assert body["data"]["reportIncident"]["errors"][0]["message"] == "Cần vị trí, hoặc ảnh có thông tin GPS."


def test_gid_helper_matches_relay() -> None:
    from strawberry import relay

    assert relay.GlobalID.from_id(gid("Incident", 7)).node_id == "7"
