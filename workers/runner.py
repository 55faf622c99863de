"""`smartcity worker`: APScheduler with a job store on the platform database and a lease per job run.

Exclusive jobs are kept in the shared job store (`apscheduler_jobs`): one schedule for every worker
process, and each run takes a database lease, so one process runs them at a time. Jobs every process
runs (`exclusive=False`) are kept in a memory store of each process: in the shared store the process
that wakes first would advance the schedule for all, and the others would seldom run them. Chained jobs
(queue consumers such as `push.drain`) are scheduled again as each run ends, never on a fixed beat.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from prometheus_client import Counter, Histogram, start_http_server

from api.config import ConfigError, Settings
from api.core import lease
from api.core.bus import make_bus
from api.core.metrics import REGISTRY
from api.db import Database
from workers.jobs import Job, JobContext, JobRegistry, collect_jobs

log = logging.getLogger("workers")

JOB_RUNS = Counter("smartcity_job_runs_total", "Job runs by job and outcome", ["job", "outcome"], registry=REGISTRY)
JOB_SECONDS = Histogram("smartcity_job_seconds", "Job run duration", ["job"], registry=REGISTRY)

SHARED, LOCAL = "default", "local"  # job stores: the database's (exclusive jobs), this process's
# Interval jobs fire on a fixed grid counted from here, the same in every process: a restart does not
# postpone an hourly job by another hour (APScheduler counts from the time a job is added otherwise).
GRID_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Runtime:
    """The jobs of this process and what they run with."""

    def __init__(self, registry: JobRegistry, context: JobContext) -> None:
        self.registry = registry
        self.context = context
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"
        self.scheduler: BackgroundScheduler | None = None
        # Held while a chained job's next run is set and while stopping is set: shutdown() holds the
        # scheduler's job-store lock while it waits for running jobs, so a modify_job after it began
        # would wait for that lock forever.
        self.chain_lock = threading.Lock()


_RUNTIME: Runtime | None = None


def run_registered(job_id: str) -> Any:
    """Runs one job under its lease; the persistent job store refers to this function by name."""
    runtime = _RUNTIME
    if runtime is None or runtime.context.stopping.is_set():
        return None
    job = runtime.registry.jobs.get(job_id)
    if job is None:
        log.warning("scheduled job %s is not registered in this version; skipping", job_id)
        return None
    result = None
    try:
        result = run_job(job, runtime.context, runtime.holder)
        return result
    finally:
        if job.chained:
            _chain_next(runtime, job, more=bool(result))


def run_job(job: Job, context: JobContext, holder: str) -> Any:
    """Runs a job if its lease can be taken (non-exclusive jobs need none); returns what the job returned
    (None when it did not run or failed)."""
    if job.exclusive:
        with context.db.session() as session:
            if not lease.acquire(session, job.id, holder, dt.timedelta(seconds=job.lease_seconds)):
                JOB_RUNS.labels(job.id, "skipped").inc()
                return None
    started = time.perf_counter()
    try:
        result = job.func(context)
        JOB_RUNS.labels(job.id, "ok").inc()
        return result
    except Exception:
        JOB_RUNS.labels(job.id, "failed").inc()
        log.exception("job %s failed", job.id, extra={"job": job.id})
        return None
    finally:
        JOB_SECONDS.labels(job.id).observe(time.perf_counter() - started)
        if job.exclusive:
            with context.db.session() as session:
                lease.release(session, job.id, holder)


def build_scheduler(settings: Settings, db: Database, registry: JobRegistry, threads: int = 4) -> BackgroundScheduler:
    """A scheduler whose exclusive jobs persist in the platform database, the others in this process."""
    shared = SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")
    scheduler = BackgroundScheduler(
        jobstores={SHARED: shared, LOCAL: MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(threads)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=dt.UTC,
    )
    for job in registry.jobs.values():
        if job.chained:
            _add_chained(scheduler, job, dt.datetime.now(dt.UTC))
            continue
        scheduler.add_job(
            "workers.runner:run_registered", trigger="interval", seconds=job.seconds, start_date=GRID_START,
            args=[job.id], id=job.id, name=job.description or job.id, replace_existing=True,
            misfire_grace_time=job.misfire_grace_seconds, jobstore=SHARED if job.exclusive else LOCAL,
        )
    return scheduler


class _Chained(BaseTrigger):
    """A chained job's trigger: once a run starts the job is parked; the run's end sets its next time.

    Parked, not removed and added again (which APScheduler logs at INFO every time). The park is long
    enough for any bounded run; it only matters if the end of a run were never reported."""

    PARK = dt.timedelta(hours=1)

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime:
        return now + self.PARK

    def __str__(self) -> str:
        return "chained"


def _add_chained(scheduler: BackgroundScheduler, job: Job, when: dt.datetime) -> None:
    # A late run is still the one to run (no misfire): there is only ever one pending. Two instances:
    # the executor counts a run until its function has returned, a moment after it scheduled the next.
    scheduler.add_job(
        "workers.runner:run_registered", trigger=_Chained(), next_run_time=when, args=[job.id], id=job.id,
        name=job.description or job.id, replace_existing=True, misfire_grace_time=None, jobstore=LOCAL,
        max_instances=2,
    )


def _chain_next(runtime: Runtime, job: Job, *, more: bool) -> None:
    """Schedules a chained job's next run as one ends: at once if it said more is due, else later."""
    if runtime.scheduler is None:
        return
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.0 if more else job.seconds)
    with runtime.chain_lock:
        if runtime.context.stopping.is_set():
            return
        # From the job's own thread, never the scheduler's: the scheduler's lock (taken here) is held
        # from the moment it starts a run until it has parked the job, so this always comes after.
        try:
            runtime.scheduler.modify_job(job.id, jobstore=LOCAL, next_run_time=when)
        except JobLookupError:
            log.error("chained job %s is no longer scheduled; it will not run again", job.id)


def start(settings: Settings, db: Database, bus: Any) -> BackgroundScheduler:
    """Starts this process's scheduler in the background."""
    global _RUNTIME
    registry = collect_jobs(settings)
    runtime = Runtime(registry, JobContext(db=db, bus=bus, settings=settings))
    scheduler = build_scheduler(settings, db, registry)
    runtime.scheduler = scheduler
    _RUNTIME = runtime
    scheduler.start(paused=True)
    for job in registry.jobs.values():
        if not job.exclusive:
            # Left in the shared store by a version that kept every job there: it would run once more
            # per tick in whichever process woke first.
            try:
                scheduler.remove_job(job.id, jobstore=SHARED)
            except JobLookupError:
                pass
    scheduler.resume()
    log.info("worker started with %d jobs: %s", len(registry.jobs), ", ".join(sorted(registry.jobs)))
    return scheduler


def start_in_process(state: Any) -> BackgroundScheduler:
    """Runs the jobs inside the API process (the demo), sharing its bus so live feeds see job events."""
    return start(state.settings, state.db, state.bus)


def stop(scheduler: BackgroundScheduler) -> None:
    """Lets running jobs finish their batch, then stops."""
    runtime = _RUNTIME
    if runtime is not None:
        with runtime.chain_lock:
            runtime.context.stopping.set()
    scheduler.shutdown(wait=True)


def run_forever(settings: Settings, *, child: int | None = None) -> None:
    """The worker process: runs until SIGTERM/SIGINT, then finishes the current batch and exits.

    `child` is this process's index under `smartcity worker --processes N`; it then also stops when
    its supervisor is gone, rather than run on unsupervised."""
    from api.db import check_database

    parent = os.getppid()
    db = Database.from_settings(settings)
    check_database(db.engine)
    bus = make_bus(settings.redis_url)
    if settings.worker_metrics_port is not None:
        # Loopback only: Prometheus scrapes through the host's proxy or agent, as it does for `serve`.
        try:
            start_http_server(settings.worker_metrics_port, addr="127.0.0.1", registry=REGISTRY)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve worker metrics on 127.0.0.1:{settings.worker_metrics_port}: {exc.strerror}"
            ) from None
        log.info("worker metrics on http://127.0.0.1:%d/metrics", settings.worker_metrics_port)
    done = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: finishing the current batch", signum)
        done.set()

    # Before the first job can start: a signal from then on always lets the batch in flight finish.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler = start(settings, db, bus)
    if child is not None:
        log.info("worker process %d (pid %d) started", child, os.getpid())
    # Wake up now and then: Python runs signal handlers only in the main thread, and when the kernel
    # delivers SIGTERM to another thread (a job's, or one of send_each's), an untimed wait never returns.
    while not done.wait(timeout=0.5):
        if child is not None and os.getppid() != parent:
            log.warning("worker process %d: the supervisor is gone; finishing the current batch", child)
            break
    stop(scheduler)
    db.dispose()
    log.info("worker stopped")
