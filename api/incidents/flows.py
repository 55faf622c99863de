"""Safe City operations shared by every flow (events, checks, deadlines, loading) and the incident lifecycle.

Every change appends an IncidentEvent, queues a live event (published after commit) and, where someone
must hear of it, notification outbox rows in the same transaction. Filing reports and hotline calls is in
filing.py, merge and split in regroup.py, dispatch, units and escalation in dispatch.py."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal
from api.core.bus import queue_event
from api.core.errors import DomainError
from api.core.media import PreparedImage, store_image
from api.core.model import utcnow
from api.db import insert_row
from api.incidents import access, lifecycle, rules, service, standing
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.lifecycle import Action
from api.incidents.models import Incident, IncidentEvent, IncidentPhoto
from api.incidents.rules import EventKind, IncidentState, Stage

log = logging.getLogger(__name__)
CHANNEL = "incident_events"
MEDIA_NAMESPACE = "incidents"
MAX_TEXT = 4000

def fail(code: Any, message: str, message_vi: str, field: str | None = "id") -> DomainError:
    return DomainError.single(code, message, field=field, message_vi=message_vi)


def not_found(field: str = "id") -> DomainError:
    """The incident does not exist (or is not the caller's to see)."""
    return fail(Code.NOT_FOUND, "No such incident.", "Không tìm thấy sự việc.", field)


# --- notifications (the notifications domain owns the outbox) --------------------------------------------


def notify(db_session: Session, account_ids: Sequence[int], template: str, params: Mapping[str, Any],
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


def status_of(incident: Incident) -> lifecycle.Status:
    """The derived status as stored on the incident."""
    return lifecycle.Status(state=IncidentState(incident.state), reported_at=incident.reported_at,
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
    due = lifecycle.DeadlineTable(settings.incident_deadlines_minutes).deadlines(incident.priority, start)
    incident.acknowledge_due_at = due[Stage.ACKNOWLEDGE]
    incident.dispatch_due_at = due[Stage.DISPATCH]
    incident.arrive_due_at = due[Stage.ARRIVE]
    incident.resolve_due_at = due[Stage.RESOLVE]


def refresh_due(incident: Incident) -> None:
    """Recomputes the next deadline the escalation job watches (set only if it moved: see append_event)."""
    due = lifecycle.next_due(status_of(incident), deadlines_of(incident), incident.escalated_stages)
    if incident.next_due_at != due:
        incident.next_due_at = due


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
    status = lifecycle.apply_event(status_of(incident),
                                   lifecycle.EventFacts(kind, now, to_state, assignment_state))
    changes = {name: getattr(status, name) for name in ("reported_at", "acknowledged_at", "dispatched_at",
                                                         "arrived_at", "resolved_at", "closed_at")}
    changes["state"], changes["last_event_at"] = status.state.value, now
    for name, value in changes.items():
        if getattr(incident, name) != value:  # set only what changed: an unchanged row needs no UPDATE at all
            setattr(incident, name, value)
    refresh_due(incident)
    insert_row(db_session, event)
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
        notify(db_session, reporters, "incident_status_changed",
                {"reference": reference(incident), "status": to_state.value},
                data={"incidentId": str(incident.id), "state": to_state.value},
                collapse_key=f"incident-{incident.id}")
    return event


def check(db_session: Session, action: Action, incident: Incident, principal: Principal,
          supplied: Mapping[str, object] | None = None, *, settings: Settings | None = None,
          now: dt.datetime | None = None) -> None:
    """Raises what stops this attempt: access.refusal (permission, then state and this incident's facts: the
    same decision as `allowedActions`), then the inputs the action requires. REOPEN needs `settings` (the
    window); without them the window counts as closed."""
    transition = lifecycle.TRANSITIONS[action]
    who = standing.standing(db_session=db_session, principal=principal, incident_id=incident.id or 0,
                            reporter=transition.by_reporter, unit=access.only_responder(principal.roles))
    where = access.situation(state=incident.state, report_count=incident.report_count, rating=incident.rating,
                             resolved_at=incident.resolved_at, now=now or utcnow(),
                             reopen_window_hours=settings.incident_reopen_window_hours if settings else 0)
    errors = access.refusal(action, who, where) or lifecycle.missing_inputs(
        lifecycle.Attempt(action, where.state, principal.roles, who.is_reporter, supplied or {}))
    if errors:
        raise DomainError(*errors)


def load(db_session: Session, incident_id: int, *, lock: bool = True) -> Incident:
    """The incident (locked for the transaction), or NOT_FOUND."""
    incident = service.get_incident(db_session=db_session, incident_id=incident_id, for_update=lock)
    if incident is None:
        raise not_found()
    return incident


def clean_text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise fail(Code.REQUIRED, "This is required.", "Thông tin này là bắt buộc.", field)
    if len(value) > limit:
        raise fail(Code.INVALID, f"At most {limit} characters.", f"Tối đa {limit} ký tự.", field)
    return value or None

def store_photos(db_session: Session, settings: Settings, incident: Incident, photos: Sequence[PreparedImage], *,
                  report_id: int | None = None, event_id: int | None = None) -> None:
    for photo in photos:
        store_image(settings.media_dir, MEDIA_NAMESPACE, photo)
        db_session.add(IncidentPhoto(sha256=photo.sha256, incident_id=incident.id or 0, report_id=report_id,
                                     event_id=event_id, width=photo.width, height=photo.height))

# --- lifecycle -----------------------------------------------------------------------------------------------


def acknowledge(*, db_session: Session, principal: Principal, incident_id: int, note: str | None = None,
                now: dt.datetime | None = None) -> Incident:
    """REPORTED -> ACKNOWLEDGED (operators)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.ACKNOWLEDGE, incident, principal)
    append_event(db_session, incident, EventKind.ACKNOWLEDGED, principal, now or utcnow(),
                 to_state=IncidentState.ACKNOWLEDGED, note=clean_text(note, "note"))
    return incident


def reject(*, db_session: Session, principal: Principal, incident_id: int, reason: str | None,
           now: dt.datetime | None = None) -> Incident:
    """REPORTED/ACKNOWLEDGED -> REJECTED, with a reason (operators)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.REJECT, incident, principal, {"reason": reason})
    append_event(db_session, incident, EventKind.REJECTED, principal, now or utcnow(),
                 to_state=IncidentState.REJECTED, note=clean_text(reason, "reason", required=True))
    return incident


def close(*, db_session: Session, principal: Principal, incident_id: int, note: str | None = None,
          now: dt.datetime | None = None) -> Incident:
    """RESOLVED -> CLOSED (dispatchers)."""
    incident = load(db_session, incident_id)
    check(db_session, Action.CLOSE, incident, principal)
    append_event(db_session, incident, EventKind.CLOSED, principal, now or utcnow(), to_state=IncidentState.CLOSED,
                 note=clean_text(note, "note"))
    return incident


def reopen(*, db_session: Session, settings: Settings, principal: Principal, incident_id: int, reason: str | None,
           now: dt.datetime | None = None) -> Incident:
    """RESOLVED/CLOSED -> ACKNOWLEDGED by a reporter within the window, with a reason; escalates again."""
    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.REOPEN, incident, principal, {"reason": reason}, settings=settings, now=now)
    before = incident.priority
    incident.priority = rules.raised(incident.priority).value
    incident.reopen_count += 1
    incident.escalated_stages = [Stage.ACKNOWLEDGE.value, Stage.DISPATCH.value]
    set_deadlines(incident, settings, now)
    append_event(db_session, incident, EventKind.REOPENED, principal, now, to_state=IncidentState.ACKNOWLEDGED,
                 note=clean_text(reason, "reason", required=True),
                 data={"priority_from": before, "priority_to": incident.priority})
    return incident


def rate(*, db_session: Session, principal: Principal, incident_id: int, rating: int | None, comment: str | None,
         now: dt.datetime | None = None) -> Incident:
    """A reporter's rating (1-5) and comment on a closed incident, once."""
    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.RATE, incident, principal, {"rating": rating})
    if rating is None or not 1 <= rating <= 5:
        raise fail(Code.INVALID, "Give a rating from 1 to 5.", "Điểm đánh giá từ 1 đến 5.", "rating")
    incident.rating = rating
    incident.rating_comment = clean_text(comment, "comment", limit=2000)
    incident.rated_at = now
    append_event(db_session, incident, EventKind.RATED, principal, now, note=incident.rating_comment,
                 data={"rating": rating})
    return incident

def resolve(*, db_session: Session, settings: Settings, principal: Principal, incident_id: int,
            resolution_note: str | None, photos: Sequence[PreparedImage] = (), now: dt.datetime | None = None
            ) -> Incident:
    """ACKNOWLEDGED/DISPATCHED -> RESOLVED with a resolution note (and a photo where the category needs one);
    units still on it are cleared."""
    from api.incidents.dispatch import clear_assignments

    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.RESOLVE, incident, principal, {"resolution_note": resolution_note})
    category = service.category_facts(db_session=db_session, code=incident.category)
    if category is not None and category.requires_photo_proof and not photos:
        raise fail(Code.PHOTO_PROOF_REQUIRED, "This category is resolved only with a photo of the result.",
                     "Loại sự việc này cần ảnh chụp kết quả khi xử lý xong.", "photos")
    if len(photos) > settings.incident_max_photos:
        raise fail(Code.TOO_MANY_PHOTOS, f"At most {settings.incident_max_photos} photos.",
                     f"Tối đa {settings.incident_max_photos} ảnh.", "photos")
    incident.resolution_note = clean_text(resolution_note, "resolution_note", required=True)
    clear_assignments(db_session, incident, principal, now)
    event = append_event(db_session, incident, EventKind.RESOLVED, principal, now, to_state=IncidentState.RESOLVED,
                         note=incident.resolution_note, photos=[p.sha256 for p in photos])
    store_photos(db_session, settings, incident, photos, event_id=event.id)
    db_session.flush()
    return incident


def is_staff_viewer(principal: Principal) -> bool:
    """Whether the caller sees the staff-only parts (reporter identity, reports) of the incidents they may
    see (operators, police, responders, admins). Which incidents those are is `may_view`."""
    return bool(principal.roles & lifecycle.STAFF_VIEW_ROLES)


def may_view(db_session: Session, principal: Principal, incident_id: int) -> bool:
    """Whether the caller may see this incident: operators, police and admins always; responders when their
    unit is or was assigned to it; anyone who reported it (access.may_view)."""
    return incident_id in standing.visible_ids(db_session=db_session, principal=principal, incident_ids=[incident_id])

