"""Price of the GraphQL layer over a plain endpoint, and rejection times of abusive queries, on real servers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.util
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
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
SERVER_ENV = {
    "SMARTCITY_ENVIRONMENT": "test",
    "SMARTCITY_LOG_JSON": "false",
    "SMARTCITY_LOG_LEVEL": "WARNING",
    "SMARTCITY_DEFAULT_COST_BUDGET": "1000000000",
    "SMARTCITY_COST_REFILL_PER_SECOND": "1000000000",
}


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


# ------------------------------------------------------------------------------------------------ servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(database_url: str | None) -> dict[str, str]:
    # Only our settings reach the child: a stray SMARTCITY_* in the caller's shell would change the server
    # measured (or make load_settings refuse an unknown one).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
    env.update(SERVER_ENV)
    if database_url:
        env["SMARTCITY_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class _Server:
    """One uvicorn (or canned-reply) process on a free loopback port; its stderr goes to a file."""

    def __init__(self, kind: str, database_url: str | None, workdir: Path) -> None:
        self.kind = kind
        self.port = _free_port()
        self.log = workdir / f"{kind}.stderr"
        with self.log.open("wb") as stderr:
            # cwd is the throwaway directory, so relative defaults (media dir) never touch the checkout.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.bench_api", "serve", kind, str(self.port)],
                env=_child_env(database_url), cwd=workdir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until /healthz answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server not ready after {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Terminates the process (then kills it if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.contextmanager
def _servers(kinds: list[str], database_url: str | None) -> Iterator[dict[str, _Server]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-srv-"))
    servers: dict[str, _Server] = {}
    try:
        for kind in kinds:
            servers[kind] = _Server(kind, database_url, workdir)
        for server in servers.values():
            server.wait_ready()
        yield servers
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _serve(kind: str, port: int) -> None:
    """Child process: serves the platform, the plain endpoint, or canned replies on 127.0.0.1:port."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    if kind == "canned":
        if loop == "uvloop":
            import uvloop

            uvloop.run(_canned(port))
        else:
            asyncio.run(_canned(port))
        return
    import uvicorn

    from api.config import load_settings
    from api.core.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)  # as `smartcity serve` does
    if kind == "graphql":
        from api.app import create_app

        app: Any = create_app(settings)
    else:
        app = _plain_app(settings)
    # The options of `smartcity serve` (api/cli.py), with the event loop made explicit.
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_config=None, loop=loop, ws="websockets-sansio",
        proxy_headers=True, server_header=False, timeout_graceful_shutdown=5,
    )


def _plain_app(settings: Any) -> Any:
    """The baseline: the same read through the same engine settings, as a bare Starlette JSON endpoint."""
    from sqlmodel import Session, select
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from api.db import make_engine
    from api.identity.models import AdministrativeUnit

    engine = make_engine(settings)
    stmt = select(AdministrativeUnit).order_by(AdministrativeUnit.code).limit(1)  # type: ignore[arg-type]

    async def first_unit(request: Any) -> JSONResponse:
        # Synchronous, in the event loop, as strawberry runs the (sync) administrativeUnits resolver.
        with Session(engine) as session:
            unit = session.exec(stmt).first()
        assert unit is not None
        return JSONResponse({"code": unit.code, "name": unit.name})

    async def healthz(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/unit", first_unit), Route("/healthz", healthz)])


async def _canned(port: int) -> None:
    """Answers every request with a fixed 200: near-zero server work, so the client is what is measured."""
    body = b'{"code":"30742","name":"Phuong Rach Gia"}'
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body), body)

    class Canned(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            # Bodiless GETs only: one reply per end of headers.
            self.buffer += data
            count = self.buffer.count(b"\r\n\r\n")
            if count:
                self.buffer = self.buffer.rsplit(b"\r\n\r\n", 1)[1]
                self.transport.write(reply * count)

    server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


# ------------------------------------------------------------------------------------------ load generator


def _get(path: str, port: int) -> str:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"


def _post_graphql(query: str, port: int) -> str:
    body = json.dumps({"query": query})
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def _drive(requests: dict[str, str], jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs the load generator in its own process (the second core) and returns one result per job."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_api", "client"],
        input=json.dumps({"requests": requests, "jobs": jobs}), capture_output=True, text=True,
        env=_child_env(None), cwd=ROOT, timeout=600, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _client_main() -> None:
    """Child process: reads requests and jobs as JSON on stdin, prints the results as JSON."""
    spec = json.load(sys.stdin)
    requests = {name: text.encode("latin-1") for name, text in spec["requests"].items()}

    async def main() -> list[dict[str, Any]]:
        return [await _job(requests[job["request"]], job) for job in spec["jobs"]]

    if importlib.util.find_spec("uvloop"):
        import uvloop

        results = uvloop.run(main())
    else:
        results = asyncio.run(main())
    json.dump(results, sys.stdout)


def _proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    return status, await reader.readexactly(length)


async def _job(request: bytes, job: dict[str, Any]) -> dict[str, Any]:
    """Sends `n` copies of one request over `concurrency` keep-alive connections, timing each."""
    connections = [
        await asyncio.open_connection("127.0.0.1", job["port"], limit=1 << 20) for _ in range(job["concurrency"])
    ]
    remaining = job["n"]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    matched = 0
    sample = ""
    log = Path(job["log"]) if job.get("log") else None
    log_before = log.stat().st_size if log else 0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal remaining, matched, sample
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status, body = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if job.get("expect") and job["expect"].encode() in body:
                matched += 1
            if not sample:
                sample = body[:300].decode("utf-8", "replace")

    server_cpu, cpu, started = _proc_cpu(job.get("pid")), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(reader, writer) for reader, writer in connections))
    elapsed = time.perf_counter() - started
    cpu, server_cpu = time.process_time() - cpu, _proc_cpu(job.get("pid")) - server_cpu
    for _, writer in connections:
        writer.close()
    return {
        "name": job["name"], "n": job["n"], "elapsed": elapsed, "latencies": sorted(latencies),
        "statuses": statuses, "matched": matched, "sample": sample, "client_cpu": cpu, "server_cpu": server_cpu,
        "log_bytes": (log.stat().st_size - log_before) if log else 0,
    }


# --------------------------------------------------------------------------------------------- measuring


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _client_ceiling(sizes: dict[str, int]) -> dict[str, float]:
    """Requests per second the load generator reaches against canned replies (its own ceiling)."""
    with _servers(["canned"], None) as servers:
        port = servers["canned"].port
        jobs = [{"name": "canned", "request": "get", "port": port, "n": sizes["requests"],
                 "concurrency": CONCURRENCY, "pid": servers["canned"].process.pid}
                for _ in range(sizes["rounds"] + 1)]
        results = _drive({"get": _get("/unit", port)}, jobs)[1:]  # the first is a warm-up
    return {
        "rps": statistics.median(r["n"] / r["elapsed"] for r in results),
        "client_us": statistics.median(r["client_cpu"] / r["n"] for r in results) * 1e6,
        "server_us": statistics.median(r["server_cpu"] / r["n"] for r in results) * 1e6,
    }


def _measure(url: str, sizes: dict[str, int]) -> dict[str, Any]:
    """Throughput rounds (GraphQL and plain alternating), then the abusive queries, on one database."""
    with _servers(["graphql", "plain"], url) as servers:
        gql, plain = servers["graphql"], servers["plain"]
        requests = {
            "trivial": _post_graphql(TRIVIAL, gql.port),
            "plain": _get("/unit", plain.port),
            "healthz": _get("/healthz", gql.port),
            **{label: _post_graphql(query, gql.port) for label, query, _ in ABUSIVE},
        }
        gql_job = {"request": "trivial", "port": gql.port, "pid": gql.process.pid, "expect": '"code":'}
        plain_job = {"request": "plain", "port": plain.port, "pid": plain.process.pid, "expect": '"code":'}
        load = {"n": sizes["requests"], "concurrency": CONCURRENCY}
        jobs = [
            {**gql_job, "name": "warm-graphql", "n": sizes["warmup"], "concurrency": CONCURRENCY},
            {**plain_job, "name": "warm-plain", "n": sizes["warmup"], "concurrency": CONCURRENCY},
        ]
        for round_ in range(sizes["rounds"]):
            # Alternate which goes first, so drift on a shared machine hits both alike.
            pair = [{**gql_job, "name": "graphql", **load}, {**plain_job, "name": "plain", **load}]
            jobs += pair if round_ % 2 == 0 else pair[::-1]
        throughput = [r for r in _drive(requests, jobs) if not r["name"].startswith("warm")]

        serial = {"port": gql.port, "pid": gql.process.pid, "log": str(gql.log), "concurrency": 1,
                  "n": sizes["reject_requests"]}
        jobs = []
        for _ in range(sizes["reject_rounds"]):
            jobs.append({**serial, "name": "trivial", "request": "trivial", "expect": '"code":'})
            for label, _, expect in ABUSIVE:
                jobs.append({**serial, "name": label, "request": label, "expect": expect})
                jobs.append({**serial, "name": f"healthz after {label}", "request": "healthz", "n": 1,
                             "expect": '"status":"ok"'})
        rejection = _drive(requests, jobs)
        sizes_bytes = {label: len(requests[label].encode()) for label in requests}
    bad = [r for r in throughput if r["statuses"] != {"200": r["n"]} or r["matched"] != r["n"]]
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
            "rps": statistics.median(r["n"] / r["elapsed"] for r in rounds),
            "p50": statistics.median(_p(r["latencies"], 0.5) for r in rounds) * 1000,
            "p95": statistics.median(_p(r["latencies"], 0.95) for r in rounds) * 1000,
            "server_ms": statistics.median(r["server_cpu"] / r["n"] for r in rounds) * 1000,
            "client_us": statistics.median(r["client_cpu"] / r["n"] for r in rounds) * 1e6,
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
    base = statistics.median(trivial) * 1000
    rows = [f"| {label} | trivial query (baseline) | {data['bytes']['trivial']:,} | {base:.2f} | "
            f"{_p(trivial, 0.95) * 1000:.2f} | 1.0× | data returned "
            f"{sum(r['matched'] for r in jobs if r['name'] == 'trivial')}/{len(trivial)} | "
            f"{_log_per_request(jobs, 'trivial')} | – |"]
    health_ok = True
    for name, _, expect in ABUSIVE:
        mine = [r for r in jobs if r["name"] == name]
        samples = [x for r in mine for x in r["latencies"]]
        matched = sum(r["matched"] for r in mine)
        statuses = sorted({s for r in mine for s in r["statuses"]})
        health = [r for r in jobs if r["name"] == f"healthz after {name}"]
        healthy = sum(r["matched"] for r in health)
        health_ok = health_ok and healthy == len(health)
        p50 = statistics.median(samples) * 1000
        rows.append(
            f"| {label} | {name} | {data['bytes'][name]:,} | {p50:.2f} | {_p(samples, 0.95) * 1000:.2f} | "
            f"{p50 / base:.1f}× | \"{expect}\" {matched}/{len(samples)} (HTTP {', '.join(statuses)}) | "
            f"{_log_per_request(jobs, name)} | {healthy}/{len(health)} ok |"
        )
    return rows, {"health_ok": health_ok}


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
    """Entry point of the child processes: `serve <kind> <port>` or `client`."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("kind", choices=["graphql", "plain", "canned"])
    serve.add_argument("port", type=int)
    sub.add_parser("client")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.kind, args.port)
    else:
        _client_main()


if __name__ == "__main__":
    main()
