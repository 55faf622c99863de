"""Responders see the incidents their unit is or was assigned to (with the staff view of them), and of the
others what anyone may see (publicIncidents): in `incidents`, `incident`, `node`, photos and `incidentEvents`."""

from __future__ import annotations

import asyncio

import httpx

from api.core.auth import Principal, Role
from api.core.gql.context import Context
from api.core.state import AppState
from api.db import Database
from tests.conftest import gql
from tests.incidents.conftest import Cast, gid
from tests.incidents.operations import ACKNOWLEDGE, DISPATCH, RESOLVE, UPDATE_ASSIGNMENT, report, run
from tests.incidents.test_photos_api import jpeg, upload

LIST = "{ incidents(first: 50) { totalCount edges { node { id state reporter { fullName } } } } }"
ONE = "query($id: ID!) { incident(id: $id) { id state reporter { fullName } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
PUBLIC = "{ publicIncidents(first: 50) { edges { node { id } } } }"
ASSIGNMENTS = "query($id: ID!) { incident(id: $id) { assignments { id } } }"
EVENTS = "subscription { incidentEvents { kind incidentId unitId } }"


async def _world(client: httpx.AsyncClient, cast: Cast) -> dict[str, str]:
    """Four thefts: one the patrol works, one it worked and resolved, one the ambulance works, one untouched."""
    d = cast.dispatcher.token
    out = {}
    for name in ("working", "worked", "ambulance", "untouched"):
        out[name] = (await report(client, cast.citizen.token))["incident"]["id"]
    for name, unit in (("working", cast.patrol_id), ("worked", cast.patrol_id), ("ambulance", cast.ambulance_id)):
        await run(client, ACKNOWLEDGE, d, id=out[name])
        assert (await run(client, DISPATCH, d, id=out[name], unitIds=[gid("ResponderUnit", unit)]))["errors"] == []
    assert (await run(client, RESOLVE, cast.responder.token, id=out["worked"], resolutionNote="Xong"))["errors"] == []
    return out


async def test_a_responder_sees_only_the_incidents_of_their_unit(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    incidents = await _world(client, cast)
    r = cast.responder.token
    # when
    listed = (await gql(client, LIST, token=r))["data"]["incidents"]
    one = {name: (await gql(client, ONE, {"id": pk}, token=r))["data"]["incident"] for name, pk in incidents.items()}
    node = {name: (await gql(client, NODE, {"id": pk}, token=r))["data"]["node"] for name, pk in incidents.items()}
    public = await gql(client, PUBLIC, token=r)
    everything = (await gql(client, LIST, token=cast.dispatcher.token))["data"]["incidents"]
    # then the list, incident(id) and node agree: their unit's, current or past, with the staff view
    assert {e["node"]["id"] for e in listed["edges"]} == {incidents["working"], incidents["worked"]}
    assert listed["totalCount"] == 2
    assert all(e["node"]["reporter"]["fullName"] == "Nguyễn Văn Thử" for e in listed["edges"])
    assert {k for k, v in one.items() if v} == {"working", "worked"} and one["worked"]["state"] == "RESOLVED"
    assert {k for k, v in node.items() if v} == {"working", "worked"}
    # of the others, what anyone may know; a dispatcher still sees every incident
    assert len(public["data"]["publicIncidents"]["edges"]) == 4
    assert everything["totalCount"] == 4


async def test_a_responder_cannot_read_another_units_assignment_by_id(client: httpx.AsyncClient, cast: Cast) -> None:
    # given the ambulance's assignment
    incidents = await _world(client, cast)
    body = await gql(client, ASSIGNMENTS, {"id": incidents["ambulance"]}, token=cast.dispatcher.token)
    ambulance = body["data"]["incident"]["assignments"][0]["id"]
    own = (await gql(client, ASSIGNMENTS, {"id": incidents["working"]}, token=cast.dispatcher.token)
           )["data"]["incident"]["assignments"][0]["id"]
    # when
    theirs = await gql(client, NODE, {"id": ambulance}, token=cast.responder.token)
    mine = await gql(client, NODE, {"id": own}, token=cast.responder.token)
    updated = await run(client, UPDATE_ASSIGNMENT, cast.responder.token, id=ambulance, state="EN_ROUTE")
    # then
    assert theirs["data"]["node"] is None and mine["data"]["node"] == {"id": own}
    assert [e["code"] for e in updated["errors"]] == ["PERMISSION_DENIED"]


async def test_a_responder_sees_photos_of_their_units_incidents_only(client: httpx.AsyncClient, cast: Cast,
                                                                     database: Database) -> None:
    # given two photo reports, the patrol sent to the first
    d = cast.dispatcher.token
    sent = await upload(client, cast.citizen.token, [("a.jpg", jpeg(320, 200), "image/jpeg")],
                        location={"lat": 10.31, "lng": 103.91})
    other = await upload(client, cast.citizen.token, [("b.jpg", jpeg(200, 320), "image/jpeg")],
                         location={"lat": 10.41, "lng": 103.91})
    await run(client, ACKNOWLEDGE, d, id=sent["incident"]["id"])
    await run(client, DISPATCH, d, id=sent["incident"]["id"], unitIds=[gid("ResponderUnit", cast.patrol_id)])
    # when
    auth = {"authorization": f"Bearer {cast.responder.token}"}
    seen = await client.get(sent["incident"]["photos"][0]["url"], headers=auth)
    unseen = await client.get(other["incident"]["photos"][0]["url"], headers=auth)
    # then
    assert seen.status_code == 200 and unseen.status_code == 404


def _context(state: AppState, principal: Principal) -> Context:
    return Context(state=state, request=None, principal=principal, request_id="test")


async def test_a_responders_live_feed_carries_only_their_units_incidents(
    client: httpx.AsyncClient, cast: Cast, state: AppState
) -> None:
    # given an incident the patrol worked before the feed started, and a responder's feed next to a dispatcher's
    schema = client.app.state.schema  # type: ignore[attr-defined]
    d = cast.dispatcher.token
    earlier = await _world(client, cast)
    responder = Principal(roles=frozenset({Role.RESPONDER}), account_id=cast.responder.account_id, display="r",
                          attributes={"responder_unit_id": cast.patrol_id})
    dispatcher = Principal(roles=frozenset({Role.DISPATCHER}), account_id=cast.dispatcher.account_id, display="d")
    theirs = await schema.subscribe(EVENTS, context_value=_context(state, responder))
    everything = await schema.subscribe(EVENTS, context_value=_context(state, dispatcher))
    received: list[dict] = []
    seen_all: list[dict] = []

    async def drain(feed, into: list[dict]) -> None:  # noqa: ANN001
        async for result in feed:
            assert not result.errors, result.errors
            into.append(result.data["incidentEvents"])

    tasks = [asyncio.ensure_future(drain(theirs, received)), asyncio.ensure_future(drain(everything, seen_all))]
    await asyncio.sleep(0.05)
    # when: a new report (not theirs), the ambulance's incident changes (not theirs), the patrol is sent to the
    # new one (theirs from now on), and the incident the patrol worked earlier is reopened by its reporter
    fresh = (await report(client, cast.citizen.token))["incident"]["id"]
    await run(client, ACKNOWLEDGE, d, id=fresh)
    ambulance_step = (await gql(client, ASSIGNMENTS, {"id": earlier["ambulance"]}, token=d)
                      )["data"]["incident"]["assignments"][0]["id"]
    await run(client, UPDATE_ASSIGNMENT, d, id=ambulance_step, state="EN_ROUTE")
    await run(client, DISPATCH, d, id=fresh, unitIds=[gid("ResponderUnit", cast.patrol_id)])
    reopen = "mutation($input: ReopenIncidentInput!) { reopenIncident(input: $input) { errors { code } } }"
    await run(client, reopen, cast.citizen.token, id=earlier["worked"], reason="Lại bị mất")
    for _ in range(100):
        if len(seen_all) >= 5:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await theirs.aclose()
    await everything.aclose()
    # then the dispatcher got all five events, the responder only the dispatch of the patrol and the reopening
    assert [(e["kind"], e["incidentId"]) for e in seen_all] == [
        ("REPORTED", fresh), ("ACKNOWLEDGED", fresh), ("ASSIGNMENT_UPDATED", earlier["ambulance"]),
        ("DISPATCHED", fresh), ("REOPENED", earlier["worked"])]
    assert [(e["kind"], e["incidentId"]) for e in received] == [("DISPATCHED", fresh), ("REOPENED", earlier["worked"])]
