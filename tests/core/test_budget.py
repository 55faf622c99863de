"""Query-cost buckets shared through Redis: what several API processes must agree on."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest

from api.core.budget import CostBudget, RedisCostBudget
from tests.conftest import REDIS_URL, require_service


def _redis_budget(prefix: str, limit: int = 100, refill: float = 0.001) -> RedisCostBudget:
    return RedisCostBudget(REDIS_URL, limit=limit, refill_per_second=refill, prefix=prefix)


def test_two_processes_share_one_budget_per_caller() -> None:
    # given: two API processes' budgets on the same Redis (a slow refill, so time does not blur it)
    require_service("Redis", "127.0.0.1", 6379)
    prefix = f"test:{uuid.uuid4()}:"
    first, second = _redis_budget(prefix), _redis_budget(prefix)
    # when: a caller spends 70 on one and asks 40 of the other, while another caller asks the other for 40
    spent = first.charge("key:alice", 70)
    refused = second.charge("key:alice", 40)
    bob = second.charge("key:bob", 40)
    # then: alice has 30 left everywhere; bob's bucket is his own
    assert spent.allowed and spent.remaining == 30
    assert not refused.allowed and refused.remaining == 30
    assert bob.allowed and bob.remaining == 60
    assert first.peek("key:alice").remaining == 30


def test_a_refund_returns_points_but_never_above_the_limit() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    budget = _redis_budget(f"test:{uuid.uuid4()}:")
    budget.charge("key:carol", 50)
    budget.refund("key:carol", 20)
    assert budget.peek("key:carol").remaining == 70
    budget.refund("key:carol", 500)
    assert budget.peek("key:carol").remaining == 100


def test_redis_and_in_process_buckets_refill_alike() -> None:
    # Same arithmetic: a bucket emptied refills at `refill` points per second up to the limit.
    require_service("Redis", "127.0.0.1", 6379)
    redis_budget = _redis_budget(f"test:{uuid.uuid4()}:", limit=10, refill=1000.0)
    memory = CostBudget(limit=10, refill_per_second=1000.0)
    for budget in (redis_budget, memory):
        assert budget.charge("k", 10).allowed
        state = budget.peek("k")
        assert state.limit == 10 and state.reset_at > 0


def test_without_redis_requests_are_allowed_and_the_outage_logged(caplog: pytest.LogCaptureFixture) -> None:
    # given: a Redis URL where nothing listens
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    budget = RedisCostBudget(f"redis://127.0.0.1:{port}/0", limit=10, refill_per_second=1.0)
    # when
    with caplog.at_level(logging.WARNING):
        states = [budget.charge("k", 100) for _ in range(3)]
    # then: allowed (fail open), and one warning, not one per request
    assert all(s.allowed for s in states)
    assert sum("cost budgets unavailable" in r.getMessage() for r in caplog.records) == 1
