"""`smartcity worker`: APScheduler with a job store on the platform database and a lease per job run."""

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
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import Counter, Histogram, start_http_server

from api.config import Settings
from api.core import lease
from api.core.bus import make_bus
from api.core.metrics import REGISTRY
from api.db import Database
from workers.jobs import Job, JobContext, JobRegistry, collect_jobs

log = logging.getLogger("workers")

JOB_RUNS = Counter("smartcity_job_runs_total", "Job runs by job and outcome", ["job", "outcome"], registry=REGISTRY)
JOB_SECONDS = Histogram("smartcity_job_seconds", "Job run duration", ["job"], registry=REGISTRY)


class Runtime:
    """The jobs of this process and what they run with."""

    def __init__(self, registry: JobRegistry, context: JobContext) -> None:
        self.registry = registry
        self.context = context
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


_RUNTIME: Runtime | None = None


def run_registered(job_id: str) -> None:
    """Runs one job under its lease; the persistent job store refers to this function by name."""
    runtime = _RUNTIME
    if runtime is None or runtime.context.stopping.is_set():
        return
    job = runtime.registry.jobs.get(job_id)
    if job is None:
        log.warning("scheduled job %s is not registered in this version; skipping", job_id)
        return
    run_job(job, runtime.context, runtime.holder)


def run_job(job: Job, context: JobContext, holder: str) -> bool:
    """Runs a job if its lease can be taken (non-exclusive jobs need none); returns whether it ran."""
    if job.exclusive:
        with context.db.session() as session:
            if not lease.acquire(session, job.id, holder, dt.timedelta(seconds=job.lease_seconds)):
                JOB_RUNS.labels(job.id, "skipped").inc()
                return False
    started = time.perf_counter()
    try:
        job.func(context)
        JOB_RUNS.labels(job.id, "ok").inc()
        return True
    except Exception:
        JOB_RUNS.labels(job.id, "failed").inc()
        log.exception("job %s failed", job.id, extra={"job": job.id})
        return True
    finally:
        JOB_SECONDS.labels(job.id).observe(time.perf_counter() - started)
        if job.exclusive:
            with context.db.session() as session:
                lease.release(session, job.id, holder)


def build_scheduler(settings: Settings, db: Database, registry: JobRegistry, threads: int = 4) -> BackgroundScheduler:
    """A scheduler whose jobs persist in the platform database."""
    store = SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(threads)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=dt.UTC,
    )
    for job in registry.jobs.values():
        scheduler.add_job(
            "workers.runner:run_registered", trigger="interval", seconds=job.seconds, args=[job.id], id=job.id,
            name=job.description or job.id, replace_existing=True, misfire_grace_time=job.misfire_grace_seconds,
        )
    return scheduler


def start(settings: Settings, db: Database, bus: Any) -> BackgroundScheduler:
    """Starts this process's scheduler in the background."""
    global _RUNTIME
    registry = collect_jobs(settings)
    _RUNTIME = Runtime(registry, JobContext(db=db, bus=bus, settings=settings))
    scheduler = build_scheduler(settings, db, registry)
    scheduler.start()
    log.info("worker started with %d jobs: %s", len(registry.jobs), ", ".join(sorted(registry.jobs)))
    return scheduler


def start_in_process(state: Any) -> BackgroundScheduler:
    """Runs the jobs inside the API process (the demo), sharing its bus so live feeds see job events."""
    return start(state.settings, state.db, state.bus)


def stop(scheduler: BackgroundScheduler) -> None:
    """Lets running jobs finish their batch, then stops."""
    if _RUNTIME is not None:
        _RUNTIME.context.stopping.set()
    scheduler.shutdown(wait=True)


def run_forever(settings: Settings) -> None:
    """The worker process: runs until SIGTERM/SIGINT, then finishes the current batch and exits."""
    from api.db import check_database

    db = Database.from_settings(settings)
    check_database(db.engine)
    bus = make_bus(settings.redis_url)
    if settings.worker_metrics_port is not None:
        # Loopback only: Prometheus scrapes through the host's proxy or agent, as it does for `serve`.
        start_http_server(settings.worker_metrics_port, addr="127.0.0.1", registry=REGISTRY)
        log.info("worker metrics on http://127.0.0.1:%d/metrics", settings.worker_metrics_port)
    done = threading.Event()
    scheduler = start(settings, db, bus)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: finishing the current batch", signum)
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # Wake up now and then: Python runs signal handlers only in the main thread, and when the kernel
    # delivers SIGTERM to another thread (a job's, or one of send_each's), an untimed wait never returns.
    while not done.wait(timeout=0.5):
        pass
    stop(scheduler)
    db.dispose()
    log.info("worker stopped")
