"""Camera mutations: register and change cameras (admins), acknowledge events (watchers)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.cameras import flows
from api.cameras.errors import CameraErrorCode as Code
from api.cameras.graphql.types import WATCHERS, Camera, CameraError, CameraEvent, CameraKind
from api.cameras.rules import CameraKind as CameraKindEnum
from api.core.auth import Role
from api.core.errors import DomainError
from api.core.gql.context import Info
from api.core.gql.errors import to_user_errors
from api.core.gql.permissions import allow
from api.core.model import utcnow


@strawberry.input(description="A camera to register; `config` holds zones and rules (see README, Cameras).")
class CreateCameraInput:
    code: str = strawberry.field(description="Unique, e.g. PQ-T01.")
    name: str
    kind: CameraKind  # type: ignore[valid-type]
    lat: float
    lng: float
    unit_code: str = strawberry.field(description="Administrative unit code, e.g. 31078.")
    stream_url: str = strawberry.field(description="rtsp://, http(s):// or synthetic:<scene> (demo).")
    config: JSON = strawberry.field(description="Zones and rules: unknown keys are refused, coordinates 0..1.")
    analysis_fps: float = 5.0
    analysis_width: int = 320
    enabled: bool = True


@strawberry.input(description="Fields to change; those left out stay as they are.")
class UpdateCameraInput:
    id: relay.GlobalID
    code: str | None = None
    name: str | None = None
    kind: CameraKind | None = None  # type: ignore[valid-type]
    lat: float | None = None
    lng: float | None = None
    unit_code: str | None = None
    stream_url: str | None = None
    config: JSON | None = None
    analysis_fps: float | None = None
    analysis_width: int | None = None
    enabled: bool | None = None


@strawberry.type
class CameraPayload:
    camera: Camera | None = None
    errors: list[CameraError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class AcknowledgeCameraEventInput:
    id: relay.GlobalID


@strawberry.type
class AcknowledgeCameraEventPayload:
    event: CameraEvent | None = None
    errors: list[CameraError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


def _errors(info: Info, exc: DomainError) -> list[Any]:
    out = to_user_errors(CameraError, Code, exc.errors, info.context.language)
    for error, source in zip(out, exc.errors, strict=True):
        if source.field and source.field.startswith("config"):
            error.field = source.field  # paths inside the JSON keep the keys the caller sent
    return out


def _pk(gid: relay.GlobalID, type_name: str, message: str, message_vi: str) -> int:
    if gid.type_name != type_name or not str(gid.node_id).isdigit():
        raise DomainError.single(Code.INVALID, message, field="id", message_vi=message_vi)
    return int(gid.node_id)


@strawberry.type
class CameraMutation:
    @strawberry.mutation(extensions=allow(Role.ADMIN), description="Registers a camera with its zones and rules.")
    def create_camera(self, info: Info, input: CreateCameraInput) -> CameraPayload:
        data = flows.CameraData(
            code=input.code, name=input.name, kind=CameraKindEnum(input.kind).value, lat=input.lat, lng=input.lng,
            unit_code=input.unit_code, stream_url=input.stream_url, config=input.config,
            analysis_fps=input.analysis_fps, analysis_width=input.analysis_width, enabled=input.enabled,
        )
        try:
            with info.context.write() as session:
                row = flows.create_camera(db_session=session, data=data)
        except DomainError as exc:
            return CameraPayload(errors=_errors(info, exc))
        return CameraPayload(camera=Camera.from_row(row))

    @strawberry.mutation(extensions=allow(Role.ADMIN), description="Changes a camera; workers reload it.")
    def update_camera(self, info: Info, input: UpdateCameraInput) -> CameraPayload:
        names = ("code", "name", "lat", "lng", "unit_code", "stream_url", "config", "analysis_fps",
                 "analysis_width", "enabled")
        changes = {n: getattr(input, n) for n in names if getattr(input, n) is not None}
        if input.kind is not None:
            changes["kind"] = CameraKindEnum(input.kind).value
        try:
            camera_id = _pk(input.id, "Camera", "This is not a camera id.", "Đây không phải mã camera.")
            with info.context.write() as session:
                row = flows.update_camera(db_session=session, camera_id=camera_id, changes=changes)
        except DomainError as exc:
            return CameraPayload(errors=_errors(info, exc))
        return CameraPayload(camera=Camera.from_row(row))

    @strawberry.mutation(extensions=allow(*WATCHERS), description="Marks a camera event as seen.")
    def acknowledge_camera_event(self, info: Info, input: AcknowledgeCameraEventInput) -> AcknowledgeCameraEventPayload:
        try:
            event_id = _pk(input.id, "CameraEvent", "This is not a camera event id.", "Đây không phải mã sự kiện camera.")
            with info.context.write() as session:
                row = flows.acknowledge_event(db_session=session, event_id=event_id, actor=info.context.principal,
                                              now=utcnow())
        except DomainError as exc:
            return AcknowledgeCameraEventPayload(errors=_errors(info, exc))
        return AcknowledgeCameraEventPayload(event=CameraEvent.from_row(row))
