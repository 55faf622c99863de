"""Identity operations: registration, sign-in with back-off, token rotation, staff and API keys."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.config import Settings
from api.core.auth import Principal, Role
from api.core.errors import DomainError, FieldError
from api.core.model import utcnow
from api.identity import live, rules, service, tokens
from api.identity.errors import IdentityErrorCode as Code
from api.identity.models import (
    Account,
    ApiKey,
    AuthSession,
    LoginThrottle,
    Organisation,
    OrganisationMember,
    RefreshToken,
    RoleGrant,
)

STAFF_ROLES = {"officer", "police", "dispatcher", "responder", "hotel_clerk", "admin"}
KEY_KINDS = {"station", "third_party"}
# Scopes a key may hold. Personal data is never implied by another scope: it must be granted by name.
KNOWN_SCOPES = {
    "incidents:read", "incidents:report", "cameras:read", "environment:read", "environment:submit",
    "lodging:read", "procedures:read", "personal_data:read",
}
# Back-off: after ACCOUNT_FREE_FAILURES failed sign-ins for a username, each further failure doubles the
# wait (1 s, 2 s, 4 s ... capped at 15 min); a client address gets ADDRESS_FREE_FAILURES per window.
ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 30
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_BLOCK = dt.timedelta(minutes=15)


def _errors(violations: list[rules.RuleViolation] | tuple[rules.RuleViolation, ...]) -> list[FieldError]:
    return [v.to_field_error() for v in violations]


@dataclass
class RegisterCitizen:
    """What a citizen sends to open their account."""

    national_id: str
    full_name: str
    date_of_birth: dt.date
    sex: str
    phone: str
    password: str
    email: str | None = None


def register_citizen(*, db_session: Session, data: RegisterCitizen, today: dt.date | None = None) -> Account:
    """Opens the one account of a citizen; raises DomainError with every problem found."""
    errors: list[FieldError] = []
    national_id = (data.national_id or "").strip()
    errors += _errors(rules.validate_national_id(national_id, date_of_birth=data.date_of_birth, sex=data.sex,
                                                 today=today))
    errors += _errors(rules.validate_date_of_birth(data.date_of_birth, today=today))
    name = rules.normalise_full_name(data.full_name)
    phone = rules.normalise_phone(data.phone)
    email = rules.normalise_email(data.email) if data.email else rules.Checked(None)
    errors += _errors(name.violations) + _errors(phone.violations) + _errors(email.violations)
    errors += _errors(rules.validate_password(data.password, national_id=national_id, phone=phone.value))
    if errors:
        raise DomainError(*_dedupe(errors))
    existing = service.find_account_by_username(db_session=db_session, national_id=national_id, phone=phone.value)
    if existing is not None:
        if existing.national_id == national_id:
            raise DomainError.single(Code.NATIONAL_ID_TAKEN, "An account already exists for this personal id "
                                     "number; sign in or recover your password.", field="national_id",
                                     message_vi="Số định danh này đã có tài khoản; hãy đăng nhập hoặc lấy lại mật khẩu.")
        raise DomainError.single(Code.PHONE_TAKEN, "This phone number belongs to another account.", field="phone",
                                 message_vi="Số điện thoại này đã thuộc về một tài khoản khác.")
    account = Account(
        national_id=national_id, full_name=name.value or data.full_name, date_of_birth=data.date_of_birth,
        sex=str(data.sex), phone=phone.value, email=email.value, password_hash=tokens.hash_password(data.password),
        is_citizen=True,
    )
    db_session.add(account)
    try:
        db_session.flush()
    except IntegrityError:
        # Two registrations raced past the check: the unique index decides, the loser gets the same answer.
        raise DomainError.single(Code.NATIONAL_ID_TAKEN, "An account already exists for this personal id number.",
                                 field="national_id", message_vi="Số định danh này đã có tài khoản.") from None
    return account


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for e in errors:
        if (e.field, e.code) not in seen:
            seen.add((e.field, e.code))
            out.append(e)
    return out


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
    session_row = AuthSession(id=tokens.new_session_id(), account_id=account.id, client_address=client_address,
                              user_agent=(user_agent or "")[:200] or None, created_at=now)
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


def change_password(*, db_session: Session, account_id: int, session_id: str | None, current: str,
                    new: str) -> None:
    """Replaces the password and signs out every other session."""
    account = service.get_account(db_session=db_session, account_id=account_id)
    if account is None:
        raise invalid_credentials()
    if not tokens.verify_password(account.password_hash, current):
        raise DomainError.single(Code.PASSWORD_INCORRECT, "The current password is incorrect.",
                                 field="current_password", message_vi="Mật khẩu hiện tại không đúng.")
    violations = rules.validate_password(new, national_id=account.national_id, phone=account.phone,
                                         field="new_password")
    if violations:
        raise DomainError(*_errors(violations))
    account.password_hash = tokens.hash_password(new)
    account.password_changed_at = utcnow()
    service.revoke_sessions(db_session=db_session, account_id=account_id, reason="password_changed",
                            keep=session_id)


@dataclass
class StaffRole:
    """A role to grant, and where it applies."""

    role: str
    unit_code: str | None = None
    agency: str | None = None
    responder_unit_id: int | None = None
    facility_id: int | None = None


def create_staff_account(
    *, db_session: Session, actor: Principal, full_name: str, phone: str, password: str,
    roles_to_grant: list[StaffRole], national_id: str | None = None, email: str | None = None,
) -> Account:
    """Creates a staff account with its roles (admins only; checked by the caller's permission)."""
    errors: list[FieldError] = []
    name = rules.normalise_full_name(full_name)
    phone_checked = rules.normalise_phone(phone)
    errors += _errors(name.violations) + _errors(phone_checked.violations)
    if national_id:
        errors += _errors(rules.validate_national_id(national_id))
    errors += _errors(rules.validate_password(password, national_id=national_id, phone=phone_checked.value))
    if not roles_to_grant:
        errors.append(FieldError(Code.ROLE_INVALID.value, "Give at least one staff role.", "roles",
                                 "Cần ít nhất một vai trò cán bộ."))
    for i, grant in enumerate(roles_to_grant):
        if grant.role not in STAFF_ROLES:
            errors.append(FieldError(Code.ROLE_INVALID.value, f"Unknown staff role {grant.role!r}.",
                                     f"roles.{i}.role", f"Vai trò {grant.role!r} không tồn tại."))
        if grant.role == "responder" and grant.responder_unit_id is None:
            errors.append(FieldError(Code.REQUIRED.value, "A responder belongs to a unit.",
                                     f"roles.{i}.responder_unit_id", "Cán bộ phản ứng phải thuộc một đơn vị."))
        if grant.role == "hotel_clerk" and grant.facility_id is None:
            errors.append(FieldError(Code.REQUIRED.value, "A hotel clerk works at a facility.",
                                     f"roles.{i}.facility_id", "Lễ tân phải thuộc một cơ sở lưu trú."))
    if errors:
        raise DomainError(*_dedupe(errors))
    if service.find_account_by_username(db_session=db_session, national_id=national_id, phone=phone_checked.value):
        raise DomainError.single(Code.PHONE_TAKEN, "An account with this phone or id number already exists.",
                                 field="phone", message_vi="Đã có tài khoản với số điện thoại hoặc số định danh này.")
    account = Account(national_id=national_id, full_name=name.value or full_name, phone=phone_checked.value,
                      email=email, password_hash=tokens.hash_password(password), is_citizen=False)
    db_session.add(account)
    db_session.flush()
    for grant in roles_to_grant:
        db_session.add(RoleGrant(account_id=account.id, role=grant.role, unit_code=grant.unit_code,
                                 agency=grant.agency, responder_unit_id=grant.responder_unit_id,
                                 facility_id=grant.facility_id, granted_by=actor.account_id))
    db_session.flush()
    return account


def create_api_key(
    *, db_session: Session, actor: Principal, name: str, kind: str, scopes: list[str],
    expires_at: dt.datetime | None, now: dt.datetime,
) -> tuple[ApiKey, str]:
    """Creates a key; returns the row and the secret, which is never shown again."""
    errors: list[FieldError] = []
    if not name.strip():
        errors.append(FieldError(Code.REQUIRED.value, "Name the key after who uses it.", "name",
                                 "Hãy đặt tên khóa theo bên sử dụng."))
    if kind not in KEY_KINDS:
        errors.append(FieldError(Code.INVALID.value, "A key is for a station or a third party.", "kind",
                                 "Khóa dành cho trạm quan trắc hoặc bên thứ ba."))
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        errors.append(FieldError(Code.SCOPE_INVALID.value, f"Unknown scopes: {', '.join(unknown)}.", "scopes",
                                 f"Phạm vi không tồn tại: {', '.join(unknown)}."))
    if expires_at is not None and expires_at <= now:
        errors.append(FieldError(Code.INVALID.value, "The expiry must be in the future.", "expires_at",
                                 "Thời hạn phải ở tương lai."))
    if errors:
        raise DomainError(*errors)
    secret, prefix, secret_hash = tokens.new_api_key()
    key = ApiKey(prefix=prefix, secret_hash=secret_hash, name=name.strip(), kind=kind, scopes=sorted(set(scopes)),
                 created_by=actor.account_id, created_at=now, expires_at=expires_at)
    db_session.add(key)
    db_session.flush()
    return key, secret


def revoke_api_key(*, db_session: Session, api_key_id: int, now: dt.datetime) -> ApiKey:
    """Revokes a key at once."""
    key = service.get_api_key(db_session=db_session, api_key_id=api_key_id)
    if key is None:
        raise DomainError.single(Code.NOT_FOUND, "No such API key.", field="id", message_vi="Không có khóa này.")
    if key.revoked_at is None:
        key.revoked_at = now
        db_session.flush()
    return key


def register_organisation(*, db_session: Session, actor: Principal, tax_code: str, name: str) -> Organisation:
    """Opens the business account of a tax code, with the caller as its owner."""
    checked = rules.validate_tax_code(tax_code)
    if not checked.ok:
        raise DomainError(*_errors(checked.violations))
    if not name.strip():
        raise DomainError.single(Code.REQUIRED, "Give the registered business name.", field="name",
                                 message_vi="Hãy nhập tên doanh nghiệp đã đăng ký.")
    organisation = Organisation(tax_code=checked.value or tax_code, name=name.strip(),
                                created_by=actor.account_id or 0)
    db_session.add(organisation)
    try:
        db_session.flush()
    except IntegrityError:
        raise DomainError.single(Code.TAX_CODE_TAKEN, "This tax code already has a business account.",
                                 field="tax_code", message_vi="Mã số thuế này đã có tài khoản doanh nghiệp.") from None
    db_session.add(OrganisationMember(organisation_id=organisation.id, account_id=actor.account_id, role="owner"))
    db_session.flush()
    return organisation


def principal_for_account(account: Account, roles: list[str], attributes: dict[str, Any],
                          session_id: str | None = None) -> Principal:
    """The principal a signed-in account acts as."""
    attrs: dict[str, Any] = dict(attributes)
    if session_id:
        attrs["session_id"] = session_id
    return Principal(roles=frozenset(Role(r) for r in roles if r in Role._value2member_map_),
                     account_id=account.id, display=f"account:{account.id}", attributes=attrs)


def add_organisation_member(*, db_session: Session, actor: Principal, organisation_id: int, username: str,
                            role: str = "member") -> OrganisationMember:
    """Lets an organisation's owner add a person (by id number or phone) to act for it."""
    owner = db_session.get(OrganisationMember, (organisation_id, actor.account_id or 0))
    if owner is None or owner.role != "owner":
        raise DomainError.single(Code.PERMISSION_DENIED, "Only the organisation's owner can add members.",
                                 field="organisation_id",
                                 message_vi="Chỉ chủ tài khoản doanh nghiệp mới được thêm thành viên.")
    if role not in ("owner", "member"):
        raise DomainError.single(Code.INVALID, "A member is an owner or a member.", field="role",
                                 message_vi="Thành viên là chủ sở hữu hoặc thành viên.")
    account = find_login_account(db_session=db_session, username=username)
    if account is None or not account.is_active:
        raise DomainError.single(Code.NOT_FOUND, "No active account has this id number or phone.",
                                 field="username", message_vi="Không có tài khoản nào với số định danh hoặc số điện thoại này.")
    existing = db_session.get(OrganisationMember, (organisation_id, account.id))
    if existing is not None:
        existing.role = role
        db_session.flush()
        return existing
    member = OrganisationMember(organisation_id=organisation_id, account_id=account.id or 0, role=role)
    db_session.add(member)
    db_session.flush()
    return member
