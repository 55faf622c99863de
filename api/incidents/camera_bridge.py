"""Camera events whose rule is marked `raise_incident` become incidents on the CAMERA channel."""

from __future__ import annotations

import logging

from sqlmodel import Session

from api.cameras import flows as camera_flows
from api.cameras import service as camera_service
from api.config import Settings
from api.core.model import utcnow
from api.incidents import filing
from api.incidents.models import Channel, Report

log = logging.getLogger(__name__)
BATCH = 100
# What a camera saw, in the categories residents and operators use.
CATEGORY_BY_KIND = {
    "intrusion": "PUBLIC_ORDER", "loitering": "PUBLIC_ORDER", "abandoned_object": "PUBLIC_ORDER",
    "red_light": "PUBLIC_ORDER", "wrong_way": "PUBLIC_ORDER", "speed": "PUBLIC_ORDER", "speeding": "PUBLIC_ORDER",
    "stopped_vehicle": "PUBLIC_ORDER", "no_parking": "PUBLIC_ORDER",
    "tamper_covered": "INFRASTRUCTURE", "tamper_defocused": "INFRASTRUCTURE", "tamper_moved": "INFRASTRUCTURE",
}


def raise_pending(*, db_session: Session, settings: Settings, limit: int = BATCH) -> int:
    """Files one incident per pending camera event (duplicates nearby attach as usual); returns how many."""
    events = camera_flows.incident_requests(db_session=db_session, limit=limit)
    now = utcnow()
    for event in events:
        camera = camera_service.get_camera(db_session=db_session, camera_id=event.camera_id)
        if camera is None:
            continue
        category = CATEGORY_BY_KIND.get(event.kind, "OTHER")
        description = f"Camera {camera.code} ({camera.name}): {event.kind.replace('_', ' ')}"
        if event.zone:
            description += f" in zone {event.zone}"
        # The incident and the link are written in one transaction: a crashed run leaves the event pending.
        report = Report(reporter_account_id=None, idempotency_key=f"camera-event:{event.id}",
                        request_hash=f"camera-event:{event.id}", channel=Channel.CAMERA.value, category=category,
                        description=description, lat=camera.lat, lng=camera.lng, address=None, photos=[],
                        occurred_at=event.started_at, created_at=now)
        db_session.add(report)
        db_session.flush()
        filed = filing.file_report(db_session, settings, None, report, description=description, lat=camera.lat,
                            lng=camera.lng, address=None, occurred_at=event.started_at, channel=Channel.CAMERA,
                            now=now, unit_code=camera.unit_code)
        camera_flows.link_incident(db_session=db_session, event_id=event.id or 0, incident_id=filed.incident.id or 0)
    return len(events)


def raise_job(ctx: object) -> int:
    """The job: turns pending camera events into incidents in batches."""
    total = 0
    while not ctx.stopping.is_set():  # type: ignore[attr-defined]
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            session.info["bus"] = ctx.bus  # type: ignore[attr-defined]
            count = raise_pending(db_session=session, settings=ctx.settings)  # type: ignore[attr-defined]
        total += count
        if count < BATCH:
            break
    if total:
        log.info("raised %d incident(s) from camera events", total)
    return total
