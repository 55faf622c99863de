"""The public view of an incident, for anyone and third parties: category, state, times and a location rounded
to ~100 m; no personal data, and rejected or merged incidents are not shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.gql.context import Info
from api.incidents import rules, service
from api.incidents.graphql.types import (
    IncidentCategoryCode,
    IncidentPriority,
    IncidentStateEnum,
    Location,
)
from api.incidents.models import Incident as IncidentRow


@strawberry.type(description="What anyone may know of an incident: no personal data, location rounded to ~100 m.")
class PublicIncident(relay.Node):
    pk: relay.NodeID[int]
    category: IncidentCategoryCode  # type: ignore[valid-type]
    state: IncidentStateEnum  # type: ignore[valid-type]
    priority: IncidentPriority  # type: ignore[valid-type]
    approximate_location: Location | None = strawberry.field(description="Rounded to 3 decimals (~110 m).")
    reported_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    report_count: int

    @classmethod
    def from_row(cls, row: IncidentRow) -> PublicIncident:
        """Builds the public view from a row."""
        location = (Location(lat=rules.coarse(row.lat), lng=rules.coarse(row.lng))
                    if row.lat is not None and row.lng is not None else None)
        return cls(pk=row.id or 0, category=IncidentCategoryCode[row.category], state=rules.IncidentState(row.state),
                   priority=rules.Priority(row.priority), approximate_location=location, reported_at=row.reported_at,
                   acknowledged_at=row.acknowledged_at, resolved_at=row.resolved_at, closed_at=row.closed_at,
                   report_count=row.report_count)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        rows = {r.id: r for r in service.get_incidents(db_session=info.context.session, incident_ids=ids)
                if r.state in PUBLIC_STATES}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


PUBLIC_STATES = tuple(s.value for s in rules.IncidentState
                      if s not in (rules.IncidentState.REJECTED, rules.IncidentState.MERGED))
