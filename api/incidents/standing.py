"""Loading who the caller is to incidents (reporter, unit on it) for access.py, batched: one statement per
fact for any number of incidents; flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from api.core.auth import Principal, Role
from api.incidents import access, service
from api.incidents.models import Assignment, Incident
from api.incidents.rules import AssignmentState


def responder_unit(principal: Principal) -> int | None:
    """The caller's responder unit, if they are a responder of one."""
    value = principal.attributes.get("responder_unit_id")
    return int(value) if value is not None and principal.has(Role.RESPONDER) else None


def unit_assignments(*, db_session: Session, unit_id: int, incident_ids: Sequence[int] | None = None
                     ) -> dict[int, str]:
    """The unit's assignment state on each incident it is or was assigned to (among `incident_ids` if given)."""
    stmt = select(col(Assignment.incident_id), col(Assignment.state)).where(col(Assignment.unit_id) == unit_id)
    if incident_ids is not None:
        if not incident_ids:
            return {}
        stmt = stmt.where(col(Assignment.incident_id).in_(incident_ids))
    return {row.incident_id: row.state for row in db_session.execute(stmt)}


def standings(*, db_session: Session, principal: Principal, incident_ids: Sequence[int], reporter: bool = True,
              unit: bool = True) -> dict[int, access.Standing]:
    """The caller's standing on each incident; `reporter`/`unit` False skip a fact the caller knows is moot."""
    ids = list(dict.fromkeys(incident_ids))
    reported: set[int] = set()
    if reporter and principal.account_id is not None and ids:
        reported = service.reported_incident_ids(db_session=db_session, account_id=principal.account_id,
                                                 incident_ids=ids)
    states: dict[int, str] = {}
    unit_id = responder_unit(principal) if unit else None
    if unit_id is not None:
        states = unit_assignments(db_session=db_session, unit_id=unit_id, incident_ids=ids)
    cleared = AssignmentState.CLEARED.value
    return {i: access.Standing(roles=principal.roles, is_reporter=i in reported,
                               unit_active=states.get(i, cleared) != cleared, unit_ever=i in states) for i in ids}


def standing(*, db_session: Session, principal: Principal, incident_id: int, reporter: bool = True,
             unit: bool = True) -> access.Standing:
    """The caller's standing on one incident."""
    return standings(db_session=db_session, principal=principal, incident_ids=[incident_id], reporter=reporter,
                     unit=unit)[incident_id]


def visible_ids(*, db_session: Session, principal: Principal, incident_ids: Sequence[int]) -> set[int]:
    """Which of these incidents the caller may see (access.may_view)."""
    if access.sees_every_incident(principal.roles):
        return set(incident_ids)
    found = standings(db_session=db_session, principal=principal, incident_ids=incident_ids)
    return {i for i, s in found.items() if access.may_view(s)}


def restrict_list(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """A staff list of incidents narrowed to what the caller may see: responders (and nobody more senior)
    get the incidents their unit is or was assigned to."""
    if access.sees_every_incident(principal.roles):
        return stmt
    unit_id = responder_unit(principal)
    if unit_id is None:
        return stmt.where(false())
    assignment, incident = Assignment.__table__.c, Incident.__table__.c  # type: ignore[attr-defined]
    assigned = select(assignment.incident_id).where(assignment.unit_id == unit_id)
    return stmt.where(incident.id.in_(assigned))
