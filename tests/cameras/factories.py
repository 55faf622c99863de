"""Factories for the cameras tests: registered cameras and worker-style events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.cameras import flows
from api.cameras.demo import plaza_config, traffic_config
from api.cameras.models import Camera
from api.db import Database

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def make_camera(database: Database, code: str = "PQ-T90", *, kind: str = "TRAFFIC",
                stream_url: str = "rtsp://10.31.78.190:554/Streaming/Channels/102", enabled: bool = True,
                config: dict[str, Any] | None = None) -> Camera:
    """Registers a camera (traffic layout unless told otherwise)."""
    if config is None:
        config = traffic_config() if kind == "TRAFFIC" else plaza_config()
    with database.transaction() as session:
        return flows.create_camera(db_session=session, data=flows.CameraData(
            code=code, name=f"Camera {code}", kind=kind, lat=10.2163, lng=103.9617, unit_code="31078",
            stream_url=stream_url, config=config, enabled=enabled))


def observed(rule: str = "red_east", rule_type: str = "red_light", transition: str = "new", *,
             track_id: int | None = 7, started: float = 12.2, ended: float | None = None,
             speed_kmh: float | None = None, evidence: list[dict[str, Any]] | None = None,
             raises_incident: bool = True) -> flows.ObservedEvent:
    """A worker transition, `started`/`ended` in seconds after T0."""
    return flows.ObservedEvent(
        rule=rule, rule_type=rule_type, transition=transition, started_at=T0 + dt.timedelta(seconds=started),
        detected_at=T0 + dt.timedelta(seconds=started + 0.2),
        ended_at=T0 + dt.timedelta(seconds=ended) if ended is not None else None, track_id=track_id,
        zone="lane_east", direction="through", speed_kmh=speed_kmh, signal="red" if rule_type == "red_light" else None,
        box=[0.6, 0.68, 0.8, 0.8], raises_incident=raises_incident, evidence=evidence or [],
    )


def record(database: Database, camera_id: int, event: flows.ObservedEvent, bus: Any = None) -> int:
    """Records a transition in its own transaction, as the worker does; returns the event id."""
    with database.transaction() as session:
        if bus is not None:
            session.info["bus"] = bus
        return flows.record_event(db_session=session, camera_id=camera_id, observed=event).id or 0
