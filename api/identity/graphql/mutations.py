"""Identity mutations: registration, sign-in, tokens, staff accounts, API keys, organisations."""

from __future__ import annotations

import asyncio
import datetime as dt

import strawberry
from strawberry import relay

from api.core.auth import PEOPLE, Role
from api.core.errors import DomainError
from api.core.gql.context import Info
from api.core.gql.mutations import run_in_transaction, user_errors
from api.core.gql.permissions import allow, public
from api.core.model import utcnow
from api.identity import flows, sessions, tokens
from api.identity.errors import IdentityErrorCode as Code
from api.identity.graphql.account_types import (
    Account,
    ApiKey,
    ApiKeyKind,
    IdentityError,
    Organisation,
    Sex,
    StaffRoleName,
)


@strawberry.input
class RegisterCitizenInput:
    national_id: str = strawberry.field(description="12-digit citizen identification number (CCCD).")
    full_name: str
    date_of_birth: dt.date
    sex: Sex
    phone: str = strawberry.field(description="Vietnamese mobile number, 0xxxxxxxxx or +84xxxxxxxxx.")
    password: str = strawberry.field(description="At least 10 characters, not your id number or phone.")
    email: str | None = None


@strawberry.type
class RegisterCitizenPayload:
    account: Account | None = None
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class LoginInput:
    username: str = strawberry.field(description="Your personal id number or your phone number.")
    password: str


@strawberry.type(description="Tokens for a signed-in session: send accessToken as `Authorization: Bearer`.")
class LoginPayload:
    access_token: str | None = None
    refresh_token: str | None = strawberry.field(default=None, description="Use once with refreshToken.")
    expires_at: dt.datetime | None = None
    account: Account | None = None
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type
class OkPayload:
    ok: bool = False
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class StaffRoleInput:
    role: StaffRoleName
    unit_code: str | None = strawberry.field(default=None, description="Administrative unit of the agency.")
    agency: str | None = None
    responder_unit_id: int | None = None
    facility_id: int | None = None


@strawberry.input
class CreateStaffAccountInput:
    full_name: str
    phone: str
    password: str
    roles: list[StaffRoleInput]
    national_id: str | None = None
    email: str | None = None


@strawberry.type
class CreateStaffAccountPayload:
    account: Account | None = None
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class CreateApiKeyInput:
    name: str
    kind: ApiKeyKind
    scopes: list[str] = strawberry.field(description="e.g. incidents:read, environment:submit.")
    expires_at: dt.datetime | None = None


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(default=None, description="The key itself: shown this once only.")
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class RevokeApiKeyInput:
    id: relay.GlobalID


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class RegisterOrganisationInput:
    tax_code: str = strawberry.field(description="Mã số thuế: 10 digits, optionally -NNN for a branch.")
    name: str


@strawberry.type
class RegisterOrganisationPayload:
    organisation: Organisation | None = None
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input
class AddOrganisationMemberInput:
    organisation_id: int
    username: str = strawberry.field(description="The person's id number or phone.")
    role: str = strawberry.field(default="member", description="owner or member")


@strawberry.type
class AddOrganisationMemberPayload:
    ok: bool = False
    errors: list[IdentityError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


def _client(info: Info) -> tuple[str | None, str | None]:
    request = info.context.request
    if request is None:
        return None, None
    address = request.client.host if request.client else None
    return address, request.headers.get("user-agent")


def _errors(info: Info, exc: DomainError) -> list:
    return user_errors(info.context, exc, IdentityError, Code)


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(extensions=public(), description="Opens a citizen's one electronic account.")
    def register_citizen(self, info: Info, input: RegisterCitizenInput) -> RegisterCitizenPayload:
        data = flows.RegisterCitizen(
            national_id=input.national_id, full_name=input.full_name, date_of_birth=input.date_of_birth,
            sex=input.sex.value, phone=input.phone, password=input.password, email=input.email,
        )
        row, errors = run_in_transaction(info.context, lambda s: flows.register_citizen(db_session=s, data=data),
                                         IdentityError, Code)
        return RegisterCitizenPayload(account=Account.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=public(), description="Signs in with a personal id number or phone.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        now = utcnow()
        address, agent = _client(info)
        user_key, address_key = sessions.username_keys(input.username, address)
        keys = [k for k in (user_key, address_key) if k]
        wait = sessions.throttle_wait(db_session=ctx.session, keys=keys, now=now)
        if wait > 0:
            return LoginPayload(errors=_errors(info, sessions.too_many_attempts(wait)))
        account = sessions.find_login_account(db_session=ctx.session, username=input.username)
        ctx.release()
        # argon2 takes tens of milliseconds and releases the GIL: off the event loop. With no account,
        # verify against a dummy hash so the answer takes as long either way.
        password_hash = account.password_hash if account is not None else tokens.dummy_hash()
        matched = await asyncio.to_thread(tokens.verify_password, password_hash, input.password)
        try:
            with ctx.write() as session:
                if not matched or account is None:
                    sessions.record_failure(db_session=session, key=user_key, free=sessions.ACCOUNT_FREE_FAILURES, now=now)
                    if address_key:
                        sessions.record_failure(db_session=session, key=address_key,
                                                free=sessions.ADDRESS_FREE_FAILURES, now=now)
                    failed = True
                else:
                    if not account.is_active:
                        raise DomainError.single(Code.ACCOUNT_DISABLED, "This account is disabled.",
                                                 field="username", message_vi="Tài khoản này đã bị khóa.")
                    sessions.clear_failures(db_session=session, key=user_key)
                    issued = sessions.start_session(db_session=session, settings=ctx.state.settings, account=account,
                                                    client_address=address, user_agent=agent, now=now)
                    failed = False
        except DomainError as exc:
            return LoginPayload(errors=_errors(info, exc))
        if failed:
            return LoginPayload(errors=_errors(info, sessions.invalid_credentials()))
        return LoginPayload(access_token=issued.access_token, refresh_token=issued.refresh_token,
                            expires_at=issued.expires_at, account=Account.from_row(issued.account))

    @strawberry.mutation(extensions=public(), description="Spends a refresh token for a new pair of tokens.")
    def refresh_token(self, info: Info, input: RefreshTokenInput) -> LoginPayload:
        ctx = info.context
        now = utcnow()
        try:
            with ctx.write() as session:
                issued = sessions.rotate_refresh_token(db_session=session, settings=ctx.state.settings,
                                                       refresh_token=input.refresh_token, now=now)
        except DomainError as exc:
            # A reused token revoked its family inside the transaction: keep that, then answer.
            if exc.errors[0].code == Code.REFRESH_TOKEN_REUSED.value:
                with ctx.write() as session:
                    _revoke_reused(session, input.refresh_token, now)
            return LoginPayload(errors=_errors(info, exc))
        return LoginPayload(access_token=issued.access_token, refresh_token=issued.refresh_token,
                            expires_at=issued.expires_at, account=Account.from_row(issued.account))

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Signs this session out everywhere it is used.")
    def logout(self, info: Info) -> OkPayload:
        session_id = info.context.principal.attributes.get("session_id")
        if session_id:
            with info.context.write() as session:
                sessions.end_session(db_session=session, session_id=str(session_id), now=utcnow())
        return OkPayload(ok=True)

    @strawberry.mutation(extensions=allow(*PEOPLE), description="Changes your password; other sessions end.")
    def change_password(self, info: Info, input: ChangePasswordInput) -> OkPayload:
        principal = info.context.principal
        session_id = principal.attributes.get("session_id")
        _, errors = run_in_transaction(info.context, lambda s: flows.change_password(
            db_session=s, account_id=principal.account_id or 0, session_id=str(session_id) if session_id else None,
            current=input.current_password, new=input.new_password), IdentityError, Code)
        return OkPayload(ok=not errors, errors=errors)

    @strawberry.mutation(extensions=allow(Role.ADMIN), description="Creates a staff account with its roles.")
    def create_staff_account(self, info: Info, input: CreateStaffAccountInput) -> CreateStaffAccountPayload:
        grants = [flows.StaffRole(role=r.role.value, unit_code=r.unit_code, agency=r.agency,
                                  responder_unit_id=r.responder_unit_id, facility_id=r.facility_id) for r in input.roles]
        row, errors = run_in_transaction(info.context, lambda s: flows.create_staff_account(
            db_session=s, actor=info.context.principal, full_name=input.full_name, phone=input.phone,
            password=input.password, roles_to_grant=grants, national_id=input.national_id, email=input.email,
        ), IdentityError, Code)
        return CreateStaffAccountPayload(account=Account.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=allow(Role.ADMIN), description="Creates an API key; its secret is shown once.")
    def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        result, errors = run_in_transaction(info.context, lambda s: flows.create_api_key(
            db_session=s, actor=info.context.principal, name=input.name, kind=input.kind.value,
            scopes=list(input.scopes), expires_at=input.expires_at, now=utcnow()), IdentityError, Code)
        if result is None:
            return CreateApiKeyPayload(errors=errors)
        row, secret = result
        return CreateApiKeyPayload(api_key=ApiKey.from_row(row), secret=secret)

    @strawberry.mutation(extensions=allow(Role.ADMIN), description="Revokes an API key immediately.")
    def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        if input.id.type_name != "ApiKey" or not input.id.node_id.isdigit():
            return RevokeApiKeyPayload(errors=_errors(info, DomainError.single(
                Code.INVALID, "This is not an API key id.", field="id", message_vi="Đây không phải mã khóa API.")))
        row, errors = run_in_transaction(info.context, lambda s: flows.revoke_api_key(
            db_session=s, api_key_id=int(input.id.node_id), now=utcnow()), IdentityError, Code)
        return RevokeApiKeyPayload(api_key=ApiKey.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=allow(Role.CITIZEN, Role.ORGANISATION),
                         description="Opens the business account of a tax code, with you as its owner.")
    def register_organisation(self, info: Info, input: RegisterOrganisationInput) -> RegisterOrganisationPayload:
        row, errors = run_in_transaction(info.context, lambda s: flows.register_organisation(
            db_session=s, actor=info.context.principal, tax_code=input.tax_code, name=input.name),
            IdentityError, Code)
        return RegisterOrganisationPayload(organisation=Organisation.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=allow(Role.CITIZEN, Role.ORGANISATION),
                         description="Adds a person to act for your organisation (owners only).")
    def add_organisation_member(self, info: Info, input: AddOrganisationMemberInput) -> AddOrganisationMemberPayload:
        return _add_member(info, input)


def _add_member(info: Info, input: AddOrganisationMemberInput) -> AddOrganisationMemberPayload:
    _, errors = run_in_transaction(info.context, lambda s: flows.add_organisation_member(
        db_session=s, actor=info.context.principal, organisation_id=input.organisation_id,
        username=input.username, role=input.role), IdentityError, Code)
    return AddOrganisationMemberPayload(ok=not errors, errors=errors)


def _revoke_reused(session, refresh_token: str, now: dt.datetime) -> None:  # noqa: ANN001
    from api.identity import service

    row = service.find_refresh_token(db_session=session, token_hash=tokens.sha256(refresh_token))
    if row is not None:
        sessions.end_session(db_session=session, session_id=row.session_id, now=now)
