"""Safe City mutations: filing reports and hotline calls, the lifecycle, dispatch, unit status."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from api.core.auth import PEOPLE, Role
from api.core.errors import DomainError, FieldError
from api.core.gql.context import Info
from api.core.gql.mutations import run_in_transaction, user_errors
from api.core.gql.permissions import allow
from api.core.media import ImageRejected, PreparedImage, prepare_image
from api.incidents import dispatch, filing, flows, regroup, rules
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.graphql.types import Incident, IncidentCategoryCode, IncidentError, LocationInput
from api.incidents.graphql.unit_types import Assignment, AssignmentStateEnum, ResponderUnit, UnitReadiness

OPERATORS = (Role.DISPATCHER, Role.POLICE, Role.ADMIN)
DISPATCHERS = (Role.DISPATCHER, Role.ADMIN)
RESPONDERS = (Role.DISPATCHER, Role.POLICE, Role.RESPONDER, Role.ADMIN)
Errors = list[IncidentError]  # type: ignore[valid-type]


def _pk(gid: relay.GlobalID | None, type_name: str, field: str) -> int:
    if gid is None or gid.type_name != type_name or not gid.node_id.isdigit():
        raise DomainError.single(Code.INVALID, f"This is not a {type_name} id.", field=field,
                                 message_vi="Mã không hợp lệ.")
    return int(gid.node_id)


async def _read_photos(info: Info, uploads: list[Upload] | None) -> tuple[PreparedImage, ...]:
    """Reads, checks and re-encodes uploads off the event loop; nothing is stored here."""
    uploads = list(uploads or [])
    settings = info.context.state.settings
    if len(uploads) > settings.incident_max_photos:
        raise DomainError.single(Code.TOO_MANY_PHOTOS, f"At most {settings.incident_max_photos} photos.",
                                 field="photos", message_vi=f"Tối đa {settings.incident_max_photos} ảnh.")
    info.context.release()
    prepared = []
    for index, upload in enumerate(uploads):
        data = await upload.read(settings.max_upload_bytes + 1)  # type: ignore[attr-defined]  # UploadFile
        try:
            prepared.append(await asyncio.to_thread(prepare_image, data, max_bytes=settings.max_upload_bytes,
                                                    max_pixels=settings.incident_max_photo_pixels))
        except ImageRejected as exc:
            name = getattr(upload, "filename", None) or f"photo {index + 1}"
            raise DomainError(FieldError(exc.code, f"{name}: {exc.message}", f"photos.{index}",
                                         f"{name}: {exc.message_vi}")) from None
    return tuple(prepared)


def _run(info: Info, work: Callable[[Any], Any]) -> tuple[Any, list[Any]]:
    return run_in_transaction(info.context, work, IncidentError, Code)


def _errors(info: Info, exc: DomainError) -> list[Any]:
    return user_errors(info.context, exc, IncidentError, Code)


@strawberry.input
class ReportIncidentInput:
    category: IncidentCategoryCode  # type: ignore[valid-type]
    description: str = ""
    location: LocationInput | None = strawberry.field(default=None, description="Optional when a photo has GPS.")
    occurred_at: dt.datetime | None = None
    photos: list[Upload] | None = strawberry.field(default=None, description="Up to 5 JPEG/PNG/WebP photos.")
    idempotency_key: str = strawberry.field(description="A client UUID; a retry with it returns the first result.")
    address: str | None = None


@strawberry.type
class ReportIncidentPayload:
    incident: Incident | None = None
    attached_to_existing: bool = strawberry.field(default=False, description="Joined an open incident nearby.")
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.input
class LogHotlineCallInput:
    category: IncidentCategoryCode  # type: ignore[valid-type]
    description: str = ""
    caller_name: str | None = None
    callback_number: str | None = None
    language: str = "vi"
    tourist: bool = False
    notes: str | None = None
    location: LocationInput | None = None
    address: str | None = None
    occurred_at: dt.datetime | None = None
    incident_id: relay.GlobalID | None = strawberry.field(default=None, description="Attach to this incident.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A key the console makes once per call: a retry with it returns the first "
        "result instead of logging the call twice.")


@strawberry.type
class LogHotlineCallPayload:
    incident: Incident | None = None
    attached_to_existing: bool = False
    hotline_call_id: int | None = None
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.input
class AcknowledgeIncidentInput:
    id: relay.GlobalID
    note: str | None = None


@strawberry.input
class RejectIncidentInput:
    id: relay.GlobalID
    reason: str


@strawberry.input
class DispatchIncidentInput:
    id: relay.GlobalID
    unit_ids: list[relay.GlobalID]
    note: str | None = None


@strawberry.input
class UpdateAssignmentInput:
    id: relay.GlobalID = strawberry.field(description="The assignment.")
    state: AssignmentStateEnum  # type: ignore[valid-type]
    note: str | None = None


@strawberry.input
class ResolveIncidentInput:
    id: relay.GlobalID
    resolution_note: str
    photos: list[Upload] | None = strawberry.field(default=None, description="Proof of the result.")


@strawberry.input
class CloseIncidentInput:
    id: relay.GlobalID
    note: str | None = None


@strawberry.input
class MergeIncidentsInput:
    source_id: relay.GlobalID = strawberry.field(description="The duplicate; it becomes MERGED.")
    target_id: relay.GlobalID = strawberry.field(description="The incident that keeps going.")
    note: str | None = None


@strawberry.input
class SplitIncidentInput:
    report_id: int = strawberry.field(description="The report to move to a new incident of its own.")
    note: str | None = None


@strawberry.input
class ReopenIncidentInput:
    id: relay.GlobalID
    reason: str


@strawberry.input
class RateIncidentInput:
    id: relay.GlobalID
    rating: int = strawberry.field(description="1 to 5.")
    comment: str | None = None


@strawberry.input
class UpdateUnitStatusInput:
    unit_id: relay.GlobalID | None = strawberry.field(default=None, description="Default: your own unit.")
    readiness: UnitReadiness | None = None  # type: ignore[valid-type]
    location: LocationInput | None = None


@strawberry.type
class IncidentPayload:
    incident: Incident | None = None
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.type
class MergeIncidentsPayload:
    source: Incident | None = None
    target: Incident | None = None
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.type
class SplitIncidentPayload:
    source: Incident | None = None
    incident: Incident | None = strawberry.field(default=None, description="The new incident.")
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.type
class UpdateAssignmentPayload:
    assignment: Assignment | None = None
    incident: Incident | None = None
    errors: Errors = strawberry.field(default_factory=list)


@strawberry.type
class UpdateUnitStatusPayload:
    unit: ResponderUnit | None = None
    errors: Errors = strawberry.field(default_factory=list)


def _incident(info: Info, work: Callable[[Any], Any]) -> IncidentPayload:
    row, errors = _run(info, work)
    return IncidentPayload(incident=Incident.from_row(row) if row else None, errors=errors)


@strawberry.type
class IncidentMutation:
    @strawberry.mutation(extensions=allow(*PEOPLE), description="Reports an incident from the app (idempotent by "
                         "idempotencyKey); attaches to an open incident nearby when there is one.")
    async def report_incident(self, info: Info, input: ReportIncidentInput) -> ReportIncidentPayload:
        ctx = info.context
        try:
            photos = await _read_photos(info, input.photos)
        except DomainError as exc:
            return ReportIncidentPayload(errors=_errors(info, exc))
        data = filing.NewReport(
            category=input.category.value, description=input.description or "",
            lat=input.location.lat if input.location else None, lng=input.location.lng if input.location else None,
            occurred_at=input.occurred_at, idempotency_key=input.idempotency_key, photos=photos, address=input.address)
        # The write transaction runs on the event loop, with no await inside it. A worker thread was tried:
        # the loop kept serving during the round trips, but handing the GIL back and forth cost ~1 ms of CPU
        # per report, and with one process per core (`serve --processes`) the other process fills a round
        # trip's wait anyway: 209 reports/s threaded against 279 inline (bench/bench_incidents.py). A wait for
        # a nearby reporter's area lock is bounded by that reporter's transaction, which never awaits either.
        filed, errors = _run(info, lambda s: filing.report_incident(db_session=s, settings=ctx.state.settings,
                                                                    principal=ctx.principal, data=data))
        if filed is None:
            return ReportIncidentPayload(errors=errors)
        return ReportIncidentPayload(incident=Incident.from_row(filed.incident),
                                     attached_to_existing=filed.attached_to_existing)

    @strawberry.mutation(extensions=allow(*OPERATORS), description="Logs a hotline call as a new incident or on an "
                         "existing one.")
    def log_hotline_call(self, info: Info, input: LogHotlineCallInput) -> LogHotlineCallPayload:
        ctx = info.context

        def work(session: Any) -> filing.Filed:
            call = filing.NewHotlineCall(
                category=input.category.value, description=input.description, caller_name=input.caller_name,
                callback_number=input.callback_number, language=input.language, is_tourist=input.tourist,
                notes=input.notes, lat=input.location.lat if input.location else None,
                lng=input.location.lng if input.location else None, address=input.address,
                occurred_at=input.occurred_at,
                incident_id=_pk(input.incident_id, "Incident", "incident_id") if input.incident_id else None,
                idempotency_key=input.idempotency_key)
            return filing.log_hotline_call(db_session=session, settings=ctx.state.settings, principal=ctx.principal,
                                          call=call)

        filed, errors = _run(info, work)
        if filed is None:
            return LogHotlineCallPayload(errors=errors)
        return LogHotlineCallPayload(incident=Incident.from_row(filed.incident),
                                     attached_to_existing=filed.attached_to_existing,
                                     hotline_call_id=filed.hotline_call.id if filed.hotline_call else None)

    @strawberry.mutation(extensions=allow(*OPERATORS), description="REPORTED -> ACKNOWLEDGED.")
    def acknowledge_incident(self, info: Info, input: AcknowledgeIncidentInput) -> IncidentPayload:
        return _incident(info, lambda s: flows.acknowledge(
            db_session=s, principal=info.context.principal, incident_id=_pk(input.id, "Incident", "id"),
            note=input.note))

    @strawberry.mutation(extensions=allow(*OPERATORS), description="Rejects a report, with a reason.")
    def reject_incident(self, info: Info, input: RejectIncidentInput) -> IncidentPayload:
        return _incident(info, lambda s: flows.reject(
            db_session=s, principal=info.context.principal, incident_id=_pk(input.id, "Incident", "id"),
            reason=input.reason))

    @strawberry.mutation(extensions=allow(*DISPATCHERS), description="Sends one or more units.")
    def dispatch_incident(self, info: Info, input: DispatchIncidentInput) -> IncidentPayload:
        return _incident(info, lambda s: dispatch.dispatch(
            db_session=s, principal=info.context.principal, incident_id=_pk(input.id, "Incident", "id"),
            unit_ids=[_pk(u, "ResponderUnit", f"unit_ids.{i}") for i, u in enumerate(input.unit_ids)],
            note=input.note))

    @strawberry.mutation(extensions=allow(*RESPONDERS), description="A unit's progress: EN_ROUTE, ON_SCENE, CLEARED.")
    def update_assignment(self, info: Info, input: UpdateAssignmentInput) -> UpdateAssignmentPayload:
        result, errors = _run(info, lambda s: dispatch.update_assignment(
            db_session=s, principal=info.context.principal, assignment_id=_pk(input.id, "Assignment", "id"),
            state=rules.AssignmentState(input.state.value), note=input.note))
        if result is None:
            return UpdateAssignmentPayload(errors=errors)
        assignment, incident = result
        from api.incidents import service

        unit = service.get_unit(db_session=info.context.session, unit_id=assignment.unit_id)
        assert unit is not None  # an assignment's unit is a foreign key
        return UpdateAssignmentPayload(assignment=Assignment.from_rows(assignment, unit),
                                       incident=Incident.from_row(incident))

    @strawberry.mutation(extensions=allow(*RESPONDERS), description="Resolves with a note (and photo proof where "
                         "the category needs it).")
    async def resolve_incident(self, info: Info, input: ResolveIncidentInput) -> IncidentPayload:
        try:
            photos = await _read_photos(info, input.photos)
        except DomainError as exc:
            return IncidentPayload(errors=_errors(info, exc))
        ctx = info.context
        return _incident(info, lambda s: flows.resolve(
            db_session=s, settings=ctx.state.settings, principal=ctx.principal,
            incident_id=_pk(input.id, "Incident", "id"), resolution_note=input.resolution_note, photos=photos))

    @strawberry.mutation(extensions=allow(*DISPATCHERS), description="RESOLVED -> CLOSED.")
    def close_incident(self, info: Info, input: CloseIncidentInput) -> IncidentPayload:
        return _incident(info, lambda s: flows.close(
            db_session=s, principal=info.context.principal, incident_id=_pk(input.id, "Incident", "id"),
            note=input.note))

    @strawberry.mutation(extensions=allow(*OPERATORS), description="Merges a duplicate into another open incident.")
    def merge_incidents(self, info: Info, input: MergeIncidentsInput) -> MergeIncidentsPayload:
        result, errors = _run(info, lambda s: regroup.merge(
            db_session=s, principal=info.context.principal, source_id=_pk(input.source_id, "Incident", "source_id"),
            target_id=_pk(input.target_id, "Incident", "target_id"), note=input.note))
        if result is None:
            return MergeIncidentsPayload(errors=errors)
        return MergeIncidentsPayload(source=Incident.from_row(result[0]), target=Incident.from_row(result[1]))

    @strawberry.mutation(extensions=allow(*OPERATORS), description="Moves one report to a new incident of its own.")
    def split_incident(self, info: Info, input: SplitIncidentInput) -> SplitIncidentPayload:
        ctx = info.context
        result, errors = _run(info, lambda s: regroup.split(
            db_session=s, settings=ctx.state.settings, principal=ctx.principal, report_id=input.report_id,
            note=input.note))
        if result is None:
            return SplitIncidentPayload(errors=errors)
        return SplitIncidentPayload(source=Incident.from_row(result[0]), incident=Incident.from_row(result[1]))

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Reopens your resolved incident within the window, "
                         "with a reason.")
    def reopen_incident(self, info: Info, input: ReopenIncidentInput) -> IncidentPayload:
        ctx = info.context
        return _incident(info, lambda s: flows.reopen(
            db_session=s, settings=ctx.state.settings, principal=ctx.principal,
            incident_id=_pk(input.id, "Incident", "id"), reason=input.reason))

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Rates your closed incident (1-5), once.")
    def rate_incident(self, info: Info, input: RateIncidentInput) -> IncidentPayload:
        return _incident(info, lambda s: flows.rate(
            db_session=s, principal=info.context.principal, incident_id=_pk(input.id, "Incident", "id"),
            rating=input.rating, comment=input.comment))

    @strawberry.mutation(extensions=allow(Role.RESPONDER, Role.DISPATCHER, Role.ADMIN),
                         description="A unit's readiness and location (responders: their own unit).")
    def update_unit_status(self, info: Info, input: UpdateUnitStatusInput) -> UpdateUnitStatusPayload:
        row, errors = _run(info, lambda s: dispatch.update_unit_status(
            db_session=s, principal=info.context.principal,
            unit_id=_pk(input.unit_id, "ResponderUnit", "unit_id") if input.unit_id else None,
            readiness=rules.Readiness(input.readiness.value) if input.readiness else None,
            lat=input.location.lat if input.location else None, lng=input.location.lng if input.location else None))
        return UpdateUnitStatusPayload(unit=ResponderUnit.from_row(row) if row else None, errors=errors)
