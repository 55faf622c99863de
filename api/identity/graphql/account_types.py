"""GraphQL types for accounts, roles, organisations, API keys and audit records."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from api.core.audit import AuditRecord as AuditRow
from api.core.auth import Role
from api.core.errors import AccessDenied
from api.core.gql.context import Info
from api.core.gql.errors import error_type
from api.core.gql.personal import MARK, personal_data
from api.identity import service
from api.identity.errors import IdentityErrorCode
from api.identity.models import Account as AccountRow
from api.identity.models import ApiKey as ApiKeyRow
from api.identity.models import Organisation as OrganisationRow
from api.identity.models import RoleGrant as GrantRow

IdentityError = error_type("IdentityError", IdentityErrorCode)


@strawberry.enum(description="Sex as recorded on the citizen identity card.")
class Sex(enum.Enum):
    MALE = "MALE"
    FEMALE = "FEMALE"


@strawberry.enum(description="What an API key is for.")
class ApiKeyKind(enum.Enum):
    STATION = "station"
    THIRD_PARTY = "third_party"


@strawberry.enum(description="Staff roles an admin can grant.")
class StaffRoleName(enum.Enum):
    OFFICER = "officer"
    POLICE = "police"
    DISPATCHER = "dispatcher"
    RESPONDER = "responder"
    HOTEL_CLERK = "hotel_clerk"
    ADMIN = "admin"


@strawberry.type(description="A staff role and where it applies.")
class RoleGrant:
    role: str
    unit_code: str | None
    agency: str | None
    responder_unit_id: int | None
    facility_id: int | None
    granted_at: dt.datetime

    @classmethod
    def from_row(cls, row: GrantRow) -> RoleGrant:
        """Builds the GraphQL object from a row."""
        return cls(role=row.role, unit_code=row.unit_code, agency=row.agency,
                   responder_unit_id=row.responder_unit_id, facility_id=row.facility_id, granted_at=row.granted_at)


def _staff_or_self(info: Info, account_id: int) -> None:
    principal = info.context.principal
    if principal.account_id == account_id or principal.has(Role.ADMIN):
        return
    raise AccessDenied()


@strawberry.type(description="One person's electronic account, valid at every level of government.")
class Account(relay.Node):
    pk: relay.NodeID[int]
    full_name: str
    sex: Sex | None
    is_citizen: bool
    is_active: bool
    created_at: dt.datetime
    row: strawberry.Private[AccountRow]

    @classmethod
    def from_row(cls, row: AccountRow) -> Account:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, full_name=row.full_name, sex=Sex(row.sex) if row.sex in ("MALE", "FEMALE") else None,
                   is_citizen=row.is_citizen, is_active=row.is_active, created_at=row.created_at, row=row)

    def audit_subject(self) -> tuple[str, int, int]:
        """What a personal-data read of this object is about: (type, id, owner account)."""
        return "Account", self.pk, self.pk

    @strawberry.field(extensions=personal_data(), description=MARK + "Citizen identification number (CCCD).")
    def national_id(self) -> str | None:
        return self.row.national_id

    @strawberry.field(extensions=personal_data(), description=MARK + "Date of birth.")
    def date_of_birth(self) -> dt.date | None:
        return self.row.date_of_birth

    @strawberry.field(extensions=personal_data(), description=MARK + "Mobile number, E.164.")
    def phone(self) -> str | None:
        return self.row.phone

    @strawberry.field(extensions=personal_data(), description=MARK + "E-mail address.")
    def email(self) -> str | None:
        return self.row.email

    @strawberry.field(description="Roles this account acts with: citizen and any staff roles.")
    def roles(self, info: Info) -> list[str]:
        grants = service.active_grants(db_session=info.context.session, account_id=self.pk)
        return sorted({g.role for g in grants} | ({"citizen"} if self.is_citizen else set()))

    @strawberry.field(description="Staff roles with where they apply (the account itself or admins).")
    def role_grants(self, info: Info) -> list[RoleGrant]:
        _staff_or_self(info, self.pk)
        return [RoleGrant.from_row(g) for g in service.active_grants(db_session=info.context.session,
                                                                      account_id=self.pk)]

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # node(id:) must not bypass the checks of the typed fields: only the account itself or an admin.
        ids = [int(i) for i in node_ids]
        principal = info.context.principal
        allowed = [i for i in ids if principal.account_id == i or principal.has(Role.ADMIN)]
        rows = {r.id: r for r in service.get_accounts(db_session=info.context.session, account_ids=allowed)}
        return [cls.from_row(rows[i]) if i in rows else None for i in ids]


@strawberry.type(description="A business account, one per tax code.")
class Organisation:
    id: int
    tax_code: str
    name: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: OrganisationRow) -> Organisation:
        """Builds the GraphQL object from a row."""
        return cls(id=row.id or 0, tax_code=row.tax_code, name=row.name, created_at=row.created_at)


@strawberry.type(description="An API key as listed: never its secret.")
class ApiKey(relay.Node):
    pk: relay.NodeID[int]
    prefix: str
    name: str
    kind: ApiKeyKind
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        """Builds the GraphQL object from a row."""
        return cls(pk=row.id or 0, prefix=row.prefix, name=row.name, kind=ApiKeyKind(row.kind),
                   scopes=list(row.scopes), created_at=row.created_at, expires_at=row.expires_at,
                   revoked_at=row.revoked_at)

    @classmethod
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        if not info.context.principal.has(Role.ADMIN):
            return [None for _ in node_ids]
        out = []
        for i in node_ids:
            row = service.get_api_key(db_session=info.context.session, api_key_id=int(i))
            out.append(cls.from_row(row) if row else None)
        return out


@strawberry.type(description="Who read or changed which personal data, when, and why.")
class AuditRecord:
    id: int
    at: dt.datetime
    actor: str
    actor_account_id: int | None
    actor_api_key_id: int | None
    action: str
    subject_type: str
    subject_id: str
    fields: list[str]
    purpose: str
    request_id: str | None

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditRecord:
        """Builds the GraphQL object from a row."""
        return cls(id=row.id or 0, at=row.at, actor=row.actor, actor_account_id=row.actor_account_id,
                   actor_api_key_id=row.actor_api_key_id, action=row.action, subject_type=row.subject_type,
                   subject_id=row.subject_id, fields=list(row.fields), purpose=row.purpose,
                   request_id=row.request_id)
