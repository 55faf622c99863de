"""Operations console under load: 500 open incidents and 50 incident events per second, measured in Chromium.

The real API serves the console on loopback; headless Chromium (Debian's package, driven by Playwright) signs
in and loads 500 open incidents. Then, side by side in the same page, two phases of equal length:
- baseline: the console idle (countdowns ticking, no events);
- load: 50 events/s published on the event bus (what committed incident changes publish), each naming one of
  the 500 incidents with a shuffled priority, so the queue re-sorts and the console re-reads the incidents.
In each phase the page records frame intervals (requestAnimationFrame), long tasks (PerformanceObserver,
>50 ms on the main thread) and, twice a second, the time from a click on a queue row to the next frame.
A full run takes about a minute; quick, ~30 s.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from api.cli import upgrade_and_load_reference
from api.core.auth import Principal, Role
from api.core.model import utcnow
from api.db import Database
from api.incidents import filing, flows, service
from api.incidents.demo import UNITS
from api.incidents.models import ResponderUnit
from tests.conftest import base_settings
from tests.factories import PASSWORD, make_person
from tests.ops.harness import chromium, live_server

OPEN_INCIDENTS = 500
EVENTS_PER_SECOND = 50
CATEGORIES = ["TRAFFIC_ACCIDENT", "THEFT", "PUBLIC_ORDER", "MEDICAL", "TOURIST_COMPLAINT", "INFRASTRUCTURE"]

PROBE = """() => {
  window.__bench = { frames: [], longTasks: [], clicks: [], running: true };
  const b = window.__bench;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) b.longTasks.push(e.duration); })
    .observe({ type: 'longtask' });
  let last = performance.now();
  const frame = (now) => { b.frames.push(now - last); last = now; if (b.running) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  b.timer = setInterval(() => {
    const rows = document.querySelectorAll('.queue-row');
    if (!rows.length) return;
    const row = rows[Math.floor(Math.random() * Math.min(rows.length, 30))];
    const t0 = performance.now();
    row.click();
    requestAnimationFrame(() => b.clicks.push(performance.now() - t0));
  }, 500);
}"""
COLLECT = """() => { const b = window.__bench; b.running = false; clearInterval(b.timer);
  return { frames: b.frames, longTasks: b.longTasks, clicks: b.clicks,
           events: window.opsConsole.store.eventsReceived }; }"""


def _seed(database: Database, settings: Any) -> list[tuple[int, str, str]]:
    """Units and 500 open incidents on a grid ~2 km x 0.8 km apart (so none is attached to another)."""
    principal = Principal(roles=frozenset({Role.DISPATCHER}), display="bench", attributes={"unit_code": "31078"})
    rng = random.Random(8)
    made = []
    with database.transaction() as session:
        service.sync_categories(db_session=session)
        for code, name, kind, lat, lng in UNITS:
            session.add(ResponderUnit(code=code, name=name, type=kind.value, readiness="AVAILABLE", lat=lat, lng=lng,
                                      located_at=utcnow(), unit_code="31078"))
        for i in range(OPEN_INCIDENTS):
            lat, lng = 10.03 + (i // 20) * 0.0145, 103.90 + (i % 20) * 0.0075
            filed = filing.log_hotline_call(db_session=session, settings=settings, principal=principal,
                                           call=filing.NewHotlineCall(category=rng.choice(CATEGORIES),
                                                                     description=f"Cuộc gọi thử {i}", lat=lat, lng=lng))
            incident = filed.incident
            made.append((incident.id or 0, incident.category, incident.state))
    return made


def _publish(state: Any, incidents: list[tuple[int, str, str]], seconds: float, stop: threading.Event) -> int:
    """Publishes EVENTS_PER_SECOND synthetic events for `seconds`; returns how many were sent."""
    rng = random.Random(50)
    sent = 0
    started = time.perf_counter()
    while not stop.is_set() and (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * EVENTS_PER_SECOND)
        while sent < due:
            incident_id, category, inc_state = rng.choice(incidents)
            state.bus.publish_threadsafe(flows.CHANNEL, {
                "event_id": 10_000_000 + sent, "incident_id": incident_id, "kind": "DEADLINE_BREACHED",
                "at": dt.datetime.now(dt.UTC).isoformat(), "from_state": inc_state, "to_state": None, "state": inc_state,
                "category": category, "priority": rng.choice(["P1", "P2", "P3", "P4"]), "unit_code": "31078",
                "channel": "HOTLINE", "lat": None, "lng": None, "unit_id": None, "assignment_state": None,
                "note": "bench", "reporters": [],
            })
            sent += 1
        time.sleep(0.005)
    return sent


def _summary(name: str, rate: int, data: dict[str, Any], seconds: float) -> str:
    frames = sorted(data["frames"][5:]) or [0.0]
    clicks = sorted(data["clicks"]) or [0.0]

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]

    long_tasks = data["longTasks"]
    return (f"| {name} | {rate} | {statistics.median(frames):.1f} | {pct(frames, 0.95):.1f} | {max(frames):.0f} | "
            f"{len(long_tasks)} | {sum(long_tasks) / seconds / 10:.1f} % | {statistics.median(clicks):.1f} | "
            f"{pct(clicks, 0.95):.1f} |")


def run(quick: bool) -> str:
    """Measures the console idle and under 50 events/s with 500 open incidents."""
    seconds = 10.0 if quick else 30.0
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = base_settings(Path(tmp), url)
        upgrade_and_load_reference(settings)
        database = Database.from_settings(settings)
        incidents = _seed(database, settings)
        dispatcher = make_person(database, settings, "dispatcher")
        with live_server(settings, database) as server, chromium() as browser:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(server.base_url + "/ops")
            page.fill("input[name=username]", dispatcher.phone)
            page.fill("input[name=password]", PASSWORD)
            page.click("form.signin button[type=submit]")
            page.wait_for_function("() => window.opsConsole && window.opsConsole.ws.status === 'live'", timeout=30_000)
            page.wait_for_function(f"() => Number(document.querySelector('ops-queue .count')?.textContent) >= {len(incidents)}",
                                   timeout=60_000)
            rows = int(page.inner_text("ops-queue .count"))
            # baseline: idle
            page.evaluate(PROBE)
            time.sleep(seconds)
            idle = page.evaluate(COLLECT)
            # load: 50 events per second
            page.evaluate(PROBE)
            stop = threading.Event()
            sent = _publish(server.state, incidents, seconds, stop)
            time.sleep(0.5)
            loaded = page.evaluate(COLLECT)
            browser.close()
        database.dispose()
    received = loaded["events"] - idle["events"]
    return "\n".join([
        "## Operations console",
        "",
        f"The /ops console in headless Chromium with {rows} open incidents in its queue (and on its map), "
        f"idle and then receiving {EVENTS_PER_SECOND} incident events per second over graphql-transport-ws for "
        f"{seconds:.0f} s each, side by side in the same page. Each event re-prioritises one incident (the queue "
        "re-sorts) and makes the console re-read it (batched `nodes(ids:)`). Frame = interval between animation "
        "frames; long tasks = main-thread tasks over 50 ms (share of wall time); click = a click on a queue row "
        "to the next frame.",
        "",
        "| phase | events/s | frame p50 ms | frame p95 ms | frame max ms | long tasks | main thread blocked | "
        "click p50 ms | click p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
        _summary("idle (baseline)", 0, idle, seconds),
        _summary("live load", EVENTS_PER_SECOND, loaded, seconds),
        "",
        f"Events published: {sent}; received and applied by the page: {received}.",
        "",
    ])


if __name__ == "__main__":
    print(run(quick=True))
