"""Camera operations: registry changes with strict config checks, events recorded idempotently from the
workers (with their traffic violations), status changes and acknowledgements; live events after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from api.cameras import rules, service
from api.cameras.errors import CameraErrorCode as Code
from api.cameras.models import Camera, CameraEvent, TrafficViolation
from api.cameras.rules import CameraStatus, EventState
from api.core.auth import Principal
from api.core.bus import queue_event
from api.core.errors import DomainError, FieldError
from api.core.model import utcnow
from api.identity import service as identity_service

EVENTS_CHANNEL = "camera_events"
STATUS_CHANNEL = "camera_status"
UNSET: Any = object()


@dataclass(frozen=True)
class CameraData:
    """What an admin gives to register a camera."""

    code: str
    name: str
    kind: str
    lat: float
    lng: float
    unit_code: str
    stream_url: str
    config: Any
    analysis_fps: float = 5.0
    analysis_width: int = 320
    enabled: bool = True


@dataclass(frozen=True)
class ObservedEvent:
    """One event transition (new / update / end) as a camera worker reports it, in wall-clock time."""

    rule: str
    rule_type: str
    transition: str  # new | update | end
    started_at: dt.datetime
    detected_at: dt.datetime
    ended_at: dt.datetime | None = None
    track_id: int | None = None
    zone: str | None = None
    direction: str | None = None
    speed_kmh: float | None = None
    signal: str | None = None
    box: list[float] = field(default_factory=list)
    raises_incident: bool = False
    evidence: list[dict[str, Any]] = field(default_factory=list)  # [{kind, path, sha256, bytes}]


def _not_found(what: str = "camera") -> DomainError:
    return DomainError.single(Code.NOT_FOUND, f"This {what} does not exist.", field="id",
                              message_vi="Không tìm thấy camera." if what == "camera"
                              else "Không tìm thấy sự kiện camera.")


def _check(db_session: Session, *, code: str | None, lat: float | None, lng: float | None,
           stream_url: str | None, unit_code: str | None, config: Any, analysis_fps: float | None,
           analysis_width: int | None, exclude_id: int | None = None) -> None:
    errors: list[FieldError] = rules.camera_field_errors(code=code, lat=lat, lng=lng, stream_url=stream_url)
    if analysis_fps is not None and not 0.5 <= analysis_fps <= 30:
        errors.append(FieldError(Code.INVALID.value, "Analysis fps must be between 0.5 and 30.", "analysis_fps",
                                 "Tốc độ phân tích phải từ 0,5 đến 30 khung hình/giây."))
    if analysis_width is not None and not 160 <= analysis_width <= 1920:
        errors.append(FieldError(Code.INVALID.value, "Analysis width must be between 160 and 1920 pixels.",
                                 "analysis_width", "Độ rộng phân tích phải từ 160 đến 1920 điểm ảnh."))
    if unit_code is not None and identity_service.get_unit_by_code(db_session=db_session, code=unit_code) is None:
        errors.append(FieldError(Code.UNIT_UNKNOWN.value, f"No administrative unit has the code {unit_code!r}.",
                                 "unit_code", f"Không có đơn vị hành chính mã {unit_code!r}."))
    if config is not UNSET:
        errors.extend(rules.config_errors(config))
    if code is not None and not errors:
        existing = service.get_camera_by_code(db_session=db_session, code=code)
        if existing is not None and existing.id != exclude_id:
            errors.append(FieldError(Code.CODE_TAKEN.value, f"Another camera already has the code {code}.", "code",
                                     f"Mã camera {code} đã được dùng."))
    if errors:
        raise DomainError(*errors)


def create_camera(*, db_session: Session, data: CameraData) -> Camera:
    """Registers a camera after checking its fields and its zones/rules config; nothing is stored on error."""
    _check(db_session, code=data.code, lat=data.lat, lng=data.lng, stream_url=data.stream_url,
           unit_code=data.unit_code, config=data.config, analysis_fps=data.analysis_fps,
           analysis_width=data.analysis_width)
    row = Camera(code=data.code, name=data.name, kind=rules.CameraKind(data.kind).value, lat=data.lat, lng=data.lng,
                 unit_code=data.unit_code, stream_url=data.stream_url, analysis_fps=data.analysis_fps,
                 analysis_width=data.analysis_width, enabled=data.enabled,
                 config=rules.normalise_config(data.config))
    return service.add(db_session=db_session, row=row)


def update_camera(*, db_session: Session, camera_id: int, changes: dict[str, Any]) -> Camera:
    """Changes the given fields of a camera (same checks as creating one); workers pick it up on reload."""
    row = service.get_camera(db_session=db_session, camera_id=camera_id)
    if row is None:
        raise _not_found()
    _check(db_session, code=changes.get("code"), lat=changes.get("lat"), lng=changes.get("lng"),
           stream_url=changes.get("stream_url"), unit_code=changes.get("unit_code"),
           config=changes.get("config", UNSET), analysis_fps=changes.get("analysis_fps"),
           analysis_width=changes.get("analysis_width"), exclude_id=camera_id)
    for name, value in changes.items():
        if name == "config":
            value = rules.normalise_config(value)
        elif name == "kind":
            value = rules.CameraKind(value).value
        setattr(row, name, value)
    row.updated_at = utcnow()
    return service.add(db_session=db_session, row=row)


def set_camera_status(*, db_session: Session, camera_id: int, status: CameraStatus, at: dt.datetime,
                      reason: str | None = None) -> Camera | None:
    """Records a camera going online or offline (only changes are written and announced)."""
    row = service.get_camera(db_session=db_session, camera_id=camera_id)
    if row is None or row.status == status.value:
        return row
    row.status = status.value
    row.status_changed_at = at
    row.status_reason = (reason or "")[:300] or None
    service.add(db_session=db_session, row=row)
    queue_event(db_session, STATUS_CHANNEL, {"cameraId": row.id, "code": row.code, "status": row.status,
                                             "at": at.isoformat(), "reason": row.status_reason})
    return row


def record_event(*, db_session: Session, camera_id: int, observed: ObservedEvent) -> CameraEvent:
    """Inserts or updates the event a worker transition belongs to (re-sending one changes nothing), records
    its traffic violation, and announces the change on `camera_events` after commit."""
    camera = service.get_camera(db_session=db_session, camera_id=camera_id)
    if camera is None:
        raise _not_found()
    key = rules.dedup_key(camera_id, observed.rule, observed.track_id, observed.started_at)
    row = service.get_event_by_key(db_session=db_session, dedup_key=key)
    ending = observed.transition == "end"
    if row is None:
        row = CameraEvent(
            camera_id=camera_id, dedup_key=key, rule=observed.rule, kind=observed.rule_type,
            track_id=observed.track_id, zone=observed.zone, direction=observed.direction,
            speed_kmh=observed.speed_kmh, signal=observed.signal, box=list(observed.box),
            started_at=observed.started_at, detected_at=observed.detected_at,
            ended_at=observed.ended_at if ending else None,
            state=EventState.CLOSED.value if ending else EventState.OPEN.value,
            evidence=rules.merge_evidence([], observed.evidence), raises_incident=observed.raises_incident,
        )
        changed = True
    else:
        before = (row.state, row.ended_at, row.speed_kmh, row.evidence, row.box)
        if ending:
            row.state, row.ended_at = EventState.CLOSED.value, observed.ended_at
        if observed.speed_kmh is not None:
            row.speed_kmh = max(row.speed_kmh or 0.0, observed.speed_kmh)
        row.evidence = rules.merge_evidence(row.evidence, observed.evidence)
        if observed.box and row.state == EventState.OPEN.value:
            row.box = list(observed.box)
        changed = before != (row.state, row.ended_at, row.speed_kmh, row.evidence, row.box)
        if changed:
            row.updated_at = utcnow()
    if not changed:
        return row
    service.add(db_session=db_session, row=row)
    violation = _record_violation(db_session, camera, row)
    queue_event(db_session, EVENTS_CHANNEL, {
        "id": row.id, "cameraId": camera_id, "cameraCode": camera.code, "unitCode": camera.unit_code,
        "rule": row.rule, "kind": row.kind, "state": row.state, "transition": observed.transition,
        "raisesIncident": row.raises_incident, "violation": violation.kind if violation else None,
        "startedAt": row.started_at.isoformat(),
    })
    return row


def close_stale_events(*, db_session: Session, camera_id: int, at: dt.datetime) -> int:
    """Closes the events a previous run of the camera left open (a crash or a kill); returns how many."""
    rows = db_session.scalars(service.events_query(camera_id=camera_id, state=EventState.OPEN.value)).all()
    for row in rows:
        row.state, row.ended_at, row.updated_at = EventState.CLOSED.value, at, at
        db_session.add(row)
    db_session.flush()
    return len(rows)


def _record_violation(db_session: Session, camera: Camera, event: CameraEvent) -> TrafficViolation | None:
    kind = rules.violation_kind(event.kind)
    if kind is None or event.id is None:
        return None
    row = service.get_violation_for_event(db_session=db_session, event_id=event.id)
    if row is None:
        row = TrafficViolation(event_id=event.id, camera_id=camera.id or 0, kind=kind.value,
                               occurred_at=event.started_at,
                               limit_kmh=rules.speed_limit(camera.config, event.rule) if kind == "SPEEDING" else None)
    row.speed_kmh = event.speed_kmh
    row.evidence = list(event.evidence)
    return service.add(db_session=db_session, row=row)  # type: ignore[no-any-return]


def acknowledge_event(*, db_session: Session, event_id: int, actor: Principal, now: dt.datetime) -> CameraEvent:
    """Marks an event as seen by an operator; acknowledging again keeps the first acknowledgement."""
    row = service.get_event(db_session=db_session, event_id=event_id)
    if row is None:
        raise _not_found("camera event")
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now, actor.account_id
        row.updated_at = now
        service.add(db_session=db_session, row=row)
        queue_event(db_session, EVENTS_CHANNEL, {
            "id": row.id, "cameraId": row.camera_id, "rule": row.rule, "kind": row.kind, "state": row.state,
            "transition": "acknowledged", "raisesIncident": row.raises_incident, "violation": None,
            "startedAt": row.started_at.isoformat(),
        })
    return row


def incident_requests(*, db_session: Session, limit: int = 100) -> list[CameraEvent]:
    """Events whose rule is marked `raise_incident` and that have no incident yet (channel CAMERA).

    The incidents domain is wired in later: it should create one incident per event returned here and
    then call `link_incident` in the same transaction."""
    return service.pending_incident_events(db_session=db_session, limit=limit)


def link_incident(*, db_session: Session, event_id: int, incident_id: int) -> CameraEvent:
    """Records the incident raised for an event."""
    row = service.get_event(db_session=db_session, event_id=event_id)
    if row is None:
        raise _not_found("camera event")
    row.incident_id = incident_id
    return service.add(db_session=db_session, row=row)  # type: ignore[no-any-return]
