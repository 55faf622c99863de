"""Sign-in and sessions: finding the account a username names, the back-off after failed sign-ins, opening a
session with rotating refresh tokens, signing out, and the principal a signed-in account acts as."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal, Role
from api.core.errors import DomainError
from api.identity import live, rules, service, tokens
from api.identity.errors import IdentityErrorCode as Code
from api.identity.models import Account, AuthSession, LoginThrottle, RefreshToken

# Back-off: after ACCOUNT_FREE_FAILURES failed sign-ins for a username, each further failure doubles the
# wait (1 s, 2 s, 4 s ... capped at 15 min); a client address gets ADDRESS_FREE_FAILURES per window.
ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 30
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_BLOCK = dt.timedelta(minutes=15)


def username_keys(username: str, client_address: str | None) -> tuple[str, str | None]:
    """Throttle keys for a username (normalised, whether or not an account exists) and an address."""
    raw = (username or "").strip()
    phone = rules.normalise_phone(raw)
    key = "user:" + (phone.value if phone.ok and phone.value else raw.lower())[:100]
    return key, (f"addr:{client_address}" if client_address else None)


def throttle_wait(*, db_session: Session, keys: list[str], now: dt.datetime) -> float:
    """Seconds the caller must wait before another sign-in attempt (0 when free)."""
    wait = 0.0
    for key in keys:
        row = service.get_throttle(db_session=db_session, key=key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, (row.blocked_until - now).total_seconds())
    return wait


def record_failure(*, db_session: Session, key: str, free: int, now: dt.datetime) -> None:
    """Counts a failed sign-in and sets the back-off."""
    row = service.get_throttle(db_session=db_session, key=key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=now)
        db_session.add(row)
    if key.startswith("addr:") and now - row.window_start > THROTTLE_WINDOW:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures > free:
        exponent = min(row.failures - free - 1, 20)
        row.blocked_until = now + min(dt.timedelta(seconds=2 ** exponent), MAX_BLOCK)
    db_session.flush()


def clear_failures(*, db_session: Session, key: str) -> None:
    """Forgets the failures of a username after a successful sign-in."""
    row = service.get_throttle(db_session=db_session, key=key)
    if row is not None:
        db_session.delete(row)
        db_session.flush()


def too_many_attempts(wait: float) -> DomainError:
    """The error for a throttled sign-in; it says the same whether or not the account exists."""
    seconds = max(1, int(wait + 0.999))
    return DomainError.single(Code.TOO_MANY_ATTEMPTS, f"Too many failed attempts; try again in {seconds} s.",
                              field="username", message_vi=f"Sai quá nhiều lần; hãy thử lại sau {seconds} giây.")


def invalid_credentials() -> DomainError:
    """The error for a wrong username or password (never says which)."""
    return DomainError.single(Code.INVALID_CREDENTIALS, "The username or password is incorrect.", field="password",
                              message_vi="Tên đăng nhập hoặc mật khẩu không đúng.")


def find_login_account(*, db_session: Session, username: str) -> Account | None:
    """The account a sign-in names, by personal id number or phone."""
    raw = (username or "").strip()
    phone = rules.normalise_phone(raw)
    national_id = raw if raw.isdigit() and len(raw) == 12 else None
    return service.find_account_by_username(db_session=db_session, national_id=national_id,
                                            phone=phone.value if phone.ok else None)

@dataclass
class IssuedTokens:
    """What a client keeps after signing in or refreshing."""

    access_token: str
    refresh_token: str
    expires_at: dt.datetime
    account: Account


def roles_of(db_session: Session, account: Account) -> tuple[list[str], dict[str, Any]]:
    """The roles an account acts with, and where its staff roles apply."""
    grants = service.active_grants(db_session=db_session, account_id=account.id or 0)
    roles = sorted({g.role for g in grants} | ({"citizen"} if account.is_citizen else set()))
    attributes: dict[str, Any] = {}
    for grant in grants:
        for name in ("unit_code", "agency", "responder_unit_id", "facility_id"):
            value = getattr(grant, name)
            if value is not None:
                attributes.setdefault(name, value)
    return roles, attributes


def start_session(
    *, db_session: Session, settings: Settings, account: Account, client_address: str | None,
    user_agent: str | None, now: dt.datetime,
) -> IssuedTokens:
    """Opens a signed-in session with its first refresh token."""
    # A stored account always has an id; SQLModel types it as optional.
    session_row = AuthSession(id=tokens.new_session_id(), account_id=account.id,  # type: ignore[arg-type]
                              client_address=client_address, user_agent=(user_agent or "")[:200] or None,
                              created_at=now)
    db_session.add(session_row)
    db_session.flush()
    return _issue(db_session, settings, account, session_row, now)


def _issue(db_session: Session, settings: Settings, account: Account, session_row: AuthSession,
           now: dt.datetime) -> IssuedTokens:
    roles, attributes = roles_of(db_session, account)
    access, expires = tokens.issue_access_token(
        settings.secret_key, account_id=account.id or 0, session_id=session_row.id, roles=roles,
        attributes=attributes, ttl_seconds=settings.access_token_ttl_seconds, now=now,
    )
    refresh, refresh_hash = tokens.new_refresh_token()
    db_session.add(RefreshToken(session_id=session_row.id, token_hash=refresh_hash, issued_at=now,
                                expires_at=now + dt.timedelta(days=settings.refresh_token_ttl_days)))
    db_session.flush()
    return IssuedTokens(access_token=access, refresh_token=refresh, expires_at=expires, account=account)


def rotate_refresh_token(*, db_session: Session, settings: Settings, refresh_token: str,
                         now: dt.datetime) -> IssuedTokens:
    """Spends a refresh token for a new pair; a token spent twice revokes its whole family."""
    invalid = DomainError.single(Code.REFRESH_TOKEN_INVALID, "Your session has ended; sign in again.",
                                 field="refresh_token", message_vi="Phiên đăng nhập đã kết thúc; hãy đăng nhập lại.")
    row = service.find_refresh_token(db_session=db_session, token_hash=tokens.sha256(refresh_token or ""))
    if row is None:
        raise invalid
    session_row = service.get_auth_session(db_session=db_session, session_id=row.session_id)
    if session_row is None or session_row.revoked_at is not None or row.expires_at <= now:
        raise invalid
    if row.used_at is not None:
        # Reuse means the token was copied: whoever holds the family now cannot be trusted.
        session_row.revoked_at, session_row.revoked_reason = now, "refresh_token_reused"
        live.revoked(db_session, [session_row.id])
        db_session.flush()
        raise DomainError.single(Code.REFRESH_TOKEN_REUSED, "This sign-in was used twice; every device of this "
                                 "session is signed out. Sign in again.", field="refresh_token",
                                 message_vi="Phiên đăng nhập bị dùng lại; mọi thiết bị của phiên đã bị đăng xuất.")
    account = service.get_account(db_session=db_session, account_id=session_row.account_id)
    if account is None or not account.is_active:
        raise invalid
    row.used_at = now
    return _issue(db_session, settings, account, session_row, now)


def end_session(*, db_session: Session, session_id: str, now: dt.datetime) -> None:
    """Signs out: the session's refresh tokens and access tokens stop working."""
    row = service.get_auth_session(db_session=db_session, session_id=session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at, row.revoked_reason = now, "logout"
        live.revoked(db_session, [row.id])
        db_session.flush()

def principal_for_account(account: Account, roles: list[str], attributes: dict[str, Any],
                          session_id: str | None = None) -> Principal:
    """The principal a signed-in account acts as."""
    attrs: dict[str, Any] = dict(attributes)
    if session_id:
        attrs["session_id"] = session_id
    return Principal(roles=frozenset(Role(r) for r in roles if r in Role._value2member_map_),
                     account_id=account.id, display=f"account:{account.id}", attributes=attrs)
