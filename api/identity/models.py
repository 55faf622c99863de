"""Identity tables: administrative units (reference data with validity dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from api.core.model import UTCDateTime, utcnow  # naming convention before any table
from api.identity.units import UnitLevel

__all__ = ["AdministrativeUnit", "UnitLevel", "Account", "RoleGrant", "ApiKey"]


class AdministrativeUnit(SQLModel, table=True):
    """A province, district, special zone, ward or commune, valid between two dates."""

    __tablename__ = "administrative_unit"
    __table_args__ = (Index("ix_administrative_unit_parent_code", "parent_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    # `code` is unique for all time; the statistics office reused some official codes on 1 July 2025
    # (e.g. 91 was Kiên Giang, now An Giang), so ended units carry `<official>@<last day>`.
    code: str = Field(max_length=32, unique=True, description="unique key of the unit")
    official_code: str = Field(max_length=16, index=True, description="the statistics office's code")
    name: str = Field(max_length=200, description="Vietnamese name with diacritics")
    name_en: str = Field(max_length=200)
    level: str = Field(max_length=16, index=True)
    parent_id: int | None = Field(default=None, foreign_key="administrative_unit.id")
    valid_from: dt.date | None = Field(default=None)
    valid_to: dt.date | None = Field(default=None, description="last day it existed; null while current")
    successor_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, max_length=500)

    def valid_on(self, day: dt.date) -> bool:
        """Whether the unit existed on that day."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def unit_row_values(unit: dict[str, Any]) -> dict[str, Any]:
    """Column values from one entry of the reference data file."""

    def day(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return {
        "code": unit["code"],
        "official_code": unit.get("official_code") or unit["code"],
        "name": unit["name"],
        "name_en": unit.get("name_en") or unit["name"],
        "level": unit["level"],
        "valid_from": day(unit.get("valid_from")),
        "valid_to": day(unit.get("valid_to")),
        "successor_codes": list(unit.get("successor_codes") or []),
        "source": (unit.get("code_note") or None),
    }


class Account(SQLModel, table=True):
    """One electronic account per person (unique personal id number), usable at every level."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    national_id: str | None = Field(default=None, max_length=12, unique=True, description="CCCD; personal data")
    full_name: str = Field(max_length=100)
    date_of_birth: dt.date | None = Field(default=None, description="personal data")
    sex: str | None = Field(default=None, max_length=6)
    phone: str | None = Field(default=None, max_length=16, unique=True, description="E.164; personal data")
    email: str | None = Field(default=None, max_length=254, description="personal data")
    password_hash: str = Field(max_length=200)
    is_active: bool = Field(default=True)
    is_citizen: bool = Field(default=True, description="registered as a citizen (role citizen)")
    # Ready for single sign-on through the national identity provider (VNeID / OIDC `sub`).
    external_subject: str | None = Field(default=None, max_length=200, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """A staff role held by an account, with where it applies (agency unit, responder unit, facility)."""

    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_account_active", "account_id", "revoked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    role: str = Field(max_length=20)
    unit_code: str | None = Field(default=None, max_length=32, description="administrative unit of the agency")
    agency: str | None = Field(default=None, max_length=200)
    responder_unit_id: int | None = Field(default=None, description="incidents.responder_unit.id")
    facility_id: int | None = Field(default=None, description="lodging facility id")
    granted_by: int | None = Field(default=None, foreign_key="account.id")
    granted_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Organisation(SQLModel, table=True):
    """A business account, one per tax code (mã số thuế)."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    tax_code: str = Field(max_length=14, unique=True)
    name: str = Field(max_length=300)
    created_by: int = Field(foreign_key="account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrganisationMember(SQLModel, table=True):
    """A person acting for an organisation."""

    __tablename__ = "organisation_member"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    role: str = Field(default="member", max_length=10, description="owner or member")
    added_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A signed-in session: the family of its rotating refresh tokens; revoking it signs out everywhere
    it was used, and access tokens name it so they stop working at once."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=32)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=40)
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)


class RefreshToken(SQLModel, table=True):
    """One refresh token of a session; used once, then replaced."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="auth_session.id", index=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    issued_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per username and per client address, for back-off."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=120)
    failures: int = Field(default=0)
    window_start: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    blocked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A key for a station or a third party: shown once, stored hashed, scoped, expiring, revocable."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, unique=True, description="public part, shown in lists")
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20, description="station or third_party")
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
