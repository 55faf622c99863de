"""GraphQL types for devices, topics and the push outbox summary."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.auth import Role
from api.core.gql.context import Info
from api.core.gql.errors import error_type
from api.notifications import service
from api.notifications.errors import NotificationsErrorCode
from api.notifications.models import Device as DeviceRow
from api.notifications.models import OutboxMessage as OutboxRow

NotificationsError = error_type("NotificationsError", NotificationsErrorCode)


@strawberry.enum(description="Where a device token comes from.")
class DevicePlatform(enum.Enum):
    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


@strawberry.enum(description="The language a device shows notifications in.")
class NotificationLanguage(enum.Enum):
    VI = "vi"
    EN = "en"


@strawberry.type(description="A phone or browser that receives push notifications (never shows its token).")
class Device(relay.Node):
    pk: relay.NodeID[int]
    platform: DevicePlatform
    language: NotificationLanguage
    active: bool
    created_at: dt.datetime
    last_seen_at: dt.datetime
    deactivated_reason: str | None
    account_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: DeviceRow) -> Device:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, platform=DevicePlatform(row.platform),
                   language=NotificationLanguage(row.language), active=row.active, created_at=row.created_at,
                   last_seen_at=row.last_seen_at, deactivated_reason=row.deactivated_reason,
                   account_id=row.account_id)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Only the device's own account, or an admin.
        ids = [int(i) for i in node_ids]
        principal = info.context.principal
        rows = {r.id: r for r in service.get_devices(db_session=info.context.session, device_ids=ids)}
        return [
            cls.from_row(rows[i])
            if i in rows and (rows[i].account_id == principal.account_id or principal.has(Role.ADMIN))
            else None
            for i in ids
        ]


@strawberry.type(description="A push that was given up on, and why.")
class PushFailure:
    id: int = strawberry.field(deprecation_reason="GraphQL Int is 32-bit and outbox ids are 64-bit; use messageId "
                               "(this field errors once an id passes 2,147,483,647)")
    message_id: strawberry.ID = strawberry.field(description="the outbox row's number (64-bit, so a string)")
    device_id: int
    template: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    failed_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: OutboxRow) -> PushFailure:
        """Builds the GraphQL object from a row."""
        return cls(id=row.id or 0, message_id=strawberry.ID(str(row.id)), device_id=row.device_id, template=row.template,
                   attempts=row.attempts, last_error=row.last_error, created_at=row.created_at,
                   failed_at=row.failed_at)


@strawberry.type(description="The push outbox: messages by state, and the latest failures with reasons.")
class PushOutbox:
    pending: int
    sending: int
    sent: int
    failed: int

    @strawberry.field(description="The most recent failures, newest first (at most 100).")
    def recent_failures(self, info: Info, first: int = 20) -> list[PushFailure]:
        limit = max(0, min(first, 100))
        rows = service.recent_failures(db_session=info.context.session, limit=limit)
        return [PushFailure.from_row(r) for r in rows]
