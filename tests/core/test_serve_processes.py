"""`smartcity serve --processes 2`: several API processes behind one port behave as one service.

A subscriber connected to one process hears a report filed through the other (the Redis bus), and a
caller's cost budget is one budget, not one per process (Redis buckets)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import REDIS_URL, _create_pg_database, _drop_pg_database, pg_url, require_service

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBE = "subscription { incidentEvents { kind incidentId } }"
REPORT = ("mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id } "
          "errors { code } } }")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrates the database and signs in a citizen and a dispatcher (in a child, as the CLI would)."""
    code = """
import datetime, json
from api.cli import upgrade_and_load_reference
from api.config import load_settings
from api.core.auth import Principal, Role
from api.core.model import utcnow
from api.db import Database
from api.identity import flows, sessions
settings = load_settings()
upgrade_and_load_reference(settings)
db = Database.from_settings(settings)
admin = Principal(roles=frozenset({Role.ADMIN}), display="test")
with db.transaction() as s:
    c = flows.register_citizen(db_session=s, data=flows.RegisterCitizen(national_id="091090000001",
        full_name="Người Thử", date_of_birth=datetime.date(1990, 1, 1), sex="MALE", phone="0912000001",
        password="test-password-2026"))
    d = flows.create_staff_account(db_session=s, actor=admin, full_name="Điều Phối", phone="0913000001",
        password="test-password-2026", roles_to_grant=[flows.StaffRole("dispatcher", unit_code="31078")])
    out = {"citizen": sessions.start_session(db_session=s, settings=settings, account=c, client_address=None,
                                             user_agent="test", now=utcnow()).access_token,
           "dispatcher": sessions.start_session(db_session=s, settings=settings, account=d,
                                                client_address=None, user_agent="test", now=utcnow()).access_token}
db.dispose()
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def _children(pid: int) -> list[int]:
    """The spawned server processes under `pid` (not multiprocessing's resource tracker)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            out.append(int(entry.name))
    return out


def _sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


@pytest.fixture
def two_process_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], list[int]]]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("Redis", "127.0.0.1", 6379)
    name = _create_pg_database()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
    env.update({"SMARTCITY_DATABASE_URL": pg_url(name), "SMARTCITY_REDIS_URL": REDIS_URL,
                "SMARTCITY_ENVIRONMENT": "test", "SMARTCITY_MEDIA_DIR": str(tmp_path / "media"),
                "SMARTCITY_LOG_LEVEL": "WARNING",
                # a small budget that barely refills, so a second process's own bucket would show
                "SMARTCITY_DEFAULT_COST_BUDGET": "400", "SMARTCITY_COST_REFILL_PER_SECOND": "0.01"})
    server = None
    try:
        tokens = _prepare(env)
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--processes", "2", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200 and len(_children(server.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("the two-process server did not come up")
        yield base, tokens, _children(server.pid)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        _drop_pg_database(name)


async def _subscribe(url: str, token: str, received: list[str], ready: asyncio.Event, stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], ping_interval=None) as ws:
        await ws.send(orjson.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}).decode())
        ready.set()
        while not stop.is_set():
            try:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 0.2))
            except TimeoutError:
                continue
            if message.get("type") == "next":
                received.append(message["payload"]["data"]["incidentEvents"]["incidentId"])


async def test_subscribers_on_either_process_hear_a_report_filed_on_any(
    two_process_server: tuple[str, dict[str, str], list[int]],
) -> None:
    base, tokens, children = two_process_server
    before = {pid: _sockets(pid) for pid in children}
    # given: 16 operators' consoles connected, spread by the kernel over both processes
    inboxes: list[list[str]] = [[] for _ in range(16)]
    readies = [asyncio.Event() for _ in inboxes]
    stop = asyncio.Event()
    url = base.replace("http://", "ws://") + "/graphql"
    tasks = [asyncio.create_task(_subscribe(url, tokens["dispatcher"], inbox, ready, stop))
             for inbox, ready in zip(inboxes, readies, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.sleep(0.5)
    gained = {pid: _sockets(pid) - before[pid] for pid in children}
    # when: a citizen files three reports, each on a fresh connection (so on either process)
    filed = []
    for i in range(3):
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            body = {"query": REPORT, "variables": {"input": {
                "category": "FIRE", "description": "Cháy", "location": {"lat": 10.2, "lng": 103.96 + i * 0.02},
                "occurredAt": dt.datetime.now(dt.UTC).isoformat(), "idempotencyKey": str(uuid.uuid4())}}}
            response = await http.post("/graphql", json=body, headers={"authorization": f"Bearer {tokens['citizen']}"})
            filed.append(response.json()["data"]["reportIncident"]["incident"]["id"])
    deadline = time.monotonic() + 10
    while any(len(inbox) < 3 for inbox in inboxes) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    # then: both processes hold subscribers, and every subscriber heard every report exactly once
    assert all(n > 0 for n in gained.values()), f"the kernel put every subscriber on one process: {gained}"
    assert all(sorted(inbox) == sorted(filed) for inbox in inboxes), inboxes


def test_a_caller_has_one_budget_across_processes(two_process_server: tuple[str, dict[str, str], list[int]]) -> None:
    base, tokens, _ = two_process_server
    query = "{ administrativeUnits(first: 20) { edges { node { code } } } }"  # priced 41 (budget 400)
    # when: 14 requests, each on a new connection (so spread over both processes)
    remaining, refused = [], 0
    for _ in range(14):
        with httpx.Client(base_url=base, timeout=30) as http:
            response = http.post("/graphql", json={"query": query},
                                 headers={"authorization": f"Bearer {tokens['citizen']}"})
        errors = response.json().get("errors") or []
        if errors:
            assert errors[0]["extensions"]["code"] == "RATE_LIMITED"
            refused += 1
        else:
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
    # then: one bucket ran down by the same amount per request (two private buckets would interleave, and
    # the first request on the second process would find a full one), until it refused
    steps = [a - b for a, b in zip(remaining, remaining[1:], strict=False)]
    assert len(set(steps)) == 1 and steps[0] > 0, remaining
    assert refused == 14 - len(remaining) and (refused == 0 or remaining[-1] < 41)


def test_a_process_that_dies_is_replaced(two_process_server: tuple[str, dict[str, str], list[int]]) -> None:
    base, _, children = two_process_server
    parent = int(Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])
    # when: one API process is killed outright
    os.kill(children[0], 9)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _children(parent)
        if len(now) == 2 and children[0] not in now:
            break
        time.sleep(0.2)
    # then: a new one took its place, and the service answers
    assert len(now) == 2 and children[0] not in now, now
    for _ in range(10):
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
