"""Safe City live feeds: every incident event for operators (responders: their unit's incidents), a
reporter's own updates."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry import relay

from api.core.auth import PEOPLE
from api.core.gql.context import Info
from api.core.gql.permissions import allow
from api.core.state import AppState
from api.incidents import access, standing
from api.incidents.flows import CHANNEL
from api.incidents.graphql.types import (
    STAFF,
    IncidentCategoryCode,
    IncidentEvent,
    IncidentPriority,
    IncidentStateEnum,
)


@strawberry.input(description="Which live incident events to receive; every field is optional.")
class IncidentEventFilter:
    categories: list[IncidentCategoryCode] | None = None  # type: ignore[valid-type]
    priorities: list[IncidentPriority] | None = None  # type: ignore[valid-type]
    states: list[IncidentStateEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The incident's state after the event.")
    unit_code: str | None = None
    incident_id: relay.GlobalID | None = None


def _matcher(f: IncidentEventFilter) -> Any:
    categories = {c.value for c in f.categories or []}
    priorities = {p.value for p in f.priorities or []}
    states = {s.value for s in f.states or []}
    incident = int(f.incident_id.node_id) if f.incident_id and f.incident_id.node_id.isdigit() else None

    def matches(m: dict[str, Any]) -> bool:
        return ((not categories or m.get("category") in categories)
                and (not priorities or m.get("priority") in priorities)
                and (not states or m.get("state") in states)
                and (f.unit_code is None or m.get("unit_code") == f.unit_code)
                and (incident is None or m.get("incident_id") == incident))

    return matches


class UnitIncidents:
    """The incidents a responder's unit is or was assigned to, as a live feed follows them: read once when the
    feed starts (after it subscribed, so nothing falls in between), grown by the feed's own events naming the
    unit (a dispatch, a merged duplicate's unit moving over), and an incident the feed has not placed yet is
    looked up once, in a short session."""

    def __init__(self, state: AppState, unit_id: int | None) -> None:
        self.state = state
        self.unit_id = unit_id
        self.known: set[int] = set()
        self.others: set[int] = set()
        if unit_id is not None:
            with state.db.session() as session:
                self.known = set(standing.unit_assignments(db_session=session, unit_id=unit_id))

    def allows(self, message: dict[str, Any]) -> bool:
        """Whether the responder may see this event."""
        incident = message.get("incident_id")
        if self.unit_id is None or not isinstance(incident, int):
            return False
        if message.get("unit_id") == self.unit_id:
            self.known.add(incident)
        if incident in self.known or incident in self.others:
            return incident in self.known
        with self.state.db.session() as session:
            assigned = standing.unit_assignments(db_session=session, unit_id=self.unit_id, incident_ids=[incident])
        (self.known if assigned else self.others).add(incident)
        return bool(assigned)


@strawberry.type
class IncidentSubscription:
    @strawberry.subscription(extensions=allow(*STAFF), description="Every incident event as it is committed (a "
                             "responder: events of the incidents their unit is or was assigned to).")
    async def incident_events(self, info: Info, filter: IncidentEventFilter | None = None
                              ) -> AsyncGenerator[IncidentEvent, None]:
        matches = _matcher(filter or IncidentEventFilter())
        principal = info.context.principal
        subscription = info.context.state.bus.subscribe(CHANNEL)
        try:
            unit = (None if access.sees_every_incident(principal.roles)
                    else UnitIncidents(info.context.state, standing.responder_unit(principal)))
            async for message in subscription:
                if matches(message) and (unit is None or unit.allows(message)):
                    yield IncidentEvent.from_message(message)
        finally:
            await subscription.aclose()  # type: ignore[attr-defined]

    @strawberry.subscription(extensions=allow(*PEOPLE), description="Changes to incidents you reported.")
    async def my_incident_updates(self, info: Info) -> AsyncGenerator[IncidentEvent, None]:
        account_id = info.context.principal.account_id
        subscription = info.context.state.bus.subscribe(CHANNEL)
        try:
            async for message in subscription:
                if account_id is not None and account_id in (message.get("reporters") or ()):
                    yield IncidentEvent.from_message(message)
        finally:
            await subscription.aclose()  # type: ignore[attr-defined]
