"""A small synchronous GraphQL client for the apps: bearer tokens, refresh, uploads, typed errors.

Synchronous on purpose: the apps call it from worker threads (never the UI thread), and a plain call is
easier to retry and to reason about than a second event loop.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from mobile_common.errors import AuthError, GraphQLError, NetworkError
from mobile_common.tokens import Tokens, TokenStore, parse_time

REFRESH = """mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) {
  accessToken refreshToken expiresAt errors { field code message } } }"""

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Photos take longer: up to 5 × a few MB on a slow mobile uplink.
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)


def graphql_url(server: str) -> str:
    """The /graphql endpoint of a server address such as http://127.0.0.1:8000."""
    server = server.strip().rstrip("/")
    return server if server.endswith("/graphql") else server + "/graphql"


class GraphQLClient:
    """Posts operations to one server; refreshes the session on expiry or a 401, once, then retries."""

    def __init__(self, server: str, *, tokens: TokenStore | None = None, language: str = "vi",
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None) -> None:
        self.url = graphql_url(server)
        self.tokens = tokens
        self.language = language
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    @property
    def server(self) -> str:
        """The server address without /graphql."""
        return self.url.removesuffix("/graphql")

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, *,
                uploads: Mapping[str, Path] | None = None, auth: bool = True) -> dict[str, Any]:
        """Runs an operation and returns its `data`.

        `uploads` maps a variable path (``variables.input.photos.0``) to a file: the request is then a
        GraphQL multipart request. Raises NetworkError (retry later), AuthError (sign in) or GraphQLError.
        """
        token = self._access_token() if auth else None
        response = self._post(query, variables, uploads, token)
        if response.status_code == 401 and auth and self.tokens is not None and self.tokens.signed_in:
            fresh = self.tokens.refresh(token, self._exchange)
            response = self._post(query, variables, uploads, fresh.access_token)
            if response.status_code == 401:
                self.tokens.clear()
                raise AuthError(_first_message(response) or "Signed out.")
        elif response.status_code == 401:
            raise AuthError(_first_message(response) or "Sign in first.")
        return self._data(response)

    def refresh_session(self) -> Tokens:
        """Renews the access token now (single flight); AuthError when the session is over."""
        if self.tokens is None:
            raise AuthError("No session.")
        current = self.tokens.tokens
        return self.tokens.refresh(current.access_token if current else None, self._exchange)

    def access_token(self) -> str | None:
        """A valid access token (refreshed first when about to expire), or None when signed out."""
        return self._access_token()

    def _access_token(self) -> str | None:
        if self.tokens is None or not self.tokens.signed_in:
            return None
        if self.tokens.needs_refresh():
            current = self.tokens.tokens
            return self.tokens.refresh(current.access_token if current else None, self._exchange).access_token
        current = self.tokens.tokens
        return current.access_token if current else None

    def _exchange(self, refresh_token: str) -> Tokens:
        """Spends a refresh token for new tokens (AuthError when refused)."""
        response = self._post(REFRESH, {"input": {"refreshToken": refresh_token}}, None, None)
        payload = self._data(response)["refreshToken"]
        if payload["errors"] or not payload.get("accessToken"):
            message = payload["errors"][0]["message"] if payload["errors"] else "Refresh refused."
            raise AuthError(message)
        return Tokens(access_token=payload["accessToken"], refresh_token=payload["refreshToken"],
                      expires_at=parse_time(payload["expiresAt"]) if payload.get("expiresAt") else None)

    def _post(self, query: str, variables: Mapping[str, Any] | None, uploads: Mapping[str, Path] | None,
              token: str | None) -> httpx.Response:
        headers = {"accept-language": self.language, "accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            if uploads:
                form, files = multipart_body(query, variables or {}, uploads)
                return self._http.post(self.url, data=form, files=files, headers=headers, timeout=UPLOAD_TIMEOUT)
            return self._http.post(self.url, json={"query": query, "variables": dict(variables or {})},
                                   headers=headers)
        except httpx.TransportError as exc:  # connect refused, reset, timeout, DNS
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _data(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise NetworkError(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise NetworkError(f"HTTP {response.status_code}: not JSON") from exc
        if body.get("errors"):
            raise GraphQLError(errors=list(body["errors"]), status=response.status_code)
        if response.status_code >= 400 or body.get("data") is None:
            raise GraphQLError(errors=[], status=response.status_code)
        return dict(body["data"])


def _first_message(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def multipart_body(query: str, variables: Mapping[str, Any], uploads: Mapping[str, Path]
                   ) -> tuple[dict[str, str], list[tuple[str, tuple[str, bytes, str]]]]:
    """The form fields and files of a GraphQL multipart request (operations, map, then one part per file)."""
    variables = json.loads(json.dumps(variables))  # a deep copy we may write nulls into
    mapping: dict[str, list[str]] = {}
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for index, (path, file) in enumerate(uploads.items()):
        _set_null(variables, path)
        mapping[str(index)] = [path]
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        files.append((str(index), (file.name, Path(file).read_bytes(), kind)))
    form = {"operations": json.dumps({"query": query, "variables": variables}), "map": json.dumps(mapping)}
    return form, files


def _set_null(variables: dict[str, Any], path: str) -> None:
    parts: Sequence[str] = path.split(".")
    if parts[0] == "variables":
        parts = parts[1:]
    node: Any = variables
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        while len(node) <= int(last):
            node.append(None)
        node[int(last)] = None
    else:
        node[last] = None
