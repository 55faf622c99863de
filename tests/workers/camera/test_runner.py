"""The camera service against the registry: events persisted with verifiable evidence, bad streams
marked offline and retried without taking the service down, demo streams stopping with their process."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from sqlalchemy import select

from api.cameras.models import Camera, CameraEvent, TrafficViolation
from api.db import Database
from tests.cameras.factories import make_camera
from workers.camera.capture import CaptureProcess
from workers.camera.evidence import sha256_file
from workers.camera.runner import CameraWorker, capture_factory, demo_streams_job
from workers.camera.source import SyntheticSource
from workers.jobs import JobContext


def _rows(database: Database, model: type) -> list:
    with database.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_red_light_scene_is_persisted_with_evidence_whose_hashes_verify(database: Database, settings) -> None:
    # given
    camera = make_camera(database, "PQ-T01", stream_url="synthetic:red_light")
    make_camera(database, "PQ-T02", enabled=False)
    started = time.time()

    def scene(url: str, code: str, on_status) -> SyntheticSource:  # the file-like source: ends with the scene
        return SyntheticSource("red_light", width=320, height=180)

    worker = CameraWorker(database, None, settings, source_factory=scene)
    # when
    worker.sync()
    run = worker.runs[camera.id]
    run.thread.join(60)
    # then
    assert list(worker.runs) == [camera.id]  # the disabled camera is not analysed
    events = _rows(database, CameraEvent)
    red = [e for e in events if e.kind == "red_light"]
    assert len(red) == 1 and red[0].state == "CLOSED" and red[0].raises_incident
    assert {e.kind for e in events} == {"red_light", "tripwire"}
    assert all(e.state == "CLOSED" for e in events)
    assert dt.timedelta(seconds=10) < red[0].started_at - dt.datetime.fromtimestamp(started, dt.UTC) \
        < dt.timedelta(seconds=15)  # stream second 12 of the scene, on the wall clock
    (violation,) = _rows(database, TrafficViolation)
    assert violation.kind == "RED_LIGHT" and violation.event_id == red[0].id
    kinds = {item["kind"] for item in red[0].evidence}
    assert {"snapshot", "best", "clip"} <= kinds
    for item in red[0].evidence:
        path = Path(settings.media_dir) / item["path"]
        assert not Path(item["path"]).is_absolute()
        assert sha256_file(path) == item["sha256"] and path.stat().st_size == item["bytes"]
    assert violation.evidence == red[0].evidence


def test_bad_streams_go_offline_are_retried_and_never_stop_the_service(database: Database, settings) -> None:
    # given
    unreachable = make_camera(database, "PQ-T03", stream_url="rtsp://127.0.0.1:9/none")
    dying = make_camera(database, "PQ-T04", stream_url="synthetic:traffic_quiet?width=160&height=90&fail_after=3")
    sources: dict[str, CaptureProcess] = {}
    make = capture_factory(backoff_initial_s=0.3, backoff_max_s=1.0, poll_s=0.1, open_timeout_ms=1000,
                           read_timeout_ms=1000)

    def factory(url: str, code: str, on_status) -> CaptureProcess:
        sources[code] = make(url, code, on_status)
        return sources[code]

    worker = CameraWorker(database, None, settings, source_factory=factory, reload_seconds=0.5).start()
    try:
        # when
        def retried() -> bool:
            return all(code in sources and len(sources[code].attempts) >= 3 for code in ("PQ-T03", "PQ-T04"))

        assert _wait(retried, 30)
        # then
        statuses = {c.code: c for c in _rows(database, Camera)}
        assert statuses["PQ-T03"].status == "OFFLINE" and "cannot open" in statuses["PQ-T03"].status_reason
        assert [s.state for s in sources["PQ-T03"].statuses] == ["offline"]
        assert [s.state for s in sources["PQ-T04"].statuses][:2] == ["online", "offline"]
        assert statuses["PQ-T04"].status_changed_at is not None
        assert worker.alive and all(run.thread.is_alive() for run in worker.runs.values())
        assert set(worker.runs) == {unreachable.id, dying.id}
    finally:
        worker.stop()
    assert not worker.alive and not any(run.thread.is_alive() for run in worker.runs.values())


def test_demo_streams_run_inside_the_process_and_stop_with_it(database: Database, settings) -> None:
    # given
    live = make_camera(database, "PQ-P02", kind="PUBLIC_AREA",
                       stream_url="synthetic:intrusion?width=160&height=90&realtime=1&loop=1")
    make_camera(database, "PQ-P03", kind="PUBLIC_AREA")  # a real (unreachable) stream: not in the demo
    context = JobContext(db=database, bus=None, settings=settings, stopping=threading.Event())  # type: ignore[arg-type]
    # when
    job = threading.Thread(target=demo_streams_job, args=(context,))  # as the scheduler runs it
    job.start()
    assert _wait(lambda: _rows(database, Camera)[0].status == "ONLINE", 20)
    worker = context.extras["camera_worker"]
    context.stopping.set()  # what workers.runner.stop does when the process stops
    job.join(20)
    # then
    assert not job.is_alive()  # the scheduler's shutdown(wait=True) waits for exactly this
    assert list(worker.runs) == [live.id]
    assert not worker.runs[live.id].thread.is_alive()
