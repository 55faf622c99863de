"""Pure Safe City reference rules: the incident vocabulary (states, priorities, channels, unit types, event
kinds, stages), the category table, and geography: distances, duplicate detection and unit ranking. The
state machine, derived status, deadlines and response times are in lifecycle.py. No database, no network,
no GraphQL."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


class IncidentState(enum.StrEnum):
    """Where an incident is in its life."""

    REPORTED = "REPORTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    DISPATCHED = "DISPATCHED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"
    MERGED = "MERGED"


OPEN_STATES = frozenset({IncidentState.REPORTED, IncidentState.ACKNOWLEDGED, IncidentState.DISPATCHED})


class Priority(enum.StrEnum):
    """P1 is the most urgent (life at risk), P4 the least."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Channel(enum.StrEnum):
    """How a report reached us."""

    APP = "APP"
    HOTLINE = "HOTLINE"
    CAMERA = "CAMERA"
    SENSOR = "SENSOR"
    THIRD_PARTY = "THIRD_PARTY"


class UnitType(enum.StrEnum):
    """Kinds of responder unit."""

    POLICE_PATROL = "POLICE_PATROL"
    TRAFFIC_POLICE = "TRAFFIC_POLICE"
    FIRE = "FIRE"
    AMBULANCE = "AMBULANCE"
    TOURIST_POLICE = "TOURIST_POLICE"


class Readiness(enum.StrEnum):
    """A unit's readiness, kept apart from its progress on any one incident."""

    AVAILABLE = "AVAILABLE"
    BUSY = "BUSY"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"


class AssignmentState(enum.StrEnum):
    """One unit's progress on one incident."""

    ASSIGNED = "ASSIGNED"
    EN_ROUTE = "EN_ROUTE"
    ON_SCENE = "ON_SCENE"
    CLEARED = "CLEARED"


class EventKind(enum.StrEnum):
    """What an IncidentEvent records."""

    REPORTED = "REPORTED"
    REPORT_ATTACHED = "REPORT_ATTACHED"
    HOTLINE_CALL = "HOTLINE_CALL"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    REJECTED = "REJECTED"
    DISPATCHED = "DISPATCHED"
    ASSIGNMENT_UPDATED = "ASSIGNMENT_UPDATED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    MERGED = "MERGED"
    MERGED_FROM = "MERGED_FROM"
    SPLIT = "SPLIT"
    SPLIT_FROM = "SPLIT_FROM"
    REOPENED = "REOPENED"
    RATED = "RATED"
    DEADLINE_BREACHED = "DEADLINE_BREACHED"


class Stage(enum.StrEnum):
    """Stages with a deadline, and the response-time stages reported as P50/P90."""

    ACKNOWLEDGE = "ACKNOWLEDGE"
    DISPATCH = "DISPATCH"
    ARRIVE = "ARRIVE"
    RESOLVE = "RESOLVE"


# --- categories (reference data; the database table is loaded from this) --------------------------------


@dataclass(frozen=True)
class Category:
    """An incident category with its default priority and the responder types that suit it."""

    code: str
    name_vi: str
    name_en: str
    default_priority: Priority
    responder_types: tuple[UnitType, ...]
    requires_photo_proof: bool = False


_T = UnitType
CATEGORIES: tuple[Category, ...] = (
    Category("TRAFFIC_ACCIDENT", "Tai nạn giao thông", "Traffic accident", Priority.P2,
             (_T.TRAFFIC_POLICE, _T.AMBULANCE, _T.POLICE_PATROL)),
    Category("THEFT", "Trộm cắp", "Theft", Priority.P3, (_T.POLICE_PATROL, _T.TOURIST_POLICE)),
    Category("PUBLIC_ORDER", "Vi phạm trật tự công cộng", "Public-order violation", Priority.P3,
             (_T.POLICE_PATROL,)),
    Category("FIRE", "Cháy nổ", "Fire", Priority.P1, (_T.FIRE, _T.AMBULANCE)),
    Category("MEDICAL", "Cấp cứu y tế", "Medical emergency", Priority.P1, (_T.AMBULANCE,)),
    Category("TOURIST_COMPLAINT", "Phản ánh của du khách (chặt chém, lừa đảo)",
             "Tourist complaint (overcharging, scams)", Priority.P4, (_T.TOURIST_POLICE, _T.POLICE_PATROL)),
    Category("ENVIRONMENT", "Môi trường", "Environment", Priority.P4, (_T.POLICE_PATROL,), True),
    Category("INFRASTRUCTURE", "Hạ tầng", "Infrastructure", Priority.P4, (_T.POLICE_PATROL,), True),
    Category("OTHER", "Khác", "Other", Priority.P4, (_T.POLICE_PATROL,)),
)
CATEGORY_BY_CODE: Mapping[str, Category] = {c.code: c for c in CATEGORIES}
# Reports in these groups describe the same happening often enough to be attached to one another.
COMPATIBLE = (
    frozenset({"TRAFFIC_ACCIDENT", "MEDICAL"}),
    frozenset({"THEFT", "PUBLIC_ORDER", "TOURIST_COMPLAINT"}),
    frozenset({"FIRE", "MEDICAL"}),
)


def compatible_categories(code: str) -> frozenset[str]:
    """Categories a report of `code` may be attached to (its own included)."""
    out = {code}
    for group in COMPATIBLE:
        if code in group:
            out |= group
    return frozenset(out)


def raised(priority: Priority | str) -> Priority:
    """One level more urgent (P1 stays P1)."""
    order = list(Priority)
    index = order.index(Priority(priority))
    return order[max(0, index - 1)]


# --- geography, duplicates, units ------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lng, max lng) containing the circle: an index-friendly prefilter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = dlat / max(0.01, math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def valid_location(lat: float, lng: float) -> bool:
    """Whether a WGS84 coordinate is on Earth."""
    return -90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0


def coarse(value: float) -> float:
    """A coordinate rounded to 3 decimals (~110 m): what the public may see."""
    return round(value, 3)


@dataclass(frozen=True)
class Candidate:
    """An incident a new report might belong to."""

    id: int
    category: str
    state: IncidentState
    lat: float | None
    lng: float | None
    reported_at: dt.datetime


def find_duplicate(category: str, lat: float | None, lng: float | None, at: dt.datetime,
                   candidates: Iterable[Candidate], *, radius_m: float, window: dt.timedelta) -> Candidate | None:
    """The nearest open incident within the radius and window in a compatible category, or None."""
    if lat is None or lng is None:
        return None
    allowed = compatible_categories(category)
    best: tuple[float, Candidate] | None = None
    for c in candidates:
        if c.state not in OPEN_STATES or c.category not in allowed or c.lat is None or c.lng is None:
            continue
        if abs(at - c.reported_at) > window:
            continue
        distance = haversine_m(lat, lng, c.lat, c.lng)
        if distance <= radius_m and (best is None or distance < best[0]):
            best = (distance, c)
    return best[1] if best else None


@dataclass(frozen=True)
class UnitPosition:
    """A unit as the recommender sees it."""

    id: int
    type: UnitType
    readiness: Readiness
    lat: float | None
    lng: float | None
    located_at: dt.datetime | None


def rank_units(lat: float, lng: float, types: Sequence[UnitType], units: Iterable[UnitPosition], *,
               now: dt.datetime, stale_after: dt.timedelta, limit: int = 5) -> list[tuple[UnitPosition, float]]:
    """Available units of a suitable type with a fresh location, nearest first, with their distance."""
    suitable = set(types)
    ranked = []
    for u in units:
        if u.readiness != Readiness.AVAILABLE or u.type not in suitable:
            continue
        if u.lat is None or u.lng is None or u.located_at is None or now - u.located_at > stale_after:
            continue
        ranked.append((u, haversine_m(lat, lng, u.lat, u.lng)))
    ranked.sort(key=lambda pair: (pair[1], pair[0].id))
    return ranked[:limit]
