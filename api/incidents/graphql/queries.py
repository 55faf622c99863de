"""Safe City queries."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from api.core.auth import PEOPLE, Role
from api.core.errors import DomainError
from api.core.gql.connection import Connection, to_connection
from api.core.gql.context import Info
from api.core.gql.permissions import allow, public
from api.core.pagination import SortKey, paginate
from api.incidents import dispatch, flows, service, standing
from api.incidents.graphql.public_types import PUBLIC_STATES, PublicIncident
from api.incidents.graphql.types import (
    STAFF,
    Incident,
    IncidentCategory,
    IncidentCategoryCode,
    IncidentChannel,
    IncidentPriority,
    IncidentStateEnum,
    ResponseStage,
)
from api.incidents.graphql.unit_types import (
    ResponderUnit,
    ResponderUnitType,
    UnitReadiness,
    UnitRecommendation,
)
from api.incidents.models import Incident as IncidentRow
from api.incidents.models import ResponderUnit as UnitRow

_INCIDENT = IncidentRow.__table__.c  # type: ignore[attr-defined]  # lists page plain rows (service.incidents_query)
INCIDENT_ORDER = (SortKey(_INCIDENT.reported_at, descending=True), SortKey(_INCIDENT.id, descending=True))
UNIT_ORDER = (SortKey(UnitRow.code), SortKey(UnitRow.id))  # type: ignore[arg-type]


@strawberry.input(description="Narrows a list of incidents; every field is optional.")
class IncidentFilter:
    states: list[IncidentStateEnum] | None = None  # type: ignore[valid-type]
    categories: list[IncidentCategoryCode] | None = None  # type: ignore[valid-type]
    priorities: list[IncidentPriority] | None = None  # type: ignore[valid-type]
    channels: list[IncidentChannel] | None = None  # type: ignore[valid-type]
    unit_code: str | None = strawberry.field(default=None, description="Administrative unit (area).")
    reported_after: dt.datetime | None = None
    reported_before: dt.datetime | None = None


@strawberry.input(description="Narrows the public list of incidents.")
class PublicIncidentFilter:
    states: list[IncidentStateEnum] | None = None  # type: ignore[valid-type]
    categories: list[IncidentCategoryCode] | None = None  # type: ignore[valid-type]
    reported_after: dt.datetime | None = None
    reported_before: dt.datetime | None = None


@strawberry.input(description="Which incidents response times are computed over.")
class ResponseTimesFilter:
    categories: list[IncidentCategoryCode] | None = None  # type: ignore[valid-type]
    reported_after: dt.datetime | None = None
    reported_before: dt.datetime | None = None


@strawberry.input(description="Narrows the list of units.")
class UnitFilter:
    types: list[ResponderUnitType] | None = None  # type: ignore[valid-type]
    readiness: list[UnitReadiness] | None = None  # type: ignore[valid-type]


@strawberry.type(description="P50/P90 seconds of one response stage for one category (null: all categories).")
class StageResponseTimes:
    category: IncidentCategoryCode | None  # type: ignore[valid-type]
    stage: ResponseStage  # type: ignore[valid-type]
    count: int
    p50_seconds: float | None
    p90_seconds: float | None


def _values(items: list | None) -> list[str]:
    return [i.value for i in items or []]


def _incident_pk(gid: relay.GlobalID, field: str) -> int:
    if gid.type_name != "Incident" or not gid.node_id.isdigit():
        raise DomainError.single("INVALID", "This is not an incident id.", field=field,
                                 message_vi="Đây không phải mã sự việc.")
    return int(gid.node_id)


@strawberry.type
class IncidentQuery:
    @strawberry.field(extensions=allow(*STAFF), description="Incidents, newest first (staff; a responder: those "
                      "their unit is or was assigned to).")
    def incidents(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: IncidentFilter | None = None,
    ) -> Connection[Incident]:
        f = filter or IncidentFilter()
        stmt = standing.restrict_list(service.incidents_query(
            states=_values(f.states), categories=_values(f.categories), priorities=_values(f.priorities),
            channels=_values(f.channels), unit_code=f.unit_code, reported_after=f.reported_after,
            reported_before=f.reported_before), info.context.principal)
        page = paginate(info.context.session, stmt, keys=INCIDENT_ORDER, first=first, after=after, last=last,
                        before=before, rows=True)
        connection = to_connection(page, Incident.from_row)
        Incident.prefetch(info, [edge.node for edge in connection.edges])
        return connection

    @strawberry.field(extensions=allow(*PEOPLE), description="One incident: operators, police and admins; a "
                      "responder whose unit is or was assigned to it; one of its reporters.")
    def incident(self, info: Info, id: relay.GlobalID) -> Incident | None:
        pk = _incident_pk(id, "id")
        session = info.context.session
        if not flows.may_view(session, info.context.principal, pk):
            return None
        row = service.get_incident(db_session=session, incident_id=pk)
        return Incident.from_row(row) if row else None

    @strawberry.field(extensions=allow(*PEOPLE), description="Incidents you reported (merged ones follow).")
    def my_incidents(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[Incident]:
        stmt = service.incidents_query(reporter_account_id=info.context.principal.account_id or 0)
        page = paginate(info.context.session, stmt, keys=INCIDENT_ORDER, first=first, after=after, last=last,
                        before=before, rows=True)
        connection = to_connection(page, Incident.from_row)
        Incident.prefetch(info, [edge.node for edge in connection.edges])
        return connection

    @strawberry.field(extensions=public(), description="Incidents as anyone may see them: category, state, times and "
                      "a location rounded to ~100 m; no personal data. Rejected and merged ones are left out.")
    def public_incidents(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: PublicIncidentFilter | None = None,
    ) -> Connection[PublicIncident]:
        f = filter or PublicIncidentFilter()
        states = [s for s in _values(f.states) if s in PUBLIC_STATES] if f.states else list(PUBLIC_STATES)
        stmt = service.incidents_query(states=states or ["-"], categories=_values(f.categories),
                                       reported_after=f.reported_after, reported_before=f.reported_before)
        page = paginate(info.context.session, stmt, keys=INCIDENT_ORDER, first=first, after=after, last=last,
                        before=before, rows=True)
        return to_connection(page, PublicIncident.from_row)

    @strawberry.field(extensions=public(), description="Incident categories, in the caller's language.")
    def incident_categories(self, info: Info) -> list[IncidentCategory]:
        rows = service.list_categories(db_session=info.context.session)
        return [IncidentCategory.from_row(r, info.context.language) for r in rows]

    @strawberry.field(extensions=allow(Role.DISPATCHER, Role.POLICE, Role.ADMIN),
                      description="P50/P90 seconds per stage (acknowledge, dispatch, arrive, resolve) and category.")
    def response_times(self, info: Info, filter: ResponseTimesFilter | None = None) -> list[StageResponseTimes]:
        f = filter or ResponseTimesFilter()
        rows = dispatch.response_times(db_session=info.context.session, categories=_values(f.categories),
                                       since=f.reported_after, until=f.reported_before)
        return [StageResponseTimes(category=IncidentCategoryCode[r.category] if r.category else None, stage=r.stage,
                                   count=r.count, p50_seconds=r.p50_seconds, p90_seconds=r.p90_seconds) for r in rows]

    @strawberry.field(extensions=allow(*STAFF), description="Responder units, by code.")
    def units(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: UnitFilter | None = None,
    ) -> Connection[ResponderUnit]:
        f = filter or UnitFilter()
        stmt = service.units_query(types=_values(f.types), readiness=_values(f.readiness))
        page = paginate(info.context.session, stmt, keys=UNIT_ORDER, first=first, after=after, last=last,
                        before=before)
        return to_connection(page, ResponderUnit.from_row)

    @strawberry.field(extensions=allow(Role.DISPATCHER, Role.POLICE, Role.ADMIN),
                      description="Available units of a suitable type, nearest first; stale locations ignored.")
    def recommend_units(self, info: Info, incident_id: relay.GlobalID, first: int = 5) -> list[UnitRecommendation]:
        pk = _incident_pk(incident_id, "incidentId")
        rows = dispatch.recommend_units(db_session=info.context.session, settings=info.context.state.settings,
                                        incident_id=pk, limit=max(1, min(first, 20)))
        return [UnitRecommendation(unit=ResponderUnit.from_row(u), distance_meters=round(d, 1)) for u, d in rows]
