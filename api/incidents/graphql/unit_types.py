"""GraphQL types for responder units and their assignments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.gql.context import Info
from api.incidents import access, lifecycle, rules, service, standing
from api.incidents.graphql.dataloaders import IncidentByIdLoader
from api.incidents.models import Assignment as AssignmentRow
from api.incidents.models import ResponderUnit as UnitRow

ResponderUnitType = strawberry.enum(rules.UnitType, name="ResponderUnitType")
UnitReadiness = strawberry.enum(rules.Readiness, name="UnitReadiness")
AssignmentStateEnum: Any = strawberry.enum(rules.AssignmentState, name="AssignmentState")


def _staff(info: Info) -> bool:
    return bool(info.context.principal.roles & lifecycle.STAFF_VIEW_ROLES)


@strawberry.type(description="A position with the time it was reported.")
class UnitLocation:
    lat: float
    lng: float
    located_at: dt.datetime | None


@strawberry.type(description="A police patrol, traffic police team, fire engine, ambulance or tourist police team.")
class ResponderUnit(relay.Node):
    pk: relay.NodeID[int]
    code: str
    name: str
    type: ResponderUnitType  # type: ignore[valid-type]
    readiness: UnitReadiness  # type: ignore[valid-type]
    location: UnitLocation | None = strawberry.field(description="Last known position.")
    unit_code: str | None
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: UnitRow) -> ResponderUnit:
        """Builds the GraphQL object from a row."""
        location = (UnitLocation(lat=row.lat, lng=row.lng, located_at=row.located_at)
                    if row.lat is not None and row.lng is not None else None)
        return cls(pk=row.id or 0, code=row.code, name=row.name, type=rules.UnitType(row.type),
                   readiness=rules.Readiness(row.readiness), location=location, unit_code=row.unit_code,
                   updated_at=row.updated_at)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Units and their positions are for staff only (like the `units` query).
        if not _staff(info):
            return [None for _ in node_ids]
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        rows = {u.id: u for u in service.get_units(db_session=info.context.session, unit_ids=ids)}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


@strawberry.type(description="One unit's progress on one incident.")
class Assignment(relay.Node):
    pk: relay.NodeID[int]
    unit: ResponderUnit
    state: AssignmentStateEnum  # type: ignore[valid-type]
    assigned_at: dt.datetime
    en_route_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    cleared_at: dt.datetime | None
    incident_pk: strawberry.Private[int]

    @classmethod
    def from_rows(cls, row: AssignmentRow, unit: UnitRow) -> Assignment:
        """Builds the GraphQL object from an assignment and its unit."""
        return cls(pk=row.id or 0, unit=ResponderUnit.from_row(unit), state=rules.AssignmentState(row.state),
                   assigned_at=row.assigned_at, en_route_at=row.en_route_at, on_scene_at=row.on_scene_at,
                   cleared_at=row.cleared_at, incident_pk=row.incident_id)

    @strawberry.field(description="The incident's global id.")
    def incident_id(self) -> relay.GlobalID:
        return relay.GlobalID("Incident", str(self.incident_pk))

    @strawberry.field(description="The states you may move this assignment to now (the checks "
                      "updateAssignment runs).")
    async def allowed_states(self, info: Info) -> list[AssignmentStateEnum]:  # type: ignore[valid-type]
        incident = await info.context.loader(IncidentByIdLoader).load(self.incident_pk)
        if incident is None:
            return []
        principal = info.context.principal
        return access.assignment_steps(principal.roles, standing.responder_unit(principal), self.unit.pk,
                                       rules.AssignmentState(self.state), incident.state)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Staff; a responder only on incidents they may see (those their unit is or was assigned to).
        if not _staff(info):
            return [None for _ in node_ids]
        out = []
        session = info.context.session
        principal = info.context.principal
        for i in node_ids:
            row = service.get_assignment(db_session=session, assignment_id=int(i)) if str(i).isdigit() else None
            if row is not None and not standing.visible_ids(db_session=session, principal=principal,
                                                            incident_ids=[row.incident_id]):
                row = None
            unit = service.get_unit(db_session=session, unit_id=row.unit_id) if row else None
            out.append(cls.from_rows(row, unit) if row and unit else None)
        return out


@strawberry.type(description="A unit suggested for an incident, with its distance.")
class UnitRecommendation:
    unit: ResponderUnit
    distance_meters: float
