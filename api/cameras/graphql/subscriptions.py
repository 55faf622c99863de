"""Live camera events for the command centre (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry import relay

from api.cameras import flows, service
from api.cameras.graphql.queries import camera_pk
from api.cameras.graphql.types import WATCHERS, CameraEvent
from api.core.gql.context import Info
from api.core.gql.permissions import allow


@strawberry.input(description="Which live camera events to receive; every field is optional.")
class CameraEventSubscriptionFilter:
    camera_id: relay.GlobalID | None = None
    rule: str | None = None
    kind: str | None = None
    raises_incident: bool | None = None
    violations_only: bool = strawberry.field(default=False, description="Only events that are traffic offences.")


def _wanted(message: dict[str, Any], f: CameraEventSubscriptionFilter, camera_id: int | None) -> bool:
    return (
        (camera_id is None or message.get("cameraId") == camera_id)
        and (f.rule is None or message.get("rule") == f.rule)
        and (f.kind is None or message.get("kind") == f.kind)
        and (f.raises_incident is None or message.get("raisesIncident") == f.raises_incident)
        and (not f.violations_only or message.get("violation") is not None)
    )


@strawberry.type
class CameraSubscription:
    @strawberry.subscription(extensions=allow(*WATCHERS),
                             description="Camera events as they open, update, close or are acknowledged.")
    async def camera_events(
        self, info: Info, filter: CameraEventSubscriptionFilter | None = None
    ) -> AsyncGenerator[CameraEvent, None]:
        f = filter or CameraEventSubscriptionFilter()
        camera_id = camera_pk(f.camera_id, "filter.cameraId")
        state = info.context.state
        subscription = state.bus.subscribe(flows.EVENTS_CHANNEL)
        try:
            async for message in subscription:
                if not _wanted(message, f, camera_id):
                    continue
                # A short session per event: a websocket never holds a connection while it waits.
                with state.db.session() as session:
                    row = service.get_event(db_session=session, event_id=int(message["id"]))
                if row is not None:
                    yield CameraEvent.from_row(row)
        finally:
            await subscription.aclose()  # type: ignore[attr-defined]
