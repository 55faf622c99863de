"""Results of repeated read queries, kept until the data under them changes (and never longer than a TTL).

The operations centre's wall, operators' consoles and third parties ask the same list queries again and
again, while incidents change a few times a minute. A query whose every root field is registered as
cacheable (by its domain plugin, with the data topics it reads) is answered from this process's cache
when the same caller asked the same query with the same variables since the last change to those topics.

- Invalidation: every committed change publishes an event on the bus (after commit); a task per process
  turns each event on a registered channel into a new version of its topic, and entries of an older version
  are dead. A mutation served by this process bumps every topic at once, so its caller reads their own
  write. The TTL bounds anything that changes without an event (a unit renamed, time-derived fields).
- Per caller: the key includes who asks (account or key, roles, scopes, attributes), so a cached answer is
  never shown to someone the resolvers would have answered differently.
- Audit: the personal-data reads noted when the answer was computed are noted again for every hit, so the
  audit log records each read exactly as if it had been executed.
- Authentication, the cost budget and its refund run as usual; only execution is skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import ExecutionResult, FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    versions: tuple[int, ...]
    stored_at: float
    result: ExecutionResult
    reads: tuple[tuple[tuple[str, str], frozenset[str]], ...]


class ResultCache:
    """A bounded LRU of query results with per-topic versions; one per process."""

    def __init__(self, fields: Mapping[str, tuple[str, ...]], channels: Mapping[str, str], *,
                 ttl_seconds: float, max_entries: int) -> None:
        self.fields = dict(fields)  # root field (GraphQL name) -> topics it reads
        self.channels = dict(channels)  # bus channel -> topic it changes
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._versions: dict[str, int] = {t: 0 for ts in self.fields.values() for t in ts}
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self.bus: Any = None  # set by follow(): entries stored before a gap in its feed are dead
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0 and bool(self.fields)

    def bump(self, *topics: str) -> None:
        """Marks the topics changed: every entry that read them is dead from now on."""
        for topic in topics or tuple(self._versions):
            self._versions[topic] = self._versions.get(topic, 0) + 1

    def versions(self, topics: tuple[str, ...]) -> tuple[int, ...] | None:
        """The bus epoch and the topics' versions now; None while the bus feed is down (nothing may be
        stored or served: a change meanwhile would go unheard)."""
        epoch = 0 if self.bus is None else self.bus.epoch
        if epoch is None:
            return None
        return (epoch, *(self._versions.get(t, 0) for t in topics))

    def get(self, key: bytes, topics: tuple[str, ...]) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        current = self.versions(topics)
        if current is None or entry.versions != current or time.monotonic() - entry.stored_at > self.ttl:
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: bytes, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def follow(self, bus: Any) -> None:
        """Bumps topics as the bus reports changes; runs for the life of the process. If a subscription
        breaks (Redis went away), every entry of its topic is dropped and it subscribes again a second later:
        what changed meanwhile was not heard, so nothing cached before it may be trusted. The bus's epoch
        covers the other kind of gap: its own connection to Redis lost and re-made under a live subscription."""
        self.bus = bus
        async def one(channel: str, topic: str) -> None:
            while True:
                try:
                    async for _event in bus.subscribe(channel):
                        self.bump(topic)
                except asyncio.CancelledError:
                    raise
                except Exception:  # logged, then resubscribed: the cache must never outlive its invalidation
                    log.warning("result cache lost its %s events; resubscribing", channel, exc_info=True)
                self.bump(topic)
                await asyncio.sleep(1.0)

        await asyncio.gather(*(one(c, t) for c, t in self.channels.items()))


def _caller(principal: Any) -> str:
    attributes = sorted((str(k), str(v)) for k, v in (principal.attributes or {}).items())
    return repr((principal.account_id, principal.api_key_id, sorted(str(r) for r in principal.roles),
                 sorted(principal.scopes), attributes))


class ResultCacheExtension(SchemaExtension):
    """Answers a cacheable query from the cache, or stores its answer (see the module's docstring)."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        context = ec.context
        state = getattr(context, "state", None)
        cache: ResultCache | None = getattr(state, "result_cache", None) if state is not None else None
        if cache is None or not cache.enabled:
            yield
            return
        if ec.operation_type == OperationType.MUTATION:
            yield
            cache.bump()  # this caller's next read must see what they just changed
            return
        topics = self._topics(cache)
        if topics is None:
            yield
            return
        key = self._key(context)
        if key is None:
            yield
            return
        entry = cache.get(key, topics)
        if entry is not None:
            ec.result = entry.result
            trail = context.audit_trail()
            for subject, fields in entry.reads:
                trail.reads.setdefault(subject, set()).update(fields)
            yield
            return
        versions = cache.versions(topics)  # read before executing: a change meanwhile makes this entry dead
        yield
        result = ec.result
        if versions is None or result is None or result.errors or not isinstance(result, ExecutionResult):
            return
        trail = getattr(context, "_audit", None)
        reads = tuple((s, frozenset(f)) for s, f in trail.reads.items()) if trail is not None else ()
        cache.put(key, _Entry(versions, time.monotonic(), result, reads))

    def _topics(self, cache: ResultCache) -> tuple[str, ...] | None:
        """The topics the operation reads, or None when any root selection is not cacheable."""
        ec = self.execution_context
        document = ec.graphql_document
        if document is None or ec.operation_type != OperationType.QUERY:
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if ec.operation_name:
            operations = [o for o in operations if o.name is not None and o.name.value == ec.operation_name]
        if len(operations) != 1:
            return None
        topics: set[str] = set()
        for selection in operations[0].selection_set.selections:
            if not isinstance(selection, FieldNode):
                return None  # fragments at the root: not worth following
            name = selection.name.value
            if name == "__typename":
                continue
            field_topics = cache.fields.get(name)
            if field_topics is None:
                return None
            topics.update(field_topics)
        return tuple(sorted(topics)) if topics else None

    def _key(self, context: Any) -> bytes | None:
        ec = self.execution_context
        try:
            variables = orjson.dumps(ec.variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None  # e.g. an upload among the variables: not a read worth keeping
        digest = hashlib.blake2b(digest_size=20)
        digest.update((ec.query or "").encode())
        digest.update(b"\0" + (ec.operation_name or "").encode() + b"\0")
        digest.update(variables)
        digest.update(_caller(context.principal).encode())
        return digest.digest()
