"""The client against the real API: refresh on expiry and on a 401, one refresh however many threads
notice, sign-out when the refresh is refused; typed errors; the server's messages in the chosen language;
the GraphQL multipart request."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from api.config import Settings
from api.db import Database
from mobile_common.errors import AuthError, GraphQLError, NetworkError
from mobile_common.graphql import GraphQLClient, multipart_body
from mobile_common.tokens import Tokens, TokenStore
from tests.factories import make_person
from tests.mobile_common.live_server import LiveServer, free_port

ME = "query { me { id fullName } }"
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { accessToken errors { field code message } } }"
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
FUTURE = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


class CountingClient(GraphQLClient):
    """Counts refreshToken calls."""

    refreshes = 0

    def _exchange(self, refresh_token: str) -> Tokens:
        type(self).refreshes += 1
        return super()._exchange(refresh_token)


@pytest.fixture
def signed_in(api_database: Database, api_settings: Settings, tmp_path: Path) -> tuple[TokenStore, str]:
    """A token store holding a citizen's real session, and the refresh token it started with."""
    person = make_person(api_database, api_settings, "citizen")
    store = TokenStore(tmp_path / "tokens.json")
    store.set(Tokens(person.token, person.refresh_token, FUTURE))
    return store, person.refresh_token


def test_an_expired_access_token_is_refreshed_before_the_request(live_api: LiveServer,
                                                                 signed_in: tuple[TokenStore, str]) -> None:
    # given: the stored token says it has expired
    store, first_refresh = signed_in
    current = store.tokens
    assert current is not None
    store.set(Tokens(current.access_token, current.refresh_token, PAST))
    # when
    data = GraphQLClient(live_api.url, tokens=store).execute(ME)
    # then: the call worked and the file holds the rotated pair
    assert data["me"]["fullName"] == "Nguyễn Văn Thử"
    saved = json.loads(store.path.read_text())
    assert saved["refresh_token"] != first_refresh
    assert not store.needs_refresh()  # the new expiry came from the server
    assert store.path.stat().st_mode & 0o777 == 0o600


def test_a_401_refreshes_once_and_retries(live_api: LiveServer, signed_in: tuple[TokenStore, str]) -> None:
    # given: a token the server does not accept (revoked, or signed with an old key)
    store, _ = signed_in
    current = store.tokens
    assert current is not None
    store.set(Tokens("not-a-valid-token", current.refresh_token, FUTURE))
    CountingClient.refreshes = 0
    # when
    data = CountingClient(live_api.url, tokens=store).execute(ME)
    # then
    assert data["me"] is not None and CountingClient.refreshes == 1


def test_many_threads_with_a_stale_token_share_one_refresh(live_api: LiveServer,
                                                           signed_in: tuple[TokenStore, str]) -> None:
    # given: refresh tokens rotate, and reusing a spent one ends the session: two refreshes would fail
    store, _ = signed_in
    current = store.tokens
    assert current is not None
    store.set(Tokens("stale", current.refresh_token, FUTURE))
    CountingClient.refreshes = 0
    client = CountingClient(live_api.url, tokens=store)
    results: list[object] = []
    # when
    threads = [threading.Thread(target=lambda: results.append(client.execute(ME)["me"]["id"])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # then
    assert len(results) == 8 and len(set(results)) == 1
    assert CountingClient.refreshes == 1
    assert store.signed_in


def test_a_refused_refresh_signs_out(live_api: LiveServer, signed_in: tuple[TokenStore, str]) -> None:
    # given
    store, _ = signed_in
    store.set(Tokens("stale", "not-a-refresh-token", FUTURE))
    # when / then
    with pytest.raises(AuthError):
        GraphQLClient(live_api.url, tokens=store).execute(ME)
    assert not store.signed_in and not store.path.exists()


def test_errors_are_typed_and_messages_follow_the_language(live_api: LiveServer) -> None:
    wrong = {"input": {"username": "0912999888", "password": "wrong password 1"}}
    vi = GraphQLClient(live_api.url, language="vi").execute(LOGIN, wrong, auth=False)["login"]["errors"][0]
    en = GraphQLClient(live_api.url, language="en").execute(LOGIN, wrong, auth=False)["login"]["errors"][0]
    assert vi["code"] == en["code"] == "INVALID_CREDENTIALS"
    assert vi["message"] != en["message"]
    with pytest.raises(GraphQLError) as bad_query:
        GraphQLClient(live_api.url).execute("query { noSuchField }", auth=False)
    assert "noSuchField" in bad_query.value.message
    with pytest.raises(NetworkError):
        GraphQLClient(f"http://127.0.0.1:{free_port()}").execute(ME)


def test_a_multipart_request_follows_the_spec(tmp_path: Path) -> None:
    # given
    (tmp_path / "a.jpg").write_bytes(b"jpeg")
    (tmp_path / "b.png").write_bytes(b"png")
    # when
    form, files = multipart_body("mutation($input: X!) { x }", {"input": {"category": "FIRE", "photos": [None, None]}},
                                 {"variables.input.photos.0": tmp_path / "a.jpg",
                                  "variables.input.photos.1": tmp_path / "b.png"})
    # then
    assert json.loads(form["operations"])["variables"] == {"input": {"category": "FIRE", "photos": [None, None]}}
    assert json.loads(form["map"]) == {"0": ["variables.input.photos.0"], "1": ["variables.input.photos.1"]}
    assert files == [("0", ("a.jpg", b"jpeg", "image/jpeg")), ("1", ("b.png", b"png", "image/png"))]
