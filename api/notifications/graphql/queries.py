"""Notifications queries."""

from __future__ import annotations

import strawberry

from api.core.auth import PEOPLE, Role
from api.core.gql.context import Info
from api.core.gql.permissions import allow
from api.notifications import service
from api.notifications.graphql.types import PushOutbox


@strawberry.type
class NotificationsQuery:
    @strawberry.field(extensions=allow(*PEOPLE), description="The topics you follow, e.g. area:31078.")
    def my_topics(self, info: Info) -> list[str]:
        return service.topics_of(db_session=info.context.session, account_id=info.context.principal.account_id or 0)

    @strawberry.field(extensions=allow(Role.ADMIN), description="The push outbox: counts by state, failures.")
    def push_outbox(self, info: Info) -> PushOutbox:
        counts = service.outbox_counts(db_session=info.context.session)
        return PushOutbox(pending=counts["PENDING"], sending=counts["SENDING"], sent=counts["SENT"],
                          failed=counts["FAILED"])
