"""For bench_push: the notifications it sends, and the outbox drain on PostgreSQL timed end to end.

`OutboxDatabase.drain` runs the real drain (`workers/push/drain.py`: claim 500 under a lease with
`FOR UPDATE SKIP LOCKED` -> FcmSender -> record) in this process; `drain_processes` runs it in several
processes at once against the same outbox, as the children of `smartcity worker --processes N` do
(each child has its own engine and FcmSender; its chained `push.drain` runs call the same `drain()`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

from tests.fakes.fcm_server import service_account_info
from workers.push import PushMessage
from workers.push.fcm import FcmSender


def messages(count: int, prefix: str = "device") -> list[PushMessage]:
    """`count` flood alerts to distinct ~160-character tokens starting with `prefix`."""
    return [
        PushMessage(
            key=str(i),
            token=f"{prefix}-{i:07d}-{'x' * 140}",  # real registration tokens are ~160 characters
            title="Cảnh báo ngập",
            body="Mực nước tại Dương Đông vượt mức báo động 2",
            data={"kind": "flood", "incident": "1234"},
            collapse_key="flood-duong-dong",
            ttl_seconds=3600,
            android_channel="alerts",
        )
        for i in range(count)
    ]


def run_at_once(target: Any, argsets: list[tuple[Any, ...]], timeout: float) -> list[Any]:
    """Starts one spawned process per argument set, lets each warm up, releases them together, and returns
    what each put on its queue. `target(*args, ready, start, out)` waits on `ready`, then on `start`."""
    context = multiprocessing.get_context("spawn")
    ready, start, out = context.Barrier(len(argsets) + 1), context.Event(), context.Queue()
    children = [context.Process(target=target, args=(*args, ready, start, out)) for args in argsets]
    for child in children:
        child.start()
    ready.wait(timeout=120)
    start.set()
    rows = [out.get(timeout=timeout) for _ in children]
    for child in children:
        child.join(timeout=30)
    return rows


def _settings(database_url: str) -> Any:
    from api.config import load_settings

    return load_settings(database_url=database_url, environment="test", log_json=False, push_batch_size=500)


class OutboxDatabase:
    """A throwaway PostgreSQL database with the platform's schema, to time the outbox drain end to end."""

    ADMIN_URL = os.environ.get("SMARTCITY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

    def __init__(self, name: str) -> None:
        from api.db import Database

        self.name = name
        self.url = self._admin().rsplit("/", 1)[0] + f"/{name}"
        self.settings = _settings(self.url)
        self.db = Database.from_settings(self.settings)

    @classmethod
    def create(cls) -> OutboxDatabase | None:
        """Creates and migrates the database; None when PostgreSQL is not running here."""
        import uuid

        import psycopg

        from api import migrate
        from api.db import load_models

        name = f"smartcity_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(cls._admin(), autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError:
            return None
        load_models()
        outbox = cls(name)
        migrate.upgrade(outbox.db.engine)
        return outbox

    @classmethod
    def _admin(cls) -> str:
        return cls.ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")

    def queue(self, count: int, prefix: str) -> None:
        """Queues one push to each of `count` new devices, as notify_accounts writes them."""
        from sqlalchemy import insert, select

        from api.core.model import utcnow
        from api.identity.models import Account
        from api.notifications.models import Device, OutboxMessage

        now = utcnow()
        with self.db.transaction() as session:
            account = Account(full_name="Bench", password_hash="-")
            session.add(account)
            session.flush()
            queued = messages(count, prefix)
            session.execute(insert(Device.__table__), [
                {"account_id": account.id, "token": m.token, "platform": "ANDROID", "language": "vi",
                 "active": True, "created_at": now, "last_seen_at": now} for m in queued
            ])
            mine = select(Device.token, Device.id).where(Device.account_id == account.id)
            devices = dict(session.execute(mine).tuples().all())
            session.execute(insert(OutboxMessage.__table__), [
                {"device_id": devices[m.token], "token": m.token, "language": "vi", "template": "generic_alert",
                 "params": {}, "title": m.title, "body": m.body, "data": m.data, "collapse_key": m.collapse_key,
                 "ttl_seconds": m.ttl_seconds, "state": "PENDING", "attempts": 0, "next_attempt_at": now,
                 "created_at": now} for m in queued
            ])

    def drain(self, url: str, count: int, prefix: str) -> tuple[float, float]:
        """Queues `count` pushes, then returns (messages per second, client CPU per message) to drain them
        in this process."""
        from workers.push.drain import drain

        self.queue(count, prefix)
        with FcmSender(service_account_info(f"{url}/token"), fcm_url=url) as sender:
            sender.send(messages(sender.max_batch, f"{prefix}-warm"))  # as for the raw sender: token, pool
            cpu, started = time.process_time(), time.perf_counter()
            report = drain(self.db, sender, self.settings)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        if report.sent != count:
            raise RuntimeError(f"outbox drain: {report.sent} of {count} sent ({report})")
        self._check_all_sent()
        return count / elapsed, cpu / count

    def drain_processes(self, url: str, count: int, prefix: str, processes: int) -> tuple[float, float]:
        """Queues `count` pushes, then returns (messages per second, CPU per message summed over the
        processes) for `processes` processes draining them at once, from the first start to the last end."""
        self.queue(count, prefix)
        rows = run_at_once(_drainer, [(self.url, url, f"{prefix}-warm{n}") for n in range(processes)], timeout=900)
        sent = sum(row[3] for row in rows)
        if sent != count or min(row[3] for row in rows) == 0:
            raise RuntimeError(f"outbox drain in {processes} processes: sent {[row[3] for row in rows]} of {count}")
        self._check_all_sent()
        elapsed = max(row[1] for row in rows) - min(row[0] for row in rows)
        return count / elapsed, sum(row[2] for row in rows) / count

    def _check_all_sent(self) -> None:
        from sqlalchemy import func, select

        from api.notifications.models import OutboxMessage

        with self.db.session() as session:
            left = session.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state != "SENT")
            ).scalar_one()
        if left:
            raise RuntimeError(f"{left} outbox rows are not SENT after the drain")

    def drop(self) -> None:
        """Drops the database."""
        import psycopg

        self.db.dispose()
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _drainer(database_url: str, fake_url: str, warm_prefix: str, ready: Any, start: Any, out: Any) -> None:
    """One worker child's drain: its own engine and FcmSender, warmed up, then drain() until nothing is due."""
    from api.db import Database, load_models
    from workers.push.drain import drain

    load_models()
    settings = _settings(database_url)
    db = Database.from_settings(settings)
    with FcmSender(service_account_info(f"{fake_url}/token"), fcm_url=fake_url) as sender:
        sender.send(messages(sender.max_batch, warm_prefix))  # access token, connection pool
        db.engine.connect().close()  # a pooled connection, as a running worker has
        ready.wait()
        start.wait()
        began, cpu = time.monotonic(), time.process_time()  # CLOCK_MONOTONIC: comparable across processes
        report = drain(db, sender, settings)
        out.put((began, time.monotonic(), time.process_time() - cpu, report.sent))
    db.dispose()
