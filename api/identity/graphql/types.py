"""GraphQL types of the identity domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.gql.connection import Connection, to_connection
from api.core.gql.context import Info
from api.core.pagination import SortKey, paginate
from api.identity import service
from api.identity.graphql.dataloaders import AdministrativeUnitByIdLoader
from api.identity.models import AdministrativeUnit as UnitRow
from api.identity.models import UnitLevel

AdministrativeUnitLevel = strawberry.enum(UnitLevel, name="AdministrativeUnitLevel")
UNIT_ORDER = (SortKey(UnitRow.code), SortKey(UnitRow.id))  # type: ignore[arg-type]


@strawberry.input(description="Narrows a list of administrative units; every field is optional.")
class AdministrativeUnitFilter:
    level: AdministrativeUnitLevel | None = None  # type: ignore[valid-type]
    parent_id: relay.GlobalID | None = None
    valid_on: dt.date | None = strawberry.field(default=None, description="Units that existed on that day.")
    name_contains: str | None = None
    code: str | None = None


@strawberry.type(description="A province, special zone, ward or commune, valid between two dates.")
class AdministrativeUnit(relay.Node):
    pk: relay.NodeID[int]
    code: str = strawberry.field(description="Unique key; an ended unit whose official code was reused "
                                 "is keyed `<officialCode>@<last day>`.")
    official_code: str = strawberry.field(description="The General Statistics Office's code.")
    name: str = strawberry.field(description="Vietnamese name.")
    name_en: str = strawberry.field(description="English name.")
    level: AdministrativeUnitLevel  # type: ignore[valid-type]
    valid_from: dt.date | None
    valid_to: dt.date | None = strawberry.field(description="Last day it existed; null while current.")
    successor_codes: list[str] = strawberry.field(description="Units it was merged into when it ended.")
    parent_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: UnitRow) -> AdministrativeUnit:
        """Builds the GraphQL object from a row."""
        return cls(
            pk=row.id or 0,
            code=row.code,
            official_code=row.official_code,
            name=row.name,
            name_en=row.name_en,
            level=UnitLevel(row.level),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            successor_codes=list(row.successor_codes),
            parent_pk=row.parent_id,
        )

    @strawberry.field(description="The unit this one belongs to.")
    async def parent(self, info: Info) -> AdministrativeUnit | None:
        if self.parent_pk is None:
            return None
        row = await info.context.loader(AdministrativeUnitByIdLoader).load(self.parent_pk)
        return AdministrativeUnit.from_row(row) if row else None

    @strawberry.field(description="The units directly below this one.")
    def children(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AdministrativeUnit]:
        page = paginate(
            info.context.session,
            service.units_query(parent_id=self.pk),
            keys=UNIT_ORDER,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return to_connection(page, AdministrativeUnit.from_row)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Reference data is public: no check beyond the field's own.
        ids = [int(i) for i in node_ids]
        rows = {r.id: r for r in service.get_units(db_session=info.context.session, unit_ids=ids)}
        return [cls.from_row(rows[i]) if i in rows else None for i in ids]
