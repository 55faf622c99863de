"""Query-cost budgets: a leaky bucket per caller, charged before execution (GitHub/Shopify practice)."""

from __future__ import annotations

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
