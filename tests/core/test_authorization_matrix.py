"""Every root field, called as every role, is allowed or refused exactly as its declaration says.

The matrix is generated from the schema: a field added without a declared permission fails the suite, and
so does a field whose resolver lets through a role its declaration refuses (or the reverse)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationType,
)
from graphql.pyutils import Undefined

from api.config import load_settings
from api.core.auth import Role
from api.core.gql.context import Context
from api.core.gql.permissions import declared_permission
from api.db import Database
from api.identity.flows import KNOWN_SCOPES
from api.schema import build_schema
from tests.conftest import gql
from tests.factories import make_api_key, make_person

ROLES = ["anonymous", "citizen", "officer", "police", "dispatcher", "responder", "hotel_clerk", "admin",
         "station", "third_party"]
ROOTS = ("Query", "Mutation", "Subscription")
DENIED = {"FORBIDDEN", "UNAUTHENTICATED"}
# Keys get every scope but personal data, so scope-gated fields are exercised as allowed.
KEY_SCOPES = sorted(KNOWN_SCOPES - {"personal_data:read"})


def _root_fields() -> list[tuple[str, str, Any]]:
    schema = build_schema(load_settings())
    out = []
    for root in ROOTS:
        definition = schema.get_type_by_name(root)
        if definition is None:
            continue
        for field in definition.fields:
            out.append((root, field.graphql_name or schema.config.name_converter.get_graphql_name(field), field))
    return out


# Signing out ends the session the other calls use: run it last.
FIELDS = sorted(_root_fields(), key=lambda f: f[1] == "logout")


def test_every_root_field_declares_who_may_call_it() -> None:
    missing = [f"{root}.{name}" for root, name, field in FIELDS if declared_permission(field) is None]
    assert missing == [], f"declare a permission (allow(...)/public()) on: {missing}"


def _literal(t: Any, depth: int = 0) -> str:
    if isinstance(t, GraphQLNonNull):
        return _literal(t.of_type, depth)
    if isinstance(t, GraphQLList):
        return f"[{_literal(t.of_type, depth)}]"
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        parts = [f"{n}: {_literal(f.type, depth + 1)}" for n, f in t.fields.items()
                 if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined]
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, GraphQLScalarType):
        return {
            "ID": '"' + base64.b64encode(b"Nothing:1").decode() + '"', "String": '"x"', "Int": "1",
            "Float": "1.5", "Boolean": "false", "Date": '"2025-01-01"', "DateTime": '"2025-01-01T00:00:00+00:00"',
            "JSON": "{}", "Decimal": '"1"', "UUID": '"00000000-0000-0000-0000-000000000001"',
        }.get(t.name, '"x"')
    raise AssertionError(f"cannot build a literal for {t}")


def _operation(root: str, name: str) -> str:
    schema = build_schema(load_settings())._schema
    root_type = schema.get_root_type(OperationType[root.upper()])
    assert root_type is not None
    field = root_type.fields[name]
    args = [f"{n}: {_literal(a.type)}" for n, a in field.args.items()
            if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined]
    if "first" in field.args and not any(a.startswith("first") for a in args):
        args.append("first: 1")
    arg_text = f"({', '.join(args)})" if args else ""
    inner = field.type
    while isinstance(inner, (GraphQLNonNull, GraphQLList)):
        inner = inner.of_type
    selection = "" if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)) else " { __typename }"
    return f"{root.lower()} {{ {name}{arg_text}{selection} }}"


@pytest.fixture
async def credentials(database: Database, settings) -> dict[str, str | None]:
    """A credential for every role."""
    creds: dict[str, str | None] = {"anonymous": None}
    for role in ROLES[1:8]:
        creds[role] = make_person(database, settings, role).token
    creds["station"] = make_api_key(database, "station", KEY_SCOPES)
    creds["third_party"] = make_api_key(database, "third_party", KEY_SCOPES)
    return creds


def _principal_roles(role: str) -> Any:
    from api.core.auth import Principal

    if role == "anonymous":
        return Principal()
    if role in ("station", "third_party"):
        return Principal(roles=frozenset({Role(role)}), api_key_id=1, scopes=frozenset(KEY_SCOPES))
    return Principal(roles=frozenset({Role(role)}), account_id=1)


def _denied(body: dict[str, Any], name: str) -> bool:
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in DENIED and (error.get("path") in (None, [name]) or error.get("path", [None])[0] == name):
            return True
    return False


def _assert_executed(body: dict[str, Any], operation: str) -> None:
    # A call the generator built wrongly fails validation before any permission check: it must not pass as
    # "allowed", so it fails the test instead.
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not error.get("path") and code not in DENIED:
            raise AssertionError(f"the generated call is not valid: {operation}: {error['message']}")
        if code == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"{operation} crashed: {error['message']}")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_root_field_is_allowed_or_refused_for_every_role_as_declared(
    client: httpx.AsyncClient, credentials: dict[str, str | None], state: Any
) -> None:
    mismatches = []
    for root, name, field in FIELDS:
        declaration = declared_permission(field)
        assert declaration is not None
        operation = _operation(root, name)
        for role in ROLES:
            expected = declaration.permits(_principal_roles(role))
            if root == "Subscription":
                denied = await _subscription_denied(state, credentials[role], operation, name)
            else:
                body = await gql(client, operation, token=credentials[role])
                if body["_status"] == 401:
                    denied = True
                else:
                    _assert_executed(body, operation)
                    denied = _denied(body, name)
            if denied == expected:
                mismatches.append(f"{root}.{name} as {role}: declared {'allowed' if expected else 'refused'}, "
                                  f"was {'refused' if denied else 'allowed'}")
    assert mismatches == []


async def _subscription_denied(state: Any, credential: str | None, operation: str, name: str) -> bool:
    schema = build_schema(state.settings)
    with state.db.session() as session:
        principal = state.authenticate(f"Bearer {credential}" if credential else None, session)
    context = Context(state=state, request=None, principal=principal, request_id="matrix")
    result = await schema.subscribe(operation, context_value=context)
    if not hasattr(result, "__anext__"):
        return _denied({"errors": [e.formatted for e in result.errors or []]}, name)
    try:
        first = await asyncio.wait_for(result.__anext__(), 0.3)
    except (TimeoutError, StopAsyncIteration):
        return False  # waiting for events: it was allowed
    finally:
        await result.aclose()
    return _denied({"errors": [e.formatted for e in first.errors or []]}, name)
