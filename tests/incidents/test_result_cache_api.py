"""Cached incident lists: the same answer faster, never stale after a change, never someone else's, and
every personal-data read still audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app, make_result_cache
from api.config import Settings
from api.core.audit import AuditRecord
from api.core.auth import Principal, Role
from api.core.state import AppState
from api.db import Database
from api.incidents import filing
from tests.conftest import gql
from tests.factories import make_api_key
from tests.incidents.conftest import Cast
from tests.incidents.operations import ACKNOWLEDGE, elsewhere, report, run

LIST = "{ incidents(first: 50) { edges { node { id state reporter { fullName } lastEvent { kind } } } } }"


@pytest.fixture
async def cached(state: AppState, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the result cache on (as `smartcity serve` builds it), lifespan included."""
    state.result_cache = make_result_cache(settings.model_copy(update={"result_cache_seconds": 30.0}))
    app = create_app(state.settings, state=state)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield http


def _audited(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(AuditRecord)) or 0


def _ids(body: dict) -> list[str]:
    return [e["node"]["id"] for e in body["data"]["incidents"]["edges"]]


async def test_a_repeated_list_is_served_from_the_cache_and_each_read_audited(
        cached: httpx.AsyncClient, cast: Cast, state: AppState, database: Database) -> None:
    # given: two reports, and a dispatcher who lists them (reporters' names: personal data)
    for _ in range(2):
        await report(cached, cast.citizen.token)
    first = await gql(cached, LIST, token=cast.dispatcher.token)
    audited = _audited(database)
    # when: the same list three more times
    again = [await gql(cached, LIST, token=cast.dispatcher.token) for _ in range(3)]
    # then: the same answer, three hits, and the two reporters' names audited for every read
    assert state.result_cache is not None and state.result_cache.hits == 3
    assert all(body["data"] == first["data"] for body in again)
    assert len(_ids(first)) == 2 and audited == 2
    assert _audited(database) == audited + 3 * 2


async def test_a_change_through_the_api_shows_in_the_next_list(cached: httpx.AsyncClient, cast: Cast) -> None:
    # given
    mine = (await report(cached, cast.citizen.token))["incident"]
    before = await gql(cached, LIST, token=cast.dispatcher.token)
    # when: the dispatcher acknowledges it, and a new report arrives
    await run(cached, ACKNOWLEDGE, cast.dispatcher.token, id=mine["id"])
    other = (await report(cached, cast.other_citizen.token))["incident"]
    after = await gql(cached, LIST, token=cast.dispatcher.token)
    # then
    states = {e["node"]["id"]: e["node"]["state"] for e in after["data"]["incidents"]["edges"]}
    assert _ids(before) == [mine["id"]]
    assert states == {mine["id"]: "ACKNOWLEDGED", other["id"]: "REPORTED"}


async def test_a_change_made_by_another_process_shows_once_its_event_arrives(
        cached: httpx.AsyncClient, cast: Cast, settings: Settings, database: Database, state: AppState) -> None:
    # given: a cached list
    await report(cached, cast.citizen.token)
    before = await gql(cached, LIST, token=cast.dispatcher.token)
    # when: a report filed outside this app's requests (as a worker or another API process would), whose
    # event reaches this process through the bus after the commit
    citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=cast.other_citizen.account_id, display="w")
    spot = elsewhere()
    with database.transaction() as session:
        session.info["bus"] = state.bus
        filing.report_incident(db_session=session, settings=settings, principal=citizen, data=filing.NewReport(
            category="THEFT", description="Mất xe", lat=spot["lat"], lng=spot["lng"], occurred_at=None,
            idempotency_key="elsewhere-1"))
    for _ in range(50):
        after = await gql(cached, LIST, token=cast.dispatcher.token)
        if len(_ids(after)) == 2:
            break
        await asyncio.sleep(0.02)
    # then
    assert len(_ids(before)) == 1 and len(_ids(after)) == 2


async def test_each_caller_gets_their_own_answer(cached: httpx.AsyncClient, cast: Cast) -> None:
    # given: a dispatcher's list is cached
    await report(cached, cast.citizen.token)
    dispatcher = await gql(cached, LIST, token=cast.dispatcher.token)
    # when: a responder whose unit is on nothing, and a key without the personal-data grant, ask the same
    responder = await gql(cached, LIST, token=cast.responder.token)
    key = make_api_key_for(cached)
    third_party = await gql(cached, LIST, token=key)
    third_party_again = await gql(cached, LIST, token=key)
    # then: no one is given the dispatcher's answer
    assert len(_ids(dispatcher)) == 1
    assert responder.get("data") is None or _ids(responder) == []
    assert third_party.get("errors") and third_party_again.get("errors")


def make_api_key_for(client: httpx.AsyncClient) -> str:
    state: AppState = client._transport.app.state.smartcity  # type: ignore[attr-defined]
    return make_api_key(state.db, "third_party", ["incidents:read"])


async def test_answers_with_errors_and_other_root_fields_are_not_cached(
        cached: httpx.AsyncClient, cast: Cast, state: AppState) -> None:
    await report(cached, cast.citizen.token)
    key = make_api_key_for(cached)
    for _ in range(2):
        await gql(cached, LIST, token=key)  # refused personal data: an error
        await gql(cached, "{ rateLimit { remaining } incidents(first: 5) { edges { node { id } } } }",
                  token=cast.dispatcher.token)
    assert state.result_cache is not None and state.result_cache.hits == 0


async def test_an_answer_older_than_its_time_to_live_is_recomputed(
        cached: httpx.AsyncClient, cast: Cast, state: AppState) -> None:
    assert state.result_cache is not None
    state.result_cache.ttl = 0.05
    await report(cached, cast.citizen.token)
    await gql(cached, LIST, token=cast.dispatcher.token)
    await asyncio.sleep(0.1)
    await gql(cached, LIST, token=cast.dispatcher.token)
    assert state.result_cache.hits == 0 and state.result_cache.misses == 2


async def test_a_caller_reads_their_own_write_before_any_event_arrives(
        state: AppState, settings: Settings, cast: Cast) -> None:
    # given: a process whose bus events are slow to come back (as through Redis): here none arrive at all
    state.result_cache = make_result_cache(settings.model_copy(update={"result_cache_seconds": 30.0}))
    state.result_cache.channels = {}
    app = create_app(state.settings, state=state)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        mine = (await report(client, cast.citizen.token))["incident"]
        await gql(client, LIST, token=cast.dispatcher.token)
        # when: the dispatcher acknowledges through this process and lists again at once
        await run(client, ACKNOWLEDGE, cast.dispatcher.token, id=mine["id"])
        after = await gql(client, LIST, token=cast.dispatcher.token)
    # then
    assert after["data"]["incidents"]["edges"][0]["node"]["state"] == "ACKNOWLEDGED"


async def test_a_broken_event_feed_drops_what_was_cached_and_resubscribes() -> None:
    # given: a cache following a bus whose first subscription breaks at once
    from api.core.gql.cache import ResultCache

    class FlakyBus:
        epoch = 0

        def __init__(self) -> None:
            self.subscriptions = 0

        async def subscribe(self, channel: str):  # noqa: ANN201
            self.subscriptions += 1
            if self.subscriptions == 1:
                raise ConnectionError("redis went away")
            yield {"channel": channel}
            await asyncio.sleep(3600)

    cache = ResultCache({"incidents": ("incidents",)}, {"incident_events": "incidents"}, ttl_seconds=30,
                        max_entries=10)
    bus = FlakyBus()
    before = cache.versions(("incidents",))
    # when
    task = asyncio.create_task(cache.follow(bus))
    await asyncio.sleep(1.3)
    task.cancel()
    # then: the break itself ended the cached entries, and the feed came back and was heard
    assert bus.subscriptions == 2
    after = cache.versions(("incidents",))
    assert before is not None and after is not None and after[1] >= before[1] + 2


def test_answers_stored_before_a_gap_in_the_bus_feed_are_not_served() -> None:
    # given: an answer cached while the bus is in its first epoch
    from graphql import ExecutionResult

    from api.core.gql.cache import ResultCache, _Entry

    class Bus:
        epoch: int | None = 1

    cache = ResultCache({"incidents": ("incidents",)}, {"incident_events": "incidents"}, ttl_seconds=30,
                        max_entries=10)
    cache.bus = Bus()
    versions = cache.versions(("incidents",))
    assert versions is not None
    cache.put(b"k", _Entry(versions, __import__("time").monotonic(), ExecutionResult(data={}), ()))
    assert cache.get(b"k", ("incidents",)) is not None
    # when: the feed drops (nothing may be stored or served), then reconnects
    cache.bus.epoch = None
    down = cache.get(b"k", ("incidents",)), cache.versions(("incidents",))
    cache.bus.epoch = 2
    # then
    assert down == (None, None)
    assert cache.get(b"k", ("incidents",)) is None
