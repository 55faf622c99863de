"""The camera service: loads its shard's enabled cameras from the registry, analyses each in a thread
(CaptureProcess + CameraPipeline) and writes events and online/offline status through api.cameras.flows,
one short transaction per change. A bad stream, a bad config or a database hiccup never stops it."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.cameras import flows, rules, service
from api.cameras.rules import CameraStatus
from api.config import Settings
from api.core.bus import EventBus
from api.db import Database
from workers.camera.capture import CaptureProcess, SourceStatus
from workers.camera.config import CameraConfig
from workers.camera.events import CameraEvent
from workers.camera.shard import owns
from workers.camera.source import FrameSource
from workers.camera.worker import run_camera

log = logging.getLogger(__name__)

# (stream url, camera code, status callback) -> a FrameSource; CaptureProcess unless a test says otherwise.
SourceFactory = Callable[[str, str, Callable[[SourceStatus], None]], FrameSource]
_runs = itertools.count(1)


def capture_factory(**options: Any) -> SourceFactory:
    """Sources as child-process captures with a watchdog and back-off (options go to CaptureProcess)."""

    def make(url: str, code: str, on_status: Callable[[SourceStatus], None]) -> FrameSource:
        return CaptureProcess(url, code, on_status=on_status, **options)

    return make


def is_looping(url: str) -> bool:
    """Whether a source is a demo scene that restarts when it ends (its end is not an outage)."""
    return url.startswith("synthetic:") and "loop=1" in url.partition("?")[2].split("&")


@dataclass
class _CameraRun:
    camera_id: int
    code: str
    url: str
    config: CameraConfig
    fingerprint: str
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def _fingerprint(row: Any) -> str:
    data = [row.code, row.name, row.stream_url, row.analysis_fps, row.analysis_width, row.config]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class CameraWorker:
    """Runs the enabled cameras of one shard (camera id modulo `shards`) until `stop` is set."""

    def __init__(self, db: Database, bus: EventBus | None, settings: Settings, *, shard: int = 0, shards: int = 1,
                 only_synthetic: bool = False, source_factory: SourceFactory | None = None,
                 reload_seconds: float | None = None, stop: threading.Event | None = None,
                 evidence_dir: Path | None = None) -> None:
        owns(0, shard, shards)  # validates the split early: a bad --shard is a start-up error
        self.db, self.bus, self.settings = db, bus, settings
        self.shard, self.shards, self.only_synthetic = shard, shards, only_synthetic
        self.source_factory = source_factory or capture_factory()
        self.reload_seconds = reload_seconds if reload_seconds is not None else settings.camera_reload_seconds
        self.stopping = stop or threading.Event()
        self.evidence_dir = Path(evidence_dir or settings.media_dir / "evidence")
        self.runs: dict[int, _CameraRun] = {}
        self.events_written = 0
        self._supervisor: threading.Thread | None = None

    # -- registry -------------------------------------------------------------------------------------

    def _wanted(self) -> dict[int, Any]:
        with self.db.session() as session:
            rows = service.enabled_cameras(db_session=session)
        return {r.id: r for r in rows if owns(r.id, self.shard, self.shards)
                and (not self.only_synthetic or r.stream_url.startswith("synthetic:"))}

    def sync(self) -> None:
        """Starts cameras that appeared, stops removed or disabled ones, restarts changed ones and dead threads."""
        try:
            wanted = self._wanted()
        except Exception:  # the database may be down; keep running what runs
            log.exception("cannot load cameras; keeping the current set")
            return
        for camera_id, run in list(self.runs.items()):
            row = wanted.get(camera_id)
            alive = run.thread is not None and run.thread.is_alive()
            if row is None or _fingerprint(row) != run.fingerprint or not alive:
                self._stop_run(run)
                del self.runs[camera_id]
        for camera_id, row in wanted.items():
            if camera_id not in self.runs and not self.stopping.is_set():
                self._start_run(row)

    def _start_run(self, row: Any) -> None:
        try:
            config = rules.worker_config(code=row.code, name=row.name, analysis_fps=row.analysis_fps,
                                         analysis_width=row.analysis_width, config=row.config)
        except Exception:
            log.exception("camera %s has a config the worker cannot run; skipped", row.code)
            return
        run = _CameraRun(row.id, row.code, row.stream_url, config, _fingerprint(row))
        run.thread = threading.Thread(target=self._run_camera, args=(run,), name=f"camera-{row.code}", daemon=True)
        self.runs[row.id] = run
        run.thread.start()
        log.info("camera %s started (shard %d/%d)", row.code, self.shard, self.shards)

    @staticmethod
    def _stop_run(run: _CameraRun, timeout: float = 10.0) -> None:
        run.stop.set()
        if run.thread is not None and run.thread is not threading.current_thread():
            run.thread.join(timeout)

    # -- one camera -----------------------------------------------------------------------------------

    def _run_camera(self, run: _CameraRun) -> None:
        evidence_dir = self.evidence_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(_runs)}"
        source: FrameSource | None = None
        try:
            with self._transaction() as session:  # a new pipeline cannot continue the events of the last one
                flows.close_stale_events(db_session=session, camera_id=run.camera_id, at=dt.datetime.now(dt.UTC))
            source = self.source_factory(run.url, run.code, lambda s: self._status(run, s))
            base = float(getattr(source, "started_wall", time.time()))  # stream second 0 on the wall clock
            run_camera(run.config, source, lambda e: self._event(run, e, base), stop=run.stop,
                       evidence_dir=evidence_dir)
        except Exception:  # run_camera does not raise; a source that fails to build must not either
            log.exception("camera %s stopped with an error; it restarts on the next reload", run.code)
        finally:
            if source is not None:
                try:
                    source.close()
                except Exception:
                    log.exception("closing the source of %s failed", run.code)

    def _status(self, run: _CameraRun, status: SourceStatus) -> None:
        if status.state == "offline" and is_looping(run.url) and "ended" in status.reason:
            return  # a looping demo scene reached its end: it restarts, nothing went offline
        state = CameraStatus.ONLINE if status.state == "online" else CameraStatus.OFFLINE
        with self._transaction() as session:
            flows.set_camera_status(db_session=session, camera_id=run.camera_id, status=state,
                                    at=dt.datetime.fromtimestamp(status.at, dt.UTC), reason=status.reason)

    def _event(self, run: _CameraRun, event: CameraEvent, base: float) -> None:
        observed = to_observed(event, base, self.settings.media_dir)
        with self._transaction() as session:
            flows.record_event(db_session=session, camera_id=run.camera_id, observed=observed)
        self.events_written += 1

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.db.transaction() as session:
            session.info["bus"] = self.bus  # live events go out after commit
            yield session

    # -- life cycle -----------------------------------------------------------------------------------

    def supervise(self, seconds: float | None = None) -> None:
        """Keeps the cameras in line with the registry for `seconds` (forever when None), or until `stop` is
        set: then it stops every camera and waits for their closing events before it returns."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.stopping.is_set():
            self.sync()
            wait = self.reload_seconds if deadline is None else min(self.reload_seconds, deadline - time.monotonic())
            if self.stopping.wait(max(0.0, wait)) or (deadline is not None and time.monotonic() >= deadline):
                break
        if self.stopping.is_set():
            self._stop_all()

    def _stop_all(self) -> None:
        for run in self.runs.values():
            run.stop.set()
        for run in self.runs.values():
            self._stop_run(run)
        log.info("camera worker stopped (%d events written)", self.events_written)

    def run(self) -> None:
        """Supervises the cameras until `stop` is set, then stops them all."""
        try:
            self.supervise()
        finally:
            if not self.stopping.is_set():  # an unexpected error: leave no camera behind
                self.stopping.set()
                self._stop_all()

    def start(self) -> CameraWorker:
        """Runs the supervisor in a background thread."""
        self._supervisor = threading.Thread(target=self.run, name="camera-supervisor", daemon=True)
        self._supervisor.start()
        return self

    @property
    def alive(self) -> bool:
        """Whether the background supervisor is running."""
        return self._supervisor is not None and self._supervisor.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """Stops every camera and waits for them."""
        self.stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)


def to_observed(event: CameraEvent, base: float, media_dir: Path) -> flows.ObservedEvent:
    """A worker event in the registry's terms: wall-clock times, evidence paths relative to the media dir."""

    def wall(seconds: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(base + seconds, dt.UTC)

    root = media_dir.resolve()
    evidence = []
    for kind, item in event.evidence.items():
        path = Path(item["path"]).resolve()
        stored = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        size = path.stat().st_size if path.is_file() else None
        evidence.append({"kind": kind, "path": stored, "sha256": item["sha256"], "bytes": size})
    return flows.ObservedEvent(
        rule=event.rule, rule_type=event.rule_type, transition=event.state, started_at=wall(event.started_at),
        detected_at=wall(event.detected_at), ended_at=wall(event.ended_at) if event.ended_at is not None else None,
        track_id=event.track_id, zone=event.zone, direction=event.direction, speed_kmh=event.speed_kmh,
        signal=event.signal, box=list(event.box), raises_incident=event.raise_incident, evidence=evidence,
    )


def run_forever(settings: Settings, *, shard: int = 0, shards: int = 1) -> None:
    """`smartcity camera run`: analyses this shard's cameras until SIGTERM/SIGINT."""
    from api.core.bus import make_bus
    from api.db import check_database

    db = Database.from_settings(settings)
    check_database(db.engine)
    worker = CameraWorker(db, make_bus(settings.redis_url), settings, shard=shard, shards=shards)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping the cameras", signum)
        worker.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
    db.dispose()


DEMO_JOB_SECONDS = 15.0


def demo_streams_job(ctx: Any) -> None:
    """Job (every DEMO_JOB_SECONDS): keeps the demo's synthetic cameras running inside the process for one
    slice. When the process stops (ctx.stopping), the running slice stops the cameras and waits for their
    closing events, and the scheduler's shutdown waits for the slice: nothing is cut off."""
    worker = ctx.extras.get("camera_worker")
    if worker is None:
        worker = CameraWorker(ctx.db, ctx.bus, ctx.settings, only_synthetic=True, stop=ctx.stopping,
                              reload_seconds=min(ctx.settings.camera_reload_seconds, DEMO_JOB_SECONDS))
        ctx.extras["camera_worker"] = worker
    # Slightly shorter than the interval, so the next run is never skipped as "still running".
    worker.supervise(DEMO_JOB_SECONDS - 1.0)
