"""Safe City live feeds: every incident event for operators and responders, a reporter's own updates."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry import relay

from api.core.auth import PEOPLE
from api.core.gql.context import Info
from api.core.gql.permissions import allow
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


@strawberry.type
class IncidentSubscription:
    @strawberry.subscription(extensions=allow(*STAFF), description="Every incident event as it is committed.")
    async def incident_events(self, info: Info, filter: IncidentEventFilter | None = None
                              ) -> AsyncGenerator[IncidentEvent, None]:
        matches = _matcher(filter or IncidentEventFilter())
        subscription = info.context.state.bus.subscribe(CHANNEL)
        try:
            async for message in subscription:
                if matches(message):
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
