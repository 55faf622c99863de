"""The notifications domain's place in the platform: device and topic GraphQL, the push drain job."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.notifications.graphql.mutations import NotificationsMutation
from api.notifications.graphql.queries import NotificationsQuery
from api.notifications.graphql.types import Device


def register_jobs(registry: Any, settings: Any) -> None:
    """Registers `push.drain` (send what the outbox holds) and `push.prune_outbox` (delete old rows)."""
    from workers.jobs import Job
    from workers.push.drain import drain_job
    from workers.push.prune import prune_job

    # Not exclusive: every worker process drains at once; the outbox's row leases keep them apart.
    # Chained: a run sends for at most push_drain_run_seconds and the next starts at once while rows are
    # due, or a second after a run that found nothing; no run is ever skipped for overlapping another.
    registry.add(Job("push.drain", drain_job, seconds=1, exclusive=False, chained=True,
                     description="send queued push notifications"))
    # Exclusive (one process, under a lease); a run stops after 480 s, inside its 600 s lease.
    registry.add(Job("push.prune_outbox", prune_job, seconds=3600, misfire_grace_seconds=1800, lease_seconds=600,
                     description="delete SENT and FAILED outbox rows past their retention"))


plugin = DomainPlugin(
    name="notifications", query=NotificationsQuery, mutation=NotificationsMutation, types=(Device,),
    jobs=register_jobs,
)
