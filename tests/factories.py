"""Factories: accounts of every role, their access tokens, API keys."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from api.config import Settings
from api.core.auth import Principal, Role
from api.core.model import utcnow
from api.db import Database
from api.identity import flows, sessions

PASSWORD = "factory-password-2026"
_phones = itertools.count(1)


@dataclass
class Person:
    """A test account with a valid access token."""

    account_id: int
    phone: str
    token: str
    refresh_token: str
    roles: tuple[str, ...]


def next_phone() -> str:
    """A fresh, valid Vietnamese mobile number."""
    return f"09{next(_phones) + 10_000_000:08d}"


def make_person(
    database: Database, settings: Settings, role: str = "citizen", *, responder_unit_id: int | None = None,
    facility_id: int | None = None, unit_code: str | None = "31078",
) -> Person:
    """Creates an account with one role and signs it in."""
    admin = Principal(roles=frozenset({Role.ADMIN}), display="factory")
    phone = next_phone()
    with database.transaction() as session:
        if role == "citizen":
            number = next(_phones)
            account = flows.register_citizen(db_session=session, data=flows.RegisterCitizen(
                national_id=f"0910{90 + number % 9:02d}{number:06d}", full_name="Nguyễn Văn Thử",
                date_of_birth=dt.date(1990 + number % 9, 1, 1), sex="MALE", phone=phone, password=PASSWORD))
        else:
            grant = flows.StaffRole(role, unit_code=unit_code,
                                    responder_unit_id=responder_unit_id if role != "responder" else (responder_unit_id or 1),
                                    facility_id=facility_id if role != "hotel_clerk" else (facility_id or 1))
            account = flows.create_staff_account(db_session=session, actor=admin, full_name="Cán Bộ Thử",
                                                 phone=phone, password=PASSWORD, roles_to_grant=[grant])
        issued = sessions.start_session(db_session=session, settings=settings, account=account, client_address=None,
                                        user_agent="tests", now=utcnow())
        roles, _ = sessions.roles_of(session, account)
    return Person(account_id=account.id or 0, phone=account.phone or phone, token=issued.access_token,
                  refresh_token=issued.refresh_token, roles=tuple(roles))


def make_api_key(database: Database, kind: str = "third_party", scopes: list[str] | None = None) -> str:
    """Creates an API key and returns its secret."""
    with database.transaction() as session:
        _, secret = flows.create_api_key(
            db_session=session, actor=Principal(roles=frozenset({Role.ADMIN}), display="factory"), name=f"{kind} test",
            kind=kind, scopes=scopes or [], expires_at=None, now=utcnow())
    return secret
