"""Camera tables: the registry of cameras, the events their analysis raises, and traffic violations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from api.cameras.rules import CameraKind, CameraStatus, EventState, ViolationKind
from api.core.model import UTCDateTime, utcnow  # naming convention before any table

__all__ = ["Camera", "CameraEvent", "TrafficViolation", "CameraKind", "CameraStatus", "EventState",
           "ViolationKind"]


class Camera(SQLModel, table=True):
    """One camera of the Phu Quoc network, with the zones and rules its analysis applies."""

    __tablename__ = "camera"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="e.g. PQ-T01; also the evidence folder name")
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16, index=True, description="TRAFFIC or PUBLIC_AREA")
    lat: float
    lng: float
    unit_code: str = Field(max_length=32, index=True, description="administrative unit code, e.g. 31078")
    stream_url: str = Field(max_length=500, description="sub-stream URL; staff only (may carry credentials)")
    analysis_fps: float = Field(default=5.0)
    analysis_width: int = Field(default=320)
    enabled: bool = Field(default=True)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                   description="zones, rules, tuning: api.cameras.config.AnalysisConfig")
    status: str = Field(default="UNKNOWN", max_length=16, description="ONLINE, OFFLINE or UNKNOWN")
    status_changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_reason: str | None = Field(default=None, max_length=300)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CameraEvent(SQLModel, table=True):
    """One analysed event (intrusion, red light, tamper ...), opened and closed by the camera worker."""

    __tablename__ = "camera_event"
    __table_args__ = (
        Index("ix_camera_event_camera_started", "camera_id", "started_at"),
        Index("ix_camera_event_started_id", "started_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(foreign_key="camera.id")
    # camera, rule, track and start: a worker that re-sends a transition updates the same row.
    dedup_key: str = Field(max_length=200, unique=True)
    rule: str = Field(max_length=64, index=True, description="rule name from the camera config")
    kind: str = Field(max_length=32, description="rule type: red_light, intrusion, tamper_covered ...")
    track_id: int | None = Field(default=None)
    zone: str | None = Field(default=None, max_length=64)
    direction: str | None = Field(default=None, max_length=32)
    speed_kmh: float | None = Field(default=None)
    signal: str | None = Field(default=None, max_length=16)
    box: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    detected_at: dt.datetime = Field(sa_type=UTCDateTime)
    ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str = Field(default="OPEN", max_length=8, description="OPEN or CLOSED")
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                           description="[{kind, path, sha256, bytes}]")
    raises_incident: bool = Field(default=False)
    incident_id: int | None = Field(default=None, index=True, description="incidents.incident.id once raised")
    acknowledged_by: int | None = Field(default=None, foreign_key="account.id")
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrafficViolation(SQLModel, table=True):
    """A traffic offence (vi phạm giao thông) recorded from a camera event, with its evidence."""

    __tablename__ = "traffic_violation"
    __table_args__ = (Index("ix_traffic_violation_occurred_id", "occurred_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="camera_event.id", unique=True)
    camera_id: int = Field(foreign_key="camera.id", index=True)
    kind: str = Field(max_length=16, index=True, description="RED_LIGHT, WRONG_WAY, SPEEDING, NO_PARKING")
    occurred_at: dt.datetime = Field(sa_type=UTCDateTime)
    speed_kmh: float | None = Field(default=None)
    limit_kmh: float | None = Field(default=None)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
