"""Demo data: responder units around Phú Quốc and a few hundred past incidents with realistic histories."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from api.core.model import utcnow
from api.identity.models import Account
from api.incidents import flows, lifecycle, rules, service
from api.incidents.models import Assignment, Incident, IncidentEvent, Report, ResponderUnit
from api.incidents.rules import AssignmentState, EventKind, IncidentState, UnitType

# (name, lat, lng): places people report from, with how busy they are.
PLACES = [
    ("Dương Đông", 10.2170, 103.9600, 5), ("Chợ đêm Phú Quốc", 10.2145, 103.9590, 4),
    ("An Thới", 10.0330, 104.0090, 3), ("Bãi Trường", 10.1300, 103.9800, 3), ("Sunset Town", 10.0130, 104.0180, 2),
    ("Hàm Ninh", 10.1800, 104.0500, 1), ("Cửa Cạn", 10.2800, 103.8950, 1), ("Gành Dầu", 10.3700, 103.8600, 1),
    ("Bãi Thơm", 10.3800, 104.0200, 1), ("Sân bay Phú Quốc", 10.1700, 103.9930, 2),
]
UNITS = [
    ("CSTT-01", "Tổ tuần tra 141 Dương Đông", UnitType.POLICE_PATROL, 10.2160, 103.9620),
    ("CC-115-01", "Xe cứu thương 115 Dương Đông", UnitType.AMBULANCE, 10.2220, 103.9670),
    ("CSGT-01", "Tổ CSGT Dương Đông", UnitType.TRAFFIC_POLICE, 10.2100, 103.9640),
    ("PCCC-01", "Đội PCCC Phú Quốc", UnitType.FIRE, 10.2250, 103.9700),
    ("CSDL-01", "Cảnh sát du lịch Chợ đêm", UnitType.TOURIST_POLICE, 10.2140, 103.9585),
    ("CSTT-02", "Tổ tuần tra An Thới", UnitType.POLICE_PATROL, 10.0350, 104.0100),
    ("CC-115-02", "Xe cứu thương An Thới", UnitType.AMBULANCE, 10.0400, 104.0150),
    ("CSGT-02", "Tổ CSGT An Thới", UnitType.TRAFFIC_POLICE, 10.0450, 104.0050),
    ("PCCC-02", "Tổ PCCC An Thới", UnitType.FIRE, 10.0380, 104.0120),
    ("CSDL-02", "Cảnh sát du lịch Sunset Town", UnitType.TOURIST_POLICE, 10.0140, 104.0190),
    ("CSTT-03", "Tổ tuần tra Bãi Trường", UnitType.POLICE_PATROL, 10.1320, 103.9820),
    ("CSGT-03", "Tổ CSGT Bãi Trường", UnitType.TRAFFIC_POLICE, 10.1250, 103.9850),
    ("CC-115-03", "Xe cứu thương Bãi Trường", UnitType.AMBULANCE, 10.1350, 103.9790),
    ("CSDL-03", "Cảnh sát du lịch Bãi Trường", UnitType.TOURIST_POLICE, 10.1310, 103.9770),
    ("CSTT-04", "Tổ tuần tra Hàm Ninh", UnitType.POLICE_PATROL, 10.1810, 104.0480),
    ("CSTT-05", "Tổ tuần tra Cửa Cạn", UnitType.POLICE_PATROL, 10.2790, 103.8970),
    ("CSTT-06", "Tổ tuần tra Gành Dầu", UnitType.POLICE_PATROL, 10.3690, 103.8620),
    ("CSTT-07", "Tổ tuần tra Bãi Thơm", UnitType.POLICE_PATROL, 10.3790, 104.0210),
    ("CSGT-04", "Tổ CSGT Sân bay", UnitType.TRAFFIC_POLICE, 10.1690, 103.9950),
    ("PCCC-03", "Tổ PCCC Bãi Thơm", UnitType.FIRE, 10.3750, 104.0180),
]
CATEGORY_WEIGHTS = {"TRAFFIC_ACCIDENT": 22, "THEFT": 14, "PUBLIC_ORDER": 14, "FIRE": 3, "MEDICAL": 8,
                    "TOURIST_COMPLAINT": 16, "ENVIRONMENT": 10, "INFRASTRUCTURE": 9, "OTHER": 4}
DESCRIPTIONS = {
    "TRAFFIC_ACCIDENT": "Va chạm giữa xe máy và ô tô, một người bị thương nhẹ.",
    "THEFT": "Bị giật túi xách khi đang đi bộ.",
    "PUBLIC_ORDER": "Nhóm thanh niên gây ồn ào, đánh nhau.",
    "FIRE": "Khói bốc lên từ một cửa hàng.",
    "MEDICAL": "Du khách bị ngất trên bãi biển.",
    "TOURIST_COMPLAINT": "Quán ăn tính giá hải sản cao gấp ba so với niêm yết.",
    "ENVIRONMENT": "Rác thải đổ trộm ven đường.",
    "INFRASTRUCTURE": "Đèn đường hỏng, ổ gà lớn giữa đường.",
    "OTHER": "Cần hỗ trợ.",
}
DEMO_KEY = "demo-incident-"
COUNT = 320
DAYS = 120


def seed(session: Session, settings: Any) -> list[str]:
    """Categories, ~20 units and a few hundred past incidents; a second run changes nothing."""
    service.sync_categories(db_session=session)
    now = utcnow()
    units = _units(session, now)
    if session.scalar(select(Report.id).where(Report.idempotency_key == f"{DEMO_KEY}0")) is not None:
        return [f"Safe City: {len(units)} units; demo incidents already present"]
    citizens = list(session.scalars(select(Account.id).where(Account.is_citizen.is_(True)).order_by(Account.id)
                                    .limit(10)))
    if not citizens:
        return ["Safe City: no citizen accounts to report with; incidents not seeded"]
    made = _incidents(session, settings, units, citizens, now)
    return ["", f"Safe City: {len(units)} responder units, {made} past incidents (try `publicIncidents(first: 10)`,"
            " or as the dispatcher `incidents(first: 20)` and `responseTimes`)"]


def _units(session: Session, now: dt.datetime) -> list[ResponderUnit]:
    existing = {u.code: u for u in session.scalars(select(ResponderUnit))}
    out = []
    for code, name, kind, lat, lng in UNITS:
        unit = existing.get(code)
        if unit is None:
            unit = ResponderUnit(code=code, name=name, type=kind.value, lat=lat, lng=lng, located_at=now,
                                 unit_code="31078", updated_at=now)
            session.add(unit)
            session.flush()  # ids in list order, so demo responders (units 1 and 2) match on a fresh database
        out.append(unit)
    return out


def _minutes(rng: random.Random, median: float) -> dt.timedelta:
    return dt.timedelta(minutes=max(0.3, rng.lognormvariate(0, 0.6) * median))


def _incidents(session: Session, settings: Any, units: list[ResponderUnit], citizens: list[int],
               now: dt.datetime) -> int:
    rng = random.Random(4)
    places = [p for p in PLACES for _ in range(p[3])]
    codes = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    plans = []
    for i in range(COUNT):
        category = rng.choices(codes, weights)[0]
        _, plat, plng, _ = rng.choice(places)
        lat, lng = plat + rng.uniform(-0.006, 0.006), plng + rng.uniform(-0.006, 0.006)
        reported = now - dt.timedelta(days=DAYS * (1 - i / COUNT), minutes=rng.uniform(0, 600))
        ref = rules.CATEGORY_BY_CODE[category]
        incident = Incident(category=category, priority=ref.default_priority.value, channel=rng.choice(
            ["APP"] * 7 + ["HOTLINE"] * 2 + ["CAMERA"]), description=DESCRIPTIONS[category], lat=round(lat, 6),
            lng=round(lng, 6), unit_code="31078", occurred_at=reported - dt.timedelta(minutes=rng.uniform(1, 30)),
            reported_at=reported, last_event_at=reported)
        flows.set_deadlines(incident, settings, reported)
        plans.append(incident)
    session.add_all(plans)
    session.flush()
    events: list[IncidentEvent] = []
    reports: list[Report] = []
    assignments: list[Assignment] = []
    for i, incident in enumerate(plans):
        reporter = citizens[i % len(citizens)]
        reports.append(Report(incident_id=incident.id, reporter_account_id=reporter, idempotency_key=f"{DEMO_KEY}{i}",
                               request_hash="demo", channel=incident.channel, category=incident.category,
                               description=incident.description, lat=incident.lat, lng=incident.lng,
                               occurred_at=incident.occurred_at, created_at=incident.reported_at))
        events.extend(_history(rng, incident, units, now, assignments))
    session.add_all(reports)
    session.add_all(assignments)
    session.add_all(events)
    session.flush()
    return len(plans)


def _history(rng: random.Random, incident: Incident, units: list[ResponderUnit], now: dt.datetime,
             assignments: list[Assignment]) -> list[IncidentEvent]:
    """A plausible event log for one incident, with its derived status and deadline watch set."""
    urgency = {"P1": 1.0, "P2": 2.5, "P3": 8.0, "P4": 40.0}[incident.priority]
    at = incident.reported_at
    log: list[tuple[EventKind, dt.datetime, IncidentState | None, dict[str, Any]]] = [
        (EventKind.REPORTED, at, IncidentState.REPORTED, {})]
    age = now - at

    def step(kind: EventKind, delay: dt.timedelta, to: IncidentState | None = None, **extra: Any) -> bool:
        nonlocal at
        if at + delay >= now:
            return False
        at += delay
        log.append((kind, at, to, extra))
        return True

    outcome = rng.random()
    if step(EventKind.ACKNOWLEDGED, _minutes(rng, urgency), IncidentState.ACKNOWLEDGED):
        if outcome < 0.07:
            step(EventKind.REJECTED, _minutes(rng, 5), IncidentState.REJECTED, note="Không đủ thông tin để xác minh.")
        else:
            ref = rules.CATEGORY_BY_CODE[incident.category]
            suitable = [u for u in units if rules.UnitType(u.type) in ref.responder_types]
            unit = min(suitable, key=lambda u: rules.haversine_m(incident.lat or 0, incident.lng or 0, u.lat or 0,
                                                                   u.lng or 0))
            if step(EventKind.DISPATCHED, _minutes(rng, urgency * 1.5), IncidentState.DISPATCHED, unit=unit.id):
                assignment = Assignment(incident_id=incident.id or 0, unit_id=unit.id or 0, assigned_at=at)
                assignments.append(assignment)
                if step(EventKind.ASSIGNMENT_UPDATED, _minutes(rng, 1), unit=unit.id, a=AssignmentState.EN_ROUTE):
                    assignment.state, assignment.en_route_at = AssignmentState.EN_ROUTE.value, at
                    if step(EventKind.ASSIGNMENT_UPDATED, _minutes(rng, 6 + urgency), unit=unit.id,
                            a=AssignmentState.ON_SCENE):
                        assignment.state, assignment.on_scene_at = AssignmentState.ON_SCENE.value, at
                        if step(EventKind.RESOLVED, _minutes(rng, 20 + urgency * 10), IncidentState.RESOLVED,
                                note="Đã xử lý tại hiện trường."):
                            assignment.state, assignment.cleared_at = AssignmentState.CLEARED.value, at
                            incident.resolution_note = "Đã xử lý tại hiện trường."
                            if age > dt.timedelta(days=2) and step(EventKind.CLOSED, _minutes(rng, 600),
                                                                   IncidentState.CLOSED) and rng.random() < 0.4:
                                incident.rating = rng.choice([3, 4, 4, 5, 5, 5, 2])
                                step(EventKind.RATED, _minutes(rng, 120), rating=incident.rating)
    status = lifecycle.Status()
    out: list[Any] = []
    for kind, when, to, extra in log:
        a = extra.get("a")
        before = status.state.value if out else None
        status = lifecycle.apply_event(status, lifecycle.EventFacts(kind, when, to, a))
        out.append(IncidentEvent(incident_id=incident.id or 0, at=when, kind=kind.value, from_state=before,
                                 to_state=to.value if to else None,
                                 actor="demo-seed", note=extra.get("note"), unit_id=extra.get("unit"),
                                 assignment_state=a.value if a else None,
                                 data={"rating": extra["rating"]} if "rating" in extra else {}))
    for name in ("acknowledged_at", "dispatched_at", "arrived_at", "resolved_at", "closed_at"):
        setattr(incident, name, getattr(status, name))
    incident.state = status.state.value
    incident.last_event_at = log[-1][1]
    flows.refresh_due(incident)
    return out
