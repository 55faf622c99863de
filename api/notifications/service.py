"""Stores and loads devices, topic subscriptions and outbox messages; flushes, never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlmodel import Session

from api.notifications.models import Device, OutboxMessage, TopicSubscription
from api.notifications.rules import OutboxState

_OUTBOX = OutboxMessage.__table__


def get_device_by_token(*, db_session: Session, token: str) -> Device | None:
    """Gets a device by its token, active or not."""
    return db_session.execute(select(Device).where(Device.token == token)).scalars().first()


def get_devices(*, db_session: Session, device_ids: Iterable[int]) -> list[Device]:
    """Gets devices by id."""
    ids = list(device_ids)
    if not ids:
        return []
    return list(db_session.execute(select(Device).where(Device.id.in_(ids))).scalars())  # type: ignore[union-attr]


def active_devices_of(*, db_session: Session, account_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """Returns (device id, token, language) of the accounts' active devices."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    stmt = (
        select(Device.id, Device.token, Device.language)
        .where(Device.account_id.in_(ids), Device.active.is_(True))  # type: ignore[attr-defined]
        .order_by(Device.id)
    )
    return [(row[0], row[1], row[2]) for row in db_session.execute(stmt)]


def subscribers_of(*, db_session: Session, topic: str) -> list[int]:
    """Returns the ids of accounts subscribed to a topic."""
    stmt = select(TopicSubscription.account_id).where(TopicSubscription.topic == topic)
    return [row[0] for row in db_session.execute(stmt)]


def get_subscription(*, db_session: Session, account_id: int, topic: str) -> TopicSubscription | None:
    """Gets one account's subscription to a topic."""
    stmt = select(TopicSubscription).where(
        TopicSubscription.account_id == account_id, TopicSubscription.topic == topic
    )
    return db_session.execute(stmt).scalars().first()


def topics_of(*, db_session: Session, account_id: int) -> list[str]:
    """Returns the topics an account follows, sorted."""
    stmt = (
        select(TopicSubscription.topic)
        .where(TopicSubscription.account_id == account_id)
        .order_by(TopicSubscription.topic)
    )
    return [row[0] for row in db_session.execute(stmt)]


def add_outbox_messages(*, db_session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Inserts outbox rows in the session's transaction; returns how many."""
    if rows:
        db_session.execute(insert(_OUTBOX), list(rows))
    return len(rows)


def fail_pending_of_devices(
    *, db_session: Session, device_ids: Iterable[int], reason: str, now: dt.datetime
) -> int:
    """Marks the devices' PENDING messages FAILED (the token is gone or now someone else's)."""
    ids = sorted(set(device_ids))
    if not ids:
        return 0
    result = db_session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.device_id.in_(ids), _OUTBOX.c.state == OutboxState.PENDING.value)
        .values(state=OutboxState.FAILED.value, last_error=reason[:500], next_attempt_at=None, failed_at=now)
    )
    return int(result.rowcount or 0)


def outbox_counts(*, db_session: Session) -> dict[str, int]:
    """Returns how many outbox messages are in each state."""
    stmt = select(_OUTBOX.c.state, func.count()).group_by(_OUTBOX.c.state)
    counts = {state.value: 0 for state in OutboxState}
    counts.update({row[0]: int(row[1]) for row in db_session.execute(stmt)})
    return counts


def recent_failures(*, db_session: Session, limit: int) -> list[OutboxMessage]:
    """Returns the most recently FAILED outbox messages, newest first."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED.value)
        .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return list(db_session.execute(stmt).scalars())


def outbox_window_end(*, db_session: Session, after_id: int, size: int) -> tuple[int, dt.datetime] | None:
    """The last of the next `size` outbox rows after `after_id` in id order: (id, created_at), or None."""
    window = select(_OUTBOX.c.id).where(_OUTBOX.c.id > after_id).order_by(_OUTBOX.c.id).limit(size).subquery()
    last = select(func.max(window.c.id)).scalar_subquery()
    row = db_session.execute(select(_OUTBOX.c.id, _OUTBOX.c.created_at).where(_OUTBOX.c.id == last)).first()
    return None if row is None else (int(row[0]), row[1])


def delete_finished_outbox(
    *, db_session: Session, after_id: int, up_to_id: int, sent_before: dt.datetime, failed_before: dt.datetime
) -> int:
    """Deletes, among ids in (after_id, up_to_id], SENT rows sent before `sent_before` and FAILED rows
    failed before `failed_before`; returns how many. PENDING and SENDING rows are never touched."""
    result = db_session.execute(
        delete(_OUTBOX).where(
            _OUTBOX.c.id > after_id,
            _OUTBOX.c.id <= up_to_id,
            or_(
                and_(_OUTBOX.c.state == OutboxState.SENT.value, _OUTBOX.c.sent_at < sent_before),
                and_(_OUTBOX.c.state == OutboxState.FAILED.value, _OUTBOX.c.failed_at < failed_before),
            ),
        )
    )
    return int(result.rowcount or 0)
