"""The worker's scheduler in this process: a long drain runs as chained runs, and APScheduler never has a
run to skip (it used to warn "maximum number of running instances reached" every second of a drain)."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from api.core.bus import InProcessBus
from tests.factories import make_person
from tests.fakes.fcm_server import FakeFcm, FakeFcmServer, write_service_account
from tests.notifications.factories import outbox_states, queue_to_tokens
from workers import runner
from workers.jobs import Job as WorkerJob
from workers.runner import JOB_RUNS

pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")


def _runs(job_id: str) -> float:
    return JOB_RUNS.labels(job_id, "ok")._value.get()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_drain_longer_than_the_interval_runs_in_chained_runs_without_scheduler_warnings(
    database, settings, tmp_path, caplog
):
    # given: 1,500 pushes, 50 per batch, an FCM that takes 100 ms: a drain of several seconds, runs of 1 s
    total = 1_500
    account = make_person(database, settings, "citizen").account_id
    queue_to_tokens(database, account, [f"long-{i:05d}" for i in range(total)])
    with FakeFcmServer(FakeFcm(record=False, delay=0.1)) as fcm:
        account_file = write_service_account(tmp_path / "sa.json", fcm.token_uri)
        worker_settings = settings.model_copy(update={
            "fcm_credentials_file": account_file, "fcm_url": fcm.url, "push_batch_size": 50,
            "push_drain_run_seconds": 1.0,
        })
        runs_before = _runs("push.drain")

        # when
        with caplog.at_level(logging.INFO):
            scheduler = runner.start(worker_settings, database, InProcessBus())
            try:
                _wait(lambda: outbox_states(database) == {"SENT": total}, 120, "every push to be sent")
                time.sleep(0.5)
                runs_when_done = _runs("push.drain")
                time.sleep(3)  # nothing due: a run a second, not a busy loop
                idle_runs = _runs("push.drain") - runs_when_done
            finally:
                runner.stop(scheduler)
                assert runner._RUNTIME is not None
                runner._RUNTIME.context.extras["push.sender"].close()
        stats = fcm.fake.stats()

    # then
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler") and r.levelno >= 30]
    assert warnings == []
    assert stats["sends"] == total and stats["duplicates"] == {}
    drain_lines = [r for r in caplog.records if r.getMessage().startswith("push.drain:")]
    assert len(drain_lines) >= 3, "the drain was one long run, not bounded runs"
    assert sum("more due" in r.getMessage() for r in drain_lines) >= 2  # each followed at once by the next
    assert _runs("push.drain") - runs_before >= len(drain_lines)
    assert 2 <= idle_runs <= 4


def test_jobs_every_process_runs_are_kept_out_of_the_shared_job_store(database, settings):
    # given: push.drain left in the shared store by an earlier version, which kept every job there
    store = SQLAlchemyJobStore(engine=database.engine, tablename="apscheduler_jobs")
    old = BackgroundScheduler(jobstores={"default": store}, timezone=dt.UTC)  # never started: no thread
    store.start(old, "default")
    store.add_job(Job(
        old, id="push.drain", func="workers.runner:run_registered", args=["push.drain"], kwargs={},
        trigger=IntervalTrigger(seconds=1, timezone=dt.UTC), executor="default", name="push.drain",
        misfire_grace_time=5, coalesce=True, max_instances=1, next_run_time=dt.datetime.now(dt.UTC),
    ))

    runs_before = _runs("push.drain")

    # when
    scheduler = runner.start(settings, database, InProcessBus())
    try:
        shared = {job.id for job in scheduler.get_jobs(jobstore="default")}
        _wait(lambda: _runs("push.drain") >= runs_before + 2, 10, "push.drain to run (from this process's store)")
    finally:
        runner.stop(scheduler)

    # then
    assert "push.drain" not in shared
    assert "push.prune_outbox" in shared  # exclusive: one schedule for all processes, run under a lease


def test_a_chained_job_must_not_be_exclusive():
    with pytest.raises(ValueError, match="set exclusive=False"):
        WorkerJob("x.consume", lambda ctx: False, seconds=1, chained=True)
