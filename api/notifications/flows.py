"""Notifications that other domains queue inside their own transaction, and device/topic registration.

Other domains call `notify_accounts` / `notify_topic` with their session, before they commit: the outbox
rows are part of the same transaction as the change, so a rollback drops them and a commit keeps them
even if the process dies the next moment. `workers/push/drain.py` sends them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session

from api.core.errors import DomainError
from api.core.model import utcnow
from api.notifications import service, templates
from api.notifications.errors import NotificationsErrorCode as Code
from api.notifications.models import Device, TopicSubscription
from api.notifications.rules import Language, OutboxState, Platform, token_problem, topic_problem


def notify_accounts(
    *,
    db_session: Session,
    account_ids: Iterable[int],
    template: str,
    params: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    collapse_key: str | None = None,
    ttl_seconds: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Queues a push to every active device of the accounts, in the caller's transaction; returns rows."""
    devices = service.active_devices_of(db_session=db_session, account_ids=account_ids)
    if not devices:
        templates.render(template, params, "vi")  # a bad template is a bug even when nobody listens
        return 0
    when = now or utcnow()
    # FCM data values must be strings; the app parses them back.
    payload = {str(k): str(v) for k, v in (data or {}).items()}
    payload.setdefault("template", template)
    texts = {lang: templates.render(template, params, lang) for lang in {d[2] for d in devices}}
    rows = [
        {
            "device_id": device_id,
            "token": token,
            "language": language,
            "template": template,
            "params": dict(params),
            "title": texts[language][0],
            "body": texts[language][1],
            "data": payload,
            "collapse_key": collapse_key,
            "ttl_seconds": ttl_seconds,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": when,
            "created_at": when,
        }
        for device_id, token, language in devices
    ]
    return service.add_outbox_messages(db_session=db_session, rows=rows)


def notify_topic(
    *,
    db_session: Session,
    topic: str,
    template: str,
    params: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    collapse_key: str | None = None,
    ttl_seconds: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Queues a push to every active device of the topic's subscribers; returns rows written."""
    accounts = service.subscribers_of(db_session=db_session, topic=topic)
    return notify_accounts(
        db_session=db_session, account_ids=accounts, template=template, params=params, data=data,
        collapse_key=collapse_key, ttl_seconds=ttl_seconds, now=now,
    )


def register_device(
    *, db_session: Session, account_id: int, token: str, platform: str, language: str,
    now: dt.datetime | None = None,
) -> Device:
    """Registers (or refreshes) a device token for an account; a token seen before moves to this account."""
    if token_problem(token):
        raise DomainError.single(
            Code.TOKEN_INVALID, "This is not a valid device token.", field="token",
            message_vi="Mã thiết bị không hợp lệ.",
        )
    when = now or utcnow()
    device = service.get_device_by_token(db_session=db_session, token=token)
    if device is None:
        device = Device(account_id=account_id, token=token, platform=Platform(platform).value,
                        language=Language(language).value, created_at=when, last_seen_at=when)
    else:
        if device.account_id != account_id:
            # A phone changed hands (or users): what was queued for the previous account must not
            # appear on the new one's screen.
            service.fail_pending_of_devices(
                db_session=db_session, device_ids=[device.id or 0], reason="DEVICE_MOVED: token re-registered",
                now=when,
            )
            device.account_id = account_id
        device.platform = Platform(platform).value
        device.language = Language(language).value
        device.active = True
        device.deactivated_reason = None
        device.last_seen_at = when
    db_session.add(device)
    db_session.flush()
    return device


def unregister_device(*, db_session: Session, account_id: int, token: str, now: dt.datetime | None = None) -> Device:
    """Stops pushes to one of the account's devices (sign-out); its queued messages are dropped."""
    device = service.get_device_by_token(db_session=db_session, token=token)
    if device is None or device.account_id != account_id:
        # Someone else's token is reported as unknown: it tells nothing about who holds it.
        raise DomainError.single(
            "NOT_FOUND", "No device with this token is registered to you.", field="token",
            message_vi="Không có thiết bị nào của bạn với mã này.",
        )
    when = now or utcnow()
    if device.active:
        device.active = False
        device.deactivated_reason = "UNREGISTERED_BY_USER"
        device.last_seen_at = when
        db_session.add(device)
        service.fail_pending_of_devices(
            db_session=db_session, device_ids=[device.id or 0], reason="DEVICE_UNREGISTERED: by its user",
            now=when,
        )
        db_session.flush()
    return device


def subscribe_topic(*, db_session: Session, account_id: int, topic: str) -> list[str]:
    """Subscribes an account to a topic (idempotent); returns the account's topics."""
    _check_topic(topic)
    if service.get_subscription(db_session=db_session, account_id=account_id, topic=topic) is None:
        db_session.add(TopicSubscription(account_id=account_id, topic=topic))
        db_session.flush()
    return service.topics_of(db_session=db_session, account_id=account_id)


def unsubscribe_topic(*, db_session: Session, account_id: int, topic: str) -> list[str]:
    """Unsubscribes an account from a topic (idempotent); returns the account's topics."""
    _check_topic(topic)
    subscription = service.get_subscription(db_session=db_session, account_id=account_id, topic=topic)
    if subscription is not None:
        db_session.delete(subscription)
        db_session.flush()
    return service.topics_of(db_session=db_session, account_id=account_id)


def _check_topic(topic: str) -> None:
    if topic_problem(topic):
        raise DomainError.single(
            Code.TOPIC_INVALID, "A topic is `area:<unit code>` or `category:<category>`.", field="topic",
            message_vi="Chủ đề phải có dạng `area:<mã đơn vị>` hoặc `category:<loại>`.",
        )
