"""The job registry: every domain declares its scheduled jobs here through its plugin."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.config import Settings
from api.core.bus import EventBus
from api.db import Database


@dataclass
class JobContext:
    """What a job run gets: the database, the bus, the settings, and a stop flag to check between batches."""

    db: Database
    bus: EventBus
    settings: Settings
    stopping: threading.Event = field(default_factory=threading.Event)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """A scheduled job: run every `seconds`, at most one run at a time across all worker processes."""

    id: str
    func: Callable[[JobContext], Any]
    seconds: float
    misfire_grace_seconds: int = 30
    lease_seconds: float = 300.0
    description: str = ""
    # False: every worker process may run it at once (the job keeps itself safe, e.g. with row leases),
    # and a killed process leaves no job lease behind to wait out. Such a job is scheduled by each
    # process on its own (not in the shared job store), so every process really does run it.
    exclusive: bool = True
    # True: a queue consumer. The next run is scheduled when a run ends: at once if `func` returned a
    # true value (it stopped with work left, e.g. after a bounded time), else `seconds` later. Runs never
    # overlap, so the scheduler never has a run to skip while a long one goes on. Needs exclusive=False.
    chained: bool = False

    def __post_init__(self) -> None:
        if self.chained and self.exclusive:
            raise ValueError(f"job {self.id!r}: a chained job runs in every process; set exclusive=False")


class JobRegistry:
    """Jobs by id; domains add theirs through DomainPlugin.jobs."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        """Registers a job; ids are unique."""
        if job.id in self.jobs:
            raise ValueError(f"job {job.id!r} registered twice")
        self.jobs[job.id] = job


def collect_jobs(settings: Settings) -> JobRegistry:
    """Every domain's jobs."""
    from api.schema import DOMAINS

    registry = JobRegistry()
    for domain in DOMAINS:
        if domain.jobs is not None:
            domain.jobs(registry, settings)
    return registry
