"""Stores and loads cameras, camera events and traffic violations (flush, never commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from api.cameras.models import Camera, CameraEvent, TrafficViolation


def get_camera(*, db_session: Session, camera_id: int) -> Camera | None:
    """Gets a camera by its id."""
    return db_session.get(Camera, camera_id)


def get_cameras(*, db_session: Session, camera_ids: Sequence[int]) -> list[Camera]:
    """Gets cameras by their ids (missing ones left out)."""
    if not camera_ids:
        return []
    return list(db_session.scalars(select(Camera).where(Camera.id.in_(list(camera_ids)))))  # type: ignore[union-attr]


def get_camera_by_code(*, db_session: Session, code: str) -> Camera | None:
    """Gets a camera by its code."""
    return db_session.scalars(select(Camera).where(Camera.code == code)).first()


def enabled_cameras(*, db_session: Session) -> list[Camera]:
    """The cameras the workers should analyse, by id."""
    return list(db_session.scalars(select(Camera).where(Camera.enabled == True).order_by(Camera.id)))  # noqa: E712


def cameras_query(*, kind: str | None = None, status: str | None = None, enabled: bool | None = None,
                  unit_code: str | None = None, search: str | None = None) -> Select[Any]:
    """Cameras matching a filter (unordered; the caller paginates)."""
    stmt = select(Camera)
    if kind is not None:
        stmt = stmt.where(Camera.kind == kind)
    if status is not None:
        stmt = stmt.where(Camera.status == status)
    if enabled is not None:
        stmt = stmt.where(Camera.enabled == enabled)
    if unit_code is not None:
        stmt = stmt.where(Camera.unit_code == unit_code)
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(Camera.code.ilike(pattern) | Camera.name.ilike(pattern))  # type: ignore[attr-defined]
    return stmt


def add(*, db_session: Session, row: Any) -> Any:
    """Adds a row and flushes it (so it has its id)."""
    db_session.add(row)
    db_session.flush()
    return row


def get_event(*, db_session: Session, event_id: int) -> CameraEvent | None:
    """Gets a camera event by its id."""
    return db_session.get(CameraEvent, event_id)


def get_events(*, db_session: Session, event_ids: Sequence[int]) -> list[CameraEvent]:
    """Gets camera events by their ids."""
    if not event_ids:
        return []
    return list(db_session.scalars(select(CameraEvent).where(CameraEvent.id.in_(list(event_ids)))))  # type: ignore[union-attr]


def get_event_by_key(*, db_session: Session, dedup_key: str) -> CameraEvent | None:
    """Gets the event a worker transition belongs to."""
    return db_session.scalars(select(CameraEvent).where(CameraEvent.dedup_key == dedup_key)).first()


def events_query(*, camera_id: int | None = None, rule: str | None = None, kind: str | None = None,
                 state: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 acknowledged: bool | None = None, raises_incident: bool | None = None) -> Select[Any]:
    """Camera events matching a filter (unordered)."""
    stmt = select(CameraEvent)
    if camera_id is not None:
        stmt = stmt.where(CameraEvent.camera_id == camera_id)
    if rule is not None:
        stmt = stmt.where(CameraEvent.rule == rule)
    if kind is not None:
        stmt = stmt.where(CameraEvent.kind == kind)
    if state is not None:
        stmt = stmt.where(CameraEvent.state == state)
    if since is not None:
        stmt = stmt.where(CameraEvent.started_at >= since)
    if until is not None:
        stmt = stmt.where(CameraEvent.started_at < until)
    if acknowledged is not None:
        column = CameraEvent.acknowledged_at
        stmt = stmt.where(column.is_not(None) if acknowledged else column.is_(None))  # type: ignore[union-attr]
    if raises_incident is not None:
        stmt = stmt.where(CameraEvent.raises_incident == raises_incident)
    return stmt


def get_violation_for_event(*, db_session: Session, event_id: int) -> TrafficViolation | None:
    """Gets the violation recorded from an event."""
    return db_session.scalars(select(TrafficViolation).where(TrafficViolation.event_id == event_id)).first()


def get_violations(*, db_session: Session, violation_ids: Sequence[int]) -> list[TrafficViolation]:
    """Gets traffic violations by their ids."""
    if not violation_ids:
        return []
    stmt = select(TrafficViolation).where(TrafficViolation.id.in_(list(violation_ids)))  # type: ignore[union-attr]
    return list(db_session.scalars(stmt))


def violations_query(*, camera_id: int | None = None, kind: str | None = None, since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> Select[Any]:
    """Traffic violations matching a filter (unordered)."""
    stmt = select(TrafficViolation)
    if camera_id is not None:
        stmt = stmt.where(TrafficViolation.camera_id == camera_id)
    if kind is not None:
        stmt = stmt.where(TrafficViolation.kind == kind)
    if since is not None:
        stmt = stmt.where(TrafficViolation.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(TrafficViolation.occurred_at < until)
    return stmt


def pending_incident_events(*, db_session: Session, limit: int = 100) -> list[CameraEvent]:
    """Events whose rule raises an incident and that have none yet, oldest first."""
    stmt = (select(CameraEvent).where(CameraEvent.raises_incident == True, CameraEvent.incident_id.is_(None))  # noqa: E712  # type: ignore[union-attr]
            .order_by(CameraEvent.id).limit(limit))
    return list(db_session.scalars(stmt))
