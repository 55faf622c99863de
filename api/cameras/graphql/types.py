"""GraphQL types of the cameras domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.cameras import service
from api.cameras.errors import CameraErrorCode
from api.cameras.models import Camera as CameraRow
from api.cameras.models import CameraEvent as EventRow
from api.cameras.models import TrafficViolation as ViolationRow
from api.cameras.rules import CAMERAS_SCOPE, WATCHERS, is_watcher, may_list_cameras  # noqa: F401  (re-exported)
from api.cameras.rules import CameraKind as CameraKindEnum
from api.cameras.rules import CameraStatus as CameraStatusEnum
from api.cameras.rules import EventState as EventStateEnum
from api.cameras.rules import ViolationKind as ViolationKindEnum
from api.core.gql.context import Info
from api.core.gql.errors import error_type
from api.core.pagination import SortKey

CameraError = error_type("CameraError", CameraErrorCode)
CameraKind = strawberry.enum(CameraKindEnum, name="CameraKind", description="What a camera watches.")
CameraStatus = strawberry.enum(CameraStatusEnum, name="CameraStatus", description="Whether frames flow.")
CameraEventState = strawberry.enum(EventStateEnum, name="CameraEventState", description="Open or closed.")
ViolationKind = strawberry.enum(ViolationKindEnum, name="TrafficViolationKind", description="Traffic offences.")

CAMERA_ORDER = (SortKey(CameraRow.code), SortKey(CameraRow.id))  # type: ignore[arg-type]
EVENT_ORDER = (SortKey(EventRow.started_at, descending=True), SortKey(EventRow.id, descending=True))  # type: ignore[arg-type]
VIOLATION_ORDER = (SortKey(ViolationRow.occurred_at, descending=True),  # type: ignore[arg-type]
                   SortKey(ViolationRow.id, descending=True))  # type: ignore[arg-type]


@strawberry.type(description="A file recorded for an event; `sha256` lets anyone verify the copy they hold.")
class Evidence:
    kind: str = strawberry.field(description="snapshot, snapshot_crop, best, best_crop or clip.")
    sha256: str
    bytes: int | None
    url: str = strawberry.field(description="Download with your bearer token (staff only).")


def evidence_list(info: Info, event_pk: int, items: list[dict[str, Any]]) -> list[Evidence]:
    """The evidence of an event as GraphQL objects with download URLs."""
    base = info.context.state.settings.public_url.rstrip("/")
    return [Evidence(kind=i["kind"], sha256=i["sha256"], bytes=i.get("bytes"),
                     url=f"{base}/media/evidence/{event_pk}/{i['kind']}") for i in items]


@strawberry.type(description="A camera of the Phu Quoc network.")
class Camera(relay.Node):
    pk: relay.NodeID[int]
    code: str
    name: str
    kind: CameraKind  # type: ignore[valid-type]
    lat: float
    lng: float
    unit_code: str = strawberry.field(description="Administrative unit code, e.g. 31078 (Phú Quốc).")
    analysis_fps: float
    analysis_width: int
    enabled: bool
    status: CameraStatus  # type: ignore[valid-type]
    status_changed_at: dt.datetime | None
    created_at: dt.datetime
    row: strawberry.Private[CameraRow]

    @classmethod
    def from_row(cls, row: CameraRow) -> Camera:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, code=row.code, name=row.name, kind=CameraKindEnum(row.kind), lat=row.lat, lng=row.lng,
                   unit_code=row.unit_code, analysis_fps=row.analysis_fps, analysis_width=row.analysis_width,
                   enabled=row.enabled, status=CameraStatusEnum(row.status), status_changed_at=row.status_changed_at,
                   created_at=row.created_at, row=row)

    @strawberry.field(description="The stream URL (may carry credentials): police, dispatchers and admins "
                      "only; null for everyone else.")
    def stream_url(self, info: Info) -> str | None:
        return self.row.stream_url if is_watcher(info.context.principal) else None

    @strawberry.field(description="Zones, rules and tuning (api/cameras/config.py): staff only; null otherwise.")
    def config(self, info: Info) -> JSON | None:
        return JSON(self.row.config) if is_watcher(info.context.principal) else None

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        if not may_list_cameras(info.context.principal):
            return [None for _ in node_ids]
        rows = {r.id: r for r in service.get_cameras(db_session=info.context.session, camera_ids=ids)}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


@strawberry.type(description="An event the analysis raised on a camera (intrusion, red light, tamper ...).")
class CameraEvent(relay.Node):
    pk: relay.NodeID[int]
    rule: str = strawberry.field(description="The rule's name in the camera config.")
    kind: str = strawberry.field(description="The rule type: intrusion, loitering, tripwire, wrong_way, "
                                 "red_light, speed, abandoned_object, stopped_vehicle, no_parking, tamper_*.")
    track_id: int | None
    zone: str | None
    direction: str | None
    speed_kmh: float | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    state: CameraEventState  # type: ignore[valid-type]
    raises_incident: bool
    incident_id: int | None = strawberry.field(description="The incident raised for it, once there is one.")
    acknowledged_by: int | None = strawberry.field(description="Account id of the operator who acknowledged it.")
    acknowledged_at: dt.datetime | None
    camera_pk: strawberry.Private[int]
    evidence_items: strawberry.Private[list[dict[str, Any]]]

    @classmethod
    def from_row(cls, row: EventRow) -> CameraEvent:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, rule=row.rule, kind=row.kind, track_id=row.track_id, zone=row.zone,
                   direction=row.direction, speed_kmh=row.speed_kmh, started_at=row.started_at,
                   ended_at=row.ended_at, state=EventStateEnum(row.state), raises_incident=row.raises_incident,
                   incident_id=row.incident_id, acknowledged_by=row.acknowledged_by,
                   acknowledged_at=row.acknowledged_at, camera_pk=row.camera_id, evidence_items=list(row.evidence))

    @strawberry.field(description="Files recorded for it, each with its SHA-256.")
    def evidence(self, info: Info) -> list[Evidence]:
        return evidence_list(info, self.pk, self.evidence_items)

    @strawberry.field
    async def camera(self, info: Info) -> Camera | None:
        from api.cameras.graphql.dataloaders import CameraByIdLoader

        row = await info.context.loader(CameraByIdLoader).load(self.camera_pk)
        return Camera.from_row(row) if row else None

    @strawberry.field(description="The traffic violation recorded from it, if it is one.")
    async def violation(self, info: Info) -> TrafficViolation | None:
        from api.cameras.graphql.dataloaders import TrafficViolationByEventLoader

        row = await info.context.loader(TrafficViolationByEventLoader).load(self.pk)
        return TrafficViolation.from_row(row) if row else None

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        node_ids = list(node_ids)
        if not is_watcher(info.context.principal):
            return [None for _ in node_ids]
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        rows = {r.id: r for r in service.get_events(db_session=info.context.session, event_ids=ids)}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


@strawberry.type(description="A traffic offence recorded by a camera (vi phạm giao thông), with its evidence.")
class TrafficViolation(relay.Node):
    pk: relay.NodeID[int]
    kind: ViolationKind  # type: ignore[valid-type]
    occurred_at: dt.datetime
    speed_kmh: float | None
    limit_kmh: float | None
    event_pk: strawberry.Private[int]
    camera_pk: strawberry.Private[int]
    evidence_items: strawberry.Private[list[dict[str, Any]]]

    @classmethod
    def from_row(cls, row: ViolationRow) -> TrafficViolation:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, kind=ViolationKindEnum(row.kind), occurred_at=row.occurred_at, speed_kmh=row.speed_kmh,
                   limit_kmh=row.limit_kmh, event_pk=row.event_id, camera_pk=row.camera_id,
                   evidence_items=list(row.evidence))

    @strawberry.field(description="Files recorded for it, each with its SHA-256.")
    def evidence(self, info: Info) -> list[Evidence]:
        return evidence_list(info, self.event_pk, self.evidence_items)

    @strawberry.field
    async def camera(self, info: Info) -> Camera | None:
        from api.cameras.graphql.dataloaders import CameraByIdLoader

        row = await info.context.loader(CameraByIdLoader).load(self.camera_pk)
        return Camera.from_row(row) if row else None

    @strawberry.field
    async def event(self, info: Info) -> CameraEvent | None:
        from api.cameras.graphql.dataloaders import CameraEventByIdLoader

        row = await info.context.loader(CameraEventByIdLoader).load(self.event_pk)
        return CameraEvent.from_row(row) if row else None

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        node_ids = list(node_ids)
        if not is_watcher(info.context.principal):
            return [None for _ in node_ids]
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        rows = {r.id: r for r in service.get_violations(db_session=info.context.session, violation_ids=ids)}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


@strawberry.input(description="Narrows the list of cameras.")
class CameraFilter:
    kind: CameraKind | None = None  # type: ignore[valid-type]
    status: CameraStatus | None = None  # type: ignore[valid-type]
    enabled: bool | None = None
    unit_code: str | None = None
    search: str | None = strawberry.field(default=None, description="Part of the code or name.")


@strawberry.input(description="Narrows camera events; `since`/`until` apply to the start.")
class CameraEventFilter:
    camera_id: relay.GlobalID | None = None
    rule: str | None = None
    kind: str | None = None
    state: CameraEventState | None = None  # type: ignore[valid-type]
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    acknowledged: bool | None = None
    raises_incident: bool | None = None


@strawberry.input(description="Narrows traffic violations by camera, kind and time.")
class TrafficViolationFilter:
    camera_id: relay.GlobalID | None = None
    kind: ViolationKind | None = None  # type: ignore[valid-type]
    since: dt.datetime | None = None
    until: dt.datetime | None = None
