"""Outbox housekeeping: SENT and FAILED rows past their retention are deleted in batches; the rest stays."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, update

from api.core.bus import InProcessBus
from api.core.model import utcnow
from api.notifications.models import OutboxMessage
from tests.factories import make_person
from tests.notifications.factories import queue_to_tokens
from workers.jobs import JobContext, collect_jobs
from workers.push.prune import prune_outbox
from workers.runner import run_job

DAY = dt.timedelta(days=1)
# In id order, oldest first (ids grow with created_at): token, state, days since created, days since done.
ROWS = [
    ("pending-stuck", "PENDING", 200, None),
    ("failed-100d", "FAILED", 120, 100),
    ("sent-40d", "SENT", 45, 40),
    ("failed-40d", "FAILED", 45, 40),
    ("sent-31d", "SENT", 35, 31),
    ("sent-10d", "SENT", 10, 10),
    ("sending-now", "SENDING", 0, None),
    ("pending-now", "PENDING", 0, None),
]


@pytest.fixture
def aged_outbox(database, settings):
    """The ROWS above, queued and then aged in place."""
    account = make_person(database, settings, "citizen").account_id
    queue_to_tokens(database, account, [token for token, *_ in ROWS])
    now = utcnow()
    with database.transaction() as session:
        for token, state, created, done in ROWS:
            finished = None if done is None else now - done * DAY
            session.execute(update(OutboxMessage).where(OutboxMessage.token == token).values(
                state=state, created_at=now - created * DAY, next_attempt_at=None if finished else now,
                sent_at=finished if state == "SENT" else None, failed_at=finished if state == "FAILED" else None))
    return now


def _tokens(database) -> list[str]:
    with database.session() as session:
        return list(session.execute(select(OutboxMessage.token).order_by(OutboxMessage.id)).scalars())


def test_rows_past_their_retention_go_recent_and_unfinished_ones_stay(database, aged_outbox):
    # when: two rows per batch, so the walk takes several transactions
    deleted = prune_outbox(database, sent_before=aged_outbox - 30 * DAY, failed_before=aged_outbox - 90 * DAY,
                           batch=2)

    # then
    assert deleted == 3
    assert _tokens(database) == ["pending-stuck", "failed-40d", "sent-10d", "sending-now", "pending-now"]
    assert prune_outbox(database, sent_before=aged_outbox - 30 * DAY, failed_before=aged_outbox - 90 * DAY) == 0


def test_the_registered_job_applies_the_retention_settings_under_its_lease(database, settings, aged_outbox):
    # given
    settings = settings.model_copy(update={"push_sent_retention_days": 5, "push_failed_retention_days": 30})
    job = collect_jobs(settings).jobs["push.prune_outbox"]
    context = JobContext(db=database, bus=InProcessBus(), settings=settings)

    # when
    run_job(job, context, "test-holder")

    # then
    assert job.exclusive and job.seconds == 3600
    assert _tokens(database) == ["pending-stuck", "sending-now", "pending-now"]


def test_a_stopping_worker_deletes_nothing_more(database, aged_outbox):
    # given
    stopping = threading.Event()
    stopping.set()

    # when
    deleted = prune_outbox(database, sent_before=aged_outbox, failed_before=aged_outbox, stopping=stopping)

    # then
    assert deleted == 0 and len(_tokens(database)) == len(ROWS)
