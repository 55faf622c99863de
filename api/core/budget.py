"""Query-cost budgets: a leaky bucket per caller, charged before execution (GitHub/Shopify practice)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetState:
    """What a caller has left after a charge."""

    allowed: bool
    cost: int
    remaining: int
    limit: int
    reset_at: float  # epoch seconds when the bucket is full again


class CostBudget:
    """In-process leaky buckets; points refill continuously up to `limit`."""

    def __init__(self, limit: int, refill_per_second: float, clock=time.time) -> None:
        self.limit = limit
        self.refill = refill_per_second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        level, at = self._buckets.get(key, (float(self.limit), now))
        return min(float(self.limit), level + (now - at) * self.refill)

    def charge(self, key: str, cost: int) -> BudgetState:
        """Takes `cost` points if the caller has them."""
        with self._lock:
            now = self.clock()
            level = self._level(key, now)
            allowed = cost <= level
            if allowed:
                level -= cost
            self._buckets[key] = (level, now)
            return BudgetState(allowed, cost, int(level), self.limit, now + (self.limit - level) / self.refill)

    def refund(self, key: str, points: int) -> None:
        """Gives back what a query was charged beyond its actual cost."""
        if points <= 0:
            return
        with self._lock:
            now = self.clock()
            self._buckets[key] = (min(float(self.limit), self._level(key, now) + points), now)

    def peek(self, key: str) -> BudgetState:
        """The caller's current budget without charging."""
        with self._lock:
            now = self.clock()
            level = self._level(key, now)
            return BudgetState(True, 0, int(level), self.limit, now + (self.limit - level) / self.refill)


# One leaky bucket in a Redis hash, updated atomically: the same arithmetic as CostBudget, shared by
# every API process. Redis's own clock, so processes (and hosts) need not agree on the time.
# ARGV: limit, refill per second, refund (>= 0, given back first), cost (>= 0, taken if the caller has it).
# Returns {allowed, level, now}.
_LEAKY_BUCKET = """
local limit, refill = tonumber(ARGV[1]), tonumber(ARGV[2])
local refund, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(b[1]) or limit
local at = tonumber(b[2]) or now
level = math.min(limit, level + math.max(0, now - at) * refill + refund)
local allowed = 1
if cost > level then allowed = 0 else level = level - cost end
if cost > 0 or refund > 0 then
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.ceil(limit / refill) + 60)
end
return {allowed, tostring(level), tostring(now)}
"""
_MAX_OWED = 10_000  # callers with a refund not yet handed back; beyond it, small refunds are forgiven


class RedisCostBudget:
    """CostBudget's buckets kept in Redis, so a caller has one budget however many API processes serve it.

    One round trip per request: what a query was overcharged is given back with the caller's next charge
    (or peek) on this process, not in a call of its own. If Redis cannot be reached the request is allowed
    (and the outage logged once a minute): a rate limiter must not take the platform down with it."""

    def __init__(self, redis_url: str, limit: int, refill_per_second: float, prefix: str = "smartcity:budget:") -> None:
        import redis

        self.limit = limit
        self.refill = refill_per_second
        self._prefix = prefix
        self._errors = redis.RedisError
        self._client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_LEAKY_BUCKET)
        self._owed: dict[str, int] = {}
        self._lock = threading.Lock()
        self._warned_at = 0.0

    def _run(self, key: str, cost: int) -> BudgetState:
        with self._lock:
            refund = self._owed.pop(key, 0)
        try:
            allowed, level_text, now_text = self._script(keys=[self._prefix + key],
                                                         args=[self.limit, self.refill, refund, cost])
        except self._errors as exc:
            now = time.time()
            if now - self._warned_at > 60:
                self._warned_at = now
                logging.getLogger(__name__).warning("cost budgets unavailable, allowing requests: %s", exc)
            return BudgetState(True, cost, self.limit, self.limit, now)
        level, now = float(level_text), float(now_text)
        return BudgetState(bool(allowed), cost, int(level), self.limit, now + (self.limit - level) / self.refill)

    def charge(self, key: str, cost: int) -> BudgetState:
        """Takes `cost` points if the caller has them (after giving back what they are owed)."""
        return self._run(key, max(cost, 0))

    def refund(self, key: str, points: int) -> None:
        """Gives back what a query was charged beyond its actual cost, with the caller's next charge."""
        if points <= 0:
            return
        with self._lock:
            if len(self._owed) >= _MAX_OWED and key not in self._owed:
                self._owed.clear()
            self._owed[key] = self._owed.get(key, 0) + points

    def peek(self, key: str) -> BudgetState:
        """The caller's current budget without charging."""
        state = self._run(key, 0)
        return BudgetState(True, 0, state.remaining, state.limit, state.reset_at)
