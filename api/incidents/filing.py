"""Filing: reports from the app (idempotent per reporter and key, attached to an open duplicate or a new
incident) and hotline calls logged by operators."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import orjson
from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal
from api.core.errors import DomainError, FieldError
from api.core.media import PreparedImage
from api.core.model import utcnow
from api.db import insert_row
from api.incidents import report_sql, rules, service
from api.incidents.errors import IncidentErrorCode as Code
from api.incidents.flows import (
    MAX_TEXT,
    append_event,
    clean_text,
    fail,
    load,
    refresh_due,
    set_deadlines,
    store_photos,
)
from api.incidents.models import HotlineCall, Incident, Report
from api.incidents.rules import Channel, EventKind, IncidentState


@dataclass(frozen=True)
class NewReport:
    """What a reporter files from the app."""

    category: str
    description: str
    lat: float | None
    lng: float | None
    occurred_at: dt.datetime | None
    idempotency_key: str
    photos: tuple[PreparedImage, ...] = ()
    address: str | None = None

    def request_hash(self) -> str:
        """A fingerprint of the input: the same key with a different fingerprint is a conflict."""
        body = {"category": self.category, "description": self.description, "lat": self.lat, "lng": self.lng,
                "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
                "address": self.address, "photos": [p.sha256 for p in self.photos]}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class NewHotlineCall:
    """What a hotline operator logs."""

    category: str
    description: str
    caller_name: str | None = None
    callback_number: str | None = None
    language: str = "vi"
    is_tourist: bool = False
    notes: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    occurred_at: dt.datetime | None = None
    incident_id: int | None = None
    idempotency_key: str | None = None

    def request_hash(self) -> str:
        """A fingerprint of the call: the same key with a different fingerprint is a conflict."""
        body = {k: v for k, v in self.__dict__.items() if k != "idempotency_key"}
        body["occurred_at"] = self.occurred_at.isoformat() if self.occurred_at else None
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class Filed:
    """The result of filing a report: the incident it belongs to and whether it joined an open one."""

    incident: Incident
    report: Report
    attached_to_existing: bool
    hotline_call: HotlineCall | None = None

# --- filing ------------------------------------------------------------------------------------------------


def _validate_report(db_session: Session, settings: Settings, data: NewReport, now: dt.datetime
                     ) -> tuple[float, float, str]:
    """The report's location and its category's default priority, or every problem at once."""
    errors: list[FieldError] = []
    category = service.category_facts(db_session=db_session, code=data.category)
    if category is None:
        errors.append(FieldError(Code.UNKNOWN_CATEGORY.value, f"Unknown category {data.category!r}.",
                                 "category", "Loại sự việc không hợp lệ."))
    if not data.idempotency_key.strip() or len(data.idempotency_key) > 100:
        errors.append(FieldError(Code.INVALID.value, "Give a client key of 1 to 100 characters.",
                                 "idempotency_key", "Mã chống gửi trùng phải từ 1 đến 100 ký tự."))
    if len(data.description) > MAX_TEXT:
        errors.append(FieldError(Code.INVALID.value, f"At most {MAX_TEXT} characters.", "description",
                                 f"Tối đa {MAX_TEXT} ký tự."))
    if len(data.photos) > settings.incident_max_photos:
        errors.append(FieldError(Code.TOO_MANY_PHOTOS.value, f"At most {settings.incident_max_photos} photos.",
                                 "photos", f"Tối đa {settings.incident_max_photos} ảnh."))
    if data.occurred_at is not None and data.occurred_at > now + dt.timedelta(minutes=5):
        errors.append(FieldError(Code.INVALID.value, "The time it happened is in the future.", "occurred_at",
                                 "Thời điểm xảy ra ở tương lai."))
    lat, lng = data.lat, data.lng
    if lat is None or lng is None:
        gps = next((p.gps for p in data.photos if p.gps), None)
        lat, lng = gps if gps else (None, None)
    if lat is None or lng is None:
        errors.append(FieldError(Code.LOCATION_REQUIRED.value, "Give the location, or a photo with GPS.",
                                 "location", "Cần vị trí, hoặc ảnh có thông tin GPS."))
    elif not rules.valid_location(lat, lng):
        errors.append(FieldError(Code.INVALID.value, "This is not a valid location.", "location",
                                 "Vị trí không hợp lệ."))
    if errors:
        raise DomainError(*errors)
    assert category is not None and lat is not None and lng is not None
    return lat, lng, category.default_priority


def _replay(db_session: Session, report: Report, request_hash: str) -> Filed:
    if report.request_hash != request_hash:
        raise fail(Code.IDEMPOTENCY_CONFLICT, "This key was already used for a different report.",
                   "Mã này đã được dùng cho một phản ánh khác.", "idempotency_key")
    incident = service.get_incident(db_session=db_session, incident_id=report.incident_id or 0)
    assert incident is not None
    # A report merged since follows its incident: answer with where it lives now.
    return Filed(incident=incident, report=report, attached_to_existing=report.attached_to_existing)


def _replay_existing(db_session: Session, account_id: int, data: NewReport, request_hash: str) -> Filed | None:
    existing = service.find_report(db_session=db_session, reporter_account_id=account_id,
                                   idempotency_key=data.idempotency_key)
    return _replay(db_session, existing, request_hash) if existing is not None else None


def report_incident(*, db_session: Session, settings: Settings, principal: Principal, data: NewReport,
                    channel: Channel = Channel.APP, now: dt.datetime | None = None) -> Filed:
    """Files a report: idempotent per (reporter, key); attached to an open duplicate or a new incident."""
    now = now or utcnow()
    account_id = principal.account_id
    if account_id is None:
        raise fail(Code.PERMISSION_DENIED, "Sign in to report.", "Cần đăng nhập để phản ánh.", None)
    request_hash = data.request_hash()
    try:
        lat, lng, priority = _validate_report(db_session, settings, data, now)
    except DomainError:
        # A retry of a report accepted earlier gets its first answer, even if something it was checked
        # against has changed since (a category retired, the clock moved).
        replayed = _replay_existing(db_session, account_id, data, request_hash)
        if replayed is None:
            raise
        return replayed
    description = (data.description or "").strip()
    report = Report(reporter_account_id=account_id, idempotency_key=data.idempotency_key,
                    request_hash=request_hash, channel=channel.value, category=data.category,
                    description=description, lat=lat, lng=lng, address=data.address,
                    photos=[p.sha256 for p in data.photos], occurred_at=data.occurred_at, created_at=now)
    # The unique (reporter, key) index decides between retries, in one statement (no look-up first, no
    # savepoint): a concurrent loser waits for the winner's commit (PostgreSQL) or write lock (SQLite),
    # inserts nothing, and answers with the winner's result.
    if not report_sql.insert_report_once(db_session=db_session, report=report):
        replayed = _replay_existing(db_session, account_id, data, request_hash)
        if replayed is None:
            raise RuntimeError("a report's idempotency key conflicted, but no report holds it")
        return replayed
    filed = file_report(db_session, settings, principal, report, description=description, lat=lat, lng=lng,
                        address=data.address, occurred_at=data.occurred_at, channel=channel, now=now,
                        default_priority=priority)
    store_photos(db_session, settings, filed.incident, data.photos, report_id=report.id)
    db_session.flush()
    return filed


def file_report(db_session: Session, settings: Settings, principal: Principal | None, report: Report, *,
                description: str, lat: float | None, lng: float | None, address: str | None,
                occurred_at: dt.datetime | None, channel: Channel, now: dt.datetime,
                into: Incident | None = None, unit_code: str | None = None, find_duplicates: bool = True,
                default_priority: str | None = None) -> Filed:
    """Attaches a stored report to `into`, to an open duplicate, or to a new incident (at `default_priority`
    when the caller already read the category, else at the category's)."""
    if into is None and find_duplicates and lat is not None and lng is not None:
        window = dt.timedelta(seconds=settings.incident_duplicate_window_seconds)
        compatible = sorted(rules.compatible_categories(report.category))
        box = rules.bounding_box(lat, lng, settings.incident_duplicate_radius_m)
        # Two people reporting the same crash at the same instant must make one incident: reports whose
        # areas overlap take the same lock(s) until commit, so the second sees the first's incident.
        report_sql.lock_area(db_session=db_session, box=box, cell_m=2 * settings.incident_duplicate_radius_m)
        rows = report_sql.open_candidates(db_session=db_session, categories=compatible, box=box, since=now - window)
        candidates = [rules.Candidate(r.id or 0, r.category, IncidentState(r.state), r.lat, r.lng, r.reported_at)
                      for r in rows]
        match = rules.find_duplicate(report.category, lat, lng, now, candidates,
                                     radius_m=settings.incident_duplicate_radius_m, window=window)
        if match is not None:
            into = load(db_session, match.id)
    if into is not None:
        report.incident_id = into.id
        report.attached_to_existing = True
        into.report_count += 1
        kind = EventKind.HOTLINE_CALL if channel == Channel.HOTLINE else EventKind.REPORT_ATTACHED
        db_session.flush()
        append_event(db_session, into, kind, principal, now, data={"report_id": report.id, "channel": channel.value})
        return Filed(incident=into, report=report, attached_to_existing=True)
    if default_priority is None:
        category = service.category_facts(db_session=db_session, code=report.category)
        default_priority = category.default_priority if category else "P4"
    incident = Incident(category=report.category, priority=default_priority,
                        state=IncidentState.REPORTED.value, channel=channel.value, description=description,
                        lat=lat, lng=lng, address=address,
                        unit_code=unit_code or settings.incident_default_unit_code,
                        occurred_at=occurred_at, reported_at=now, report_count=1, last_event_at=now,
                        escalated_stages=[])  # given, not defaulted: pydantic inspects a factory on every call
    set_deadlines(incident, settings, now)
    refresh_due(incident)  # before the INSERT, so filing does not UPDATE the row it just wrote
    insert_row(db_session, incident)
    report_sql.set_report_incident(db_session=db_session, report=report, incident_id=incident.id or 0)
    reporters = [report.reporter_account_id] if report.reporter_account_id else []
    append_event(db_session, incident, EventKind.REPORTED, principal, now, to_state=IncidentState.REPORTED,
                 data={"report_id": report.id, "channel": channel.value}, reporters=reporters)
    return Filed(incident=incident, report=report, attached_to_existing=False)


def log_hotline_call(*, db_session: Session, settings: Settings, principal: Principal, call: NewHotlineCall,
                     now: dt.datetime | None = None) -> Filed:
    """Logs a hotline call: a new incident (channel HOTLINE), or attached to a named or duplicate one."""
    now = now or utcnow()
    if service.category_facts(db_session=db_session, code=call.category) is None:
        raise fail(Code.UNKNOWN_CATEGORY, f"Unknown category {call.category!r}.", "Loại sự việc không hợp lệ.",
                     "category")
    if (call.lat is None) != (call.lng is None) or (call.lat is not None and not rules.valid_location(call.lat, call.lng or 0)):
        raise fail(Code.INVALID, "This is not a valid location.", "Vị trí không hợp lệ.", "location")
    if call.lat is None and not (call.address or "").strip() and call.incident_id is None:
        raise fail(Code.LOCATION_REQUIRED, "Give a location or an address.", "Cần vị trí hoặc địa chỉ.",
                     "location")
    description = clean_text(call.description, "description") or ""
    replayed = _replay_call(db_session, principal, call)
    if replayed is not None:
        return replayed
    into = None
    if call.incident_id is not None:
        into = load(db_session, call.incident_id)
        while into.state == IncidentState.MERGED.value and into.merged_into_id:
            into = load(db_session, into.merged_into_id)
        if into.state not in {s.value for s in rules.OPEN_STATES}:
            raise fail(Code.INVALID_STATE, "That incident is no longer open; log the call as a new one.",
                         "Sự việc đó đã kết thúc; hãy ghi nhận cuộc gọi thành sự việc mới.", "incident_id")
    report = Report(reporter_account_id=None, channel=Channel.HOTLINE.value, category=call.category,
                    description=description, lat=call.lat, lng=call.lng, address=clean_text(call.address, "address", limit=300),
                    occurred_at=call.occurred_at, created_at=now)
    db_session.add(report)
    db_session.flush()
    filed = file_report(db_session, settings, principal, report, description=description, lat=call.lat, lng=call.lng,
                  address=report.address, occurred_at=call.occurred_at, channel=Channel.HOTLINE, now=now, into=into,
                  unit_code=str(principal.attributes.get("unit_code") or "") or None)
    row = HotlineCall(operator_account_id=principal.account_id, caller_name=clean_text(call.caller_name, "caller_name", limit=100),
                      callback_number=clean_text(call.callback_number, "callback_number", limit=20),
                      language=(call.language or "vi")[:8], is_tourist=call.is_tourist,
                      notes=clean_text(call.notes, "notes"), incident_id=filed.incident.id or 0, report_id=report.id,
                      created_at=now, idempotency_key=call.idempotency_key,
                      request_hash=call.request_hash() if call.idempotency_key is not None else None)
    db_session.add(row)
    db_session.flush()
    filed.hotline_call = row
    return filed



def _replay_call(db_session: Session, principal: Principal, call: NewHotlineCall) -> Filed | None:
    """The first result of a call logged before under the same operator and key (None: a new call)."""
    key = call.idempotency_key
    if key is None:
        return None
    if not key.strip() or len(key) > 100:
        raise fail(Code.INVALID, "Give a client key of 1 to 100 characters.",
                   "Mã chống gửi trùng phải từ 1 đến 100 ký tự.", "idempotency_key")
    # Concurrent retries of one call wait here for each other (PostgreSQL; SQLite writes one at a time), so
    # the second finds the first's call; the unique index is the last line of defence.
    report_sql.lock_key(db_session=db_session, name=f"hotline:{principal.account_id}:{key}")
    row = service.find_hotline_call(db_session=db_session, operator_account_id=principal.account_id, key=key)
    if row is None:
        return None
    if row.request_hash != call.request_hash():
        raise fail(Code.IDEMPOTENCY_CONFLICT, "This key was already used for a different call.",
                   "Mã này đã được dùng cho một cuộc gọi khác.", "idempotency_key")
    incident = service.get_incident(db_session=db_session, incident_id=row.incident_id)
    report = service.get_report(db_session=db_session, report_id=row.report_id) if row.report_id else None
    assert incident is not None and report is not None
    return Filed(incident=incident, report=report, attached_to_existing=report.attached_to_existing, hotline_call=row)
