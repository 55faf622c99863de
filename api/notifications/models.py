"""Notification tables: devices, topic subscriptions, and the outbox of pushes to send."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.model import UTCDateTime, utcnow  # naming convention before any table
from api.notifications.rules import MAX_TOKEN_LENGTH, OutboxState

__all__ = ["Device", "TopicSubscription", "OutboxMessage"]


class Device(SQLModel, table=True):
    """A phone or browser that receives pushes for one account; a token belongs to one account at a time."""

    __tablename__ = "device"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token: str = Field(max_length=MAX_TOKEN_LENGTH, unique=True, description="FCM registration token")
    platform: str = Field(max_length=8, description="ANDROID, IOS or WEB")
    language: str = Field(default="vi", max_length=2, description="vi or en: the language of its pushes")
    active: bool = Field(default=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deactivated_reason: str | None = Field(default=None, max_length=200)


class TopicSubscription(SQLModel, table=True):
    """An account follows a topic such as `area:31078` or `category:FIRE`."""

    __tablename__ = "topic_subscription"
    __table_args__ = (UniqueConstraint("account_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    topic: str = Field(max_length=100, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One push to one device, written in the transaction of the change that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # Counts by state and the admin's list of the newest failures.
        Index("ix_outbox_message_state_failed_at", "state", "failed_at"),
    )

    # 64-bit: a city's fan-outs (100,000 at a time) run a 32-bit sequence out within years. SQLite's
    # INTEGER PRIMARY KEY is already 64-bit, and only that spelling keeps it the rowid (auto-numbered).
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    device_id: int = Field(foreign_key="device.id", index=True)
    token: str = Field(max_length=MAX_TOKEN_LENGTH, description="the device's token when it was queued")
    language: str = Field(max_length=2)
    template: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    title: str = Field(max_length=256, description="rendered at enqueue, in the device's language")
    body: str = Field(max_length=2000)
    data: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    collapse_key: str | None = Field(default=None, max_length=100)
    ttl_seconds: int | None = Field(default=None)
    state: str = Field(default=OutboxState.PENDING, max_length=8)
    attempts: int = Field(default=0)
    # Set while there is work to do (PENDING: when to try; SENDING: when the lease runs out), NULL once
    # SENT or FAILED. The claim is then one range scan of this index, which finished rows never enter.
    next_attempt_at: dt.datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    lease_owner: str | None = Field(default=None, max_length=100, description="kept after SENT: who sent it")
    lease_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
