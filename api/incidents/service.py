"""Storing and loading Safe City records; keyword-only arguments; flush, never commit."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.sql import Select
from sqlmodel import Session

from api.identity.models import Account, RoleGrant
from api.incidents import rules
from api.incidents.models import (
    Assignment,
    HotlineCall,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentPhoto,
    Report,
    ResponderUnit,
)

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_REPORT = Report.__table__  # type: ignore[attr-defined]


def sync_categories(*, db_session: Session) -> int:
    """Loads the category reference data (adds missing codes, refreshes names); returns rows changed."""
    existing = {c.code: c for c in db_session.scalars(select(IncidentCategory))}
    changed = 0
    for ref in rules.CATEGORIES:
        values = {"name_vi": ref.name_vi, "name_en": ref.name_en, "default_priority": ref.default_priority.value,
                  "responder_types": [t.value for t in ref.responder_types],
                  "requires_photo_proof": ref.requires_photo_proof}
        row = existing.get(ref.code)
        if row is None:
            db_session.add(IncidentCategory(code=ref.code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    db_session.flush()
    forget_categories()
    return changed


def get_category(*, db_session: Session, code: str) -> IncidentCategory | None:
    """An active category by its code."""
    return db_session.scalar(select(IncidentCategory).where(IncidentCategory.code == code,
                                                            IncidentCategory.active.is_(True)))


@dataclass(frozen=True)
class CategoryFacts:
    """What filing needs of a category, read without a query on the hot path."""

    code: str
    default_priority: str
    requires_photo_proof: bool


CATEGORY_CACHE_SECONDS = 30.0
_category_cache: dict[tuple[int, str], tuple[float, CategoryFacts | None]] = {}


def category_facts(*, db_session: Session, code: str) -> CategoryFacts | None:
    """An active category's facts, cached per database for CATEGORY_CACHE_SECONDS: every report asks, and the
    reference data changes only with `db upgrade` (or an admin deactivating a category, seen within the TTL)."""
    key = (id(db_session.get_bind()), code)
    now = time.monotonic()
    hit = _category_cache.get(key)
    if hit is not None and now - hit[0] < CATEGORY_CACHE_SECONDS:
        return hit[1]
    row = get_category(db_session=db_session, code=code)
    facts = CategoryFacts(row.code, row.default_priority, row.requires_photo_proof) if row is not None else None
    if len(_category_cache) > 1000:
        _category_cache.clear()  # codes come from callers: never let unknown ones grow the cache
    _category_cache[key] = (now, facts)
    return facts


def forget_categories() -> None:
    """Drops cached category facts (after the reference data changed in this process)."""
    _category_cache.clear()


def list_categories(*, db_session: Session) -> list[IncidentCategory]:
    """Active categories in reference order."""
    order = {c.code: i for i, c in enumerate(rules.CATEGORIES)}
    rows = list(db_session.scalars(select(IncidentCategory).where(IncidentCategory.active.is_(True))))
    return sorted(rows, key=lambda r: order.get(r.code, len(order)))


def get_incident(*, db_session: Session, incident_id: int, for_update: bool = False) -> Incident | None:
    """An incident by id (row-locked on PostgreSQL when asked)."""
    stmt = select(Incident).where(Incident.id == incident_id)
    if for_update:
        stmt = stmt.with_for_update()
    return db_session.scalar(stmt)


def get_incidents(*, db_session: Session, incident_ids: Sequence[int]) -> list[Incident]:
    """Incidents by ids."""
    if not incident_ids:
        return []
    return list(db_session.scalars(select(Incident).where(Incident.id.in_(incident_ids))))


def incidents_query(
    *, states: Sequence[str] = (), categories: Sequence[str] = (), priorities: Sequence[str] = (),
    channels: Sequence[str] = (), unit_code: str | None = None, reported_after: dt.datetime | None = None,
    reported_before: dt.datetime | None = None, reporter_account_id: int | None = None,
) -> Select[Any]:
    """The statement for a filtered list of incidents, in Core: its rows are plain rows with the incident's
    columns (what the list types read), not mapped objects, which cost ~10x more to load on a page of 50."""
    c = _INCIDENT.c
    stmt = select(*c)
    if states:
        stmt = stmt.where(c.state.in_(states))
    if categories:
        stmt = stmt.where(c.category.in_(categories))
    if priorities:
        stmt = stmt.where(c.priority.in_(priorities))
    if channels:
        stmt = stmt.where(c.channel.in_(channels))
    if unit_code:
        stmt = stmt.where(c.unit_code == unit_code)
    if reported_after:
        stmt = stmt.where(c.reported_at >= reported_after)
    if reported_before:
        stmt = stmt.where(c.reported_at < reported_before)
    if reporter_account_id is not None:
        mine = select(_REPORT.c.incident_id).where(_REPORT.c.reporter_account_id == reporter_account_id)
        stmt = stmt.where(c.id.in_(mine))
    return stmt


def find_hotline_call(*, db_session: Session, operator_account_id: int | None, key: str) -> HotlineCall | None:
    """The call an operator logged under a client key."""
    return db_session.scalar(select(HotlineCall).where(HotlineCall.operator_account_id == operator_account_id,
                                                       HotlineCall.idempotency_key == key))


def find_report(*, db_session: Session, reporter_account_id: int, idempotency_key: str) -> Report | None:
    """The report a reporter filed under a client key."""
    return db_session.scalar(select(Report).where(Report.reporter_account_id == reporter_account_id,
                                                  Report.idempotency_key == idempotency_key))


def get_report(*, db_session: Session, report_id: int) -> Report | None:
    """A report by id."""
    return db_session.get(Report, report_id)


def reports_of(*, db_session: Session, incident_ids: Sequence[int]) -> list[Report]:
    """Reports of these incidents, oldest first."""
    if not incident_ids:
        return []
    return list(db_session.scalars(select(Report).where(Report.incident_id.in_(incident_ids))
                                   .order_by(Report.incident_id, Report.id)))


def first_reporters(*, db_session: Session, incident_ids: Sequence[int]) -> dict[int, Any]:
    """Each incident's first report with what is shown of its reporter (account or hotline call): one query.

    Plain rows of the columns the API shows (`report_id reporter_account_id channel created_at account_pk
    full_name phone call_pk caller_name callback_number is_tourist language`), not ORM objects: a page of 50
    would otherwise build 150 mapped objects (an account has many columns) only to read a few of them."""
    if not incident_ids:
        return {}
    first = (select(Report.incident_id, func.min(Report.id).label("rid"))
             .where(Report.incident_id.in_(incident_ids)).group_by(Report.incident_id).subquery())
    stmt = (select(Report.incident_id, Report.id.label("report_id"), Report.reporter_account_id, Report.channel,
                   Report.created_at, Account.id.label("account_pk"), Account.full_name, Account.phone,
                   HotlineCall.id.label("call_pk"), HotlineCall.caller_name, HotlineCall.callback_number,
                   HotlineCall.is_tourist, HotlineCall.language)
            .join(first, first.c.rid == Report.id)
            .outerjoin(Account, Account.id == Report.reporter_account_id)
            .outerjoin(HotlineCall, HotlineCall.report_id == Report.id))
    return {r.incident_id: r for r in db_session.execute(stmt)}


def reporter_ids(*, db_session: Session, incident_id: int) -> list[int]:
    """Accounts that filed a report of this incident."""
    return sorted({i for i in db_session.scalars(select(Report.reporter_account_id).where(
        Report.incident_id == incident_id, Report.reporter_account_id.is_not(None)))})


def is_reporter(*, db_session: Session, incident_id: int, account_id: int | None) -> bool:
    """Whether this account filed one of the incident's reports."""
    if account_id is None:
        return False
    return db_session.scalar(select(Report.id).where(Report.incident_id == incident_id,
                                                     Report.reporter_account_id == account_id).limit(1)) is not None


def reported_incident_ids(*, db_session: Session, account_id: int, incident_ids: Sequence[int]) -> set[int]:
    """Which of these incidents the account reported."""
    if not incident_ids:
        return set()
    return set(db_session.scalars(select(Report.incident_id).where(
        Report.incident_id.in_(incident_ids), Report.reporter_account_id == account_id)))


def move_reports(*, db_session: Session, source_id: int, target_id: int) -> int:
    """Moves every report and photo of one incident to another; returns reports moved."""
    moved = db_session.execute(update(Report).where(Report.incident_id == source_id)
                               .values(incident_id=target_id)).rowcount
    db_session.execute(update(IncidentPhoto).where(IncidentPhoto.incident_id == source_id)
                       .values(incident_id=target_id))
    return int(moved or 0)


def events_of(*, db_session: Session, incident_ids: Sequence[int]) -> list[IncidentEvent]:
    """Events of these incidents in order."""
    if not incident_ids:
        return []
    return list(db_session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id.in_(incident_ids))
                                   .order_by(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.id)))


def last_events(*, db_session: Session, incident_ids: Sequence[int]) -> dict[int, Any]:
    """Each incident's latest event: one query. Plain rows with the attributes `IncidentEvent.from_row` reads
    (id incident_id kind at from_state to_state note unit_id assignment_state photos), not ORM objects."""
    if not incident_ids:
        return {}
    last = (select(func.max(IncidentEvent.id).label("eid")).where(IncidentEvent.incident_id.in_(incident_ids))
            .group_by(IncidentEvent.incident_id).subquery())
    stmt = (select(IncidentEvent.id, IncidentEvent.incident_id, IncidentEvent.kind, IncidentEvent.at,
                   IncidentEvent.from_state, IncidentEvent.to_state, IncidentEvent.note, IncidentEvent.unit_id,
                   IncidentEvent.assignment_state, IncidentEvent.photos)
            .join(last, last.c.eid == IncidentEvent.id))
    return {e.incident_id: e for e in db_session.execute(stmt)}


def assignments_with_units(*, db_session: Session, incident_ids: Sequence[int]
                           ) -> dict[int, list[tuple[Any, ResponderUnit]]]:
    """Each incident's assignments with their units: one query. An assignment is a plain row with the attributes
    `Assignment.from_rows` reads (id incident_id state assigned_at en_route_at on_scene_at cleared_at); units are
    mapped objects (a few dozen, shared between incidents through the identity map)."""
    out: dict[int, list[tuple[Any, ResponderUnit]]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    stmt = (select(Assignment.id, Assignment.incident_id, Assignment.state, Assignment.assigned_at,
                   Assignment.en_route_at, Assignment.on_scene_at, Assignment.cleared_at, ResponderUnit)
            .join(ResponderUnit, ResponderUnit.id == Assignment.unit_id)
            .where(Assignment.incident_id.in_(incident_ids)).order_by(Assignment.incident_id, Assignment.id))
    for row in db_session.execute(stmt):
        out[row.incident_id].append((row, row[-1]))
    return out


def get_assignment(*, db_session: Session, assignment_id: int) -> Assignment | None:
    """An assignment by id."""
    return db_session.get(Assignment, assignment_id)


def find_assignment(*, db_session: Session, incident_id: int, unit_id: int) -> Assignment | None:
    """A unit's assignment to an incident."""
    return db_session.scalar(select(Assignment).where(Assignment.incident_id == incident_id,
                                                      Assignment.unit_id == unit_id))


def active_assignments(*, db_session: Session, incident_id: int | None = None, unit_id: int | None = None
                       ) -> list[Assignment]:
    """Assignments not cleared, of an incident or of a unit."""
    stmt = select(Assignment).where(Assignment.state != rules.AssignmentState.CLEARED.value)
    if incident_id is not None:
        stmt = stmt.where(Assignment.incident_id == incident_id)
    if unit_id is not None:
        stmt = stmt.where(Assignment.unit_id == unit_id)
    return list(db_session.scalars(stmt))


def get_unit(*, db_session: Session, unit_id: int) -> ResponderUnit | None:
    """A responder unit by id."""
    return db_session.get(ResponderUnit, unit_id)


def get_units(*, db_session: Session, unit_ids: Sequence[int]) -> list[ResponderUnit]:
    """Responder units by ids."""
    if not unit_ids:
        return []
    return list(db_session.scalars(select(ResponderUnit).where(ResponderUnit.id.in_(unit_ids))))


def units_query(*, types: Sequence[str] = (), readiness: Sequence[str] = ()) -> Select[Any]:
    """The statement for a filtered list of units."""
    stmt = select(ResponderUnit)
    if types:
        stmt = stmt.where(ResponderUnit.type.in_(types))
    if readiness:
        stmt = stmt.where(ResponderUnit.readiness.in_(readiness))
    return stmt


def available_units(*, db_session: Session, types: Sequence[str]) -> list[ResponderUnit]:
    """Available units of these types."""
    return list(db_session.scalars(select(ResponderUnit).where(
        ResponderUnit.type.in_(types), ResponderUnit.readiness == rules.Readiness.AVAILABLE.value)))


def overdue(*, db_session: Session, now: dt.datetime, limit: int) -> list[Incident]:
    """Open incidents with a deadline passed, locked (skipping rows another worker holds on PostgreSQL)."""
    stmt = (select(Incident).where(Incident.next_due_at.is_not(None), Incident.next_due_at <= now,
                                   Incident.state.in_([s.value for s in rules.OPEN_STATES]))
            .order_by(Incident.next_due_at).limit(limit).with_for_update(skip_locked=True))
    return list(db_session.scalars(stmt))


def supervisor_ids(*, db_session: Session, unit_code: str | None) -> list[int]:
    """Dispatchers of the incident's area (or of no particular area): who hears of a breach."""
    stmt = select(RoleGrant.account_id).where(RoleGrant.role == "dispatcher", RoleGrant.revoked_at.is_(None))
    if unit_code:
        stmt = stmt.where((RoleGrant.unit_code == unit_code) | RoleGrant.unit_code.is_(None))
    return sorted(set(db_session.scalars(stmt)))


def responder_ids(*, db_session: Session, unit_ids: Sequence[int]) -> list[int]:
    """Accounts of responders of these units."""
    if not unit_ids:
        return []
    return sorted(set(db_session.scalars(select(RoleGrant.account_id).where(
        RoleGrant.role == "responder", RoleGrant.revoked_at.is_(None), RoleGrant.responder_unit_id.in_(unit_ids)))))


def photo_incidents(*, db_session: Session, sha256: str) -> list[int]:
    """Incidents a stored photo belongs to."""
    return sorted(set(db_session.scalars(select(IncidentPhoto.incident_id).where(IncidentPhoto.sha256 == sha256))))


def stage_times(*, db_session: Session, categories: Sequence[str], since: dt.datetime | None,
                until: dt.datetime | None, limit: int = 100_000) -> list[tuple[Any, ...]]:
    """(category, reported, acknowledged, dispatched, arrived, resolved) of incidents reported in a range."""
    stmt = select(Incident.category, Incident.reported_at, Incident.acknowledged_at, Incident.dispatched_at,
                  Incident.arrived_at, Incident.resolved_at).where(Incident.state != rules.IncidentState.MERGED.value)
    if categories:
        stmt = stmt.where(Incident.category.in_(categories))
    if since:
        stmt = stmt.where(Incident.reported_at >= since)
    if until:
        stmt = stmt.where(Incident.reported_at < until)
    return [tuple(r) for r in db_session.execute(stmt.limit(limit))]


def photos_of(*, db_session: Session, incident_ids: Sequence[int]) -> list[IncidentPhoto]:
    """Photos of these incidents, oldest first."""
    if not incident_ids:
        return []
    return list(db_session.scalars(select(IncidentPhoto).where(IncidentPhoto.incident_id.in_(incident_ids))
                                   .order_by(IncidentPhoto.id)))
