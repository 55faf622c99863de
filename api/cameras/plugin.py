"""The cameras domain's place in the platform."""

from __future__ import annotations

from typing import Any

from api.cameras.demo import seed_cameras
from api.cameras.graphql.mutations import CameraMutation
from api.cameras.graphql.queries import CameraQuery
from api.cameras.graphql.subscriptions import CameraSubscription
from api.cameras.graphql.types import Camera, CameraEvent, TrafficViolation
from api.cameras.routes import routes
from api.core.plugin import DomainPlugin


def register_jobs(registry: Any, settings: Any) -> None:
    """In the demo (workers inside the API process) keeps the synthetic cameras running; real cameras run
    in `smartcity camera run` processes."""
    if not (settings.worker_in_process and settings.camera_demo_streams):
        return
    # Imported here: the API must stay importable without OpenCV; only a process running jobs needs it.
    from workers.camera.runner import DEMO_JOB_SECONDS, demo_streams_job
    from workers.jobs import Job

    # Each run is a slice of DEMO_JOB_SECONDS; a short lease means a killed demo restarts its cameras soon.
    registry.add(Job("cameras.demo_streams", demo_streams_job, seconds=DEMO_JOB_SECONDS,
                     lease_seconds=DEMO_JOB_SECONDS + 5, description="keeps the demo's synthetic camera streams running"))


plugin = DomainPlugin(
    name="cameras", query=CameraQuery, mutation=CameraMutation, subscription=CameraSubscription,
    types=(Camera, CameraEvent, TrafficViolation), seed=seed_cameras, jobs=register_jobs, routes=routes,
)
