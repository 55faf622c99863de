"""`Incident.allowedActions`: what the caller may do to an incident now, decided by access.refusal (the same
check the mutations run), with the caller's standing batched per request."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import strawberry

from api.core.gql.context import Info
from api.core.gql.dataloaders import SessionLoader
from api.core.model import utcnow
from api.incidents import access, lifecycle, standing
from api.incidents.lifecycle import Action

IncidentAction: Any = strawberry.enum(lifecycle.Action, name="IncidentAction",
                                      description="Something that can be done to an incident.")


class StandingByIncidentLoader(SessionLoader[int, access.Standing]):
    """Loads who the calling principal is to each incident (reporter, unit on it): one statement per fact."""

    def load_batch(self, keys: list[int]) -> list[access.Standing | None]:
        found = standing.standings(db_session=self.context.session, principal=self.context.principal,
                                   incident_ids=keys)
        return [found.get(k) for k in keys]


def allowed_actions(incident: Any, info: Info) -> list[Action] | Awaitable[list[Action]]:
    """The actions for `incident` (a GraphQL Incident): answered at once when nothing about the caller's
    standing can matter in its state, else through the request's StandingByIncidentLoader."""
    ctx = info.context
    principal = ctx.principal
    where = access.situation(state=incident.state, report_count=incident.report_count, rating=incident.rating,
                             resolved_at=incident.resolved_at,
                             reopen_window_hours=ctx.state.settings.incident_reopen_window_hours, now=utcnow())
    reporter = principal.account_id is not None and access.needs_reporter(where.state)
    unit = access.needs_unit(principal.roles, where.state) and standing.responder_unit(principal) is not None
    if not reporter and not unit:
        return access.allowed_actions(access.Standing(roles=principal.roles), where)
    return _later(info, incident.pk, where)


async def _later(info: Info, pk: int, where: access.Situation) -> list[Action]:
    found = await info.context.loader(StandingByIncidentLoader).load(pk)
    return access.allowed_actions(found or access.Standing(roles=info.context.principal.roles), where)
