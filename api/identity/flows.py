"""Identity account operations: citizen registration, password change, staff accounts, API keys and business
accounts with their members (sign-in and sessions: sessions.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.core.auth import Principal
from api.core.errors import DomainError, FieldError
from api.core.model import utcnow
from api.identity import rules, service, sessions, tokens
from api.identity.errors import IdentityErrorCode as Code
from api.identity.models import Account, ApiKey, Organisation, OrganisationMember, RoleGrant
from api.identity.national_id import validate_date_of_birth, validate_national_id

STAFF_ROLES = {"officer", "police", "dispatcher", "responder", "hotel_clerk", "admin"}
KEY_KINDS = {"station", "third_party"}
# Scopes a key may hold. Personal data is never implied by another scope: it must be granted by name.
KNOWN_SCOPES = {
    "incidents:read", "incidents:report", "cameras:read", "environment:read", "environment:submit",
    "lodging:read", "procedures:read", "personal_data:read",
}


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
    errors += _errors(validate_national_id(national_id, date_of_birth=data.date_of_birth, sex=data.sex,
                                           today=today))
    errors += _errors(validate_date_of_birth(data.date_of_birth, today=today))
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


def change_password(*, db_session: Session, account_id: int, session_id: str | None, current: str,
                    new: str) -> None:
    """Replaces the password and signs out every other session."""
    account = service.get_account(db_session=db_session, account_id=account_id)
    if account is None:
        raise sessions.invalid_credentials()
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
        errors += _errors(validate_national_id(national_id))
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
    account = sessions.find_login_account(db_session=db_session, username=username)
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
