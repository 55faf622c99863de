"""GraphQL types of the Safe City domain: incidents, their reporters, events and photos."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.auth import Role
from api.core.gql.context import Info
from api.core.gql.errors import error_type
from api.core.gql.personal import MARK, personal_data
from api.incidents import flows, rules, service, standing
from api.incidents.errors import IncidentErrorCode
from api.incidents.graphql.actions import IncidentAction, allowed_actions
from api.incidents.graphql.dataloaders import (
    AssignmentsByIncidentLoader,
    EventsByIncidentLoader,
    IncidentByIdLoader,
    LastEventByIncidentLoader,
    PhotosByIncidentLoader,
    ReporterByIncidentLoader,
    ReportsByIncidentLoader,
)
from api.incidents.graphql.unit_types import Assignment
from api.incidents.models import Incident as IncidentRow
from api.incidents.models import IncidentEvent as EventRow
from api.incidents.models import IncidentPhoto as PhotoRow

IncidentError = error_type("IncidentError", IncidentErrorCode)
# Typed Any: mypy cannot see the members of enums built at run time (categories are reference data).
IncidentCategoryCode: Any = strawberry.enum(  # type: ignore[call-overload]
    enum.Enum("IncidentCategoryCode", {c.code: c.code for c in rules.CATEGORIES}),  # type: ignore[misc]
    description="What kind of incident it is.",
)
IncidentStateEnum: Any = strawberry.enum(rules.IncidentState, name="IncidentState")
IncidentPriority: Any = strawberry.enum(rules.Priority, name="IncidentPriority", description="P1 most urgent.")
IncidentChannel = strawberry.enum(rules.Channel, name="IncidentChannel")
IncidentEventKind = strawberry.enum(rules.EventKind, name="IncidentEventKind")
ResponseStage = strawberry.enum(rules.Stage, name="ResponseStage")
MEDIA_PREFIX = "/media/incidents/"


@strawberry.type(description="A WGS84 position.")
class Location:
    lat: float
    lng: float


@strawberry.input(description="A WGS84 position.")
class LocationInput:
    lat: float
    lng: float


@strawberry.type(description="A photo; its URLs answer only to those who may see the incident.")
class Photo:
    sha256: str
    width: int | None = None
    height: int | None = None

    @strawberry.field(description="The photo, at most 2048 px, metadata stripped.")
    def url(self) -> str:
        return f"{MEDIA_PREFIX}{self.sha256}.jpg"

    @strawberry.field(description="A 320 px thumbnail.")
    def thumbnail_url(self) -> str:
        return f"{MEDIA_PREFIX}{self.sha256}.thumb.jpg"


@strawberry.type(description="An incident category: default priority and the responders that suit it.")
class IncidentCategory:
    code: IncidentCategoryCode  # type: ignore[valid-type]
    name: str = strawberry.field(description="In the caller's language.")
    name_vi: str
    name_en: str
    default_priority: IncidentPriority  # type: ignore[valid-type]
    responder_types: list[str]
    requires_photo_proof: bool

    @classmethod
    def from_row(cls, row: Any, language: str) -> IncidentCategory:
        """Builds the GraphQL object from a row."""
        return cls(code=IncidentCategoryCode[row.code], name=row.name_vi if language == "vi" else row.name_en,
                   name_vi=row.name_vi, name_en=row.name_en, default_priority=rules.Priority(row.default_priority),
                   responder_types=list(row.responder_types), requires_photo_proof=row.requires_photo_proof)


@strawberry.type(description="One entry of an incident's timeline.")
class IncidentEvent:
    id: int
    incident_pk: strawberry.Private[int]
    kind: IncidentEventKind  # type: ignore[valid-type]
    at: dt.datetime
    from_state: IncidentStateEnum | None  # type: ignore[valid-type]
    to_state: IncidentStateEnum | None  # type: ignore[valid-type]
    state: IncidentStateEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The incident's state after this event (live events only).")
    note: str | None = None
    unit_id: int | None = None
    assignment_state: str | None = None
    priority: IncidentPriority | None = None  # type: ignore[valid-type]
    category: IncidentCategoryCode | None = None  # type: ignore[valid-type]
    photo_keys: strawberry.Private[list[str]] = strawberry.field(default_factory=list)

    @classmethod
    def from_row(cls, row: EventRow) -> IncidentEvent:
        """Builds the GraphQL object from a row."""
        return cls(id=row.id or 0, incident_pk=row.incident_id, kind=rules.EventKind(row.kind), at=row.at,
                   from_state=_state(row.from_state), to_state=_state(row.to_state), note=row.note,
                   unit_id=row.unit_id, assignment_state=row.assignment_state, photo_keys=list(row.photos))

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> IncidentEvent:
        """Builds the GraphQL object from a live event, without touching the database."""
        return cls(id=message["event_id"], incident_pk=message["incident_id"], kind=rules.EventKind(message["kind"]),
                   at=dt.datetime.fromisoformat(message["at"]), from_state=_state(message.get("from_state")),
                   to_state=_state(message.get("to_state")), state=_state(message.get("state")),
                   note=message.get("note"), unit_id=message.get("unit_id"),
                   assignment_state=message.get("assignment_state"),
                   priority=rules.Priority(message["priority"]) if message.get("priority") else None,
                   category=IncidentCategoryCode[message["category"]] if message.get("category") else None)

    @strawberry.field(description="The incident's global id.")
    def incident_id(self) -> relay.GlobalID:
        return relay.GlobalID("Incident", str(self.incident_pk))

    @strawberry.field(description="Photos attached to this event (e.g. proof of resolution).")
    def photos(self) -> list[Photo]:
        return [Photo(sha256=k) for k in self.photo_keys]

    @strawberry.field(description="The incident, loaded on demand.")
    async def incident(self, info: Info) -> Incident | None:
        ctx = info.context
        # The same rule as incident(id:): a responder sees only what their unit is or was sent to.
        visible = flows.may_view(ctx.session, ctx.principal, self.incident_pk)
        ctx.release()
        if not visible:
            return None
        row = await ctx.loader(IncidentByIdLoader).load(self.incident_pk)
        return Incident.from_row(row) if row else None


_LATER = object()
_PREFETCHABLE = {"reporter": ReporterByIncidentLoader, "assignments": AssignmentsByIncidentLoader,
                 "lastEvent": LastEventByIncidentLoader}


def _selected_names(selections: Iterable[Any]) -> set[str]:
    """Every field name selected anywhere below these selections (fragments included)."""
    out: set[str] = set()
    stack = list(selections)
    while stack:
        sel = stack.pop()
        name = getattr(sel, "name", None)
        if name:
            out.add(name)
        stack.extend(getattr(sel, "selections", None) or ())
    return out


def _state(value: str | None) -> rules.IncidentState | None:
    return rules.IncidentState(value) if value else None


@strawberry.type(description="Who reported an incident: personal data, shown to staff and to the reporter only.")
class Reporter:
    report_pk: strawberry.Private[int]
    owner: strawberry.Private[int | None]
    channel: IncidentChannel  # type: ignore[valid-type]
    reported_at: dt.datetime
    is_tourist: bool | None = None
    language: str | None = None
    name: strawberry.Private[str | None] = None
    phone_number: strawberry.Private[str | None] = None

    def audit_subject(self) -> tuple[str, int, int | None]:
        """What a personal-data read of this object is about: (type, id, owner account)."""
        return "IncidentReport", self.report_pk, self.owner

    @strawberry.field(extensions=personal_data(), description=MARK + "The reporter's account id.")
    def account_id(self) -> int | None:
        return self.owner

    @strawberry.field(extensions=personal_data(), description=MARK + "The reporter's or caller's name.")
    def full_name(self) -> str | None:
        return self.name

    @strawberry.field(extensions=personal_data(), description=MARK + "Phone or callback number.")
    def phone(self) -> str | None:
        return self.phone_number


def _reporter(row: Any) -> Reporter:
    """From a `service.first_reporters` row: the account's name and phone, else the hotline caller's."""
    account = row.account_pk is not None
    call = row.call_pk is not None
    return Reporter(report_pk=row.report_id or 0, owner=row.reporter_account_id,
                    channel=rules.Channel(row.channel), reported_at=row.created_at,
                    is_tourist=row.is_tourist if call else None, language=row.language if call else None,
                    name=(row.full_name if account else row.caller_name if call else None),
                    phone_number=(row.phone if account else row.callback_number if call else None))


@strawberry.type(description="One submission attached to an incident.")
class IncidentReport:
    id: int
    channel: IncidentChannel  # type: ignore[valid-type]
    category: IncidentCategoryCode  # type: ignore[valid-type]
    description: str
    location: Location | None
    created_at: dt.datetime
    attached_to_existing: bool
    photo_keys: strawberry.Private[list[str]]

    @strawberry.field
    def photos(self) -> list[Photo]:
        return [Photo(sha256=k) for k in self.photo_keys]


@strawberry.type(description="The four deadlines of an incident.")
class Deadlines:
    acknowledge_by: dt.datetime | None
    dispatch_by: dt.datetime | None
    arrive_by: dt.datetime | None
    resolve_by: dt.datetime | None
    escalated_stages: list[str]


@strawberry.type(description="Something that happened and is being handled (staff and its reporters).")
class Incident(relay.Node):
    pk: relay.NodeID[int]
    category: IncidentCategoryCode  # type: ignore[valid-type]
    priority: IncidentPriority  # type: ignore[valid-type]
    state: IncidentStateEnum  # type: ignore[valid-type]
    channel: IncidentChannel  # type: ignore[valid-type]
    description: str
    location: Location | None
    address: str | None
    unit_code: str | None = strawberry.field(description="Administrative unit (area).")
    occurred_at: dt.datetime | None
    reported_at: dt.datetime
    acknowledged_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    arrived_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    report_count: int
    reopen_count: int
    rating: int | None
    rating_comment: str | None
    resolution_note: str | None
    # Plain values, not the row: a row would expire when the request's read transaction is released.
    due: strawberry.Private[tuple[dt.datetime | None, ...]]
    escalated: strawberry.Private[list[str]]
    merged_into: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: IncidentRow) -> Incident:
        """Builds the GraphQL object from a row."""
        location = Location(lat=row.lat, lng=row.lng) if row.lat is not None and row.lng is not None else None
        return cls(pk=row.id or 0, category=IncidentCategoryCode[row.category], priority=rules.Priority(row.priority),
                   state=rules.IncidentState(row.state), channel=rules.Channel(row.channel),
                   description=row.description, location=location, address=row.address, unit_code=row.unit_code,
                   occurred_at=row.occurred_at, reported_at=row.reported_at, acknowledged_at=row.acknowledged_at,
                   dispatched_at=row.dispatched_at, arrived_at=row.arrived_at, resolved_at=row.resolved_at,
                   closed_at=row.closed_at, report_count=row.report_count, reopen_count=row.reopen_count,
                   rating=row.rating, rating_comment=row.rating_comment, resolution_note=row.resolution_note,
                   due=(row.acknowledge_due_at, row.dispatch_due_at, row.arrive_due_at, row.resolve_due_at),
                   escalated=list(row.escalated_stages), merged_into=row.merged_into_id)

    @strawberry.field(description="The four deadlines for this incident's priority.")
    def deadlines(self) -> Deadlines:
        return Deadlines(acknowledge_by=self.due[0], dispatch_by=self.due[1], arrive_by=self.due[2],
                         resolve_by=self.due[3], escalated_stages=list(self.escalated))

    @strawberry.field(description="The incident this one was merged into.")
    def merged_into_id(self) -> relay.GlobalID | None:
        return relay.GlobalID("Incident", str(self.merged_into)) if self.merged_into else None

    @strawberry.field(description="What you may do to this incident now, by your permission and its state (what "
                      "an action needs besides, such as a reason, is checked when you do it).")
    def allowed_actions(self, info: Info) -> list[IncidentAction]:  # type: ignore[valid-type]
        return allowed_actions(self, info)  # type: ignore[return-value]

    # reporter, assignments and lastEvent are sync fields: answered from what the list resolver prefetched
    # for its page (`Incident.prefetch`), else they hand the executor an awaitable that goes through the
    # request's DataLoader (single objects, mutation payloads, nested incidents).

    @strawberry.field(description="Who reported it first: staff, or that reporter, only; null for others.")
    def reporter(self, info: Info) -> Reporter | None:
        found = info.context.loader(ReporterByIncidentLoader).peek(self.pk, _LATER)
        if found is _LATER:
            return self._reporter_later(info)  # type: ignore[return-value]
        return self._visible_reporter(info, found)

    async def _reporter_later(self, info: Info) -> Reporter | None:
        return self._visible_reporter(info, await info.context.loader(ReporterByIncidentLoader).load(self.pk))

    @staticmethod
    def _visible_reporter(info: Info, found: Any) -> Reporter | None:
        if found is None:
            return None
        principal = info.context.principal
        if not flows.is_staff_viewer(principal) and (
                principal.account_id is None or principal.account_id != found.reporter_account_id):
            return None
        return _reporter(found)

    @strawberry.field(description="Units sent, with their progress.")
    def assignments(self, info: Info) -> list[Assignment]:
        rows = info.context.loader(AssignmentsByIncidentLoader).peek(self.pk, _LATER)
        if rows is _LATER:
            return self._assignments_later(info)  # type: ignore[return-value]
        return [Assignment.from_rows(a, u) for a, u in rows or []]

    async def _assignments_later(self, info: Info) -> list[Assignment]:
        rows = await info.context.loader(AssignmentsByIncidentLoader).load(self.pk)
        return [Assignment.from_rows(a, u) for a, u in rows or []]

    @strawberry.field(description="The latest timeline entry.")
    def last_event(self, info: Info) -> IncidentEvent | None:
        row = info.context.loader(LastEventByIncidentLoader).peek(self.pk, _LATER)
        if row is _LATER:
            return self._last_event_later(info)  # type: ignore[return-value]
        return IncidentEvent.from_row(row) if row else None

    async def _last_event_later(self, info: Info) -> IncidentEvent | None:
        row = await info.context.loader(LastEventByIncidentLoader).load(self.pk)
        return IncidentEvent.from_row(row) if row else None

    @classmethod
    def prefetch(cls, info: Info, incidents: list[Incident]) -> None:
        """Loads, for a whole page and in the list resolver's read transaction, the relations the query
        selects (one statement each, as the DataLoaders would), so the row fields need not await."""
        if not incidents:
            return
        wanted = _selected_names(info.selected_fields)
        keys = [i.pk for i in incidents]
        for name, loader in _PREFETCHABLE.items():
            if name in wanted:
                info.context.loader(loader).prefetch(keys)

    @strawberry.field(description="Every change, oldest first.")
    async def timeline(self, info: Info) -> list[IncidentEvent]:
        rows = await info.context.loader(EventsByIncidentLoader).load(self.pk)
        return [IncidentEvent.from_row(r) for r in rows or []]

    @strawberry.field(description="The reports attached (staff only; a reporter sees an empty list).")
    async def reports(self, info: Info) -> list[IncidentReport]:
        if not flows.is_staff_viewer(info.context.principal):
            return []
        rows = await info.context.loader(ReportsByIncidentLoader).load(self.pk)
        return [IncidentReport(id=r.id or 0, channel=rules.Channel(r.channel), category=IncidentCategoryCode[r.category],
                               description=r.description, created_at=r.created_at,
                               location=Location(lat=r.lat, lng=r.lng) if r.lat is not None and r.lng is not None else None,
                               attached_to_existing=r.attached_to_existing, photo_keys=list(r.photos))
                for r in rows or []]

    @strawberry.field(description="Photos of the reports and of the resolution.")
    async def photos(self, info: Info) -> list[Photo]:
        rows: list[PhotoRow] = await info.context.loader(PhotosByIncidentLoader).load(self.pk) or []
        seen: dict[str, Photo] = {}
        for r in rows:
            seen.setdefault(r.sha256, Photo(sha256=r.sha256, width=r.width, height=r.height))
        return list(seen.values())

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # The same rule as incident(id:): flows.may_view, batched.
        ids = [int(i) for i in node_ids if str(i).isdigit()]
        session = info.context.session
        rows = {r.id or 0: r for r in service.get_incidents(db_session=session, incident_ids=ids)}
        mine = standing.visible_ids(db_session=session, principal=info.context.principal, incident_ids=list(rows))
        rows = {k: v for k, v in rows.items() if k in mine}
        return [cls.from_row(rows[int(i)]) if str(i).isdigit() and int(i) in rows else None for i in node_ids]


STAFF = (Role.DISPATCHER, Role.POLICE, Role.RESPONDER, Role.ADMIN)
