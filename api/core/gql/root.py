"""Fields every schema has: node/nodes (same permission checks as typed fields) and rateLimit."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from api.core.errors import DomainError
from api.core.gql.context import Info
from api.core.gql.permissions import public


@strawberry.type(description="The caller's query-cost budget (leaky bucket, refunded to actual cost).")
class RateLimit:
    cost: int = strawberry.field(description="Points this query was priced at before it ran.")
    limit: int
    remaining: int
    reset_at: dt.datetime = strawberry.field(description="When the budget is full again.")


MAX_NODES = 100


def _known_type(info: Info, gid: relay.GlobalID) -> bool:
    return info.schema.get_type_by_name(gid.type_name) is not None


async def _resolve(info: Info, gid: relay.GlobalID) -> relay.Node | None:
    if not _known_type(info, gid):
        return None
    info.context.release()
    return await gid.resolve_node(info, required=False)  # type: ignore[no-any-return]


@strawberry.type
class CoreQuery:
    @strawberry.field(extensions=public(), description="Any object by its global id; the object's own checks apply.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        return await _resolve(info, id)

    @strawberry.field(extensions=public(), description="Objects by global ids (at most 100); each object's checks apply.")
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise DomainError.single("INVALID", f"Ask for at most {MAX_NODES} ids at once.", field="ids",
                                     message_vi=f"Chỉ được hỏi tối đa {MAX_NODES} mã một lần.")
        return [await _resolve(info, gid) for gid in ids]

    @strawberry.field(extensions=public(), description="Your query-cost budget.")
    def rate_limit(self, info: Info) -> RateLimit:
        ctx = info.context
        state = ctx.state.budget.peek(ctx.principal.budget_key)
        return RateLimit(
            cost=ctx.cost, limit=state.limit, remaining=state.remaining,
            reset_at=dt.datetime.fromtimestamp(state.reset_at, dt.UTC),
        )
