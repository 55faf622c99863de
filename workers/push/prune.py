"""Outbox housekeeping: SENT and FAILED rows are deleted once past their retention, a batch at a time.

Rows are walked in id order, a window of `batch` ids per transaction, so no statement holds many row
locks or the SQLite write lock for long, and no run scans the whole table: ids grow with `created_at`,
so the walk stops at the first window that ends past the newer cutoff (nothing after it can be due).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from api.core.model import utcnow
from api.db import Database
from api.notifications import service

log = logging.getLogger(__name__)

BATCH = 5_000
RUN_SECONDS = 480.0  # well inside the job's lease (600 s): a backlog is finished by the next runs


def prune_outbox(
    db: Database, *, sent_before: dt.datetime, failed_before: dt.datetime, batch: int = BATCH,
    stopping: threading.Event | None = None, max_seconds: float | None = None,
) -> int:
    """Deletes SENT rows sent before `sent_before` and FAILED rows failed before `failed_before`;
    returns how many. Stops early when `stopping` is set or after `max_seconds` (checked between batches)."""
    newest_cutoff = max(sent_before, failed_before)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    after, deleted = 0, 0
    while stopping is None or not stopping.is_set():
        with db.transaction() as session:
            end = service.outbox_window_end(db_session=session, after_id=after, size=batch)
            if end is None:
                break
            last_id, last_created = end
            deleted += service.delete_finished_outbox(
                db_session=session, after_id=after, up_to_id=last_id, sent_before=sent_before,
                failed_before=failed_before,
            )
        after = last_id
        # A row created after the newer cutoff was sent or failed after it too: the rest is kept.
        if last_created >= newest_cutoff or (deadline is not None and time.monotonic() >= deadline):
            break
    return deleted


def prune_job(ctx: Any) -> None:
    """The `push.prune_outbox` job: applies SMARTCITY_PUSH_SENT/FAILED_RETENTION_DAYS."""
    now = utcnow()
    settings = ctx.settings
    deleted = prune_outbox(
        ctx.db,
        sent_before=now - dt.timedelta(days=settings.push_sent_retention_days),
        failed_before=now - dt.timedelta(days=settings.push_failed_retention_days),
        stopping=ctx.stopping, max_seconds=RUN_SECONDS,
    )
    if deleted:
        log.info("push.prune_outbox: %d finished outbox rows deleted", deleted,
                 extra={"job": "push.prune_outbox", "deleted": deleted})
