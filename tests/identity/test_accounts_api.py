"""Identity through the API: registration, sign-in, tokens, back-off, API keys, audit."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from api.config import Settings
from api.db import Database
from api.identity.models import Account
from tests.conftest import REDIS_URL, gql, require_service
from tests.factories import PASSWORD, make_api_key, make_person

REGISTER = """mutation($input: RegisterCitizenInput!) { registerCitizen(input: $input) {
  account { id fullName nationalId phone roles } errors { field code message } } }"""
LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  accessToken refreshToken expiresAt account { fullName } errors { field code message } } }"""
REFRESH = """mutation($t: String!) { refreshToken(input: {refreshToken: $t}) {
  accessToken refreshToken errors { field code message } } }"""
ME = "{ me { fullName nationalId phone dateOfBirth roles } }"

VALID = {
    "nationalId": "091090123456", "fullName": "  nguyễn   văn  an ", "dateOfBirth": "1990-05-17", "sex": "MALE",
    "phone": "0912 345 678", "password": "Phú Quốc có biển xanh", "email": "an@example.vn",
}


def _accounts(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Account)) or 0


async def test_a_citizen_registers_signs_in_and_sees_their_own_account(client: httpx.AsyncClient) -> None:
    # when
    registered = await gql(client, REGISTER, {"input": VALID})
    login = await gql(client, LOGIN, {"u": "091090123456", "p": VALID["password"]})
    by_phone = await gql(client, LOGIN, {"u": "+84912345678", "p": VALID["password"]})
    me = await gql(client, ME, token=login["data"]["login"]["accessToken"])
    # then
    account = registered["data"]["registerCitizen"]
    assert account["errors"] == []
    assert account["account"]["fullName"] == "Nguyễn Văn An"
    assert login["data"]["login"]["errors"] == [] and by_phone["data"]["login"]["errors"] == []
    assert me["data"]["me"] == {"fullName": "Nguyễn Văn An", "nationalId": "091090123456", "phone": "+84912345678",
                                "dateOfBirth": "1990-05-17", "roles": ["citizen"]}


@pytest.mark.parametrize(
    ("national_id", "code"),
    [
        ("09109012345", "NATIONAL_ID_LENGTH"),
        ("09109012345A", "NATIONAL_ID_NOT_DIGITS"),
        ("099090123456", "NATIONAL_ID_UNKNOWN_PROVINCE"),
        ("091290123456", "NATIONAL_ID_CENTURY_MISMATCH"),  # G=2 means born in the 2000s, not 1990
        ("091190123456", "NATIONAL_ID_SEX_MISMATCH"),  # G=1 means female
    ],
)
async def test_invalid_id_numbers_are_refused_with_their_own_code_and_nothing_stored(
    client: httpx.AsyncClient, database: Database, national_id: str, code: str
) -> None:
    # given
    before = _accounts(database)
    # when
    body = await gql(client, REGISTER, {"input": {**VALID, "nationalId": national_id}})
    # then
    errors = body["data"]["registerCitizen"]["errors"]
    assert {"field": "nationalId", "code": code} in [{"field": e["field"], "code": e["code"]} for e in errors]
    assert body["data"]["registerCitizen"]["account"] is None
    assert _accounts(database) == before


async def test_errors_are_in_vietnamese_by_default_and_english_on_request(client: httpx.AsyncClient) -> None:
    # when
    vi = await gql(client, REGISTER, {"input": {**VALID, "nationalId": "12"}})
    en = await gql(client, REGISTER, {"input": {**VALID, "nationalId": "12"}}, headers={"accept-language": "en"})
    # then
    assert vi["data"]["registerCitizen"]["errors"][0]["message"].startswith("Số định danh cá nhân gồm đúng 12 chữ số")
    assert en["data"]["registerCitizen"]["errors"][0]["message"].startswith("The citizen ID number has exactly 12")


async def test_one_account_per_id_number(client: httpx.AsyncClient, database: Database) -> None:
    # given
    await gql(client, REGISTER, {"input": VALID})
    # when
    again = await gql(client, REGISTER, {"input": {**VALID, "phone": "0987654321"}})
    # then
    assert again["data"]["registerCitizen"]["errors"][0]["code"] == "NATIONAL_ID_TAKEN"
    assert _accounts(database) == 1


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client: httpx.AsyncClient) -> None:
    # given
    await gql(client, REGISTER, {"input": VALID})
    # when
    wrong = await gql(client, LOGIN, {"u": "091090123456", "p": "not the password"})
    unknown = await gql(client, LOGIN, {"u": "079090999999", "p": "not the password"})
    # then
    assert wrong["data"]["login"]["errors"] == unknown["data"]["login"]["errors"]
    assert wrong["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_repeated_failures_back_off_even_with_the_right_password(client: httpx.AsyncClient) -> None:
    # given
    await gql(client, REGISTER, {"input": VALID})
    for _ in range(6):
        await gql(client, LOGIN, {"u": "091090123456", "p": "guess"})
    # when
    right = await gql(client, LOGIN, {"u": "091090123456", "p": VALID["password"]})
    unknown = [await gql(client, LOGIN, {"u": "079090999999", "p": "guess"}) for _ in range(7)][-1]
    # then
    assert right["data"]["login"]["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert right["data"]["login"]["accessToken"] is None
    # an attacker learns nothing: a username with no account is throttled the same way
    assert unknown["data"]["login"]["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    person = make_person(database, settings)
    first = await gql(client, REFRESH, {"t": person.refresh_token})
    new_pair = first["data"]["refreshToken"]
    # when: the spent token is presented again (stolen copy)
    reuse = await gql(client, REFRESH, {"t": person.refresh_token})
    after = await gql(client, REFRESH, {"t": new_pair["refreshToken"]})
    me = await gql(client, ME, token=new_pair["accessToken"])
    # then
    assert new_pair["errors"] == [] and new_pair["refreshToken"] != person.refresh_token
    assert reuse["data"]["refreshToken"]["errors"][0]["code"] == "REFRESH_TOKEN_REUSED"
    assert after["data"]["refreshToken"]["errors"][0]["code"] == "REFRESH_TOKEN_INVALID"
    assert me["_status"] == 401 and me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_stops_the_access_token_at_once(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    person = make_person(database, settings)
    # when
    out = await gql(client, "mutation { logout { ok } }", token=person.token)
    me = await gql(client, ME, token=person.token)
    # then
    assert out["data"]["logout"]["ok"] is True
    assert me["_status"] == 401


async def test_expired_and_tampered_tokens_are_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    person = make_person(database, settings)
    claims = jwt.decode(person.token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp())},
                         settings.secret_key, algorithm="HS256")
    forged = jwt.encode({**claims, "roles": ["admin"]}, "another secret of at least thirty-two chars", algorithm="HS256")
    tampered = person.token[:-4] + ("AAAA" if not person.token.endswith("AAAA") else "BBBB")
    # when
    results = [await gql(client, ME, token=t) for t in (expired, forged, tampered)]
    # then
    assert [r["_status"] for r in results] == [401, 401, 401]
    assert "expired" in results[0]["errors"][0]["message"]
    assert all(r["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" for r in results)


async def test_change_password_signs_out_other_sessions(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given: two sessions of the same person
    person = make_person(database, settings)
    other = await gql(client, LOGIN, {"u": person.phone, "p": PASSWORD})
    # when
    changed = await gql(client, """mutation($p: String!) { changePassword(input: {currentPassword: $p,
        newPassword: "a much longer new passphrase"}) { ok errors { code } } }""", {"p": PASSWORD}, token=person.token)
    # then
    assert changed["data"]["changePassword"] == {"ok": True, "errors": []}
    assert (await gql(client, ME, token=person.token))["_status"] == 200
    assert (await gql(client, ME, token=other["data"]["login"]["accessToken"]))["_status"] == 401


CREATE_KEY = """mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  apiKey { id prefix scopes } secret errors { field code } } }"""


async def test_an_api_key_is_shown_once_works_and_is_refused_immediately_after_revocation(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    admin = make_person(database, settings, "admin")
    created = (await gql(client, CREATE_KEY, {"input": {"name": "Open data portal", "kind": "THIRD_PARTY",
                                                        "scopes": ["incidents:read"]}}, token=admin.token))
    key = created["data"]["createApiKey"]
    listed = await gql(client, "{ apiKeys(first: 5) { edges { node { prefix name } } } }", token=admin.token)
    # when
    before = await gql(client, "{ rateLimit { remaining } }", token=key["secret"])
    revoked = await gql(client, "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }",
                        {"id": key["apiKey"]["id"]}, token=admin.token)
    after = await gql(client, "{ rateLimit { remaining } }", token=key["secret"])
    # then
    assert key["errors"] == [] and key["secret"].startswith("sk_" + key["apiKey"]["prefix"])
    assert "secret" not in str(listed)
    assert before["_status"] == 200
    assert revoked["data"]["revokeApiKey"]["apiKey"]["revokedAt"]
    assert after["_status"] == 401


async def test_unknown_scopes_are_refused(client: httpx.AsyncClient, database: Database, settings: Settings) -> None:
    admin = make_person(database, settings, "admin")
    body = await gql(client, CREATE_KEY, {"input": {"name": "x", "kind": "STATION", "scopes": ["everything"]}},
                     token=admin.token)
    assert body["data"]["createApiKey"]["errors"] == [{"field": "scopes", "code": "SCOPE_INVALID"}]


ACCOUNTS = "{ accounts(first: 10, filter: {role: \"citizen\"}) { edges { node { fullName nationalId phone } } } }"


async def test_staff_reads_of_personal_data_are_audited_and_own_reads_are_not(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    citizen = make_person(database, settings)
    admin = make_person(database, settings, "admin")
    await gql(client, ME, token=citizen.token)
    # when
    listed = await gql(client, ACCOUNTS, token=admin.token, headers={"x-access-purpose": "support ticket 42"})
    log = await gql(client, "{ auditLog(first: 10) { edges { node { actor subjectType subjectId fields purpose } } } }",
                    token=admin.token)
    # then
    assert listed["data"]["accounts"]["edges"][0]["node"]["nationalId"]
    records = [e["node"] for e in log["data"]["auditLog"]["edges"]]
    assert records == [{"actor": f"account:{admin.account_id}", "subjectType": "Account",
                        "subjectId": str(citizen.account_id), "fields": ["nationalId", "phone"],
                        "purpose": "support ticket 42"}]


async def test_a_key_without_the_grant_never_reads_personal_data(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    citizen = make_person(database, settings)
    key = make_api_key(database)
    body = await gql(client, "query($id: ID!) { node(id: $id) { ... on Account { nationalId } } }",
                     {"id": _gid("Account", citizen.account_id)}, token=key)
    assert body["data"]["node"] is None  # node(id:) applies the same check as the typed fields


async def test_staff_accounts_are_created_by_admins_with_their_roles(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    admin = make_person(database, settings, "admin")
    body = await gql(client, """mutation { createStaffAccount(input: {fullName: "Lê Điều Phối", phone: "0933333333",
        password: "dispatcher passphrase", roles: [{role: DISPATCHER, unitCode: "31078"}, {role: RESPONDER}]}) {
        account { roles } errors { field code } } }""", token=admin.token)
    assert body["data"]["createStaffAccount"] == {"account": None,
                                                  "errors": [{"field": "roles.1.responderUnitId", "code": "REQUIRED"}]}
    ok = await gql(client, """mutation { createStaffAccount(input: {fullName: "Lê Điều Phối", phone: "0933333333",
        password: "dispatcher passphrase", roles: [{role: DISPATCHER, unitCode: "31078"}]}) {
        account { roles } errors { field code } } }""", token=admin.token)
    assert ok["data"]["createStaffAccount"] == {"account": {"roles": ["dispatcher"]}, "errors": []}
    login = await gql(client, LOGIN, {"u": "0933333333", "p": "dispatcher passphrase"})
    assert login["data"]["login"]["accessToken"]


def _gid(type_name: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


ORGANISATION = """mutation($tax: String!) { registerOrganisation(input: {taxCode: $tax, name: "Khách sạn Biển Xanh"}) {
  organisation { id taxCode } errors { field code } } }"""
ADD_MEMBER = """mutation($org: Int!, $u: String!) { addOrganisationMember(input: {organisationId: $org, username: $u}) {
  ok errors { field code } } }"""


async def test_one_business_account_per_tax_code_and_its_owner_adds_members(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # given
    owner, clerk, stranger = (make_person(database, settings) for _ in range(3))
    # when
    created = await gql(client, ORGANISATION, {"tax": "0100109106"}, token=owner.token)
    again = await gql(client, ORGANISATION, {"tax": "0100109106"}, token=stranger.token)
    bad = await gql(client, ORGANISATION, {"tax": "0100109107"}, token=stranger.token)
    org = created["data"]["registerOrganisation"]["organisation"]["id"]
    added = await gql(client, ADD_MEMBER, {"org": org, "u": clerk.phone}, token=owner.token)
    refused = await gql(client, ADD_MEMBER, {"org": org, "u": stranger.phone}, token=clerk.token)
    # then
    assert created["data"]["registerOrganisation"]["errors"] == []
    assert again["data"]["registerOrganisation"]["errors"] == [{"field": "taxCode", "code": "TAX_CODE_TAKEN"}]
    assert bad["data"]["registerOrganisation"]["errors"][0]["field"] == "taxCode"
    assert added["data"]["addOrganisationMember"] == {"ok": True, "errors": []}
    assert refused["data"]["addOrganisationMember"]["errors"] == [{"field": "organisationId", "code": "PERMISSION_DENIED"}]


@pytest.mark.parametrize("buckets", ["in-process", "redis"])
async def test_a_caller_over_budget_gets_a_typed_error_and_headers_say_when_to_come_back(
    client: httpx.AsyncClient, database: Database, settings: Settings, state, buckets: str
) -> None:
    # given: a key with a small budget that refills slowly (in Redis: as every API process would share it)
    from api.core.budget import CostBudget, RedisCostBudget

    if buckets == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        state.budget = RedisCostBudget(REDIS_URL, limit=60, refill_per_second=0.5, prefix=f"test:{uuid.uuid4()}:")
    else:
        state.budget = CostBudget(limit=60, refill_per_second=0.5)
    key = make_api_key(database, "third_party", ["incidents:read"])
    query = "{ administrativeUnits(first: 20) { edges { node { code } } } }"  # priced 41
    # when
    first = await client.post("/graphql", json={"query": query}, headers={"authorization": f"Bearer {key}"})
    second = await gql(client, query, token=key)
    budget = await gql(client, "{ rateLimit { cost limit remaining resetAt } }", token=key)
    # then
    assert first.json()["data"]["administrativeUnits"]["edges"]
    assert first.headers["x-ratelimit-limit"] == "60" and int(first.headers["x-ratelimit-remaining"]) <= 19
    error = second["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["cost"] == 41
    assert second["data"] is None
    assert budget["data"]["rateLimit"]["limit"] == 60 and budget["data"]["rateLimit"]["remaining"] < 41
