"""The notifications domain's place in the platform: device and topic GraphQL, the push drain job."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.notifications.graphql.mutations import NotificationsMutation
from api.notifications.graphql.queries import NotificationsQuery
from api.notifications.graphql.types import Device


def register_jobs(registry: Any, settings: Any) -> None:
    """Registers `push.drain`: every second, send what the outbox holds."""
    from workers.jobs import Job
    from workers.push.drain import drain_job

    # Not exclusive: every worker process drains at once; the outbox's row leases keep them apart.
    registry.add(Job("push.drain", drain_job, seconds=1, misfire_grace_seconds=5, exclusive=False,
                     description="send queued push notifications"))


plugin = DomainPlugin(
    name="notifications", query=NotificationsQuery, mutation=NotificationsMutation, types=(Device,),
    jobs=register_jobs,
)
