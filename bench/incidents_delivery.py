"""For bench_incidents: live delivery of incident events to many `incidentEvents` subscribers.

Runs in the benchmark's own process (httpx for the reports, websockets speaking graphql-transport-ws for
the subscribers): each report is filed over HTTP and timed until every subscriber has received its event.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import orjson

SUBSCRIBE = "subscription { incidentEvents { kind incidentId at } }"


async def measure_delivery(base: str, tokens: dict[str, Any], events: int, subscribers: int,
                           report: str) -> dict[str, Any]:
    """Delivery of `events` reports (the `report` mutation) to `subscribers` dispatchers' subscriptions."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await _delivery(base, http, tokens, events, subscribers, report)


async def _delivery(base: str, http: httpx.AsyncClient, tokens: dict[str, Any], events: int, subscribers: int,
                    report: str) -> dict[str, Any]:
    """Connects `subscribers` websockets, then files reports one by one; latency from sending the report to
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
    for i in range(subscribers):
        tasks.append(asyncio.create_task(subscriber(stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not open a thousand handshakes in the same instant
    while ready < subscribers and time.perf_counter() - connect_started < 120:
        await asyncio.sleep(0.1)
    connect_seconds = time.perf_counter() - connect_started
    await asyncio.sleep(1.0)  # every subscription registered on the server's bus
    latencies: list[float] = []
    received = 0
    for i in range(events):
        body = {"query": report, "variables": {"input": {"category": "FIRE", "description": "Cháy",
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
