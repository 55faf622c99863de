"""Access tokens without a session read on every request: revocations still end them at once, through this
process's commit or another process's event; nothing is trusted across a gap in the event feed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event, text

from api.config import Settings
from api.core.state import AppState
from api.db import Database
from api.identity.auth import LIVE_SESSIONS
from api.identity.live import CHANNEL, LiveSessions
from tests.conftest import gql
from tests.factories import PASSWORD, make_person

ME = "{ me { fullName } }"


@pytest.fixture
def session_reads(database: Database) -> Iterator[list[str]]:
    """The statements that read a sign-in session, as the database receives them."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN202
        if "FROM auth_session" in statement:
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    yield seen
    event.remove(database.engine, "before_cursor_execute", note)


def _revoke_behind_the_api(database: Database, session_id: str) -> None:
    """A revocation no event announces (by hand in the database)."""
    with database.session() as s:
        s.execute(text("UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP WHERE id = :id"), {"id": session_id})
        s.commit()


def _session_id(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


async def test_a_live_session_is_read_once_then_remembered(
        client: httpx.AsyncClient, database: Database, settings: Settings, session_reads: list[str]) -> None:
    # given
    person = make_person(database, settings)
    # when
    answers = [await gql(client, ME, token=person.token) for _ in range(3)]
    # then: three answers, one read of the session
    assert [a["_status"] for a in answers] == [200, 200, 200]
    assert len(session_reads) == 1


async def test_logout_and_a_password_change_end_remembered_sessions_at_once(
        client: httpx.AsyncClient, database: Database, settings: Settings, state: AppState) -> None:
    # given: a cache that hears no events (this process's own commit must be enough: through Redis its
    # event comes back a round trip later), and two sessions of one person, both used (so both remembered)
    state.extras[LIVE_SESSIONS] = LiveSessions(30, bus=state.bus)
    person = make_person(database, settings)
    login = await gql(client, """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p})
        { accessToken } }""", {"u": person.phone, "p": PASSWORD})
    other = login["data"]["login"]["accessToken"]
    assert (await gql(client, ME, token=other))["_status"] == 200
    assert (await gql(client, ME, token=person.token))["_status"] == 200
    # when: the password changes (other sessions end), then this session signs out
    changed = await gql(client, """mutation($p: String!) { changePassword(input: {currentPassword: $p,
        newPassword: "a much longer new passphrase"}) { ok } }""", {"p": PASSWORD}, token=person.token)
    after_change = await gql(client, ME, token=other)
    still = await gql(client, ME, token=person.token)
    await gql(client, "mutation { logout { ok } }", token=person.token)
    after_logout = await gql(client, ME, token=person.token)
    # then
    assert changed["data"]["changePassword"]["ok"] is True
    assert after_change["_status"] == 401 and still["_status"] == 200
    assert after_logout["_status"] == 401


async def test_a_revocation_announced_by_another_process_ends_the_session_when_its_event_arrives(
        client: httpx.AsyncClient, database: Database, settings: Settings, state: AppState) -> None:
    # given: a remembered session
    person = make_person(database, settings)
    assert (await gql(client, ME, token=person.token))["_status"] == 200
    # when: another API process revokes it (its commit reaches this process only as the bus event)
    _revoke_behind_the_api(database, _session_id(person.token))
    await state.bus.publish(CHANNEL, {"sessions": [_session_id(person.token)]})
    await asyncio.sleep(0.05)
    # then
    assert (await gql(client, ME, token=person.token))["_status"] == 401


async def test_a_revocation_nobody_announced_is_seen_once_the_entry_expires(
        client: httpx.AsyncClient, database: Database, settings: Settings, state: AppState) -> None:
    # given: a cache that remembers for 0.3 s, and a remembered session
    state.extras[LIVE_SESSIONS] = LiveSessions(0.3, bus=state.bus)
    person = make_person(database, settings)
    assert (await gql(client, ME, token=person.token))["_status"] == 200
    # when: revoked in the database without an event
    _revoke_behind_the_api(database, _session_id(person.token))
    soon = await gql(client, ME, token=person.token)
    await asyncio.sleep(0.4)
    later = await gql(client, ME, token=person.token)
    # then: the bound is the TTL
    assert soon["_status"] == 200 and later["_status"] == 401


async def test_nothing_is_remembered_while_the_event_feed_is_down(
        client: httpx.AsyncClient, database: Database, settings: Settings, state: AppState) -> None:
    # given: a bus between connections (no epoch)
    class DownBus:
        epoch = None

    state.extras[LIVE_SESSIONS] = LiveSessions(30, bus=DownBus())
    person = make_person(database, settings)
    assert (await gql(client, ME, token=person.token))["_status"] == 200
    # when
    _revoke_behind_the_api(database, _session_id(person.token))
    # then: read again, so refused at once
    assert (await gql(client, ME, token=person.token))["_status"] == 401


def test_an_answer_read_before_a_revocation_is_not_stored_after_it() -> None:
    # given: a read starts
    live = LiveSessions(30)
    generation = live.generation()
    # when: the session is revoked while the database answers "live", then the answer is stored
    live.forget(["s1"])
    live.put("s1", 7, generation)
    live.put("s2", 8, live.generation())
    # then
    assert live.get("s1") is None and live.get("s2") == 8


def test_entries_from_an_earlier_epoch_of_the_feed_are_not_used() -> None:
    class Bus:
        epoch: int | None = 1

    bus = Bus()
    live = LiveSessions(30, bus=bus)
    live.put("s1", 7, live.generation())
    assert live.get("s1") == 7
    bus.epoch = 2  # reconnected: revocations may have been missed
    assert live.get("s1") is None
