"""`smartcity worker` as a real process: killed mid-batch, restarted, run twice at once, stopped with SIGTERM.

The worker uses the real firebase-admin (FcmSender) against the fake FCM server in a process of its own;
the fake's /_fake/stats counts what arrived, so a message sent twice is seen, not inferred.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from api.db import Database
from api.notifications.models import OutboxMessage
from tests.factories import make_person
from tests.notifications.factories import outbox_states, queue_to_tokens
from tests.workers.processes import wait_until as _wait


def _all_sent(database: Database, total: int) -> Callable[[], bool]:
    return lambda: outbox_states(database).get("SENT", 0) == total


def _senders(database: Database) -> dict[str, int]:
    """How many rows each worker process (host:pid) sent."""
    with database.session() as session:
        owners = session.execute(select(OutboxMessage.lease_owner).where(OutboxMessage.state == "SENT")).scalars()
        counts: dict[str, int] = {}
        for owner in owners:
            process = owner.rsplit(":", 1)[0]
            counts[process] = counts.get(process, 0) + 1
    return counts


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_resends_at_most_one_batch(
    database, settings, start_fake, start_worker
):
    # given: 2,000 queued pushes and an FCM that takes 300 ms per request, 200 per batch
    batch, total = 200, 2_000
    account = make_person(database, settings, "citizen").account_id
    queue_to_tokens(database, account, [f"crash-{i:05d}" for i in range(total)])
    fake = start_fake(300)
    worker = start_worker(fake, push_batch_size=batch, push_lease_seconds=2)

    # when: SIGKILL while a batch is in flight (after the first batch arrived, halfway through the next)
    _wait(lambda: fake.stats()["sends"] >= batch, 60, "the first batch")
    time.sleep(0.15)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    at_kill = outbox_states(database)
    assert 0 < at_kill.get("SENDING", 0) <= batch, at_kill  # a claimed batch was left behind, leased
    restarted = start_worker(fake, push_batch_size=batch, push_lease_seconds=2)
    _wait(_all_sent(database, total), 60, "every push to be sent after the restart")
    restarted.send_signal(signal.SIGTERM)

    # then
    assert restarted.wait(timeout=20) == 0
    stats = fake.stats()
    twice = sum(n - 1 for n in stats["duplicates"].values())
    print(f"\ncrash test: {at_kill} at SIGKILL; {stats['sends']} sends for {total} pushes, {twice} duplicates")
    assert stats["tokens"] == total  # every message arrived
    assert twice <= batch  # only the batch in flight at the kill went out twice
    assert outbox_states(database) == {"SENT": total}


def test_two_workers_drain_10000_pushes_each_sent_exactly_once(database, settings, start_fake, start_worker):
    # given
    total = 10_000
    account = make_person(database, settings, "citizen").account_id
    queue_to_tokens(database, account, [f"both-{i:05d}" for i in range(total)])
    fake = start_fake(0)

    # when
    workers = [start_worker(fake, push_batch_size=250) for _ in range(2)]
    _wait(_all_sent(database, total), 120, "every push to be sent")
    for worker in workers:
        worker.send_signal(signal.SIGTERM)

    # then
    assert [worker.wait(timeout=20) for worker in workers] == [0, 0]
    stats = fake.stats()
    senders = _senders(database)
    print(f"\ntwo workers ({database.engine.dialect.name}): sent per process {sorted(senders.values())}")
    assert stats["sends"] == total and stats["tokens"] == total and stats["duplicates"] == {}
    assert len(senders) == 2  # both processes took part


def test_sigterm_finishes_the_batch_in_flight_and_exits(database, settings, start_fake, start_worker):
    # given: a slow FCM, so the worker is mid-batch when asked to stop
    batch, total = 100, 1_000
    account = make_person(database, settings, "citizen").account_id
    queue_to_tokens(database, account, [f"term-{i:05d}" for i in range(total)])
    fake = start_fake(500)
    port = _free_port()
    worker = start_worker(fake, push_batch_size=batch, worker_metrics_port=port)
    _wait(lambda: fake.stats()["sends"] >= batch, 60, "the first batch")
    _wait(lambda: "smartcity_push_sent_total 1" in _metrics(port), 10, "the first batch in the metrics")

    # when
    worker.send_signal(signal.SIGTERM)

    # then: it exits cleanly, everything it sent is recorded, and it claimed no more
    assert worker.wait(timeout=20) == 0
    states = outbox_states(database)
    assert states.get("SENDING", 0) == 0
    assert states["SENT"] == fake.stats()["sends"] < total
    assert states["PENDING"] == total - states["SENT"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics(port: int) -> str:
    """The worker's Prometheus page."""
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
