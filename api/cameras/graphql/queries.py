"""Camera queries: the registry, the events and the traffic violations."""

from __future__ import annotations

import strawberry
from strawberry import relay

from api.cameras import service
from api.cameras.graphql.types import (
    CAMERA_ORDER,
    CAMERAS_SCOPE,
    EVENT_ORDER,
    VIOLATION_ORDER,
    WATCHERS,
    Camera,
    CameraEvent,
    CameraEventFilter,
    CameraFilter,
    TrafficViolation,
    TrafficViolationFilter,
)
from api.core.auth import Role
from api.core.errors import DomainError
from api.core.gql.connection import Connection, to_connection
from api.core.gql.context import Info
from api.core.gql.permissions import allow
from api.core.pagination import paginate


def camera_pk(gid: relay.GlobalID | None, field: str) -> int | None:
    """The primary key inside a Camera global id, or a clear error."""
    if gid is None:
        return None
    if gid.type_name != "Camera" or not str(gid.node_id).isdigit():
        raise DomainError.single("INVALID", "This is not a camera id.", field=field,
                                 message_vi="Đây không phải mã camera.")
    return int(gid.node_id)


@strawberry.type
class CameraQuery:
    @strawberry.field(extensions=allow(*WATCHERS, Role.THIRD_PARTY, scope=CAMERAS_SCOPE),
                      description="Cameras by code; keys with cameras:read see them without stream URLs.")
    def cameras(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: CameraFilter | None = None,
    ) -> Connection[Camera]:
        f = filter or CameraFilter()
        stmt = service.cameras_query(kind=f.kind.value if f.kind else None, status=f.status.value if f.status else None,
                                     enabled=f.enabled, unit_code=f.unit_code, search=f.search)
        page = paginate(info.context.session, stmt, keys=CAMERA_ORDER, first=first, after=after, last=last,
                        before=before)
        return to_connection(page, Camera.from_row)

    @strawberry.field(extensions=allow(*WATCHERS), description="Camera events, newest first.")
    def camera_events(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: CameraEventFilter | None = None,
    ) -> Connection[CameraEvent]:
        f = filter or CameraEventFilter()
        stmt = service.events_query(camera_id=camera_pk(f.camera_id, "filter.cameraId"), rule=f.rule, kind=f.kind,
                                    state=f.state.value if f.state else None, since=f.since, until=f.until,
                                    acknowledged=f.acknowledged, raises_incident=f.raises_incident)
        page = paginate(info.context.session, stmt, keys=EVENT_ORDER, first=first, after=after, last=last,
                        before=before)
        return to_connection(page, CameraEvent.from_row)

    @strawberry.field(extensions=allow(*WATCHERS), description="Traffic violations, newest first.")
    def traffic_violations(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: TrafficViolationFilter | None = None,
    ) -> Connection[TrafficViolation]:
        f = filter or TrafficViolationFilter()
        stmt = service.violations_query(camera_id=camera_pk(f.camera_id, "filter.cameraId"),
                                        kind=f.kind.value if f.kind else None, since=f.since, until=f.until)
        page = paginate(info.context.session, stmt, keys=VIOLATION_ORDER, first=first, after=after, last=last,
                        before=before)
        return to_connection(page, TrafficViolation.from_row)
