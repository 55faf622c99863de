"""Identity queries."""

from __future__ import annotations

import strawberry

from api.core.errors import DomainError
from api.core.gql.connection import Connection, to_connection
from api.core.gql.context import Info
from api.core.gql.permissions import public
from api.core.pagination import paginate
from api.identity import service
from api.identity.graphql.types import UNIT_ORDER, AdministrativeUnit, AdministrativeUnitFilter


def _parent_pk(filter: AdministrativeUnitFilter) -> int | None:
    if filter.parent_id is None:
        return None
    if filter.parent_id.type_name != "AdministrativeUnit":
        raise DomainError.single(
            "INVALID",
            "parentId is not an administrative unit id.",
            field="filter.parentId",
            message_vi="parentId không phải mã đơn vị hành chính.",
        )
    return int(filter.parent_id.node_id)


@strawberry.type
class IdentityQuery:
    @strawberry.field(extensions=public(), description="Administrative units, ordered by code.")
    def administrative_units(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AdministrativeUnitFilter | None = None,
    ) -> Connection[AdministrativeUnit]:
        f = filter or AdministrativeUnitFilter()
        stmt = service.units_query(
            level=f.level.value if f.level else None,
            parent_id=_parent_pk(f),
            valid_on=f.valid_on,
            name_contains=f.name_contains,
            code=f.code,
        )
        page = paginate(
            info.context.session, stmt, keys=UNIT_ORDER, first=first, after=after, last=last, before=before
        )
        return to_connection(page, AdministrativeUnit.from_row)
