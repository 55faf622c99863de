"""Safe City: reportIncident under 50 concurrent clients, incidents(first: 50), and live delivery to 1,000
incidentEvents subscribers, against a real `smartcity serve` (uvicorn, one process) on loopback, on SQLite
and on PostgreSQL.

Load for reports and lists comes from a separate process (`python -m bench.bench_incidents client`): raw
asyncio (+ uvloop) over keep-alive HTTP/1.1 connections, every request pre-built before the clock starts
(unique idempotency keys, a pool of citizen tokens), as bench/bench_api.py does; its own ceiling is measured
against canned replies in the same run. The delivery test keeps httpx + websockets in this process.
Quick: 600 reports, 400 list requests per query, 1,000 subscribers x 3 events per backend.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.bench_api import _proc_cpu, _read_response

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
    sizes = {"reports": 600 if quick else 5000, "lists": 400 if quick else 5000, "events": 3 if quick else 10,
             "warmup": 150 if quick else 500}
    results: dict[str, Any] = {"ceiling": _client_ceiling(sizes)}
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
        out = _load(port, server.pid, tokens, sizes)
        out["delivery"] = asyncio.run(_measure_delivery(base, tokens, sizes))
        return out
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


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


# ------------------------------------------------------------------------------------------ load generator


def _post(port: int, body: dict[str, Any], token: str | None) -> str:
    raw = orjson.dumps(body)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {len(raw)}\r\n\r\n") + raw.decode("latin-1")


def _get(port: int, path: str) -> str:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"


def _reports(port: int, tokens: dict[str, Any], n: int, tag: str) -> list[str]:
    """`n` distinct reportIncident requests: unique idempotency keys, spread locations, a pool of citizens."""
    citizens = tokens["citizens"]
    out = []
    for i in range(n):
        spot = {"lat": 10.0 + (i % 400) * 0.001, "lng": 103.86 + (i // 400) * 0.003 + (0.5 if tag == "warm" else 0)}
        body = {"query": REPORT, "variables": {"input": {
            "category": "THEFT", "description": "Bị giật túi", "location": spot,
            "idempotencyKey": f"bench-{tag}-{uuid.uuid4()}"}}}
        out.append(_post(port, body, citizens[i % len(citizens)]))
    return out


def _drive(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs the load generator in its own process and returns one result per job."""
    done = subprocess.run([sys.executable, "-m", "bench.bench_incidents", "client"], input=orjson.dumps(jobs),
                          capture_output=True, cwd=ROOT, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode()[-2000:]}")
    return orjson.loads(done.stdout)  # type: ignore[no-any-return]


def _client_main() -> None:
    """Child process: reads jobs as JSON on stdin, prints the results as JSON."""
    jobs = orjson.loads(sys.stdin.buffer.read())
    for job in jobs:
        job["requests"] = [r.encode("latin-1") for r in job["requests"]]

    async def main() -> list[dict[str, Any]]:
        return [await _job(job) for job in jobs]

    if importlib.util.find_spec("uvloop"):
        import uvloop

        results = uvloop.run(main())
    else:
        results = asyncio.run(main())
    sys.stdout.buffer.write(orjson.dumps(results))


def _ok(check: str, status: int, body: bytes) -> bool:
    """Whether a reply is a success: `report` (no payload errors), `list` (data, no errors), `any` (200)."""
    if status != 200:
        return False
    if check == "any":
        return True
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if doc.get("errors") or not doc.get("data"):
        return False
    if check == "report":
        payload = doc["data"]["reportIncident"]
        return not payload["errors"] and payload["incident"] is not None
    return True


async def _job(job: dict[str, Any]) -> dict[str, Any]:
    """Sends `n` requests (the i-th is requests[i % len]) over `concurrency` keep-alive connections in closed
    loops, timing each."""
    requests: list[bytes] = job["requests"]
    connections = [await asyncio.open_connection("127.0.0.1", job["port"], limit=1 << 22)
                   for _ in range(job["concurrency"])]
    counter = iter(range(job["n"]))
    latencies: list[float] = []
    failures = 0
    sample = ""

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal failures, sample
        for i in counter:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status, body = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            if not _ok(job["check"], status, body):
                failures += 1
                sample = sample or body[:300].decode("utf-8", "replace")

    server_cpu, cpu, started = _proc_cpu(job.get("pid")), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in connections))
    elapsed = time.perf_counter() - started
    cpu, server_cpu = time.process_time() - cpu, _proc_cpu(job.get("pid")) - server_cpu
    for _, writer in connections:
        writer.close()
    return {"name": job["name"], "n": job["n"], "rps": job["n"] / elapsed, "latencies": latencies,
            "failures": failures, "sample": sample, "client_us": cpu / job["n"] * 1e6,
            "server_ms": server_cpu / job["n"] * 1000}


def _client_ceiling(sizes: dict[str, int]) -> dict[str, Any]:
    """The load generator against canned replies (bench_api's canned server): its own ceiling."""
    port = _free_port()
    canned = subprocess.Popen([sys.executable, "-m", "bench.bench_api", "serve", "canned", str(port)], cwd=ROOT,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _port_open(port):
            if time.monotonic() > deadline or canned.poll() is not None:
                raise RuntimeError("canned server did not start")
            time.sleep(0.1)
        fake = {"citizens": ["x" * 180]}
        job = {"port": port, "pid": canned.pid, "concurrency": CLIENTS, "check": "any"}
        results = _drive([{**job, "name": "warm", "n": sizes["warmup"], "requests": [_get(port, "/healthz")]},
                          {**job, "name": "canned", "n": 10 * sizes["reports"],
                           "requests": _reports(port, fake, sizes["reports"], "canned")}])
        return results[1]
    finally:
        canned.terminate()
        canned.wait(timeout=10)


def _load(port: int, pid: int, tokens: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
    """/healthz, reportIncident and the two list queries, from the separate load-generator process."""
    base = {"port": port, "pid": pid, "concurrency": CLIENTS}
    dispatcher = tokens["dispatcher"]
    full = [_post(port, {"query": LIST_FULL}, dispatcher)]
    lean = [_post(port, {"query": LIST_LEAN}, dispatcher)]
    jobs = [
        {**base, "name": "warm", "n": sizes["warmup"], "requests": [_get(port, "/healthz")], "check": "any"},
        {**base, "name": "health", "n": sizes["lists"], "requests": [_get(port, "/healthz")], "check": "any"},
        {**base, "name": "warm", "n": sizes["warmup"], "check": "report",
         "requests": _reports(port, tokens, sizes["warmup"], "warm")},
        {**base, "name": "report", "n": sizes["reports"], "check": "report",
         "requests": _reports(port, tokens, sizes["reports"], "run")},
        {**base, "name": "warm", "n": sizes["warmup"], "requests": full, "check": "list"},
        {**base, "name": "list_full", "n": sizes["lists"], "requests": full, "check": "list"},
        {**base, "name": "list_lean", "n": sizes["lists"], "requests": lean, "check": "list"},
    ]
    out = {r["name"]: r for r in _drive(jobs) if r["name"] != "warm"}
    for r in out.values():
        if r["failures"]:
            print(f"  incidents: {r['name']}: {r['failures']} failures, e.g. {r['sample']}", file=sys.stderr)
    return out


async def _measure_delivery(base: str, tokens: dict[str, Any], sizes: dict[str, int]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await _delivery(base, http, tokens, sizes["events"])


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
    ceiling = results.pop("ceiling")
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    lines = [
        "## Safe City incidents",
        "",
        f"A real `smartcity serve` (uvicorn, one process) on 127.0.0.1. Reports and lists are driven by a separate "
        f"load-generator process (raw asyncio + {loop}, pre-built HTTP/1.1 requests over {CLIENTS} keep-alive "
        f"connections in closed loops; each report has its own idempotency key, 10 citizens' tokens in turn); "
        f"{sizes['reports']} reports and {sizes['lists']} requests per list query per backend, after a warm-up. "
        f"The machine has {os.cpu_count()} cores: the server process, the load generator and the database backend "
        "share them. Delivery: this process (httpx, websockets) holds "
        f"{SUBSCRIBERS} `incidentEvents` subscribers and files {sizes['events']} reports. Baseline: `/healthz` "
        "(no GraphQL, no database) through the same client, same run. Server CPU per request is read from "
        "`/proc/<pid>/stat`. The database holds the demo data (320 incidents with histories) plus what the run files.",
        "",
        "| What | SQLite | PostgreSQL | Target (PostgreSQL) |",
        "|---|---|---|---|",
    ]

    def cell(backend: str, fn: Any) -> str:
        r = results.get(backend)
        return "not run (PostgreSQL unreachable)" if r is None else fn(r)

    def row(label: str, fn: Any, target: str) -> None:
        lines.append(f"| {label} | {cell('sqlite', fn)} | {cell('postgres', fn)} | {target} |")

    def rate(name: str) -> Any:
        return lambda r: f"{r[name]['rps']:.0f} (p95 {_pct(r[name]['latencies'], 95):.0f} ms)"

    row("/healthz baseline, requests/s", rate("health"), "")
    row("reportIncident, reports/s", lambda r: f"{r['report']['rps']:.0f}", f"≥ {TARGETS['report_rps']}")
    row("reportIncident p50 / p95 ms",
        lambda r: f"{_pct(r['report']['latencies'], 50):.0f} / {_pct(r['report']['latencies'], 95):.0f}",
        f"p95 < {TARGETS['report_p95_ms']}")
    row("reportIncident failures", lambda r: str(r["report"]["failures"]), "0")
    row("reportIncident server CPU per request, ms", lambda r: f"{r['report']['server_ms']:.2f}", "")
    row("incidents(first: 50) with reporter, units, last event, req/s", rate("list_full"), f"≥ {TARGETS['list_rps']}")
    row("… server CPU per request, ms", lambda r: f"{r['list_full']['server_ms']:.2f}", "")
    row("incidents(first: 50), scalar fields only, req/s", rate("list_lean"), f"≥ {TARGETS['list_rps']}")
    row("… server CPU per request, ms", lambda r: f"{r['list_lean']['server_ms']:.2f}", "")
    row("list failures (full / scalar)",
        lambda r: f"{r['list_full']['failures']} / {r['list_lean']['failures']}", "0")
    row("subscribers connected (time to connect all)",
        lambda r: f"{r['delivery']['subscribers']} ({r['delivery']['connect_seconds']:.1f} s)", str(SUBSCRIBERS))
    row("events delivered / expected", lambda r: f"{r['delivery']['received']} / {r['delivery']['expected']}", "all")
    row("delivery p50 / p99 ms (from sending the report)",
        lambda r: f"{_pct(r['delivery']['latencies'], 50):.0f} / {_pct(r['delivery']['latencies'], 99):.0f}",
        f"p99 < {TARGETS['delivery_p99_ms']}")
    lines.append("")
    lines.append(
        f"Load generator ceiling (the same client and the same reportIncident requests against a process that "
        f"sends canned replies): {ceiling['rps']:,.0f} req/s at {ceiling['client_us']:.0f} µs of client CPU per "
        "request, far above every server figure: the client is not what limits them.")
    lines.append("")
    lines.append(_busy(results))
    lines.append("")
    lines.append(_verdict(results.get("postgres")))
    return "\n".join(lines)


def _busy(results: dict[str, Any]) -> str:
    """How much of one core the server process spent (CPU per request x rate): near 100 % means that process,
    not the client, bounds the figure."""
    parts = []
    for backend, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        r = results.get(backend)
        if r is None:
            continue
        busy = ", ".join(f"{name} {r[key]['server_ms'] * r[key]['rps'] / 10:.0f} %"
                         for key, name in (("report", "reports"), ("list_full", "full list"),
                                           ("list_lean", "scalar list")))
        parts.append(f"{label}: {busy}")
    return ("Server process busy (its CPU per request × the rate reached, share of one core): "
            + "; ".join(parts) + ". Database reads and writes are synchronous inside the event loop, so the one "
            "process also sits idle during every round trip to the database; what is left of the second core goes "
            "to the load generator and the database backend.")


def _verdict(pg: dict[str, Any] | None) -> str:
    if pg is None:
        return "Targets: not judged (PostgreSQL was not reachable)."
    checks = [
        ("reports/s", pg["report"]["rps"] >= TARGETS["report_rps"]),
        ("report p95", _pct(pg["report"]["latencies"], 95) < TARGETS["report_p95_ms"]),
        ("list req/s (full page)", pg["list_full"]["rps"] >= TARGETS["list_rps"]),
        ("delivery p99", _pct(pg["delivery"]["latencies"], 99) < TARGETS["delivery_p99_ms"]),
    ]
    met = [n for n, ok in checks if ok]
    missed = [n for n, ok in checks if not ok]
    return (f"Targets on PostgreSQL: met {', '.join(met) or 'none'}; missed {', '.join(missed) or 'none'} "
            f"(one server process: /healthz alone reaches {pg['health']['rps']:.0f}/s through the same client).")


if __name__ == "__main__":
    if sys.argv[1:] == ["client"]:
        _client_main()
    else:
        raise SystemExit("usage: python -m bench.bench_incidents client  (run the benchmark with bench.run)")
