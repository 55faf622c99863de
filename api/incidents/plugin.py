"""The Safe City domain's place in the platform."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.incidents import service
from api.incidents.demo import seed
from api.incidents.graphql.mutations import IncidentMutation
from api.incidents.graphql.public_types import PublicIncident
from api.incidents.graphql.queries import IncidentQuery
from api.incidents.graphql.subscriptions import IncidentSubscription
from api.incidents.graphql.types import Incident
from api.incidents.graphql.unit_types import Assignment, ResponderUnit
from api.incidents.views import routes


def seed_reference(session: Any, settings: Any) -> list[str]:
    """Loads the incident categories (reference data, needed in production too)."""
    changed = service.sync_categories(db_session=session)
    return [f"incident categories: {changed} loaded or updated"] if changed else []


def jobs(registry: Any, settings: Any) -> None:
    """Registers the escalation of overdue incidents."""
    from api.incidents.camera_bridge import raise_job
    from api.incidents.dispatch import escalate_overdue
    from workers.jobs import Job

    registry.add(Job("incidents.escalate_overdue", escalate_overdue, settings.incident_escalation_seconds,
                     description="escalates incidents past a deadline: event, priority raised, supervisors told"))
    registry.add(Job("incidents.from_cameras", raise_job, 5,
                     description="camera events marked raise_incident become incidents (channel CAMERA)"))


plugin = DomainPlugin(
    name="incidents", query=IncidentQuery, mutation=IncidentMutation, subscription=IncidentSubscription,
    types=(Incident, PublicIncident, ResponderUnit, Assignment), seed=seed, jobs=jobs, routes=routes,
    # Lists that walls, consoles and third parties poll; every change to an incident or a unit is an event.
    cached_fields={"incidents": ("incidents",), "publicIncidents": ("incidents",)},
    change_channels={"incident_events": "incidents", "responder_units": "incidents"},
    extra={"reference": seed_reference},
)
