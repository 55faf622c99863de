"""Factories for notification tests: devices and outbox rows in bulk, without the GraphQL layer."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from api.core.model import utcnow
from api.db import Database
from api.notifications import flows
from api.notifications.models import Device, OutboxMessage


def make_device(database: Database, account_id: int, token: str, language: str = "vi") -> int:
    """Registers a device for an account and returns its id."""
    with database.transaction() as session:
        device = flows.register_device(db_session=session, account_id=account_id, token=token,
                                       platform="ANDROID", language=language)
        return device.id or 0


def queue_to_tokens(database: Database, account_id: int, tokens: list[str], prefix: str = "m") -> None:
    """Creates one device per token (bulk) and queues one generic alert to each, as notify_accounts would."""
    now = utcnow()
    with database.transaction() as session:
        session.execute(insert(Device.__table__), [
            {"account_id": account_id, "token": t, "platform": "ANDROID", "language": "vi", "active": True,
             "created_at": now, "last_seen_at": now} for t in tokens
        ])
        ids = dict(session.execute(select(Device.token, Device.id).where(Device.token.in_(tokens))).all())
        session.execute(insert(OutboxMessage.__table__), [
            {"device_id": ids[t], "token": t, "language": "vi", "template": "generic_alert",
             "params": {}, "title": "Cảnh báo", "body": f"{prefix} {t}", "data": {"n": t}, "state": "PENDING",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for t in tokens
        ])


def outbox_states(database: Database) -> dict[str, int]:
    """Counts outbox rows by state."""
    with database.session() as session:
        rows = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    return {state: count for state, count in rows}


def outbox_row(database: Database, token: str) -> OutboxMessage:
    """The outbox row queued for a token (there is one in these tests)."""
    with database.session() as session:
        return session.execute(select(OutboxMessage).where(OutboxMessage.token == token)).scalars().one()


def device_row(database: Database, token: str) -> Device:
    """The device with this token."""
    with database.session() as session:
        return session.execute(select(Device).where(Device.token == token)).scalars().one()
