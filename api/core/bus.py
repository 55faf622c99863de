"""Domain events after commit: an in-process broadcast, or Redis pub/sub shared by several processes."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000


class EventBus(Protocol):
    """Publishes JSON-able events on named channels and streams them to subscribers."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...
    def publish_threadsafe(self, channel: str, message: dict[str, Any]) -> None: ...
    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...

    # Which unbroken stretch of the feed this process is in: a new number after every reconnection, None
    # while the feed is down. A cache kept valid by events trusts only what it stored in the current epoch:
    # events published during a gap were never heard.
    @property
    def epoch(self) -> int | None: ...


class _LocalFanout:
    """Bounded queues per subscriber; a slow subscriber loses its oldest events, never blocks others."""

    def __init__(self) -> None:
        self.queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self.queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
                log.warning("event subscriber too slow; dropped its oldest event", extra={"channel": channel})
            queue.put_nowait(message)

    def stream(self, channel: str) -> Subscription:
        return Subscription(self, channel)


class Subscription:
    """An async iterator over one channel, registered from the moment it is created (so nothing published
    after subscribe() returns is missed); close it with aclose()."""

    def __init__(self, fanout: _LocalFanout, channel: str) -> None:
        self._fanout = fanout
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        fanout.queues[channel].add(self.queue)
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._closed:
            raise StopAsyncIteration
        return await self.queue.get()

    async def aclose(self) -> None:
        """Stops receiving events."""
        if self._closed:
            return
        self._closed = True
        queues = self._fanout.queues.get(self.channel)
        if queues is not None:
            queues.discard(self.queue)
            if not queues:
                del self._fanout.queues[self.channel]


class InProcessBus:
    """The embedded default: events reach subscribers of this process only."""

    def __init__(self) -> None:
        self._fanout = _LocalFanout()

    @property
    def epoch(self) -> int | None:
        """Always 0: an in-process broadcast has no gaps."""
        return 0

    async def start(self) -> None:
        """Binds the bus to the running loop so threads can publish into it."""
        self._fanout.loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Nothing to release."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Delivers to this process's subscribers."""
        self._fanout.deliver(channel, message)

    def publish_threadsafe(self, channel: str, message: dict[str, Any]) -> None:
        """Delivers from any thread (workers, sync flows)."""
        loop = self._fanout.loop
        if loop is None or loop.is_closed():
            return  # nobody can be subscribed without a running loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fanout.deliver(channel, message)
        else:
            loop.call_soon_threadsafe(self._fanout.deliver, channel, message)

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Streams the channel's events until the consumer stops."""
        return self._fanout.stream(channel)


class RedisBus:
    """Redis pub/sub: one listener connection per process fans events out to local subscribers."""

    def __init__(self, url: str, *, prefix: str = "smartcity:") -> None:
        import redis
        import redis.asyncio as aredis

        self.url = url
        self.prefix = prefix
        self._redis = aredis.Redis.from_url(url)
        self._sync = redis.Redis.from_url(url)
        self._fanout = _LocalFanout()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lock = threading.Lock()
        self._connections = 0
        self._epoch: int | None = None

    @property
    def epoch(self) -> int | None:
        """The number of the listener's current subscription (None while it is reconnecting)."""
        return self._epoch

    async def start(self) -> None:
        """Connects and starts the listener; fails clearly when Redis is unreachable."""
        self._fanout.loop = asyncio.get_running_loop()
        await self._redis.ping()
        if self._listener is None:
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
            await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._connections += 1
                self._epoch = self._connections
                self._ready.set()
                backoff = 0.1
                async for raw in pubsub.listen():
                    if raw.get("type") != "pmessage":
                        continue
                    channel = raw["channel"].decode()[len(self.prefix) :]
                    self._fanout.deliver(channel, orjson.loads(raw["data"]))
            except asyncio.CancelledError:
                self._epoch = None
                await pubsub.aclose()
                raise
            except Exception:  # a dropped connection must not end live feeds: reconnect
                self._epoch = None
                log.exception("redis bus listener lost its connection; reconnecting")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def close(self) -> None:
        """Stops the listener and closes connections."""
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
            self._listener = None
        await self._redis.aclose()
        self._sync.close()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Publishes to every process subscribed to the channel."""
        await self._redis.publish(self.prefix + channel, orjson.dumps(message))

    def publish_threadsafe(self, channel: str, message: dict[str, Any]) -> None:
        """Publishes from sync code in any thread."""
        with self._lock:
            self._sync.publish(self.prefix + channel, orjson.dumps(message))

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Streams the channel's events until the consumer stops."""
        return self._fanout.stream(channel)


def make_bus(redis_url: str | None) -> EventBus:
    """The bus for the configured deployment."""
    return RedisBus(redis_url) if redis_url else InProcessBus()


# Events are queued on the session and published only after its transaction commits, so a
# subscriber never sees a change that was rolled back.
_PENDING = "pending_events"


def queue_event(session: Session, channel: str, message: dict[str, Any]) -> None:
    """Queues an event to publish after the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append((channel, message))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    bus: EventBus | None = session.info.get("bus")
    if not pending or bus is None:
        return
    for channel, message in pending:
        try:
            bus.publish_threadsafe(channel, message)
        except Exception:  # the change is committed; a lost live update is logged, not raised
            log.exception("could not publish event", extra={"channel": channel})


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
