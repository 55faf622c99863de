"""Worker processes for tests: the fake FCM server as a process, and `smartcity worker` as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.db import Database
from tests.workers.processes import ROOT, SMARTCITY, Fake, wait_until


@pytest.fixture
def start_fake(tmp_path: Path) -> Iterator[Callable[[float], Fake]]:
    started: list[subprocess.Popen[str]] = []

    def start(delay_ms: float) -> Fake:
        account = tmp_path / f"service-account-{len(started)}.json"
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.fcm_server", "--port", "0", "--no-record",
             "--delay-ms", str(delay_ms), "--service-account", str(account)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
        )
        started.append(process)
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("READY "), line
        fake = Fake(process, line.split()[1], account)
        wait_until(fake.answers, 10, "the fake FCM server to listen")  # READY comes just before it listens
        return fake

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def start_worker(tmp_path: Path, database: Database) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts `smartcity worker [args]` on the test database, sending to a fake; logs in tmp_path/worker-N.log."""
    started: list[subprocess.Popen[bytes]] = []

    def start(fake: Fake, *args: str, **settings: object) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
        env.update({
            "PYTHONPATH": str(ROOT),
            "SMARTCITY_ENVIRONMENT": "test",
            "SMARTCITY_DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
            "SMARTCITY_FCM_CREDENTIALS_FILE": str(fake.service_account),
            "SMARTCITY_FCM_URL": fake.url,
            "SMARTCITY_LOG_JSON": "false",
            "SMARTCITY_MEDIA_DIR": str(tmp_path / "media"),
        })
        env.update({f"SMARTCITY_{k.upper()}": str(v) for k, v in settings.items()})
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen([str(SMARTCITY), "worker", *args], cwd=tmp_path, env=env, stdout=log, stderr=log)
        process.log_path = tmp_path / f"worker-{len(started)}.log"  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
