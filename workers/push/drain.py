"""The outbox drain: claim a batch under a lease, send it, record each result; several senders at once.

A row is claimed by setting it SENDING with a lease (owner + expiry) in a transaction of its own, which
commits before anything is sent. If the sender dies while sending, the lease runs out and another
sender (or the restarted one) claims the row again: at most the batch in flight is sent twice, nothing
is lost. Results are recorded only on rows this claim still owns.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from api.config import Settings
from api.core.metrics import REGISTRY
from api.core.model import utcnow
from api.db import Database
from api.notifications import service, templates
from api.notifications.models import Device, OutboxMessage
from api.notifications.rules import OutboxState
from workers.push.sender import LogSender, Outcome, PushMessage, PushSender, SendResult, backoff_delay

log = logging.getLogger(__name__)

PUSH_SENT = Counter("smartcity_push_sent_total", "Pushes FCM accepted", registry=REGISTRY)
PUSH_FAILED = Counter(
    "smartcity_push_failed_total", "Pushes given up on, by reason", ["reason"], registry=REGISTRY
)
PUSH_RETRIED = Counter("smartcity_push_retried_total", "Pushes put back for another try", registry=REGISTRY)

_OUTBOX = OutboxMessage.__table__
_DEVICE = Device.__table__
_PROCESS = f"{socket.gethostname()[:60]}:{os.getpid()}"


@dataclass(frozen=True)
class Claimed:
    """One outbox row this sender holds, and the message built from it."""

    id: int
    device_id: int
    attempts: int
    last_error: str | None
    message: PushMessage


@dataclass
class DrainReport:
    """What one or more drain passes did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    more: bool = False  # stopped at its time limit with rows perhaps still due

    def add(self, other: DrainReport) -> None:
        """Adds another pass's counts to this one."""
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried


def new_owner() -> str:
    """A lease owner for one claim: host, process, and a random part (two claims never share one)."""
    return f"{_PROCESS}:{uuid.uuid4().hex[:12]}"


def claim(db: Database, *, owner: str, limit: int, lease_seconds: float, now: dt.datetime) -> list[Claimed]:
    """Claims up to `limit` due rows (PENDING, or SENDING with an expired lease) and commits the claim."""
    until = now + dt.timedelta(seconds=lease_seconds)
    due = (
        select(_OUTBOX.c.id)
        .where(_OUTBOX.c.next_attempt_at <= now)
        .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
        .limit(limit)
    )
    values = {
        "state": OutboxState.SENDING.value,
        "lease_owner": owner,
        "lease_expires_at": until,
        "next_attempt_at": until,  # a crashed sender's rows come due again when the lease runs out
    }
    columns = (
        _OUTBOX.c.id, _OUTBOX.c.device_id, _OUTBOX.c.token, _OUTBOX.c.template, _OUTBOX.c.title, _OUTBOX.c.body,
        _OUTBOX.c.data, _OUTBOX.c.collapse_key, _OUTBOX.c.ttl_seconds, _OUTBOX.c.attempts, _OUTBOX.c.last_error,
    )
    with db.transaction() as session:
        if db.is_postgres:
            # Rows another sender is claiming right now are skipped, not waited for.
            ids = [row[0] for row in session.execute(due.with_for_update(skip_locked=True))]
            if not ids:
                return []
            target = _OUTBOX.c.id.in_(ids)
        else:
            # SQLite has one writer at a time (BEGIN IMMEDIATE): the sub-select cannot race.
            target = _OUTBOX.c.id.in_(due)
        rows = session.execute(update(_OUTBOX).where(target).values(**values).returning(*columns)).all()
    return sorted((_claimed(row) for row in rows), key=lambda c: c.id)


def _claimed(row: Any) -> Claimed:
    message = PushMessage(
        key=str(row.id),
        token=row.token,
        title=row.title,
        body=row.body,
        data={str(k): str(v) for k, v in (row.data or {}).items()},
        collapse_key=row.collapse_key,
        ttl_seconds=row.ttl_seconds,
        android_channel=templates.android_channel(row.template),
    )
    return Claimed(row.id, row.device_id, row.attempts, row.last_error, message)


def send(sender: PushSender, claimed: Sequence[Claimed]) -> list[SendResult]:
    """Sends the claimed messages; a sender that raises makes every message of the batch a RETRY."""
    messages = [c.message for c in claimed]
    try:
        results = sender.send(messages)
    except Exception as error:
        log.exception("push sender raised; the batch of %d will be retried", len(messages))
        detail = f"{type(error).__name__}: {error}"
        return [SendResult(m.key, Outcome.RETRY, error_code="SENDER_ERROR", detail=detail) for m in messages]
    by_key = {r.key: r for r in results}
    missing = SendResult("", Outcome.RETRY, error_code="NO_RESULT", detail="the sender returned no result")
    return [by_key.get(m.key, missing) for m in messages]


def record(
    db: Database,
    claimed: Sequence[Claimed],
    results: Sequence[SendResult],
    *,
    owner: str,
    max_attempts: int,
    now: dt.datetime,
    rng: Callable[[], float] = random.random,
) -> DrainReport:
    """Records each result on the rows this claim still owns, in one transaction."""
    report = DrainReport(claimed=len(claimed))
    params: list[dict[str, Any]] = []
    dead_tokens: dict[int, str | None] = {}
    fatal: list[tuple[int, str]] = []
    for row, result in zip(claimed, results, strict=True):
        attempts = row.attempts + 1
        reason = _reason(result)
        change: dict[str, Any] = {
            "b_id": row.id, "b_owner": owner, "b_attempts": attempts, "b_state": OutboxState.FAILED.value,
            "b_next": None, "b_error": reason, "b_message_id": None, "b_sent_at": None, "b_failed_at": now,
        }
        if result.outcome is Outcome.SENT:
            change.update(b_state=OutboxState.SENT.value, b_error=row.last_error,
                          b_message_id=(result.provider_message_id or "")[:200] or None, b_sent_at=now,
                          b_failed_at=None)
            report.sent += 1
        elif result.outcome is Outcome.RETRY and attempts < max_attempts:
            delay = backoff_delay(attempts, retry_after=result.retry_after, rng=rng)
            change.update(b_state=OutboxState.PENDING.value, b_next=now + dt.timedelta(seconds=delay),
                          b_failed_at=None)
            report.retried += 1
        elif result.outcome is Outcome.RETRY:
            change["b_error"] = f"gave up after {attempts} attempts: {reason}"[:500]
            PUSH_FAILED.labels("gave_up").inc()
            report.failed += 1
        elif result.outcome is Outcome.TOKEN_INVALID:
            dead_tokens[row.device_id] = reason
            PUSH_FAILED.labels("token_invalid").inc()
            report.failed += 1
        else:
            fatal.append((row.id, reason))
            PUSH_FAILED.labels("fatal").inc()
            report.failed += 1
        params.append(change)
    params.sort(key=lambda p: p["b_id"])  # one lock order for every sender
    with db.transaction() as session:
        if params:
            session.execute(_RECORD, params)
        _deactivate(session, dead_tokens, now)
    PUSH_SENT.inc(report.sent)
    PUSH_RETRIED.inc(report.retried)
    if fatal:
        log.error(
            "push: %d messages FAILED for good (not retried), e.g. outbox id %d: %s",
            len(fatal), fatal[0][0], fatal[0][1], extra={"outbox_ids": [i for i, _ in fatal[:20]]},
        )
    return report


# One statement shape for every outcome, so a whole batch is one executemany.
_RECORD = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("b_id"),
        _OUTBOX.c.lease_owner == bindparam("b_owner"),
        _OUTBOX.c.state == OutboxState.SENDING.value,
    )
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        lease_expires_at=None,
        last_error=bindparam("b_error"),
        provider_message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_sent_at"),
        failed_at=bindparam("b_failed_at"),
    )
)


def _reason(result: SendResult) -> str | None:
    if result.outcome is Outcome.SENT:
        return None
    text = f"{result.error_code or result.outcome.value.upper()}: {result.detail}".strip()
    return text[:500]


def _deactivate(session: Session, dead_tokens: dict[int, str | None], now: dt.datetime) -> None:
    """Deactivates devices whose token FCM refused, and drops what was still queued for them."""
    for device_id in sorted(dead_tokens):  # devices first and in id order: no lock cycles between senders
        reason = (dead_tokens[device_id] or "TOKEN_INVALID")[:200]
        session.execute(
            update(_DEVICE)
            .where(_DEVICE.c.id == device_id, _DEVICE.c.active.is_(True))
            .values(active=False, deactivated_reason=reason)
        )
    if dead_tokens:
        service.fail_pending_of_devices(
            db_session=session, device_ids=dead_tokens, reason="DEVICE_INACTIVE: its token was refused", now=now
        )


def drain_once(
    db: Database, sender: PushSender, settings: Settings, *, now: dt.datetime | None = None,
    rng: Callable[[], float] = random.random,
) -> DrainReport:
    """Claims one batch, sends it and records the results."""
    owner = new_owner()
    limit = max(1, min(settings.push_batch_size, sender.max_batch))
    claimed = claim(db, owner=owner, limit=limit, lease_seconds=settings.push_lease_seconds, now=now or utcnow())
    if not claimed:
        return DrainReport()
    results = send(sender, claimed)
    # The clock after sending: back-off and sent_at count from when FCM answered.
    return record(db, claimed, results, owner=owner, max_attempts=settings.push_max_attempts,
                  now=utcnow() if now is None else now, rng=rng)


def drain(
    db: Database, sender: PushSender, settings: Settings, *, stopping: threading.Event | None = None,
    max_seconds: float | None = None,
) -> DrainReport:
    """Drains batch after batch until nothing is due, `stopping` is set (checked between batches), or
    `max_seconds` have passed (then `more` is set on the report: rows may still be due)."""
    total = DrainReport()
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    while stopping is None or not stopping.is_set():
        report = drain_once(db, sender, settings)
        total.add(report)
        if report.claimed == 0:
            break
        if deadline is not None and time.monotonic() >= deadline:
            total.more = True
            break
    return total


def make_sender(settings: Settings) -> PushSender:
    """FcmSender when a service account is configured, else the log-only sender (the demo default)."""
    if settings.fcm_credentials_file is None:
        return LogSender()
    from workers.push.fcm import FcmSender

    return FcmSender(settings.fcm_credentials_file, fcm_url=settings.fcm_url)


_SENDER_LOCK = threading.Lock()


def drain_job(ctx: Any) -> bool:
    """The `push.drain` job: sends what is due, one batch at a time, for at most
    `push_drain_run_seconds`, stopping early on shutdown; returns whether rows may still be due (the
    job is chained: the runner starts the next run at once)."""
    with _SENDER_LOCK:
        sender = ctx.extras.get("push.sender")
        if sender is None:
            sender = ctx.extras["push.sender"] = make_sender(ctx.settings)
    report = drain(ctx.db, sender, ctx.settings, stopping=ctx.stopping,
                   max_seconds=ctx.settings.push_drain_run_seconds)
    if report.claimed:
        log.info(
            "push.drain: %d claimed, %d sent, %d retried, %d failed%s",
            report.claimed, report.sent, report.retried, report.failed, "; more due" if report.more else "",
            extra={"job": "push.drain", "sent": report.sent, "failed": report.failed},
        )
    return report.more
