"""The platform foundation as a user sees it: health, the public query, cursors, limits, masked errors."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from api.db import Database
from tests.conftest import gql

UNITS = "query($first: Int, $after: String, $filter: AdministrativeUnitFilter) { administrativeUnits(first: $first, after: $after, filter: $filter) { edges { cursor node { id code name level validFrom validTo parent { name } } } pageInfo { hasNextPage endCursor } totalCount } }"


async def test_healthz_answers_200_with_the_database(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.headers["x-request-id"]


async def test_administrative_units_are_seeded_and_paged_by_cursor(client: httpx.AsyncClient) -> None:
    # when
    first = await gql(client, UNITS, {"first": 5})
    after = first["data"]["administrativeUnits"]["pageInfo"]["endCursor"]
    second = await gql(client, UNITS, {"first": 5, "after": after})
    # then
    page1 = [e["node"]["code"] for e in first["data"]["administrativeUnits"]["edges"]]
    page2 = [e["node"]["code"] for e in second["data"]["administrativeUnits"]["edges"]]
    assert len(page1) == 5 and len(page2) == 5
    assert not set(page1) & set(page2)
    assert page1 + page2 == sorted(page1 + page2)
    assert first["data"]["administrativeUnits"]["totalCount"] >= 20
    assert first["data"]["administrativeUnits"]["pageInfo"]["hasNextPage"] is True


async def test_the_special_zone_phu_quoc_is_current_and_the_city_ended_on_the_reform(
    client: httpx.AsyncClient,
) -> None:
    # when
    zones = await gql(client, UNITS, {"first": 10, "filter": {"level": "SPECIAL_ZONE", "validOn": "2025-07-01"}})
    before = await gql(client, UNITS, {"first": 10, "filter": {"nameContains": "Phú Quốc", "validOn": "2025-06-30"}})
    # then
    names = {e["node"]["name"]: e["node"] for e in zones["data"]["administrativeUnits"]["edges"]}
    assert "Đặc khu Phú Quốc" in names and "Đặc khu Thổ Châu" in names
    assert names["Đặc khu Phú Quốc"]["parent"]["name"] == "Tỉnh An Giang"
    old = {e["node"]["name"]: e["node"] for e in before["data"]["administrativeUnits"]["edges"]}
    assert old["Thành phố Phú Quốc"]["validTo"] == "2025-06-30"
    assert "Đặc khu Phú Quốc" not in old


async def test_node_returns_a_unit_by_its_global_id(client: httpx.AsyncClient) -> None:
    # given
    unit = (await gql(client, UNITS, {"first": 1}))["data"]["administrativeUnits"]["edges"][0]["node"]
    # when
    body = await gql(client, "query($id: ID!) { node(id: $id) { id ... on AdministrativeUnit { code } } }",
                     {"id": unit["id"]})
    # then
    assert body["data"]["node"] == {"id": unit["id"], "code": unit["code"]}


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [({"first": 0}, "first", "INVALID"), ({"first": 101}, "first", "INVALID"), ({}, "first", "REQUIRED"),
     ({"first": 5, "after": "not-a-cursor"}, "after", "INVALID")],
)
async def test_page_size_and_cursor_are_checked(
    client: httpx.AsyncClient, variables: dict, field: str, code: str
) -> None:
    # when
    body = await gql(client, UNITS, variables)
    # then
    error = body["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["field"] == field
    assert body["data"] is None


async def test_errors_follow_the_callers_language(client: httpx.AsyncClient) -> None:
    # when
    vi = await gql(client, UNITS, {"first": 0}, headers={"accept-language": "vi-VN,vi;q=0.9"})
    en = await gql(client, UNITS, {"first": 0}, headers={"accept-language": "en-US"})
    # then
    assert "phải từ 1 đến 100" in vi["errors"][0]["message"]
    assert "must be between 1 and 100" in en["errors"][0]["message"]


def _deep(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"parent {{ {inner} }}"
    return "{ administrativeUnits(first: 1) { edges { node { " + inner + " } } } }"


async def test_abusive_queries_are_refused_before_execution_and_the_server_stays_responsive(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    depth50 = _deep(50)
    aliases = "{ " + " ".join(f"a{i}: rateLimit {{ cost }}" for i in range(1000)) + " }"
    tokens = "{ " + "rateLimit { cost } " * 25_000 + " }"
    few_aliases = "{ " + " ".join(f"a{i}: rateLimit {{ cost }}" for i in range(16)) + " }"
    # when (how long a rejection takes is measured in bench/bench_api.py, not here)
    results = [await gql(client, q) for q in (depth50, aliases, tokens, few_aliases)]
    health = await client.get("/healthz")
    # then
    messages = [r["errors"][0]["message"] for r in results]
    assert "exceeds maximum operation depth of 10" in messages[0]
    # 1,000 aliases cannot fit in 2,000 tokens: the parser stops it before the alias rule has to.
    assert "Document contains more than 2000 tokens" in messages[1]
    assert "Document contains more than 2000 tokens" in messages[2]
    assert "16 aliases found. Allowed: 15" in messages[3]
    assert all(r["data"] is None for r in results)
    assert health.status_code == 200


async def test_a_query_over_the_cost_limit_is_refused_with_its_cost(client: httpx.AsyncClient) -> None:
    # given: 100 units x 100 children each = over 10,000 points
    query = "{ administrativeUnits(first: 100) { edges { node { children(first: 100) { edges { node { code } } } } } } }"
    # when
    body = await gql(client, query)
    # then
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["cost"] > 5000
    assert body["data"] is None


async def test_cost_is_reported_in_extensions(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, "{ administrativeUnits(first: 10) { edges { node { code } } } }")
    # then
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 10 * 2  # connection + 10 x (edge + node)
    assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
    assert cost["maximumAvailable"] == 5000


async def test_a_mutation_is_charged_at_least_the_mutation_price(client: httpx.AsyncClient) -> None:
    # when: a mutation that returns little (a refused sign-in: one payload, one error)
    body = await gql(client, 'mutation { login(input: {username: "0900000099", password: "wrong-password"}) '
                             "{ accessToken errors { code } } }")
    # then: the refund stops at the price of a write, not at the two objects returned
    cost = body["extensions"]["cost"]
    assert body["data"]["login"]["errors"]
    assert cost["actualQueryCost"] == 10


async def test_batched_operations_are_refused(client: httpx.AsyncClient) -> None:
    # when
    response = await client.post("/graphql", json=[{"query": "{ rateLimit { cost } }"}] * 2)
    # then
    assert response.status_code == 400
    assert "Batching is not enabled" in response.text


async def test_a_body_over_the_cap_is_refused_with_413(client: httpx.AsyncClient) -> None:
    # when
    response = await client.post("/graphql", content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                                 headers={"content-type": "application/json"})
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_an_unexpected_error_is_masked_with_a_request_id_that_the_log_keeps(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: a bug deep inside a loader
    from api.identity import service

    def broken(**kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "units_query", broken)
    # when
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        body = await gql(client, UNITS, {"first": 1}, headers={"x-request-id": "req-12345", "accept-language": "en"})
    # then
    error = body["errors"][0]
    assert error["message"] == "Unexpected error. Request id: req-12345"
    assert "secret" not in str(body)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-12345"}
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "req-12345")
    assert "secret internal detail" in "".join(__import__("traceback").format_exception(*record.exc_info))


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient) -> None:
    # given
    await client.get("/healthz")
    # when
    response = await client.get("/metrics")
    # then
    assert response.status_code == 200
    assert 'smartcity_http_requests_total{route="/healthz",status="200"}' in response.text


async def test_concurrent_requests_each_get_their_own_session(client: httpx.AsyncClient) -> None:
    # when
    bodies = await asyncio.gather(*(gql(client, UNITS, {"first": 3}) for _ in range(60)))  # more than the pool holds
    # then
    assert all(len(b["data"]["administrativeUnits"]["edges"]) == 3 for b in bodies)


async def test_nodes_returns_each_unit_and_null_for_an_unknown_id(client: httpx.AsyncClient) -> None:
    # given
    edges = (await gql(client, UNITS, {"first": 2}))["data"]["administrativeUnits"]["edges"]
    ids = [e["node"]["id"] for e in edges] + ["Tm90aGluZzox"]  # "Nothing:1"
    # when
    body = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    # then
    assert body["data"]["nodes"] == [{"id": ids[0]}, {"id": ids[1]}, None]


async def test_listing_units_with_their_parents_takes_the_same_statements_for_any_page_size(
    client: httpx.AsyncClient, database: Database
) -> None:
    # given
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    query = "query($n: Int) { administrativeUnits(first: $n) { edges { node { name parent { name } } } } }"
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        # when
        await gql(client, query, {"n": 2})
        small = len(statements)
        statements.clear()
        await gql(client, query, {"n": 20})
        large = len(statements)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    # then: one page query and one batched parent load, whatever the page size
    assert small == large
    assert large == 2
