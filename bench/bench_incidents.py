"""Safe City: reportIncident under 50 concurrent clients, incidents(first: 50), and live delivery to 1,000
incidentEvents subscribers, against a real `smartcity serve` (uvicorn, one process) on loopback, on SQLite
and on PostgreSQL.

The server and this client share the machine's cores, so every figure includes the client's own cost; the
baseline in the same run is /healthz (no GraphQL, no database) at the same concurrency.
Quick: 300 reports, 200 list requests, 1,000 subscribers x 3 events per backend (about a minute per backend on
an idle machine; several minutes when other benchmarks share the cores).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
SUBSCRIBERS = 1000
TARGETS = {"report_rps": 300, "report_p95_ms": 100, "list_rps": 500, "delivery_p99_ms": 250}
REPORT = ("mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id state } "
          "attachedToExisting errors { code } } }")
LIST_FULL = ("{ incidents(first: 50) { edges { node { id state category reporter { fullName } "
             "assignments { state unit { name } } lastEvent { kind at } } } } }")
LIST_LEAN = "{ incidents(first: 50) { edges { node { id state category priority reportedAt } } } }"
SUBSCRIBE = "subscription { incidentEvents { kind incidentId at } }"


def run(quick: bool) -> str:
    """Runs the three measurements on each backend and returns the Markdown section."""
    sizes = {"reports": 300 if quick else 3000, "lists": 200 if quick else 3000, "events": 3 if quick else 10}
    results = {}
    for backend in ("sqlite", "postgres"):
        if backend == "postgres" and not _port_open(5432):
            results[backend] = None
            continue
        results[backend] = _run_backend(backend, sizes)
    return _report(quick, sizes, results)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_backend(backend: str, sizes: dict[str, int]) -> dict[str, Any]:
    from tests.conftest import _create_pg_database, _drop_pg_database, pg_url

    tmp = Path(tempfile.mkdtemp(prefix="bench-incidents-"))
    pg_name = _create_pg_database() if backend == "postgres" else None
    url = pg_url(pg_name) if pg_name else f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "SMARTCITY_DATABASE_URL": url, "SMARTCITY_MEDIA_DIR": str(tmp / "media"),
           "SMARTCITY_DEFAULT_COST_BUDGET": "1000000000", "SMARTCITY_COST_REFILL_PER_SECOND": "1000000000",
           "SMARTCITY_LOG_LEVEL": "WARNING", "SMARTCITY_ENVIRONMENT": "test"}
    server = None
    try:
        tokens = _prepare(env)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, server)
        return asyncio.run(_measure(base, tokens, sizes))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_name:
            _drop_pg_database(pg_name)


def _prepare(env: dict[str, str]) -> dict[str, Any]:
    """Migrates, loads reference and demo data, and signs in 10 citizens and a dispatcher."""
    code = """
import json, sys
from api.cli import upgrade_and_load_reference
from api.config import load_settings
from api.core.auth import Principal, Role
from api.core.model import utcnow
from api.db import Database
from api.identity import flows
from api.incidents import demo
settings = load_settings()
upgrade_and_load_reference(settings)
db = Database.from_settings(settings)
admin = Principal(roles=frozenset({Role.ADMIN}), display="bench")
out = {"citizens": []}
with db.transaction() as s:
    for i in range(10):
        a = flows.register_citizen(db_session=s, data=flows.RegisterCitizen(national_id=f"0910900{i:05d}",
            full_name="Người Đo Thử", date_of_birth=__import__("datetime").date(1990, 1, 1), sex="MALE",
            phone=f"0912{i:06d}", password="bench-password-2026"))
        out["citizens"].append(flows.start_session(db_session=s, settings=settings, account=a, client_address=None,
                                                   user_agent="bench", now=utcnow()).access_token)
    d = flows.create_staff_account(db_session=s, actor=admin, full_name="Điều Phối", phone="0913000001",
                                   password="bench-password-2026", roles_to_grant=[flows.StaffRole("dispatcher",
                                   unit_code="31078")])
    out["dispatcher"] = flows.start_session(db_session=s, settings=settings, account=d, client_address=None,
                                            user_agent="bench", now=utcnow()).access_token
    demo.seed(s, settings)
db.dispose()
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read().decode()[-2000:] if server.stderr else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


async def _closed_loop(total: int, clients: int, call: Any) -> tuple[float, list[float], int]:
    """Runs `total` calls from `clients` concurrent loops; returns (rate/s, latencies in ms, failures)."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(total))

    async def worker(n: int) -> None:
        nonlocal failures
        for i in counter:
            started = time.perf_counter()
            ok = await call(n, i)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return total / (time.perf_counter() - started), latencies, failures


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def _measure(base: str, tokens: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        async def health(n: int, i: int) -> bool:
            return (await http.get("/healthz")).status_code == 200

        async def report(n: int, i: int) -> bool:
            token = tokens["citizens"][n % len(tokens["citizens"])]
            spot = {"lat": 10.0 + (i % 400) * 0.001, "lng": 103.86 + (i // 400) * 0.003}
            body = {"query": REPORT, "variables": {"input": {
                "category": "THEFT", "description": "Bị giật túi", "location": spot, "idempotencyKey": str(uuid.uuid4())}}}
            r = await http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
            return r.status_code == 200 and not r.json()["data"]["reportIncident"]["errors"]

        def lister(query: str) -> Any:
            async def call(n: int, i: int) -> bool:
                r = await http.post("/graphql", json={"query": query},
                                    headers={"authorization": f"Bearer {tokens['dispatcher']}"})
                return r.status_code == 200 and "errors" not in r.json()
            return call

        await _closed_loop(100, CLIENTS, health)  # warm-up
        out["health"] = await _closed_loop(sizes["lists"], CLIENTS, health)
        await _closed_loop(50, CLIENTS, report)
        out["report"] = await _closed_loop(sizes["reports"], CLIENTS, report)
        await _closed_loop(50, CLIENTS, lister(LIST_FULL))
        out["list_full"] = await _closed_loop(sizes["lists"], CLIENTS, lister(LIST_FULL))
        out["list_lean"] = await _closed_loop(sizes["lists"], CLIENTS, lister(LIST_LEAN))
        out["delivery"] = await _delivery(base, http, tokens, sizes["events"])
    return out


async def _delivery(base: str, http: httpx.AsyncClient, tokens: dict[str, Any], events: int) -> dict[str, Any]:
    """Connects SUBSCRIBERS websockets, then files reports one by one; latency from sending the report to
    each subscriber receiving its event (so it includes the mutation's own time)."""
    import websockets

    url = base.replace("http://", "ws://") + "/graphql"
    arrivals: dict[str, list[float]] = {}
    ready = 0
    connect_started = time.perf_counter()

    async def subscriber(stop: asyncio.Event) -> None:
        nonlocal ready
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None,
                                      open_timeout=60, ping_interval=None) as ws:
            await ws.send(orjson.dumps({"type": "connection_init",
                                        "payload": {"authorization": f"Bearer {tokens['dispatcher']}"}}).decode())
            assert orjson.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}).decode())
            ready += 1
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now = time.perf_counter()
                message = orjson.loads(raw)
                if message.get("type") == "next":
                    incident = message["payload"]["data"]["incidentEvents"]["incidentId"]
                    arrivals.setdefault(incident, []).append(now)

    stop = asyncio.Event()
    tasks = []
    for i in range(SUBSCRIBERS):
        tasks.append(asyncio.create_task(subscriber(stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not open a thousand handshakes in the same instant
    while ready < SUBSCRIBERS and time.perf_counter() - connect_started < 120:
        await asyncio.sleep(0.1)
    connect_seconds = time.perf_counter() - connect_started
    await asyncio.sleep(1.0)  # every subscription registered on the server's bus
    latencies: list[float] = []
    received = 0
    for i in range(events):
        body = {"query": REPORT, "variables": {"input": {"category": "FIRE", "description": "Cháy",
                                                        "location": {"lat": 10.4, "lng": 104.0 + i * 0.01},
                                                        "idempotencyKey": str(uuid.uuid4())}}}
        sent = time.perf_counter()
        r = await http.post("/graphql", json=body, headers={"authorization": f"Bearer {tokens['citizens'][0]}"})
        incident = r.json()["data"]["reportIncident"]["incident"]["id"]
        deadline = time.perf_counter() + 10
        while len(arrivals.get(incident, [])) < ready and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        got = arrivals.get(incident, [])
        received += len(got)
        latencies.extend((t - sent) * 1000 for t in got)
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"subscribers": ready, "connect_seconds": connect_seconds, "expected": ready * events,
            "received": received, "latencies": latencies}


def _report(quick: bool, sizes: dict[str, int], results: dict[str, Any]) -> str:
    lines = [
        "## Safe City incidents",
        "",
        f"A real `smartcity serve` (uvicorn, one process) on 127.0.0.1; this client (httpx, websockets) on the same "
        f"2 cores. {CLIENTS} concurrent clients in closed loops; {sizes['reports']} reports and {sizes['lists']} "
        f"list requests per backend; {SUBSCRIBERS} `incidentEvents` websocket subscribers and {sizes['events']} "
        "reports for delivery. Baseline: `/healthz` (no GraphQL, no database) at the same concurrency, same run. "
        "The database holds the demo data (320 incidents with histories) plus what the run files.",
        "",
        "| What | SQLite | PostgreSQL | Target (PostgreSQL) |",
        "|---|---|---|---|",
    ]

    def cell(backend: str, fn: Any) -> str:
        r = results.get(backend)
        return "not run (PostgreSQL unreachable)" if r is None else fn(r)

    def row(label: str, fn: Any, target: str) -> None:
        lines.append(f"| {label} | {cell('sqlite', fn)} | {cell('postgres', fn)} | {target} |")

    row("/healthz baseline, requests/s", lambda r: f"{r['health'][0]:.0f}", "")
    row("reportIncident, reports/s", lambda r: f"{r['report'][0]:.0f}", f"≥ {TARGETS['report_rps']}")
    row("reportIncident p50 / p95 ms", lambda r: f"{_pct(r['report'][1], 50):.0f} / {_pct(r['report'][1], 95):.0f}",
        f"p95 < {TARGETS['report_p95_ms']}")
    row("reportIncident failures", lambda r: str(r["report"][2]), "0")
    row("incidents(first: 50) with reporter, units, last event, req/s",
        lambda r: f"{r['list_full'][0]:.0f} (p95 {_pct(r['list_full'][1], 95):.0f} ms)", f"≥ {TARGETS['list_rps']}")
    row("incidents(first: 50), scalar fields only, req/s",
        lambda r: f"{r['list_lean'][0]:.0f} (p95 {_pct(r['list_lean'][1], 95):.0f} ms)", f"≥ {TARGETS['list_rps']}")
    row("subscribers connected (time to connect all)",
        lambda r: f"{r['delivery']['subscribers']} ({r['delivery']['connect_seconds']:.1f} s)", str(SUBSCRIBERS))
    row("events delivered / expected", lambda r: f"{r['delivery']['received']} / {r['delivery']['expected']}", "all")
    row("delivery p50 / p99 ms (from sending the report)",
        lambda r: f"{_pct(r['delivery']['latencies'], 50):.0f} / {_pct(r['delivery']['latencies'], 99):.0f}",
        f"p99 < {TARGETS['delivery_p99_ms']}")
    lines.append("")
    lines.append(_verdict(results.get("postgres")))
    return "\n".join(lines)


def _verdict(pg: dict[str, Any] | None) -> str:
    if pg is None:
        return "Targets: not judged (PostgreSQL was not reachable)."
    checks = [
        ("reports/s", pg["report"][0] >= TARGETS["report_rps"]),
        ("report p95", _pct(pg["report"][1], 95) < TARGETS["report_p95_ms"]),
        ("list req/s (full page)", pg["list_full"][0] >= TARGETS["list_rps"]),
        ("delivery p99", _pct(pg["delivery"]["latencies"], 99) < TARGETS["delivery_p99_ms"]),
    ]
    met = [n for n, ok in checks if ok]
    missed = [n for n, ok in checks if not ok]
    median_health = statistics.median([pg["health"][0]])
    return (f"Targets on PostgreSQL: met {', '.join(met) or 'none'}; missed {', '.join(missed) or 'none'} "
            f"(the whole machine serves /healthz at {median_health:.0f}/s in this run, which bounds every figure).")
