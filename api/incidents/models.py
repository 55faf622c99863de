"""Safe City tables: categories, incidents, reports, the event log, units, assignments, hotline calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from api.core.model import UTCDateTime, utcnow  # naming convention before any table
from api.incidents.rules import (
    AssignmentState,
    Channel,
    EventKind,
    IncidentState,
    Priority,
    Readiness,
    UnitType,
)

__all__ = [
    "IncidentCategory", "Incident", "Report", "IncidentEvent", "IncidentPhoto", "ResponderUnit", "Assignment",
    "HotlineCall", "IncidentState", "Priority", "Channel", "UnitType", "Readiness", "AssignmentState", "EventKind",
]


class IncidentCategory(SQLModel, table=True):
    """A kind of incident with its default priority and suitable responders (reference data)."""

    __tablename__ = "incident_category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_vi: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    default_priority: str = Field(max_length=2)
    responder_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    requires_photo_proof: bool = Field(default=False, description="closing needs a photo of the result")
    active: bool = Field(default=True)


class Incident(SQLModel, table=True):
    """Something that happened and is being handled; its state and stage times come from its events."""

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_state_reported_at", "state", "reported_at"),
        Index("ix_incident_category_reported_at", "category", "reported_at"),
        Index("ix_incident_reported_at_id", "reported_at", "id"),
        Index("ix_incident_lat_lng", "lat", "lng"),
        Index("ix_incident_next_due_at", "next_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=32)
    priority: str = Field(max_length=2, index=True)
    state: str = Field(default=IncidentState.REPORTED.value, max_length=16)
    channel: str = Field(max_length=16, index=True)
    description: str = Field(default="", max_length=4000)
    lat: float | None = Field(default=None)
    lng: float | None = Field(default=None)
    address: str | None = Field(default=None, max_length=300)
    unit_code: str | None = Field(default=None, max_length=32, index=True, description="administrative unit")
    occurred_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispatched_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    arrived_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledge_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispatch_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    arrive_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolve_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, description="earliest open deadline")
    escalated_stages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    report_count: int = Field(default=1)
    reopen_count: int = Field(default=0)
    merged_into_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    rating: int | None = Field(default=None)
    rating_comment: str | None = Field(default=None, max_length=2000)
    rated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_note: str | None = Field(default=None, max_length=4000)
    last_event_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """One submission (app, hotline call, camera, sensor, third party), attached to an incident."""

    __tablename__ = "incident_report"
    __table_args__ = (
        # Idempotency: one report per (reporter, client key); a concurrent retry loses on this index.
        Index("uq_incident_report_reporter_key", "reporter_account_id", "idempotency_key", unique=True),
        Index("ix_incident_report_incident_id_id", "incident_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    reporter_account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    idempotency_key: str | None = Field(default=None, max_length=100)
    request_hash: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=16)
    category: str = Field(max_length=32)
    description: str = Field(default="", max_length=4000)
    lat: float | None = Field(default=None)
    lng: float | None = Field(default=None)
    address: str | None = Field(default=None, max_length=300)
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occurred_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    attached_to_existing: bool = Field(default=False, description="joined an open incident when filed")


class IncidentEvent(SQLModel, table=True):
    """One entry of an incident's append-only log: who, when, what, with note, photos and unit."""

    __tablename__ = "incident_event"
    __table_args__ = (Index("ix_incident_event_incident_id_at_id", "incident_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=24, index=True)
    actor_account_id: int | None = Field(default=None, foreign_key="account.id")
    actor: str = Field(default="system", max_length=200)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=4000)
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unit_id: int | None = Field(default=None, foreign_key="responder_unit.id")
    assignment_state: str | None = Field(default=None, max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class IncidentPhoto(SQLModel, table=True):
    """A stored photo (content-addressed) and the incident whose viewers may see it."""

    __tablename__ = "incident_photo"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="incident_report.id")
    event_id: int | None = Field(default=None, foreign_key="incident_event.id")
    width: int
    height: int
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResponderUnit(SQLModel, table=True):
    """A police patrol, traffic police team, fire engine, ambulance or tourist police team."""

    __tablename__ = "responder_unit"
    __table_args__ = (Index("ix_responder_unit_type_readiness", "type", "readiness"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    type: str = Field(max_length=20)
    readiness: str = Field(default=Readiness.AVAILABLE.value, max_length=16)
    lat: float | None = Field(default=None)
    lng: float | None = Field(default=None)
    located_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    unit_code: str | None = Field(default=None, max_length=32, index=True, description="administrative unit")
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Assignment(SQLModel, table=True):
    """One unit's progress on one incident."""

    __tablename__ = "incident_assignment"
    __table_args__ = (
        Index("uq_incident_assignment_incident_id_unit_id", "incident_id", "unit_id", unique=True),
        Index("ix_incident_assignment_unit_id_state", "unit_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    unit_id: int = Field(foreign_key="responder_unit.id")
    state: str = Field(default=AssignmentState.ASSIGNED.value, max_length=16)
    assigned_by: int | None = Field(default=None, foreign_key="account.id")
    assigned_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    en_route_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_scene_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cleared_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class HotlineCall(SQLModel, table=True):
    """A call to the hotline as the operator logged it; the caller's name and number are personal data."""

    __tablename__ = "hotline_call"
    # One call per operator and client key: a double submit or a retried request logs the call once.
    __table_args__ = (Index("ux_hotline_call_operator_key", "operator_account_id", "idempotency_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    operator_account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    caller_name: str | None = Field(default=None, max_length=100)
    callback_number: str | None = Field(default=None, max_length=20)
    language: str = Field(default="vi", max_length=8)
    is_tourist: bool = Field(default=False)
    notes: str | None = Field(default=None, max_length=4000)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="incident_report.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    idempotency_key: str | None = Field(default=None, max_length=100)
    request_hash: str | None = Field(default=None, max_length=64)
