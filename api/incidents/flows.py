"""Safe City operations: filing reports and hotline calls, the incident lifecycle, merge and split.

Every change appends an IncidentEvent, queues a live event (published after commit) and, where someone
must hear of it, notification outbox rows in the same transaction. Dispatch, units and escalation are in
dispatch.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal
from api.core.bus import queue_event
from api.core.errors import DomainError, FieldError
from api.core.media import PreparedImage, store_image
from api.core.model import utcnow
from api.incidents import rules, service
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.models import HotlineCall, Incident, IncidentEvent, IncidentPhoto, Report
from api.incidents.rules import Action, Channel, EventKind, IncidentState, Stage

log = logging.getLogger(__name__)
CHANNEL = "incident_events"
MEDIA_NAMESPACE = "incidents"
MAX_TEXT = 4000


@dataclass(frozen=True)
class NewReport:
    """What a reporter files from the app."""

    category: str
    description: str
    lat: float | None
    lng: float | None
    occurred_at: dt.datetime | None
    idempotency_key: str
    photos: tuple[PreparedImage, ...] = ()
    address: str | None = None

    def request_hash(self) -> str:
        """A fingerprint of the input: the same key with a different fingerprint is a conflict."""
        body = {"category": self.category, "description": self.description, "lat": self.lat, "lng": self.lng,
                "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
                "address": self.address, "photos": [p.sha256 for p in self.photos]}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class NewHotlineCall:
    """What a hotline operator logs."""

    category: str
    description: str
    caller_name: str | None = None
    callback_number: str | None = None
    language: str = "vi"
    is_tourist: bool = False
    notes: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    occurred_at: dt.datetime | None = None
    incident_id: int | None = None


@dataclass
class Filed:
    """The result of filing a report: the incident it belongs to and whether it joined an open one."""

    incident: Incident
    report: Report
    attached_to_existing: bool
    hotline_call: HotlineCall | None = None


def _error(code: Any, message: str, message_vi: str, field: str | None = "id") -> DomainError:
    return DomainError.single(code, message, field=field, message_vi=message_vi)


def not_found(field: str = "id") -> DomainError:
    """The incident does not exist (or is not the caller's to see)."""
    return _error(Code.NOT_FOUND, "No such incident.", "Không tìm thấy sự việc.", field)


# --- notifications (the notifications domain owns the outbox) --------------------------------------------


def _notify(db_session: Session, account_ids: Sequence[int], template: str, params: Mapping[str, Any],
            data: Mapping[str, Any] | None = None, collapse_key: str | None = None) -> None:
    """Queues pushes in this transaction through the notifications domain; a no-op only while that domain
    is not installed (its absence is the one error swallowed here)."""
    ids = sorted({i for i in account_ids if i})
    if not ids:
        return
    try:
        from api.notifications.flows import notify_accounts
    except ModuleNotFoundError as exc:
        if exc.name not in ("api.notifications", "api.notifications.flows"):
            raise
        return
    notify_accounts(db_session=db_session, account_ids=ids, template=template, params=dict(params),
                    data=dict(data or {}), collapse_key=collapse_key)


def reference(incident: Incident) -> str:
    """How people quote an incident: SC-<id>."""
    return f"SC-{incident.id}"


# --- status, deadlines, events -----------------------------------------------------------------------------


def status_of(incident: Incident) -> rules.Status:
    """The derived status as stored on the incident."""
    return rules.Status(state=IncidentState(incident.state), reported_at=incident.reported_at,
                        acknowledged_at=incident.acknowledged_at, dispatched_at=incident.dispatched_at,
                        arrived_at=incident.arrived_at, resolved_at=incident.resolved_at,
                        closed_at=incident.closed_at)


def deadlines_of(incident: Incident) -> dict[Stage, dt.datetime]:
    """The incident's four deadlines."""
    # Deadlines are set when the incident is filed (set_deadlines), so none is None here.
    return {Stage.ACKNOWLEDGE: incident.acknowledge_due_at, Stage.DISPATCH: incident.dispatch_due_at,  # type: ignore[dict-item]
            Stage.ARRIVE: incident.arrive_due_at, Stage.RESOLVE: incident.resolve_due_at}  # type: ignore[dict-item]


def set_deadlines(incident: Incident, settings: Settings, start: dt.datetime) -> None:
    """Sets the deadlines for the incident's priority counted from `start`."""
    due = rules.DeadlineTable(settings.incident_deadlines_minutes).deadlines(incident.priority, start)
    incident.acknowledge_due_at = due[Stage.ACKNOWLEDGE]
    incident.dispatch_due_at = due[Stage.DISPATCH]
    incident.arrive_due_at = due[Stage.ARRIVE]
    incident.resolve_due_at = due[Stage.RESOLVE]


def refresh_due(incident: Incident) -> None:
    """Recomputes the next deadline the escalation job watches."""
    incident.next_due_at = rules.next_due(status_of(incident), deadlines_of(incident), incident.escalated_stages)


def append_event(
    db_session: Session, incident: Incident, kind: EventKind, principal: Principal | None, now: dt.datetime, *,
    to_state: IncidentState | None = None, note: str | None = None, photos: Sequence[str] = (),
    unit_id: int | None = None, assignment_state: rules.AssignmentState | None = None,
    data: Mapping[str, Any] | None = None, reporters: Sequence[int] | None = None,
) -> IncidentEvent:
    """Appends an event, updates the derived status and deadline watch, and queues the live event."""
    from_state = incident.state
    event = IncidentEvent(
        incident_id=incident.id or 0, at=now, kind=kind.value,
        actor_account_id=principal.account_id if principal else None,
        actor=(principal.display if principal else "system")[:200],
        from_state=from_state, to_state=to_state.value if to_state else None, note=note, photos=list(photos),
        unit_id=unit_id, assignment_state=assignment_state.value if assignment_state else None,
        data=dict(data or {}),
    )
    status = rules.apply_event(status_of(incident), rules.EventFacts(kind, now, to_state, assignment_state))
    for name in ("state", "reported_at", "acknowledged_at", "dispatched_at", "arrived_at", "resolved_at",
                 "closed_at"):
        value = getattr(status, name)
        setattr(incident, name, value.value if isinstance(value, IncidentState) else value)
    incident.last_event_at = now
    refresh_due(incident)
    db_session.add(event)
    db_session.flush()
    if reporters is None:
        reporters = service.reporter_ids(db_session=db_session, incident_id=incident.id or 0)
    queue_event(db_session, CHANNEL, {
        "event_id": event.id, "incident_id": incident.id, "kind": kind.value, "at": now.isoformat(),
        "from_state": from_state, "to_state": event.to_state, "state": incident.state,
        "category": incident.category, "priority": incident.priority, "unit_code": incident.unit_code,
        "channel": incident.channel, "lat": incident.lat, "lng": incident.lng, "unit_id": unit_id,
        "assignment_state": event.assignment_state, "note": note, "reporters": list(reporters),
    })
    if to_state is not None and to_state.value != from_state:
        _notify(db_session, reporters, "incident_status_changed",
                {"reference": reference(incident), "status": to_state.value},
                data={"incidentId": str(incident.id), "state": to_state.value},
                collapse_key=f"incident-{incident.id}")
    return event


def check(db_session: Session, action: Action, incident: Incident, principal: Principal,
          supplied: Mapping[str, object] | None = None) -> None:
    """Raises the state machine's errors for this attempt (permission first, then state, then inputs)."""
    transition = rules.TRANSITIONS[action]
    reporter = transition.by_reporter and service.is_reporter(
        db_session=db_session, incident_id=incident.id or 0, account_id=principal.account_id)
    errors = rules.check_transition(rules.Attempt(action, IncidentState(incident.state), principal.roles,
                                                  reporter, supplied or {}))
    if errors:
        raise DomainError(*errors)


def load(db_session: Session, incident_id: int, *, lock: bool = True) -> Incident:
    """The incident (locked for the transaction), or NOT_FOUND."""
    incident = service.get_incident(db_session=db_session, incident_id=incident_id, for_update=lock)
    if incident is None:
        raise not_found()
    return incident


def _text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise _error(Code.REQUIRED, "This is required.", "Thông tin này là bắt buộc.", field)
    if len(value) > limit:
        raise _error(Code.INVALID, f"At most {limit} characters.", f"Tối đa {limit} ký tự.", field)
    return value or None


def _store_photos(db_session: Session, settings: Settings, incident: Incident, photos: Sequence[PreparedImage], *,
                  report_id: int | None = None, event_id: int | None = None) -> None:
    for photo in photos:
        store_image(settings.media_dir, MEDIA_NAMESPACE, photo)
        db_session.add(IncidentPhoto(sha256=photo.sha256, incident_id=incident.id or 0, report_id=report_id,
                                     event_id=event_id, width=photo.width, height=photo.height))


# --- filing ------------------------------------------------------------------------------------------------


def _validate_report(db_session: Session, settings: Settings, data: NewReport, now: dt.datetime
                     ) -> tuple[float, float, str]:
    """The report's location and its category's default priority, or every problem at once."""
    errors: list[FieldError] = []
    category = service.get_category(db_session=db_session, code=data.category)
    if category is None:
        errors.append(FieldError(Code.UNKNOWN_CATEGORY.value, f"Unknown category {data.category!r}.",
                                 "category", "Loại sự việc không hợp lệ."))
    if not data.idempotency_key.strip() or len(data.idempotency_key) > 100:
        errors.append(FieldError(Code.INVALID.value, "Give a client key of 1 to 100 characters.",
                                 "idempotency_key", "Mã chống gửi trùng phải từ 1 đến 100 ký tự."))
    if len(data.description) > MAX_TEXT:
        errors.append(FieldError(Code.INVALID.value, f"At most {MAX_TEXT} characters.", "description",
                                 f"Tối đa {MAX_TEXT} ký tự."))
    if len(data.photos) > settings.incident_max_photos:
        errors.append(FieldError(Code.TOO_MANY_PHOTOS.value, f"At most {settings.incident_max_photos} photos.",
                                 "photos", f"Tối đa {settings.incident_max_photos} ảnh."))
    if data.occurred_at is not None and data.occurred_at > now + dt.timedelta(minutes=5):
        errors.append(FieldError(Code.INVALID.value, "The time it happened is in the future.", "occurred_at",
                                 "Thời điểm xảy ra ở tương lai."))
    lat, lng = data.lat, data.lng
    if lat is None or lng is None:
        gps = next((p.gps for p in data.photos if p.gps), None)
        lat, lng = gps if gps else (None, None)
    if lat is None or lng is None:
        errors.append(FieldError(Code.LOCATION_REQUIRED.value, "Give the location, or a photo with GPS.",
                                 "location", "Cần vị trí, hoặc ảnh có thông tin GPS."))
    elif not rules.valid_location(lat, lng):
        errors.append(FieldError(Code.INVALID.value, "This is not a valid location.", "location",
                                 "Vị trí không hợp lệ."))
    if errors:
        raise DomainError(*errors)
    assert category is not None
    return lat, lng, category.default_priority  # type: ignore[return-value]


def _replay(db_session: Session, report: Report, request_hash: str) -> Filed:
    if report.request_hash != request_hash:
        raise _error(Code.IDEMPOTENCY_CONFLICT, "This key was already used for a different report.",
                     "Mã này đã được dùng cho một phản ánh khác.", "idempotency_key")
    incident = service.get_incident(db_session=db_session, incident_id=report.incident_id or 0)
    assert incident is not None
    # A report merged since follows its incident: answer with where it lives now.
    return Filed(incident=incident, report=report, attached_to_existing=report.attached_to_existing)


def report_incident(*, db_session: Session, settings: Settings, principal: Principal, data: NewReport,
                    channel: Channel = Channel.APP, now: dt.datetime | None = None) -> Filed:
    """Files a report: idempotent per (reporter, key); attached to an open duplicate or a new incident."""
    now = now or utcnow()
    account_id = principal.account_id
    if account_id is None:
        raise _error(Code.PERMISSION_DENIED, "Sign in to report.", "Cần đăng nhập để phản ánh.", None)
    request_hash = data.request_hash()
    existing = service.find_report(db_session=db_session, reporter_account_id=account_id,
                                   idempotency_key=data.idempotency_key)
    if existing is not None:
        return _replay(db_session, existing, request_hash)
    lat, lng, priority = _validate_report(db_session, settings, data, now)
    description = (data.description or "").strip()
    report = Report(reporter_account_id=account_id, idempotency_key=data.idempotency_key,
                    request_hash=request_hash, channel=channel.value, category=data.category,
                    description=description, lat=lat, lng=lng, address=data.address,
                    photos=[p.sha256 for p in data.photos], occurred_at=data.occurred_at, created_at=now)
    try:
        # The unique (reporter, key) index decides a race between concurrent retries: the loser waits for
        # the winner's commit (PostgreSQL) or its write lock (SQLite), then answers with the winner's result.
        with db_session.begin_nested():
            db_session.add(report)
            db_session.flush()
    except IntegrityError:
        winner = service.find_report(db_session=db_session, reporter_account_id=account_id,
                                     idempotency_key=data.idempotency_key)
        if winner is None:
            raise
        return _replay(db_session, winner, request_hash)
    filed = _file(db_session, settings, principal, report, description=description, lat=lat, lng=lng,
                  address=data.address, occurred_at=data.occurred_at, channel=channel, now=now,
                  default_priority=priority)
    _store_photos(db_session, settings, filed.incident, data.photos, report_id=report.id)
    db_session.flush()
    return filed


def _file(db_session: Session, settings: Settings, principal: Principal | None, report: Report, *,
          description: str, lat: float | None, lng: float | None, address: str | None,
          occurred_at: dt.datetime | None, channel: Channel, now: dt.datetime,
          into: Incident | None = None, unit_code: str | None = None, find_duplicates: bool = True,
          default_priority: str | None = None) -> Filed:
    """Attaches a stored report to `into`, to an open duplicate, or to a new incident (at `default_priority`
    when the caller already read the category, else at the category's)."""
    if into is None and find_duplicates and lat is not None and lng is not None:
        window = dt.timedelta(seconds=settings.incident_duplicate_window_seconds)
        compatible = sorted(rules.compatible_categories(report.category))
        box = rules.bounding_box(lat, lng, settings.incident_duplicate_radius_m)
        rows = service.open_candidates(db_session=db_session, categories=compatible, box=box, since=now - window)
        candidates = [rules.Candidate(r.id or 0, r.category, IncidentState(r.state), r.lat, r.lng, r.reported_at)
                      for r in rows]
        match = rules.find_duplicate(report.category, lat, lng, now, candidates,
                                     radius_m=settings.incident_duplicate_radius_m, window=window)
        if match is not None:
            into = load(db_session, match.id)
    if into is not None:
        report.incident_id = into.id
        report.attached_to_existing = True
        into.report_count += 1
        kind = EventKind.HOTLINE_CALL if channel == Channel.HOTLINE else EventKind.REPORT_ATTACHED
        db_session.flush()
        append_event(db_session, into, kind, principal, now, data={"report_id": report.id, "channel": channel.value})
        return Filed(incident=into, report=report, attached_to_existing=True)
    if default_priority is None:
        category = service.get_category(db_session=db_session, code=report.category)
        default_priority = category.default_priority if category else "P4"
    incident = Incident(category=report.category, priority=default_priority,
                        state=IncidentState.REPORTED.value, channel=channel.value, description=description,
                        lat=lat, lng=lng, address=address,
                        unit_code=unit_code or settings.incident_default_unit_code,
                        occurred_at=occurred_at, reported_at=now, report_count=1, last_event_at=now)
    set_deadlines(incident, settings, now)
    db_session.add(incident)
    db_session.flush()
    report.incident_id = incident.id
    db_session.flush()
    reporters = [report.reporter_account_id] if report.reporter_account_id else []
    append_event(db_session, incident, EventKind.REPORTED, principal, now, to_state=IncidentState.REPORTED,
                 data={"report_id": report.id, "channel": channel.value}, reporters=reporters)
    return Filed(incident=incident, report=report, attached_to_existing=False)


def log_hotline_call(*, db_session: Session, settings: Settings, principal: Principal, call: NewHotlineCall,
                     now: dt.datetime | None = None) -> Filed:
    """Logs a hotline call: a new incident (channel HOTLINE), or attached to a named or duplicate one."""
    now = now or utcnow()
    if service.get_category(db_session=db_session, code=call.category) is None:
        raise _error(Code.UNKNOWN_CATEGORY, f"Unknown category {call.category!r}.", "Loại sự việc không hợp lệ.",
                     "category")
    if (call.lat is None) != (call.lng is None) or (call.lat is not None and not rules.valid_location(call.lat, call.lng or 0)):
        raise _error(Code.INVALID, "This is not a valid location.", "Vị trí không hợp lệ.", "location")
    if call.lat is None and not (call.address or "").strip() and call.incident_id is None:
        raise _error(Code.LOCATION_REQUIRED, "Give a location or an address.", "Cần vị trí hoặc địa chỉ.",
                     "location")
    description = _text(call.description, "description") or ""
    into = None
    if call.incident_id is not None:
        into = load(db_session, call.incident_id)
        while into.state == IncidentState.MERGED.value and into.merged_into_id:
            into = load(db_session, into.merged_into_id)
        if into.state not in {s.value for s in rules.OPEN_STATES}:
            raise _error(Code.INVALID_STATE, "That incident is no longer open; log the call as a new one.",
                         "Sự việc đó đã kết thúc; hãy ghi nhận cuộc gọi thành sự việc mới.", "incident_id")
    report = Report(reporter_account_id=None, channel=Channel.HOTLINE.value, category=call.category,
                    description=description, lat=call.lat, lng=call.lng, address=_text(call.address, "address", limit=300),
                    occurred_at=call.occurred_at, created_at=now)
    db_session.add(report)
    db_session.flush()
    filed = _file(db_session, settings, principal, report, description=description, lat=call.lat, lng=call.lng,
                  address=report.address, occurred_at=call.occurred_at, channel=Channel.HOTLINE, now=now, into=into,
                  unit_code=str(principal.attributes.get("unit_code") or "") or None)
    row = HotlineCall(operator_account_id=principal.account_id, caller_name=_text(call.caller_name, "caller_name", limit=100),
                      callback_number=_text(call.callback_number, "callback_number", limit=20),
                      language=(call.language or "vi")[:8], is_tourist=call.is_tourist,
                      notes=_text(call.notes, "notes"), incident_id=filed.incident.id or 0, report_id=report.id,
                      created_at=now)
    db_session.add(row)
    db_session.flush()
    filed.hotline_call = row
    return filed


# --- lifecycle -----------------------------------------------------------------------------------------------


def acknowledge(*, db_session: Session, principal: Principal, incident_id: int, note: str | None = None,
                now: dt.datetime | None = None) -> Incident:
    """REPORTED -> ACKNOWLEDGED (operators)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.ACKNOWLEDGE, incident, principal)
    append_event(db_session, incident, EventKind.ACKNOWLEDGED, principal, now or utcnow(),
                 to_state=IncidentState.ACKNOWLEDGED, note=_text(note, "note"))
    return incident


def reject(*, db_session: Session, principal: Principal, incident_id: int, reason: str | None,
           now: dt.datetime | None = None) -> Incident:
    """REPORTED/ACKNOWLEDGED -> REJECTED, with a reason (operators)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.REJECT, incident, principal, {"reason": reason})
    append_event(db_session, incident, EventKind.REJECTED, principal, now or utcnow(),
                 to_state=IncidentState.REJECTED, note=_text(reason, "reason", required=True))
    return incident


def close(*, db_session: Session, principal: Principal, incident_id: int, note: str | None = None,
          now: dt.datetime | None = None) -> Incident:
    """RESOLVED -> CLOSED (dispatchers)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.CLOSE, incident, principal)
    append_event(db_session, incident, EventKind.CLOSED, principal, now or utcnow(), to_state=IncidentState.CLOSED,
                 note=_text(note, "note"))
    return incident


def reopen(*, db_session: Session, settings: Settings, principal: Principal, incident_id: int, reason: str | None,
           now: dt.datetime | None = None) -> Incident:
    """RESOLVED/CLOSED -> ACKNOWLEDGED by a reporter within the window, with a reason; escalates again."""
    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.REOPEN, incident, principal, {"reason": reason})
    window = dt.timedelta(hours=settings.incident_reopen_window_hours)
    if not rules.reopen_window_open(incident.resolved_at, now, window):
        raise _error(Code.REOPEN_WINDOW_CLOSED,
                     f"An incident can be reopened only within {settings.incident_reopen_window_hours} hours of "
                     "its resolution.", f"Chỉ mở lại được trong {settings.incident_reopen_window_hours} giờ sau khi "
                     "xử lý xong.")
    before = incident.priority
    incident.priority = rules.raised(incident.priority).value
    incident.reopen_count += 1
    incident.escalated_stages = [Stage.ACKNOWLEDGE.value, Stage.DISPATCH.value]
    set_deadlines(incident, settings, now)
    append_event(db_session, incident, EventKind.REOPENED, principal, now, to_state=IncidentState.ACKNOWLEDGED,
                 note=_text(reason, "reason", required=True),
                 data={"priority_from": before, "priority_to": incident.priority})
    return incident


def rate(*, db_session: Session, principal: Principal, incident_id: int, rating: int | None, comment: str | None,
         now: dt.datetime | None = None) -> Incident:
    """A reporter's rating (1-5) and comment on a closed incident, once."""
    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.RATE, incident, principal, {"rating": rating})
    if incident.rating is not None:
        raise _error(Code.ALREADY_RATED, "This incident was already rated.", "Sự việc này đã được đánh giá.")
    if rating is None or not 1 <= rating <= 5:
        raise _error(Code.INVALID, "Give a rating from 1 to 5.", "Điểm đánh giá từ 1 đến 5.", "rating")
    incident.rating = rating
    incident.rating_comment = _text(comment, "comment", limit=2000)
    incident.rated_at = now
    append_event(db_session, incident, EventKind.RATED, principal, now, note=incident.rating_comment,
                 data={"rating": rating})
    return incident


def merge(*, db_session: Session, principal: Principal, source_id: int | None, target_id: int | None,
          note: str | None = None, now: dt.datetime | None = None) -> tuple[Incident, Incident]:
    """Merges a duplicate into another open incident: its reports (and reporters) follow the target."""
    from api.incidents.dispatch import clear_assignments

    now = now or utcnow()
    if source_id is not None and source_id == target_id:
        raise _error(Code.SAME_INCIDENT, "An incident cannot be merged into itself.",
                     "Không thể gộp sự việc vào chính nó.", "target_id")
    ids = sorted(i for i in (source_id, target_id) if i is not None)
    rows = {i: load(db_session, i) for i in ids}  # locked in id order: two merges cannot deadlock
    source = rows.get(source_id or -1)
    if source is None:
        raise not_found("source_id")
    check(db_session, Action.MERGE, source, principal, {"target": target_id})
    target = rows.get(target_id or -1)
    if target is None:
        raise not_found("target_id")
    if target.state not in {s.value for s in rules.OPEN_STATES}:
        raise _error(Code.INVALID_STATE, "The target incident is not open.", "Sự việc đích không còn mở.",
                     "target_id")
    moved = service.move_reports(db_session=db_session, source_id=source.id or 0, target_id=target.id or 0)
    target.report_count += moved
    source.report_count = 0
    source.merged_into_id = target.id
    clear_assignments(db_session, source, principal, now)
    note = _text(note, "note")
    reporters = service.reporter_ids(db_session=db_session, incident_id=target.id or 0)
    append_event(db_session, source, EventKind.MERGED, principal, now, to_state=IncidentState.MERGED, note=note,
                 data={"target_id": target.id}, reporters=reporters)
    append_event(db_session, target, EventKind.MERGED_FROM, principal, now, note=note,
                 data={"source_id": source.id, "reports": moved}, reporters=reporters)
    return source, target


def split(*, db_session: Session, settings: Settings, principal: Principal, report_id: int,
          note: str | None = None, now: dt.datetime | None = None) -> tuple[Incident, Incident]:
    """Moves one report off an incident into a new incident of its own; returns (old, new)."""
    now = now or utcnow()
    report = service.get_report(db_session=db_session, report_id=report_id)
    if report is None or report.incident_id is None:
        raise _error(Code.NOT_FOUND, "No such report.", "Không tìm thấy phản ánh.", "report_id")
    source = load(db_session, report.incident_id)
    check(db_session, Action.SPLIT, source, principal, {"report": report_id})
    if source.report_count < 2:
        raise _error(Code.INVALID, "This is the incident's only report; nothing to split off.",
                     "Đây là phản ánh duy nhất của sự việc; không có gì để tách.", "report_id")
    source.report_count -= 1
    report.attached_to_existing = False
    filed = _file(db_session, settings, principal, report, description=report.description, lat=report.lat,
                  lng=report.lng, address=report.address, occurred_at=report.occurred_at,
                  channel=Channel(report.channel), now=now, unit_code=source.unit_code, find_duplicates=False)
    new = filed.incident
    db_session.execute(update(IncidentPhoto).where(IncidentPhoto.report_id == report.id).values(incident_id=new.id))
    note = _text(note, "note")
    append_event(db_session, source, EventKind.SPLIT, principal, now, note=note,
                 data={"report_id": report.id, "new_incident_id": new.id})
    append_event(db_session, new, EventKind.SPLIT_FROM, principal, now, note=note,
                 data={"report_id": report.id, "source_id": source.id})
    return source, new


def resolve(*, db_session: Session, settings: Settings, principal: Principal, incident_id: int,
            resolution_note: str | None, photos: Sequence[PreparedImage] = (), now: dt.datetime | None = None
            ) -> Incident:
    """ACKNOWLEDGED/DISPATCHED -> RESOLVED with a resolution note (and a photo where the category needs one);
    units still on it are cleared."""
    from api.incidents.dispatch import clear_assignments, require_assigned_responder

    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.RESOLVE, incident, principal, {"resolution_note": resolution_note})
    require_assigned_responder(db_session, incident, principal)
    category = service.get_category(db_session=db_session, code=incident.category)
    if category is not None and category.requires_photo_proof and not photos:
        raise _error(Code.PHOTO_PROOF_REQUIRED, "This category is resolved only with a photo of the result.",
                     "Loại sự việc này cần ảnh chụp kết quả khi xử lý xong.", "photos")
    if len(photos) > settings.incident_max_photos:
        raise _error(Code.TOO_MANY_PHOTOS, f"At most {settings.incident_max_photos} photos.",
                     f"Tối đa {settings.incident_max_photos} ảnh.", "photos")
    incident.resolution_note = _text(resolution_note, "resolution_note", required=True)
    clear_assignments(db_session, incident, principal, now)
    event = append_event(db_session, incident, EventKind.RESOLVED, principal, now, to_state=IncidentState.RESOLVED,
                         note=incident.resolution_note, photos=[p.sha256 for p in photos])
    _store_photos(db_session, settings, incident, photos, event_id=event.id)
    db_session.flush()
    return incident


def is_staff_viewer(principal: Principal) -> bool:
    """Whether the caller sees every incident (operators, police, responders, admins)."""
    return bool(principal.roles & rules.STAFF_VIEW_ROLES)


def may_view(db_session: Session, principal: Principal, incident_id: int) -> bool:
    """Whether the caller may see this incident: staff, or one of its reporters."""
    return is_staff_viewer(principal) or service.is_reporter(
        db_session=db_session, incident_id=incident_id, account_id=principal.account_id)

