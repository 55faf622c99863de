"""Identity queries."""

from __future__ import annotations

import datetime as dt

import strawberry

from api.core.audit import AuditRecord as AuditRow
from api.core.auth import PEOPLE, Role
from api.core.errors import DomainError
from api.core.gql.connection import Connection, to_connection
from api.core.gql.context import Info
from api.core.gql.permissions import allow, public
from api.core.pagination import SortKey, paginate
from api.identity import service
from api.identity.graphql.account_types import Account, ApiKey, AuditRecord
from api.identity.graphql.types import UNIT_ORDER, AdministrativeUnit, AdministrativeUnitFilter
from api.identity.models import Account as AccountRow
from api.identity.models import ApiKey as ApiKeyRow


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


ACCOUNT_ORDER = (SortKey(AccountRow.id),)  # type: ignore[arg-type]
AUDIT_ORDER = (SortKey(AuditRow.at, descending=True), SortKey(AuditRow.id, descending=True))  # type: ignore[arg-type]
KEY_ORDER = (SortKey(ApiKeyRow.id, descending=True),)  # type: ignore[arg-type]


@strawberry.input(description="Narrows the audit log.")
class AuditLogFilter:
    subject_type: str | None = None
    subject_id: str | None = None
    actor_account_id: int | None = None
    since: dt.datetime | None = None


@strawberry.input(description="Narrows the list of accounts.")
class AccountFilter:
    role: str | None = strawberry.field(default=None, description="citizen, or a staff role")
    name_contains: str | None = None


@strawberry.type
class IdentityQuery:
    @strawberry.field(extensions=allow(*PEOPLE), description="Your own account.")
    def me(self, info: Info) -> Account | None:
        row = service.get_account(db_session=info.context.session, account_id=info.context.principal.account_id or 0)
        return Account.from_row(row) if row else None

    @strawberry.field(extensions=allow(Role.ADMIN), description="Accounts (personal data reads are audited).")
    def accounts(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: AccountFilter | None = None,
    ) -> Connection[Account]:
        f = filter or AccountFilter()
        page = paginate(info.context.session, service.accounts_query(role=f.role, name_contains=f.name_contains),
                        keys=ACCOUNT_ORDER, first=first, after=after, last=last, before=before)
        return to_connection(page, Account.from_row)

    @strawberry.field(extensions=allow(Role.ADMIN), description="API keys, newest first (never their secrets).")
    def api_keys(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApiKey]:
        from sqlalchemy import select

        page = paginate(info.context.session, select(ApiKeyRow), keys=KEY_ORDER, first=first, after=after,
                        last=last, before=before)
        return to_connection(page, ApiKey.from_row)

    @strawberry.field(extensions=allow(Role.ADMIN), description="Who read which personal data, newest first.")
    def audit_log(
        self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
        before: str | None = None, filter: AuditLogFilter | None = None,
    ) -> Connection[AuditRecord]:
        f = filter or AuditLogFilter()
        stmt = service.audit_query(subject_type=f.subject_type, subject_id=f.subject_id,
                                   actor_account_id=f.actor_account_id, since=f.since)
        page = paginate(info.context.session, stmt, keys=AUDIT_ORDER, first=first, after=after, last=last,
                        before=before)
        return to_connection(page, AuditRecord.from_row)

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
