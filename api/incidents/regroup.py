"""Regrouping reports: merging a duplicate incident into another, and splitting one report off into an
incident of its own."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import update
from sqlmodel import Session, col

from api.config import Settings
from api.core.auth import Principal
from api.core.model import utcnow
from api.incidents import rules, service
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.filing import file_report
from api.incidents.flows import append_event, check, clean_text, fail, load, not_found
from api.incidents.models import Incident, IncidentPhoto
from api.incidents.rules import Action, Channel, EventKind, IncidentState

log = logging.getLogger(__name__)
CHANNEL = "incident_events"
MEDIA_NAMESPACE = "incidents"
MAX_TEXT = 4000

def merge(*, db_session: Session, principal: Principal, source_id: int | None, target_id: int | None,
          note: str | None = None, now: dt.datetime | None = None) -> tuple[Incident, Incident]:
    """Merges a duplicate into another open incident: its reports (and reporters) follow the target."""
    from api.incidents.dispatch import clear_assignments

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
    moved = service.move_reports(db_session=db_session, source_id=source.id or 0, target_id=target.id or 0)
    target.report_count += moved
    source.report_count = 0
    source.merged_into_id = target.id
    clear_assignments(db_session, source, principal, now)
    note = clean_text(note, "note")
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
    note = clean_text(note, "note")
    append_event(db_session, source, EventKind.SPLIT, principal, now, note=note,
                 data={"report_id": report.id, "new_incident_id": new.id})
    append_event(db_session, new, EventKind.SPLIT_FROM, principal, now, note=note,
                 data={"report_id": report.id, "source_id": source.id})
    return source, new

