"""Events reach subscribers only after commit; with Redis they cross processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from api.core.bus import InProcessBus, RedisBus, queue_event
from api.db import Database
from tests.conftest import REDIS_URL, require_service

ROOT = Path(__file__).resolve().parents[2]


async def _next(stream, timeout: float = 5.0):
    return await asyncio.wait_for(anext(stream), timeout)


async def test_in_process_bus_publishes_after_commit_and_drops_on_rollback(database: Database) -> None:
    # given
    bus = InProcessBus()
    await bus.start()
    stream = bus.subscribe("incidents")
    waiter = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0)
    # when: one transaction rolls back, the next commits
    with database.session() as session:
        session.info["bus"] = bus
        session.execute(text("SELECT 1"))
        queue_event(session, "incidents", {"n": 1})
        session.rollback()
        session.execute(text("SELECT 1"))
        queue_event(session, "incidents", {"n": 2})
        session.commit()
    # then: only the committed event arrives
    assert await waiter == {"n": 2}
    await stream.aclose()


async def test_a_slow_subscriber_loses_its_oldest_events_but_never_blocks_the_publisher() -> None:
    # given
    bus = InProcessBus()
    await bus.start()
    stream = bus.subscribe("c")
    # when: 1,500 events arrive while the subscriber reads nothing
    for i in range(1500):
        await bus.publish("c", {"i": i})
    # then: it keeps the newest 1,000
    received = [(await _next(stream))["i"] for _ in range(1000)]
    assert received == list(range(500, 1500))
    await stream.aclose()


@pytest.fixture
async def redis_bus():
    require_service("Redis", "127.0.0.1", 6379)
    bus = RedisBus(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    await bus.start()
    yield bus
    await bus.close()


PUBLISHER = """
import sys
from api.core.bus import RedisBus
bus = RedisBus(sys.argv[1], prefix=sys.argv[2])
bus.publish_threadsafe("incidents", {"from": "other process", "id": int(sys.argv[3])})
"""


async def test_redis_bus_carries_an_event_from_another_process_to_this_subscriber(redis_bus: RedisBus) -> None:
    # given: a subscriber here
    stream = redis_bus.subscribe("incidents")
    waiter = asyncio.ensure_future(_next(stream, timeout=10))
    await asyncio.sleep(0.05)
    # when: a separate process (another API instance or a worker) publishes
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", PUBLISHER, REDIS_URL, redis_bus.prefix, "42"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    # then
    assert result.returncode == 0, result.stderr
    assert await waiter == {"from": "other process", "id": 42}
    await stream.aclose()


async def test_two_app_instances_share_events_through_redis(redis_bus: RedisBus, database: Database) -> None:
    # given: a second instance with its own connection to Redis, and a subscriber on it
    other = RedisBus(REDIS_URL, prefix=redis_bus.prefix)
    await other.start()
    stream = other.subscribe("incidents")
    waiter = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.05)
    # when: the first instance commits a change that queued an event
    with database.session() as session:
        session.info["bus"] = redis_bus
        queue_event(session, "incidents", {"id": 7, "state": "REPORTED"})
        session.commit()
    # then
    assert await waiter == {"id": 7, "state": "REPORTED"}
    await stream.aclose()
    await other.close()


async def test_a_lost_redis_connection_opens_a_new_epoch_and_nothing_published_in_the_gap_is_trusted(
        redis_bus: RedisBus) -> None:
    # given: the listener subscribed (epoch 1)
    import redis

    first = redis_bus.epoch
    assert first is not None
    # when: Redis drops the listener's connection (a restart, a failover)
    killer = redis.Redis.from_url(REDIS_URL)
    killer.client_kill_filter(_type="pubsub")
    killer.close()
    seen: set[int | None] = set()
    for _ in range(100):
        seen.add(redis_bus.epoch)
        if redis_bus.epoch not in (None, first):
            break
        await asyncio.sleep(0.05)
    # then: a new epoch once it has resubscribed, so caches drop what they stored under the old one
    assert redis_bus.epoch is not None and redis_bus.epoch > first
    assert InProcessBus().epoch == 0
