"""The offline outbox: what a person files is on disk before the first send, and is sent exactly once.

Each item holds a GraphQL operation's variables, an idempotency key chosen when it was written, and copies
of its photos in the app's own directory (the gallery file may be gone by the time the network is back).
The sender takes the oldest pending item first and keeps the order: when it cannot reach the server it
waits with exponential back-off and jitter and tries the same item again, whole (photos included) and with
the same key, so an upload cut half-way or an answer lost on the way back creates nothing twice.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import random
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobile_common.errors import AuthError, GraphQLError, NetworkError

log = logging.getLogger("mobile_common.outbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_item (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  variables TEXT NOT NULL,
  photos TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at REAL NOT NULL DEFAULT 0,
  last_error TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  server_id TEXT,
  created_at REAL NOT NULL,
  sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_item_state ON outbox_item (state, id);
"""


class ItemState(enum.StrEnum):
    """Where an item is: waiting, delivered, or refused by the server (the person must change it)."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


@dataclass(frozen=True)
class OutboxItem:
    """One thing to send."""

    id: int
    kind: str
    idempotency_key: str
    variables: dict[str, Any]
    photos: tuple[Path, ...]
    state: ItemState
    attempts: int
    next_attempt_at: float
    last_error: str | None
    errors: tuple[dict[str, Any], ...]
    server_id: str | None
    created_at: float
    sent_at: float | None


@dataclass(frozen=True)
class Delivered:
    """The server accepted the item; `server_id` is what it created (or had created for this key)."""

    server_id: str


@dataclass(frozen=True)
class Rejected:
    """The server refused the item's content (payload `errors`): resending it as is would fail again."""

    errors: Sequence[dict[str, Any]] = field(default_factory=tuple)


Outcome = Delivered | Rejected
Deliver = Callable[[OutboxItem], Outcome]


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: base·2^(n-1) capped, then a random share of it ("equal jitter")."""

    base: float = 2.0
    cap: float = 300.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after `attempts` failed attempts."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class Outbox:
    """The items, in a SQLite file under the app's data directory; photos copied next to it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "outbox"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "outbox.sqlite3"
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One short connection per call: callers live on different threads, and WAL plus synchronous=FULL
        # means a committed item is on disk when add() returns, even if the app is killed right after.
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.row_factory = sqlite3.Row
        return conn

    def add(self, kind: str, variables: dict[str, Any], photos: Sequence[Path] = (), *,
            idempotency_key: str | None = None, now: float | None = None) -> OutboxItem:
        """Writes an item (photos copied first) and returns it; the key goes into variables.input."""
        key = idempotency_key or str(uuid.uuid4())
        folder = self.files_dir / key
        folder.mkdir(parents=True, exist_ok=True)
        copies = []
        for index, photo in enumerate(photos):
            target = folder / f"{index}{Path(photo).suffix.lower() or '.jpg'}"
            shutil.copyfile(photo, target)
            with open(target, "rb") as written:
                os.fsync(written.fileno())
            copies.append(str(target))
        variables = json.loads(json.dumps(variables))
        variables.setdefault("input", {})["idempotencyKey"] = key
        created = time.time() if now is None else now
        with self._lock, self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO outbox_item (kind, idempotency_key, variables, photos, state, created_at, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 0)",
                (kind, key, json.dumps(variables), json.dumps(copies), ItemState.PENDING.value, created))
            item_id = cursor.lastrowid
        item = self.get(int(item_id or 0))
        assert item is not None
        return item

    def get(self, item_id: int) -> OutboxItem | None:
        """One item by id."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM outbox_item WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def items(self, *states: ItemState) -> list[OutboxItem]:
        """Items in the given states (all when none), oldest first."""
        with self._connect() as conn:
            if states:
                marks = ",".join("?" * len(states))
                rows = conn.execute(f"SELECT * FROM outbox_item WHERE state IN ({marks}) ORDER BY id",  # noqa: S608
                                    [s.value for s in states]).fetchall()
            else:
                rows = conn.execute("SELECT * FROM outbox_item ORDER BY id").fetchall()
        return [_item(row) for row in rows]

    def next_pending(self) -> OutboxItem | None:
        """The oldest pending item: FIFO, a later item never overtakes an earlier one."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM outbox_item WHERE state = ? ORDER BY id LIMIT 1",
                               (ItemState.PENDING.value,)).fetchone()
        return _item(row) if row else None

    def record_attempt(self, item_id: int, *, error: str, next_attempt_at: float) -> None:
        """Counts a failed attempt and when to try again."""
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE outbox_item SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                         "WHERE id = ?", (error, next_attempt_at, item_id))

    def mark_sent(self, item_id: int, server_id: str, *, now: float | None = None) -> None:
        """The server has it; the photo copies are no longer needed."""
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE outbox_item SET state = ?, server_id = ?, sent_at = ?, attempts = attempts + 1, "
                         "last_error = NULL WHERE id = ?",
                         (ItemState.SENT.value, server_id, time.time() if now is None else now, item_id))
        item = self.get(item_id)
        if item is not None:
            shutil.rmtree(self.files_dir / item.idempotency_key, ignore_errors=True)

    def mark_failed(self, item_id: int, errors: Sequence[dict[str, Any]]) -> None:
        """The server refused the content: kept with its errors for the person, never resent as is."""
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE outbox_item SET state = ?, errors = ?, attempts = attempts + 1 WHERE id = ?",
                         (ItemState.FAILED.value, json.dumps(list(errors)), item_id))

    def retry_now(self) -> None:
        """Makes every pending item due (the network is back, the app came to the front)."""
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE outbox_item SET next_attempt_at = 0 WHERE state = ?", (ItemState.PENDING.value,))

    def discard(self, item_id: int) -> None:
        """Removes an item the person gave up on (or re-filed), with its photo copies."""
        item = self.get(item_id)
        with self._lock, self._connect() as conn:
            conn.execute("DELETE FROM outbox_item WHERE id = ?", (item_id,))
        if item is not None:
            shutil.rmtree(self.files_dir / item.idempotency_key, ignore_errors=True)


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"], kind=row["kind"], idempotency_key=row["idempotency_key"],
        variables=json.loads(row["variables"]), photos=tuple(Path(p) for p in json.loads(row["photos"])),
        state=ItemState(row["state"]), attempts=row["attempts"], next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"], errors=tuple(json.loads(row["errors"])), server_id=row["server_id"],
        created_at=row["created_at"], sent_at=row["sent_at"])


class OutboxSender:
    """Sends due items one at a time, oldest first, on its own thread (or step by step in tests)."""

    def __init__(self, outbox: Outbox, deliver: Deliver, *, backoff: Backoff | None = None,
                 on_change: Callable[[OutboxItem], None] | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox = outbox
        self.deliver = deliver
        self.backoff = backoff or Backoff()
        self.on_change = on_change
        self.rng = rng or random.Random()
        self.clock = clock
        self.paused_for_auth = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """Tries the oldest pending item if it is due; True when it was settled (sent or refused)."""
        item = self.outbox.next_pending()
        if item is None or item.next_attempt_at > self.clock() or self.paused_for_auth:
            return False
        try:
            outcome = self.deliver(item)
        except NetworkError as exc:
            wait = self.backoff.delay(item.attempts + 1, self.rng)
            self.outbox.record_attempt(item.id, error=str(exc), next_attempt_at=self.clock() + wait)
            log.info("outbox item %s not sent (%s); next try in %.1f s", item.id, exc, wait)
            self._notify(item.id)
            return False
        except AuthError as exc:
            # Not the item's fault: keep it, stop until the person signs in again (resume()).
            self.paused_for_auth = True
            self.outbox.record_attempt(item.id, error=f"auth: {exc}", next_attempt_at=0)
            self._notify(item.id)
            return False
        except GraphQLError as exc:
            # A top-level error is a bug or a refusal of the whole request; retrying blindly would loop,
            # so it is kept with the message for the person to see and resend or discard.
            self.outbox.mark_failed(item.id, [{"field": None, "code": exc.code or "ERROR", "message": exc.message}])
            self._notify(item.id)
            return True
        if isinstance(outcome, Delivered):
            self.outbox.mark_sent(item.id, outcome.server_id)
        else:
            self.outbox.mark_failed(item.id, outcome.errors)
        self._notify(item.id)
        return True

    def drain(self) -> int:
        """Sends every due item in order until one cannot be sent; returns how many were settled."""
        settled = 0
        while self.run_once():
            settled += 1
        return settled

    def _notify(self, item_id: int) -> None:
        if self.on_change is not None:
            item = self.outbox.get(item_id)
            if item is not None:
                self.on_change(item)

    def seconds_until_due(self) -> float | None:
        """How long until the oldest pending item is due (None when nothing waits)."""
        item = self.outbox.next_pending()
        if item is None:
            return None
        return max(0.0, item.next_attempt_at - self.clock())

    # --- background thread -------------------------------------------------------------------------------

    def start(self) -> None:
        """Starts sending in the background."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Tries now: a new item, the network came back, the app came to the front."""
        self.outbox.retry_now()
        self._wake.set()

    def resume(self) -> None:
        """Carries on after the person signed in again."""
        self.paused_for_auth = False
        self.kick()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the background thread (an item in flight stays pending and is resent next time)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:  # a bug must not kill the sender: log it and try again later
                log.exception("outbox sender failed")
            wait = self.seconds_until_due()
            self._wake.wait(timeout=60.0 if wait is None or self.paused_for_auth else min(wait, 60.0))
            self._wake.clear()
