"""The signed-in session on the device: a small JSON file, refreshed once however many callers notice."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mobile_common.errors import AuthError

# Refresh a little before expiry so a request in flight does not arrive with a token that just died.
REFRESH_MARGIN = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Tokens:
    """An access token, the refresh token that replaces it, and when the access token expires."""

    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None = None
    account: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokens:
        """Reads what to_json wrote."""
        expires = data.get("expires_at")
        return cls(access_token=data["access_token"], refresh_token=data["refresh_token"],
                   expires_at=parse_time(expires) if expires else None, account=data.get("account"))


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time from the API, always aware."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def now_utc() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.UTC)


class TokenStore:
    """Tokens kept in `<data dir>/tokens.json` (mode 600), replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._tokens: Tokens | None = self._read()

    def _read(self) -> Tokens | None:
        try:
            return Tokens.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            return None

    def _write(self, tokens: Tokens | None) -> None:
        if tokens is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(tokens.to_json(), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    @property
    def tokens(self) -> Tokens | None:
        """The current tokens, or None when signed out."""
        with self._lock:
            return self._tokens

    @property
    def signed_in(self) -> bool:
        """Whether there is a session to use."""
        return self.tokens is not None

    def set(self, tokens: Tokens | None) -> None:
        """Stores new tokens (None signs out)."""
        with self._lock:
            self._tokens = tokens
            self._write(tokens)

    def clear(self) -> None:
        """Forgets the session."""
        self.set(None)

    def needs_refresh(self, now: dt.datetime | None = None) -> bool:
        """Whether the access token has expired or is about to."""
        tokens = self.tokens
        if tokens is None or tokens.expires_at is None:
            return False
        return tokens.expires_at - REFRESH_MARGIN <= (now or now_utc())

    def refresh(self, stale_access_token: str | None, exchange: Callable[[str], Tokens]) -> Tokens:
        """Replaces the stale access token once, whoever asks: callers that waited get the fresh tokens.

        `exchange(refresh_token)` calls `refreshToken`; it raises AuthError when the server refuses, which
        signs out here. Refresh tokens rotate and a reused one ends the session, hence the single flight.
        """
        with self._refresh_lock:
            current = self.tokens
            if current is None:
                raise AuthError("Not signed in.")
            if current.access_token != stale_access_token and not self.needs_refresh():
                return current  # someone refreshed while this caller waited
            try:
                fresh = exchange(current.refresh_token)
            except AuthError:
                self.clear()
                raise
            if fresh.account is None and current.account is not None:
                fresh = Tokens(fresh.access_token, fresh.refresh_token, fresh.expires_at, current.account)
            self.set(fresh)
            return fresh
