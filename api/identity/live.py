"""A process's memory of which sign-in sessions are live, so an access token costs no database read on
every request, while a sign-out or a revocation still stops its tokens at once.

- An entry says "session S of account A was live when read"; it is used for at most `ttl` seconds.
- Revocations are heard, not waited out: the transaction that revokes sessions names them
  (`revoked(db_session, ids)`); when it commits, this process forgets them before the commit returns, and
  an event on the bus makes every other process forget them too.
- The bus's epoch guards the feed: an entry stored before a gap in it (Redis lost and reconnected), or
  while it is down, is never used, since a revocation published meanwhile was never heard.
- A generation number guards the race between a read and a revocation: an answer read before a
  revocation arrived is not stored after it.
- The TTL bounds what no event reports (a session revoked by hand in the database).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from api.core.bus import queue_event

log = logging.getLogger(__name__)

CHANNEL = "identity.sessions"
_PENDING = "identity.revoked_sessions"
_instances: weakref.WeakSet[LiveSessions] = weakref.WeakSet()


class LiveSessions:
    """Session id -> account id of sessions found live, per process (one per AppState)."""

    def __init__(self, ttl_seconds: float, *, max_entries: int = 100_000, bus: Any = None) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.bus = bus
        self._entries: OrderedDict[str, tuple[int, float, int]] = OrderedDict()
        self._generation = 0
        _instances.add(self)

    def _epoch(self) -> int | None:
        return 0 if self.bus is None else self.bus.epoch

    def generation(self) -> int:
        """Read before asking the database; give it back to `put`."""
        return self._generation

    def get(self, session_id: str) -> int | None:
        """The account of a session known live (None: ask the database)."""
        if self.ttl <= 0:
            return None
        hit = self._entries.get(session_id)
        if hit is None:
            return None
        account_id, stored_at, epoch = hit
        if epoch != self._epoch() or time.monotonic() - stored_at > self.ttl:
            del self._entries[session_id]
            return None
        return account_id

    def put(self, session_id: str, account_id: int, generation: int) -> None:
        """Remembers a session the database just said is live, unless a revocation came in meanwhile."""
        epoch = self._epoch()
        if self.ttl <= 0 or epoch is None or generation != self._generation:
            return
        self._entries[session_id] = (account_id, time.monotonic(), epoch)
        self._entries.move_to_end(session_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, session_ids: Iterable[str]) -> None:
        """Drops sessions that were revoked."""
        self._generation += 1
        for session_id in session_ids:
            self._entries.pop(session_id, None)

    def clear(self) -> None:
        """Drops everything (the feed of revocations broke)."""
        self._generation += 1
        self._entries.clear()

    async def follow(self, bus: Any) -> None:
        """Forgets the sessions other processes revoke; runs for the life of the process."""
        self.bus = bus
        while True:
            try:
                async for message in bus.subscribe(CHANNEL):
                    self.forget(str(s) for s in message.get("sessions", ()))
            except asyncio.CancelledError:
                raise
            except Exception:  # logged, then resubscribed; nothing heard before the break is trusted
                log.warning("live-session cache lost its revocation events; resubscribing", exc_info=True)
            self.clear()
            await asyncio.sleep(1.0)


def revoked(db_session: Session, session_ids: Iterable[str]) -> None:
    """Records, in the revoking transaction, which sessions it revokes: every process forgets them when it
    commits (this one before the commit returns, the others by the bus)."""
    ids = [str(s) for s in session_ids]
    if not ids:
        return
    db_session.info.setdefault(_PENDING, []).extend(ids)
    queue_event(db_session, CHANNEL, {"sessions": ids})


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        for live in list(_instances):
            live.forget(ids)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
