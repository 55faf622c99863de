"""Storing and loading identity records."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from api.core.audit import AuditRecord
from api.core.model import utcnow
from api.identity import live
from api.identity.models import (
    Account,
    AdministrativeUnit,
    ApiKey,
    AuthSession,
    LoginThrottle,
    RefreshToken,
    RoleGrant,
    unit_row_values,
)

UNITS_FILE = Path(__file__).parent / "data" / "administrative_units.json"


def load_unit_file(path: Path = UNITS_FILE) -> list[dict[str, Any]]:
    """The administrative units of the reference data file, parents before children."""
    units = json.loads(path.read_text(encoding="utf-8"))["units"]
    by_code = {u["code"]: u for u in units}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(unit: dict[str, Any]) -> None:
        if unit["code"] in seen:
            return
        parent = unit.get("parent_code")
        if parent and parent in by_code:
            visit(by_code[parent])
        seen.add(unit["code"])
        ordered.append(unit)

    for unit in units:
        visit(unit)
    return ordered


def sync_administrative_units(*, db_session: Session, path: Path = UNITS_FILE) -> int:
    """Inserts or updates units from the reference data file; returns how many changed."""
    existing = {u.code: u for u in db_session.scalars(select(AdministrativeUnit))}
    changed = 0
    for entry in load_unit_file(path):
        values = unit_row_values(entry)
        parent_code = entry.get("parent_code")
        values["parent_id"] = existing[parent_code].id if parent_code in existing else None
        row = existing.get(entry["code"])
        if row is None:
            row = AdministrativeUnit(**values)
            db_session.add(row)
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
        db_session.flush()
        existing[row.code] = row
    return changed


def get_units(*, db_session: Session, unit_ids: Sequence[int]) -> list[AdministrativeUnit]:
    """Gets administrative units by their ids."""
    if not unit_ids:
        return []
    return list(db_session.scalars(select(AdministrativeUnit).where(AdministrativeUnit.id.in_(unit_ids))))


def get_unit_by_code(*, db_session: Session, code: str) -> AdministrativeUnit | None:
    """Gets an administrative unit by its code."""
    return db_session.scalars(select(AdministrativeUnit).where(AdministrativeUnit.code == code)).first()


def units_query(
    *,
    level: str | None = None,
    parent_id: int | None = None,
    valid_on: dt.date | None = None,
    name_contains: str | None = None,
    code: str | None = None,
) -> Select[Any]:
    """The statement selecting units that match a filter."""
    stmt = select(AdministrativeUnit)
    if level is not None:
        stmt = stmt.where(AdministrativeUnit.level == level)
    if parent_id is not None:
        stmt = stmt.where(AdministrativeUnit.parent_id == parent_id)
    if code is not None:
        stmt = stmt.where(or_(AdministrativeUnit.code == code, AdministrativeUnit.official_code == code))
    if valid_on is not None:
        stmt = stmt.where(
            and_(
                or_(AdministrativeUnit.valid_from.is_(None), AdministrativeUnit.valid_from <= valid_on),
                or_(AdministrativeUnit.valid_to.is_(None), AdministrativeUnit.valid_to >= valid_on),
            )
        )
    if name_contains:
        pattern = f"%{name_contains.strip().lower()}%"
        stmt = stmt.where(
            or_(AdministrativeUnit.name.ilike(pattern), AdministrativeUnit.name_en.ilike(pattern))
        )
    return stmt


# --- accounts ------------------------------------------------------------------------------------------


def get_account(*, db_session: Session, account_id: int) -> Account | None:
    """Gets an account by id."""
    return db_session.get(Account, account_id)


def get_accounts(*, db_session: Session, account_ids: Sequence[int]) -> list[Account]:
    """Gets accounts by ids."""
    if not account_ids:
        return []
    return list(db_session.scalars(select(Account).where(Account.id.in_(account_ids))))


def find_account_by_username(*, db_session: Session, national_id: str | None, phone: str | None) -> Account | None:
    """Gets the account whose personal id number or phone matches."""
    clauses = []
    if national_id:
        clauses.append(Account.national_id == national_id)
    if phone:
        clauses.append(Account.phone == phone)
    if not clauses:
        return None
    return db_session.scalars(select(Account).where(or_(*clauses))).first()


def active_grants(*, db_session: Session, account_id: int) -> list[RoleGrant]:
    """The roles an account holds now."""
    return list(db_session.scalars(
        select(RoleGrant).where(RoleGrant.account_id == account_id, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.id)
    ))


def grants_by_account(*, db_session: Session, account_ids: Sequence[int]) -> dict[int, list[RoleGrant]]:
    """Active role grants of several accounts."""
    out: dict[int, list[RoleGrant]] = {i: [] for i in account_ids}
    if account_ids:
        rows = db_session.scalars(
            select(RoleGrant).where(RoleGrant.account_id.in_(account_ids), RoleGrant.revoked_at.is_(None))
            .order_by(RoleGrant.id)
        )
        for grant in rows:
            out[grant.account_id].append(grant)
    return out


def accounts_query(*, role: str | None = None, name_contains: str | None = None) -> Select[Any]:
    """The statement selecting accounts for the admin list."""
    stmt = select(Account)
    if role == "citizen":
        stmt = stmt.where(Account.is_citizen.is_(True))
    elif role:
        stmt = stmt.where(Account.id.in_(
            select(RoleGrant.account_id).where(RoleGrant.role == role, RoleGrant.revoked_at.is_(None))
        ))
    if name_contains:
        stmt = stmt.where(Account.full_name.ilike(f"%{name_contains.strip()}%"))
    return stmt


# --- sessions and tokens -------------------------------------------------------------------------------


def live_session_account(*, db_session: Session, session_id: str) -> int | None:
    """The account of a signed-in session that has not been revoked, else None. Asked on every request with
    an access token, so it reads two columns rather than loading the row."""
    table = AuthSession.__table__  # type: ignore[attr-defined]
    row = db_session.execute(select(table.c.account_id, table.c.revoked_at).where(table.c.id == session_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return int(row.account_id)


def get_auth_session(*, db_session: Session, session_id: str) -> AuthSession | None:
    """Gets a signed-in session."""
    return db_session.get(AuthSession, session_id)


def find_refresh_token(*, db_session: Session, token_hash: str) -> RefreshToken | None:
    """Gets a refresh token by its hash."""
    return db_session.scalars(select(RefreshToken).where(RefreshToken.token_hash == token_hash)).first()


def revoke_sessions(*, db_session: Session, account_id: int, reason: str, keep: str | None = None) -> int:
    """Revokes every open session of an account (but `keep`)."""
    rows = db_session.scalars(
        select(AuthSession).where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
    )
    ended = []
    for row in rows:
        if row.id != keep:
            row.revoked_at = utcnow()
            row.revoked_reason = reason
            ended.append(row.id)
    live.revoked(db_session, ended)
    db_session.flush()
    return len(ended)


def get_throttle(*, db_session: Session, key: str) -> LoginThrottle | None:
    """Gets the failed-sign-in counter of a username or client address."""
    return db_session.get(LoginThrottle, key)


# --- API keys ------------------------------------------------------------------------------------------


def get_api_key_by_prefix(*, db_session: Session, prefix: str) -> ApiKey | None:
    """Gets an API key by its public prefix."""
    return db_session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def get_api_key(*, db_session: Session, api_key_id: int) -> ApiKey | None:
    """Gets an API key by id."""
    return db_session.get(ApiKey, api_key_id)


def audit_query(
    *, subject_type: str | None = None, subject_id: str | None = None, actor_account_id: int | None = None,
    since: dt.datetime | None = None,
) -> Select[Any]:
    """The statement selecting audit records for the admin list."""
    stmt = select(AuditRecord)
    if subject_type:
        stmt = stmt.where(AuditRecord.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(AuditRecord.subject_id == subject_id)
    if actor_account_id is not None:
        stmt = stmt.where(AuditRecord.actor_account_id == actor_account_id)
    if since is not None:
        stmt = stmt.where(AuditRecord.at >= since)
    return stmt
