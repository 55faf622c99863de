"""Price of the GraphQL layer over a plain endpoint, and rejection times of abusive queries, on real servers."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.api_servers import serve, servers
from bench.loadgen import drive, get, percentile, post

PG_ADMIN_URL = os.environ.get("SMARTCITY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONCURRENCY = 16
TRIVIAL = "{ administrativeUnits(first: 1) { edges { node { code name } } } }"
DEPTH = "{ administrativeUnits(first: 1) { edges { node { " + "parent { " * 50 + "code" + " }" * 50 + " } } } }"
ALIASES = "{ " + " ".join(f"a{i}: rateLimit {{ cost }}" for i in range(1000)) + " }"
TOKENS = "{ " + "rateLimit { cost } " * 25_000 + "}"  # 2 + 4 x 25,000 = 100,002 tokens
# (label, query, substring the error response must carry)
ABUSIVE = [
    ("depth 50 (`parent` nested 50 times)", DEPTH, "exceeds maximum operation depth"),
    ("1,000 aliases", ALIASES, "more than 2000 tokens"),
    ("100,002 tokens", TOKENS, "more than 2000 tokens"),
]


def run(quick: bool) -> str:
    """Measures both databases and returns the Markdown section."""
    sizes = {
        "rounds": 1 if quick else 5,
        "requests": 300 if quick else 2000,
        "warmup": 100 if quick else 300,
        "reject_rounds": 1 if quick else 3,
        "reject_requests": 8 if quick else 20,
    }
    load_before = _loadavg()
    ceiling = _client_ceiling(sizes)
    results: dict[str, dict[str, Any] | str] = {}
    for label in ("SQLite", "PostgreSQL"):
        print(f"  api: {label} ...", file=sys.stderr, flush=True)
        with _database(label) as url:
            if url is None:
                results[label] = f"PostgreSQL not reachable at {PG_ADMIN_URL}: skipped"
                continue
            results[label] = _measure(url, sizes)
    load = f"{load_before} at the start, {_loadavg()} at the end"
    return _report(sizes, load, ceiling, _parse_costs(quick), results)


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def _database(label: str) -> Iterator[str | None]:
    """A migrated throwaway database with the administrative units; removed afterwards, even on failure."""
    from api.cli import upgrade_and_load_reference
    from api.config import load_settings

    def migrate(url: str) -> None:
        upgrade_and_load_reference(load_settings(
            database_url=url, environment="test", log_json=False, default_cost_budget=10**9,
            cost_refill_per_second=10**9.0,
        ))

    if label == "SQLite":
        tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
        try:
            url = f"sqlite:///{tmp / 'bench.db'}"
            migrate(url)
            yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"smartcity_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return
    try:
        url = "postgresql+psycopg://" + admin.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
        migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------- measuring


def _client_ceiling(sizes: dict[str, int]) -> dict[str, float]:
    """Requests per second the load generator reaches against canned replies (its own ceiling)."""
    with servers(["canned"], None) as running:
        port = running["canned"].port
        jobs = [{"name": "canned", "requests": [get(port, "/unit")], "port": port, "n": sizes["requests"],
                 "concurrency": CONCURRENCY, "pid": running["canned"].process.pid}
                for _ in range(sizes["rounds"] + 1)]
        results = drive(jobs)[1:]  # the first is a warm-up
    return {
        "rps": statistics.median(r["rps"] for r in results),
        "client_us": statistics.median(r["client_us"] for r in results),
        "server_us": statistics.median(r["server_ms"] for r in results) * 1000,
    }


def _graphql(query: str, port: int) -> str:
    return post(port, json.dumps({"query": query}).encode())


def _measure(url: str, sizes: dict[str, int]) -> dict[str, Any]:
    """Throughput rounds (GraphQL and plain alternating), then the abusive queries, on one database."""
    with servers(["graphql", "plain"], url) as running:
        gql, plain = running["graphql"], running["plain"]
        requests = {
            "trivial": _graphql(TRIVIAL, gql.port),
            "plain": get(plain.port, "/unit"),
            "healthz": get(gql.port, "/healthz"),
            **{label: _graphql(query, gql.port) for label, query, _ in ABUSIVE},
        }
        # A reply counts as matched when its body holds the expected text (failures are the others).
        gql_job = {"requests": [requests["trivial"]], "port": gql.port, "pid": gql.process.pid,
                   "check": 'contains:"code":'}
        plain_job = {"requests": [requests["plain"]], "port": plain.port, "pid": plain.process.pid,
                     "check": 'contains:"code":'}
        load = {"n": sizes["requests"], "concurrency": CONCURRENCY}
        jobs = [
            {**gql_job, "name": "warm-graphql", "n": sizes["warmup"], "concurrency": CONCURRENCY},
            {**plain_job, "name": "warm-plain", "n": sizes["warmup"], "concurrency": CONCURRENCY},
        ]
        for round_ in range(sizes["rounds"]):
            # Alternate which goes first, so drift on a shared machine hits both alike.
            pair = [{**gql_job, "name": "graphql", **load}, {**plain_job, "name": "plain", **load}]
            jobs += pair if round_ % 2 == 0 else pair[::-1]
        throughput = [r for r in drive(jobs) if not r["name"].startswith("warm")]

        serial = {"port": gql.port, "pid": gql.process.pid, "log": str(gql.log), "concurrency": 1,
                  "n": sizes["reject_requests"]}
        jobs = []
        for _ in range(sizes["reject_rounds"]):
            jobs.append({**serial, "name": "trivial", "requests": [requests["trivial"]],
                         "check": 'contains:"code":'})
            for label, _, expect in ABUSIVE:
                jobs.append({**serial, "name": label, "requests": [requests[label]],
                             "check": f"contains:{expect}"})
                jobs.append({**serial, "name": f"healthz after {label}", "requests": [requests["healthz"]],
                             "n": 1, "check": 'contains:"status":"ok"'})
        rejection = drive(jobs)
        sizes_bytes = {label: len(requests[label].encode("latin-1")) for label in requests}
    bad = [r for r in throughput if r["statuses"] != {"200": r["n"]} or r["failures"]]
    if bad:
        raise RuntimeError(f"{bad[0]['name']}: unexpected responses {bad[0]['statuses']}: {bad[0]['sample']}")
    return {"throughput": throughput, "rejection": rejection, "bytes": sizes_bytes}


# ----------------------------------------------------------------------------------------------- report


def _throughput_rows(label: str, data: dict[str, Any]) -> tuple[list[str], dict[str, float]]:
    rows, summary = [], {}
    per_kind: dict[str, dict[str, float]] = {}
    for kind in ("graphql", "plain"):
        rounds = [r for r in data["throughput"] if r["name"] == kind]
        per_kind[kind] = {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p50": statistics.median(percentile(r["latencies"], 50) for r in rounds),
            "p95": statistics.median(percentile(r["latencies"], 95) for r in rounds),
            "server_ms": statistics.median(r["server_ms"] for r in rounds),
            "client_us": statistics.median(r["client_us"] for r in rounds),
        }
    g, p = per_kind["graphql"], per_kind["plain"]
    names = {"graphql": "GraphQL `administrativeUnits(first: 1)`", "plain": "plain Starlette JSON, same read"}
    for kind, m in per_kind.items():
        ratio = "1.00× / 1.00×" if kind == "plain" else (
            f"{m['rps'] / p['rps']:.2f}× / {m['server_ms'] / p['server_ms']:.1f}×")
        rows.append(
            f"| {label} | {names[kind]} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p95']:.2f} | "
            f"{m['server_ms']:.2f} | {m['client_us']:.0f} | {ratio} |"
        )
    summary.update(graphql_rps=g["rps"], plain_rps=p["rps"], slower=p["rps"] / g["rps"],
                   cpu_ratio=g["server_ms"] / p["server_ms"],
                   graphql_ms=g["server_ms"], plain_ms=p["server_ms"],
                   client_us=max(g["client_us"], p["client_us"]))
    return rows, summary


def _rejection_rows(label: str, data: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    jobs = data["rejection"]
    trivial = [x for r in jobs if r["name"] == "trivial" for x in r["latencies"]]
    base = statistics.median(trivial)
    rows = [f"| {label} | trivial query (baseline) | {data['bytes']['trivial']:,} | {base:.2f} | "
            f"{percentile(trivial, 95):.2f} | 1.0× | data returned "
            f"{sum(_matched(r) for r in jobs if r['name'] == 'trivial')}/{len(trivial)} | "
            f"{_log_per_request(jobs, 'trivial')} | – |"]
    health_ok = True
    for name, _, expect in ABUSIVE:
        mine = [r for r in jobs if r["name"] == name]
        samples = [x for r in mine for x in r["latencies"]]
        matched = sum(_matched(r) for r in mine)
        statuses = sorted({s for r in mine for s in r["statuses"]})
        health = [r for r in jobs if r["name"] == f"healthz after {name}"]
        healthy = sum(_matched(r) for r in health)
        health_ok = health_ok and healthy == len(health)
        p50 = statistics.median(samples)
        rows.append(
            f"| {label} | {name} | {data['bytes'][name]:,} | {p50:.2f} | {percentile(samples, 95):.2f} | "
            f"{p50 / base:.1f}× | \"{expect}\" {matched}/{len(samples)} (HTTP {', '.join(statuses)}) | "
            f"{_log_per_request(jobs, name)} | {healthy}/{len(health)} ok |"
        )
    return rows, {"health_ok": health_ok}


def _matched(result: dict[str, Any]) -> int:
    """Replies whose body held the expected text (the job's check)."""
    return int(result["n"] - result["failures"])


def _log_per_request(jobs: list[dict[str, Any]], name: str) -> str:
    mine = [r for r in jobs if r["name"] == name]
    per = sum(r["log_bytes"] for r in mine) / max(1, sum(r["n"] for r in mine))
    return f"{per / 1024:,.1f} KiB" if per >= 1024 else f"{per:,.0f} B"


def _report(sizes: dict[str, int], load: str, ceiling: dict[str, float], parsing: dict[str, float],
            results: dict[str, dict[str, Any] | str]) -> str:
    through_rows: list[str] = []
    reject_rows: list[str] = []
    notes: list[str] = []
    summaries: dict[str, dict[str, float]] = {}
    for label, data in results.items():
        if isinstance(data, str):
            notes.append(f"- {label}: {data}")
            continue
        rows, summaries[label] = _throughput_rows(label, data)
        through_rows += rows
        rows, _ = _rejection_rows(label, data)
        reject_rows += rows
    fastest = max((s["plain_rps"] for s in summaries.values()), default=0.0)
    price = "; ".join(
        f"{label}: GraphQL serves {s['graphql_rps']:,.0f} req/s against {s['plain_rps']:,.0f} for the plain "
        f"endpoint, {s['slower']:.1f}× fewer, and spends {s['cpu_ratio']:.1f}× the server CPU per request "
        f"({s['graphql_ms']:.2f} against {s['plain_ms']:.2f} ms)"
        for label, s in summaries.items()
    )
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    rounds = f"{sizes['rounds']} round(s) × {sizes['requests']:,} requests"
    return "\n".join([
        "## API foundation (GraphQL layer)",
        "",
        "`nox -s bench -- api` (or `.venv/bin/python -m bench.run api`, `--quick` for a smoke run). Each "
        "database is a throwaway one (SQLite file; PostgreSQL `smartcity_bench_<random>`, dropped afterwards), "
        "migrated with the administrative units by `upgrade_and_load_reference`. Two real uvicorn processes "
        f"serve it on loopback with the options of `smartcity serve` ({loop}, httptools, log level WARNING, "
        "`environment=test`, cost budget out of the way): `create_app(settings)`, and the baseline, a bare "
        "Starlette endpoint doing the same read through `api.db.make_engine` (first `AdministrativeUnit` by "
        "code, returned as `{code, name}`). The load generator is a separate process (raw asyncio + "
        f"{loop}, pre-built HTTP/1.1 requests over {CONCURRENCY} keep-alive connections). The machine has "
        f"{os.cpu_count()} cores: one for the server process, one for the load generator (PostgreSQL's "
        "backend competes with both); it is shared, so wall-clock figures move with the neighbours' load "
        f"(1-minute load average {load}) — server CPU per request is the steadier figure.",
        "",
        f"Throughput, {rounds}, concurrency {CONCURRENCY}, GraphQL and plain rounds alternating; medians "
        "across rounds (latency under that load; server CPU read from `/proc/<pid>/stat`):",
        "",
        "| Database | Endpoint | req/s | p50 (ms) | p95 (ms) | server CPU per request (ms) | client CPU per "
        "request (µs) | GraphQL / plain: req/s / server CPU |",
        "|---|---|---|---|---|---|---|---|",
        *through_rows,
        "",
        f"The price of the GraphQL layer — {price}. The ratio includes everything `create_app` adds on top of "
        "the read: the request middleware (request id, body cap, timeout, metrics), the concurrency gate, "
        "context and authentication, JSON body decoding, parsing, validation with the four protection "
        "extensions (tokens, depth, aliases, static cost with the per-caller budget), execution, the "
        "rate-limit headers and the `extensions.cost` in the response.",
        "",
        _ceiling_line(ceiling, fastest),
        "",
        f"Rejection of abusive queries through the full stack: one connection, one request at a time, "
        f"{sizes['reject_rounds']} round(s) × {sizes['reject_requests']} requests per query, interleaved with "
        "the trivial query as the baseline; every abusive request must get its error, and `/healthz` must "
        "answer 200 right after each batch. \"Log per request\" is what the server wrote to stderr (its "
        "log, level WARNING) per request: an abusive client must not be able to flood the operators' logs.",
        "",
        "| Database | Query | body (bytes) | p50 (ms) | p95 (ms) | vs trivial p50 | expected error | "
        "log per request | /healthz after |",
        "|---|---|---|---|---|---|---|---|---|",
        *reject_rows,
        "",
        "The limits are the defaults (depth 10, 2,000 tokens, 15 aliases); errors come back as HTTP 200 with "
        "`errors`, as GraphQL over HTTP expects. A 1,000-alias query cannot fit in 2,000 tokens (each "
        "`aN: rateLimit { cost }` is 6 tokens), so the parser's token limit stops it, at the ~333rd alias, "
        "before the alias rule is ever consulted. The depth-50 query parses (~170 tokens) and is refused by "
        "the depth rule during validation, before any resolver runs.",
        "",
        _parse_line(parsing, logged=any(
            r["log_bytes"] for d in results.values() if not isinstance(d, str) for r in d["rejection"]
            if r["name"] != "trivial")),
        *([""] + notes if notes else []),
    ])


def _parse_costs(quick: bool) -> dict[str, float]:
    """Milliseconds (in this process, graphql-core as the server uses it) of the steps a rejection takes."""
    from graphql import GraphQLError, Source, parse

    def refused(query: str) -> GraphQLError:
        try:
            parse(query, max_tokens=2000)
        except GraphQLError as exc:
            return exc
        raise AssertionError("the token limit did not stop the query")

    def ms(fn: Any) -> float:
        repeat = 10 if quick else 30
        fn()
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    out = {"trivial": ms(lambda: parse(TRIVIAL, max_tokens=2000))}
    for name, query in (("aliases", ALIASES), ("tokens", TOKENS)):
        error = refused(query)
        position = (error.positions or [0])[0]
        out[f"{name} parse"] = ms(lambda q=query: refused(q))
        out[f"{name} locate"] = ms(lambda q=query, pos=position: Source(q).get_location(pos))
        out[f"{name} format"] = ms(lambda e=error: str(e))
    return out


def _parse_line(t: dict[str, float], logged: bool) -> str:
    log = (
        f"formatting the excerpt of the query that goes into the log takes another {t['aliases format']:.2f} "
        f"and {t['tokens format']:.1f} ms"
        if logged else
        "the rejections wrote nothing to the server's log (only unexpected errors are logged), which spares "
        f"formatting the query excerpt graphql-core prints for an error ({t['aliases format']:.2f} and "
        f"{t['tokens format']:.1f} ms)"
    )
    return (
        "Where a token-limited rejection goes (graphql-core in the benchmark process, same run, median): "
        f"parsing the trivial query takes {t['trivial']:.2f} ms; lexing and parsing up to the 2,000-token "
        f"limit takes {t['aliases parse']:.1f} ms for the aliases and {t['tokens parse']:.1f} ms for the "
        "100,002-token body, which includes turning the error offset into line and column "
        f"({t['aliases locate']:.2f} and {t['tokens locate']:.1f} ms: `Source.get_location` runs its newline "
        f"regex over the whole body, and a one-line body has no newline to stop it early); {log}. Receiving "
        "and JSON-decoding the body are small next to these. A rejection is therefore bounded (by the token "
        "limit and the 1 MiB body cap) but costs as much as several trivial queries."
    )


def _ceiling_line(ceiling: dict[str, float], fastest: float) -> str:
    line = (
        f"Load generator ceiling (the same client against a process that sends canned replies): "
        f"{ceiling['rps']:,.0f} req/s at {ceiling['client_us']:.0f} µs of client CPU per request"
    )
    if not fastest:
        return line + "."
    verdict = (
        "the client is not the bottleneck; each server saturates its one core."
        if ceiling["rps"] > 1.5 * fastest else "close to the servers' figures, so the client may limit them."
    )
    return f"{line}, {ceiling['rps'] / fastest:.1f}× the fastest server figure above: {verdict}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the server processes: `serve <kind> <port>` (the load generator is bench.loadgen)."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_args = sub.add_parser("serve")
    serve_args.add_argument("kind", choices=["graphql", "plain", "canned"])
    serve_args.add_argument("port", type=int)
    args = parser.parse_args(argv)
    serve(args.kind, args.port)


if __name__ == "__main__":
    main()
