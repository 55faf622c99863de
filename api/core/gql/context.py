"""The per-request context: principal, lazily opened session, DataLoaders, language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from sqlmodel import Session
from starlette.requests import Request
from starlette.websockets import WebSocket

from api.core.audit import AuditTrail
from api.core.auth import Principal
from api.core.state import AppState
from api.db import begin_write

L = TypeVar("L")


def pick_language(accept_language: str | None) -> str:
    """'vi' or 'en' from an Accept-Language header; Vietnamese is the default."""
    if not accept_language:
        return "vi"
    best, best_q = "vi", -1.0
    for part in accept_language.split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        code = lang.strip().lower()[:2]
        if code in ("vi", "en") and weight > best_q:
            best, best_q = code, weight
    return best


@dataclass
class Context:
    """Everything a resolver needs for one request (or one websocket connection)."""

    state: AppState
    request: Request | WebSocket | None
    principal: Principal
    request_id: str
    language: str = "vi"
    response: Any = None
    cost: int = 0
    connection_params: dict[str, Any] | None = None
    _session: Session | None = None
    _loaders: dict[type, Any] = field(default_factory=dict)
    _writing: bool = False
    _audit: AuditTrail | None = None

    def audit_trail(self) -> AuditTrail:
        """The request's record of personal-data reads (purpose from the X-Access-Purpose header)."""
        if self._audit is None:
            purpose = ""
            if self.request is not None:
                purpose = self.request.headers.get("x-access-purpose", "")
            self._audit = AuditTrail(self.principal, self.request_id, purpose=purpose or "graphql")
        return self._audit

    @property
    def session(self) -> Session:
        """The request's session, opened on first use and closed when the request ends."""
        if self._session is None:
            self._session = self.state.db.session()
            self._session.info["bus"] = self.state.bus
            self._session.info["principal"] = self.principal
            self._session.info["request_id"] = self.request_id
        return self._session

    def release(self) -> None:
        """Ends the request's read transaction, returning its connection to the pool. Called before every
        await: a request must never hold a connection while it waits, or concurrent requests beyond the
        pool size would block the event loop on checkout (a deadlock)."""
        if self._session is not None and self._session.in_transaction() and not self._writing:
            # Detach first: a rollback expires every loaded row, and rows that GraphQL objects still hold
            # would each be read again (an N+1). Detached rows keep the values they were loaded with.
            self._session.expunge_all()
            # Commit, not roll back, a transaction that only read: the same for the database, but psycopg
            # forgets its prepared statements on every rollback (and sends DEALLOCATE ALL to say so).
            self._session.commit()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """The request's session as one write transaction: committed on success, rolled back on error.
        Keep it free of awaits, so a SQLite write lock is never held across the event loop."""
        session = self.session
        begin_write(session)
        self._writing = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self._writing = False

    def loader(self, cls: type[L]) -> L:
        """The request's instance of a DataLoader class (one per request, so caches never leak)."""
        if cls not in self._loaders:
            self._loaders[cls] = cls(self)  # type: ignore[call-arg]
        return self._loaders[cls]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Rolls back anything uncommitted and returns the connection."""
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None


Info = strawberry.Info[Context, None]
