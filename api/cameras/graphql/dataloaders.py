"""Per-request loaders for camera records."""

from __future__ import annotations

from typing import Any

from api.cameras import service
from api.cameras.models import Camera, CameraEvent, TrafficViolation
from api.core.gql.dataloaders import SessionLoader


def _detached(session: Any, rows: list[Any]) -> list[Any]:
    # The loader releases the request's transaction right after a batch (see Context.release); a rollback
    # expires what the session holds, and each expired row would be re-read one by one (an N+1).
    for row in rows:
        session.expunge(row)
    return rows


class CameraByIdLoader(SessionLoader[int, Camera]):
    """Loads cameras by id, one query per batch."""

    def load_batch(self, keys: list[int]) -> list[Camera | None]:
        session = self.context.session
        rows = {c.id: c for c in _detached(session, service.get_cameras(db_session=session, camera_ids=keys))}
        return [rows.get(k) for k in keys]


class CameraEventByIdLoader(SessionLoader[int, CameraEvent]):
    """Loads camera events by id, one query per batch."""

    def load_batch(self, keys: list[int]) -> list[CameraEvent | None]:
        session = self.context.session
        rows = {e.id: e for e in _detached(session, service.get_events(db_session=session, event_ids=keys))}
        return [rows.get(k) for k in keys]


class TrafficViolationByEventLoader(SessionLoader[int, TrafficViolation]):
    """Loads the violation of each event id, one query per batch."""

    def load_batch(self, keys: list[int]) -> list[TrafficViolation | None]:
        from sqlalchemy import select

        stmt = select(TrafficViolation).where(TrafficViolation.event_id.in_(keys))  # type: ignore[attr-defined]
        session = self.context.session
        rows = {v.event_id: v for v in _detached(session, list(session.scalars(stmt)))}
        return [rows.get(k) for k in keys]
