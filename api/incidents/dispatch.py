"""Dispatch: units sent to incidents, their progress and readiness, recommendations, response times, and the
job that escalates overdue incidents."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal, Role
from api.core.bus import queue_event
from api.core.errors import DomainError
from api.core.model import utcnow
from api.incidents import access, lifecycle, rules, service
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.flows import append_event, check, clean_text, fail, load, notify, reference
from api.incidents.lifecycle import Action
from api.incidents.models import Assignment, Incident, ResponderUnit
from api.incidents.rules import AssignmentState, EventKind, IncidentState, Readiness

if TYPE_CHECKING:
    from workers.jobs import JobContext

log = logging.getLogger(__name__)
UNIT_CHANNEL = "responder_units"
ESCALATION_BATCH = 100
STEP_NAMES = {rules.Stage.ACKNOWLEDGE: "Tiếp nhận", rules.Stage.DISPATCH: "Điều động",
              rules.Stage.ARRIVE: "Có mặt", rules.Stage.RESOLVE: "Xử lý"}


def _responder_unit(principal: Principal) -> int | None:
    value = principal.attributes.get("responder_unit_id")
    return int(value) if value is not None else None


def _free_unit_if_idle(db_session: Session, unit: ResponderUnit, now: dt.datetime) -> None:
    if unit.readiness == Readiness.BUSY.value and not service.active_assignments(db_session=db_session,
                                                                                  unit_id=unit.id):
        unit.readiness = Readiness.AVAILABLE.value
        unit.updated_at = now


def clear_assignments(db_session: Session, incident: Incident, principal: Principal | None, now: dt.datetime) -> None:
    """Clears every active assignment of the incident and frees units with nothing else to do."""
    for assignment in service.active_assignments(db_session=db_session, incident_id=incident.id or 0):
        assignment.state = AssignmentState.CLEARED.value
        assignment.cleared_at = now
        db_session.flush()
        unit = service.get_unit(db_session=db_session, unit_id=assignment.unit_id)
        if unit is not None:
            _free_unit_if_idle(db_session, unit, now)


def dispatch(*, db_session: Session, principal: Principal, incident_id: int, unit_ids: Sequence[int],
             note: str | None = None, now: dt.datetime | None = None) -> Incident:
    """Sends one or more units: ACKNOWLEDGED/DISPATCHED -> DISPATCHED; the units' responders hear of it."""
    now = now or utcnow()
    incident = load(db_session, incident_id)
    check(db_session, Action.DISPATCH, incident, principal, {"units": list(unit_ids)})
    note = clean_text(note, "note")
    units = {u.id: u for u in service.get_units(db_session=db_session, unit_ids=sorted(set(unit_ids)))}
    for index, unit_id in enumerate(unit_ids):
        unit = units.get(unit_id)
        if unit is None:
            raise fail(Code.NOT_FOUND, "No such unit.", "Không tìm thấy đơn vị.", f"unit_ids.{index}")
        if unit.readiness == Readiness.OUT_OF_SERVICE.value:
            raise fail(Code.UNIT_UNAVAILABLE, f"{unit.name} is out of service.",
                         f"{unit.name} đang ngừng hoạt động.", f"unit_ids.{index}")
    sent = []
    for unit_id in dict.fromkeys(unit_ids):
        unit = units[unit_id]
        assignment = service.find_assignment(db_session=db_session, incident_id=incident.id or 0, unit_id=unit_id)
        if assignment is not None and assignment.state != AssignmentState.CLEARED.value:
            continue  # already on it: dispatching again changes nothing
        if assignment is None:
            assignment = Assignment(incident_id=incident.id or 0, unit_id=unit_id)
            db_session.add(assignment)
        assignment.state = AssignmentState.ASSIGNED.value
        assignment.assigned_by = principal.account_id
        assignment.assigned_at = now
        assignment.en_route_at = assignment.on_scene_at = assignment.cleared_at = None
        unit.readiness = Readiness.BUSY.value
        unit.updated_at = now
        db_session.flush()
        append_event(db_session, incident, EventKind.DISPATCHED, principal, now, to_state=IncidentState.DISPATCHED,
                     note=note, unit_id=unit_id, assignment_state=AssignmentState.ASSIGNED,
                     data={"assignment_id": assignment.id})
        sent.append(unit_id)
    if not sent:
        raise fail(Code.DUPLICATE, "These units are already on this incident.",
                     "Các đơn vị này đã được phân công cho sự việc.", "unit_ids")
    notify_dispatched(db_session, incident, [units[unit_id] for unit_id in sent])
    return incident


def notify_dispatched(db_session: Session, incident: Incident, units: Sequence[ResponderUnit],
                      data: dict[str, str] | None = None) -> None:
    """Queues the `unit_dispatched` push to each unit's responders (outbox, this transaction)."""
    category = rules.CATEGORY_BY_CODE.get(incident.category)
    where = incident.address or (f"{incident.lat:.5f}, {incident.lng:.5f}" if incident.lat is not None else "?")
    for unit in units:
        notify(db_session, service.responder_ids(db_session=db_session, unit_ids=[unit.id or 0]), "unit_dispatched",
                {"unit": unit.name, "reference": reference(incident), "address": where,
                 "category": category.name_vi if category else incident.category},
                data={"incidentId": str(incident.id), "unitId": str(unit.id), **(data or {})},
                collapse_key=f"dispatch-{incident.id}")


_STAMP = {AssignmentState.EN_ROUTE: "en_route_at", AssignmentState.ON_SCENE: "on_scene_at",
          AssignmentState.CLEARED: "cleared_at"}


def update_assignment(*, db_session: Session, principal: Principal, assignment_id: int, state: AssignmentState,
                      note: str | None = None, now: dt.datetime | None = None) -> tuple[Assignment, Incident]:
    """A unit's progress: ASSIGNED -> EN_ROUTE -> ON_SCENE -> CLEARED (its responders or dispatchers)."""
    now = now or utcnow()
    assignment = service.get_assignment(db_session=db_session, assignment_id=assignment_id)
    if assignment is None:
        raise fail(Code.NOT_FOUND, "No such assignment.", "Không tìm thấy phân công.", "assignment_id")
    incident = load(db_session, assignment.incident_id)
    refused = access.assignment_refusal(principal.roles, _responder_unit(principal), assignment.unit_id,
                                        AssignmentState(assignment.state), state, incident.state)
    if refused is not None:
        raise DomainError(refused)
    assignment.state = state.value
    setattr(assignment, _STAMP[state], now)
    db_session.flush()
    unit = service.get_unit(db_session=db_session, unit_id=assignment.unit_id)
    if state == AssignmentState.CLEARED and unit is not None:
        _free_unit_if_idle(db_session, unit, now)
    append_event(db_session, incident, EventKind.ASSIGNMENT_UPDATED, principal, now, note=clean_text(note, "note"),
                 unit_id=assignment.unit_id, assignment_state=state, data={"assignment_id": assignment.id})
    return assignment, incident


def update_unit_status(*, db_session: Session, principal: Principal, unit_id: int | None,
                       readiness: Readiness | None, lat: float | None, lng: float | None,
                       now: dt.datetime | None = None) -> ResponderUnit:
    """A unit's readiness and location, reported by its responders (or set by a dispatcher)."""
    now = now or utcnow()
    unit_id = unit_id if unit_id is not None else _responder_unit(principal)
    unit = service.get_unit(db_session=db_session, unit_id=unit_id) if unit_id is not None else None
    if unit is None:
        raise fail(Code.NOT_FOUND, "No such unit.", "Không tìm thấy đơn vị.", "unit_id")
    if not principal.has(Role.DISPATCHER, Role.ADMIN) and _responder_unit(principal) != unit.id:
        raise fail(Code.PERMISSION_DENIED, "You may update only your own unit.",
                     "Bạn chỉ được cập nhật đơn vị của mình.", "unit_id")
    if (lat is None) != (lng is None) or (lat is not None and not rules.valid_location(lat, lng or 0.0)):
        raise fail(Code.INVALID, "This is not a valid location.", "Vị trí không hợp lệ.", "location")
    if readiness is not None:
        unit.readiness = readiness.value
    if lat is not None:
        unit.lat, unit.lng, unit.located_at = lat, lng, now
    unit.updated_at = now
    db_session.flush()
    queue_event(db_session, UNIT_CHANNEL, {"unit_id": unit.id, "readiness": unit.readiness, "lat": unit.lat,
                                           "lng": unit.lng, "at": now.isoformat()})
    return unit


def recommend_units(*, db_session: Session, settings: Settings, incident_id: int, limit: int = 5,
                    now: dt.datetime | None = None) -> list[tuple[ResponderUnit, float]]:
    """Available units of a type suited to the incident, nearest first, stale locations ignored."""
    now = now or utcnow()
    incident = service.get_incident(db_session=db_session, incident_id=incident_id)
    if incident is None:
        raise fail(Code.NOT_FOUND, "No such incident.", "Không tìm thấy sự việc.", "incident_id")
    if incident.lat is None or incident.lng is None:
        return []
    category = rules.CATEGORY_BY_CODE.get(incident.category)
    row = service.get_category(db_session=db_session, code=incident.category)
    types = [rules.UnitType(t) for t in row.responder_types] if row else list(category.responder_types if category else ())
    units = {u.id: u for u in service.available_units(db_session=db_session, types=[t.value for t in types])}
    positions = [rules.UnitPosition(u.id or 0, rules.UnitType(u.type), Readiness(u.readiness), u.lat, u.lng,
                                    u.located_at) for u in units.values()]
    ranked = rules.rank_units(incident.lat, incident.lng, types, positions, now=now,
                              stale_after=dt.timedelta(seconds=settings.incident_unit_stale_seconds), limit=limit)
    return [(units[p.id], distance) for p, distance in ranked]


@dataclass(frozen=True)
class StageTimes:
    """P50/P90 of one stage for one category (None: all categories)."""

    category: str | None
    stage: rules.Stage
    count: int
    p50_seconds: float | None
    p90_seconds: float | None


def response_times(*, db_session: Session, categories: Sequence[str] = (), since: dt.datetime | None = None,
                   until: dt.datetime | None = None) -> list[StageTimes]:
    """P50/P90 per stage, per category and over all categories."""
    samples: dict[tuple[str | None, rules.Stage], list[float]] = {}
    for category, reported, acked, dispatched, arrived, resolved in service.stage_times(
            db_session=db_session, categories=categories, since=since, until=until):
        status = lifecycle.Status(reported_at=reported, acknowledged_at=acked, dispatched_at=dispatched,
                                  arrived_at=arrived, resolved_at=resolved)
        for stage, seconds in lifecycle.stage_seconds(status).items():
            samples.setdefault((category, stage), []).append(seconds)
            samples.setdefault((None, stage), []).append(seconds)
    order = {c.code: i for i, c in enumerate(rules.CATEGORIES)}
    keys = sorted(samples, key=lambda k: (-1 if k[0] is None else order.get(k[0], 99),
                                          lifecycle.STAGES.index(k[1])))
    return [StageTimes(c, s, len(samples[(c, s)]), lifecycle.percentile(samples[(c, s)], 50),
                       lifecycle.percentile(samples[(c, s)], 90)) for c, s in keys]


def escalate(*, db_session: Session, incident: Incident, now: dt.datetime) -> list[rules.Stage]:
    """Escalates an incident's newly breached stages: an event each, priority raised, supervisors told."""
    from api.incidents.flows import deadlines_of, refresh_due, status_of

    stages = lifecycle.breaches(status_of(incident), deadlines_of(incident), incident.escalated_stages, now)
    for stage in stages:
        before = incident.priority
        incident.priority = rules.raised(before).value
        incident.escalated_stages = [*incident.escalated_stages, stage.value]
        append_event(db_session, incident, EventKind.DEADLINE_BREACHED, None, now,
                     note=f"{stage.value} deadline passed",
                     data={"stage": stage.value, "priority_from": before, "priority_to": incident.priority})
        late = max(0, int((now - deadlines_of(incident)[stage]).total_seconds() // 60))
        notify(db_session, service.supervisor_ids(db_session=db_session, unit_code=incident.unit_code),
                "deadline_breached", {"reference": reference(incident), "step": STEP_NAMES[stage], "minutes": late},
                data={"incidentId": str(incident.id), "stage": stage.value}, collapse_key=f"breach-{incident.id}")
    refresh_due(incident)
    return stages


def escalate_overdue(ctx: JobContext) -> int:
    """The escalation job: escalates every overdue incident in batches; returns how many breaches."""
    total = 0
    while not ctx.stopping.is_set():
        now = utcnow()
        with ctx.db.transaction() as session:
            session.info["bus"] = ctx.bus
            rows = service.overdue(db_session=session, now=now, limit=ESCALATION_BATCH)
            for incident in rows:
                total += len(escalate(db_session=session, incident=incident, now=now))
        if len(rows) < ESCALATION_BATCH:
            break
    if total:
        log.info("escalated %d overdue incident stage(s)", total)
    return total

