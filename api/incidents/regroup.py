"""Regrouping reports: merging a duplicate incident into another (its reports, reporters and working units
follow the target), and splitting one report off into an incident of its own (without units)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col

from api.config import Settings
from api.core.auth import Principal
from api.core.model import utcnow
from api.incidents import lifecycle, rules, service
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.filing import file_report
from api.incidents.flows import (
    MAX_TEXT,
    append_event,
    check,
    clean_text,
    fail,
    load,
    not_found,
    notify,
    reference,
)
from api.incidents.lifecycle import Action
from api.incidents.models import Assignment, HotlineCall, Incident, IncidentPhoto
from api.incidents.rules import AssignmentState, Channel, EventKind, IncidentState


@dataclass(frozen=True)
class Move:
    """One unit's assignment on a merged duplicate and the assignment it continues as on the target."""

    unit_id: int
    state: AssignmentState  # its progress, kept on the target
    source: Assignment
    target: Assignment
    already_on_target: bool  # the unit was working the target too: that assignment continues
    advanced: bool = False  # ... and was further along on the duplicate (on scene there): the target's catches up


_PROGRESS = (AssignmentState.ASSIGNED, AssignmentState.EN_ROUTE, AssignmentState.ON_SCENE)


def _move_assignments(db_session: Session, source: Incident, target: Incident, now: dt.datetime) -> list[Move]:
    """Ends the duplicate's active assignments and carries each unit's progress (state and times) over to the
    target; a unit already active on the target keeps that assignment. Units stay BUSY: all are on the target."""
    moves = []
    for old in sorted(service.active_assignments(db_session=db_session, incident_id=source.id or 0),
                      key=lambda a: a.id or 0):
        progress = AssignmentState(old.state)
        old.state, old.cleared_at = AssignmentState.CLEARED.value, now
        new = service.find_assignment(db_session=db_session, incident_id=target.id or 0, unit_id=old.unit_id)
        active = new is not None and new.state != AssignmentState.CLEARED.value
        if new is None:
            new = Assignment(incident_id=target.id or 0, unit_id=old.unit_id)
            db_session.add(new)
        advanced = active and _PROGRESS.index(progress) > _PROGRESS.index(AssignmentState(new.state))
        if not active:  # a new row, or the unit's cleared one on the target (one row per unit and incident)
            new.state, new.assigned_by, new.assigned_at = progress.value, old.assigned_by, old.assigned_at
            new.en_route_at, new.on_scene_at, new.cleared_at = old.en_route_at, old.on_scene_at, None
        elif advanced:  # one place, one unit: what it reached on the duplicate it reached on the target
            new.state = progress.value
            new.en_route_at = new.en_route_at or old.en_route_at
            new.on_scene_at = new.on_scene_at or old.on_scene_at
        db_session.flush()
        moves.append(Move(old.unit_id, AssignmentState(new.state), old, new, active, advanced))
    return moves


def _record_moves(db_session: Session, principal: Principal, source: Incident, target: Incident,
                  moves: list[Move], reporters: list[int], note: str | None, now: dt.datetime) -> None:
    """Both timelines: the duplicate's units leave it; on the target they arrive as dispatched (acknowledging
    a target still REPORTED first, as a dispatch would need), so its state and stage times fold from its log."""
    from api.incidents.dispatch import notify_dispatched

    for move in moves:
        there = " (already there)" if move.already_on_target else ""
        append_event(db_session, source, EventKind.ASSIGNMENT_UPDATED, principal, now, unit_id=move.unit_id,
                     note=_joined(f"Moved to {reference(target)}{there}", note),
                     assignment_state=AssignmentState.CLEARED, reporters=reporters,
                     data={"assignment_id": move.source.id, "moved_to": target.id,
                           "target_assignment_id": move.target.id, "already_on_target": move.already_on_target})
    for move in (m for m in moves if m.advanced):
        append_event(db_session, target, EventKind.ASSIGNMENT_UPDATED, principal, now, unit_id=move.unit_id,
                     note=_joined(f"Progress carried over from {reference(source)}", note),
                     assignment_state=move.state, reporters=reporters,
                     data={"assignment_id": move.target.id, "moved_from": source.id,
                           "source_assignment_id": move.source.id})
    arriving = [m for m in moves if not m.already_on_target]
    if arriving and target.state == IncidentState.REPORTED.value:
        refused = lifecycle.refusal(
            lifecycle.Attempt(Action.ACKNOWLEDGE, IncidentState.REPORTED, principal.roles))
        if refused:
            raise fail(Code.PERMISSION_DENIED, "Units are working the duplicate: acknowledge the target first.",
                       "Đơn vị đang xử lý sự việc trùng: hãy tiếp nhận sự việc đích trước.", "target_id")
        append_event(db_session, target, EventKind.ACKNOWLEDGED, principal, now,
                     to_state=IncidentState.ACKNOWLEDGED, note=f"Units of {reference(source)} merged in", data={"merged_from": source.id},
                     reporters=reporters)
    for move in arriving:
        append_event(db_session, target, EventKind.DISPATCHED, principal, now, to_state=IncidentState.DISPATCHED,
                     note=_joined(f"Moved from {reference(source)}", note), unit_id=move.unit_id,
                     assignment_state=move.state, reporters=reporters,
                     data={"assignment_id": move.target.id, "moved_from": source.id,
                           "source_assignment_id": move.source.id})
    units = {u.id: u for u in service.get_units(db_session=db_session, unit_ids=[m.unit_id for m in arriving])}
    notify_dispatched(db_session, target, [units[m.unit_id] for m in arriving if m.unit_id in units],
                      data={"movedFrom": str(source.id)})


def _joined(system: str, note: str | None) -> str:
    """A system note, then the operator's (the event note's limit kept)."""
    return (f"{system}: {note}" if note else system)[:MAX_TEXT]


def merge(*, db_session: Session, principal: Principal, source_id: int | None, target_id: int | None,
          note: str | None = None, now: dt.datetime | None = None) -> tuple[Incident, Incident]:
    """Merges a duplicate into another open incident: its reports (and reporters), hotline calls and the units
    working it follow the target."""
    now = now or utcnow()
    if source_id is not None and source_id == target_id:
        raise fail(Code.SAME_INCIDENT, "An incident cannot be merged into itself.",
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
        raise fail(Code.INVALID_STATE, "The target incident is not open.", "Sự việc đích không còn mở.",
                     "target_id")
    note = clean_text(note, "note")
    moved = service.move_reports(db_session=db_session, source_id=source.id or 0, target_id=target.id or 0)
    db_session.execute(update(HotlineCall).where(col(HotlineCall.incident_id) == source.id)
                       .values(incident_id=target.id))
    target.report_count += moved
    source.report_count = 0
    source.merged_into_id = target.id
    moves = _move_assignments(db_session, source, target, now)
    reporters = service.reporter_ids(db_session=db_session, incident_id=target.id or 0)
    units = {"units": [m.unit_id for m in moves if not m.already_on_target],
             "units_already_on_target": [m.unit_id for m in moves if m.already_on_target]}
    append_event(db_session, target, EventKind.MERGED_FROM, principal, now, note=note,
                 data={"source_id": source.id, "reports": moved, **units}, reporters=reporters)
    _record_moves(db_session, principal, source, target, moves, reporters, note, now)
    append_event(db_session, source, EventKind.MERGED, principal, now, to_state=IncidentState.MERGED, note=note,
                 data={"target_id": target.id, **units}, reporters=reporters)
    return source, target

def split(*, db_session: Session, settings: Settings, principal: Principal, report_id: int,
          note: str | None = None, now: dt.datetime | None = None) -> tuple[Incident, Incident]:
    """Moves one report off an incident into a new incident of its own; returns (old, new)."""
    now = now or utcnow()
    report = service.get_report(db_session=db_session, report_id=report_id)
    if report is None or report.incident_id is None:
        raise fail(Code.NOT_FOUND, "No such report.", "Không tìm thấy phản ánh.", "report_id")
    source = load(db_session, report.incident_id)
    check(db_session, Action.SPLIT, source, principal, {"report": report_id})
    if source.report_count < 2:
        raise fail(Code.INVALID, "This is the incident's only report; nothing to split off.",
                     "Đây là phản ánh duy nhất của sự việc; không có gì để tách.", "report_id")
    source.report_count -= 1
    report.attached_to_existing = False
    filed = file_report(db_session, settings, principal, report, description=report.description, lat=report.lat,
                  lng=report.lng, address=report.address, occurred_at=report.occurred_at,
                  channel=Channel(report.channel), now=now, unit_code=source.unit_code, find_duplicates=False)
    new = filed.incident
    db_session.execute(update(IncidentPhoto).where(col(IncidentPhoto.report_id) == report.id).values(incident_id=new.id))
    db_session.execute(update(HotlineCall).where(col(HotlineCall.report_id) == report.id)
                       .values(incident_id=new.id))
    note = clean_text(note, "note")
    # Units stay with the incident they were sent to; the new one starts without any, and both logs say so.
    staying = sorted(a.unit_id for a in service.active_assignments(db_session=db_session,
                                                                   incident_id=source.id or 0))
    append_event(db_session, source, EventKind.SPLIT, principal, now, note=note,
                 data={"report_id": report.id, "new_incident_id": new.id, "units_stay": staying})
    append_event(db_session, new, EventKind.SPLIT_FROM, principal, now, note=note,
                 data={"report_id": report.id, "source_id": source.id, "units": [], "source_units": staying})
    # Its reporter now follows the new incident only (a new reference, and back to REPORTED): say so.
    if report.reporter_account_id:
        notify(db_session, [report.reporter_account_id], "incident_report_split",
               {"reference": reference(new), "source": reference(source)},
               data={"incidentId": str(new.id), "state": new.state, "splitFrom": str(source.id)},
               collapse_key=f"incident-{new.id}")
    return source, new

