"""The statements filing runs for every report, and the locks that keep reports in order.

Built once (so compiled once) and run on the session's connection without the ORM's unit of work: the
idempotent report INSERT, the duplicate candidates, the report's incident UPDATE. And PostgreSQL advisory
locks: on the grid cells around a report (two reports within the duplicate radius run one after the other)
and on a name (a hotline call's idempotency key). Keyword-only arguments; flush, never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from api.incidents import rules
from api.incidents.models import Incident, Report

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_REPORT = Report.__table__  # type: ignore[attr-defined]

_CANDIDATES = select(_INCIDENT.c.id, _INCIDENT.c.category, _INCIDENT.c.state, _INCIDENT.c.lat, _INCIDENT.c.lng,
                     _INCIDENT.c.reported_at).where(
    _INCIDENT.c.state.in_(bindparam("states", expanding=True)),
    _INCIDENT.c.category.in_(bindparam("categories", expanding=True)),
    _INCIDENT.c.reported_at >= bindparam("since"),
    _INCIDENT.c.lat.between(bindparam("min_lat"), bindparam("max_lat")),
    _INCIDENT.c.lng.between(bindparam("min_lng"), bindparam("max_lng")),
).limit(50)
_OPEN_STATES = sorted(s.value for s in rules.OPEN_STATES)
_INSERT_REPORT = {
    dialect: insert(_REPORT).on_conflict_do_nothing(index_elements=["reporter_account_id", "idempotency_key"])
    .returning(_REPORT.c.id) for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_SET_REPORT_INCIDENT = update(_REPORT).where(_REPORT.c.id == bindparam("report_id")).values(
    incident_id=bindparam("incident_id"))


def open_candidates(*, db_session: Session, categories: Sequence[str], box: tuple[float, float, float, float],
                    since: dt.datetime) -> list[Any]:
    """Open incidents in these categories inside the box reported since `since` (duplicate candidates): rows of
    the columns matching needs, not whole incidents (every report asks)."""
    min_lat, max_lat, min_lng, max_lng = box
    return list(db_session.connection().execute(_CANDIDATES, {
        "states": _OPEN_STATES, "categories": list(categories), "since": since, "min_lat": min_lat,
        "max_lat": max_lat, "min_lng": min_lng, "max_lng": max_lng}))


def insert_report_once(*, db_session: Session, report: Report) -> bool:
    """Stores a new report unless its reporter already used its idempotency key (then False, nothing stored).
    One INSERT .. ON CONFLICT DO NOTHING RETURNING id; the report becomes a persistent row of the session."""
    stmt = _INSERT_REPORT[db_session.get_bind().dialect.name]
    values = {c.key: getattr(report, c.key) for c in _REPORT.columns if c.key != "id"}
    new_id = db_session.connection().execute(stmt, values).scalar()
    if new_id is None:
        return False
    report.id = new_id
    make_transient_to_detached(report)  # known to be stored: attach it without reading it back
    db_session.add(report)
    return True


def set_report_incident(*, db_session: Session, report: Report, incident_id: int) -> None:
    """Points a stored report at its incident with one UPDATE, leaving nothing for the next flush."""
    db_session.connection().execute(_SET_REPORT_INCIDENT, {"report_id": report.id, "incident_id": incident_id})
    set_committed_value(report, "incident_id", incident_id)


# Advisory-lock keys for duplicate matching: a namespace in the top 16 bits, then the grid cell.
_AREA_LOCK_NAMESPACE = 0x5AFE << 47
_METRES_PER_DEGREE = 111_320.0
_LOCK_CELLS = text("SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) "
                   "AS cells")


def lock_area(*, db_session: Session, box: tuple[float, float, float, float], cell_m: float) -> None:
    """Takes, until the transaction ends, a lock on every grid cell (of `cell_m` metres) the box touches.

    Two reports within the duplicate radius have overlapping boxes that share at least the cell of either
    point, so their transactions run one after the other and the second finds the first's incident.
    PostgreSQL: advisory transaction locks, in key order (no deadlock). SQLite: write transactions are
    already one at a time."""
    if db_session.get_bind().dialect.name != "postgresql":
        return
    min_lat, max_lat, min_lng, max_lng = box
    step = cell_m / _METRES_PER_DEGREE
    keys = sorted({_AREA_LOCK_NAMESPACE | ((i & 0xFFFFFF) << 24) | (j & 0xFFFFFF)
                   for i in range(math.floor(min_lat / step), math.floor(max_lat / step) + 1)
                   for j in range(math.floor(min_lng / step), math.floor(max_lng / step) + 1)})
    db_session.connection().execute(_LOCK_CELLS, {"keys": keys})


def lock_key(*, db_session: Session, name: str) -> None:
    """Takes a PostgreSQL advisory lock on a name until the transaction ends (SQLite: writes are serial)."""
    if db_session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    db_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
